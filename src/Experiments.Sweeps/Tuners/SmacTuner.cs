using Experiments.Sweeps.Numerics;
using Experiments.Core;

namespace Experiments.Sweeps.Tuners;

/// <summary>Settings of <see cref="SmacTuner"/>; the defaults are SMAC3's hyperparameter-optimisation facade's.</summary>
public sealed record SmacSettings
{
    /// <summary>Random trials before the surrogate is used; null: <see cref="DefaultStartupTrials"/> of the sweep's trial budget.</summary>
    public int? StartupTrials { get; init; }
    /// <summary>Share of proposals after start-up that are random anyway (SMAC's interleaved random design).</summary>
    public double RandomFraction { get; init; } = 0.2;
    /// <summary>Random points at which expected improvement is evaluated per proposal (SMAC3's sorted random search).</summary>
    public int RandomCandidates { get; init; } = 10000;
    /// <summary>Local searches on expected improvement: from this many observed trials of lowest predicted loss and as many of the best random points.</summary>
    public int LocalSearches { get; init; } = 10;
    public int LocalSearchSteps { get; init; } = 30;
    /// <summary>Exploration margin ξ of expected improvement (in the units the forest models).</summary>
    public double Xi { get; init; } = 0.0;
    /// <summary>
    /// Model the log of the losses scaled to (0, 1] (SMAC3's log-scaled encoding for HPO), with expected improvement
    /// taken in the scaled losses (log EI): the forest resolves the losses near the best, however far the worst lie.
    /// </summary>
    public bool LogTransform { get; init; } = true;
    public ForestSettings Forest { get; init; } = new();

    /// <summary>
    /// 10 random trials, at most a quarter of the trial budget (SMAC3's initial design is capped at max_ratio 0.25 of
    /// it), at least 1: a 20-trial sweep leaves 15 trials to the model instead of 10.
    /// </summary>
    public static int DefaultStartupTrials(int? trialBudget) => trialBudget is { } n ? Math.Clamp(n / 4, 1, 10) : 10;
}

/// <summary>
/// SMAC-style Bayesian optimisation: a random forest (SMAC3's HPO settings) models the loss from the encoded
/// parameters; the next trial maximises expected improvement over the lowest predicted loss of the trials so far,
/// found among random points and by local search from the best predicted trials and the best random points; a share
/// of proposals stays random. Failed trials are imputed with the worst loss seen (SMAC's crash cost); trials in flight
/// with the worst too, so that parallel proposals do not pile up.
/// </summary>
public sealed class SmacTuner : ITuner
{
    /// <summary>Neighbours per numeric coordinate in a local-search step (ConfigSpace's one-exchange neighbourhood).</summary>
    private const int NumericNeighbours = 4;

    private readonly SpaceEncoding _encoding;
    private readonly SweepRandom _random;
    private readonly int _seed;
    private readonly int[] _categories;
    private readonly int _startupTrials;

    /// <param name="trialBudget">The sweep's trial budget, which sizes the random start (none: a wall-time budget).</param>
    public SmacTuner(SearchSpace space, int seed, SmacSettings? settings = null, int? trialBudget = null)
    {
        _encoding = space.Encoding;
        _seed = seed;
        _random = new SweepRandom(seed);
        Settings = settings ?? new SmacSettings();
        _startupTrials = Settings.StartupTrials ?? SmacSettings.DefaultStartupTrials(trialBudget);
        _categories = SurrogateFeatures.Categories(_encoding);
    }

    public SmacSettings Settings { get; }

    public string Description =>
        $"smac(startup={_startupTrials}, random={Settings.RandomFraction}, candidates={Settings.RandomCandidates}, local={Settings.LocalSearches}x{Settings.LocalSearchSteps}, xi={Settings.Xi}, log={Settings.LogTransform}, trees={Settings.Forest.Trees}, seed={_seed})";

    public void Update(TrialResult result) { }

    public ParameterSet? Propose(SweepHistory history)
    {
        var observed = history.Completed.Where(t => t.Status is TrialStatus.Completed or TrialStatus.Pruned && t.HasLoss).ToList();
        if (observed.Count < _startupTrials || observed.Count == 0 || _random.NextDouble() < Settings.RandomFraction)
            return RandomTuner.Sample(_encoding, _random);

        var worst = observed.Max(t => t.Loss!.Value);
        var x = new List<double[]>();
        var y = new List<double>();
        var seen = new HashSet<ParameterSet>();
        foreach (var t in history.Completed)
        {
            seen.Add(t.Parameters);
            if (t.Status is TrialStatus.Completed or TrialStatus.Pruned && t.HasLoss) y.Add(t.Loss!.Value);
            else if (t.Status is TrialStatus.Failed or TrialStatus.TimedOut or TrialStatus.OutOfMemory) y.Add(worst);
            else continue;
            x.Add(SurrogateFeatures.Of(_encoding, _encoding.Encode(t.Parameters)));
        }
        foreach (var pending in history.Pending)
        {
            seen.Add(pending);
            x.Add(SurrogateFeatures.Of(_encoding, _encoding.Encode(pending)));
            y.Add(worst);
        }
        var forest = RegressionForest.Fit(x, Settings.LogTransform ? LogScaled(y) : y, _categories, Settings.Forest, _random);

        // The incumbent's value is the lowest predicted loss among the observed trials (SMAC3 predicts x_best), in the
        // model's units; the observed trials of lowest predicted loss start local searches.
        var incumbents = observed
            .Select(t => (U: _encoding.Encode(t.Parameters), forest.Predict(SurrogateFeatures.Of(_encoding, _encoding.Encode(t.Parameters))).Mean))
            .OrderBy(p => p.Mean).ToList();
        var eta = incumbents[0].Mean;
        double Acquisition(double[] u)
        {
            var (mean, variance) = forest.Predict(SurrogateFeatures.Of(_encoding, u));
            return ExpectedImprovement(mean, variance, eta - Settings.Xi, Settings.LogTransform);
        }

        // Candidates: canonical points (decoded and encoded again, so inactive coordinates are NaN and cells centred).
        var candidates = new List<(double[] U, double Ei)>();
        for (var i = 0; i < Settings.RandomCandidates; i++)
        {
            var u = Canonical(RandomTuner.SamplePoint(_encoding, _random));
            candidates.Add((u, Acquisition(u)));
        }
        var starts = incumbents.Take(Settings.LocalSearches).Select(p => p.U)
            .Concat(candidates.OrderByDescending(c => c.Ei).Take(Settings.LocalSearches).Select(c => c.U)).ToList();
        foreach (var start in starts)
        {
            var current = start;
            var currentEi = Acquisition(current);
            for (var step = 0; step < Settings.LocalSearchSteps; step++)
            {
                var improved = false;
                foreach (var neighbour in Neighbours(current))
                {
                    var e = Acquisition(neighbour);
                    if (e > currentEi) { current = neighbour; currentEi = e; improved = true; }
                }
                if (!improved) break;
            }
            candidates.Add((current, currentEi));
        }
        foreach (var (u, _) in candidates.OrderByDescending(c => c.Ei))
        {
            var parameters = _encoding.Decode(u);
            if (!seen.Contains(parameters)) return parameters;
        }
        return RandomTuner.Sample(_encoding, _random);
    }

    /// <summary>
    /// SMAC3's log-scaled losses: log((y − m) / (max − m)) with m the minimum less its distance to the 5th percentile,
    /// so the worst maps to 0 and the best below it by how far it stands out from the next best.
    /// </summary>
    internal static double[] LogScaled(IReadOnlyList<double> y)
    {
        var min = y.Min();
        var max = y.Max();
        var floor = min - (Quantiles.Of(y, 0.05) - min) - 1e-10;
        if (floor == max) floor *= 1 - 1e-10;
        return y.Select(v => Math.Log((v - floor) / (max - floor))).ToArray();
    }

    /// <summary>
    /// Expected improvement below <paramref name="eta"/> of a normal prediction; with <paramref name="log"/> the model
    /// predicts log losses and the improvement is taken in the losses themselves, E[max(0, e^η − e^Y)] for Y normal
    /// (SMAC3's log EI, Hutter et al. 2009).
    /// </summary>
    internal static double ExpectedImprovement(double mean, double variance, double eta, bool log)
    {
        var sigma = Math.Sqrt(variance);
        if (sigma < 1e-12) return Math.Max(log ? Math.Exp(eta) - Math.Exp(mean) : eta - mean, 0);
        var z = (eta - mean) / sigma;
        return log
            ? Math.Exp(eta) * Normal.Cdf(z) - Math.Exp(mean + variance / 2) * Normal.Cdf(z - sigma)
            : (eta - mean) * Normal.Cdf(z) + sigma * Math.Exp(Normal.LogPdf(z));
    }

    private double[] Canonical(double[] u) => _encoding.Encode(_encoding.Decode(u));

    /// <summary>
    /// One-exchange neighbours of every active coordinate: Gaussian steps (sd 0.2, drawn again until inside [0, 1])
    /// for numbers, another value for a choice.
    /// </summary>
    private IEnumerable<double[]> Neighbours(double[] u)
    {
        foreach (var d in _encoding.Dimensions)
        {
            if (double.IsNaN(u[d.Index])) continue;
            if (d.Kind == DimensionKind.Categorical)
            {
                if (d.Levels < 2) continue;
                var other = _random.Next(d.Levels - 1);
                if (other >= d.CellOf(u[d.Index])) other++;
                yield return Exchange(u, d.Index, (other + 0.5) / d.Levels);
                continue;
            }
            for (var k = 0; k < NumericNeighbours; k++)
            {
                double v;
                do v = u[d.Index] + 0.2 * _random.NextGaussian();
                while (v is < 0 or > 1);
                yield return Exchange(u, d.Index, v);
            }
        }
    }

    private double[] Exchange(double[] u, int index, double value)
    {
        var next = (double[])u.Clone();
        next[index] = value;
        // Coordinates that become active (a choice changed) start in the middle of their range.
        for (var k = 0; k < next.Length; k++)
            if (double.IsNaN(next[k])) next[k] = 0.5;
        return Canonical(next);
    }
}

/// <summary>The features the forest sees: numeric coordinates with −1 for inactive, categories as indices with one more for inactive.</summary>
internal static class SurrogateFeatures
{
    public static int[] Categories(SpaceEncoding encoding) =>
        encoding.Dimensions.Select(d => ByCategory(d) ? d.Levels + 1 : 0).ToArray();

    // A choice with more values than a split can hold goes in as its coordinate (equal-width cells, split in the choice's order).
    private static bool ByCategory(Dimension d) => d.Kind == DimensionKind.Categorical && d.Levels + 1 <= RegressionForest.MaxCategories;

    public static double[] Of(SpaceEncoding encoding, double[] u)
    {
        var features = new double[u.Length];
        foreach (var d in encoding.Dimensions)
        {
            var v = u[d.Index];
            features[d.Index] = ByCategory(d)
                ? double.IsNaN(v) ? d.Levels : d.CellOf(v)
                : double.IsNaN(v) ? -1 : v;
        }
        return features;
    }
}
