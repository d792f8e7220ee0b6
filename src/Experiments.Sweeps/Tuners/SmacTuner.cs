using Experiments.Sweeps.Numerics;

namespace Experiments.Sweeps.Tuners;

/// <summary>Settings of <see cref="SmacTuner"/>.</summary>
public sealed record SmacSettings
{
    /// <summary>Random trials before the surrogate is used.</summary>
    public int StartupTrials { get; init; } = 10;
    /// <summary>Share of proposals after start-up that are random anyway (SMAC's interleaved random design).</summary>
    public double RandomFraction { get; init; } = 0.2;
    /// <summary>Random points at which expected improvement is evaluated per proposal.</summary>
    public int RandomCandidates { get; init; } = 500;
    /// <summary>Local searches on expected improvement, started from the best trials so far.</summary>
    public int LocalSearches { get; init; } = 10;
    public int LocalSearchSteps { get; init; } = 30;
    /// <summary>Exploration margin ξ of expected improvement (in the units the forest models).</summary>
    public double Xi { get; init; } = 0.0;
    /// <summary>Model log(1 + loss − best) rather than the loss (SMAC3 models log costs for HPO): tames losses that span decades.</summary>
    public bool LogTransform { get; init; } = true;
    public ForestSettings Forest { get; init; } = new();
}

/// <summary>
/// SMAC-style Bayesian optimisation: a random forest (SMAC3's settings) models the loss from the encoded parameters;
/// the next trial maximises expected improvement over the best loss so far, found among random points and by local
/// search from the best trials; a share of proposals stays random. Failed trials are imputed with the worst loss seen
/// (SMAC's crash cost); trials in flight with the worst too, so that parallel proposals do not pile up.
/// </summary>
public sealed class SmacTuner : ITuner
{
    private readonly SpaceEncoding _encoding;
    private readonly SweepRandom _random;
    private readonly int _seed;
    private readonly int[] _categories;

    public SmacTuner(SearchSpace space, int seed, SmacSettings? settings = null)
    {
        _encoding = space.Encoding;
        _seed = seed;
        _random = new SweepRandom(seed);
        Settings = settings ?? new SmacSettings();
        _categories = SurrogateFeatures.Categories(_encoding);
    }

    public SmacSettings Settings { get; }

    public string Description =>
        $"smac(startup={Settings.StartupTrials}, random={Settings.RandomFraction}, candidates={Settings.RandomCandidates}, local={Settings.LocalSearches}x{Settings.LocalSearchSteps}, xi={Settings.Xi}, log={Settings.LogTransform}, trees={Settings.Forest.Trees}, seed={_seed})";

    public void Update(TrialResult result) { }

    public ParameterSet? Propose(SweepHistory history)
    {
        var observed = history.Completed.Where(t => t.Status is TrialStatus.Completed or TrialStatus.Pruned && t.HasLoss).ToList();
        if (observed.Count < Settings.StartupTrials || observed.Count == 0 || _random.NextDouble() < Settings.RandomFraction)
            return RandomTuner.Sample(_encoding, _random);

        var worst = observed.Max(t => t.Loss!.Value);
        var best = observed.Min(t => t.Loss!.Value);
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
        if (Settings.LogTransform)
        {
            for (var i = 0; i < y.Count; i++) y[i] = Math.Log(1 + y[i] - best);
            best = 0;
        }
        var forest = RegressionForest.Fit(x, y, _categories, Settings.Forest, _random);

        double Ei(double[] u)
        {
            var (mean, variance) = forest.Predict(SurrogateFeatures.Of(_encoding, u));
            var sigma = Math.Sqrt(variance);
            var improvement = best - mean - Settings.Xi;
            if (sigma < 1e-12) return Math.Max(improvement, 0);
            var z = improvement / sigma;
            return improvement * Normal.Cdf(z) + sigma * Math.Exp(Normal.LogPdf(z));
        }

        // Candidates: canonical points (decoded and encoded again, so inactive coordinates are NaN and cells centred).
        var candidates = new List<(double[] U, double Ei)>();
        for (var i = 0; i < Settings.RandomCandidates; i++)
        {
            var u = Canonical(RandomTuner.SamplePoint(_encoding, _random));
            candidates.Add((u, Ei(u)));
        }
        foreach (var start in observed.OrderBy(t => t.Loss!.Value).Take(Settings.LocalSearches))
        {
            var current = _encoding.Encode(start.Parameters);
            var currentEi = Ei(current);
            for (var step = 0; step < Settings.LocalSearchSteps; step++)
            {
                var improved = false;
                foreach (var neighbour in Neighbours(current))
                {
                    var e = Ei(neighbour);
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

    private double[] Canonical(double[] u) => _encoding.Encode(_encoding.Decode(u));

    /// <summary>One neighbour per active coordinate: a Gaussian step (sd 0.2) for numbers, another value for a choice.</summary>
    private IEnumerable<double[]> Neighbours(double[] u)
    {
        var filled = (double[])u.Clone();
        foreach (var d in _encoding.Dimensions)
        {
            if (double.IsNaN(u[d.Index])) continue;
            var next = (double[])filled.Clone();
            if (d.Kind == DimensionKind.Categorical)
            {
                if (d.Levels < 2) continue;
                var other = _random.Next(d.Levels - 1);
                if (other >= d.CellOf(u[d.Index])) other++;
                next[d.Index] = (other + 0.5) / d.Levels;
            }
            else next[d.Index] = Math.Clamp(u[d.Index] + 0.2 * _random.NextGaussian(), 0, 1);
            // Coordinates that become active (a choice changed) start in the middle of their range.
            for (var k = 0; k < next.Length; k++)
                if (double.IsNaN(next[k])) next[k] = 0.5;
            yield return Canonical(next);
        }
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
