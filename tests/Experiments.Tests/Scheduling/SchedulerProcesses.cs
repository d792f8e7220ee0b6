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

/// <summary>
/// A private PostgreSQL server for the tests: Debian's initdb and pg_ctl, a temporary data directory, a free local
/// port, trust authentication on 127.0.0.1 only. PostgreSQL refuses to run as root, so under root (CI) the server runs
/// as Debian's 'postgres' user through runuser. Missing binaries make a developer's run inconclusive and fail CI.
/// </summary>
internal sealed class PrivatePostgres : IDisposable
{
    private readonly string _folder;
    private readonly string _bin;
    private readonly bool _asPostgresUser;

    private PrivatePostgres(string folder, string bin, bool asPostgresUser, int port)
    {
        _folder = folder;
        _bin = bin;
        _asPostgresUser = asPostgresUser;
        Port = port;
    }

    public int Port { get; }
    public string Url(string database = "postgres") => $"postgres://experiments@127.0.0.1:{Port}/{database}";

    public static PrivatePostgres Start()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            : null;
        if (bin is null)
        {
            const string message = "PostgreSQL's server binaries are not installed (/usr/lib/postgresql/*/bin/initdb; Debian: apt-get install postgresql).";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(message);
            Assert.Inconclusive(message);
        }
        var root = Environment.UserName == "root";
        var folder = Path.Combine(Path.GetTempPath(), "experiments-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var port = FreePort();
        var server = new PrivatePostgres(folder, bin, root, port);
        if (root) server.Run("chown", "postgres:postgres", folder);
        server.Run(server.AsServerUser(Path.Combine(bin, "initdb"), "-D", Path.Combine(folder, "data"), "-U", "experiments", "-A", "trust", "--no-sync", "-E", "UTF8"));
        server.Run(server.AsServerUser(Path.Combine(bin, "pg_ctl"), "-D", Path.Combine(folder, "data"), "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60",
            "-o", $"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start"));
        return server;
    }

    private string[] AsServerUser(params string[] command) => _asPostgresUser ? ["runuser", "-u", "postgres", "--", .. command] : command;

    private void Run(params string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = _folder };
        foreach (var argument in command.Skip(1)) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            Assert.Fail($"{string.Join(" ", command)} failed ({process.ExitCode}): {output.Result}{error.Result}{(File.Exists(Path.Combine(_folder, "server.log")) ? File.ReadAllText(Path.Combine(_folder, "server.log")) : "")}");
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        try
        {
            Run(AsServerUser(Path.Combine(_bin, "pg_ctl"), "-D", Path.Combine(_folder, "data"), "-m", "immediate", "-w", "stop"));
        }
        finally
        {
            try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
