using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Experiments.Core;
using Microsoft.Data.Sqlite;

namespace Experiments.Store;

/// <summary>
/// The run store on SQLite. WAL journaling with full sync: each call is one immediate transaction, committed
/// before it returns, so a run killed at any point keeps everything it finished, and several processes can write
/// to one store at once (SQLite serialises writers; each waits up to the busy timeout).
/// </summary>
public sealed partial class SqliteRunStore : IRunStore
{
    private readonly SqliteConnection _connection;
    private readonly object _gate = new();
    private readonly int _version;

    private SqliteRunStore(string path, SqliteConnection connection, bool readOnly)
    {
        Location = path;
        _connection = connection;
        IsReadOnly = readOnly;
        _version = SchemaVersion(connection, null);
    }

    public string Location { get; }

    /// <summary>
    /// Opened for reading only (the file or its folder cannot be written): runs can be listed, shown and reported,
    /// nothing is recorded, and runs whose process died are not marked.
    /// </summary>
    public bool IsReadOnly { get; }

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
            Prepare(connection, full);
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
        return new SqliteRunStore(full, connection, readOnly: false);
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
            if (SQLitePCL.raw.sqlite3_db_readonly(connection.Handle, "main") == 0)
            {
                Prepare(connection, full);
                return new SqliteRunStore(full, connection, readOnly: false);
            }
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
                Execute(connection, "PRAGMA busy_timeout = 60000; PRAGMA query_only = ON;");
                var version = SchemaVersion(connection, null);
                if (version > Migrations.All.Length) throw NewerSchema(full, version);
                return new SqliteRunStore(full, connection, readOnly: true);
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

    private static ExperimentsException NewerSchema(string path, int version) =>
        new($"The run store {path} has schema version {version}, newer than this program knows ({Migrations.All.Length}); update the program.");

    private static SqliteConnection Connect(string source, SqliteOpenMode mode) => new(new SqliteConnectionStringBuilder
    {
        DataSource = source,
        Mode = mode,
        Pooling = false,
        DefaultTimeout = 60,
    }.ToString());

    private static void Prepare(SqliteConnection connection, string full)
    {
        Execute(connection, "PRAGMA busy_timeout = 60000; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
        // Switching the journal mode takes an exclusive lock: only the process that creates the store does it.
        if (!string.Equals(Convert.ToString(Scalar(connection, null, "PRAGMA journal_mode")), "wal", StringComparison.OrdinalIgnoreCase))
            Execute(connection, "PRAGMA journal_mode = WAL;");
        Migrate(connection, full);
    }

    private static void Migrate(SqliteConnection connection, string path)
    {
        // Readers of an up-to-date store (list, show, a poller) take no write lock at all.
        if (SchemaVersion(connection, null) == Migrations.All.Length) return;
        using var transaction = connection.BeginTransaction();
        var version = SchemaVersion(connection, transaction);
        if (version > Migrations.All.Length) throw NewerSchema(path, version);
        for (var v = version; v < Migrations.All.Length; v++)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = Migrations.All[v] + $";PRAGMA user_version = {v + 1};";
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    private static int SchemaVersion(SqliteConnection connection, SqliteTransaction? transaction) =>
        Convert.ToInt32(Scalar(connection, transaction, "PRAGMA user_version"), CultureInfo.InvariantCulture);

    public long StartRun(RunStart start) => Write(t =>
    {
        var now = Now();
        Exec(t, "INSERT INTO experiments(name, description, created_at) VALUES ($name, $description, $now) ON CONFLICT(name) DO UPDATE SET description = coalesce(excluded.description, description)",
            ("$name", start.Experiment), ("$description", start.Description), ("$now", now));
        var experimentId = (long)Scalar(_connection, t, "SELECT id FROM experiments WHERE name = $name", ("$name", start.Experiment))!;
        using var process = Process.GetCurrentProcess();
        Exec(t, """
            INSERT INTO runs(experiment_id, status, definition, definition_hash, source, dataset, seed, git_commit, git_dirty, package_versions, machine, host, pid, process_started_at, started_at, uid, reports_root)
            VALUES ($experiment, 'running', $definition, $hash, $source, $dataset, $seed, $git, $dirty, $packages, $machine, $host, $pid, $processStarted, $now, lower(hex(randomblob(4))), $reports)
            """,
            ("$experiment", experimentId), ("$definition", start.Definition), ("$hash", start.DefinitionHash), ("$source", start.Source),
            ("$dataset", start.Dataset), ("$seed", start.Seed), ("$git", start.GitCommit), ("$dirty", start.GitDirty), ("$reports", start.ReportsRoot), ("$packages", start.PackageVersions),
            ("$machine", start.Machine), ("$host", Environment.MachineName), ("$pid", Environment.ProcessId), ("$processStarted", Stamp(process.StartTime.ToUniversalTime())), ("$now", now));
        return (long)Scalar(_connection, t, "SELECT last_insert_rowid()")!;
    });

    public void RecordDataset(long runId, string fingerprint, string origin, bool synthetic) =>
        Write(t => Exec(t, "UPDATE runs SET data_fingerprint = $fp, dataset_origin = $origin, dataset_synthetic = $synthetic WHERE id = $id",
            ("$fp", fingerprint), ("$origin", origin), ("$synthetic", synthetic), ("$id", runId)));

    public void RecordDataIssues(long runId, IEnumerable<DataIssueRecord> issues) => Write(t =>
    {
        foreach (var issue in issues)
            Exec(t, "INSERT INTO data_issues(run_id, kind, count, example_file, example_line, example) VALUES ($run, $kind, $count, $file, $line, $example)",
                ("$run", runId), ("$kind", issue.Kind), ("$count", issue.Count), ("$file", issue.ExampleFile), ("$line", issue.ExampleLine), ("$example", issue.Example));
    });

    public long StartTrial(long runId, string modelName, string modelType, string split, IReadOnlyDictionary<string, string> parameters) => Write(t =>
    {
        Exec(t, "INSERT INTO trials(run_id, model_name, model_type, split_name, status, started_at) VALUES ($run, $name, $type, $split, 'running', $now)",
            ("$run", runId), ("$name", modelName), ("$type", modelType), ("$split", split), ("$now", Now()));
        var trialId = (long)Scalar(_connection, t, "SELECT last_insert_rowid()")!;
        foreach (var (name, value) in parameters)
            Exec(t, "INSERT INTO parameters(trial_id, name, value) VALUES ($trial, $name, $value)", ("$trial", trialId), ("$name", name), ("$value", value));
        return trialId;
    });

    public void RecordMetrics(long runId, long? trialId, IEnumerable<MetricRecord> metrics) => Write(t =>
    {
        foreach (var m in metrics)
            Exec(t, "INSERT INTO metrics(run_id, trial_id, split_name, name, k, value, lower, upper, users) VALUES ($run, $trial, $split, $name, $k, $value, $lower, $upper, $users)",
                ("$run", runId), ("$trial", trialId), ("$split", m.Split), ("$name", m.Name), ("$k", m.K), ("$value", m.Value), ("$lower", m.Lower), ("$upper", m.Upper), ("$users", m.Users));
    });

    public void RecordUserValues(long trialId, UserValuesRecord values) => Write(t =>
    {
        Exec(t, "INSERT INTO trial_users(trial_id, user_ids) VALUES ($trial, $ids)", ("$trial", trialId), ("$ids", string.Join('\n', values.Users)));
        foreach (var (metric, vals) in values.Values)
        {
            if (vals.Length != values.Users.Count) throw new ArgumentException($"'{metric}' has {vals.Length} values for {values.Users.Count} users.");
            var bytes = new byte[vals.Length * sizeof(double)];
            Buffer.BlockCopy(vals, 0, bytes, 0, bytes.Length);
            Exec(t, "INSERT INTO user_values(trial_id, metric, vals) VALUES ($trial, $metric, $vals)", ("$trial", trialId), ("$metric", metric), ("$vals", bytes));
        }
    });

    public UserValuesRecord? GetUserValues(long trialId) => Read(() =>
    {
        var ids = Scalar(_connection, null, "SELECT user_ids FROM trial_users WHERE trial_id = $trial", ("$trial", trialId)) as string;
        if (ids is null) return null;
        var values = new Dictionary<string, double[]>();
        using var command = Command(null, "SELECT metric, vals FROM user_values WHERE trial_id = $trial ORDER BY metric", ("$trial", trialId));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var bytes = (byte[])reader.GetValue(1);
            var vals = new double[bytes.Length / sizeof(double)];
            Buffer.BlockCopy(bytes, 0, vals, 0, bytes.Length);
            values[reader.GetString(0)] = vals;
        }
        return new UserValuesRecord(ids.Length == 0 ? [] : ids.Split('\n'), values);
    });

    public void RecordComparisons(long runId, IEnumerable<ComparisonRecord> comparisons) => Write(t =>
    {
        foreach (var c in comparisons)
            Exec(t, "INSERT INTO comparisons(run_id, split_name, metric, baseline, model, difference, lower, upper, p_value, users, test, p_holm, resamples, p_holm_bound) VALUES ($run, $split, $metric, $baseline, $model, $d, $lo, $hi, $p, $users, $test, $holm, $resamples, $bound)",
                ("$run", runId), ("$split", c.Split), ("$metric", c.Metric), ("$baseline", c.Baseline), ("$model", c.Model), ("$d", c.Difference), ("$lo", c.Lower), ("$hi", c.Upper), ("$p", c.PValue), ("$users", c.Users),
                ("$test", c.Test), ("$holm", c.HolmPValue), ("$resamples", c.Resamples), ("$bound", c.HolmBound));
    });

    public void RecordCurves(long runId, IEnumerable<CurveRecord> curves) => Write(t =>
    {
        foreach (var c in curves)
        {
            if (c.Y.Count != c.X.Count || c.Z is { } z && z.Count != c.X.Count || c.Labels is { } l && l.Count != c.X.Count)
                throw new ArgumentException($"Curve '{c.Kind}/{c.Name}' has columns of different lengths.");
            Exec(t, "INSERT INTO curves(run_id, trial_id, split_name, kind, name, points) VALUES ($run, $trial, $split, $kind, $name, $points)",
                ("$run", runId), ("$trial", c.TrialId), ("$split", c.Split), ("$kind", c.Kind), ("$name", c.Name),
                ("$points", JsonSerializer.Serialize(new CurvePoints(c.X, c.Y, c.Z, c.Labels), CurveJson)));
        }
    });

    public void RecordProfile(long runId, IEnumerable<ProfileRecord> profile) => Write(t =>
    {
        foreach (var p in profile)
            Exec(t, "INSERT INTO data_profile(run_id, split_name, name, value) VALUES ($run, $split, $name, $value)",
                ("$run", runId), ("$split", p.Split), ("$name", p.Name), ("$value", p.Value));
    });

    /// <summary>A curve's columns as stored: JSON numbers, which round-trip doubles exactly.</summary>
    private sealed record CurvePoints(IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<double>? Z, IReadOnlyList<string>? Labels);

    private static readonly JsonSerializerOptions CurveJson = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public void FinishTrial(long trialId, string status, double? fitSeconds, double? evaluateSeconds, string? protocol, string? error) =>
        Write(t => Exec(t, "UPDATE trials SET status = $status, ended_at = $now, fit_seconds = $fit, evaluate_seconds = $evaluate, protocol = $protocol, error = $error WHERE id = $id",
            ("$status", status), ("$now", Now()), ("$fit", fitSeconds), ("$evaluate", evaluateSeconds), ("$protocol", protocol), ("$error", error), ("$id", trialId)));

    public long RecordArtifact(long runId, long? trialId, string kind, string path, string? sha256, long? bytes) => Write(t =>
    {
        Exec(t, "INSERT INTO artifacts(run_id, trial_id, kind, path, sha256, bytes, created_at) VALUES ($run, $trial, $kind, $path, $sha, $bytes, $now)",
            ("$run", runId), ("$trial", trialId), ("$kind", kind), ("$path", path), ("$sha", sha256), ("$bytes", bytes), ("$now", Now()));
        return (long)Scalar(_connection, t, "SELECT last_insert_rowid()")!;
    });

    public void FinishRun(long runId, RunStatus status, string? error) =>
        Write(t => Exec(t, "UPDATE runs SET status = $status, ended_at = $now, error = $error WHERE id = $id",
            ("$status", status.ToString().ToLowerInvariant()), ("$now", Now()), ("$error", error), ("$id", runId)));

    public void RecordRegression(long runId, RegressionCheckRecord check) => Write(t =>
    {
        Exec(t, "INSERT INTO regression_checks(run_id, against_run, rule, metric, regressed, summary, checked_at) VALUES ($run, $against, $rule, $metric, $regressed, $summary, $now)",
            ("$run", runId), ("$against", check.AgainstRunId), ("$rule", check.Rule), ("$metric", check.Metric), ("$regressed", check.Regressed), ("$summary", check.Summary), ("$now", Now()));
        foreach (var test in check.Tests)
            Exec(t, "INSERT INTO regression_tests(run_id, model, split_name, difference, lower, upper, p_value, p_holm, test, resamples, units, regressed) VALUES ($run, $model, $split, $d, $lo, $hi, $p, $holm, $test, $resamples, $units, $regressed)",
                ("$run", runId), ("$model", test.Model), ("$split", test.Split), ("$d", test.Difference), ("$lo", test.Lower), ("$hi", test.Upper), ("$p", test.PValue),
                ("$holm", test.HolmPValue), ("$test", test.Test), ("$resamples", test.Resamples), ("$units", test.Units), ("$regressed", test.Regressed));
    });

    public IReadOnlyList<long> MarkAbandonedRuns() => IsReadOnly ? [] : Write(t =>
    {
        var abandoned = new List<(long Id, long Pid)>();
        using (var command = Command(t, "SELECT id, pid, process_started_at FROM runs WHERE status = 'running' AND host = $host", ("$host", Environment.MachineName)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                if (!IsAlive(reader.GetInt64(1), reader.GetString(2)))
                    abandoned.Add((reader.GetInt64(0), reader.GetInt64(1)));
        foreach (var (id, pid) in abandoned)
        {
            // The end is taken as the last thing the run committed, not as now.
            Exec(t, """
                UPDATE trials SET status = 'killed' WHERE run_id = $id AND status = 'running';
                UPDATE runs SET status = 'killed',
                    ended_at = coalesce((SELECT max(ended_at) FROM trials WHERE run_id = $id), started_at),
                    error = $error
                WHERE id = $id
                """,
                ("$id", id), ("$error", $"The process (pid {pid}) ended without finishing this run (killed or crashed); everything it had finished is kept."));
        }
        return abandoned.Select(a => a.Id).ToList();
    });

    public IReadOnlyList<RunRecord> ListRuns(int limit = 50, string? experiment = null) => Read(() =>
    {
        using var command = Command(null, RunSelect + " WHERE ($experiment IS NULL OR e.name = $experiment) ORDER BY r.id DESC LIMIT $limit",
            ("$experiment", experiment), ("$limit", limit));
        return ReadRuns(command);
    });

    public RunDetails GetRun(long runId) => Read(() =>
    {
        RunRecord run;
        using (var command = Command(null, RunSelect + " WHERE r.id = $id", ("$id", runId)))
            run = ReadRuns(command).FirstOrDefault() ?? throw new ExperimentsException($"There is no run {runId} in {Location}; `experiments list` shows the runs it has.");
        var trials = new List<TrialRecord>();
        using (var command = Command(null, "SELECT id, model_name, model_type, split_name, status, started_at, ended_at, fit_seconds, evaluate_seconds, protocol, error FROM trials WHERE run_id = $id ORDER BY id", ("$id", runId)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var id = reader.GetInt64(0);
                trials.Add(new TrialRecord(id, reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    ParseStamp(reader.GetString(5)), reader.IsDBNull(6) ? null : ParseStamp(reader.GetString(6)),
                    NullableDouble(reader, 7), NullableDouble(reader, 8), reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetString(10),
                    Parameters(id), Metrics("trial_id = $id", id)));
            }
        var issues = new List<DataIssueRecord>();
        using (var command = Command(null, "SELECT kind, count, example_file, example_line, example FROM data_issues WHERE run_id = $id ORDER BY rowid", ("$id", runId)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                issues.Add(new DataIssueRecord(reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        var artifacts = new List<ArtifactRecord>();
        using (var command = Command(null, "SELECT id, trial_id, kind, path, sha256, bytes, created_at FROM artifacts WHERE run_id = $id ORDER BY id", ("$id", runId)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                artifacts.Add(new ArtifactRecord(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1), reader.GetString(2), reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetInt64(5), ParseStamp(reader.GetString(6))));
        var comparisons = new List<ComparisonRecord>();
        using (var command = Command(null, "SELECT split_name, metric, baseline, model, difference, lower, upper, p_value, users, test, p_holm, resamples, p_holm_bound FROM comparisons WHERE run_id = $id ORDER BY id", ("$id", runId)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                comparisons.Add(new ComparisonRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetDouble(4),
                    reader.GetDouble(5), reader.GetDouble(6), reader.GetDouble(7), reader.GetInt32(8),
                    NullableString(reader, 9), NullableDouble(reader, 10), reader.IsDBNull(11) ? null : reader.GetInt32(11), reader.IsDBNull(12) ? null : reader.GetBoolean(12)));
        return new RunDetails(run, trials, issues, artifacts, comparisons, Curves(runId), Profile(runId), _version >= RegressionVersion ? Regression(runId) : null);
    });

    /// <summary>The schema versions whose migrations added the curve and profile tables, and the regression tables.</summary>
    private const int CurvesVersion = 6, RegressionVersion = 7;

    // A store read without being migrated (read-only) may predate those tables: it has no curves then.
    private List<CurveRecord> Curves(long runId)
    {
        var curves = new List<CurveRecord>();
        if (_version < CurvesVersion) return curves;
        using var command = Command(null, "SELECT trial_id, split_name, kind, name, points FROM curves WHERE run_id = $id ORDER BY id", ("$id", runId));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var points = JsonSerializer.Deserialize<CurvePoints>(reader.GetString(4), CurveJson)!;
            curves.Add(new CurveRecord(reader.IsDBNull(0) ? null : reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), points.X, points.Y, points.Z, points.Labels));
        }
        return curves;
    }

    private List<ProfileRecord> Profile(long runId)
    {
        var profile = new List<ProfileRecord>();
        if (_version < CurvesVersion) return profile;
        using var command = Command(null, "SELECT split_name, name, value FROM data_profile WHERE run_id = $id ORDER BY rowid", ("$id", runId));
        using var reader = command.ExecuteReader();
        while (reader.Read()) profile.Add(new ProfileRecord(NullableString(reader, 0), reader.GetString(1), reader.GetDouble(2)));
        return profile;
    }

    private RegressionCheckRecord? Regression(long runId)
    {
        var tests = new List<RegressionTestRecord>();
        using (var command = Command(null, "SELECT model, split_name, difference, lower, upper, p_value, p_holm, test, resamples, units, regressed FROM regression_tests WHERE run_id = $id ORDER BY rowid", ("$id", runId)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                tests.Add(new RegressionTestRecord(reader.GetString(0), reader.GetString(1), reader.GetDouble(2), NullableDouble(reader, 3), NullableDouble(reader, 4),
                    NullableDouble(reader, 5), NullableDouble(reader, 6), NullableString(reader, 7), reader.IsDBNull(8) ? null : reader.GetInt32(8),
                    reader.IsDBNull(9) ? null : reader.GetInt32(9), reader.GetBoolean(10)));
        using (var command = Command(null, "SELECT rule, metric, against_run, regressed, summary FROM regression_checks WHERE run_id = $id", ("$id", runId)))
        using (var reader = command.ExecuteReader())
            return reader.Read()
                ? new RegressionCheckRecord(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetBoolean(3), reader.GetString(4), tests)
                : null;
    }

    // A store read without being migrated (read-only) may predate the columns of migration 4 (uid) and the regression tables.
    private string RunSelect => $"""
        SELECT r.id, e.name, r.status, r.dataset, r.data_fingerprint, r.dataset_origin, r.dataset_synthetic, r.seed, r.started_at, r.ended_at, r.definition_hash, r.definition,
               r.source, r.git_commit, r.package_versions, r.machine, r.error, (SELECT count(*) FROM trials t WHERE t.run_id = r.id),
               {(_version >= 4 ? "r.uid, r.reports_root, r.git_dirty" : "NULL, NULL, NULL")},
               {(_version >= RegressionVersion ? "(SELECT c.regressed FROM regression_checks c WHERE c.run_id = r.id)" : "NULL")}
        FROM runs r JOIN experiments e ON e.id = r.experiment_id
        """;

    private static List<RunRecord> ReadRuns(SqliteCommand command)
    {
        var runs = new List<RunRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            runs.Add(new RunRecord(reader.GetInt64(0), reader.GetString(1), Enum.Parse<RunStatus>(reader.GetString(2), ignoreCase: true), reader.GetString(3),
                NullableString(reader, 4), NullableString(reader, 5), !reader.IsDBNull(6) && reader.GetBoolean(6), reader.GetInt32(7), ParseStamp(reader.GetString(8)),
                reader.IsDBNull(9) ? null : ParseStamp(reader.GetString(9)), reader.GetString(10), reader.GetString(11),
                NullableString(reader, 12), NullableString(reader, 13), reader.GetString(14),
                reader.GetString(15), NullableString(reader, 16), reader.GetInt32(17),
                NullableString(reader, 18), NullableString(reader, 19), reader.IsDBNull(20) ? null : reader.GetBoolean(20), reader.IsDBNull(21) ? null : reader.GetBoolean(21)));
        return runs;
    }

    private static string? NullableString(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private Dictionary<string, string> Parameters(long trialId)
    {
        var result = new Dictionary<string, string>();
        using var command = Command(null, "SELECT name, value FROM parameters WHERE trial_id = $id ORDER BY name", ("$id", trialId));
        using var reader = command.ExecuteReader();
        while (reader.Read()) result[reader.GetString(0)] = reader.GetString(1);
        return result;
    }

    private List<MetricRecord> Metrics(string where, long id)
    {
        var result = new List<MetricRecord>();
        using var command = Command(null, $"SELECT name, k, value, lower, upper, users, split_name FROM metrics WHERE {where} ORDER BY id", ("$id", id));
        using var reader = command.ExecuteReader();
        while (reader.Read())
            result.Add(new MetricRecord(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetInt32(1), reader.GetDouble(2),
                NullableDouble(reader, 3), NullableDouble(reader, 4), reader.IsDBNull(5) ? null : reader.GetInt32(5), reader.GetString(6)));
        return result;
    }

    private static bool IsAlive(long pid, string processStartedAt)
    {
        try
        {
            using var process = Process.GetProcessById((int)pid);
            // A recycled pid belongs to a process that started at another time.
            return Math.Abs((process.StartTime.ToUniversalTime() - ParseStamp(processStartedAt)).TotalSeconds) < 2;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private T Write<T>(Func<SqliteTransaction, T> work)
    {
        if (IsReadOnly) throw new ExperimentsException($"The run store {Location} is open read-only; nothing can be recorded in it.");
        lock (_gate)
        {
            try
            {
                using var transaction = _connection.BeginTransaction(deferred: false);
                var result = work(transaction);
                transaction.Commit();
                return result;
            }
            catch (SqliteException e) when (e.SqliteErrorCode is SqliteReadOnly or SqliteCannotOpen)
            {
                throw NotWritable(Location, e.Message);
            }
        }
    }

    private void Write(Action<SqliteTransaction> work) => Write(t => { work(t); return 0; });

    private T Read<T>(Func<T> work)
    {
        lock (_gate) return work();
    }

    private SqliteCommand Command(SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters) =>
        CreateCommand(_connection, transaction, sql, parameters);

    private static SqliteCommand CreateCommand(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    private void Exec(SqliteTransaction transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(transaction, sql, parameters);
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = CreateCommand(connection, transaction, sql, parameters);
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = CreateCommand(connection, null, sql);
        command.ExecuteNonQuery();
    }

    private static double? NullableDouble(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDouble(ordinal);

    private static string Now() => Stamp(DateTime.UtcNow);

    private static string Stamp(DateTime utc) => utc.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static DateTime ParseStamp(string text) =>
        DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    public void Dispose() => _connection.Dispose();
}
