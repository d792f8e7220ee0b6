using System.Collections.Concurrent;
using System.Diagnostics;

namespace Experiments.Tests.Cluster;

/// <summary>A real worker process (`experiments worker`) on a test's cluster, on loopback, with its output kept for failure messages.</summary>
internal sealed class ClusterWorker : IDisposable
{
    public ClusterWorker(string directory, string cluster, params string[] extra)
    {
        var info = CliProcess.StartInfo(directory, ["worker", "--cluster", cluster, "--slots", "2", "--address", "127.0.0.1", .. extra]);
        Process = Process.Start(info)!;
        Process.OutputDataReceived += (_, e) => { if (e.Data is not null) Log.Enqueue(e.Data); };
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Log.Enqueue(e.Data); };
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }
    public ConcurrentQueue<string> Log { get; } = new();

    public void Dispose()
    {
        try { if (!Process.HasExited) Process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        Process.WaitForExit(10_000);
        Process.Dispose();
    }
}
