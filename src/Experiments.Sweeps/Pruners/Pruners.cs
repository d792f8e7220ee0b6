using Experiments.Core;

namespace Experiments.Sweeps.Pruners;

/// <summary>
/// What a pruner sees when trial <see cref="Number"/> reports: its own values so far (in minimisation form, in the
/// order reported) and the trials it is compared with — those whose results were known when it was proposed (trials
/// 0 … n − parallelism). Fixing the comparison set at proposal time makes pruning, like proposing, independent of
/// the order in which parallel trials happen to finish; with one trial at a time it is every earlier trial, as in Optuna.
/// <see cref="Parameters"/> are the trial's own (null where the caller has none to give).
/// </summary>
public sealed record PruningContext(int Number, IReadOnlyList<IntermediateValue> Values, IReadOnlyList<TrialResult> Reference, SweepObjective Objective, ParameterSet? Parameters = null)
{
    public long Step => Values[^1].Step;

    /// <summary>A reference trial's intermediate values in minimisation form.</summary>
    public IEnumerable<IntermediateValue> LossesOf(TrialResult trial) => trial.Intermediate.Select(v => v with { Value = Objective.Loss(v.Value) });
}

/// <summary>Decides from intermediate values whether a trial should stop early. Pruners keep no state: a decision depends only on its context.</summary>
public interface IPruner
{
    string Description { get; }
    bool ShouldPrune(PruningContext context);
}

/// <summary>
/// Compares a trial only with the trials that share its value of a choice: the model of a sweep over several models,
/// whose steps (ALS sweeps, BPR epochs, boosting rounds) and values at a step mean different things per model — an
/// ALS trial's NDCG after 2 sweeps is no yardstick for a BPR trial after 2 epochs. The inner pruner's rules (start-up
/// trials, rungs, brackets) then hold per value. A trial without the choice is compared with every trial.
/// </summary>
public sealed class PerChoicePruner(IPruner inner, string choice) : IPruner
{
    public string Description => $"{inner.Description} per {choice}";

    public bool ShouldPrune(PruningContext context)
    {
        if (context.Parameters is null || !context.Parameters.TryGetValue(choice, out var value)) return inner.ShouldPrune(context);
        bool Same(TrialResult t) => t.Parameters.TryGetValue(choice, out var other) && ParameterValue.Same(other, value);
        return inner.ShouldPrune(context with { Reference = context.Reference.Where(Same).ToList() });
    }
}

/// <summary>
/// Optuna's PercentilePruner: prune when the trial's best value so far is worse than the given percentile of the
/// completed trials' values at the same step. No pruning before <see cref="StartupTrials"/> trials have completed,
/// before step <see cref="WarmupSteps"/>, between checks <see cref="IntervalSteps"/> apart, or when fewer than
/// <see cref="MinTrials"/> completed trials reported at this step.
/// </summary>
public class PercentilePruner : IPruner
{
    public PercentilePruner(double percentile, int startupTrials = 5, long warmupSteps = 0, long intervalSteps = 1, int minTrials = 1)
    {
        if (percentile is < 0 or > 100) throw new ExperimentsException($"A pruning percentile must be between 0 and 100, not {percentile}.");
        if (startupTrials < 0 || warmupSteps < 0) throw new ExperimentsException("Start-up trials and warm-up steps cannot be negative.");
        if (intervalSteps < 1 || minTrials < 1) throw new ExperimentsException("The pruning interval and the minimum number of trials must be at least 1.");
        Percentile = percentile;
        StartupTrials = startupTrials;
        WarmupSteps = warmupSteps;
        IntervalSteps = intervalSteps;
        MinTrials = minTrials;
    }

    public double Percentile { get; }
    public int StartupTrials { get; }
    public long WarmupSteps { get; }
    public long IntervalSteps { get; }
    public int MinTrials { get; }

    public virtual string Description => $"percentile({Percentile}, startup={StartupTrials}, warmup={WarmupSteps}, interval={IntervalSteps}, min={MinTrials})";

    public bool ShouldPrune(PruningContext context)
    {
        var completed = context.Reference.Where(t => t.Status == TrialStatus.Completed).ToList();
        if (completed.Count == 0 || completed.Count < StartupTrials) return false;
        var step = context.Step;
        if (step < WarmupSteps || !FirstInInterval(step, context.Values)) return false;
        var best = context.Values.Select(v => v.Value).Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Min();
        if (double.IsNaN(best)) return true;
        var atStep = completed.SelectMany(t => context.LossesOf(t).Where(v => v.Step == step).Take(1)).Select(v => v.Value).Where(v => !double.IsNaN(v)).ToList();
        if (atStep.Count < MinTrials) return false;
        return best > Quantiles.Of(atStep, Percentile / 100);
    }

    /// <summary>Optuna's _is_first_in_interval_step: the previous report came before the latest checkpoint.</summary>
    private bool FirstInInterval(long step, IReadOnlyList<IntermediateValue> values)
    {
        var checkpoint = (step - WarmupSteps) / IntervalSteps * IntervalSteps + WarmupSteps;
        var previous = values.Select(v => v.Step).Where(s => s != step).DefaultIfEmpty(-1).Max();
        return previous < checkpoint;
    }
}

/// <summary>Optuna's MedianPruner: the 50th percentile.</summary>
public sealed class MedianPruner(int startupTrials = 5, long warmupSteps = 0, long intervalSteps = 1, int minTrials = 1)
    : PercentilePruner(50, startupTrials, warmupSteps, intervalSteps, minTrials)
{
    public override string Description => $"median(startup={StartupTrials}, warmup={WarmupSteps}, interval={IntervalSteps}, min={MinTrials})";
}

/// <summary>
/// Asynchronous successive halving (ASHA, Li et al. 2020), as Optuna's SuccessiveHalvingPruner: rung k sits at step
/// r·η^(s+k) (minimum resource r, reduction factor η, minimum early-stopping rate s). A trial reaching a rung is
/// compared with every value recorded at that rung (its own included) and continues only if it is among the best
/// ⌊n/η⌋ (the best one while fewer than η have been there). A trial's value at a rung is its first reported value at
/// or past the rung's step. Without a minimum resource it is the largest last step of the completed trials / 100.
/// </summary>
public sealed class SuccessiveHalvingPruner : IPruner
{
    public SuccessiveHalvingPruner(long? minResource = null, int reductionFactor = 4, int minEarlyStoppingRate = 0, int bootstrapCount = 0)
    {
        if (minResource is < 1) throw new ExperimentsException($"The minimum resource must be at least 1, not {minResource}.");
        if (reductionFactor < 2) throw new ExperimentsException($"The reduction factor must be at least 2, not {reductionFactor}.");
        if (minEarlyStoppingRate < 0 || bootstrapCount < 0) throw new ExperimentsException("The minimum early-stopping rate and the bootstrap count cannot be negative.");
        MinResource = minResource;
        ReductionFactor = reductionFactor;
        MinEarlyStoppingRate = minEarlyStoppingRate;
        BootstrapCount = bootstrapCount;
    }

    public long? MinResource { get; }
    public int ReductionFactor { get; }
    public int MinEarlyStoppingRate { get; }
    public int BootstrapCount { get; }

    public string Description => $"asha(min={(MinResource is { } m ? m.ToString() : "auto")}, eta={ReductionFactor}, rate={MinEarlyStoppingRate}, bootstrap={BootstrapCount})";

    public bool ShouldPrune(PruningContext context)
    {
        var resource = MinResource ?? AutoMinResource(context.Reference);
        if (resource is not { } r) return false;
        var step = context.Step;
        var value = context.Values[^1].Value;
        var previous = context.Values.Count > 1 ? context.Values[^2].Step : -1;
        // The rungs this trial passed at earlier reports.
        var rung = 0;
        while (RungStep(r, rung) <= previous) rung++;
        while (true)
        {
            var rungStep = RungStep(r, rung);
            if (step < rungStep) return false;
            if (double.IsNaN(value)) return true;
            var competing = context.Reference.Select(t => RungValue(context, t, rungStep)).OfType<double>().Append(value).ToList();
            if (competing.Count <= BootstrapCount) return true;
            if (!Promotable(value, competing)) return true;
            rung++;
        }
    }

    private long RungStep(long minResource, int rung) => minResource * (long)Math.Pow(ReductionFactor, MinEarlyStoppingRate + rung);

    private static double? RungValue(PruningContext context, TrialResult trial, long rungStep)
    {
        foreach (var v in context.LossesOf(trial))
            if (v.Step >= rungStep) return v.Value;
        return null;
    }

    private bool Promotable(double value, List<double> competing)
    {
        var index = competing.Count / ReductionFactor - 1;
        if (index < 0) index = 0;
        competing.Sort();
        return value <= competing[index];
    }

    internal static long? AutoMinResource(IReadOnlyList<TrialResult> reference)
    {
        var lastSteps = reference.Where(t => t.Status == TrialStatus.Completed && t.Intermediate.Count > 0).Select(t => t.Intermediate[^1].Step).ToList();
        return lastSteps.Count == 0 ? null : Math.Max(lastSteps.Max() / 100, 1);
    }
}

/// <summary>
/// Hyperband (Li et al. 2018) over ASHA, as Optuna's HyperbandPruner: ⌊log_η(R/r)⌋ + 1 brackets, bracket b being
/// successive halving with minimum early-stopping rate b, each trial assigned to a bracket by a seeded hash of its
/// number, weighted by the brackets' budgets ⌈B·η^s/(s+1)⌉; a trial is compared only with trials of its bracket.
/// The maximum resource R must be given (an estimate from finished trials would depend on their timing).
/// </summary>
public sealed class HyperbandPruner : IPruner
{
    private readonly SuccessiveHalvingPruner[] _brackets;
    private readonly long[] _budgets;
    private readonly int _seed;

    public HyperbandPruner(long maxResource, long minResource = 1, int reductionFactor = 3, int bootstrapCount = 0, int seed = 0)
    {
        if (minResource < 1 || maxResource < minResource) throw new ExperimentsException($"Hyperband needs 1 ≤ minimum resource ≤ maximum resource; they are {minResource} and {maxResource}.");
        if (reductionFactor < 2) throw new ExperimentsException($"The reduction factor must be at least 2, not {reductionFactor}.");
        MaxResource = maxResource;
        MinResource = minResource;
        ReductionFactor = reductionFactor;
        _seed = seed;
        var count = (int)Math.Floor(Math.Log((double)maxResource / minResource, reductionFactor) + 1e-9) + 1;
        _brackets = Enumerable.Range(0, count).Select(b => new SuccessiveHalvingPruner(minResource, reductionFactor, b, bootstrapCount)).ToArray();
        _budgets = Enumerable.Range(0, count).Select(b =>
        {
            var s = count - 1 - b;
            return (long)Math.Ceiling(count * Math.Pow(reductionFactor, s) / (s + 1));
        }).ToArray();
    }

    public long MaxResource { get; }
    public long MinResource { get; }
    public int ReductionFactor { get; }
    public int Brackets => _brackets.Length;
    public IReadOnlyList<long> Budgets => _budgets;

    public string Description => $"hyperband(min={MinResource}, max={MaxResource}, eta={ReductionFactor}, brackets={Brackets}, seed={_seed})";

    public int BracketOf(int trialNumber)
    {
        var n = Seeds.Mix(_seed, trialNumber) % _budgets.Sum();
        for (var b = 0; b < _budgets.Length; b++)
        {
            n -= _budgets[b];
            if (n < 0) return b;
        }
        return _budgets.Length - 1;
    }

    public bool ShouldPrune(PruningContext context)
    {
        var bracket = BracketOf(context.Number);
        return _brackets[bracket].ShouldPrune(context with { Reference = context.Reference.Where(t => BracketOf(t.Number) == bracket).ToList() });
    }
}
