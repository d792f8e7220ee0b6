using CsCheck;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Core.Models;
using Experiments.Evaluation;
using Experiments.Evaluation.Ranking;
using Experiments.Evaluation.Statistics;

namespace Experiments.Tests.Evaluation;

/// <summary>Ranking metrics on hand-computed cases (values worked out in the comments).</summary>
[TestClass]
public sealed class RankingMetricTests
{
    // Ranked list 5,3,9,1,7; relevant {3,7,8}: hits at ranks 2 and 5.
    private static readonly int[] Ranked = [5, 3, 9, 1, 7];
    private static readonly HashSet<int> Relevant = [3, 7, 8];

    [TestMethod]
    public void Precision_recall_hit_rate()
    {
        Assert.AreEqual(2.0 / 5, RankingMetrics.Precision(Ranked, Relevant, 5), 1e-12);
        Assert.AreEqual(1.0 / 3, RankingMetrics.Precision(Ranked, Relevant, 3), 1e-12);
        Assert.AreEqual(2.0 / 3, RankingMetrics.Recall(Ranked, Relevant, 5), 1e-12);
        Assert.AreEqual(1.0, RankingMetrics.HitRate(Ranked, Relevant, 2));
        Assert.AreEqual(0.0, RankingMetrics.HitRate(Ranked, Relevant, 1));
        // Fewer candidates than K: missing positions are misses, precision still divides by K.
        Assert.AreEqual(2.0 / 10, RankingMetrics.Precision(Ranked, Relevant, 10), 1e-12);
    }

    [TestMethod]
    public void Ndcg_by_hand()
    {
        // DCG = 1/log2(3) + 1/log2(6); IDCG@5 with 3 relevant = 1 + 1/log2(3) + 1/log2(4).
        var dcg = 1 / Math.Log2(3) + 1 / Math.Log2(6);
        var idcg = 1 + 1 / Math.Log2(3) + 0.5;
        Assert.AreEqual(dcg / idcg, RankingMetrics.Ndcg(Ranked, Relevant, 5), 1e-12);
        // @2: DCG = 1/log2(3), IDCG = 1 + 1/log2(3).
        Assert.AreEqual((1 / Math.Log2(3)) / (1 + 1 / Math.Log2(3)), RankingMetrics.Ndcg(Ranked, Relevant, 2), 1e-12);
    }

    [TestMethod]
    public void Map_and_mrr_by_hand()
    {
        // Precision at the hits: 1/2 and 2/5; divided by min(K=5, 3 relevant) = 3.
        Assert.AreEqual((0.5 + 0.4) / 3, RankingMetrics.AveragePrecision(Ranked, Relevant, 5), 1e-12);
        // @2: one hit at rank 2 (precision 1/2), divided by min(2, 3) = 2.
        Assert.AreEqual(0.25, RankingMetrics.AveragePrecision(Ranked, Relevant, 2), 1e-12);
        Assert.AreEqual(0.5, RankingMetrics.ReciprocalRank(Ranked, Relevant, 5), 1e-12);
        Assert.AreEqual(0.0, RankingMetrics.ReciprocalRank(Ranked, Relevant, 1));
    }

    [TestMethod]
    public void Ideal_list_scores_one()
    {
        int[] ideal = [3, 7, 8, 1, 2];
        Assert.AreEqual(1.0, RankingMetrics.Ndcg(ideal, Relevant, 5), 1e-12);
        Assert.AreEqual(1.0, RankingMetrics.AveragePrecision(ideal, Relevant, 5), 1e-12);
        Assert.AreEqual(1.0, RankingMetrics.Recall(ideal, Relevant, 3), 1e-12);
    }

    [TestMethod]
    public void Ndcg_is_one_for_every_ideal_list()
    {
        Gen.Int[1, 4].Array[1, 30].Select(Gen.Int[1, 20], (grades, k) => (grades, k)).Sample(t =>
        {
            // Items 0..n−1 with the given grades, ranked best grade first: an ideal list.
            var graded = t.grades.Select((g, i) => (g, i)).ToDictionary(x => x.i, x => (double)x.g);
            var ideal = graded.OrderByDescending(x => x.Value).ThenBy(x => x.Key).Select(x => x.Key).ToArray();
            Assert.AreEqual(1.0, RankingMetrics.GradedNdcg(ideal, graded, t.k), 1e-12);
            Assert.AreEqual(1.0, RankingMetrics.Ndcg(ideal, graded.Keys.ToHashSet(), t.k), 1e-12);
        }, iter: 300);
    }

    [TestMethod]
    public void No_relevant_items_scores_zero()
    {
        Assert.AreEqual(0.0, RankingMetrics.Ndcg(Ranked, new HashSet<int>(), 5));
        Assert.AreEqual(0.0, RankingMetrics.Recall(Ranked, new HashSet<int>(), 5));
        Assert.AreEqual(0.0, RankingMetrics.AveragePrecision(Ranked, new HashSet<int>(), 5));
    }

    [TestMethod]
    public void Top_k_equals_a_full_sort_with_ties_in_the_tie_order()
    {
        Gen.Float[-3, 3].Select(x => MathF.Round(x, 1)).Array[1, 300].Select(Gen.Int[1, 40], (scores, k) => (scores, k)).Sample(t =>
        {
            var top = new int[t.k];
            var n = TopK.Select(t.scores, top);
            var expected = Enumerable.Range(0, t.scores.Length).OrderByDescending(i => t.scores[i]).ThenBy(TopK.TieOrder).Take(t.k).ToArray();
            CollectionAssert.AreEqual(expected, top[..n]);
        }, iter: 300);
    }

    [TestMethod]
    public void The_tie_order_is_murmur3s_finaliser_of_the_index_xor_the_golden_ratio()
    {
        // Reference values from a Python transcription of fmix32(i ^ 0x9E3779B9).
        var expected = new (int Index, uint Key)[] { (0, 2462723854), (1, 920564995), (2, 3024231355), (1000, 1438098670), (int.MaxValue, 1449607079) };
        foreach (var (index, key) in expected) Assert.AreEqual(key, TopK.TieOrder(index), $"index {index}");
    }

    [TestMethod]
    public void The_tie_order_is_a_permutation_unrelated_to_the_index()
    {
        const int n = 10_000;
        var keys = Enumerable.Range(0, n).Select(TopK.TieOrder).ToArray();
        Assert.AreEqual(n, keys.Distinct().Count(), "every index has its own key, so ties are fully ordered");
        // Spearman's rho of index against tie position: 1 for the lower-index rule; here |rho| < 0.05 (Python: −0.0134).
        var position = new double[n];
        var order = Enumerable.Range(0, n).OrderBy(i => keys[i]).ToArray();
        for (var p = 0; p < n; p++) position[order[p]] = p;
        var d2 = Enumerable.Range(0, n).Sum(i => (i - position[i]) * (i - position[i]));
        var rho = 1 - 6 * d2 / ((double)n * ((double)n * n - 1));
        Assert.IsLessThan(0.05, Math.Abs(rho));
    }

    [TestMethod]
    public void A_list_of_equal_scores_does_not_follow_the_datas_order()
    {
        // 2,000 items scored alike, as popularity scores items without training rows: a top 10 drawn at random holds
        // 10 · 20 / 2000 = 0.1 of the 20 lowest indices (the first items met in the data) on average; the lower-index
        // rule put all 10 of them first.
        var top = new int[10];
        Assert.AreEqual(10, TopK.Select(new float[2000], top));
        Assert.IsLessThan(2, top.Count(i => i < 20), string.Join(", ", top));
    }

    [TestMethod]
    public void Negative_infinity_is_not_a_candidate()
    {
        var top = new int[3];
        Assert.AreEqual(2, TopK.Select([float.NegativeInfinity, 2f, float.NegativeInfinity, 1f], top));
        CollectionAssert.AreEqual(new[] { 1, 3 }, top[..2]);
    }

    [TestMethod]
    public void Metrics_stay_in_zero_one_for_any_list()
    {
        Gen.Int[0, 30].Array[0, 15].Select(Gen.Int[0, 30].Array[1, 10], Gen.Int[1, 12], (ranked, relevant, k) => (ranked: ranked.Distinct().ToArray(), relevant: relevant.ToHashSet(), k)).Sample(t =>
        {
            foreach (var metric in new[] { "precision", "recall", "ndcg", "map", "hit-rate", "mrr" })
            {
                var value = RankingMetrics.Compute(metric, t.ranked, t.relevant, t.k);
                Assert.IsTrue(value is >= 0 and <= 1 + 1e-12, $"{metric} = {value}");
            }
        }, iter: 500);
    }

    /// <summary>Scores item i as −i: the ranking is 0, 1, 2, ... for every user.</summary>
    private sealed class IndexOrderModel : IRecommenderModel
    {
        public void ScoreItems(int user, Span<float> scores) { for (var i = 0; i < scores.Length; i++) scores[i] = -i; }
        public bool PredictsRatings => true;
        public float PredictRating(int user, int item) => 3;
    }

    [TestMethod]
    public void Evaluator_removes_training_items_and_averages_over_users()
    {
        // Items a..e = 0..4. User x trained on a; test b, e. User y trained on b; test a. User z has no test rows.
        var builder = new InteractionsBuilder();
        foreach (var item in "abcde") builder.Items.GetOrAdd(item.ToString());
        builder.Add("x", "a", 4); builder.Add("y", "b", 2); builder.Add("z", "c", 5);
        builder.Add("x", "b", 5); builder.Add("x", "e", 1); builder.Add("y", "a", 3);
        var all = builder.Build();
        var train = all.Subset([0, 1, 2]);
        var test = all.Subset([3, 4, 5]);
        var metrics = new[] { MetricName.Parse("precision@2"), MetricName.Parse("recall@2"), MetricName.Parse("rmse") };
        var result = RecommenderEvaluator.Evaluate(new IndexOrderModel(), train, test, metrics, new EvaluationSpec { BootstrapSamples = 0 }, 0);
        // x: candidates b,c,d,e → top2 b,c → 1 hit: precision 1/2, recall 1/2. y: candidates a,c,d,e → top2 a,c → precision 1/2, recall 1.
        Assert.AreEqual(0.5, result.Values[0].Value, 1e-12);
        Assert.AreEqual(0.75, result.Values[1].Value, 1e-12);
        Assert.AreEqual(2, result.Values[0].Users);
        // RMSE of predicting 3 for ratings 5, 1, 3: sqrt((4 + 4 + 0) / 3).
        Assert.AreEqual(Math.Sqrt(8.0 / 3), result.Values[2].Value, 1e-12);
        StringAssert.Contains(result.Protocol, "training items removed");
        // With a relevance threshold of 4, only x's item b is relevant.
        var thresholded = RecommenderEvaluator.Evaluate(new IndexOrderModel(), train, test, metrics[..1], new EvaluationSpec { BootstrapSamples = 0, RelevanceThreshold = 4 }, 0);
        Assert.AreEqual(1, thresholded.Users);
        Assert.AreEqual(0.5, thresholded.Values[0].Value, 1e-12);
    }

    [TestMethod]
    public void Bootstrap_interval_brackets_the_mean_and_is_seeded()
    {
        var values = Enumerable.Range(0, 200).Select(i => (double)(i % 7)).ToArray();
        var a = Bootstrap.Interval(values.Length, d => d.Average(i => values[i]), 500, 0.95, 3);
        var b = Bootstrap.Interval(values.Length, d => d.Average(i => values[i]), 500, 0.95, 3);
        Assert.AreEqual(a, b);
        var mean = values.Average();
        Assert.IsTrue(a.Lower < mean && mean < a.Upper);
        // The normal approximation: half-width ≈ 1.96 · sd / √n.
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
        Assert.AreEqual(1.96 * sd / Math.Sqrt(values.Length), (a.Upper - a.Lower) / 2, 0.05);
    }
}
