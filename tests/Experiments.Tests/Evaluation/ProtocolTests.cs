using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Evaluation;
using Experiments.Evaluation.Classification;
using Experiments.Evaluation.Ranking;
using Experiments.Evaluation.Statistics;

namespace Experiments.Tests.Evaluation;

/// <summary>The evaluation protocol: validation items, both MAPs, novelty's user set, and intervals (values worked out in the comments).</summary>
[TestClass]
public sealed class ProtocolTests
{
    private static readonly EvaluationSpec NoBootstrap = new() { BootstrapSamples = 0 };

    [TestMethod]
    public void Validation_items_are_removed_from_the_candidates_like_training_items()
    {
        // Items a..d = 0..3, scored a > b > c > d. User x: trained on a, validated on b, tested on c.
        var builder = new InteractionsBuilder();
        foreach (var item in "abcd") builder.Items.GetOrAdd(item.ToString());
        builder.Add("x", "a"); builder.Add("x", "b"); builder.Add("x", "c");
        var all = builder.Build();
        var (train, validation, test) = (all.Subset([0]), all.Subset([1]), all.Subset([2]));
        var model = new Predictions((_, i) => -i);
        var metrics = new[] { MetricName.Parse("precision@1") };
        // Candidates c, d: the top item is c, relevant. Had b stayed a candidate, it would take the top and miss.
        var result = RecommenderEvaluator.Evaluate(model, train, test, metrics, NoBootstrap, 0, validation: validation);
        Assert.AreEqual(1.0, result.Values[0].Value);
        StringAssert.Contains(result.Protocol, "training and validation items removed");
        Assert.AreEqual(0.0, RecommenderEvaluator.Evaluate(model, train, test, metrics, NoBootstrap, 0).Values[0].Value, "without the validation rows b is a candidate");

        // A test pair that is also a validation pair (row splits) can never be recommended: it counts as unreachable.
        var rows = new InteractionsBuilder(all.Users, all.Items);
        rows.Add("x", "b"); rows.Add("x", "d");
        var overlapping = RecommenderEvaluator.Evaluate(model, train, rows.Build(), [MetricName.Parse("recall@2")], NoBootstrap, 0, validation: validation);
        Assert.AreEqual(0.5, overlapping.Unreachable);
        Assert.AreEqual(0.5, overlapping.Values[0].Value, "d is found; b was removed");
        StringAssert.Contains(overlapping.Protocol, "UNREACHABLE: 50.0% of the relevant test pairs (1 of 2)");

        // Sampled protocol: validation items are not negatives either. Items a..f; a, b, c are the user's: 3 are left.
        foreach (var item in "ef") all.Items.GetOrAdd(item.ToString());
        var sampled = new EvaluationSpec { Protocol = "sampled", Negatives = 3, BootstrapSamples = 0 };
        var ranked = RecommenderEvaluator.Evaluate(new Predictions((_, i) => i), train, test, [MetricName.Parse("mrr@10")], sampled, 1, validation: validation);
        Assert.AreEqual(1 / 4.0, ranked.Values[0].Value, 1e-12, "c (score 2) below d, e, f: rank 4");
        var tooMany = Assert.ThrowsExactly<ExperimentsException>(() =>
            RecommenderEvaluator.Evaluate(model, train, test, [MetricName.Parse("mrr@10")], sampled with { Negatives = 4 }, 1, validation: validation));
        StringAssert.Contains(tooMany.Message, "only 3 items left to sample 4 negatives");
    }

    [TestMethod]
    public void Both_maps_by_hand()
    {
        int[] ranked = [5, 3, 9, 1, 7];
        HashSet<int> relevant = [3, 7, 8];
        // Precision at the hits: 1/2 (rank 2) and 2/5 (rank 5). @5: both ÷ min(5, 3) = 3 and ÷ |R| = 3.
        Assert.AreEqual(0.9 / 3, RankingMetrics.Compute("map", ranked, relevant, 5), 1e-12);
        Assert.AreEqual(0.9 / 3, RankingMetrics.Compute("map-relevant", ranked, relevant, 5), 1e-12);
        // @2: one hit, precision 1/2; map@2 divides by min(2, 3) = 2, map-relevant@2 by |R| = 3.
        Assert.AreEqual(0.25, RankingMetrics.Compute("map", ranked, relevant, 2), 1e-12);
        Assert.AreEqual(0.5 / 3, RankingMetrics.Compute("map-relevant", ranked, relevant, 2), 1e-12);
        // An ideal list of 2 when 3 are relevant: map@2 = 1, map-relevant@2 = (1 + 1) / 3.
        Assert.AreEqual(1.0, RankingMetrics.Compute("map", [3, 7], relevant, 2), 1e-12);
        Assert.AreEqual(2 / 3.0, RankingMetrics.Compute("map-relevant", [3, 7], relevant, 2), 1e-12);
        Assert.IsNull(MetricName.Check("map-relevant@10", MetricCatalog.All), "definitions accept it");
        Assert.IsNotNull(MetricName.Check("map-relevant", MetricCatalog.All), "it needs a cut-off");
    }

    [TestMethod]
    public void Both_maps_match_microsoft_recommenders_map_and_map_at_k()
    {
        // 30 users × 40 items, 1–15 relevant items each, distinct scores; a user "z" owns the only training row.
        var random = new Random(12);
        var builder = new InteractionsBuilder();
        for (var i = 0; i < 40; i++) builder.Items.GetOrAdd($"i{i}");
        builder.Users.GetOrAdd("z");
        builder.Add("z", "i0");
        var truth = new List<int[]>();
        for (var u = 0; u < 30; u++)
        {
            var items = Enumerable.Range(0, 40).OrderBy(_ => random.Next()).Take(1 + random.Next(15)).ToArray();
            truth.Add(items);
            foreach (var i in items) builder.Add($"u{u}", $"i{i}");
        }
        var all = builder.Build();
        var scores = Enumerable.Range(0, 31).Select(_ => Enumerable.Range(0, 40).Select(_ => random.NextDouble()).ToArray()).ToArray();
        var model = new Predictions((u, i) => (float)scores[u][i]);
        var train = all.Subset([0]);
        var test = all.Subset(Enumerable.Range(1, all.Count - 1).ToArray());
        // Microsoft Recommenders' formulas (recommenders/evaluation/python_evaluation.py, map and map_at_k): per user the
        // hits in the top k, rr = Σ (hit number) / rank; map = Σ_u rr / |R_u| / users, map_at_k = Σ_u rr / min(|R_u|, k) / users.
        // User 0 of the scores is "z"; the candidates of the test users are all 40 items (z's item i0 is not theirs).
        var reference = ScikitLearn.Run("""
            truth = data["truth"]; scores = np.array(data["scores"])
            out = {}
            for k in [5, 10]:
                m, mk = 0.0, 0.0
                for u, relevant in enumerate(truth):
                    top = np.argsort(-scores[u + 1])[:k]
                    rr, hits = 0.0, 0
                    for rank, item in enumerate(top, start=1):
                        if item in relevant:
                            hits += 1
                            rr += hits / rank
                    m += rr / len(relevant); mk += rr / min(len(relevant), k)
                out[f"map{k}"] = m / len(truth); out[f"map_at_k{k}"] = mk / len(truth)
            print(json.dumps(out))
            """, new { truth, scores = scores.Select(row => row.Select(s => (double)(float)s)) });
        var metrics = new[] { "map@5", "map-relevant@5", "map@10", "map-relevant@10" }.Select(MetricName.Parse).ToList();
        var spec = new EvaluationSpec { BootstrapSamples = 0, ExcludeTrainItems = false };
        var values = RecommenderEvaluator.Evaluate(model, train, test, metrics, spec, 0).Values;
        Assert.AreEqual(reference.GetProperty("map_at_k5").GetDouble(), values[0].Value, 1e-12);
        Assert.AreEqual(reference.GetProperty("map5").GetDouble(), values[1].Value, 1e-12);
        Assert.AreEqual(reference.GetProperty("map_at_k10").GetDouble(), values[2].Value, 1e-12);
        Assert.AreEqual(reference.GetProperty("map10").GetDouble(), values[3].Value, 1e-12);
        Assert.IsLessThan(values[2].Value, values[3].Value, "÷ |R| is never above ÷ min(K, |R|)");
    }

    [TestMethod]
    public void Novelty_counts_popularity_over_the_training_users_on_a_cold_start_users_split()
    {
        // Cold-start users: a and b train (a: i0; b: i0, i1); c is only in test (i2). Two training users, so
        // p(i0) = 2/2, p(i1) = 1/2, p(i2) = 0 → the floor, one training user of two: 1/2 (not 1/3 of all users).
        var builder = new InteractionsBuilder();
        builder.Add("a", "i0"); builder.Add("b", "i0"); builder.Add("b", "i1"); builder.Add("c", "i2");
        var all = builder.Build();
        var (train, test) = (all.Subset([0, 1, 2]), all.Subset([3]));
        var result = RecommenderEvaluator.Evaluate(new Predictions((_, i) => 10 - i), train, test, [MetricName.Parse("novelty@3")], NoBootstrap, 0);
        // c's list: i0, i1, i2 → (−log2 1 − log2 1/2 − log2 1/2) / 3 = 2/3.
        Assert.AreEqual(2 / 3.0, result.Values[0].Value, 1e-12);
    }

    [TestMethod]
    public void Intervals_do_not_depend_on_the_order_of_the_metrics()
    {
        var random = new Random(5);
        var builder = new InteractionsBuilder();
        for (var r = 0; r < 800; r++) builder.Add($"u{random.Next(60)}", $"i{random.Next(50)}", 1 + random.Next(5));
        var data = builder.Build();
        var train = data.Subset(Enumerable.Range(0, data.Count).Where(r => r % 5 != 0).ToArray());
        var test = data.Subset(Enumerable.Range(0, data.Count).Where(r => r % 5 == 0).ToArray());
        var model = new Predictions((u, i) => (float)Math.Sin(u * 3 + i * 7) + 3);
        var spec = new EvaluationSpec { BootstrapSamples = 100 };
        void Same(IReadOnlyList<MetricValue> x, IReadOnlyList<MetricValue> y)
        {
            foreach (var v in x)
            {
                var w = y.Single(m => m.Label == v.Label);
                Assert.IsNotNull(v.Lower, v.Label);
                Assert.AreEqual((v.Lower, v.Upper), (w.Lower, w.Upper), v.Label);
            }
        }
        string[] ranking = ["ndcg@5", "recall@5", "map@5"], rating = ["rmse", "mae"];
        Same(RecommenderEvaluator.Evaluate(model, train, test, ranking.Select(MetricName.Parse).ToList(), spec, 3).Values,
            RecommenderEvaluator.Evaluate(model, train, test, ranking.Reverse().Select(MetricName.Parse).ToList(), spec, 3).Values);
        Same(RecommenderEvaluator.Evaluate(model, train, test, rating.Select(MetricName.Parse).ToList(), spec, 3).Values,
            RecommenderEvaluator.Evaluate(model, train, test, rating.Reverse().Select(MetricName.Parse).ToList(), spec, 3).Values);
        var labels = Enumerable.Range(0, 300).Select(_ => random.NextDouble() < 0.3).ToArray();
        var scores = labels.Select(l => Math.Clamp((l ? 0.6 : 0.4) + 0.3 * (random.NextDouble() - 0.5), 0.01, 0.99)).ToArray();
        string[] classification = ["f1", "log-loss", "pr-auc"];
        var fixedThreshold = spec with { ThresholdRule = "fixed" };
        Same(ClassificationEvaluator.EvaluateBinary(labels, scores, classification.Select(MetricName.Parse).ToList(), fixedThreshold, 3).Values,
            ClassificationEvaluator.EvaluateBinary(labels, scores, classification.Reverse().Select(MetricName.Parse).ToList(), fixedThreshold, 3).Values);
    }

    [TestMethod]
    public void Auc_gets_delongs_interval_without_bootstrap()
    {
        var random = new Random(8);
        var labels = Enumerable.Range(0, 200).Select(_ => random.NextDouble() < 0.4).ToArray();
        var scores = labels.Select(l => (l ? 0.6 : 0.4) + 0.4 * (random.NextDouble() - 0.5)).ToArray();
        var auc = ClassificationEvaluator.EvaluateBinary(labels, scores, [MetricName.Parse("auc")], new EvaluationSpec { BootstrapSamples = 0, ThresholdRule = "fixed" }, 1).Values[0];
        var (_, lower, upper) = DeLong.Interval(labels, scores, 0.95);
        Assert.AreEqual(lower, auc.Lower);
        Assert.AreEqual(upper, auc.Upper);
    }

    [TestMethod]
    public void Resamples_that_leave_a_statistic_undefined_are_drawn_again_and_counted()
    {
        // Two units with values 0 and 1; the statistic is undefined on any draw holding unit 0. Only the draw {1, 1}
        // is defined, so every kept resample is 1: the interval is [1, 1]. A stand-in value would have widened or
        // narrowed it; three draws in four are redrawn on average.
        double[] values = [0, 1];
        var interval = Bootstrap.Interval(2, draw => draw.Contains(0) ? double.NaN : UnitStatistics.Mean(values, draw), 200, 0.95, 4);
        Assert.AreEqual((1.0, 1.0), (interval.Lower, interval.Upper));
        Assert.IsGreaterThan(300, interval.Redrawn);
        Assert.IsLessThan(900, interval.Redrawn);

        // PR-AUC with 2 positives in 40 rows: (38/40)^40 ≈ 13% of resamples have no positive; the protocol counts them.
        var labels = Enumerable.Range(0, 40).Select(i => i is 0 or 39).ToArray();
        var scores = Enumerable.Range(0, 40).Select(i => 1 - i / 40.0).ToArray();
        var result = ClassificationEvaluator.EvaluateBinary(labels, scores, [MetricName.Parse("pr-auc")], new EvaluationSpec { BootstrapSamples = 200, ThresholdRule = "fixed" }, 2);
        var match = System.Text.RegularExpressions.Regex.Match(result.Protocol, @"pr-auc interval: (\d+) resamples without a positive row were drawn again");
        Assert.IsTrue(match.Success, result.Protocol);
        Assert.IsTrue(int.Parse(match.Groups[1].Value) is > 5 and < 80, match.Value);
        Assert.IsTrue(result.Values[0].Lower <= result.Values[0].Value && result.Values[0].Value <= result.Values[0].Upper);
    }
}
