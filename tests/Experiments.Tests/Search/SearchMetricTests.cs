using Experiments.Core.Definitions;
using Experiments.Search.Data;
using Experiments.Search.Evaluation;
using Experiments.Search.Retrieval;
using Experiments.Tests.Evaluation;

namespace Experiments.Tests.Search;

[TestClass]
public sealed class SearchMetricTests
{
    [TestMethod]
    public void Ndcg_by_hand_with_exponential_and_linear_gains()
    {
        // List grades 3, 0, 2; ideal 3, 2, 2 (the query has three relevant products).
        double[] list = [3, 0, 2];
        double[] ideal = [3, 2, 2];
        var dcgExp = 7 + 0 / Math.Log2(3) + 3 / Math.Log2(4);
        var idealExp = 7 + 3 / Math.Log2(3) + 3 / Math.Log2(4);
        Assert.AreEqual(dcgExp / idealExp, SearchMetrics.Ndcg(list, ideal, 3, Gain.Exponential), 1e-12);
        var dcgLin = 3 + 2 / Math.Log2(4);
        var idealLin = 3 + 2 / Math.Log2(3) + 2 / Math.Log2(4);
        Assert.AreEqual(dcgLin / idealLin, SearchMetrics.Ndcg(list, ideal, 3, Gain.Linear), 1e-12);
        // At K = 1 only the first position counts, and it is ideal.
        Assert.AreEqual(1.0, SearchMetrics.Ndcg(list, ideal, 1, Gain.Exponential), 1e-12);
        Assert.AreEqual(0.0, SearchMetrics.Ndcg(list, [], 3, Gain.Exponential));
    }

    [TestMethod]
    public void Binary_metrics_by_hand_with_a_threshold()
    {
        double[] list = [1, 3, 0, 2];
        Assert.AreEqual(0.5, SearchMetrics.ReciprocalRank(list, 4, 2));   // first grade ≥ 2 at rank 2
        Assert.AreEqual(1.0, SearchMetrics.ReciprocalRank(list, 4, 1));
        Assert.AreEqual(0.0, SearchMetrics.ReciprocalRank(list, 1, 2));
        Assert.AreEqual(2 / 4.0, SearchMetrics.Precision(list, 4, 2));
        Assert.AreEqual(2 / 10.0, SearchMetrics.Precision(list, 10, 2), 1e-12); // positions past the list are misses
        Assert.AreEqual(2 / 5.0, SearchMetrics.Recall(list, 5, 4, 2));
        Assert.AreEqual(0.0, SearchMetrics.Recall(list, 0, 4, 2));
    }

    [TestMethod]
    public void Ndcg_matches_scikit_learn_ndcg_score_for_both_gains()
    {
        var random = new Random(3);
        var cases = Enumerable.Range(0, 20).Select(_ =>
        {
            var grades = Enumerable.Range(0, 25).Select(_ => (double)random.Next(4)).ToArray();
            var scores = Enumerable.Range(0, 25).Select(_ => random.NextDouble()).ToArray();
            return (Grades: grades, Scores: scores);
        }).ToList();
        foreach (var k in new[] { 5, 10 })
        {
            // scikit-learn's ndcg_score uses the relevance as the gain (linear); gains 2^g − 1 given as relevance give the exponential form.
            var reference = ScikitLearn.Run("""
                from sklearn.metrics import ndcg_score
                out = {}
                for form in ("linear", "exponential"):
                    vals = []
                    for c in data["cases"]:
                        g = np.array(c["grades"]) if form == "linear" else 2.0 ** np.array(c["grades"]) - 1
                        vals.append(ndcg_score([g], [c["scores"]], k=data["k"]))
                    out[form] = vals
                print(json.dumps(out))
                """, new { cases = cases.Select(c => new { grades = c.Grades, scores = c.Scores }), k });
            for (var i = 0; i < cases.Count; i++)
            {
                var order = Enumerable.Range(0, 25).OrderByDescending(j => cases[i].Scores[j]).ToArray();
                var list = order.Select(j => cases[i].Grades[j]).ToArray();
                var best = cases[i].Grades.Where(g => g > 0).OrderDescending().ToArray();
                Assert.AreEqual(reference.GetProperty("linear")[i].GetDouble(), SearchMetrics.Ndcg(list, best, k, Gain.Linear), 1e-9, $"linear case {i} k {k}");
                Assert.AreEqual(reference.GetProperty("exponential")[i].GetDouble(), SearchMetrics.Ndcg(list, best, k, Gain.Exponential), 1e-9, $"exponential case {i} k {k}");
            }
        }
    }

    [TestMethod]
    public void Evaluator_averages_queries_with_intervals_and_per_query_values()
    {
        var catalogue = new ProductCatalogue(["a", "b", "c", "d"], ["a", "b", "c", "d"], null, ["x", "x", "y", "y"], ["", "", "", ""], [0, 0, 0, 0], null, "test");
        var judgements = new ListedJudgements([new Dictionary<int, double> { [0] = 2, [1] = 1 }, new Dictionary<int, double> { [3] = 1 }]);
        var collection = new SearchCollection(catalogue, [new SearchQuery("q1", "one"), new SearchQuery("q2", "two")], judgements, "hand-made");
        var lists = new[] { new Ranked([1, 0], [2, 1]), new Ranked([2, 3], [2, 1]) };
        var metrics = new[] { MetricName.Parse("mrr@2"), MetricName.Parse("recall@1") };
        var result = SearchEvaluator.EvaluateRanking(collection, [0, 1], lists, metrics, new SearchEvaluationOptions(BootstrapSamples: 100), 1);
        CollectionAssert.AreEqual(new[] { 1.0, 0.5 }, result.PerQuery["mrr@2"]);
        CollectionAssert.AreEqual(new[] { 0.5, 0.0 }, result.PerQuery["recall@1"]);
        Assert.AreEqual(0.75, result.Values[0].Value, 1e-12);
        Assert.IsTrue(result.Values[0].Lower >= 0.5 && result.Values[0].Upper <= 1.0);
        CollectionAssert.AreEqual(new[] { "q1", "q2" }, result.Queries.ToArray());
        // With a threshold of 2, product b (grade 1) no longer counts for MRR.
        var strict = SearchEvaluator.EvaluateRanking(collection, [0], [lists[0]], metrics, new SearchEvaluationOptions(RelevanceThreshold: 2, BootstrapSamples: 0), 1);
        Assert.AreEqual(0.5, strict.Values[0].Value, 1e-12);
        Assert.IsNull(strict.Values[0].Lower);
    }

    [TestMethod]
    public void Group_judgements_grade_the_group_then_the_category_and_exclude_the_query_itself()
    {
        // Products 0–2 form group 0 (category 0), product 3 is group 1 (category 0), product 4 group 2 (category 1).
        var judgements = new GroupJudgements([0], [0, 0, 0, 1, 2], [0, 0, 0, 0, 1], 2, 1);
        Assert.AreEqual(0, judgements.Grade(0, 0));
        Assert.AreEqual(2, judgements.Grade(0, 1));
        Assert.AreEqual(1, judgements.Grade(0, 3));
        Assert.AreEqual(0, judgements.Grade(0, 4));
        CollectionAssert.AreEqual(new[] { 2.0, 2.0, 1.0 }, judgements.BestGrades(0, 10));
        CollectionAssert.AreEqual(new[] { 2.0 }, judgements.BestGrades(0, 1));
        Assert.AreEqual(2, judgements.CountAtLeast(0, 2));
        Assert.AreEqual(3, judgements.CountAtLeast(0, 0.5));
        CollectionAssert.AreEqual(new[] { 1, 2 }, judgements.Best(0, 5).Select(b => b.Product).ToArray());
    }

    [TestMethod]
    public void Fusion_by_hand()
    {
        var lexical = new Ranked([1, 2, 3], [9, 5, 1]);
        var dense = new Ranked([3, 1, 4], [0.9f, 0.8f, 0.5f]);
        var rrf = Fusion.ReciprocalRank(lexical, dense, 0.5, 60, 10);
        // 1: ½/61 + ½/62; 3: ½/63 + ½/61; 2: ½/62; 4: ½/63.
        CollectionAssert.AreEqual(new[] { 1, 3, 2, 4 }, rrf.Products);
        Assert.AreEqual(0.5 / 61 + 0.5 / 62, rrf.Scores[0], 1e-6);
        // Min–max: lexical 1 → 1, 2 → 0.5, 3 → 0; dense 3 → 1, 1 → 0.75, 4 → 0. With w = 0.4: 1: 0.4 + 0.45; 3: 0.6; 2: 0.2; 4: 0.
        var weighted = Fusion.Weighted(lexical, dense, 0.4, 3);
        CollectionAssert.AreEqual(new[] { 1, 3, 2 }, weighted.Products);
        Assert.AreEqual(0.85, weighted.Scores[0], 1e-6);
        Assert.AreEqual(0.6, weighted.Scores[1], 1e-6);
    }
}
