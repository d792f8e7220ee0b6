namespace Experiments.Sweeps.Tuners;

/// <summary>Settings of <see cref="TpeTuner"/>; the defaults are Optuna 3.1's, except <see cref="Multivariate"/>.</summary>
public sealed record TpeSettings
{
    /// <summary>Random trials before the model is used.</summary>
    public int StartupTrials { get; init; } = 10;
    /// <summary>Candidates drawn from the good trials' density per proposal.</summary>
    public int Candidates { get; init; } = 24;
    public double PriorWeight { get; init; } = 1.0;
    public bool ConsiderEndpoints { get; init; }
    /// <summary>
    /// Model the parameters of a group jointly (Optuna's multivariate=True, group=True: a group is the parameters that
    /// exist under the same condition), with Scott's-rule bandwidths. False: one density per parameter (Optuna's default).
    /// </summary>
    public bool Multivariate { get; init; } = true;
    /// <summary>Failed, timed-out and out-of-memory trials count among the bad ones (Optuna ignores them), so TPE steers away.</summary>
    public bool FailuresAsBad { get; init; } = true;

    /// <summary>Optuna's default_gamma: the best ⌈n/10⌉ trials, at most 25, are "good".</summary>
    public static int Gamma(int n) => Math.Min((int)Math.Ceiling(0.1 * n), 25);
}

/// <summary>
/// The tree-structured Parzen estimator as Optuna 3.1 implements it: after the start-up trials, split the trials into
/// the best γ(n) and the rest (pruned trials rank after completed ones, deeper first, as in Optuna), fit a Parzen
/// density l to the good and g to the rest, draw candidates from l and take the one with the highest l/g. Trials
/// proposed but not yet reported count as bad (Optuna's constant liar), which spreads parallel proposals apart.
/// </summary>
public sealed class TpeTuner : ITuner
{
    private readonly SpaceEncoding _encoding;
    private readonly SweepRandom _random;
    private readonly int _seed;
    private readonly List<(Condition? When, List<Dimension> Dimensions)> _groups;

    public TpeTuner(SearchSpace space, int seed, TpeSettings? settings = null)
    {
        _encoding = space.Encoding;
        _seed = seed;
        _random = new SweepRandom(seed);
        Settings = settings ?? new TpeSettings();
        // Groups in the space's order: a group's condition names a choice that an earlier group samples.
        _groups = [];
        foreach (var d in _encoding.Dimensions)
        {
            var group = Settings.Multivariate ? _groups.FindIndex(g => SameCondition(g.When, d.Parameter.When)) : -1;
            if (group < 0) _groups.Add((d.Parameter.When, [d]));
            else _groups[group].Dimensions.Add(d);
        }
    }

    public TpeSettings Settings { get; }

    public string Description =>
        $"tpe(startup={Settings.StartupTrials}, candidates={Settings.Candidates}, multivariate={Settings.Multivariate}, prior={Settings.PriorWeight}, endpoints={Settings.ConsiderEndpoints}, failuresAsBad={Settings.FailuresAsBad}, seed={_seed})";

    private static bool SameCondition(Condition? a, Condition? b) =>
        a is null ? b is null : b is not null && a.Parameter == b.Parameter && a.Values.Count == b.Values.Count && a.Values.Zip(b.Values).All(p => ParameterValue.Same(p.First, p.Second));

    public void Update(TrialResult result) { }

    public ParameterSet? Propose(SweepHistory history)
    {
        var points = new List<double[]>();
        var scores = new List<(double Step, double Value)>();
        foreach (var t in history.Completed)
        {
            if (Score(t) is not { } score) continue;
            points.Add(_encoding.Encode(t.Parameters));
            scores.Add(score);
        }
        var observed = scores.Count(s => s.Step < double.PositiveInfinity);
        if (observed < Settings.StartupTrials) return RandomTuner.Sample(_encoding, _random);
        foreach (var pending in history.Pending)
        {
            points.Add(_encoding.Encode(pending));
            scores.Add((double.PositiveInfinity, double.PositiveInfinity));
        }

        // Rank lexicographically by (step key, value), stably; the first γ(n) are good.
        var ranked = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i].Step).ThenBy(i => scores[i].Value).ToArray();
        var good = new bool[scores.Count];
        foreach (var i in ranked.Take(TpeSettings.Gamma(observed))) good[i] = true;

        var u = new double[_encoding.Count];
        Array.Fill(u, double.NaN);
        foreach (var (_, dimensions) in _groups)
        {
            // Earlier groups have decided the choices this group's condition names.
            if (!_encoding.Decode(u).ContainsKey(dimensions[0].Parameter.Name)) continue;
            // Observations where the group existed, oldest first (the weights discount the oldest).
            var below = new List<double[]>();
            var above = new List<double[]>();
            for (var i = 0; i < points.Count; i++)
            {
                if (double.IsNaN(points[i][dimensions[0].Index])) continue;
                var x = dimensions.Select(d => points[i][d.Index]).ToArray();
                (good[i] ? below : above).Add(x);
            }
            var l = new ParzenEstimator(dimensions, below, Settings);
            var g = new ParzenEstimator(dimensions, above, Settings);
            var candidates = l.Sample(_random, Settings.Candidates);
            var logL = l.LogPdf(candidates);
            var logG = g.LogPdf(candidates);
            var best = 0;
            for (var c = 1; c < candidates.Length; c++)
                if (logL[c] - logG[c] > logL[best] - logG[best]) best = c;
            for (var j = 0; j < dimensions.Count; j++) u[dimensions[j].Index] = candidates[best][j];
        }
        return _encoding.Decode(u);
    }

    /// <summary>Optuna's ranking key: completed (−∞, loss); pruned (−last step, last value); failures last; cancelled not at all.</summary>
    private (double Step, double Value)? Score(TrialResult t) => t.Status switch
    {
        TrialStatus.Completed when t.HasLoss => (double.NegativeInfinity, t.Loss!.Value),
        TrialStatus.Pruned => t.LastIntermediate is { } last
            ? (-last.Step, t.Loss is { } loss && !double.IsNaN(loss) ? loss : double.PositiveInfinity)
            : (1, 0),
        TrialStatus.Failed or TrialStatus.TimedOut or TrialStatus.OutOfMemory or TrialStatus.Completed when Settings.FailuresAsBad =>
            (double.PositiveInfinity, double.PositiveInfinity),
        _ => null,
    };
}
