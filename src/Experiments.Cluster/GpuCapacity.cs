using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Experiments.Cluster;

/// <summary>A worker's GPUs: how many, and their memory in all (null: unknown).</summary>
public sealed record GpuCapacity(int Count, long? MemoryBytes)
{
    public static GpuCapacity None { get; } = new(0, null);

    /// <summary>
    /// The GPUs NVIDIA's driver reports (<c>nvidia-smi</c>, where it is installed): what CUDA, and so TorchSharp, can
    /// use. No driver, no GPU.
    /// </summary>
    public static GpuCapacity Detect()
    {
        try
        {
            var info = new ProcessStartInfo("nvidia-smi", "--query-gpu=memory.total --format=csv,noheader,nounits") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(10_000) || process.ExitCode != 0) return None;
            return Parse(output);
        }
        catch (Win32Exception)
        {
            return None; // not installed
        }
    }

    /// <summary>nvidia-smi's answer: one line per GPU with its memory in MiB.</summary>
    public static GpuCapacity Parse(string output)
    {
        var mebibytes = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => long.TryParse(line, NumberStyles.Integer, CultureInfo.InvariantCulture, out var m) ? m : (long?)null).ToList();
        return mebibytes.Count == 0 ? None : new GpuCapacity(mebibytes.Count, mebibytes.All(m => m is not null) ? mebibytes.Sum(m => m!.Value) * 1024 * 1024 : null);
    }

    public override string ToString() => Count == 0 ? "—" : MemoryBytes is { } m ? $"{Count} ({m / (1024.0 * 1024 * 1024):F0} GiB)" : $"{Count}";
}
