using System.Diagnostics;
using System.Text.Json;

namespace Experiments.Tests.Evaluation;

/// <summary>
/// Runs a Python snippet with Debian's scikit-learn (/usr/bin/python3) on JSON input and returns its JSON output:
/// the independent reference our metrics are checked against. `.ci/run` installs python3-sklearn.
/// </summary>
internal static class ScikitLearn
{
    private const string Python = "/usr/bin/python3";

    public static JsonElement Run(string script, object input)
    {
        if (!File.Exists(Python) || !HasSklearn())
        {
            const string message = "scikit-learn is not installed (apt-get install python3-sklearn): the reference values cannot be computed.";
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

    private static bool? _hasSklearn;

    private static bool HasSklearn()
    {
        if (_hasSklearn is { } known) return known;
        using var process = Process.Start(new ProcessStartInfo(Python, ["-c", "import sklearn"]) { RedirectStandardError = true, UseShellExecute = false })!;
        process.WaitForExit();
        return (_hasSklearn = process.ExitCode == 0).Value;
    }
}
