using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Evaluation;
using Experiments.Evaluation.Classification;
using Experiments.Evaluation.Statistics;

namespace Experiments.Tests.Evaluation;

/// <summary>Paired tests for every task: DeLong's paired AUC test against the 1988 formula, Holm, p-value printing, rating and classification differences.</summary>
[TestClass]
public sealed class PairedComparisonTests
{
    /// <summary>Two correlated classifiers on the same 300 rows (40% positive), scores rounded so that ties occur.</summary>
    private static (bool[] Labels, double[] A, double[] B) TwoClassifiers(int seed = 6)
    {
        var random = new Random(seed);
        var labels = new bool[300];
        var a = new double[300];
        var b = new double[300];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = random.NextDouble() < 0.4;
            var shared = random.NextDouble() - 0.5;
            a[i] = Math.Round(1 / (1 + Math.Exp(-((labels[i] ? 0.5 : -0.5) + 1.5 * shared + 0.8 * (random.NextDouble() - 0.5)))), 2);
            b[i] = Math.Round(1 / (1 + Math.Exp(-((labels[i] ? 0.9 : -0.9) + 1.5 * shared + 0.8 * (random.NextDouble() - 0.5)))), 2);
        }
        return (labels, a, b);
    }

    [TestMethod]
    public void DeLong_paired_test_matches_the_1988_formula()
    {
        var (labels, a, b) = TwoClassifiers();
        // DeLong, DeLong & Clarke-Pearson (1988) from their definitions, O(m·n): ψ(x, y) = 1 if x > y, ½ if x = y;
        // V10 = mean over negatives, V01 = mean over positives; S10, S01 the covariance matrices (ddof 1);
        // Var(AUC_b − AUC_a) = (S10_aa + S10_bb − 2 S10_ab)/m + (S01_aa + S01_bb − 2 S01_ab)/n; p = 2 (1 − Φ(|z|)).
        var reference = ScikitLearn.Run("""
            import math
            y = np.array(data["labels"]) == 1; a = np.array(data["a"]); b = np.array(data["b"])
            def placements(s):
                pos, neg = s[y], s[~y]
                psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
                return psi.mean(axis=1), psi.mean(axis=0)
            a10, a01 = placements(a); b10, b01 = placements(b)
            s10 = np.cov(np.vstack([a10, b10])); s01 = np.cov(np.vstack([a01, b01]))
            var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / len(a10) + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / len(a01)
            diff = b10.mean() - a10.mean()
            z = diff / math.sqrt(var)
            print(json.dumps({"diff": diff, "var": var, "p": math.erfc(abs(z) / math.sqrt(2)), "half": 1.959963984540054 * math.sqrt(var)}))
            """, new { labels = labels.Select(l => l ? 1 : 0), a, b });
        var (difference, variance, lower, upper, p) = DeLong.Paired(labels, a, b, 0.95);
        Assert.AreEqual(reference.GetProperty("diff").GetDouble(), difference, 1e-12);
        Assert.AreEqual(reference.GetProperty("var").GetDouble(), variance, 1e-12);
        Assert.AreEqual(reference.GetProperty("p").GetDouble(), p, 1e-9);
        Assert.AreEqual(reference.GetProperty("half").GetDouble(), (upper - lower) / 2, 1e-9);
        Assert.IsLessThan(0.05, p, "b separates the classes better");
        var same = DeLong.Paired(labels, a, a, 0.95);
        Assert.AreEqual((0.0, 1.0), (same.Difference, same.PValue));
    }

    [TestMethod]
    public void Holm_adjusts_a_family_by_hand()
    {
        // Sorted: 0.005 × 4 = 0.02; 0.01 × 3 = 0.03; 0.03 × 2 = 0.06; 0.04 × 1 = 0.04 → kept monotone at 0.06.
        CollectionAssert.AreEqual(new[] { 0.03, 0.06, 0.06, 0.02 }, PairedComparison.Holm([0.01, 0.04, 0.03, 0.005]).Select(p => Math.Round(p.P, 12)).ToArray());
        CollectionAssert.AreEqual(new[] { 1.0, 1.0 }, PairedComparison.Holm([0.6, 0.7]).Select(p => p.P).ToArray(), "never above 1");
        // Three tests at the floor of 200 resamples (1/201) and one at 0.3: the smallest becomes 4 × 1/201 and the next
        // two keep it (4/201 > 3/201 > 2/201) — set by a floor p-value, so only bounds — and 0.3 stays 0.3, exact.
        var floor = 1 / 201.0;
        var bounded = PairedComparison.Holm([floor, floor, 0.3, floor], [true, true, false, true]);
        CollectionAssert.AreEqual(new[] { (4 * floor, true), (4 * floor, true), (0.3, false), (4 * floor, true) }, bounded);
        Assert.AreEqual("≤ 0.020 (200 resamples)", PValues.FormatAdjusted(4 * floor, bound: true, 200));
        Assert.AreEqual("0.300", PValues.FormatAdjusted(0.3, bound: false, 200));
    }

    [TestMethod]
    public void P_values_at_the_resampling_floor_print_as_a_bound_with_their_resamples()
    {
        Assert.AreEqual("< 0.005 (200 resamples)", PValues.Format(1 / 201.0, 200));
        Assert.AreEqual("< 0.001 (1000 resamples)", PValues.Format(1 / 1001.0, 1000));
        Assert.AreEqual("< 0.02 (50 resamples)", PValues.Format(1 / 51.0, 50));
        Assert.AreEqual("0.010", PValues.Format(2 / 201.0, 200));
        Assert.AreEqual("0.350", PValues.Format(0.35));
        Assert.AreEqual("0.0004", PValues.Format(0.00042));
        Assert.AreEqual("< 0.0001", PValues.Format(3e-9));
    }

    [TestMethod]
    public void Rating_models_are_compared_on_each_users_errors()
    {
        var random = new Random(3);
        var builder = new InteractionsBuilder();
        for (var r = 0; r < 400; r++) builder.Add($"u{random.Next(50)}", $"i{random.Next(30)}", 1 + random.Next(5));
        var test = builder.Build();
        float Good(int u, int i) => 3 + (float)Math.Sin(u + i);
        float Bad(int u, int i) => Good(u, i) + 1.2f;
        var metrics = new[] { "rmse", "mae", "r2" }.Select(MetricName.Parse).ToList();
        var spec = new EvaluationSpec { BootstrapSamples = 0 };
        var a = RecommenderEvaluator.Evaluate(new Predictions(Bad), test, test, metrics, spec, 0).PerUser;
        var b = RecommenderEvaluator.Evaluate(new Predictions(Good), test, test, metrics, spec, 0).PerUser;
        var results = PairedComparison.Compare(metrics, a.Values, b.Values, new PairedSettings(200, 0.95, 1));
        Assert.HasCount(3, results);
        // Independently: RMSE and MAE of each model over every test row.
        double Rmse(Func<int, int, float> f) => Math.Sqrt(Enumerable.Range(0, test.Count).Average(r => Math.Pow((double)f(test.User[r], test.Item[r]) - test.Rating[r], 2)));
        double Mae(Func<int, int, float> f) => Enumerable.Range(0, test.Count).Average(r => Math.Abs((double)f(test.User[r], test.Item[r]) - test.Rating[r]));
        var rmse = results.Single(c => c.Metric == "rmse");
        Assert.AreEqual(Rmse(Good) - Rmse(Bad), rmse.Difference, 1e-9);
        Assert.AreEqual(Mae(Good) - Mae(Bad), results.Single(c => c.Metric == "mae").Difference, 1e-9);
        Assert.IsTrue(rmse.Upper < 0, rmse.ToString());
        Assert.AreEqual(PValues.Floor(200), rmse.PValue, 1e-15, "no exchange of the two models' errors comes near a 1.2-star bias");
        Assert.AreEqual(test.CountDistinct().Users, rmse.Units, "users are the units");
        Assert.AreEqual(PairedComparison.Resampled, rmse.Test);
    }

    [TestMethod]
    public void Classifiers_are_compared_on_the_same_rows_by_bootstrap_permutation_and_delong()
    {
        var (labels, a, b) = TwoClassifiers(seed: 9);
        var metrics = new[] { "auc", "log-loss", "f1" }.Select(MetricName.Parse).ToList();
        var results = PairedComparison.Compare(metrics, UnitStatistics.BinaryRows(labels, a, 0.5), UnitStatistics.BinaryRows(labels, b, 0.45), new PairedSettings(200, 0.95, 7));
        var reference = ScikitLearn.Run("""
            from sklearn import metrics as m
            y = np.array(data["labels"]); a = np.array(data["a"]); b = np.array(data["b"])
            print(json.dumps({"auc": m.roc_auc_score(y, b) - m.roc_auc_score(y, a), "log_loss": m.log_loss(y, b) - m.log_loss(y, a),
                              "f1": m.f1_score(y, b >= 0.45) - m.f1_score(y, a >= 0.5)}))
            """, new { labels = labels.Select(l => l ? 1 : 0), a, b });
        Assert.AreEqual(reference.GetProperty("auc").GetDouble(), results.Single(r => r.Metric == "auc" && r.Test == PairedComparison.Resampled).Difference, 1e-12);
        Assert.AreEqual(reference.GetProperty("log_loss").GetDouble(), results.Single(r => r.Metric == "log-loss").Difference, 1e-12);
        Assert.AreEqual(reference.GetProperty("f1").GetDouble(), results.Single(r => r.Metric == "f1").Difference, 1e-12);
        var delong = results.Single(r => r.Test == PairedComparison.DeLongTest);
        Assert.AreEqual(reference.GetProperty("auc").GetDouble(), delong.Difference, 1e-12);
        Assert.IsNull(delong.Resamples, "an analytic test has no resampling floor");
        Assert.AreEqual(DeLong.Paired(labels, a, b, 0.95).PValue, delong.PValue);
        foreach (var r in results) Assert.IsTrue(r.Lower <= r.Difference && r.Difference <= r.Upper && r.Units == 300, r.ToString());
        // The same comparison with the metrics listed the other way round: the same numbers.
        var reversed = PairedComparison.Compare(metrics.AsEnumerable().Reverse().ToList(), UnitStatistics.BinaryRows(labels, a, 0.5), UnitStatistics.BinaryRows(labels, b, 0.45), new PairedSettings(200, 0.95, 7));
        CollectionAssert.AreEquivalent(results, reversed);
    }
}
