using System.Diagnostics;
using System.Text.Json;

namespace Experiments.Tests.Evaluation;

/// <summary>
/// Runs a Python snippet with Debian's scikit-learn or numpy (/usr/bin/python3) on JSON input and returns its JSON
/// output: the independent reference our metrics and solvers are checked against. `.ci/run` installs python3-sklearn and
/// python3-numpy.
/// </summary>
internal static class ScikitLearn
{
    private const string Python = "/usr/bin/python3";

    /// <param name="module">The Python module the snippet needs: sklearn or numpy.</param>
    public static JsonElement Run(string script, object input, string module = "sklearn")
    {
        if (!File.Exists(Python) || !Has(module))
        {
            var message = $"{module} is not installed (apt-get install python3-{module}): the reference values cannot be computed.";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(message);
            Assert.Inconclusive(message);
        }
        var info = new ProcessStartInfo(Python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("import json, sys\nimport numpy as np\ndata = json.load(sys.stdin)\n" + script);
        using var process = Process.Start(info)!;
        process.StandardInput.Write(JsonSerializer.Serialize(input));
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Assert.AreEqual(0, process.ExitCode, error.Result);
        return JsonDocument.Parse(output.Result).RootElement;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> Installed = new();

    private static bool Has(string module) => Installed.GetOrAdd(module, name =>
    {
        using var process = Process.Start(new ProcessStartInfo(Python, ["-c", $"import {name}"]) { RedirectStandardError = true, UseShellExecute = false })!;
        process.WaitForExit();
        return process.ExitCode == 0;
    });
}
