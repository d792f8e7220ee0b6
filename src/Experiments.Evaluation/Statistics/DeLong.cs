namespace Experiments.Evaluation.Statistics;

/// <summary>
/// DeLong's variance of the ROC AUC (DeLong, DeLong &amp; Clarke-Pearson 1988), computed with the midrank method
/// of Sun &amp; Xu (2014) in O(n log n), and the normal-approximation confidence interval built on it.
/// </summary>
public static class DeLong
{
    public static (double Auc, double Variance) AucVariance(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores)
    {
        var positives = new List<double>();
        var negatives = new List<double>();
        for (var i = 0; i < labels.Length; i++) (labels[i] ? positives : negatives).Add(scores[i]);
        int m = positives.Count, n = negatives.Count;
        if (m < 2 || n < 2) throw new ArgumentException("DeLong's interval needs at least two positives and two negatives.");
        var combined = MidRanks([.. positives, .. negatives]);
        var positiveRanks = MidRanks(positives.ToArray());
        var negativeRanks = MidRanks(negatives.ToArray());
        // Placement values: V10 for each positive (share of negatives below it), V01 for each negative (share of positives above it).
        var v10 = new double[m];
        var v01 = new double[n];
        for (var i = 0; i < m; i++) v10[i] = (combined[i] - positiveRanks[i]) / n;
        for (var j = 0; j < n; j++) v01[j] = 1 - (combined[m + j] - negativeRanks[j]) / m;
        var auc = v10.Average();
        return (auc, SampleVariance(v10) / m + SampleVariance(v01) / n);
    }

    public static (double Auc, double Lower, double Upper) Interval(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores, double level)
    {
        var (auc, variance) = AucVariance(labels, scores);
        var half = Normal.Quantile(1 - (1 - level) / 2) * Math.Sqrt(variance);
        return (auc, Math.Max(0, auc - half), Math.Min(1, auc + half));
    }

    private static double[] MidRanks(double[] values)
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

    private static double SampleVariance(double[] x)
    {
        var mean = x.Average();
        return x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1);
    }
}
