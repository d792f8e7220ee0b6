using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Experiments.Core;
using Microsoft.Data.Sqlite;

namespace Experiments.Store;

/// <summary>
/// The run store on SQLite, the default: one file. WAL journaling with full sync: each call is one immediate
/// transaction, committed before it returns, and several processes on one machine can write to one store at once
/// (SQLite serialises writers; each waits up to the busy timeout).
/// </summary>
public sealed class SqliteRunStore : RunStore
{
    private SqliteRunStore(string path, SqliteConnection connection, bool readOnly) : base(path, connection, SqlDialect.Sqlite, readOnly)
    {
        _version = ReadSchemaVersion(null);
    }

    /// <summary>
    /// Opens (creating if needed) the store at <paramref name="path"/> for recording runs and brings its schema up to
    /// date; a store that cannot be written is refused here, before anything is trained.
    /// </summary>
    public static SqliteRunStore Open(string path)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full);
        try
        {
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw NotWritable(full, e.Message);
        }
        var connection = Connect(full, SqliteOpenMode.ReadWriteCreate);
        try
        {
            connection.Open();
            // SQLite opens a write-protected file for reading without a word: a run must know before it trains.
            if (SQLitePCL.raw.sqlite3_db_readonly(connection.Handle, "main") == 1) throw NotWritable(full, "the file is read-only");
            return Prepare(connection, full);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw e.SqliteErrorCode is SqliteReadOnly or SqliteCannotOpen ? NotWritable(full, e.Message) : new ExperimentsException($"Cannot open the run store {full}: {e.Message}", e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens an existing store to read it (list, show, report, compare): writable when it can be (then its schema is
    /// brought up to date and killed runs can be marked), read-only otherwise — a write-protected file, or a folder
    /// where SQLite cannot create its WAL files (then the store is read as an immutable file).
    /// </summary>
    public static SqliteRunStore OpenExisting(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new ExperimentsException($"No run store at {full}. Run an experiment first, or pass --store PATH.");
        var connection = Connect(full, SqliteOpenMode.ReadWrite);
        try
        {
            connection.Open();
            if (SQLitePCL.raw.sqlite3_db_readonly(connection.Handle, "main") == 0) return Prepare(connection, full);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is SqliteReadOnly or SqliteCannotOpen)
        {
            // Fall through to a read-only connection.
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new ExperimentsException($"Cannot open the run store {full}: {e.Message}", e);
        }
        connection.Dispose();
        return OpenReadOnly(full);
    }

    private static SqliteRunStore OpenReadOnly(string full)
    {
        // Reading a WAL store needs its -shm file; in a folder where it cannot be created the file is read as
        // immutable (what a finished store is: its last writer checkpointed the WAL into it).
        foreach (var source in new[] { full, new Uri(full).AbsoluteUri + "?immutable=1" })
        {
            var connection = Connect(source, SqliteOpenMode.ReadOnly);
            try
            {
                connection.Open();
                var store = new SqliteRunStore(full, connection, readOnly: true);
                store.Execute(null, "PRAGMA busy_timeout = 60000; PRAGMA query_only = ON;");
                if (store.SchemaVersion > Migrations.All.Length) throw NewerSchema(full, store.SchemaVersion);
                return store;
            }
            catch (SqliteException e) when (e.SqliteErrorCode is SqliteReadOnly or SqliteCannotOpen && !source.StartsWith("file:", StringComparison.Ordinal))
            {
                connection.Dispose();
            }
            catch (SqliteException e)
            {
                connection.Dispose();
                throw new ExperimentsException($"Cannot read the run store {full}: {e.Message}", e);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }
        throw new InvalidOperationException("unreachable");
    }

    private const int SqliteReadOnly = 8, SqliteCannotOpen = 14;

    private static ExperimentsException NotWritable(string path, string reason) =>
        new($"The run store {path} cannot be written ({reason}); a run records into it. Pass --store PATH (or set output.store) to a writable file. " +
            "A read-only store can still be read: `experiments list --store PATH`.");

    private static SqliteConnection Connect(string source, SqliteOpenMode mode) => new(new SqliteConnectionStringBuilder
    {
        DataSource = source,
        Mode = mode,
        Pooling = false,
        DefaultTimeout = 60,
    }.ToString());

    private static SqliteRunStore Prepare(SqliteConnection connection, string full)
    {
        var store = new SqliteRunStore(full, connection, readOnly: false);
        store.Execute(null, "PRAGMA busy_timeout = 60000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
        // Switching the journal mode takes an exclusive lock: only the process that creates the store does it.
        if (!string.Equals(Convert.ToString(store.Scalar(null, "PRAGMA journal_mode"), CultureInfo.InvariantCulture), "wal", StringComparison.OrdinalIgnoreCase))
            store.Execute(null, "PRAGMA journal_mode = WAL;");
        store.Migrate();
        return store;
    }

    private protected override int ReadSchemaVersion(DbTransaction? transaction) =>
        Convert.ToInt32(Scalar(transaction, "PRAGMA user_version"), CultureInfo.InvariantCulture);

    private protected override void WriteSchemaVersion(DbTransaction transaction, int version) =>
        Execute(transaction, $"PRAGMA user_version = {version}");

    private protected override DbTransaction BeginWrite() => ((SqliteConnection)_connection).BeginTransaction(deferred: false);

    private protected override ExperimentsException? Refused(DbException e) =>
        e is SqliteException { SqliteErrorCode: SqliteReadOnly or SqliteCannotOpen } ? NotWritable(Location, e.Message) : null;
}
