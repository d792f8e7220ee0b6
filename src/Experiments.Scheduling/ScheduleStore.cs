using Experiments.Core;
using Experiments.Store;
using Npgsql;
using Quartz;

namespace Experiments.Scheduling;

/// <summary>
/// Where the schedules live: Quartz's persistent job store in a SQLite file (the embedded default: one scheduler
/// process per file) or in PostgreSQL (clustered: any number of scheduler nodes share the schedules and each firing
/// runs on exactly one of them). A location is a file path, a <c>postgres://user:password@host:port/database</c> URL
/// or an Npgsql connection string (<c>Host=…;Database=…</c>).
/// </summary>
public sealed record ScheduleStore
{
    /// <summary>The environment variable that names the schedule store when no option does.</summary>
    public const string EnvironmentVariable = "EXPERIMENTS_SCHEDULES";
    public const string DefaultFile = "schedules.db";

    private ScheduleStore(string location, string connectionString, bool isPostgres)
    {
        Location = location;
        ConnectionString = connectionString;
        IsPostgres = isPostgres;
    }

    /// <summary>What the user wrote (a PostgreSQL password is masked).</summary>
    public string Location { get; }
    public string ConnectionString { get; }
    /// <summary>PostgreSQL: a clustered store shared by every scheduler node.</summary>
    public bool IsPostgres { get; }

    /// <summary>The option's value, else <see cref="EnvironmentVariable"/>, else <see cref="DefaultFile"/> in the working directory.</summary>
    public static ScheduleStore Resolve(string? option) =>
        Parse(option ?? (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } value ? value : DefaultFile));

    public static ScheduleStore Parse(string location)
    {
        if (PostgresConnection.IsConnectionString(location))
            return FromUrl(location);
        // Npgsql's own form (Host=…;Database=…), which the run store does not take.
        if (location.Contains('=') && location.Contains("host", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(location);
                return new ScheduleStore(Masked(builder), builder.ConnectionString, true);
            }
            catch (ArgumentException e)
            {
                throw new ExperimentsException($"The schedule store '{location}' is not a valid PostgreSQL connection string: {e.Message}. Use postgres://user:password@host:port/database or Host=…;Database=…;Username=….");
            }
        }
        var path = Path.GetFullPath(location);
        if (Directory.Exists(path)) throw new ExperimentsException($"The schedule store '{location}' is a folder; give a file, e.g. {Path.Combine(location, DefaultFile)}.");
        if (Path.GetDirectoryName(path) is { } folder && !Directory.Exists(folder))
            throw new ExperimentsException($"The schedule store '{location}' is in a folder that does not exist ({folder}).");
        // Pooling off: the file is shared with other processes (the scheduler and the CLI), and a pool would keep it open.
        return new ScheduleStore(path, $"Data Source={path};Pooling=False", false);
    }

    /// <summary>A postgres:// URL, read as the run store reads one (<see cref="PostgresConnection.Parse"/>); it must name its database.</summary>
    private static ScheduleStore FromUrl(string url)
    {
        var target = PostgresConnection.Parse(url);
        // Quartz's nodes open connections all the time (check-ins, trigger polls): pooled, unlike the run store's.
        var builder = new NpgsqlConnectionStringBuilder(target.ConnectionString) { Pooling = true };
        if (string.IsNullOrEmpty(builder.Database))
            throw new ExperimentsException($"The schedule store '{target.Location}' names no database; write postgres://user:password@host:port/database.");
        return new ScheduleStore(target.Location, builder.ConnectionString, true);
    }

    private static string Masked(NpgsqlConnectionStringBuilder builder) =>
        $"postgres://{(builder.Username is { } user ? user + (builder.Password is null ? "" : ":***") + "@" : "")}{builder.Host}:{builder.Port}/{builder.Database}";

    /// <summary>Quartz's persistent store on this location: schema created when missing, execution history kept in it, clustered on PostgreSQL.</summary>
    internal void Configure(IPersistentStoreBuilder store, TimeSpan misfireThreshold)
    {
        if (IsPostgres)
        {
            store.UsePostgres(ConnectionString);
            // Nodes check in every 5 s; a node silent for longer than that plus the threshold is presumed dead and
            // its running firings are recovered by another node.
            store.UseClustering(c =>
            {
                c.CheckinInterval = TimeSpan.FromSeconds(5);
                c.CheckinMisfireThreshold = TimeSpan.FromSeconds(10);
            });
        }
        else store.UseSqlite(ConnectionString);
        store.ProvisionSchema();
        store.UseExecutionHistory();
        store.ConfigureStore(o => o.MisfireThreshold = misfireThreshold);
    }

    public override string ToString() => Location;
}
