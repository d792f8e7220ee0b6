using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Experiments.Core;

namespace Experiments.Store;

/// <summary>
/// The run store's queries, written once for both databases: <see cref="SqliteRunStore"/> (the default, one file) and
/// <see cref="PostgresRunStore"/> (a server that many machines write to). Each call is one transaction, committed
/// before it returns, so a run killed at any point keeps everything it finished. The SQL is SQLite's; the
/// store's <see cref="SqlDialect"/> translates it (the migrations included) where PostgreSQL differs.
/// </summary>
public abstract partial class RunStore : IRunStore
{
    private protected readonly DbConnection _connection;
    private readonly SqlDialect _dialect;
    private readonly object _gate = new();
    private protected int _version;

    private protected RunStore(string location, DbConnection connection, SqlDialect dialect, bool readOnly)
    {
        Location = location;
        _connection = connection;
        _dialect = dialect;
        IsReadOnly = readOnly;
    }

    public string Location { get; }

    public bool IsReadOnly { get; }

    /// <summary>The schema version the store is at (the number of migrations applied).</summary>
    public int SchemaVersion => _version;

    private protected static ExperimentsException NewerSchema(string location, int version) =>
        new($"The run store {location} has schema version {version}, newer than this program knows ({Migrations.All.Length}); update the program.");

    /// <summary>The stored schema version (0 for an empty store).</summary>
    private protected abstract int ReadSchemaVersion(DbTransaction? transaction);

    private protected abstract void WriteSchemaVersion(DbTransaction transaction, int version);

    /// <summary>Begins a transaction that writes: SQLite takes its write lock at once, so that writers queue rather than fail.</summary>
    private protected abstract DbTransaction BeginWrite();

    /// <summary>Holds other processes' migrations off until this transaction ends (PostgreSQL: an advisory lock).</summary>
    private protected virtual void LockSchema(DbTransaction transaction) { }

    /// <summary>The error a failed write becomes when the store itself refuses it (read-only), else null.</summary>
    private protected virtual ExperimentsException? Refused(DbException e) => null;

    /// <summary>Brings the schema up to date; readers of an up-to-date store take no write lock at all.</summary>
    private protected void Migrate()
    {
        _version = ReadSchemaVersion(null);
        if (_version > Migrations.All.Length) throw NewerSchema(Location, _version);
        if (_version == Migrations.All.Length) return;
        using var transaction = BeginWrite();
        LockSchema(transaction);
        var version = ReadSchemaVersion(transaction);
        if (version > Migrations.All.Length) throw NewerSchema(Location, version);
        for (var v = version; v < Migrations.All.Length; v++)
        {
            Execute(transaction, Migrations.All[v]);
            WriteSchemaVersion(transaction, v + 1);
        }
        transaction.Commit();
        _version = Migrations.All.Length;
    }

    public long StartRun(RunStart start) => Write(t =>
    {
        var now = Now();
        Exec(t, "INSERT INTO experiments(name, description, created_at) VALUES ($name, $description, $now) ON CONFLICT(name) DO UPDATE SET description = coalesce(excluded.description, experiments.description)",
            ("$name", start.Experiment), ("$description", start.Description), ("$now", now));
        var experimentId = (long)Scalar(t, "SELECT id FROM experiments WHERE name = $name", ("$name", start.Experiment))!;
        using var process = Process.GetCurrentProcess();
        return (long)Scalar(t, """
            INSERT INTO runs(experiment_id, status, definition, definition_hash, source, dataset, seed, git_commit, git_dirty, package_versions, machine, host, pid, process_started_at, started_at, uid, reports_root)
            VALUES ($experiment, 'running', $definition, $hash, $source, $dataset, $seed, $git, $dirty, $packages, $machine, $host, $pid, $processStarted, $now, lower(hex(randomblob(8))), $reports)
            RETURNING id
            """,
            ("$experiment", experimentId), ("$definition", start.Definition), ("$hash", start.DefinitionHash), ("$source", start.Source),
            ("$dataset", start.Dataset), ("$seed", start.Seed), ("$git", start.GitCommit), ("$dirty", start.GitDirty), ("$reports", start.ReportsRoot), ("$packages", start.PackageVersions),
            ("$machine", start.Machine), ("$host", Environment.MachineName), ("$pid", Environment.ProcessId), ("$processStarted", Stamp(process.StartTime.ToUniversalTime())), ("$now", now))!;
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
        var trialId = (long)Scalar(t, "INSERT INTO trials(run_id, model_name, model_type, split_name, status, started_at) VALUES ($run, $name, $type, $split, 'running', $now) RETURNING id",
            ("$run", runId), ("$name", modelName), ("$type", modelType), ("$split", split), ("$now", Now()))!;
        foreach (var (name, value) in parameters)
            Exec(t, "INSERT INTO parameters(trial_id, name, value) VALUES ($trial, $name, $value)", ("$trial", trialId), ("$name", name), ("$value", value));
        return trialId;
    });

    public void RecordFacts(long trialId, IReadOnlyDictionary<string, string> facts) => Write(t =>
    {
        foreach (var (name, value) in facts)
            Exec(t, "INSERT INTO trial_facts(trial_id, name, value) VALUES ($trial, $name, $value)", ("$trial", trialId), ("$name", name), ("$value", value));
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
        var ids = Scalar(null, "SELECT user_ids FROM trial_users WHERE trial_id = $trial", ("$trial", trialId)) as string;
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
        {
            Exec(t, "DELETE FROM data_profile WHERE run_id = $run AND coalesce(split_name, '') = coalesce(CAST($split AS TEXT), '') AND name = $name",
                ("$run", runId), ("$split", p.Split), ("$name", p.Name));
            Exec(t, "INSERT INTO data_profile(run_id, split_name, name, value) VALUES ($run, $split, $name, $value)",
                ("$run", runId), ("$split", p.Split), ("$name", p.Name), ("$value", p.Value));
        }
    });

    /// <summary>A curve's columns as stored: JSON numbers, which round-trip doubles exactly.</summary>
    private sealed record CurvePoints(IReadOnlyList<double> X, IReadOnlyList<double> Y, IReadOnlyList<double>? Z, IReadOnlyList<string>? Labels);

    private static readonly JsonSerializerOptions CurveJson = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public void FinishTrial(long trialId, string status, double? fitSeconds, double? evaluateSeconds, string? protocol, string? error) =>
        Write(t => Exec(t, "UPDATE trials SET status = $status, ended_at = $now, fit_seconds = $fit, evaluate_seconds = $evaluate, protocol = $protocol, error = $error WHERE id = $id",
            ("$status", status), ("$now", Now()), ("$fit", fitSeconds), ("$evaluate", evaluateSeconds), ("$protocol", protocol), ("$error", error), ("$id", trialId)));

    public long RecordArtifact(long runId, long? trialId, string kind, string path, string? sha256, long? bytes) => Write(t =>
    {
        // One row per file: a file written again (a report rewritten, a cluster run's reports written where it was submitted too) replaces its row.
        Exec(t, "DELETE FROM artifacts WHERE run_id = $run AND coalesce(trial_id, -1) = coalesce(CAST($trial AS BIGINT), -1) AND kind = $kind AND path = $path",
            ("$run", runId), ("$trial", trialId), ("$kind", kind), ("$path", path));
        return (long)Scalar(t, "INSERT INTO artifacts(run_id, trial_id, kind, path, sha256, bytes, created_at) VALUES ($run, $trial, $kind, $path, $sha, $bytes, $now) RETURNING id",
            ("$run", runId), ("$trial", trialId), ("$kind", kind), ("$path", path), ("$sha", sha256), ("$bytes", bytes), ("$now", Now()))!;
    });

    public void FinishRun(long runId, RunStatus status, string? error) =>
        Write(t => Exec(t, "UPDATE runs SET status = $status, ended_at = $now, error = $error WHERE id = $id",
            ("$status", status.ToString().ToLowerInvariant()), ("$now", Now()), ("$error", error), ("$id", runId)));

    public void ResumeRun(long runId, bool takeOver = false, bool handedOver = false) => Write(t =>
    {
        TakeOver(t, "runs", runId, "Run", takeOver, handedOver);
        if (handedOver) return;
        // Its data is loaded again by the resumed session, which records its checks and profile anew.
        Exec(t, "DELETE FROM data_issues WHERE run_id = $id", ("$id", runId));
        Exec(t, "DELETE FROM data_profile WHERE run_id = $id", ("$id", runId));
    });

    /// <summary>
    /// Marks a run or sweep (<paramref name="table"/>) as running in this process. Refused while the process that ran it
    /// is alive on this machine, and while it is marked running on another machine (whose processes cannot be seen from
    /// here) unless <paramref name="takeOver"/>: two sessions driving one sweep would overwrite each other's trials.
    /// Not checked when the holder handed it over (<paramref name="handedOver"/>).
    /// </summary>
    private void TakeOver(DbTransaction t, string table, long id, string what, bool takeOver, bool handedOver = false)
    {
        using (var command = Command(t, $"SELECT status, host, pid, process_started_at FROM {table} WHERE id = $id", ("$id", id)))
        using (var reader = command.ExecuteReader())
        {
            if (!reader.Read()) throw new ExperimentsException($"There is no {what.ToLowerInvariant()} {id} in {Location}.");
            if (!handedOver && reader.GetString(0) == "running")
            {
                var (host, pid) = (reader.GetString(1), reader.GetInt64(2));
                if (host == Environment.MachineName && pid != Environment.ProcessId && IsAlive(pid, reader.GetString(3)))
                    throw new ExperimentsException($"{what} {id} is still running in process {pid}; stop it before resuming it.");
                if (host != Environment.MachineName && !takeOver)
                    throw new ExperimentsException($"{what} {id} is marked running on {host} (process {pid}), which this machine cannot check. Resume it there, or, if it no longer runs there, resume it with --take-over.");
            }
        }
        using var process = Process.GetCurrentProcess();
        Exec(t, $"UPDATE {table} SET status = 'running', ended_at = NULL, error = NULL, host = $host, pid = $pid, process_started_at = $started WHERE id = $id",
            ("$host", Environment.MachineName), ("$pid", Environment.ProcessId), ("$started", Stamp(process.StartTime.ToUniversalTime())), ("$id", id));
    }

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
        using var command = Command(null, RunSelect + " WHERE (CAST($experiment AS TEXT) IS NULL OR e.name = $experiment) ORDER BY r.id DESC LIMIT $limit",
            ("$experiment", experiment), ("$limit", limit));
        return ReadRuns(command);
    });

    public RunRecord GetRunRecord(long runId) => Read(() => RunRow(runId));

    private RunRecord RunRow(long runId)
    {
        using var command = Command(null, RunSelect + " WHERE r.id = $id", ("$id", runId));
        return ReadRuns(command).FirstOrDefault() ?? throw new ExperimentsException($"There is no run {runId} in {Location}; `experiments list` shows the runs it has.");
    }

    public RunDetails GetRun(long runId) => Read(() =>
    {
        var run = RunRow(runId);
        var trials = new List<TrialRecord>();
        using (var command = Command(null, "SELECT id, model_name, model_type, split_name, status, started_at, ended_at, fit_seconds, evaluate_seconds, protocol, error FROM trials WHERE run_id = $id ORDER BY id", ("$id", runId)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
                trials.Add(new TrialRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    ParseStamp(reader.GetString(5)), reader.IsDBNull(6) ? null : ParseStamp(reader.GetString(6)),
                    NullableDouble(reader, 7), NullableDouble(reader, 8), reader.IsDBNull(9) ? null : reader.GetString(9), reader.IsDBNull(10) ? null : reader.GetString(10),
                    new Dictionary<string, string>(), []));
        // PostgreSQL runs one command at a time on a connection: each trial's parameters and metrics once its reader is closed.
        trials = trials.Select(t => t with { Parameters = Parameters(t.Id), Metrics = Metrics("trial_id = $id", t.Id), Facts = Facts(t.Id) }).ToList();
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
                    NullableString(reader, 9), NullableDouble(reader, 10), reader.IsDBNull(11) ? null : reader.GetInt32(11), NullableFlag(reader, 12)));
        return new RunDetails(run, trials, issues, artifacts, comparisons, Curves(runId), Profile(runId), _version >= RegressionVersion ? Regression(runId) : null);
    });

    /// <summary>The schema versions whose migrations added the curve and profile tables, the regression tables, and the trials' facts.</summary>
    private const int CurvesVersion = 6, RegressionVersion = 7, FactsVersion = 8;

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
                    reader.IsDBNull(9) ? null : reader.GetInt32(9), Flag(reader, 10)));
        using (var command = Command(null, "SELECT rule, metric, against_run, regressed, summary FROM regression_checks WHERE run_id = $id", ("$id", runId)))
        using (var reader = command.ExecuteReader())
            return reader.Read()
                ? new RegressionCheckRecord(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt64(2), NullableFlag(reader, 3), reader.GetString(4), tests)
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

    private static List<RunRecord> ReadRuns(DbCommand command)
    {
        var runs = new List<RunRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            runs.Add(new RunRecord(reader.GetInt64(0), reader.GetString(1), Enum.Parse<RunStatus>(reader.GetString(2), ignoreCase: true), reader.GetString(3),
                NullableString(reader, 4), NullableString(reader, 5), !reader.IsDBNull(6) && Flag(reader, 6), reader.GetInt32(7), ParseStamp(reader.GetString(8)),
                reader.IsDBNull(9) ? null : ParseStamp(reader.GetString(9)), reader.GetString(10), reader.GetString(11),
                NullableString(reader, 12), NullableString(reader, 13), reader.GetString(14),
                reader.GetString(15), NullableString(reader, 16), reader.GetInt32(17),
                NullableString(reader, 18), NullableString(reader, 19), NullableFlag(reader, 20), NullableFlag(reader, 21)));
        return runs;
    }

    private Dictionary<string, string> Parameters(long trialId) => NamedValues("parameters", trialId);

    // A store read without being migrated (read-only) may predate the facts table: its trials have none then.
    private Dictionary<string, string> Facts(long trialId) => _version < FactsVersion ? [] : NamedValues("trial_facts", trialId);

    /// <summary>A trial's rows of a (trial_id, name, value) table.</summary>
    private Dictionary<string, string> NamedValues(string table, long trialId)
    {
        var result = new Dictionary<string, string>();
        using var command = Command(null, $"SELECT name, value FROM {table} WHERE trial_id = $id ORDER BY name", ("$id", trialId));
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

    private protected T Write<T>(Func<DbTransaction, T> work)
    {
        if (IsReadOnly) throw new ExperimentsException($"The run store {Location} is open read-only; nothing can be recorded in it.");
        lock (_gate)
        {
            try
            {
                using var transaction = BeginWrite();
                var result = work(transaction);
                transaction.Commit();
                return result;
            }
            catch (DbException e) when (Refused(e) is { } refused)
            {
                throw refused;
            }
        }
    }

    private protected void Write(Action<DbTransaction> work) => Write(t => { work(t); return 0; });

    private protected T Read<T>(Func<T> work)
    {
        lock (_gate) return work();
    }

    private protected DbCommand Command(DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = _dialect.Translate(sql);
        Bind(command.Parameters, command.CreateParameter, parameters);
        return command;
    }

    private void Bind(DbParameterCollection collection, Func<DbParameter> create, (string Name, object? Value)[] parameters)
    {
        foreach (var (name, value) in parameters)
        {
            var parameter = create();
            parameter.ParameterName = _dialect.ParameterName(name);
            // Flags are stored as 0/1 integers in both databases.
            parameter.Value = value switch { null => DBNull.Value, bool flag => flag ? 1L : 0L, _ => value };
            collection.Add(parameter);
        }
    }

    /// <summary>
    /// Statements of one transaction sent together: one round trip to a server that takes batches (PostgreSQL's
    /// NpgsqlBatch) instead of one per statement; one by one where the provider has none (SQLite, in the process anyway).
    /// </summary>
    private protected sealed class Statements(RunStore store, DbTransaction transaction)
    {
        private readonly List<(string Sql, (string Name, object? Value)[] Parameters)> _pending = [];

        public void Add(string sql, params (string Name, object? Value)[] parameters) => _pending.Add((sql, parameters));

        public void Execute()
        {
            if (!store._connection.CanCreateBatch)
            {
                foreach (var (sql, parameters) in _pending) store.Exec(transaction, sql, parameters);
            }
            else if (_pending.Count > 0)
            {
                using var batch = store._connection.CreateBatch();
                batch.Transaction = transaction;
                foreach (var (sql, parameters) in _pending)
                {
                    var command = batch.CreateBatchCommand();
                    command.CommandText = store._dialect.Translate(sql);
                    store.Bind(command.Parameters, command.CreateParameter, parameters);
                    batch.BatchCommands.Add(command);
                }
                batch.ExecuteNonQuery();
            }
            _pending.Clear();
        }
    }

    private protected void Exec(DbTransaction transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(transaction, sql, parameters);
        command.ExecuteNonQuery();
    }

    private protected object? Scalar(DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(transaction, sql, parameters);
        return command.ExecuteScalar();
    }

    private protected void Execute(DbTransaction? transaction, string sql)
    {
        using var command = Command(transaction, sql);
        command.ExecuteNonQuery();
    }

    private static double? NullableDouble(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDouble(ordinal);

    private static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>A 0/1 flag column (SQLite and PostgreSQL both store them as integers).</summary>
    private static bool Flag(DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture) != 0;

    private static bool? NullableFlag(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : Flag(reader, ordinal);

    private static string Now() => Stamp(DateTime.UtcNow);

    private static string Stamp(DateTime utc) => utc.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static DateTime ParseStamp(string text) =>
        DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    public void Dispose() => _connection.Dispose();
}
