using Experiments.Core;

namespace Experiments.Sweeps;

/// <summary>
/// What is recorded when a sweep starts: enough to check that a resumed sweep is the same sweep, and the trial budget it
/// started with (none: a wall-time budget), which a resumed sweep's tuner is sized by.
/// </summary>
public sealed record SweepStart(string Name, string Space, string Tuner, string? Pruner, SweepObjective Objective, int Seed, int Parallelism, long? RunId = null, int? TrialBudget = null);

public sealed record SweepRecord(long Id, string Name, string Space, string Tuner, string? Pruner, SweepObjective Objective, int Seed, int Parallelism,
    string Status, DateTime CreatedAt, DateTime? EndedAt, string? Error, long? RunId, int Trials, int? TrialBudget = null);

/// <summary>
/// Where sweeps and their trials are kept (Optuna's storage idea): every trial is written when it starts and again
/// when it ends, each write committed before it returns, so a killed sweep loses only the trials that were running.
/// Trials are read back with their parameters as stored (JSON types); the driver conforms them to the space.
/// </summary>
public interface ISweepStorage
{
    string Location { get; }
    long CreateSweep(SweepStart start);
    SweepRecord GetSweep(long sweepId);
    IReadOnlyList<SweepRecord> ListSweeps(int limit = 50);
    /// <summary>
    /// Marks the sweep as running in this process (again, when resumed). A store shared by machines refuses a sweep
    /// marked running on another one unless <paramref name="takeOver"/>.
    /// </summary>
    void ResumeSweep(long sweepId, bool takeOver = false);
    void TrialStarted(long sweepId, int number, int seed, ParameterSet parameters);
    /// <summary>Replaces whatever was stored for the trial's number.</summary>
    void TrialFinished(long sweepId, TrialResult result);
    IReadOnlyList<TrialResult> GetTrials(long sweepId);
    /// <summary>status: finished, cancelled or failed.</summary>
    void FinishSweep(long sweepId, string status, string? error);
}

/// <summary>Sweeps in memory, for notebooks, tests and benchmarks.</summary>
public sealed class InMemorySweepStorage : ISweepStorage
{
    private readonly object _gate = new();
    private readonly List<(SweepRecord Record, SortedDictionary<int, TrialResult> Trials)> _sweeps = [];

    public string Location => "memory";

    public long CreateSweep(SweepStart start)
    {
        lock (_gate)
        {
            var id = _sweeps.Count + 1;
            _sweeps.Add((new SweepRecord(id, start.Name, start.Space, start.Tuner, start.Pruner, start.Objective, start.Seed, start.Parallelism,
                "running", DateTime.UtcNow, null, null, start.RunId, 0, start.TrialBudget), new SortedDictionary<int, TrialResult>()));
            return id;
        }
    }

    private (SweepRecord Record, SortedDictionary<int, TrialResult> Trials) Find(long sweepId) =>
        sweepId >= 1 && sweepId <= _sweeps.Count ? _sweeps[(int)sweepId - 1] : throw new ExperimentsException($"There is no sweep {sweepId} in memory.");

    public SweepRecord GetSweep(long sweepId)
    {
        lock (_gate)
        {
            var (record, trials) = Find(sweepId);
            return record with { Trials = trials.Count };
        }
    }

    public IReadOnlyList<SweepRecord> ListSweeps(int limit = 50)
    {
        lock (_gate) return _sweeps.Select(s => s.Record with { Trials = s.Trials.Count }).Reverse().Take(limit).ToList();
    }

    public void ResumeSweep(long sweepId, bool takeOver = false) => SetStatus(sweepId, "running", null, ended: false);

    public void TrialStarted(long sweepId, int number, int seed, ParameterSet parameters)
    {
        lock (_gate)
            Find(sweepId).Trials[number] = new TrialResult { Number = number, Parameters = parameters, Seed = seed, Status = TrialStatus.Running, StartedAt = DateTime.UtcNow };
    }

    public void TrialFinished(long sweepId, TrialResult result)
    {
        lock (_gate) Find(sweepId).Trials[result.Number] = result;
    }

    public IReadOnlyList<TrialResult> GetTrials(long sweepId)
    {
        lock (_gate) return Find(sweepId).Trials.Values.ToList();
    }

    public void FinishSweep(long sweepId, string status, string? error) => SetStatus(sweepId, status, error, ended: true);

    private void SetStatus(long sweepId, string status, string? error, bool ended)
    {
        lock (_gate)
        {
            var (record, trials) = Find(sweepId);
            _sweeps[(int)sweepId - 1] = (record with { Status = status, Error = error, EndedAt = ended ? DateTime.UtcNow : null }, trials);
        }
    }
}
