using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Store;
using Experiments.Sweeps;
using Experiments.Sweeps.Pruners;
using Experiments.Sweeps.Tuners;
using SweepTrial = Experiments.Sweeps.TrialResult;

namespace Experiments.Runs;

/// <summary>Options of one sweep that are not part of its definition.</summary>
public sealed record SweepRunOptions
{
    /// <summary>Continue this stored sweep (stopped or killed) instead of starting one.</summary>
    public long? Resume { get; init; }
    /// <summary>Resume a sweep that a shared store marks running on another machine (whose process this one cannot see).</summary>
    public bool TakeOver { get; init; }
    /// <summary>Overrides the sweep block's parallelism.</summary>
    public int? Parallelism { get; init; }
    /// <summary>Overrides the sweep block's trial budget.</summary>
    public int? Trials { get; init; }
    /// <summary>Overrides the sweep block's tuner (e.g. to compare tuners on one definition).</summary>
    public string? Tuner { get; init; }
    /// <summary>Overrides the sweep block's seed.</summary>
    public int? Seed { get; init; }
    /// <summary>Trials as they start and finish (called from worker threads).</summary>
    public ISweepObserver? Progress { get; init; }
    /// <summary>Called with the sweep's id once it is created (or resumed), before the first trial.</summary>
    public Action<long>? Started { get; init; }
    /// <summary>
    /// Runs the trials elsewhere (the cluster's workers): given the payload of a <see cref="RemoteWork.SweepTrialObjective"/>,
    /// the executor that runs them. Null: in this process. The tuner, the store and the refit stay here either way.
    /// </summary>
    public Func<string, ITrialExecutor>? Remote { get; init; }
    /// <summary>
    /// How to start a trial in a process of its own (<c>experiments sweep</c> gives itself). With it, a sweep with a
    /// per-trial memory limit runs every trial in a child process, killed past the limit, at any parallelism; without
    /// it, such a sweep runs one trial at a time in this process, the limit checked on its growth and cooperative.
    /// </summary>
    public TrialProcess? TrialProcess { get; init; }
}

/// <summary>
/// How a sweep ended: the run that holds the refit (a normal run of the store), the sweep and its trials, and the refit
/// of the best configuration on training + validation evaluated on the test part (null when the sweep was stopped
/// before it finished, or no trial completed).
/// </summary>
public sealed record SweepOutcome(long RunId, SweepResult Sweep, TrialResult? Refit, RunStatus Status, IReadOnlyList<string> Reports, string? ReportError);

public sealed partial class ExperimentRunner
{
    /// <summary>Models whose trainers use every core by default (their "threads" parameter, where they have one, at 0).</summary>
    private static readonly HashSet<string> AllCores = ["matrix-factorization", "bayesian-mf", "implicit-als", "ease", "lightgbm", "fasttree", "dense", "hybrid", "reranker", "intent-encoder"];

    /// <summary>
    /// Tunes the definition's models as its "sweep" block says: each trial fits a configuration on the training part
    /// and is scored on the validation part (or by k-fold over training + validation), recorded in the store's sweep
    /// tables as it ends; then the best configuration is refitted on training + validation and evaluated on the test
    /// part — the only time the test part is used — and saved as the run's trial, with intervals and report.
    /// </summary>
    public SweepOutcome Sweep(ExperimentDefinition definition, RunOptions? options = null, SweepRunOptions? sweepOptions = null, CancellationToken cancel = default)
    {
        var spec = definition.Sweep ?? throw new ExperimentsException($"Experiment '{definition.Name}' has no \"sweep\" block; add one to tune its models (see docs/sweeps.md), or use `experiments run`.");
        var storage = store as ISweepStorage ?? throw new ExperimentsException($"The store {store.Location} cannot hold sweeps.");
        options ??= new RunOptions();
        sweepOptions ??= new SweepRunOptions();
        spec = spec with { Tuner = sweepOptions.Tuner ?? spec.Tuner, Seed = sweepOptions.Seed ?? spec.Seed };
        var catalog = Platform.Vocabulary.Models;
        var space = SweepSpaces.For(definition, catalog);
        var metric = spec.MetricOf(definition.Metrics).ToString();
        var seed = spec.Seed ?? definition.Seed;
        var severalModels = SweepSpaces.Swept(definition).Count > 1;
        var settings = new SweepSettings
        {
            Name = definition.Name, Space = space, Seed = seed,
            Objective = new SweepObjective(metric, spec.Maximizes(definition.Metrics) ? Direction.Maximize : Direction.Minimize),
            MaxTrials = sweepOptions.Trials ?? spec.Trials,
            WallTime = spec.WallTimeSeconds is { } wall ? TimeSpan.FromSeconds(wall) : null,
            TrialTimeout = spec.TrialTimeoutSeconds is { } timeout ? TimeSpan.FromSeconds(timeout) : null,
            TrialMemoryLimitBytes = spec.TrialMemoryMegabytes * 1024 * 1024,
            // Trials in one process share its memory: a memory limit without child processes holds for one trial at a time.
            Parallelism = sweepOptions.Parallelism ?? spec.Parallelism ?? (spec.TrialMemoryMegabytes is null || sweepOptions.TrialProcess is not null ? null : 1),
            ThreadsPerTrial = ThreadsPerTrial(definition),
            Observer = sweepOptions.Progress,
            Pruner = PrunerOf(spec.Pruner, seed, severalModels ? SweepSpaces.ModelChoice : null),
        };
        // Several models: the sweep chooses among them by estimated cost for improvement, each searched by the named tuner.
        // A resumed sweep's tuner is sized by the trial budget the sweep started with, whatever budget it goes on to.
        var tuner = TunerCatalog.Create(spec.Tuner, space, seed, new TunerOptions
        {
            TrialBudget = sweepOptions.Resume is { } resumedId ? storage.GetSweep(resumedId).TrialBudget : settings.MaxTrials,
            TrainerChoice = severalModels ? SweepSpaces.ModelChoice : null,
            Portfolio = spec.ZeroShot ? SweepSpaces.PortfolioOf(definition, space) : [],
        }.WithStartupTrials(spec.StartupTrials));

        // Settings no sweep can run with are refused before a run is started or reopened: a refused sweep leaves no run behind.
        if (settings.TrialMemoryLimitBytes is not null && sweepOptions.Remote is null && sweepOptions.TrialProcess is null && settings.EffectiveParallelism > 1)
            throw new ExperimentsException($"A per-trial memory limit with {settings.EffectiveParallelism} trials at once needs each trial in a process of its own: run it with `experiments sweep`, give SweepRunOptions.TrialProcess, or set the parallelism to 1.");
        SweepRunner.Validate(settings, isolatesMemory: sweepOptions.Remote is null && sweepOptions.TrialProcess is not null);

        var sweeper = new SweepRunner(new Announcing(storage, sweepOptions.Started));
        var (run, loaded) = sweepOptions.Resume is { } resumed ? Reopen(resumed, storage, sweeper, settings, tuner, definition, options, sweepOptions.TakeOver, cancel) : (StartRun(definition, options, cancel), null);
        RunStatus status;
        string? error = null;
        SweepResult result;
        TrialResult? refit = null;
        var disposables = new List<IDisposable>();
        try
        {
            var (task, fingerprint) = loaded is { } data ? RecordData(run, data) : OpenTask(run, options);
            // The task's splits stay open (a search split's cached components) until the refit is done.
            var splits = task.Splits().GetEnumerator();
            disposables.Add(splits);
            if (!splits.MoveNext()) throw new ExperimentsException($"Experiment '{definition.Name}' has no split to sweep on.");
            var (tuning, refitSplit) = task.ForSweep(splits.Current, spec);
            // The work estimate, not seconds, is a trial's cost, whatever its end: cost-aware tuners (ECI) then propose the same for a seed.
            settings = settings with
            {
                RunId = run.RunId,
                Cost = parameters =>
                {
                    var model = SweepSpaces.ModelOf(definition, parameters);
                    return tuning.Sum(split => SweepSpaces.WorkOf(model, split.TrainingRows, split.TrainingItems));
                },
            };
            TrialOutcome Objective(TrialContext context) => Score(run, task, tuning, SweepSpaces.ModelOf(definition, context.Parameters), context, settings.Pruner is null ? null : metric);
            // Workers and child processes check they read the data loaded here (its fingerprint also keys what a worker keeps prepared).
            var work = RemoteWork.Of(definition with { Sweep = spec }, options) with { Fingerprint = fingerprint };
            ITrialExecutor executor = sweepOptions.Remote is { } remote ? remote(work.ToJson())
                : settings.TrialMemoryLimitBytes is not null && sweepOptions.TrialProcess is { } child ? new ChildTrialExecutor(child, work)
                : new InProcessExecutor(Objective);
            if (executor is IDisposable disposable) disposables.Add(disposable);
            if (sweepOptions.Resume is { } resume) sweepOptions.Started?.Invoke(resume);
            result = (sweepOptions.Resume is { } id ? sweeper.ResumeAsync(id, settings, tuner, executor, cancel, sweepOptions.TakeOver) : sweeper.RunAsync(settings, tuner, executor, cancel)).GetAwaiter().GetResult();
            if (result.Stop == SweepStop.Cancelled || result.Best is not { } best)
                (status, error) = NotRefitted(result, settings.WallTime);
            else
            {
                run.Observer.Stage($"Refitting the best configuration (trial {best.Number}) on training + validation; testing it once");
                (refit, _) = RunTrial(run, task, SweepSpaces.ModelOf(definition, best.Parameters), refitSplit);
                run.Observer.TrialFinished(refit);
                (status, error) = refit.Status == "failed" ? (RunStatus.Failed, $"the refit of trial {best.Number} failed: {refit.Error}") : (RunStatus.Finished, null);
            }
        }
        catch (Exception) when (cancel.IsCancellationRequested)
        {
            // Stopped before the sweep began (loading, splitting) or during the refit: the run ends cancelled.
            store.FinishRun(run.RunId, RunStatus.Cancelled, "Stopped by the user; finished trials are kept.");
            throw new OperationCanceledException(cancel);
        }
        catch (Exception e)
        {
            // A stopped sweep returns its result; anything else (the data, every trial failing) fails the run, kept as far as it got.
            store.FinishRun(run.RunId, RunStatus.Failed, Describe(e));
            RunReports.TryWrite(store, run.RunId, run.Observer.Warning);
            throw;
        }
        finally
        {
            foreach (var disposable in disposables) disposable.Dispose();
        }
        store.FinishRun(run.RunId, status, error);
        var (reports, reportError) = RunReports.Write(store, run.RunId);
        return new SweepOutcome(run.RunId, result, refit, status, reports, reportError);
    }

    /// <summary>
    /// Why a sweep has no refit, from how it stopped: by the user (resumable), at its wall-time budget before any trial
    /// completed (resumable), or at its end with no completed trial (every one pruned, or pruned and failed: the run fails).
    /// </summary>
    internal static (RunStatus Status, string Message) NotRefitted(SweepResult result, TimeSpan? wallTime)
    {
        var id = result.SweepId;
        var count = $"{result.FinishedCount} finished trial(s)";
        var statuses = string.Join(", ", result.Trials.GroupBy(t => t.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key.Name()}"));
        var none = result.Trials.Count == 0 ? "" : $" ({statuses})";
        var firstError = result.Trials.FirstOrDefault(t => t.Error is not null) is { } failed ? $"; trial {failed.Number}: {(failed.ErrorType is null ? "" : failed.ErrorType + ": ")}{failed.Error}" : "";
        return result.Stop switch
        {
            SweepStop.Cancelled => (RunStatus.Cancelled, $"Sweep {id} stopped by the user after {count}{InFlight(result)}; resume it with --resume {id}."),
            SweepStop.WallTime => (RunStatus.Cancelled,
                $"Sweep {id} reached its wall-time budget{(wallTime is { } w ? $" of {w.TotalSeconds:0.###} s" : "")} after {count} with none completed{none}, so there is nothing to refit; " +
                $"raise wallTimeSeconds, or resume it with --resume {id} (its trials so far are kept)."),
            _ when result.Trials.Count > 0 && result.Trials.All(t => t.Status == TrialStatus.Pruned) => (RunStatus.Failed,
                $"Sweep {id} ended after {count}, every one pruned, so there is no completed trial to refit; let the pruner see more before it stops trials (startupTrials, warmupSteps, minResource)."),
            _ => (RunStatus.Failed, $"Sweep {id} ended after {count} with none completed{none}, so there is nothing to refit{firstError}."),
        };
    }

    /// <summary>The trials a stop cancelled in flight, which a resume runs again (empty when none).</summary>
    public static string InFlight(SweepResult result) =>
        result.Trials.Count - result.FinishedCount is > 0 and var cancelled ? $" ({cancelled} in progress cancelled, run again on resume)" : "";

    /// <summary>
    /// Checks that stored sweep <paramref name="sweepId"/> can go on — its settings, a run whose refit has not ended, the
    /// data its trials were scored on — before touching anything (a refused resume leaves the sweep, its run and their
    /// messages, checks and profile as they were), then reopens the run that started it, which will hold its refit (one
    /// run, one result). Returns the run and its loaded data, to be recorded; none when the sweep had no run yet.
    /// </summary>
    private (RunScope Run, (IExperimentTask Task, Dataset Data)? Loaded) Reopen(long sweepId, ISweepStorage storage, SweepRunner sweeper, SweepSettings settings, ITuner tuner,
        ExperimentDefinition definition, RunOptions options, bool takeOver, CancellationToken cancel)
    {
        sweeper.CheckResumable(sweepId, settings, tuner);
        if (storage.GetSweep(sweepId).RunId is not { } runId) return (StartRun(definition, options, cancel), null);
        var stored = store.GetRun(runId);
        // A refit that ended is the sweep's result; one stopped (cancelled) or killed on its way is done again, the
        // stopped attempt kept in the run's history as a continued run keeps its killed trials.
        if (stored.Trials.FirstOrDefault(t => t.Status is "finished" or "failed") is { } refit)
            throw new ExperimentsException($"Sweep {sweepId} has finished: run {runId} holds the refit of its best configuration{(refit.Status == "failed" ? $", which failed ({refit.Error})" : "")}. " +
                                           "A finished sweep is not resumed; start a new sweep (with more trials: --trials).");
        // The data is loaded for the run (the scope ResumeRun gives it) before the run is reopened.
        var loaded = LoadTask(new RunScope(runId, definition, store, stored.Run.ReportFolder!, options.Observer, cancel), options, stored.Run.DataFingerprint is { } fingerprint
            ? (fingerprint, $"run {runId}'s stored trials were scored on the data it began with. Restore that data to resume it, or start a new sweep.")
            : null);
        var run = ResumeRun(runId, definition, options, cancel, takeOver: takeOver);
        // A refit left running by a process on another machine (taken over) is marked as one that died here would be.
        MarkKilled(stored.Trials, "the process refitting it ended; the sweep was resumed in another");
        return (run, loaded);
    }

    /// <summary>
    /// One trial: the configuration fitted on each tuning part (the validation split, or each fold) with the trial's
    /// seed and token, no artifacts; the metrics are those of the one part (with intervals), or the folds' means (with intervals combined from the folds', <see cref="FoldMean"/>). With a
    /// pruner (<paramref name="pruned"/>: the objective metric) and one validation part, iterative trainers report
    /// their intermediate values (folds would repeat each step).
    /// </summary>
    private static TrialOutcome Score(RunScope run, IExperimentTask task, IReadOnlyList<TaskSplit> tuning, ModelSpec model, TrialContext context, string? pruned)
    {
        var scope = new TrialScope(run with { Definition = run.Definition with { Seed = context.Seed }, Observer = SilentObserver.Instance, Cancel = context.Cancellation }, null,
            pruned is not null && tuning.Count == 1 ? new IntermediateReport(pruned, context) : null);
        var measured = tuning.Select(split => task.Measure(model, split, scope).Values).ToList();
        if (measured.Count == 1)
            return new TrialOutcome(measured[0].ToDictionary(v => new MetricName(v.Metric, v.K).ToString(), v => new TrialMetric(v.Value, v.Lower, v.Upper)));
        return new TrialOutcome(measured.SelectMany(m => m).GroupBy(v => new MetricName(v.Metric, v.K).ToString())
            .ToDictionary(g => g.Key, g => FoldMean(g.ToList())));
    }

    /// <summary>
    /// A metric over k folds: the folds' mean, and when every fold has a bootstrap interval, one for the mean of the
    /// folds' independent evaluation errors (disjoint scored rows): each side's half-width √(Σ hᵢ²) / k from the folds'
    /// half-widths on that side. Like a validation trial's interval it covers the evaluation's noise for these fitted
    /// models, not the spread of refits.
    /// </summary>
    internal static TrialMetric FoldMean(IReadOnlyList<Evaluation.MetricValue> folds)
    {
        var mean = folds.Average(v => v.Value);
        if (folds.Any(v => v.Lower is null || v.Upper is null)) return new TrialMetric(mean);
        double Side(Func<Evaluation.MetricValue, double> halfWidth) => Math.Sqrt(folds.Sum(v => halfWidth(v) * halfWidth(v))) / folds.Count;
        return new TrialMetric(mean, mean - Side(v => v.Value - v.Lower!.Value), mean + Side(v => v.Upper!.Value - v.Value));
    }

    /// <summary>
    /// The sweep block's pruner; null for none. With a model choice (several models) each model's trials are compared
    /// only with its own: their steps are not comparable across models.
    /// </summary>
    private static IPruner? PrunerOf(PrunerSpec p, int seed, string? modelChoice)
    {
        IPruner? pruner = p.Type switch
        {
            PrunerSpec.Median => new MedianPruner(p.StartupTrials, p.WarmupSteps, p.IntervalSteps, p.MinTrials),
            PrunerSpec.Asha => new SuccessiveHalvingPruner(p.MinResource, p.ReductionFactor ?? 4, p.MinEarlyStoppingRate),
            PrunerSpec.Hyperband => new HyperbandPruner(p.MaxResource!.Value, p.MinResource ?? 1, p.ReductionFactor ?? 3, seed: seed),
            _ => null,
        };
        return pruner is not null && modelChoice is not null ? new PerChoicePruner(pruner, modelChoice) : pruner;
    }

    /// <summary>Threads one trial uses: the most any model does (every core for the multi-threaded trainers unless their "threads" is fixed).</summary>
    internal static int ThreadsPerTrial(ExperimentDefinition definition) => definition.Models.Max(m =>
        m.Parameters.TryGetValue("threads", out var threads) && Convert.ToInt32(threads, System.Globalization.CultureInfo.InvariantCulture) > 0
            ? Convert.ToInt32(threads, System.Globalization.CultureInfo.InvariantCulture)
            : AllCores.Contains(m.Type) ? Environment.ProcessorCount : 1);

    /// <summary>The store, telling the caller the sweep's id as soon as it is created (so a stopped sweep can be named for --resume).</summary>
    private sealed class Announcing(ISweepStorage inner, Action<long>? created) : ISweepStorage
    {
        public string Location => inner.Location;

        public long CreateSweep(SweepStart start)
        {
            var id = inner.CreateSweep(start);
            created?.Invoke(id);
            return id;
        }

        public SweepRecord GetSweep(long sweepId) => inner.GetSweep(sweepId);
        public IReadOnlyList<SweepRecord> ListSweeps(int limit = 50) => inner.ListSweeps(limit);
        public void ResumeSweep(long sweepId, bool takeOver = false) => inner.ResumeSweep(sweepId, takeOver);
        public void TrialStarted(long sweepId, int number, int seed, ParameterSet parameters) => inner.TrialStarted(sweepId, number, seed, parameters);
        public void TrialFinished(long sweepId, SweepTrial result) => inner.TrialFinished(sweepId, result);
        public IReadOnlyList<SweepTrial> GetTrials(long sweepId) => inner.GetTrials(sweepId);
        public void FinishSweep(long sweepId, string status, string? error) => inner.FinishSweep(sweepId, status, error);
    }
}
