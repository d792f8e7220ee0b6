using System.Diagnostics;
using Experiments.Core;
using Experiments.Sweeps;
using System.Data.Common;

namespace Experiments.Store;

/// <summary>Sweeps in the run store: each trial written as it starts and as it ends, in its own committed transaction (its statements sent as one batch where the database takes batches).</summary>
public abstract partial class RunStore : ISweepStorage
{
    public long CreateSweep(SweepStart start) => Write(t =>
    {
        using var process = Process.GetCurrentProcess();
        return (long)Scalar(t, """
            INSERT INTO sweeps(run_id, name, space, tuner, pruner, metric, direction, seed, parallelism, trial_budget, status, host, pid, process_started_at, created_at)
            VALUES ($run, $name, $space, $tuner, $pruner, $metric, $direction, $seed, $parallelism, $budget, 'running', $host, $pid, $processStarted, $now)
            RETURNING id
            """,
            ("$run", start.RunId), ("$name", start.Name), ("$space", start.Space), ("$tuner", start.Tuner), ("$pruner", start.Pruner),
            ("$metric", start.Objective.Metric), ("$direction", start.Objective.Direction.ToString().ToLowerInvariant()), ("$seed", start.Seed),
            ("$parallelism", start.Parallelism), ("$budget", start.TrialBudget), ("$host", Environment.MachineName), ("$pid", Environment.ProcessId),
            ("$processStarted", Stamp(process.StartTime.ToUniversalTime())), ("$now", Now()))!;
    });

    private const string SweepSelect = """
        SELECT s.id, s.name, s.space, s.tuner, s.pruner, s.metric, s.direction, s.seed, s.parallelism, s.status, s.created_at, s.ended_at, s.error, s.run_id,
               (SELECT count(*) FROM sweep_trials t WHERE t.sweep_id = s.id), s.trial_budget
        FROM sweeps s
        """;

    public SweepRecord GetSweep(long sweepId) => Read(() =>
    {
        using var command = Command(null, SweepSelect + " WHERE s.id = $id", ("$id", sweepId));
        return ReadSweeps(command).FirstOrDefault()
               ?? throw new ExperimentsException($"There is no sweep {sweepId} in {Location}.");
    });

    public IReadOnlyList<SweepRecord> ListSweeps(int limit = 50) => Read(() =>
    {
        using var command = Command(null, SweepSelect + " ORDER BY s.id DESC LIMIT $limit", ("$limit", limit));
        return ReadSweeps(command);
    });

    private static List<SweepRecord> ReadSweeps(DbCommand command)
    {
        var sweeps = new List<SweepRecord>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            sweeps.Add(new SweepRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), NullableString(reader, 4),
                new SweepObjective(reader.GetString(5), Enum.Parse<Direction>(reader.GetString(6), ignoreCase: true)), reader.GetInt32(7), reader.GetInt32(8),
                reader.GetString(9), ParseStamp(reader.GetString(10)), reader.IsDBNull(11) ? null : ParseStamp(reader.GetString(11)), NullableString(reader, 12),
                reader.IsDBNull(13) ? null : reader.GetInt64(13), reader.GetInt32(14), reader.IsDBNull(15) ? null : reader.GetInt32(15)));
        return sweeps;
    }

    /// <summary>Takes the sweep over for this process (see <see cref="TakeOver"/>).</summary>
    public void ResumeSweep(long sweepId, bool takeOver = false) => Write(t => TakeOver(t, "sweeps", sweepId, "Sweep", takeOver));

    public void TrialStarted(long sweepId, int number, int seed, ParameterSet parameters) => Write(t =>
    {
        var statements = new Statements(this, t);
        DeleteTrial(statements, sweepId, number);
        statements.Add("INSERT INTO sweep_trials(sweep_id, number, status, seed, started_at) VALUES ($sweep, $number, 'running', $seed, $now)",
            ("$sweep", sweepId), ("$number", number), ("$seed", seed), ("$now", Now()));
        InsertParameters(statements, sweepId, number, parameters);
        statements.Execute();
    });

    public void TrialFinished(long sweepId, TrialResult result) => Write(t =>
    {
        var statements = new Statements(this, t);
        DeleteTrial(statements, sweepId, result.Number);
        statements.Add("""
            INSERT INTO sweep_trials(sweep_id, number, status, seed, value, started_at, ended_at, seconds, cost, peak_memory_bytes, error_type, error)
            VALUES ($sweep, $number, $status, $seed, $value, $started, $ended, $seconds, $cost, $memory, $errorType, $error)
            """,
            ("$sweep", sweepId), ("$number", result.Number), ("$status", result.Status.Name()), ("$seed", result.Seed), ("$value", result.Value),
            ("$started", Stamp(result.StartedAt)), ("$ended", result.EndedAt is { } e ? Stamp(e) : null), ("$seconds", result.Seconds), ("$cost", result.Cost),
            ("$memory", result.PeakMemoryBytes), ("$errorType", result.ErrorType), ("$error", result.Error));
        InsertParameters(statements, sweepId, result.Number, result.Parameters);
        for (var i = 0; i < result.Intermediate.Count; i++)
            statements.Add("INSERT INTO sweep_intermediate(sweep_id, number, position, step, value) VALUES ($sweep, $number, $position, $step, $value)",
                ("$sweep", sweepId), ("$number", result.Number), ("$position", i), ("$step", result.Intermediate[i].Step), ("$value", result.Intermediate[i].Value));
        foreach (var (name, metric) in result.Metrics)
            statements.Add("INSERT INTO sweep_metrics(sweep_id, number, name, value, lower, upper) VALUES ($sweep, $number, $name, $value, $lower, $upper)",
                ("$sweep", sweepId), ("$number", result.Number), ("$name", name), ("$value", metric.Value), ("$lower", metric.Lower), ("$upper", metric.Upper));
        statements.Execute();
    });

    private static void DeleteTrial(Statements statements, long sweepId, int number)
    {
        foreach (var table in new[] { "sweep_parameters", "sweep_intermediate", "sweep_metrics", "sweep_trials" })
            statements.Add($"DELETE FROM {table} WHERE sweep_id = $sweep AND number = $number", ("$sweep", sweepId), ("$number", number));
    }

    private static void InsertParameters(Statements statements, long sweepId, int number, ParameterSet parameters)
    {
        var position = 0;
        foreach (var (name, value) in parameters)
            statements.Add("INSERT INTO sweep_parameters(sweep_id, number, position, name, value) VALUES ($sweep, $number, $position, $name, $value)",
                ("$sweep", sweepId), ("$number", number), ("$position", position++), ("$name", name), ("$value", ParameterValue.Format(value)));
    }

    public IReadOnlyList<TrialResult> GetTrials(long sweepId) => Read(() =>
    {
        var parameters = new Dictionary<int, List<KeyValuePair<string, object>>>();
        using (var command = Command(null, "SELECT number, name, value FROM sweep_parameters WHERE sweep_id = $sweep ORDER BY number, position", ("$sweep", sweepId)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var list = parameters.TryGetValue(reader.GetInt32(0), out var l) ? l : parameters[reader.GetInt32(0)] = [];
                list.Add(new(reader.GetString(1), ParameterValue.Parse(reader.GetString(2), reader.GetString(1))));
            }
        var intermediate = new Dictionary<int, List<IntermediateValue>>();
        using (var command = Command(null, "SELECT number, step, value FROM sweep_intermediate WHERE sweep_id = $sweep ORDER BY number, position", ("$sweep", sweepId)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var list = intermediate.TryGetValue(reader.GetInt32(0), out var l) ? l : intermediate[reader.GetInt32(0)] = [];
                list.Add(new IntermediateValue(reader.GetInt64(1), NullableDouble(reader, 2) ?? double.NaN));
            }
        var metrics = new Dictionary<int, Dictionary<string, TrialMetric>>();
        using (var command = Command(null, "SELECT number, name, value, lower, upper FROM sweep_metrics WHERE sweep_id = $sweep ORDER BY number, name", ("$sweep", sweepId)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var map = metrics.TryGetValue(reader.GetInt32(0), out var m) ? m : metrics[reader.GetInt32(0)] = [];
                map[reader.GetString(1)] = new TrialMetric(NullableDouble(reader, 2) ?? double.NaN, NullableDouble(reader, 3), NullableDouble(reader, 4));
            }
        string direction;
        using (var command = Command(null, "SELECT direction FROM sweeps WHERE id = $sweep", ("$sweep", sweepId)))
            direction = command.ExecuteScalar() as string ?? throw new ExperimentsException($"There is no sweep {sweepId} in {Location}.");
        var sign = direction == "maximize" ? -1.0 : 1.0;
        var trials = new List<TrialResult>();
        using (var command = Command(null, """
            SELECT number, status, seed, value, started_at, ended_at, seconds, cost, peak_memory_bytes, error_type, error
            FROM sweep_trials WHERE sweep_id = $sweep ORDER BY number
            """, ("$sweep", sweepId)))
        using (var reader = command.ExecuteReader())
            while (reader.Read())
            {
                var number = reader.GetInt32(0);
                var value = NullableDouble(reader, 3);
                trials.Add(new TrialResult
                {
                    Number = number,
                    Parameters = new ParameterSet(parameters.GetValueOrDefault(number) ?? []),
                    Status = TrialStatusNames.Parse(reader.GetString(1)),
                    Seed = reader.GetInt32(2),
                    Value = value,
                    Loss = value * sign,
                    StartedAt = ParseStamp(reader.GetString(4)),
                    EndedAt = reader.IsDBNull(5) ? null : ParseStamp(reader.GetString(5)),
                    Seconds = NullableDouble(reader, 6) ?? 0,
                    Cost = NullableDouble(reader, 7) ?? 0,
                    PeakMemoryBytes = reader.IsDBNull(8) ? null : reader.GetInt64(8),
                    ErrorType = NullableString(reader, 9),
                    Error = NullableString(reader, 10),
                    Intermediate = intermediate.GetValueOrDefault(number) ?? [],
                    Metrics = metrics.GetValueOrDefault(number) ?? new Dictionary<string, TrialMetric>(),
                });
            }
        return trials;
    });

    public void FinishSweep(long sweepId, string status, string? error) =>
        Write(t => Exec(t, "UPDATE sweeps SET status = $status, ended_at = $now, error = $error WHERE id = $id",
            ("$status", status), ("$now", Now()), ("$error", error), ("$id", sweepId)));
}
