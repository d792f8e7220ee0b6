using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Experiments.Tests;

/// <summary>
/// A private PostgreSQL server for tests and benchmarks: Debian's binaries (/usr/lib/postgresql/VERSION/bin),
/// a new cluster in a temporary folder, on a free local port, as a non-root user (when this process is root, as CI
/// is, the server runs as the system user <c>postgres</c> through runuser, since PostgreSQL refuses to run as root).
/// Trust authentication on 127.0.0.1 only; fsync off (a test server's data need not survive a power cut).
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private const string User = "experiments";
    private readonly string _folder;
    private readonly string _bin;
    private readonly string? _runAs;

    private PostgresServer(string bin, string folder, int port, string? runAs)
    {
        _bin = bin;
        _folder = folder;
        _runAs = runAs;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The server's own database, as a connection string.</summary>
    public string Uri => $"postgres://{User}@127.0.0.1:{Port}/postgres";

    /// <summary>The folder of Debian's PostgreSQL binaries (the newest installed), or null when there is none.</summary>
    public static string? FindBinaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb")))
                .OrderByDescending(b => int.TryParse(Path.GetFileName(Path.GetDirectoryName(b)), out var v) ? v : 0).FirstOrDefault()
            : null;

    public static PostgresServer Start(bool fsync = false)
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException("PostgreSQL's binaries are not installed (Debian: apt-get install postgresql).");
        var runAs = Environment.UserName == "root" ? "postgres" : null;
        var folder = Path.Combine(Path.GetTempPath(), "experiments-postgres-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        if (runAs is not null) Run("chown", [runAs, folder]);
        var server = new PostgresServer(bin, folder, FreePort(), runAs);
        try
        {
            server.Tool("initdb", ["-D", server.Data, "-U", User, "--auth=trust", "-E", "UTF8", "--no-sync"]);
            server.Tool("pg_ctl", ["-D", server.Data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60", "start",
                "-o", $"-p {server.Port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync={(fsync ? "on" : "off")} -c max_connections=200"]);
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    private string Data => Path.Combine(_folder, "data");

    /// <summary>A fresh, empty schema on the server: a store of its own for one test.</summary>
    public string NewSchema()
    {
        var schema = "t" + Guid.NewGuid().ToString("N")[..16];
        Execute($"CREATE SCHEMA {schema}");
        return $"{Uri}?search_path={schema}";
    }

    /// <summary>Runs SQL on the server's own database (the schema in a connection string from <see cref="NewSchema"/> when given).</summary>
    public static void Execute(string uri, string sql)
    {
        using var connection = new NpgsqlConnection(Experiments.Store.PostgresConnection.Parse(uri).ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    public void Execute(string sql) => Execute(Uri, sql);

    public void Dispose()
    {
        try
        {
            if (File.Exists(Path.Combine(Data, "postmaster.pid"))) Tool("pg_ctl", ["-D", Data, "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private void Tool(string name, IReadOnlyList<string> arguments)
    {
        var program = Path.Combine(_bin, name);
        if (_runAs is null) Run(program, arguments);
        else Run("runuser", ["-u", _runAs, "--", program, .. arguments]);
    }

    private static void Run(string program, IReadOnlyList<string> arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) { process.Kill(true); throw new TimeoutException($"{program} did not finish in 2 minutes."); }
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {output.Result} {error.Result}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// The one PostgreSQL server of a test run: started the first time a test asks for it, stopped when the test run
/// ends. Where PostgreSQL is not installed a developer's run reports the test as inconclusive; CI (CI=true) fails,
/// because .ci/run installs it.
/// </summary>
[TestClass]
public static class SharedPostgres
{
    private static readonly Lazy<PostgresServer?> Server = new(() => PostgresServer.FindBinaries() is null ? null : PostgresServer.Start());

    public static PostgresServer Require()
    {
        if (Server.Value is { } server) return server;
        const string message = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; Debian: apt-get install postgresql), so the PostgreSQL store cannot be tested.";
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(message);
        Assert.Inconclusive(message);
        return null!;
    }

    [AssemblyCleanup]
    public static void Stop()
    {
        if (Server.IsValueCreated) Server.Value?.Dispose();
    }
}

/// <summary>The two kinds of run store, for tests that run against both.</summary>
internal static class TestStores
{
    public const string Sqlite = "sqlite", Postgres = "postgres";

    /// <summary>A new, empty store of the kind: a file in <paramref name="folder"/>, or a schema of its own on the shared server.</summary>
    public static string New(string kind, TempFolder folder, string name = "runs.db") =>
        kind == Postgres ? SharedPostgres.Require().NewSchema() : Path.Combine(folder.Path, name);

    /// <summary>Runs SQL in the store behind the store's back (to fake what another process did).</summary>
    public static void Execute(string store, string sql)
    {
        if (Experiments.Store.PostgresConnection.IsConnectionString(store))
        {
            PostgresServer.Execute(store, sql);
            return;
        }
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={store};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
