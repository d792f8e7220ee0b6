using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Evaluation.Statistics;

namespace Experiments.Evaluation.Classification;

/// <summary>
/// The metrics of a classifier, the decision threshold used, and how it was chosen; for binary classifiers also each
/// test row's label, score and decision (<see cref="UnitStatistics"/>), for paired tests between models.
/// </summary>
public sealed record ClassificationResult(IReadOnlyList<MetricValue> Values, double? Threshold, string Protocol, long[,] Confusion, IReadOnlyList<ClassScores> PerClass,
    IReadOnlyDictionary<string, double[]>? PerRow = null);

/// <summary>
/// Evaluates classifiers. Binary: the threshold is chosen on validation data by the definition's rule (max-F1,
/// target precision, or fixed) and applied to the test data; AUC gets DeLong's interval (always: it needs no
/// resampling), every other metric a percentile bootstrap over test rows. Multiclass: predicted class = highest probability.
/// </summary>
public static class ClassificationEvaluator
{
    public static ClassificationResult EvaluateBinary(bool[] labels, double[] scores, IReadOnlyList<MetricName> metrics, EvaluationSpec spec, int seed,
        (bool[] Labels, double[] Scores)? validation = null)
    {
        if (labels.Length != scores.Length) throw new ArgumentException("Labels and scores differ in length.");
        if (labels.Length == 0) throw new ExperimentsException("The test set is empty, so classification metrics are undefined.");
        var (threshold, how) = ChooseThreshold(spec, validation);
        var rows = UnitStatistics.BinaryRows(labels, scores, threshold);
        var all = UnitStatistics.All(labels.Length);
        var positives = CountClass(labels, true);
        var values = new List<MetricValue>();
        var notes = new List<string>();
        foreach (var metric in metrics)
        {
            var name = metric.Name;
            var statistic = UnitStatistics.For(metric)!;
            var value = statistic.Compute(rows, all);
            if (double.IsNaN(value))
                throw new ExperimentsException($"Metric '{name}' is undefined on these {labels.Length} test rows: {(positives == 0 ? "none is positive" : "all are positive")}.");
            double? lower = null, upper = null;
            if (name == "auc")
            {
                if (positives >= 2 && labels.Length - positives >= 2) (_, lower, upper) = DeLong.Interval(labels, scores, spec.ConfidenceLevel);
            }
            else if (spec.BootstrapSamples > 0)
            {
                var interval = Bootstrap.Interval(labels.Length, draw => statistic.Compute(rows, draw), spec.BootstrapSamples, spec.ConfidenceLevel, Seeds.Mix(seed, metric.ToString()));
                (lower, upper) = (NullIfNaN(interval.Lower), NullIfNaN(interval.Upper));
                if (interval.Redrawn > 0)
                    notes.Add(lower is null
                        ? $"{name}: no interval, too few resamples define it"
                        : $"{name} interval: {interval.Redrawn} resamples without a positive row were drawn again");
            }
            values.Add(new MetricValue(name, null, value, lower, upper, labels.Length));
        }
        var multiclass = new MulticlassMetrics(labels.Select(l => l ? 1 : 0).ToArray(), scores.Select(s => s >= threshold ? 1 : 0).ToArray(), 2);
        return new ClassificationResult(values, threshold,
            $"binary classification of {labels.Length} test rows ({positives} positive); decision threshold {how}{string.Concat(notes.Select(n => "; " + n))}",
            multiclass.Confusion, multiclass.PerClass(), rows);
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
            {
                var interval = Bootstrap.Interval(truth.Length, draw => Compute(metric.Name, draw.Select(i => truth[i]).ToArray(), draw.Select(i => predicted[i]).ToArray(), draw.Select(i => probabilities[i]).ToArray()),
                    spec.BootstrapSamples, spec.ConfidenceLevel, Seeds.Mix(seed, metric.ToString()));
                (lo, hi) = (interval.Lower, interval.Upper);
            }
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

    private static int CountClass(bool[] labels, bool value) => labels.Count(l => l == value);

    private static double? NullIfNaN(double x) => double.IsNaN(x) ? null : x;

    private static int ArgMax(double[] row)
    {
        var best = 0;
        for (var i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }
}
