using System.Diagnostics;
using System.Text.Json;

namespace Experiments.Tests.Text;

/// <summary>
/// Runs one of the reference scripts in tests/Experiments.Tests/Text/Reference (BERT's tokenizer from Google's
/// algorithm, BERT in PyTorch from Hugging Face's definition) with Debian's /usr/bin/python3, JSON in on standard
/// input and JSON out. Where Python or a module the script needs is missing, a developer's run is inconclusive and
/// CI (CI=true) fails; `.ci/run` installs python3-torch.
/// </summary>
internal static class ReferencePython
{
    private const string Python = "/usr/bin/python3";
    private static readonly Dictionary<string, bool> Available = [];

    public static string Script(string name) => Path.Combine(CliProcess.RepositoryRoot, "tests", "Experiments.Tests", "Text", "Reference", name);

    public static JsonElement Run(string script, object input, params string[] modules)
    {
        foreach (var module in modules)
            if (!HasModule(module))
            {
                var message = $"{Python} cannot import {module} (apt-get install python3-{module}): the reference values cannot be computed.";
                if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(message);
                Assert.Inconclusive(message);
            }
        var info = new ProcessStartInfo(Python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Script(script));
        using var process = Process.Start(info)!;
        process.StandardInput.Write(JsonSerializer.Serialize(input));
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Assert.AreEqual(0, process.ExitCode, $"{script}: {error.Result}");
        return JsonDocument.Parse(output.Result).RootElement.Clone();
    }

    private static bool HasModule(string module)
    {
        lock (Available)
        {
            if (Available.TryGetValue(module, out var known)) return known;
            if (!File.Exists(Python)) return Available[module] = false;
            using var process = Process.Start(new ProcessStartInfo(Python, ["-c", $"import {module}"]) { RedirectStandardError = true, UseShellExecute = false })!;
            process.WaitForExit();
            return Available[module] = process.ExitCode == 0;
        }
    }
}
