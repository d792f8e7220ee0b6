using System.Diagnostics;
using Experiments.Core;
using Experiments.Sweeps.Pruners;
using Experiments.Sweeps.Tuners;

namespace Experiments.Sweeps;

/// <summary>How a sweep runs: its space and objective, budgets, per-trial limits, parallelism and pruning.</summary>
public sealed record SweepSettings
{
    public string Name { get; init; } = "sweep";
    public required SearchSpace Space { get; init; }
    public required SweepObjective Objective { get; init; }
    /// <summary>Seeds the trials (trial n gets Seeds.Mix(Seed, n)); the tuner has its own seed.</summary>
    public int Seed { get; init; }
    /// <summary>Stop after this many trials in all (a resumed sweep counts the stored ones).</summary>
    public int? MaxTrials { get; init; }
    /// <summary>Stop after this much time in this session; trials still running then are cancelled (and run again on resume).</summary>
    public TimeSpan? WallTime { get; init; }
    /// <summary>Trials at once; null: <see cref="DefaultParallelism"/> of <see cref="ThreadsPerTrial"/>.</summary>
    public int? Parallelism { get; init; }
    /// <summary>Threads one trial uses (e.g. LightGBM's), so that trials × threads do not oversubscribe the cores.</summary>
    public int ThreadsPerTrial { get; init; } = 1;
    public TimeSpan? TrialTimeout { get; init; }
    /// <summary>How long a cancelled trial may take to stop before it is recorded and left behind.</summary>
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(10);
    public long? TrialMemoryLimitBytes { get; init; }
    public IPruner? Pruner { get; init; }
    /// <summary>
    /// A trial's cost from its parameters (e.g. rows × rounds), known before it runs, so it holds for every trial
    /// however it ends — completed, pruned, failed, timed out — and cost-aware tuners (ECI) propose the same for a seed.
    /// Null: the objective's reported cost, else the measured seconds (which vary run to run).
    /// </summary>
    public Func<ParameterSet, double>? Cost { get; init; }
    /// <summary>When this many trials have finished and every one failed, the sweep stops with an error.</summary>
    public int StopAfterFailures { get; init; } = 5;
    public ISweepObserver? Observer { get; init; }
    /// <summary>The experiment run this sweep belongs to, if any.</summary>
    public long? RunId { get; init; }

    public int EffectiveParallelism => Parallelism ?? DefaultParallelism(ThreadsPerTrial);

    /// <summary>The cores divided by the threads one trial uses, at least 1.</summary>
    public static int DefaultParallelism(int threadsPerTrial) => Math.Max(1, Environment.ProcessorCount / Math.Max(1, threadsPerTrial));
}

/// <summary>Progress of a sweep, as trials start and finish (called from worker threads).</summary>
public interface ISweepObserver
{
    void TrialStarted(int number, ParameterSet parameters) { }
    void TrialFinished(TrialResult result, TrialResult? best) { }
}

public enum SweepStop { TrialBudget, WallTime, Exhausted, Cancelled }

/// <summary>
/// The local sweep driver. Trials run in parallel; the tuner proposes trial n knowing exactly the results of trials
/// 0 … n − p (p = parallelism) and the parameters of the p − 1 trials between, which it must wait for if they are
/// still running. So the proposals depend on the seed and p only, never on which trial happens to finish first, and
/// a resumed sweep replays its stored results into the tuner and proposes exactly what an uninterrupted one would.
/// Every trial is written to the storage as it starts and as it ends.
/// </summary>
public sealed class SweepRunner(ISweepStorage storage)
{
    public SweepResult Run(SweepSettings settings, ITuner tuner, TrialObjective objective, CancellationToken cancel = default) =>
        RunAsync(settings, tuner, new InProcessExecutor(objective), cancel).GetAwaiter().GetResult();

    public async Task<SweepResult> RunAsync(SweepSettings settings, ITuner tuner, ITrialExecutor executor, CancellationToken cancel = default)
    {
        Validate(settings, executor.IsolatesMemory);
        var id = storage.CreateSweep(Start(settings, tuner));
        return await Drive(id, settings, tuner, executor, new Dictionary<int, TrialResult>(), cancel).ConfigureAwait(false);
    }

    public SweepResult Resume(long sweepId, SweepSettings settings, ITuner tuner, TrialObjective objective, CancellationToken cancel = default) =>
        ResumeAsync(sweepId, settings, tuner, new InProcessExecutor(objective), cancel).GetAwaiter().GetResult();

    /// <summary>
    /// Continues a stopped or killed sweep: the same space, tuner, pruner, objective, seed and parallelism are required
    /// (parallelism left unset takes the stored one). A sweep marked running on another machine of a shared store is
    /// refused unless <paramref name="takeOver"/>.
    /// </summary>
    public async Task<SweepResult> ResumeAsync(long sweepId, SweepSettings settings, ITuner tuner, ITrialExecutor executor, CancellationToken cancel = default, bool takeOver = false)
    {
        var (resumed, stored) = CheckResumable(sweepId, settings, tuner);
        Validate(resumed, executor.IsolatesMemory);
        // Only a sweep that can be resumed is marked running in this process (a refused one stays as it was).
        storage.ResumeSweep(sweepId, takeOver);
        return await Drive(sweepId, resumed, tuner, executor, stored, cancel).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks, touching nothing, that stored sweep <paramref name="sweepId"/> can go on with these settings; returns them
    /// (with the stored parallelism where none is set: proposals depend on it) and its finished trials, conformed to the space.
    /// </summary>
    public (SweepSettings Settings, Dictionary<int, TrialResult> Finished) CheckResumable(long sweepId, SweepSettings settings, ITuner tuner)
    {
        var record = storage.GetSweep(sweepId);
        if (settings.Parallelism is null) settings = settings with { Parallelism = record.Parallelism };
        var now = Start(settings, tuner);
        var differences = new List<string>();
        void Compare(string what, object? before, object? after)
        {
            if (!Equals(before, after)) differences.Add($"its {what} was {before ?? "none"}, now {after ?? "none"}");
        }
        Compare("space", record.Space, now.Space);
        Compare("tuner", record.Tuner, now.Tuner);
        Compare("pruner", record.Pruner, now.Pruner);
        Compare("objective", record.Objective, now.Objective);
        Compare("seed", record.Seed, now.Seed);
        Compare("parallelism", record.Parallelism, now.Parallelism);
        if (differences.Count > 0)
            throw new ExperimentsException($"Sweep {sweepId} ('{record.Name}') cannot be resumed with these settings: {string.Join("; ", differences)}. Resume it as it was, or start a new sweep.");
        var stored = new Dictionary<int, TrialResult>();
        foreach (var trial in storage.GetTrials(sweepId).Where(t => t.Status.IsFinal()))
        {
            var parameters = settings.Space.Conform(trial.Parameters)
                ?? throw new ExperimentsException($"Sweep {sweepId}'s trial {trial.Number} has parameters ({trial.Parameters}) that do not fit the space.");
            stored[trial.Number] = trial with { Parameters = parameters };
        }
        return (settings, stored);
    }

    private static SweepStart Start(SweepSettings settings, ITuner tuner) =>
        new(settings.Name, SpaceJson.Write(settings.Space), tuner.Description, settings.Pruner?.Description, settings.Objective, settings.Seed, settings.EffectiveParallelism, settings.RunId, settings.MaxTrials);

    /// <summary>
    /// Refuses settings no sweep can run with (for an executor whose trials each have a process of their own when
    /// <paramref name="isolatesMemory"/>); callers that record something before the sweep starts check them first.
    /// </summary>
    public static void Validate(SweepSettings settings, bool isolatesMemory)
    {
        if (settings.EffectiveParallelism < 1) throw new ExperimentsException($"A sweep runs at least 1 trial at a time, not {settings.EffectiveParallelism}.");
        if (settings.MaxTrials is < 1) throw new ExperimentsException($"The trial budget must be at least 1, not {settings.MaxTrials}.");
        if (settings.WallTime is { } w && w <= TimeSpan.Zero) throw new ExperimentsException($"The wall-time budget must be positive, not {w}.");
        if (settings.TrialTimeout is { } t && t <= TimeSpan.Zero) throw new ExperimentsException($"The per-trial time limit must be positive, not {t}.");
        if (settings.TrialMemoryLimitBytes is { } m && m <= 0) throw new ExperimentsException($"The per-trial memory limit must be positive, not {m} bytes.");
        if (settings.TrialMemoryLimitBytes is not null && !isolatesMemory && settings.EffectiveParallelism > 1)
            throw new ExperimentsException($"A per-trial memory limit with {settings.EffectiveParallelism} trials at once needs each trial in its own process (ProcessTrialExecutor): trials in one process share its memory. Run one trial at a time, or use the process executor.");
    }

    private async Task<SweepResult> Drive(long sweepId, SweepSettings settings, ITuner tuner, ITrialExecutor executor, Dictionary<int, TrialResult> stored, CancellationToken cancel)
    {
        var p = settings.EffectiveParallelism;
        var clock = Stopwatch.StartNew();
        var results = new List<TrialResult?>();
        var proposals = new List<ParameterSet>();
        var running = new Dictionary<int, Task<TrialResult>>();
        var gate = new object();
        TrialResult? best = null;
        var told = 0;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        if (settings.WallTime is { } wall) budget.CancelAfter(wall);
        SweepStop stop;
        string? failure = null;

        void Finished(TrialResult result)
        {
            lock (gate)
            {
                if (result.Status == TrialStatus.Completed && result.HasLoss && (best is null || result.Loss < best.Loss)) best = result;
                settings.Observer?.TrialFinished(result, best);
            }
        }

        async Task Harvest(bool wait)
        {
            if (running.Count == 0) return;
            if (wait)
            {
                var stopped = new TaskCompletionSource();
                using (budget.Token.Register(() => stopped.TrySetResult()))
                    await Task.WhenAny(running.Values.Cast<Task>().Append(stopped.Task)).ConfigureAwait(false);
            }
            foreach (var (n, task) in running.Where(r => r.Value.IsCompleted).ToList())
            {
                results[n] = await task.ConfigureAwait(false);
                running.Remove(n);
            }
        }

        var number = 0;
        stop = SweepStop.Cancelled;
        try
        {
            while (true)
            {
                await Harvest(wait: false).ConfigureAwait(false);
                if (settings.MaxTrials is { } max && number >= max) { stop = SweepStop.TrialBudget; break; }
                if (settings.Space.Encoding.Count == 0 && number >= 1) { stop = SweepStop.Exhausted; break; }
                // The proposal for trial `number` is made knowing exactly trials 0 … number − p.
                while (Enumerable.Range(0, Math.Max(0, number - p + 1)).Any(k => results[k] is null) && !budget.IsCancellationRequested)
                    await Harvest(wait: true).ConfigureAwait(false);
                if (AllFailing(results, settings.StopAfterFailures) is { } message) { failure = message; stop = SweepStop.Cancelled; break; }
                if (budget.IsCancellationRequested) { stop = cancel.IsCancellationRequested ? SweepStop.Cancelled : SweepStop.WallTime; break; }
                for (; told <= number - p; told++) tuner.Update(results[told]!);
                var history = new SweepHistory(number, results.Take(told).Select(r => r!).ToList(), proposals.Skip(told).ToList());
                var proposed = tuner.Propose(history);
                if (proposed is null) { stop = SweepStop.Exhausted; break; }
                var parameters = settings.Space.Conform(proposed)
                    ?? throw new InvalidOperationException($"The tuner {tuner.Description} proposed parameters outside the space: {proposed}.");
                proposals.Add(parameters);
                results.Add(null);
                if (stored.TryGetValue(number, out var replay))
                {
                    if (!replay.Parameters.Equals(parameters))
                        throw new ExperimentsException($"Resuming sweep {sweepId}: trial {number} was stored with {replay.Parameters} but the tuner now proposes {parameters}; the sweep's code or settings changed since it ran.");
                    results[number] = replay;
                    Finished(replay);
                }
                else
                {
                    var reference = results.Take(told).Select(r => r!).ToList();
                    running[number] = RunTrial(sweepId, number, parameters, reference, settings, executor, budget.Token, Finished);
                }
                number++;
            }
            if (failure is not null) budget.Cancel();
            // The last trials still running: a failure while they end (a store write) fails the sweep like one above.
            while (running.Count > 0)
            {
                await Task.WhenAny(running.Values).ConfigureAwait(false);
                await Harvest(wait: false).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            // Not a trial's failure (those are recorded) but the sweep's: stop the others, keep what finished, say why.
            budget.Cancel();
            try { await Task.WhenAll(running.Values).ConfigureAwait(false); } catch (Exception) { /* their results are stored as they end */ }
            storage.FinishSweep(sweepId, "failed", e.Message);
            throw;
        }
        var trials = results.Where(r => r is not null).Select(r => r!).ToList();
        failure ??= trials.Count > 0 && trials.All(t => t.Status is TrialStatus.Failed or TrialStatus.TimedOut or TrialStatus.OutOfMemory) ? FailureMessage(trials) : null;
        if (failure is not null)
        {
            storage.FinishSweep(sweepId, "failed", failure);
            throw new ExperimentsException($"Sweep {sweepId} ('{settings.Name}'): {failure}");
        }
        storage.FinishSweep(sweepId, stop == SweepStop.Cancelled ? "cancelled" : "finished", null);
        return new SweepResult(sweepId, stop, settings.Space, settings.Objective, trials, clock.Elapsed);
    }

    private static string? AllFailing(List<TrialResult?> results, int threshold)
    {
        var finished = results.Where(r => r is not null && r.Status != TrialStatus.Cancelled).Select(r => r!).ToList();
        return finished.Count >= threshold && finished.All(t => t.Status is TrialStatus.Failed or TrialStatus.TimedOut or TrialStatus.OutOfMemory)
            ? FailureMessage(finished)
            : null;
    }

    private static string FailureMessage(IReadOnlyList<TrialResult> failed) =>
        $"all {failed.Count} trials failed, so the sweep stopped; the first: " +
        string.Join("; ", failed.Take(3).Select(t => $"trial {t.Number} ({t.Parameters}) {t.Status.Name()}: {(t.ErrorType is null ? "" : t.ErrorType + ": ")}{t.Error}"));

    private async Task<TrialResult> RunTrial(long sweepId, int number, ParameterSet parameters, IReadOnlyList<TrialResult> reference, SweepSettings settings,
        ITrialExecutor executor, CancellationToken cancel, Action<TrialResult> finished)
    {
        var seed = Seeds.Mix(settings.Seed, number);
        var started = DateTime.UtcNow;
        storage.TrialStarted(sweepId, number, seed, parameters);
        settings.Observer?.TrialStarted(number, parameters);
        var objective = settings.Objective;
        var intermediate = new List<IntermediateValue>();
        bool Report(long step, double value)
        {
            List<IntermediateValue> losses;
            lock (intermediate)
            {
                intermediate.Add(new IntermediateValue(step, value));
                losses = intermediate.Select(v => v with { Value = objective.Loss(v.Value) }).ToList();
            }
            return settings.Pruner?.ShouldPrune(new PruningContext(number, losses, reference, objective, parameters)) ?? false;
        }
        var clock = Stopwatch.StartNew();
        // Let the driver loop go on proposing while this trial starts.
        await Task.Yield();
        TrialExecution execution;
        try
        {
            execution = await executor.ExecuteAsync(new TrialRequest(number, parameters, seed, new TrialLimits(settings.TrialTimeout, settings.GracePeriod, settings.TrialMemoryLimitBytes)),
                Report, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ExperimentsException)
        {
            execution = new TrialExecution(TrialStatus.Failed, TrialExecution.NoMetrics, null, null, e.GetType().Name, e.Message);
        }
        var seconds = clock.Elapsed.TotalSeconds;
        List<IntermediateValue> values;
        lock (intermediate) values = intermediate.ToList();

        var status = execution.Status;
        var (errorType, error) = (execution.ErrorType, execution.Error);
        double? value = null;
        if (status is TrialStatus.Completed or TrialStatus.Pruned && execution.Metrics.TryGetValue(objective.Metric, out var metric)) value = metric.Value;
        else if (status == TrialStatus.Pruned && values.Count > 0) value = values[^1].Value;
        if (status == TrialStatus.Completed && value is null)
        {
            status = TrialStatus.Failed;
            errorType = "MissingObjective";
            error = $"the objective returned no '{objective.Metric}'" + (execution.Metrics.Count == 0 ? "" : $"; it returned {string.Join(", ", execution.Metrics.Keys)}");
        }
        else if (status == TrialStatus.Completed && double.IsNaN(value!.Value))
        {
            status = TrialStatus.Failed;
            errorType = "NaNObjective";
            error = $"the objective's '{objective.Metric}' is NaN";
        }
        var result = new TrialResult
        {
            Number = number, Parameters = parameters, Seed = seed, Status = status, Value = value, Loss = value is { } v ? objective.Loss(v) : null,
            Metrics = execution.Metrics, Intermediate = values, Seconds = seconds, Cost = settings.Cost?.Invoke(parameters) ?? execution.Cost ?? seconds, PeakMemoryBytes = execution.PeakMemoryBytes,
            ErrorType = errorType, Error = error, StartedAt = started, EndedAt = DateTime.UtcNow,
        };
        storage.TrialFinished(sweepId, result);
        finished(result);
        return result;
    }
}
