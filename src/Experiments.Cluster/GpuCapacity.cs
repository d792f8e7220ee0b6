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
    /// use. No driver, no GPU; a driver that does not answer within <paramref name="timeout"/> (10 s; a wedged driver
    /// can hang nvidia-smi) counts as none too, its process killed, so a worker still joins.
    /// </summary>
    public static GpuCapacity Detect(string tool = "nvidia-smi", TimeSpan? timeout = null)
    {
        try
        {
            var info = new ProcessStartInfo(tool, "--query-gpu=memory.total --format=csv,noheader,nounits") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(info)!;
            // Both pipes drained while waiting: a tool that writes much to either cannot block on a full pipe.
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return None;
            }
            return process.ExitCode == 0 ? Parse(output.GetAwaiter().GetResult()) : None;
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
