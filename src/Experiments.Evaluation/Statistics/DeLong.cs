namespace Experiments.Evaluation.Statistics;

/// <summary>
/// DeLong's variance of the ROC AUC (DeLong, DeLong &amp; Clarke-Pearson 1988), computed with the midrank method
/// of Sun &amp; Xu (2014) in O(n log n), the normal-approximation confidence interval built on it, and the paired test of
/// two AUCs on the same rows, which uses the covariance of the two estimates.
/// </summary>
public static class DeLong
{
    public static (double Auc, double Variance) AucVariance(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores)
    {
        var (v10, v01) = Placements(labels, scores);
        return (v10.Average(), Covariance(v10, v10) / v10.Length + Covariance(v01, v01) / v01.Length);
    }

    public static (double Auc, double Lower, double Upper) Interval(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores, double level)
    {
        var (auc, variance) = AucVariance(labels, scores);
        var half = Normal.Quantile(1 - (1 - level) / 2) * Math.Sqrt(variance);
        return (auc, Math.Max(0, auc - half), Math.Min(1, auc + half));
    }

    /// <summary>
    /// AUC(b) − AUC(a) on the same rows, its variance Var(a) + Var(b) − 2 Cov(a, b) from the placement values
    /// (S = S₁₀/m + S₀₁/n with the 2 × 2 covariance matrices of the m positives' and n negatives' placements), the
    /// normal interval at <paramref name="level"/> and the two-sided p-value of z = difference / √variance.
    /// </summary>
    public static (double Difference, double Variance, double Lower, double Upper, double PValue) Paired(ReadOnlySpan<bool> labels, ReadOnlySpan<double> a, ReadOnlySpan<double> b, double level)
    {
        var (a10, a01) = Placements(labels, a);
        var (b10, b01) = Placements(labels, b);
        var difference = b10.Average() - a10.Average();
        var variance = (Covariance(a10, a10) + Covariance(b10, b10) - 2 * Covariance(a10, b10)) / a10.Length
                       + (Covariance(a01, a01) + Covariance(b01, b01) - 2 * Covariance(a01, b01)) / a01.Length;
        variance = Math.Max(variance, 0); // rounding can leave −1e-18 for two identical models
        var half = Normal.Quantile(1 - (1 - level) / 2) * Math.Sqrt(variance);
        var p = variance == 0 ? (difference == 0 ? 1 : 0) : 2 * Normal.Cdf(-Math.Abs(difference) / Math.Sqrt(variance));
        return (difference, variance, difference - half, difference + half, p);
    }

    /// <summary>Placement values: V10 for each positive (share of negatives below it, ties ½), V01 for each negative (share of positives above it).</summary>
    private static (double[] V10, double[] V01) Placements(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores)
    {
        var positives = new List<double>();
        var negatives = new List<double>();
        for (var i = 0; i < labels.Length; i++) (labels[i] ? positives : negatives).Add(scores[i]);
        int m = positives.Count, n = negatives.Count;
        if (m < 2 || n < 2) throw new ArgumentException("DeLong's interval needs at least two positives and two negatives.");
        var combined = MidRanks([.. positives, .. negatives]);
        var positiveRanks = MidRanks(positives.ToArray());
        var negativeRanks = MidRanks(negatives.ToArray());
        var v10 = new double[m];
        var v01 = new double[n];
        for (var i = 0; i < m; i++) v10[i] = (combined[i] - positiveRanks[i]) / n;
        for (var j = 0; j < n; j++) v01[j] = 1 - (combined[m + j] - negativeRanks[j]) / m;
        return (v10, v01);
    }

    /// <summary>Midranks (1-based; tied values share the mean of their ranks).</summary>
    internal static double[] MidRanks(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).ToArray();
        var keys = (double[])values.Clone();
        Array.Sort(keys, order);
        var ranks = new double[values.Length];
        var i = 0;
        while (i < keys.Length)
        {
            var j = i;
            while (j + 1 < keys.Length && keys[j + 1] == keys[i]) j++;
            for (var k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2.0 + 1;
            i = j + 1;
        }
        return ranks;
    }

    /// <summary>Sample covariance (divisor n − 1) of two equally long series.</summary>
    private static double Covariance(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), sum = 0;
        for (var i = 0; i < x.Length; i++) sum += (x[i] - mx) * (y[i] - my);
        return sum / (x.Length - 1);
    }
}
