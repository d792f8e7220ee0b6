using System.Text.RegularExpressions;

namespace Experiments.Notebooks;

/// <summary>
/// Every notebook in notebooks/ runs green through the kernel, shows at least one HTML table and one Plotly chart, and
/// references the platform as a user does: the local package folder and this build's version. With
/// EXPERIMENTS_WRITE_NOTEBOOKS=1 the outputs are written back into the notebooks (CI never sets it).
/// </summary>
[TestClass]
public sealed class NotebookTests
{
    private static string Folder => Path.Combine(LocalPackages.RepositoryRoot, "notebooks");

    public static IEnumerable<object[]> Notebooks =>
        Directory.GetFiles(Path.Combine(LocalPackages.RepositoryRoot, "notebooks"), "*.ipynb").Order(StringComparer.Ordinal).Select(p => new object[] { Path.GetFileName(p) });

    [TestMethod]
    [DynamicData(nameof(Notebooks))]
    public async Task Notebook_runs_green_and_shows_a_table_and_a_chart(string name)
    {
        var path = Path.Combine(Folder, name);
        var text = await File.ReadAllTextAsync(path);
        StringAssert.Contains(text, "\".net-csharp\"", $"{name}: no .NET Interactive kernelspec in its metadata");
        StringAssert.Contains(text, "RestoreAdditionalProjectSources", $"{name}: the local package folder (artifacts/packages) is not made a package source");
        var references = Regex.Matches(text, @"#r \\""nuget: (Experiments\.[A-Za-z]+), ([^\\""]+)\\""").Select(m => (Id: m.Groups[1].Value, Version: m.Groups[2].Value)).ToList();
        Assert.IsTrue(references.Any(r => r.Id == "Experiments.Runs"), $"{name}: no #r \"nuget: Experiments.Runs, {LocalPackages.Version}\"");
        foreach (var r in references)
            Assert.AreEqual(LocalPackages.Version, r.Version, $"{name}: {r.Id} is referenced at {r.Version}, the build makes {LocalPackages.Version}");

        var run = await NotebookRunner.RunAsync(path, TimeSpan.FromMinutes(10));
        foreach (var cell in run.Cells) Console.WriteLine($"{name} cell {cell.Number}: {cell.Elapsed.TotalSeconds:F1} s");
        if (Environment.GetEnvironmentVariable("EXPERIMENTS_WRITE_NOTEBOOKS") == "1" && run.Failed is null) NotebookRunner.WriteOutputs(run);
        if (run.Failed is { } failed) Assert.Fail($"{name}: cell {failed.Number} failed: {failed.Error}");
        var html = run.Displayed.Where(d => d.MimeType == "text/html").Select(d => d.Value).ToList();
        Assert.IsTrue(html.Any(h => h.Contains("<table", StringComparison.Ordinal)), $"{name}: no HTML table among its outputs");
        Assert.IsTrue(html.Any(h => h.Contains("Plotly.newPlot", StringComparison.Ordinal)), $"{name}: no Plotly chart among its outputs");
    }
}
