using System.Diagnostics;
using System.Globalization;

namespace Experiments.Tests.Scheduling;

/// <summary>`experiments scheduler` in its own process, its output lines collected as they come.</summary>
internal sealed class SchedulerProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];

    public SchedulerProcess(string workingDirectory, params string[] args)
    {
        _process = Process.Start(CliProcess.StartInfo(workingDirectory, ["scheduler", .. args]))!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_lines) _lines.Add(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_lines) _lines.Add("stderr: " + e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitFor(" started on ", TimeSpan.FromSeconds(60));
    }

    public string Output
    {
        get { lock (_lines) return string.Join("\n", _lines); }
    }

    public int Count(string text)
    {
        lock (_lines) return _lines.Count(l => l.Contains(text, StringComparison.Ordinal));
    }

    /// <summary>Waits until <paramref name="count"/> lines contain <paramref name="text"/>; fails with the output so far when they do not come.</summary>
    public void WaitFor(string text, TimeSpan timeout, int count = 1)
    {
        var watch = Stopwatch.StartNew();
        while (Count(text) < count)
        {
            if (_process.HasExited) Assert.Fail($"the scheduler exited ({_process.ExitCode}) before printing '{text}':\n{Output}");
            if (watch.Elapsed > timeout) Assert.Fail($"the scheduler did not print '{text}' {count} time(s) in {timeout.TotalSeconds} s:\n{Output}");
            Thread.Sleep(100);
        }
    }

    /// <summary>SIGKILL: the process dies with no chance to tidy up, as in a crash or a power cut.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as systemd stops a service: the node shuts down and exits 0.</summary>
    public void Stop()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])) kill.WaitForExit();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(60))) Assert.Fail($"the scheduler did not stop on SIGTERM:\n{Output}");
        _process.WaitForExit();
    }

    public int ExitCode => _process.ExitCode;

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }
}
