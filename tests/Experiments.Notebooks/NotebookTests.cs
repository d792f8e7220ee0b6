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
        if (run.Failed is { } failed) Assert.Fail($"{name}: cell {failed.Number} failed: {failed.Error}");
        var html = run.Displayed.Where(d => d.MimeType == "text/html").Select(d => d.Value).ToList();
        Assert.IsTrue(html.Any(h => h.Contains("<table", StringComparison.Ordinal)), $"{name}: no HTML table among its outputs");
        var charts = html.Where(h => h.Contains("Plotly.newPlot", StringComparison.Ordinal)).ToList();
        Assert.IsNotEmpty(charts, $"{name}: no Plotly chart among its outputs");
        foreach (var (chart, i) in charts.Select((c, i) => (c, i + 1)))
            if (OfflineProblem(chart) is { } problem) Assert.Fail($"{name}: chart {i} of {charts.Count} would not draw offline: {problem}");
        // Outputs are written only from a run that passed every check.
        if (Environment.GetEnvironmentVariable("EXPERIMENTS_WRITE_NOTEBOOKS") == "1") NotebookRunner.WriteOutputs(run);
    }

    /// <summary>
    /// The committed outputs draw offline too: no chart output names a URL outside plotly.js, the notebook's first chart
    /// carries plotly.js, and each later one carries it or waits for the first's (what <see cref="NotebookRunner.WriteOutputs"/> keeps).
    /// </summary>
    [TestMethod]
    [DynamicData(nameof(Notebooks))]
    public void Committed_chart_outputs_draw_offline(string name)
    {
        using var notebook = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, name)));
        var charts = notebook.RootElement.GetProperty("cells").EnumerateArray()
            .SelectMany(c => c.TryGetProperty("outputs", out var outputs) ? outputs.EnumerateArray() : Enumerable.Empty<System.Text.Json.JsonElement>())
            .Select(o => o.TryGetProperty("data", out var data) && data.TryGetProperty("text/html", out var html)
                ? html.ValueKind == System.Text.Json.JsonValueKind.Array ? string.Concat(html.EnumerateArray().Select(l => l.GetString())) : html.GetString() ?? ""
                : "")
            .Where(h => h.Contains("Plotly.newPlot", StringComparison.Ordinal)).ToList();
        Assert.IsNotEmpty(charts, $"{name}: its committed outputs hold no chart (refresh them: docs/notebooks.md)");
        // A later chart drawn from the first chart's plotly.js is checked as if it carried that one.
        var library = NotebookRunner.InlinePlotly.Match(charts[0]).Value;
        for (var i = 0; i < charts.Count; i++)
        {
            var chart = i > 0 && library.Length > 0 ? charts[i].Replace(NotebookRunner.SharedPlotly, library, StringComparison.Ordinal) : charts[i];
            if (OfflineProblem(chart) is { } problem) Assert.Fail($"{name}: committed chart {i + 1} of {charts.Count} would not draw offline: {problem}");
        }
    }

    /// <summary>
    /// Why a chart's output would need the network, or null: it must carry plotly.js itself (the script marked by
    /// Experiments.Interactive, holding plotly.js's own banner and code), and outside that script name no URL at all —
    /// no CDN, no require.js (plotly.js's own source mentions URLs, for map tiles, that a chart without maps never loads).
    /// </summary>
    public static string? OfflineProblem(string chart)
    {
        var library = NotebookRunner.InlinePlotly.Match(chart);
        if (!library.Success) return "it does not carry plotly.js inline";
        if (!Regex.IsMatch(library.Groups[1].Value, @"\* plotly\.js v2\.\d+\.\d+") || library.Groups[1].Length < 1_000_000)
            return $"its inline script is not plotly.js ({library.Groups[1].Length:N0} characters)";
        var rest = chart.Remove(library.Index, library.Length);
        if (Regex.Match(rest, @"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/[^\s""']*", RegexOptions.IgnoreCase) is { Success: true } url) return $"it references {url.Value}";
        if (rest.Contains("require", StringComparison.Ordinal)) return "it loads plotly.js through require.js";
        if (rest.IndexOf("Plotly.newPlot", StringComparison.Ordinal) < 0) return "it has no drawing script after the library";
        return null;
    }
}
