using CsCheck;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Core.Models;
using Experiments.Evaluation;
using Experiments.Evaluation.Ranking;
using Experiments.Evaluation.Statistics;
using Experiments.Recommenders;

namespace Experiments.Tests.Evaluation;

/// <summary>Ranking and rating metrics against scikit-learn, the sampled protocol and beyond-accuracy metrics by hand, paired tests.</summary>
[TestClass]
public sealed class EngineReferenceTests
{
    [TestMethod]
    public void Graded_and_binary_ndcg_match_scikit_learn()
    {
        // 30 queries × 12 candidates, grades 0..3, distinct scores (scikit-learn averages tied scores; we break ties by index).
        var random = new Random(4);
        var grades = Enumerable.Range(0, 30).Select(_ => Enumerable.Range(0, 12).Select(_ => (double)random.Next(4)).ToArray()).ToArray();
        var scores = Enumerable.Range(0, 30).Select(_ => Enumerable.Range(0, 12).Select(i => random.NextDouble() + i * 1e-6).ToArray()).ToArray();
        var reference = ScikitLearn.Run("""
            from sklearn.metrics import ndcg_score
            g = np.array(data["grades"]); s = np.array(data["scores"])
            keep = g.sum(axis=1) > 0
            out = {}
            for k in [3, 5, 10]:
                out[f"graded{k}"] = ndcg_score(2 ** g[keep] - 1, s[keep], k=k)
                out[f"binary{k}"] = ndcg_score((g[keep] > 0).astype(float), s[keep], k=k)
            print(json.dumps(out))
            """, new { grades, scores });
        foreach (var k in new[] { 3, 5, 10 })
        {
            var graded = new List<double>();
            var binary = new List<double>();
            for (var q = 0; q < grades.Length; q++)
            {
                if (grades[q].Sum() == 0) continue;
                var ranked = Enumerable.Range(0, 12).OrderByDescending(i => scores[q][i]).ToArray();
                var relevant = Enumerable.Range(0, 12).Where(i => grades[q][i] > 0).ToDictionary(i => i, i => grades[q][i]);
                graded.Add(RankingMetrics.GradedNdcg(ranked, relevant, k));
                binary.Add(RankingMetrics.Ndcg(ranked, relevant.Keys.ToHashSet(), k));
            }
            Assert.AreEqual(reference.GetProperty($"graded{k}").GetDouble(), graded.Average(), 1e-9, $"graded @{k}");
            Assert.AreEqual(reference.GetProperty($"binary{k}").GetDouble(), binary.Average(), 1e-9, $"binary @{k}");
        }
    }

    [TestMethod]
    public void Rating_metrics_match_scikit_learn()
    {
        var random = new Random(9);
        var builder = new InteractionsBuilder();
        for (var r = 0; r < 300; r++) builder.Add($"u{random.Next(40)}", $"i{random.Next(50)}", 1 + random.Next(5));
        var test = builder.Build();
        float Predict(int u, int i) => 3 + (float)Math.Sin(u * 7 + i * 3);
        var predicted = Enumerable.Range(0, test.Count).Select(r => (double)Predict(test.User[r], test.Item[r])).ToArray();
        var reference = ScikitLearn.Run("""
            from sklearn import metrics as m
            y = np.array(data["y"]); p = np.array(data["p"])
            print(json.dumps({"rmse": float(np.sqrt(m.mean_squared_error(y, p))), "mae": m.mean_absolute_error(y, p), "r2": m.r2_score(y, p)}))
            """, new { y = test.Rating.Select(r => (double)r), p = predicted });
        var metrics = new[] { "rmse", "mae", "r2" }.Select(MetricName.Parse).ToList();
        var values = RecommenderEvaluator.Evaluate(new Predictions(Predict), test, test, metrics, new EvaluationSpec { BootstrapSamples = 0 }, 0).Values;
        Assert.AreEqual(reference.GetProperty("rmse").GetDouble(), values[0].Value, 1e-9);
        Assert.AreEqual(reference.GetProperty("mae").GetDouble(), values[1].Value, 1e-9);
        Assert.AreEqual(reference.GetProperty("r2").GetDouble(), values[2].Value, 1e-9);
    }

    /// <summary>Items 0..5; user 0 trained on item 0, test item 3; scores: item i scores i (higher index = better).</summary>
    private static (Interactions Train, Interactions Test) SixItems()
    {
        var builder = new InteractionsBuilder();
        for (var i = 0; i < 6; i++) builder.Items.GetOrAdd($"i{i}");
        builder.Add("u", "i0");
        builder.Add("u", "i3");
        var all = builder.Build();
        return (all.Subset([0]), all.Subset([1]));
    }

    [TestMethod]
    public void Sampled_protocol_ranks_the_positive_among_its_negatives()
    {
        var (train, test) = SixItems();
        var model = new Predictions((_, i) => i);
        // The 4 items never seen (1, 2, 4, 5) are all drawn; 4 and 5 score above item 3, so its rank is 3.
        var metrics = new[] { "hit-rate@2", "hit-rate@3", "ndcg@3", "mrr@5", "precision@3" }.Select(MetricName.Parse).ToList();
        var result = RecommenderEvaluator.Evaluate(model, train, test, metrics, new EvaluationSpec { Protocol = "sampled", Negatives = 4, BootstrapSamples = 0 }, 1);
        Assert.AreEqual(0.0, result.Values[0].Value);
        Assert.AreEqual(1.0, result.Values[1].Value);
        Assert.AreEqual(1 / Math.Log2(4), result.Values[2].Value, 1e-12);
        Assert.AreEqual(1 / 3.0, result.Values[3].Value, 1e-12);
        Assert.AreEqual(1 / 3.0, result.Values[4].Value, 1e-12);
        StringAssert.StartsWith(result.Protocol, "SAMPLED");
        var tooMany = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() =>
            RecommenderEvaluator.Evaluate(model, train, test, metrics, new EvaluationSpec { Protocol = "sampled", Negatives = 5 }, 1));
        StringAssert.Contains(tooMany.Message, "only 4 items left to sample 5 negatives");
    }

    [TestMethod]
    public void Beyond_accuracy_metrics_by_hand()
    {
        // Users a, b, c; items 0..4 with categories. Train: a has 0; b has 0, 1; c has 2. Everyone is tested on item 4.
        var builder = new InteractionsBuilder();
        for (var i = 0; i < 5; i++) builder.Items.GetOrAdd($"i{i}");
        builder.Add("a", "i0"); builder.Add("b", "i0"); builder.Add("b", "i1"); builder.Add("c", "i2");
        builder.Add("a", "i4"); builder.Add("b", "i4"); builder.Add("c", "i4");
        var all = builder.Build();
        var train = all.Subset([0, 1, 2, 3]);
        var test = all.Subset([4, 5, 6]);
        var similarity = new CategorySimilarity(["x", "x|y", "y", "z", null]);
        var model = new Predictions((_, i) => 10 - i); // prefers low indices
        var metrics = new[] { "coverage@2", "diversity@2", "novelty@2", "popularity@2" }.Select(MetricName.Parse).ToList();
        var values = RecommenderEvaluator.Evaluate(model, train, test, metrics, new EvaluationSpec { BootstrapSamples = 0 }, 0, similarity).Values;
        // Top 2 after removing training items: a → 1, 2; b → 2, 3; c → 0, 1.
        Assert.AreEqual(4 / 5.0, values[0].Value, 1e-12, "items 0..3 covered");
        // Jaccard: sim(1,2) = 1/2, sim(2,3) = 0, sim(0,1) = 1/2 → diversity (0.5 + 1 + 0.5) / 3.
        Assert.AreEqual(2 / 3.0, values[1].Value, 1e-12);
        // p: item0 2/3, item1 1/3, item2 1/3, item3 0 (→ 1/3 floor).
        var novelty = (2 * -Math.Log2(1 / 3.0) + 2 * -Math.Log2(1 / 3.0) + (-Math.Log2(2 / 3.0) - Math.Log2(1 / 3.0))) / 6;
        Assert.AreEqual(novelty, values[2].Value, 1e-12);
        Assert.AreEqual(((1 / 3.0 + 1 / 3.0) / 2 + (1 / 3.0 + 0) / 2 + (2 / 3.0 + 1 / 3.0) / 2) / 3, values[3].Value, 1e-12);
        Assert.IsNull(values[0].Lower, "coverage has no per-user interval");
    }

    [TestMethod]
    public void Evaluation_does_not_depend_on_the_order_of_users()
    {
        Gen.Int[0, 1000].Sample(seed =>
        {
            var random = new Random(seed);
            var builder = new InteractionsBuilder();
            for (var r = 0; r < 200; r++) builder.Add($"u{random.Next(25)}", $"i{random.Next(40)}");
            var data = builder.Build();
            var rows = Enumerable.Range(0, data.Count).ToArray();
            var train = data.Subset(rows.Where(r => r % 4 != 0).ToArray());
            var test = data.Subset(rows.Where(r => r % 4 == 0).ToArray());
            var shuffled = data.Subset(rows.Where(r => r % 4 == 0).OrderBy(_ => random.Next()).ToArray());
            var model = new LatentFactorModel(3, Enumerable.Range(0, data.Users.Count * 3).Select(i => (float)Math.Sin(i)).ToArray(),
                Enumerable.Range(0, data.Items.Count * 3).Select(i => (float)Math.Cos(i)).ToArray());
            var metrics = new[] { "ndcg@5", "map@5", "recall@5" }.Select(MetricName.Parse).ToList();
            var spec = new EvaluationSpec { BootstrapSamples = 0 };
            var a = RecommenderEvaluator.Evaluate(model, train, test, metrics, spec, 0).Values.Select(v => v.Value).ToList();
            var b = RecommenderEvaluator.Evaluate(model, train, shuffled, metrics, spec, 0).Values.Select(v => v.Value).ToList();
            for (var i = 0; i < a.Count; i++) Assert.AreEqual(a[i], b[i], 1e-12);
        }, iter: 50);
    }

    [TestMethod]
    public void Batched_and_one_by_one_scoring_agree()
    {
        var model = new LatentFactorModel(5, Enumerable.Range(0, 7 * 5).Select(i => (float)Math.Sin(i)).ToArray(), Enumerable.Range(0, 300 * 5).Select(i => (float)Math.Cos(i * 0.7)).ToArray(),
            itemBias: Enumerable.Range(0, 300).Select(i => i * 0.001f).ToArray());
        var batch = new float[3 * 320];
        model.ScoreItems([0, 6, 9], batch); // user 9 is unseen; items 300..319 are beyond the factors
        var one = new float[320];
        model.ScoreItems(6, one);
        CollectionAssert.AreEqual(one, batch[320..640]);
        Assert.AreEqual(model.PredictRating(6, 17), one[17], 1e-6);
        Assert.AreEqual(0.017f, batch[640 + 17], 1e-7, "an unseen user gets item biases");
        Assert.AreEqual(0f, batch[319]);
    }

    [TestMethod]
    public void Paired_test_finds_a_real_difference_and_not_a_false_one()
    {
        var random = new Random(2);
        var metric = MetricName.Parse("ndcg@10");
        PairedDifference Compare(double[] a, double[] b) =>
            PairedComparison.Compare([metric], new Dictionary<string, double[]> { ["ndcg@10"] = a }, new Dictionary<string, double[]> { ["ndcg@10"] = b }, new PairedSettings(500, 0.95, 1)).Single();
        var a = Enumerable.Range(0, 300).Select(_ => random.NextDouble()).ToArray();
        var same = Compare(a, a);
        Assert.AreEqual(0, same.Difference);
        Assert.AreEqual(1.0, same.PValue);
        var better = a.Select(x => x + 0.05 + 0.1 * (random.NextDouble() - 0.5)).ToArray();
        var test = Compare(a, better);
        Assert.AreEqual(better.Zip(a, (x, y) => x - y).Average(), test.Difference, 1e-12);
        Assert.IsTrue(test.Lower > 0 && test.PValue < 0.01, test.ToString());
        Assert.AreEqual(PValues.Floor(500), test.PValue, 1e-15, "no sign flip reaches the observed mean: p sits at the floor");
        var noise = a.Select(x => x + 0.3 * (random.NextDouble() - 0.5)).ToArray();
        var null_ = Compare(a, noise);
        Assert.IsTrue(null_.Lower < 0 && null_.Upper > 0 && null_.PValue > 0.05, null_.ToString());
    }
}
