using Experiments.Core;

namespace Experiments.Sweeps.Tuners;

/// <summary>
/// Chooses among the values of a choice — typically the trainer — by FLAML's estimated cost for improvement (ECI),
/// each value searched by its own tuner over its own sub-space. Per value: ECI = max(cost since its best, cost between
/// its last two bests); when its best trails the overall best, at least twice the gap over its speed of improvement;
/// untried values get the cheapest first trial's cost times their relative cost; a value whose trials have all failed
/// (failed, timed out, out of memory) gets the largest estimate of the others (or its own spending, if larger) times
/// one plus its failures, so cheap failures do not draw the budget. A pruned trial counts with its value when stopped:
/// a loss the configuration reached on a smaller budget, so one at its end would be no worse (a value whose trials were
/// all pruned is slow, not failing). A value with no loss and no failure (its trials cancelled) counts as untried. A value is drawn with probability proportional to 1/ECI. Costs are the trials' <see cref="TrialResult.Cost"/>: the sequence is reproducible when the
/// sweep has a cost model (<see cref="SweepSettings.Cost"/>; experiment sweeps use a work estimate: training rows × what
/// scales the fit) or the objective reports its own cost; otherwise a trial costs its measured seconds, and the sequence
/// then varies with timings (a resumed sweep still replays it).
/// </summary>
public sealed class EciTuner : ITuner
{
    private readonly string _choice;
    private readonly SweepRandom _random;
    private readonly int _seed;
    private readonly List<Arm> _arms;

    /// <param name="inner">The tuner for one value's sub-space (default: BlendSearch, FLAML's choice).</param>
    /// <param name="relativeCost">Per value, how costly a first trial is relative to the others (default 1), to order untried values.</param>
    public EciTuner(SearchSpace space, string choice, int seed, Func<SearchSpace, int, ITuner>? inner = null, IReadOnlyDictionary<string, double>? relativeCost = null)
    {
        if (space.Find(choice) is not ChoiceParameter parameter || parameter.When is not null)
            throw new ExperimentsException($"Choosing by estimated cost for improvement needs a top-level choice; '{choice}' is not one of the space's ({string.Join(", ", space.Parameters.OfType<ChoiceParameter>().Where(p => p.When is null).Select(p => p.Name))}).");
        _choice = choice;
        _seed = seed;
        _random = new SweepRandom(seed);
        inner ??= (sub, s) => new BlendSearchTuner(sub, s);
        _arms = parameter.Values.Select((value, i) => new Arm(value, inner(space.Fix(choice, value), Seeds.Mix(seed, i + 1)),
            relativeCost is not null && value is string name && relativeCost.TryGetValue(name, out var c) ? c : 1.0)).ToList();
    }

    public string Description => $"eci(choice={_choice}, per value: {string.Join("; ", _arms.Select(a => $"{ParameterValue.Format(a.Value)}={a.Tuner.Description}"))}, seed={_seed})";

    /// <summary>The current ECI of each value (for progress displays and tests).</summary>
    public IReadOnlyDictionary<object, double> EstimatedCosts()
    {
        var globalBest = _arms.Min(a => a.Best);
        var firstCosts = _arms.Where(a => a.Trials > 0).Select(a => a.FirstCost).DefaultIfEmpty(1).Min();
        var estimates = _arms.Where(a => !a.OnlyFailed).ToDictionary(a => a.Value, a => a.Eci(globalBest, firstCosts));
        // Only failures: no speed of improvement to extrapolate (∞/∞ would make every weight NaN), and what failing cost
        // says nothing of what a success would (a failure is often an exception at the start of a fit).
        var worst = estimates.Values.DefaultIfEmpty(firstCosts).Max();
        foreach (var arm in _arms.Where(a => a.OnlyFailed)) estimates[arm.Value] = Math.Max(arm.Spent, worst) * (1 + arm.Trials);
        return estimates;
    }

    public ParameterSet? Propose(SweepHistory history)
    {
        Arm arm;
        if (_arms.All(a => a.Trials == 0 && a.Running == 0))
            arm = _arms.MinBy(a => a.RelativeCost)!; // the cheapest first, ties in the space's order
        else
        {
            var costs = EstimatedCosts();
            arm = _arms[_random.Choose(_arms.Select(a => 1 / costs[a.Value]).ToArray())];
        }
        SweepHistory Own(Arm a)
        {
            bool Mine(ParameterSet p) => p.TryGetValue(_choice, out var v) && ParameterValue.Same(v, a.Value);
            return history with { Completed = history.Completed.Where(t => Mine(t.Parameters)).ToList(), Pending = history.Pending.Where(Mine).ToList() };
        }
        // A value whose tuner has nothing left (a finished grid) gives the turn to the others, in order.
        var parameters = arm.Tuner.Propose(Own(arm));
        foreach (var other in _arms.Where(a => a != arm))
        {
            if (parameters is not null) break;
            arm = other;
            parameters = other.Tuner.Propose(Own(other));
        }
        if (parameters is null) return null;
        arm.Running++;
        return parameters;
    }

    public void Update(TrialResult result)
    {
        var arm = _arms.FirstOrDefault(a => result.Parameters.TryGetValue(_choice, out var v) && ParameterValue.Same(v, a.Value));
        if (arm is null) return;
        arm.Running = Math.Max(0, arm.Running - 1);
        arm.Tuner.Update(result);
        arm.Record(result);
    }

    private sealed class Arm(object value, ITuner tuner, double relativeCost)
    {
        public object Value { get; } = value;
        public ITuner Tuner { get; } = tuner;
        public double RelativeCost { get; } = relativeCost;
        public int Trials { get; private set; }
        public int Running { get; set; }
        public double FirstCost { get; private set; }
        public double Best { get; private set; } = double.PositiveInfinity;
        private double _bestOld = double.PositiveInfinity;
        private double _total, _costAtBest, _costAtBestOld;

        private int _failures;

        /// <summary>No loss yet, and failures: nothing to extrapolate from.</summary>
        public bool OnlyFailed => _failures > 0 && double.IsPositiveInfinity(Best);
        public double Spent => _total;

        public void Record(TrialResult result)
        {
            var cost = Math.Max(result.Cost, 1e-9);
            if (Trials++ == 0) FirstCost = cost;
            _total += cost;
            if (result.Status is TrialStatus.Failed or TrialStatus.TimedOut or TrialStatus.OutOfMemory) _failures++;
            if (result.Status is not (TrialStatus.Completed or TrialStatus.Pruned) || !result.HasLoss || result.Loss!.Value >= Best) return;
            _bestOld = Best;
            Best = result.Loss!.Value;
            _costAtBestOld = _costAtBest;
            _costAtBest = _total;
        }

        public double Eci(double globalBest, double cheapestFirstCost)
        {
            if (Trials == 0 || double.IsPositiveInfinity(Best)) return cheapestFirstCost * RelativeCost;
            var eci = Math.Max(_total - _costAtBest, _costAtBest - _costAtBestOld);
            var gap = Best - globalBest;
            if (gap > 0)
            {
                var deltaLoss = double.IsPositiveInfinity(_bestOld) || double.IsPositiveInfinity(Best) ? Math.Abs(Best) : _bestOld - Best;
                var deltaCost = _total - _costAtBestOld;
                var speed = deltaLoss / Math.Max(deltaCost, 1e-10);
                if (speed > 0) eci = Math.Max(eci, 2 * gap / speed);
            }
            return Math.Max(eci, 1e-10);
        }
    }
}
