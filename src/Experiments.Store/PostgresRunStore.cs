using System.Data.Common;
using System.Globalization;
using Experiments.Core;
using Npgsql;

namespace Experiments.Store;

/// <summary>
/// The run store on a PostgreSQL server, for many machines writing at once: the same schema and migrations as
/// SQLite's (translated by <see cref="SqlDialect"/>), the version kept in a <c>schema_version</c> table, migrations
/// serialised between processes by an advisory lock. Each call is one committed transaction; writers on any number of
/// machines run concurrently (row locks, not a store lock). Chosen by a connection string
/// (<c>postgres://user:password@host:port/database?search_path=schema</c>, see <see cref="PostgresConnection"/>).
/// </summary>
public sealed class PostgresRunStore : RunStore
{
    // pg_advisory_xact_lock's key for migrations: any constant the store owns.
    private const long MigrationLock = 0x4558_5052_554E_5331;

    private PostgresRunStore(string location, NpgsqlConnection connection) : base(location, connection, SqlDialect.Postgres, readOnly: false) { }

    /// <summary>Connects to the store (creating its tables if the database or schema has none) and brings its schema up to date.</summary>
    public static PostgresRunStore Open(string connectionString) => Connect(connectionString, create: true);

    /// <summary>Connects to a store that must already hold runs (reading commands): an empty database is a clear error.</summary>
    public static PostgresRunStore OpenExisting(string connectionString) => Connect(connectionString, create: false);

    private static PostgresRunStore Connect(string connectionString, bool create)
    {
        var target = PostgresConnection.Parse(connectionString);
        var connection = new NpgsqlConnection(target.ConnectionString);
        try
        {
            connection.Open();
            var store = new PostgresRunStore(target.Location, connection);
            if (!create && store.ReadSchemaVersion(null) == 0)
                throw new ExperimentsException($"No run store in {target.Location}: the database has no run tables yet. Run an experiment with --store {target.Location} first.");
            store.Migrate();
            return store;
        }
        catch (NpgsqlException e)
        {
            connection.Dispose();
            throw new ExperimentsException($"Cannot open the run store {target.Location}: {e.Message}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private protected override int ReadSchemaVersion(DbTransaction? transaction) =>
        Scalar(transaction, "SELECT to_regclass('schema_version') IS NOT NULL") is true
            ? Convert.ToInt32(Scalar(transaction, "SELECT coalesce(max(version), 0) FROM schema_version"), CultureInfo.InvariantCulture)
            : 0;

    private protected override void WriteSchemaVersion(DbTransaction transaction, int version) =>
        Execute(transaction, $"CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL); DELETE FROM schema_version; INSERT INTO schema_version VALUES ({version});");

    private protected override DbTransaction BeginWrite() => _connection.BeginTransaction();

    private protected override void LockSchema(DbTransaction transaction) => Execute(transaction, $"SELECT pg_advisory_xact_lock({MigrationLock})");

    private protected override ExperimentsException? Refused(DbException e) =>
        e is PostgresException { SqlState: PostgresErrorCodes.ReadOnlySqlTransaction or PostgresErrorCodes.InsufficientPrivilege }
            ? new ExperimentsException($"The run store {Location} cannot be written ({e.Message}); a run records into it. Connect as a user who may write, or pass --store to another store.")
            : null;
}

/// <summary>
/// PostgreSQL connection strings as users write them — <c>postgres://</c> or <c>postgresql://</c> URIs (libpq's form:
/// user, password, host, port, database; query parameters such as <c>search_path</c> or <c>sslmode</c>) — turned into
/// Npgsql's, with a location for messages that hides the password.
/// </summary>
public static class PostgresConnection
{
    public static bool IsConnectionString(string store) =>
        store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    public sealed record Target(string ConnectionString, string Location);

    public static Target Parse(string uri)
    {
        if (!IsConnectionString(uri) || !Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
            throw new ExperimentsException($"'{Hide(uri)}' is not a PostgreSQL connection string; write postgres://user:password@host:port/database (optionally ?search_path=SCHEMA).");
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Uri.UnescapeDataString(parsed.Host),
            Port = parsed.IsDefaultPort || parsed.Port < 0 ? 5432 : parsed.Port,
            // Several stores (tests, notebooks) in one process share no state; pooling would keep idle servers' slots.
            Pooling = false,
        };
        if (parsed.UserInfo.Length > 0)
        {
            var colon = parsed.UserInfo.IndexOf(':');
            builder.Username = Uri.UnescapeDataString(colon < 0 ? parsed.UserInfo : parsed.UserInfo[..colon]);
            if (colon >= 0) builder.Password = Uri.UnescapeDataString(parsed.UserInfo[(colon + 1)..]);
        }
        var database = Uri.UnescapeDataString(parsed.AbsolutePath.Trim('/'));
        if (database.Length > 0) builder.Database = database;
        foreach (var pair in parsed.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]).Replace('_', ' ');
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            try
            {
                builder[key] = value;
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                throw new ExperimentsException($"The PostgreSQL connection string '{Hide(uri)}' has a parameter '{key}' that Npgsql does not accept ({e.Message}).");
            }
        }
        return new Target(builder.ConnectionString, Hide(uri));
    }

    /// <summary>The URI with its password, if any, replaced by ***.</summary>
    public static string Hide(string uri)
    {
        var scheme = uri.IndexOf("://", StringComparison.Ordinal);
        var at = uri.LastIndexOf('@');
        if (scheme < 0 || at < scheme) return uri;
        var colon = uri.IndexOf(':', scheme + 3);
        return colon < 0 || colon > at ? uri : uri[..(colon + 1)] + "***" + uri[at..];
    }
}
