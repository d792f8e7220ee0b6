using Experiments.Core.Definitions;
using Experiments.Evaluation.Classification;

namespace Experiments.Evaluation.Statistics;

/// <summary>
/// A metric recomputed on a draw of units from the values each unit keeps. <see cref="Inputs"/> names the values it
/// reads; <see cref="Compute"/> returns the metric on the drawn unit indices (repeats allowed), or NaN where the draw
/// does not define it. <see cref="RankBased"/>: the metric depends on the scores only through their order, so a paired
/// permutation may exchange within-model ranks instead of raw scores of different scales.
/// </summary>
public sealed record UnitStatistic(IReadOnlyList<string> Inputs, Func<IReadOnlyDictionary<string, double[]>, int[], double> Compute, bool RankBased = false);

/// <summary>
/// What each unit keeps and how every metric is recomputed from it — one home for the evaluators' bootstrap intervals
/// and for the paired comparisons between models. Ranking: a test user's value of each metric, keyed by the metric's
/// label (the metric is their mean). Rating: a test user's sums over their rows (squared and absolute errors, rows,
/// ratings and squared ratings; RMSE, MAE and R² pool them). Classification: a test row's label, score and decision
/// (1 when the score reaches the model's threshold).
/// </summary>
public static class UnitStatistics
{
    public const string SquaredErrors = "sum-squared-error";
    public const string AbsoluteErrors = "sum-absolute-error";
    public const string Rows = "rows";
    public const string Ratings = "sum-rating";
    public const string SquaredRatings = "sum-rating-squared";
    public const string Label = "label";
    public const string Score = "score";
    public const string Decision = "predicted";

    /// <summary>The metric's statistic, or null when it has no per-unit form (coverage describes all lists at once).</summary>
    public static UnitStatistic? For(MetricName metric)
    {
        if (metric.K is not null)
        {
            if (metric.Name == "coverage") return null;
            var label = metric.ToString();
            return new([label], (v, draw) => Mean(v[label], draw));
        }
        return metric.Name switch
        {
            "rmse" => new([SquaredErrors, Rows], (v, d) => Math.Sqrt(Sum(v[SquaredErrors], d) / Sum(v[Rows], d))),
            "mae" => new([AbsoluteErrors, Rows], (v, d) => Sum(v[AbsoluteErrors], d) / Sum(v[Rows], d)),
            // Total sum of squares around the mean test rating of the drawn rows.
            "r2" => new([SquaredErrors, Rows, Ratings, SquaredRatings], (v, d) =>
            {
                var ratings = Sum(v[Ratings], d);
                return 1 - Sum(v[SquaredErrors], d) / (Sum(v[SquaredRatings], d) - ratings * ratings / Sum(v[Rows], d));
            }),
            // AUC needs both classes in the draw, average precision a positive: other draws leave them undefined.
            "auc" => new([Label, Score], (v, d) =>
            {
                var (positives, negatives) = Gather(v, d, out var labels, out var scores);
                return positives > 0 && negatives > 0 ? BinaryMetrics.RocAuc(labels, scores) : double.NaN;
            }, RankBased: true),
            "pr-auc" => new([Label, Score], (v, d) =>
            {
                var (positives, _) = Gather(v, d, out var labels, out var scores);
                return positives > 0 ? BinaryMetrics.AveragePrecision(labels, scores) : double.NaN;
            }, RankBased: true),
            "log-loss" => new([Label, Score], (v, d) => { Gather(v, d, out var labels, out var scores); return BinaryMetrics.LogLoss(labels, scores); }),
            var name => new([Label, Decision], (v, d) => Confusion(name, Count(v[Label], v[Decision], d))),
        };
    }

    /// <summary>The per-row values of a binary classifier's test rows.</summary>
    public static Dictionary<string, double[]> BinaryRows(bool[] labels, double[] scores, double threshold) => new()
    {
        [Label] = labels.Select(l => l ? 1.0 : 0.0).ToArray(),
        [Score] = (double[])scores.Clone(),
        [Decision] = scores.Select(s => s >= threshold ? 1.0 : 0.0).ToArray(),
    };

    /// <summary>The unit indices 0..n−1: the whole sample.</summary>
    public static int[] All(int units) => Enumerable.Range(0, units).ToArray();

    public static double Mean(double[] values, int[] draw)
    {
        var sum = 0.0;
        foreach (var i in draw) sum += values[i];
        return sum / draw.Length;
    }

    /// <summary>A binary metric from the confusion counts at the model's threshold.</summary>
    internal static double Confusion(string name, BinaryConfusion c) => name switch
    {
        "accuracy" or "micro-f1" => c.Accuracy,
        "precision" => c.Precision,
        "recall" => c.Recall,
        "f1" => c.F1,
        "macro-precision" => (c.Precision + Negative(c).Precision) / 2,
        "macro-recall" => (c.Recall + Negative(c).Recall) / 2,
        "macro-f1" => (c.F1 + Negative(c).F1) / 2,
        "weighted-precision" => Weighted(c, x => x.Precision),
        "weighted-recall" => Weighted(c, x => x.Recall),
        "weighted-f1" => Weighted(c, x => x.F1),
        _ => throw new Core.ExperimentsException($"'{name}' is not a classification metric."),
    };

    private static double Sum(double[] values, int[] draw)
    {
        var sum = 0.0;
        foreach (var i in draw) sum += values[i];
        return sum;
    }

    private static (int Positives, int Negatives) Gather(IReadOnlyDictionary<string, double[]> v, int[] draw, out bool[] labels, out double[] scores)
    {
        var label = v[Label];
        var score = v[Score];
        labels = new bool[draw.Length];
        scores = new double[draw.Length];
        var positives = 0;
        for (var i = 0; i < draw.Length; i++)
        {
            labels[i] = label[draw[i]] == 1;
            scores[i] = score[draw[i]];
            if (labels[i]) positives++;
        }
        return (positives, draw.Length - positives);
    }

    private static BinaryConfusion Count(double[] label, double[] decision, int[] draw)
    {
        long tp = 0, fp = 0, tn = 0, fn = 0;
        foreach (var i in draw)
        {
            if (decision[i] == 1) { if (label[i] == 1) tp++; else fp++; }
            else if (label[i] == 1) fn++;
            else tn++;
        }
        return new BinaryConfusion(tp, fp, tn, fn);
    }

    // The same counts seen from the negative class.
    private static BinaryConfusion Negative(BinaryConfusion c) => new(c.TrueNegatives, c.FalseNegatives, c.TruePositives, c.FalsePositives);

    private static double Weighted(BinaryConfusion c, Func<BinaryConfusion, double> score)
    {
        double positives = c.TruePositives + c.FalseNegatives, negatives = c.TrueNegatives + c.FalsePositives;
        return (score(c) * positives + score(Negative(c)) * negatives) / (positives + negatives);
    }
}
