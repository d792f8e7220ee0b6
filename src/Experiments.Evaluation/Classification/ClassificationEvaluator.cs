using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Evaluation.Statistics;

namespace Experiments.Evaluation.Classification;

/// <summary>The metrics of a classifier, the decision threshold used, and how it was chosen.</summary>
public sealed record ClassificationResult(IReadOnlyList<MetricValue> Values, double? Threshold, string Protocol, long[,] Confusion, IReadOnlyList<ClassScores> PerClass);

/// <summary>
/// Evaluates classifiers. Binary: the threshold is chosen on validation data by the definition's rule (max-F1,
/// target precision, or fixed) and applied to the test data; AUC gets DeLong's interval, every other metric a
/// percentile bootstrap over test rows. Multiclass: predicted class = highest probability.
/// </summary>
public static class ClassificationEvaluator
{
    public static ClassificationResult EvaluateBinary(bool[] labels, double[] scores, IReadOnlyList<MetricName> metrics, EvaluationSpec spec, int seed,
        (bool[] Labels, double[] Scores)? validation = null)
    {
        if (labels.Length != scores.Length) throw new ArgumentException("Labels and scores differ in length.");
        if (labels.Length == 0) throw new ExperimentsException("The test set is empty, so classification metrics are undefined.");
        var (threshold, how) = ChooseThreshold(spec, validation);
        var values = new List<MetricValue>();
        foreach (var metric in metrics)
        {
            var name = metric.Name;
            if (name == "auc")
            {
                if (spec.BootstrapSamples > 0 && CountClass(labels, true) >= 2 && CountClass(labels, false) >= 2)
                {
                    var (auc, lower, upper) = DeLong.Interval(labels, scores, spec.ConfidenceLevel);
                    values.Add(new MetricValue(name, null, auc, lower, upper, labels.Length));
                }
                else values.Add(new MetricValue(name, null, Binary(name, labels, scores, threshold), null, null, labels.Length));
                continue;
            }
            var value = Binary(name, labels, scores, threshold);
            double? lo = null, hi = null;
            if (spec.BootstrapSamples > 0)
            {
                var (l, h) = Bootstrap.Interval(labels.Length, draw =>
                {
                    var drawnLabels = draw.Select(i => labels[i]).ToArray();
                    // A resample with one class has no AUC or PR-AUC: it counts at the full-sample value.
                    if (name is "pr-auc" && !drawnLabels.Contains(true)) return value;
                    return Binary(name, drawnLabels, draw.Select(i => scores[i]).ToArray(), threshold);
                }, spec.BootstrapSamples, spec.ConfidenceLevel, seed);
                (lo, hi) = (l, h);
            }
            values.Add(new MetricValue(name, null, value, lo, hi, labels.Length));
        }
        var confusion = BinaryMetrics.Confusion(labels, scores, threshold);
        var multiclass = new MulticlassMetrics(labels.Select(l => l ? 1 : 0).ToArray(), scores.Select(s => s >= threshold ? 1 : 0).ToArray(), 2);
        var positives = CountClass(labels, true);
        return new ClassificationResult(values, threshold,
            $"binary classification of {labels.Length} test rows ({positives} positive); decision threshold {how}", multiclass.Confusion, multiclass.PerClass());
    }

    public static ClassificationResult EvaluateMulticlass(int[] truth, double[][] probabilities, int classes, IReadOnlyList<MetricName> metrics, EvaluationSpec spec, int seed)
    {
        if (truth.Length != probabilities.Length) throw new ArgumentException("Truth and probabilities differ in length.");
        if (truth.Length == 0) throw new ExperimentsException("The test set is empty, so classification metrics are undefined.");
        var predicted = probabilities.Select(ArgMax).ToArray();
        var unsupported = metrics.FirstOrDefault(m => m.Name is "auc" or "pr-auc" or "precision" or "recall" or "f1");
        if (unsupported.Name is not null)
            throw new ExperimentsException($"Metric '{unsupported}' is defined for binary labels; with {classes} classes use macro-, micro- or weighted- precision, recall and F1.");
        double Compute(string name, int[] t, int[] p, double[][] prob)
        {
            var m = new MulticlassMetrics(t, p, classes);
            return name switch
            {
                "accuracy" or "micro-f1" => m.Accuracy,
                "macro-precision" => m.Macro().Precision,
                "macro-recall" => m.Macro().Recall,
                "macro-f1" => m.Macro().F1,
                "weighted-precision" => m.Weighted().Precision,
                "weighted-recall" => m.Weighted().Recall,
                "weighted-f1" => m.Weighted().F1,
                "log-loss" => MulticlassMetrics.LogLoss(t, prob),
                _ => throw new ExperimentsException($"'{name}' is not a classification metric."),
            };
        }
        var values = new List<MetricValue>();
        foreach (var metric in metrics)
        {
            var value = Compute(metric.Name, truth, predicted, probabilities);
            double? lo = null, hi = null;
            if (spec.BootstrapSamples > 0)
                (lo, hi) = Bootstrap.Interval(truth.Length, draw => Compute(metric.Name, draw.Select(i => truth[i]).ToArray(), draw.Select(i => predicted[i]).ToArray(), draw.Select(i => probabilities[i]).ToArray()),
                    spec.BootstrapSamples, spec.ConfidenceLevel, seed);
            values.Add(new MetricValue(metric.Name, null, value, lo, hi, truth.Length));
        }
        var all = new MulticlassMetrics(truth, predicted, classes);
        return new ClassificationResult(values, null, $"{classes}-class classification of {truth.Length} test rows; predicted class = highest probability", all.Confusion, all.PerClass());
    }

    /// <summary>The threshold by the definition's rule, chosen on validation data; without validation data, the fixed threshold.</summary>
    public static (double Threshold, string How) ChooseThreshold(EvaluationSpec spec, (bool[] Labels, double[] Scores)? validation)
    {
        if (spec.ThresholdRule == "fixed") return (spec.Threshold, $"fixed at {spec.Threshold:G4}");
        if (validation is not { } v || v.Labels.Length == 0)
            return (spec.Threshold, $"fixed at {spec.Threshold:G4} (no validation data to choose by {spec.ThresholdRule})");
        if (spec.ThresholdRule == "target-precision")
            return BinaryMetrics.TargetPrecisionThreshold(v.Labels, v.Scores, spec.TargetPrecision) is { } t
                ? (t, $"the lowest with validation precision ≥ {spec.TargetPrecision:G3}")
                : throw new ExperimentsException($"No threshold reaches precision {spec.TargetPrecision} on the validation data; lower evaluation.targetPrecision.");
        return (BinaryMetrics.MaxF1Threshold(v.Labels, v.Scores), "by max F1 on validation");
    }

    private static double Binary(string name, bool[] labels, double[] scores, double threshold)
    {
        var c = BinaryMetrics.Confusion(labels, scores, threshold);
        return name switch
        {
            "accuracy" or "micro-f1" => c.Accuracy,
            "precision" => c.Precision,
            "recall" => c.Recall,
            "f1" => c.F1,
            "auc" => BinaryMetrics.RocAuc(labels, scores),
            "pr-auc" => BinaryMetrics.AveragePrecision(labels, scores),
            "log-loss" => BinaryMetrics.LogLoss(labels, scores),
            "macro-precision" => (c.Precision + Negative(c).Precision) / 2,
            "macro-recall" => (c.Recall + Negative(c).Recall) / 2,
            "macro-f1" => (c.F1 + Negative(c).F1) / 2,
            "weighted-precision" => Weighted(c, x => x.Precision),
            "weighted-recall" => Weighted(c, x => x.Recall),
            "weighted-f1" => Weighted(c, x => x.F1),
            _ => throw new ExperimentsException($"'{name}' is not a classification metric."),
        };
    }

    // The same counts seen from the negative class.
    private static BinaryConfusion Negative(BinaryConfusion c) => new(c.TrueNegatives, c.FalseNegatives, c.TruePositives, c.FalsePositives);

    private static double Weighted(BinaryConfusion c, Func<BinaryConfusion, double> score)
    {
        double positives = c.TruePositives + c.FalseNegatives, negatives = c.TrueNegatives + c.FalsePositives;
        return (score(c) * positives + score(Negative(c)) * negatives) / (positives + negatives);
    }

    private static int CountClass(bool[] labels, bool value) => labels.Count(l => l == value);

    private static int ArgMax(double[] row)
    {
        var best = 0;
        for (var i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }
}
