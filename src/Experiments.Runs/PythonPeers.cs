using System.Diagnostics;
using System.Text.Json;
using Experiments.Core;

namespace Experiments.Runs;

/// <summary>Runs a peer script with Debian's Python (JSON in on standard input, JSON out), for side-by-side benchmarks.</summary>
public static class PythonPeers
{
    public static JsonElement Run(string script, string input)
    {
        if (!File.Exists(script)) throw new ExperimentsException($"{script}: the peer script is missing.");
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        using var process = Process.Start(info) ?? throw new ExperimentsException("Could not start /usr/bin/python3.");
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
            batch = o.Batch, encodeBatches = o.EncodeBatches, trainSteps = o.TrainSteps, threads = o.Threads, seed = o.Seed,
        }));
        return new Experiments.Text.EncoderThroughputResult($"PyTorch {result.GetProperty("torch").GetString()}", result.GetProperty("encodedPerSecond").GetDouble(), result.GetProperty("trainStepsPerSecond").GetDouble());
    }
}
