namespace Experiments.Core;

/// <summary>numpy's default ("linear") quantile: interpolation between the order statistics.</summary>
public static class Quantiles
{
    /// <summary>The <paramref name="q"/>-quantile (0 to 1) of values already sorted ascending.</summary>
    public static double OfSorted(IReadOnlyList<double> sorted, double q)
    {
        var position = q * (sorted.Count - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Count - 1);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }

    /// <summary>The <paramref name="q"/>-quantile (0 to 1) of values in any order.</summary>
    public static double Of(IEnumerable<double> values, double q) => OfSorted(values.Order().ToArray(), q);
}
