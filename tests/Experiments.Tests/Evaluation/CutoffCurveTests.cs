using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Core.Models;
using Experiments.Evaluation;
using Experiments.Evaluation.Ranking;

namespace Experiments.Tests.Evaluation;

/// <summary>The metric@K curves, coverage and popularity deciles the evaluator computes in the same pass as its top-K lists.</summary>
[TestClass]
public sealed class CutoffCurveTests
{
    /// <summary>Scores item i as −i: the ranking is 0, 1, 2, ... for every user.</summary>
    private sealed class IndexOrderModel : IRecommenderModel
    {
        public void ScoreItems(int user, Span<float> scores) { for (var i = 0; i < scores.Length; i++) scores[i] = -i; }
        public bool PredictsRatings => false;
        public float PredictRating(int user, int item) => 0;
    }

    [TestMethod]
    public void Curves_of_a_hand_worked_case()
    {
        // Items a..e = 0..4. x trained on a, tests b and e; y trained on b, tests a; z trained on c, no test rows.
        var builder = new InteractionsBuilder();
        foreach (var item in "abcde") builder.Items.GetOrAdd(item.ToString());
        builder.Add("x", "a", 1); builder.Add("y", "b", 1); builder.Add("z", "c", 1);
        builder.Add("x", "b", 1); builder.Add("x", "e", 1); builder.Add("y", "a", 1);
        var all = builder.Build();
        var result = RecommenderEvaluator.Evaluate(new IndexOrderModel(), all.Subset([0, 1, 2]), all.Subset([3, 4, 5]), [MetricName.Parse("recall@2")],
            new EvaluationSpec { BootstrapSamples = 0 }, 0);
        var curves = result.Curves!.ToDictionary(c => c.Metric, c => c.Values);
        Assert.HasCount(CutoffCurves.Depth, curves["ndcg"]);
        // x's candidates b, c, d, e: hits at ranks 1 and 4 of 2 relevant. y's candidates a, c, d, e: a hit at rank 1 of 1.
        double Log2(double x) => Math.Log(x) / Math.Log(2);
        var idcg2 = 1 + 1 / Log2(3);
        var expectedNdcg = new[] { 1.0, (1 / idcg2 + 1) / 2, (1 / idcg2 + 1) / 2, ((1 + 1 / Log2(5)) / idcg2 + 1) / 2 };
        for (var k = 1; k <= CutoffCurves.Depth; k++)
        {
            Assert.AreEqual(expectedNdcg[Math.Min(k, 4) - 1], curves["ndcg"][k - 1], 1e-12, $"ndcg@{k}");
            Assert.AreEqual(1.0, curves["hit-rate"][k - 1], $"hit-rate@{k}");
            Assert.AreEqual(k < 4 ? 0.75 : 1.0, curves["recall"][k - 1], 1e-12, $"recall@{k}");
            // Best ranks: a and b 1 (y's and x's first), c 2, d 3, e 4 (x's list).
            Assert.AreEqual(Math.Min(k + 1, 5) / 5.0, curves["coverage"][k - 1], 1e-12, $"coverage@{k}");
        }
        Assert.AreEqual(result.Values.Single().Value, curves["recall"][1], "recall@2 from the curve is the metric");

        // Training popularity: a, b, c one user each, d and e none; five items fill deciles 1, 3, 5, 7, 9 in that order.
        // The top-2 lists (the definition's K): x b, c; y a, c.
        var popularity = result.Popularity!;
        Assert.AreEqual(2, popularity.K);
        CollectionAssert.AreEqual(new[] { 0.25, 0, 0.25, 0, 0.5, 0, 0, 0, 0, 0 }, popularity.Recommended);
        CollectionAssert.AreEqual(new[] { 1 / 3.0, 0, 1 / 3.0, 0, 1 / 3.0, 0, 0, 0, 0, 0 }, popularity.Training);
    }

    [TestMethod]
    public void Each_point_equals_the_metric_at_that_cut_off_binary_and_graded()
    {
        // Random ratings 1..5 on 60 users × 80 items; a model of random scores; relevance from rating 3 upwards.
        var random = new Random(5);
        var builder = new InteractionsBuilder();
        for (var u = 0; u < 60; u++)
            foreach (var i in Enumerable.Range(0, 80).Where(_ => random.NextDouble() < 0.2))
                builder.Add($"u{u}", $"i{i}", random.Next(1, 6));
        var all = builder.Build();
        var rows = Enumerable.Range(0, all.Count).ToArray();
        var train = all.Subset(rows.Where(r => r % 4 != 0).ToArray());
        var test = all.Subset(rows.Where(r => r % 4 == 0).ToArray());
        var scores = Enumerable.Range(0, 60 * all.Items.Count).Select(_ => (float)random.NextDouble()).ToArray();
        var model = new Predictions((u, i) => scores[u * all.Items.Count + i]);
        foreach (var graded in new[] { false, true })
        {
            var spec = new EvaluationSpec { BootstrapSamples = 0, RelevanceThreshold = 3, GradedRelevance = graded };
            var curves = RecommenderEvaluator.Evaluate(model, train, test, [MetricName.Parse("ndcg@10")], spec, 0).Curves!.ToDictionary(c => c.Metric, c => c.Values);
            foreach (var k in new[] { 1, 3, 10, 27, 50 })
            {
                var metrics = new[] { $"ndcg@{k}", $"hit-rate@{k}", $"recall@{k}", $"coverage@{k}" }.Select(MetricName.Parse).ToList();
                var values = RecommenderEvaluator.Evaluate(model, train, test, metrics, spec, 0).Values;
                foreach (var value in values)
                    Assert.AreEqual(value.Value, curves[value.Metric][k - 1], 1e-12, $"{value.Label}, graded {graded}");
            }
        }
    }
}
