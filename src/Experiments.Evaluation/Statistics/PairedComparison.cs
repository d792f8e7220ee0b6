using Experiments.Core;
using Experiments.Core.Definitions;

namespace Experiments.Evaluation.Statistics;

/// <summary>How paired tests resample: the definition's bootstrap samples (0: no resampling tests), confidence level and seed.</summary>
public sealed record PairedSettings(int Samples, double Level, int Seed);

/// <summary>
/// One paired comparison of model B with model A on one metric and the same units: B − A, its interval, a two-sided
/// p-value, the test that gave them, the number of units, and the resamples behind p (null for an analytic test).
/// </summary>
public sealed record PairedDifference(string Metric, string Test, double Difference, double Lower, double Upper, double PValue, int Units, int? Resamples);

/// <summary>
/// Paired comparisons of two models evaluated on the same units — test users for ranking and rating, test rows for
/// classification — from the values each unit keeps (<see cref="UnitStatistics"/>). For every metric with a per-unit
/// form: a percentile bootstrap interval of the difference (units resampled, the same draw for both models) and a
/// paired permutation test (each unit's two values exchanged with probability ½; for a mean this is the sign-flip
/// test; for AUC and PR-AUC the values exchanged are within-model ranks, which keep each model's AUC). For AUC also
/// DeLong's test, with the covariance of the two AUCs. The runner, <c>compare</c> and the reports all go through here.
/// </summary>
public static class PairedComparison
{
    /// <summary>The test of the resampling rows: p from the paired permutation test (the interval is the paired bootstrap's).</summary>
    public const string Resampled = "permutation";
    public const string DeLongTest = "DeLong";

    public static List<PairedDifference> Compare(IReadOnlyList<MetricName> metrics, IReadOnlyDictionary<string, double[]> a, IReadOnlyDictionary<string, double[]> b, PairedSettings settings)
    {
        if (a.TryGetValue(UnitStatistics.Label, out var labelsA) && b.TryGetValue(UnitStatistics.Label, out var labelsB) && !labelsA.SequenceEqual(labelsB))
            throw new ArgumentException("The two models' units are not the same rows: their labels differ.");
        var results = new List<PairedDifference>();
        foreach (var metric in metrics)
        {
            var statistic = UnitStatistics.For(metric);
            if (statistic is null || !statistic.Inputs.All(a.ContainsKey) || !statistic.Inputs.All(b.ContainsKey)) continue;
            var units = a[statistic.Inputs[0]].Length;
            if (units == 0) continue;
            if (b[statistic.Inputs[0]].Length != units) throw new ArgumentException("Paired values must come from the same units.");
            if (settings.Samples > 0 && ByResampling(metric, statistic, a, b, units, settings) is { } resampled) results.Add(resampled);
            if (metric is { Name: "auc", K: null } && ByDeLong(a, b, settings.Level) is { } delong) results.Add(delong);
        }
        return results;
    }

    /// <summary>
    /// Holm's step-down adjustment of a family of p-values: the i-th smallest becomes max over j ≤ i of min(1, (m − j + 1) p₍ⱼ₎).
    /// <paramref name="atFloor"/> marks p-values at their resampling floor, which only bound the true p from above; an
    /// adjusted p set by one of them is a bound too (<c>Bound</c>), and prints so.
    /// </summary>
    public static (double P, bool Bound)[] Holm(IReadOnlyList<double> p, IReadOnlyList<bool>? atFloor = null)
    {
        var order = Enumerable.Range(0, p.Count).OrderBy(i => p[i]).ToArray();
        var adjusted = new (double P, bool Bound)[p.Count];
        (double P, bool Bound) running = (0, false);
        for (var rank = 0; rank < order.Length; rank++)
        {
            var term = Math.Min(1, (p.Count - rank) * p[order[rank]]);
            if (term > running.P) running = (term, term < 1 && atFloor is not null && atFloor[order[rank]]);
            adjusted[order[rank]] = running;
        }
        return adjusted;
    }

    private static PairedDifference? ByResampling(MetricName metric, UnitStatistic statistic, IReadOnlyDictionary<string, double[]> a, IReadOnlyDictionary<string, double[]> b,
        int units, PairedSettings settings)
    {
        var label = metric.ToString();
        var all = UnitStatistics.All(units);
        var observed = statistic.Compute(b, all) - statistic.Compute(a, all);
        if (double.IsNaN(observed)) return null;
        // Seeded by the metric's name, so a comparison does not depend on where the metric stands in the list.
        var seed = Seeds.Mix(settings.Seed, label);
        var interval = Bootstrap.Interval(units, draw => statistic.Compute(b, draw) - statistic.Compute(a, draw), settings.Samples, settings.Level, seed);
        if (double.IsNaN(interval.Lower)) return null; // too few resamples define the metric to say anything
        var p = PermutationP(statistic, a, b, units, observed, settings.Samples, Seeds.Mix(seed, 1));
        return new PairedDifference(label, Resampled, observed, interval.Lower, interval.Upper, p, units, settings.Samples);
    }

    /// <summary>
    /// p = (1 + #{permutations with |difference| ≥ |observed|}) / (1 + permutations): the +1s count the observed
    /// assignment, so p is never 0 and its floor is 1 / (1 + permutations) (<see cref="PValues"/> prints it so).
    /// </summary>
    private static double PermutationP(UnitStatistic statistic, IReadOnlyDictionary<string, double[]> a, IReadOnlyDictionary<string, double[]> b,
        int units, double observed, int samples, int seed)
    {
        var fromA = Exchangeable(statistic, a);
        var fromB = Exchangeable(statistic, b);
        var swappedA = fromA.ToDictionary(x => x.Key, x => new double[units]);
        var swappedB = fromB.ToDictionary(x => x.Key, x => new double[units]);
        var all = UnitStatistics.All(units);
        var random = new Random(seed);
        var tolerance = 1e-12 * Math.Max(1, Math.Abs(observed));
        var extreme = 0;
        for (var s = 0; s < samples; s++)
        {
            for (var i = 0; i < units; i++)
            {
                var swap = random.Next(2) == 1;
                foreach (var key in statistic.Inputs)
                {
                    swappedA[key][i] = (swap ? fromB : fromA)[key][i];
                    swappedB[key][i] = (swap ? fromA : fromB)[key][i];
                }
            }
            if (Math.Abs(statistic.Compute(swappedB, all) - statistic.Compute(swappedA, all)) >= Math.Abs(observed) - tolerance) extreme++;
        }
        return (extreme + 1.0) / (samples + 1.0);
    }

    /// <summary>The statistic's inputs as they may be exchanged between models: scores become within-model midranks / n where only their order counts.</summary>
    private static Dictionary<string, double[]> Exchangeable(UnitStatistic statistic, IReadOnlyDictionary<string, double[]> values) =>
        statistic.Inputs.ToDictionary(key => key, key => statistic.RankBased && key == UnitStatistics.Score
            ? DeLong.MidRanks(values[key]).Select(r => r / values[key].Length).ToArray()
            : values[key]);

    private static PairedDifference? ByDeLong(IReadOnlyDictionary<string, double[]> a, IReadOnlyDictionary<string, double[]> b, double level)
    {
        var labels = a[UnitStatistics.Label].Select(l => l == 1).ToArray();
        var positives = labels.Count(l => l);
        if (positives < 2 || labels.Length - positives < 2) return null;
        var (difference, _, lower, upper, p) = DeLong.Paired(labels, a[UnitStatistics.Score], b[UnitStatistics.Score], level);
        return new PairedDifference("auc", DeLongTest, difference, lower, upper, p, labels.Length, null);
    }
}

/// <summary>How p-values are printed everywhere (tables, reports, compare): one rule.</summary>
public static class PValues
{
    /// <summary>The smallest p a permutation test with <paramref name="resamples"/> permutations can give.</summary>
    public static double Floor(int resamples) => 1.0 / (resamples + 1);

    /// <summary>Whether <paramref name="p"/> is at the floor of its permutations, so that it only bounds the true p from above.</summary>
    public static bool AtFloor(double p, int? resamples) => resamples is { } r && p <= Floor(r) * (1 + 1e-9);

    /// <summary>
    /// A p-value at the resampling floor prints as an upper bound with the resamples behind it, "&lt; 0.005 (200
    /// resamples)", never as a bare 0.005; others with three decimals, four below 0.001, and "&lt; 0.0001" below that.
    /// </summary>
    public static string Format(double p, int? resamples = null)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        if (resamples is { } r && p <= Floor(r) * (1 + 1e-9)) return $"< {RoundUp(Floor(r)).ToString("0.##########", invariant)} ({r} resamples)";
        if (p < 0.0001) return "< 0.0001";
        return p.ToString(p < 0.001 ? "0.0000" : "F3", invariant);
    }

    /// <summary>A Holm-adjusted p-value; one that is a bound (set by p-values at their floor) prints as "≤ 0.199 (200 resamples)".</summary>
    public static string FormatAdjusted(double p, bool bound, int? resamples) =>
        bound && resamples is { } r && p > Floor(r) * (1 + 1e-9)
            ? $"≤ {p.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)} ({r} resamples)"
            : Format(p, resamples);

    /// <summary>The smallest number with one significant digit that is at least <paramref name="x"/> (0.004975 → 0.005).</summary>
    private static double RoundUp(double x)
    {
        var scale = Math.Pow(10, Math.Floor(Math.Log10(x)));
        var digit = Math.Ceiling(x / scale - 1e-9);
        return digit * scale;
    }
}
