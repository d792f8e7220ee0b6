using Experiments.Core.Definitions;
using Experiments.Evaluation;
using Experiments.Store;

namespace Experiments.Runs;

/// <summary>
/// One task's part of a run — ranking and rating fit recommenders on interactions, classification fits click models
/// on a labelled table: the data cut into splits, and how one model is fitted and evaluated on one split. The runner
/// walks every task with the same trial loop (<see cref="ExperimentRunner"/>), so failures, cancellation, the store and
/// paired comparisons are handled once.
/// </summary>
internal interface IExperimentTask
{
    /// <summary>The splits in order (one, or one per fold), each made ready for its models when enumerated.</summary>
    IEnumerable<TaskSplit> Splits();

    /// <summary>Fits <paramref name="model"/> on the split's training part and evaluates it on its test part.</summary>
    TrialMeasurement Measure(ModelSpec model, TaskSplit split, TrialScope trial);

    /// <summary>
    /// What a sweep makes of one split: the parts its trials are scored on (training vs validation, or k folds of
    /// training + validation; never the test part) and the refit's split (training + validation vs test).
    /// </summary>
    (IReadOnlyList<TaskSplit> Tuning, TaskSplit Refit) ForSweep(TaskSplit split, SweepSpec sweep);
}

/// <summary>A split of a task's data; each task keeps its own rows in a subtype.</summary>
internal abstract record TaskSplit(string Name)
{
    /// <summary>The rows a model is fitted on (interactions, click rows or queries): the base of a trial's work estimate.</summary>
    public abstract long TrainingRows { get; }
    /// <summary>The items a recommender is fitted over (0 for the other tasks): what EASE's dense solve grows with.</summary>
    public virtual long TrainingItems => 0;
}

/// <summary>What a run shares with its tasks: the definition, the store, where files go, progress and cancellation.</summary>
internal sealed record RunScope(long RunId, ExperimentDefinition Definition, IRunStore Store, string ReportFolder, IRunObserver Observer, CancellationToken Cancel);

/// <summary>
/// One trial in progress: its run and its id in the store, for artifacts the task writes. A sweep's trial has no id
/// there (the sweep's own tables keep it): it is scored without per-trial artifacts. <see cref="Report"/> is a pruned
/// sweep's channel for intermediate values.
/// </summary>
internal sealed record TrialScope(RunScope Run, long? TrialId, IntermediateReport? Report = null);

/// <summary>
/// Where an iterative trainer of a sweep trial reports the sweep's objective <see cref="Metric"/> on the validation
/// part after each epoch or round; <see cref="TrialContext.ReportOrStop"/> throws when the pruner stops the trial.
/// </summary>
internal sealed record IntermediateReport(string Metric, Sweeps.TrialContext Trial)
{
    /// <summary>
    /// The steps at which a trainer that cannot be watched round by round (ML.NET's boosted trees: no per-round
    /// callback, no continued training) fits and reports: minResource·η^k (the pruner's rungs; η 3 and minResource 1
    /// where it has none), from the first step the pruner can act on, then <paramref name="total"/> itself.
    /// </summary>
    public static IReadOnlyList<int> Rungs(PrunerSpec pruner, int total)
    {
        var (first, eta) = (Math.Max(1, pruner.MinResource ?? 1), pruner.ReductionFactor ?? 3);
        var from = pruner.Type switch
        {
            PrunerSpec.Asha => first * Math.Pow(eta, pruner.MinEarlyStoppingRate),
            PrunerSpec.Median => Math.Max(1, pruner.WarmupSteps),
            _ => 1,
        };
        var rungs = new List<int>();
        for (double step = first; step < total; step *= eta)
            if (step >= from) rungs.Add((int)step);
        rungs.Add(total);
        return rungs;
    }

    /// <summary>
    /// Fits in rungs: a model fitted afresh with each rung's number of rounds (<see cref="Rungs"/> of
    /// <paramref name="total"/>), scored and reported; a pruned trial stops at its rung. Returns the last rung's model,
    /// the configuration's own fit (identical to an unpruned trial's).
    /// </summary>
    public T FitInRungs<T>(PrunerSpec pruner, int total, Func<int, T> fit, Func<T, double> score)
    {
        var fitted = default(T)!;
        foreach (var rounds in Rungs(pruner, total))
        {
            fitted = fit(rounds);
            Trial.ReportOrStop(rounds, score(fitted));
        }
        return fitted;
    }
}

/// <summary>
/// What a trial measured: timings, the metric values on the test part, the protocol that produced them, each unit's
/// values (users or rows, for paired tests between models), extra values recorded beside the metrics, the curves
/// the report draws, and facts of the fitted model that its parameters do not say (stored with the trial).
/// </summary>
internal sealed record TrialMeasurement(double FitSeconds, double EvaluateSeconds, IReadOnlyList<MetricValue> Values, string Protocol,
    UserValuesRecord? Units, IReadOnlyList<MetricValue> Extra, IReadOnlyList<CurveRecord>? Curves = null, IReadOnlyDictionary<string, string>? Facts = null);
