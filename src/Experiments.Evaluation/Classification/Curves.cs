namespace Experiments.Evaluation.Classification;

/// <summary>Points of the ROC, precision–recall and calibration curves, for reports.</summary>
public static class Curves
{
    /// <summary>(false positive rate, true positive rate) at every distinct threshold, from (0, 0).</summary>
    public static List<(double Fpr, double Tpr)> Roc(bool[] labels, double[] scores)
    {
        var points = new List<(double, double)> { (0, 0) };
        foreach (var (_, c) in BinaryMetrics.Sweep(labels, scores))
            points.Add(((double)c.FalsePositives / Math.Max(1, c.FalsePositives + c.TrueNegatives), (double)c.TruePositives / Math.Max(1, c.TruePositives + c.FalseNegatives)));
        return points;
    }

    /// <summary>(recall, precision) at every distinct threshold, highest threshold first.</summary>
    public static List<(double Recall, double Precision)> PrecisionRecall(bool[] labels, double[] scores) =>
        BinaryMetrics.Sweep(labels, scores).Select(p => (p.Confusion.Recall, p.Confusion.Precision)).ToList();

    /// <summary>Equal-width bins of predicted probability: mean prediction, observed positive rate and count per non-empty bin.</summary>
    public static List<(double MeanPredicted, double ObservedRate, int Count)> Calibration(bool[] labels, double[] probabilities, int bins = 10)
    {
        var sums = new double[bins];
        var positives = new int[bins];
        var counts = new int[bins];
        for (var i = 0; i < labels.Length; i++)
        {
            var b = Math.Clamp((int)(probabilities[i] * bins), 0, bins - 1);
            sums[b] += probabilities[i];
            counts[b]++;
            if (labels[i]) positives[b]++;
        }
        return Enumerable.Range(0, bins).Where(b => counts[b] > 0).Select(b => (sums[b] / counts[b], (double)positives[b] / counts[b], counts[b])).ToList();
    }

    /// <summary>
    /// A curve with at most about <paramref name="resolution"/> points per unit of length: a point is kept when it lies
    /// at least 1 / resolution from the last kept one in x or y; the first and last points always stay. Every kept
    /// point is a point of the curve, so the drawing keeps its shape (to that resolution) with a bounded size.
    /// </summary>
    public static List<(double X, double Y)> Thin(IReadOnlyList<(double X, double Y)> points, int resolution = 500)
    {
        var step = 1.0 / resolution;
        var kept = new List<(double X, double Y)>();
        for (var i = 0; i < points.Count; i++)
        {
            if (i == 0 || i == points.Count - 1 || Math.Abs(points[i].X - kept[^1].X) >= step || Math.Abs(points[i].Y - kept[^1].Y) >= step)
                kept.Add(points[i]);
        }
        return kept;
    }
}
