using System.Text.Json;
using CsCheck;
using Experiments.Core.Definitions;
using Experiments.Evaluation;
using Experiments.Evaluation.Classification;
using Experiments.Evaluation.Statistics;

namespace Experiments.Tests.Evaluation;

/// <summary>Classification metrics against scikit-learn on seeded fixtures, to 1e-9.</summary>
[TestClass]
public sealed class ClassificationMetricTests
{
    private const double Tolerance = 1e-9;

    /// <summary>500 rows, 30% positive; scores rounded to 2 decimals so that ties occur.</summary>
    private static (bool[] Labels, double[] Scores) BinaryFixture(int seed = 3, int n = 500)
    {
        var random = new Random(seed);
        var labels = new bool[n];
        var scores = new double[n];
        for (var i = 0; i < n; i++)
        {
            labels[i] = random.NextDouble() < 0.3;
            var s = 1 / (1 + Math.Exp(-((labels[i] ? 0.9 : -0.6) + 1.2 * (random.NextDouble() - 0.5) * 2)));
            scores[i] = Math.Clamp(Math.Round(s, 2), 0.01, 0.99);
        }
        return (labels, scores);
    }

    [TestMethod]
    public void Binary_metrics_match_scikit_learn()
    {
        var (labels, scores) = BinaryFixture();
        var reference = ScikitLearn.Run("""
            from sklearn import metrics as m
            y = np.array(data["labels"], dtype=int); s = np.array(data["scores"]); p = (s >= 0.5).astype(int)
            print(json.dumps({
              "accuracy": m.accuracy_score(y, p), "precision": m.precision_score(y, p), "recall": m.recall_score(y, p), "f1": m.f1_score(y, p),
              "auc": m.roc_auc_score(y, s), "ap": m.average_precision_score(y, s), "log_loss": m.log_loss(y, s),
              "macro_f1": m.f1_score(y, p, average="macro"), "weighted_precision": m.precision_score(y, p, average="weighted"),
              "confusion": m.confusion_matrix(y, p).tolist()}))
            """, new { labels = labels.Select(l => l ? 1 : 0), scores });
        var c = BinaryMetrics.Confusion(labels, scores, 0.5);
        Assert.AreEqual(reference.GetProperty("accuracy").GetDouble(), c.Accuracy, Tolerance);
        Assert.AreEqual(reference.GetProperty("precision").GetDouble(), c.Precision, Tolerance);
        Assert.AreEqual(reference.GetProperty("recall").GetDouble(), c.Recall, Tolerance);
        Assert.AreEqual(reference.GetProperty("f1").GetDouble(), c.F1, Tolerance);
        Assert.AreEqual(reference.GetProperty("auc").GetDouble(), BinaryMetrics.RocAuc(labels, scores), Tolerance);
        Assert.AreEqual(reference.GetProperty("ap").GetDouble(), BinaryMetrics.AveragePrecision(labels, scores), Tolerance);
        Assert.AreEqual(reference.GetProperty("log_loss").GetDouble(), BinaryMetrics.LogLoss(labels, scores), Tolerance);
        var confusion = reference.GetProperty("confusion");
        Assert.AreEqual(confusion[0][0].GetInt64(), c.TrueNegatives);
        Assert.AreEqual(confusion[1][1].GetInt64(), c.TruePositives);

        var metrics = new[] { "macro-f1", "weighted-precision" }.Select(MetricName.Parse).ToList();
        var result = ClassificationEvaluator.EvaluateBinary(labels, scores, metrics, new EvaluationSpec { ThresholdRule = "fixed", BootstrapSamples = 0 }, 1);
        Assert.AreEqual(reference.GetProperty("macro_f1").GetDouble(), result.Values[0].Value, Tolerance);
        Assert.AreEqual(reference.GetProperty("weighted_precision").GetDouble(), result.Values[1].Value, Tolerance);
    }

    [TestMethod]
    public void Multiclass_metrics_match_scikit_learn()
    {
        var random = new Random(11);
        const int n = 400, classes = 4;
        var truth = new int[n];
        var probabilities = new double[n][];
        for (var i = 0; i < n; i++)
        {
            truth[i] = random.Next(classes);
            var row = Enumerable.Range(0, classes).Select(c => random.NextDouble() + (c == truth[i] ? 0.8 : 0)).ToArray();
            probabilities[i] = row.Select(v => v / row.Sum()).ToArray();
        }
        var predicted = probabilities.Select(p => Array.IndexOf(p, p.Max())).ToArray();
        var reference = ScikitLearn.Run("""
            from sklearn import metrics as m
            y = np.array(data["truth"]); p = np.array(data["predicted"]); prob = np.array(data["probabilities"])
            out = {"accuracy": m.accuracy_score(y, p), "log_loss": m.log_loss(y, prob, labels=[0,1,2,3])}
            for avg in ["macro", "micro", "weighted"]:
                out[avg] = [m.precision_score(y, p, average=avg), m.recall_score(y, p, average=avg), m.f1_score(y, p, average=avg)]
            out["per_class"] = [m.precision_score(y, p, average=None).tolist(), m.recall_score(y, p, average=None).tolist(), m.f1_score(y, p, average=None).tolist()]
            out["confusion"] = m.confusion_matrix(y, p).tolist()
            print(json.dumps(out))
            """, new { truth, predicted, probabilities });
        var metrics = new MulticlassMetrics(truth, predicted, classes);
        Assert.AreEqual(reference.GetProperty("accuracy").GetDouble(), metrics.Accuracy, Tolerance);
        Assert.AreEqual(reference.GetProperty("log_loss").GetDouble(), MulticlassMetrics.LogLoss(truth, probabilities), Tolerance);
        void Same(string average, (double P, double R, double F) ours)
        {
            var r = reference.GetProperty(average);
            Assert.AreEqual(r[0].GetDouble(), ours.P, Tolerance, average);
            Assert.AreEqual(r[1].GetDouble(), ours.R, Tolerance, average);
            Assert.AreEqual(r[2].GetDouble(), ours.F, Tolerance, average);
        }
        Same("macro", metrics.Macro());
        Same("micro", metrics.Micro());
        Same("weighted", metrics.Weighted());
        var perClass = metrics.PerClass();
        for (var c = 0; c < classes; c++)
        {
            Assert.AreEqual(reference.GetProperty("per_class")[0][c].GetDouble(), perClass[c].Precision, Tolerance);
            Assert.AreEqual(reference.GetProperty("per_class")[2][c].GetDouble(), perClass[c].F1, Tolerance);
            for (var k = 0; k < classes; k++) Assert.AreEqual(reference.GetProperty("confusion")[c][k].GetInt64(), metrics.Confusion[c, k]);
        }
    }

    [TestMethod]
    public void Max_f1_threshold_matches_the_precision_recall_curve()
    {
        var (labels, scores) = BinaryFixture(seed: 8);
        var reference = ScikitLearn.Run("""
            from sklearn.metrics import precision_recall_curve
            p, r, t = precision_recall_curve(np.array(data["labels"]), np.array(data["scores"]))
            f = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-300), 0)[:-1]
            best = np.flatnonzero(f == f.max())
            print(json.dumps({"threshold": float(t[best].max()), "f1": float(f.max())}))
            """, new { labels = labels.Select(l => l ? 1 : 0), scores });
        var threshold = BinaryMetrics.MaxF1Threshold(labels, scores);
        Assert.AreEqual(reference.GetProperty("threshold").GetDouble(), threshold, Tolerance);
        Assert.AreEqual(reference.GetProperty("f1").GetDouble(), BinaryMetrics.Confusion(labels, scores, threshold).F1, Tolerance);
    }

    [TestMethod]
    public void Threshold_is_chosen_on_validation_and_applied_to_test()
    {
        var validation = BinaryFixture(seed: 21);
        var (labels, scores) = BinaryFixture(seed: 22);
        var spec = new EvaluationSpec { ThresholdRule = "max-f1", BootstrapSamples = 0 };
        var result = ClassificationEvaluator.EvaluateBinary(labels, scores, [MetricName.Parse("f1")], spec, 1, validation);
        var expected = BinaryMetrics.MaxF1Threshold(validation.Labels, validation.Scores);
        Assert.AreEqual(expected, result.Threshold);
        Assert.AreEqual(BinaryMetrics.Confusion(labels, scores, expected).F1, result.Values[0].Value, Tolerance);
        StringAssert.Contains(result.Protocol, "max F1 on validation");

        var precise = ClassificationEvaluator.EvaluateBinary(labels, scores, [MetricName.Parse("precision")], spec with { ThresholdRule = "target-precision", TargetPrecision = 0.7 }, 1, validation);
        Assert.IsTrue(BinaryMetrics.Confusion(validation.Labels, validation.Scores, precise.Threshold!.Value).Precision >= 0.7);
        var fixedRule = ClassificationEvaluator.EvaluateBinary(labels, scores, [MetricName.Parse("f1")], spec, 1, validation: null);
        Assert.AreEqual(0.5, fixedRule.Threshold);
        StringAssert.Contains(fixedRule.Protocol, "no validation data");
    }

    [TestMethod]
    public void DeLong_variance_equals_its_pairwise_definition()
    {
        var (labels, scores) = BinaryFixture(seed: 5, n: 120);
        var positives = scores.Where((_, i) => labels[i]).ToArray();
        var negatives = scores.Where((_, i) => !labels[i]).ToArray();
        static double Psi(double x, double y) => x > y ? 1 : x == y ? 0.5 : 0;
        var v10 = positives.Select(x => negatives.Average(y => Psi(x, y))).ToArray();
        var v01 = negatives.Select(y => positives.Average(x => Psi(x, y))).ToArray();
        static double Var(double[] v) { var m = v.Average(); return v.Sum(x => (x - m) * (x - m)) / (v.Length - 1); }
        var expected = Var(v10) / positives.Length + Var(v01) / negatives.Length;
        var (auc, variance) = DeLong.AucVariance(labels, scores);
        Assert.AreEqual(v10.Average(), auc, 1e-12);
        Assert.AreEqual(expected, variance, 1e-12);
        Assert.AreEqual(BinaryMetrics.RocAuc(labels, scores), auc, 1e-12);
        var (_, lower, upper) = DeLong.Interval(labels, scores, 0.95);
        Assert.AreEqual(1.959963984540054 * Math.Sqrt(expected), (upper - lower) / 2, 1e-9);
    }

    [TestMethod]
    public void Normal_quantiles()
    {
        Assert.AreEqual(1.959963984540054, Normal.Quantile(0.975), 1e-12);
        Assert.AreEqual(-2.3263478740408408, Normal.Quantile(0.01), 1e-12);
        Assert.AreEqual(0.0, Normal.Quantile(0.5), 1e-15);
        Assert.AreEqual(0.975, Normal.Cdf(1.959963984540054), 1e-13);
    }

    [TestMethod]
    public void Auc_is_invariant_to_monotone_transforms_and_flips_with_the_order()
    {
        Gen.Int[0, 1].Array[4, 60].Select(Gen.Int[0, 20].Array[60], (labels, raw) => (labels, raw)).Sample(t =>
        {
            var labels = t.labels.Select(l => l == 1).ToArray();
            if (labels.All(l => l) || labels.All(l => !l)) return;
            var scores = t.raw.Take(labels.Length).Select(x => (double)x).ToArray();
            var auc = BinaryMetrics.RocAuc(labels, scores);
            Assert.AreEqual(auc, BinaryMetrics.RocAuc(labels, scores.Select(s => Math.Exp(s / 3)).ToArray()), 1e-12);
            Assert.AreEqual(1 - auc, BinaryMetrics.RocAuc(labels, scores.Select(s => -s).ToArray()), 1e-12);
        }, iter: 300);
    }

    [TestMethod]
    public void Intervals_bracket_the_values()
    {
        var (labels, scores) = BinaryFixture();
        var metrics = new[] { "auc", "pr-auc", "log-loss", "f1", "accuracy" }.Select(MetricName.Parse).ToList();
        var result = ClassificationEvaluator.EvaluateBinary(labels, scores, metrics, new EvaluationSpec { ThresholdRule = "fixed", BootstrapSamples = 300 }, 4);
        foreach (var v in result.Values) Assert.IsTrue(v.Lower <= v.Value && v.Value <= v.Upper, v.ToString());
    }

    [TestMethod]
    public void Curves_start_end_and_calibrate_where_expected()
    {
        var (labels, scores) = BinaryFixture();
        var roc = Curves.Roc(labels, scores);
        Assert.AreEqual((0.0, 0.0), roc[0]);
        Assert.AreEqual((1.0, 1.0), roc[^1]);
        var area = 0.0;
        for (var i = 1; i < roc.Count; i++) area += (roc[i].Fpr - roc[i - 1].Fpr) * (roc[i].Tpr + roc[i - 1].Tpr) / 2;
        Assert.AreEqual(BinaryMetrics.RocAuc(labels, scores), area, 1e-12, "trapezoid under the ROC points = AUC");
        var calibration = Curves.Calibration(labels, scores);
        Assert.AreEqual(labels.Length, calibration.Sum(b => b.Count));
    }
    [TestMethod]
    public void Thinned_curves_keep_the_ends_and_only_points_of_the_curve_a_step_apart()
    {
        // 20,000 test rows give an ROC curve of thousands of points; thinned at resolution 100 it keeps at most a few hundred.
        var random = new Random(11);
        var labels = Enumerable.Range(0, 20_000).Select(_ => random.NextDouble() < 0.3).ToArray();
        var scores = labels.Select(l => (l ? 0.3 : 0) + random.NextDouble()).ToArray();
        var roc = Curves.Roc(labels, scores).Select(p => (p.Fpr, p.Tpr)).ToList();
        var thin = Curves.Thin(roc, resolution: 100);
        Assert.IsGreaterThan(2000, roc.Count);
        // Each kept point moves at least 1/100 in x or y from the one before, so a monotone curve from (0,0) to (1,1) keeps at most 2 × 100 + 2.
        Assert.IsLessThanOrEqualTo(202, thin.Count);
        Assert.AreEqual(roc[0], thin[0]);
        Assert.AreEqual(roc[^1], thin[^1]);
        var points = roc.ToHashSet();
        Assert.IsTrue(thin.All(points.Contains), "every kept point is a point of the curve");
        for (var i = 1; i < thin.Count - 1; i++)
            Assert.IsTrue(Math.Abs(thin[i].X - thin[i - 1].X) >= 0.01 || Math.Abs(thin[i].Y - thin[i - 1].Y) >= 0.01, $"point {i}");
        // No stretch of the curve longer than a step in x or y is skipped: between kept neighbours, every dropped point lies within 1/100 of the earlier one.
        var position = roc.Select((p, i) => (p, i)).Where(x => thin.Contains(x.p)).Select(x => x.i).Distinct().ToList();
        foreach (var (a, b) in position.Zip(position.Skip(1)))
            for (var j = a + 1; j < b; j++)
                Assert.IsTrue(Math.Abs(roc[j].Fpr - roc[a].Fpr) < 0.01 && Math.Abs(roc[j].Tpr - roc[a].Tpr) < 0.01, $"dropped point {j}");
    }
}
