namespace Experiments.Evaluation.Classification;

/// <summary>Counts of a binary confusion matrix at one threshold (positive = label 1).</summary>
public readonly record struct BinaryConfusion(long TruePositives, long FalsePositives, long TrueNegatives, long FalseNegatives)
{
    public long Total => TruePositives + FalsePositives + TrueNegatives + FalseNegatives;
    public double Accuracy => Total == 0 ? 0 : (double)(TruePositives + TrueNegatives) / Total;
    /// <summary>TP / (TP + FP); 0 when nothing is predicted positive (scikit-learn's zero_division=0).</summary>
    public double Precision => TruePositives + FalsePositives == 0 ? 0 : (double)TruePositives / (TruePositives + FalsePositives);
    public double Recall => TruePositives + FalseNegatives == 0 ? 0 : (double)TruePositives / (TruePositives + FalseNegatives);
    public double F1 => TruePositives == 0 ? 0 : 2.0 * TruePositives / (2.0 * TruePositives + FalsePositives + FalseNegatives);
}

/// <summary>
/// Binary classification metrics from labels (0/1) and scores (probabilities for log loss; any monotone score for
/// AUC and average precision). Definitions match scikit-learn's; docs/metrics.md writes them out.
/// </summary>
public static class BinaryMetrics
{
    /// <summary>Predicted positive when score ≥ threshold.</summary>
    public static BinaryConfusion Confusion(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores, double threshold)
    {
        long tp = 0, fp = 0, tn = 0, fn = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var predicted = scores[i] >= threshold;
            if (predicted) { if (labels[i]) tp++; else fp++; }
            else if (labels[i]) fn++;
            else tn++;
        }
        return new BinaryConfusion(tp, fp, tn, fn);
    }

    /// <summary>
    /// Area under the ROC curve: the probability that a random positive scores above a random negative, ties
    /// counting one half (Mann–Whitney), which equals the trapezoidal area scikit-learn computes.
    /// </summary>
    public static double RocAuc(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores)
    {
        var order = SortedByScore(scores, descending: false);
        double positives = 0, negatives = 0, rankSum = 0;
        var i = 0;
        while (i < order.Length)
        {
            var j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            var averageRank = (i + j) / 2.0 + 1; // ranks of a tie group share their mean
            for (var k = i; k <= j; k++)
                if (labels[order[k]]) { positives++; rankSum += averageRank; }
                else negatives++;
            i = j + 1;
        }
        if (positives == 0 || negatives == 0)
            throw new ArgumentException("AUC is undefined when only one class is present in the labels.");
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }

    /// <summary>
    /// Average precision: Σ_n (R_n − R_{n−1}) P_n over the distinct score thresholds, highest first — the step-wise
    /// area under the precision–recall curve, without interpolation (scikit-learn's average_precision_score).
    /// </summary>
    public static double AveragePrecision(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores)
    {
        var order = SortedByScore(scores, descending: true);
        double totalPositives = 0;
        foreach (var label in labels) if (label) totalPositives++;
        if (totalPositives == 0) throw new ArgumentException("Average precision is undefined without positive labels.");
        double truePositives = 0, seen = 0, previousRecall = 0, sum = 0;
        var i = 0;
        while (i < order.Length)
        {
            var j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            for (var k = i; k <= j; k++)
            {
                seen++;
                if (labels[order[k]]) truePositives++;
            }
            var recall = truePositives / totalPositives;
            sum += (recall - previousRecall) * (truePositives / seen);
            previousRecall = recall;
            i = j + 1;
        }
        return sum;
    }

    /// <summary>Mean negative log-likelihood of the labels; probabilities are clipped to [ε, 1 − ε] with ε = 1e-15.</summary>
    public static double LogLoss(ReadOnlySpan<bool> labels, ReadOnlySpan<double> probabilities)
    {
        const double epsilon = 1e-15;
        var sum = 0.0;
        for (var i = 0; i < labels.Length; i++)
        {
            var p = Math.Clamp(probabilities[i], epsilon, 1 - epsilon);
            sum -= labels[i] ? Math.Log(p) : Math.Log(1 - p);
        }
        return sum / labels.Length;
    }

    /// <summary>The threshold with the highest F1 (ties: the highest threshold), from the distinct scores.</summary>
    public static double MaxF1Threshold(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores) =>
        Sweep(labels, scores).MaxBy(p => (p.Confusion.F1, p.Threshold)).Threshold;

    /// <summary>The lowest threshold whose precision reaches <paramref name="target"/> (most recall at that precision); null when none does.</summary>
    public static double? TargetPrecisionThreshold(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores, double target)
    {
        double? best = null;
        foreach (var (threshold, confusion) in Sweep(labels, scores))
            if (confusion.Precision >= target && (best is null || threshold < best)) best = threshold;
        return best;
    }

    /// <summary>Every distinct score as a threshold with its confusion counts, computed in one pass over the sorted scores.</summary>
    public static List<(double Threshold, BinaryConfusion Confusion)> Sweep(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores)
    {
        var order = SortedByScore(scores, descending: true);
        long positives = 0;
        foreach (var label in labels) if (label) positives++;
        var negatives = labels.Length - positives;
        long tp = 0, fp = 0;
        var result = new List<(double, BinaryConfusion)>();
        var i = 0;
        while (i < order.Length)
        {
            var j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            for (var k = i; k <= j; k++)
                if (labels[order[k]]) tp++;
                else fp++;
            result.Add((scores[order[i]], new BinaryConfusion(tp, fp, negatives - fp, positives - tp)));
            i = j + 1;
        }
        return result;
    }

    private static int[] SortedByScore(ReadOnlySpan<double> scores, bool descending)
    {
        foreach (var s in scores)
            if (double.IsNaN(s)) throw new ArgumentException("Scores contain NaN; every prediction needs a score.");
        var keys = scores.ToArray();
        var order = Enumerable.Range(0, keys.Length).ToArray();
        Array.Sort(keys, order);
        if (descending) Array.Reverse(order);
        return order;
    }
}
