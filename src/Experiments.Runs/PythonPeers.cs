using System.Diagnostics;
using System.Text.Json;
using Experiments.Core;

namespace Experiments.Runs;

/// <summary>
/// Runs a peer script with Debian's Python, or the interpreter named by EXPERIMENTS_PYTHON (e.g. a CUDA PyTorch's
/// virtual environment), JSON in on standard input and JSON out, for side-by-side benchmarks.
/// </summary>
public static class PythonPeers
{
    public static JsonElement Run(string script, string input)
    {
        if (!File.Exists(script)) throw new ExperimentsException($"{script}: the peer script is missing.");
        var python = Environment.GetEnvironmentVariable("EXPERIMENTS_PYTHON") is { Length: > 0 } chosen ? chosen : "/usr/bin/python3";
        var info = new ProcessStartInfo(python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        using var process = Process.Start(info) ?? throw new ExperimentsException($"Could not start {python}.");
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new ExperimentsException($"The peer script {Path.GetFileName(script)} failed: {error.Result.Trim().Split('\n').LastOrDefault()}");
        return JsonDocument.Parse(output.Result).RootElement.Clone();
    }

    public static Experiments.Text.EncoderThroughputResult EncoderThroughput(string script, Experiments.Text.EncoderThroughputOptions o)
    {
        var result = Run(script, JsonSerializer.Serialize(new
        {
            vocabulary = o.Vocabulary, hidden = o.Hidden, layers = o.Layers, heads = o.Heads, intermediate = o.Intermediate, length = o.Length,
            batch = o.Batch, encodeBatches = o.EncodeBatches, trainSteps = o.TrainSteps, threads = o.Threads, seed = o.Seed, device = o.Device, precision = o.Precision,
        }));
        return new Experiments.Text.EncoderThroughputResult($"PyTorch {result.GetProperty("torch").GetString()}", result.GetProperty("encodedPerSecond").GetDouble(), result.GetProperty("trainStepsPerSecond").GetDouble());
    }
}
