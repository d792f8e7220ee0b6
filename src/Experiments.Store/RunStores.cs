namespace Experiments.Store;

/// <summary>Opens the store a user names: a PostgreSQL connection string (postgres://…, postgresql://…) or a SQLite file (the default).</summary>
public static class RunStores
{
    /// <summary>For recording runs: creates the store if needed and brings its schema up to date.</summary>
    public static RunStore Open(string store) =>
        PostgresConnection.IsConnectionString(store) ? PostgresRunStore.Open(store) : SqliteRunStore.Open(store);

    /// <summary>The store as a full location: a PostgreSQL connection string as written, a SQLite file against <paramref name="folder"/>.</summary>
    public static string Resolve(string store, string folder) =>
        PostgresConnection.IsConnectionString(store) ? store : Path.GetFullPath(store, folder);

    /// <summary>For reading commands: the store must exist (a SQLite file that cannot be written is opened read-only).</summary>
    public static RunStore OpenExisting(string store) =>
        PostgresConnection.IsConnectionString(store) ? PostgresRunStore.OpenExisting(store) : SqliteRunStore.OpenExisting(store);
}
