using Experiments.Core.Data;
using Experiments.Core.Models;
using Experiments.Hybrid;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders;
using Experiments.Recommenders.Linear;

namespace Experiments.Tests.Hybrid;

/// <summary>The pieces of two-stage ranking against values worked out by hand, by a reference (scikit-learn) or from the objective they minimise.</summary>
[TestClass]
public sealed class HybridStageTests
{
    private static Interactions Rows(params (string User, string Item, long Time)[] rows)
    {
        var (users, items) = (new IdMap(), new IdMap());
        return new Interactions(users, items, rows.Select(r => users.GetOrAdd(r.User)).ToArray(), rows.Select(r => items.GetOrAdd(r.Item)).ToArray(),
            rows.Select(_ => 1f).ToArray(), rows.Select(r => r.Time).ToArray(), false, true);
    }

    [TestMethod]
    public void Candidates_are_the_union_of_the_top_lists_with_every_retrievers_score_and_rank()
    {
        // Five items; user 0 already has item 4. Retriever a ranks 0 > 1 > 2 > 3; b ranks 3 > 2 > 0 > 1. Depth 2.
        var a = new FixedScoreModel([4, 3, 2, 1, 9]);
        var b = new FixedScoreModel([2, 1, 3, 4, 9]);
        var history = UserItemMatrix.ByUser(Rows(("u", "0", 0), ("u", "1", 0), ("u", "2", 0), ("u", "3", 0), ("u", "4", 0)).Subset([4]));
        var lists = CandidateGeneration.Generate([new Retriever("a", a), new Retriever("b", b)], [0], 5, 2, history);
        var list = lists.Single();
        // a's top 2 (0, 1), then b's new ones (3; 2 is b's second) in the order met: 0, 1, 3, 2. Item 4 is excluded.
        CollectionAssert.AreEqual(new[] { 0, 1, 3, 2 }, list.Items);
        CollectionAssert.AreEqual(new float[] { 4, 3, 1, 2 }, list.Scores[0]);
        CollectionAssert.AreEqual(new float[] { 2, 1, 4, 3 }, list.Scores[1]);
        CollectionAssert.AreEqual(new[] { 1, 2, 3, 3 }, list.Ranks[0]); // 3 = depth + 1: not listed by a
        CollectionAssert.AreEqual(new[] { 3, 3, 1, 2 }, list.Ranks[1]);
        CollectionAssert.AreEqual(new[] { 1, 1, 1, 1 }, Enumerable.Range(0, 4).Select(list.Sources).ToArray());
        // Recall of the relevant items {1, 2}: a lists 1 (1/2), b lists 2 (1/2), the merge both.
        var relevant = new Dictionary<int, double>?[] { new() { [1] = 1, [2] = 1 } };
        var (per, merged) = TwoStage.CandidateRecall(lists, relevant);
        CollectionAssert.AreEqual(new[] { 0.5, 0.5 }, per);
        Assert.AreEqual(1.0, merged);
    }

    [TestMethod]
    public void Candidate_features_are_the_stages_scores_ranks_and_counts()
    {
        // Training: u0 had a (t 0) and b (t 10), u1 had a (t 20); item c has no training row. One retriever scores a, b, c
        // as 0, 3, 1; u1's candidates at depth 2 are b and c (a is its history).
        var all = Rows(("u0", "a", 0), ("u0", "b", 10), ("u1", "a", 20), ("u1", "c", 30));
        var train = all.Subset([0, 1, 2]);
        var lists = CandidateGeneration.Generate([new Retriever("r", new FixedScoreModel([0, 3, 1]))], [1], 3, 2, UserItemMatrix.ByUser(train));
        var context = FeatureContext.Build(train, null, [new float[1], new float[1], new float[1]], ItemSide.Empty(3));
        var table = CandidateFeatures.Build(lists, ["r"], FeatureGroups.Retrieval | FeatureGroups.Popularity | FeatureGroups.User, context);
        CollectionAssert.AreEqual(new[] { 1, 2 }, table.Items);
        Assert.AreEqual(3f, table.Value(0, "retrieval.r.score"));
        Assert.AreEqual(-2f, table.Value(1, "retrieval.r.gap")); // 1 − the best, 3
        Assert.AreEqual(2f, table.Value(1, "retrieval.r.rank"));
        Assert.AreEqual(1f, table.Value(1, "retrieval.sources"));
        // Counts: b 1, c none (so no age either).
        Assert.AreEqual(Math.Log(2), table.Value(0, "popularity.log-count"), 1e-6);
        Assert.AreEqual(0f, table.Value(1, "popularity.log-count"));
        // Recency weight with half-life 0.1 of the 20-unit period (2 units): b's row is 10 units old, 2^-5.
        Assert.AreEqual(Math.Log(1 + Math.Pow(2, -5)), table.Value(0, "popularity.log-recent"), 1e-6);
        Assert.AreEqual(0.5f, table.Value(0, "popularity.age"));
        Assert.AreEqual(0.5f, table.Value(0, "popularity.since-last"));
        Assert.AreEqual(-1f, table.Value(1, "popularity.age"));
        // u1's history is [a] (count 2), and its last row is the latest.
        Assert.AreEqual(Math.Log(2), table.Value(0, "user.log-history"), 1e-6);
        Assert.AreEqual(Math.Log(3), table.Value(0, "user.mean-log-count"), 1e-6);
        Assert.AreEqual(0f, table.Value(0, "user.since-last"));
    }

    [TestMethod]
    public void Fold_in_rows_are_each_users_first_interactions_in_time()
    {
        var rows = Rows(("u", "a", 30), ("u", "b", 10), ("u", "c", 20), ("v", "d", 5), ("w", "e", 1), ("w", "f", 1));
        var (history, rest) = LabelPart.FoldInRows(rows, 2);
        // u: b (10), c (20) are history, a (30) is left; v has one row, all history; w's tie keeps row order.
        CollectionAssert.AreEquivalent(new[] { "b", "c", "d", "e", "f" }, history.Item.Select(i => rows.Items[i]).ToArray());
        CollectionAssert.AreEqual(new[] { "a" }, rest.Item.Select(i => rows.Items[i]).ToArray());
    }

    [TestMethod]
    public void Ridge_map_matches_scikit_learn()
    {
        // /usr/bin/python3: Ridge(alpha=0.5, fit_intercept=True, solver='cholesky').fit(X, Y) with the X and Y below gives
        // coef_ [[1.04597701, 0.22988506], [1.24137931, -0.79310345]], intercept_ [0.31034483, 0.37931034].
        float[][] x = [[1, 0], [0, 1], [1, 1], [2, 0.5f]];
        float[][] y = [[1, 2], [0.5f, -1], [1.5f, 1], [3, 2.5f]];
        var w = ColdItemFactors.RidgeWeights(x, y, 0.5);
        double[][] expected = [[1.04597701, 1.24137931], [0.22988506, -0.79310345], [0.31034483, 0.37931034]];
        for (var a = 0; a < 3; a++)
            for (var c = 0; c < 2; c++) Assert.AreEqual(expected[a][c], w[a][c], 1e-6);
        // model.predict([[0.5, 0.5]]) = [0.94827586, 0.60344828]
        var predicted = ColdItemFactors.Predict(w, [[0.5f, 0.5f]])[0];
        Assert.AreEqual(0.94827586, predicted[0], 1e-6);
        Assert.AreEqual(0.60344828, predicted[1], 1e-6);
    }

    [TestMethod]
    public void Neighbour_map_gives_a_cold_item_the_mean_factors_of_its_most_similar_known_items()
    {
        // Items 0, 1, 2 known (factors [1, 0], [0, 1], [5, 5]); item 3 cold, its text between 0 and 1 and far from 2.
        var model = new LatentFactorModel(2, new float[2], [1, 0, 0, 1, 5, 5, 9, 9], null, null, 0);
        float[][] text = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.7071f, 0.7071f, 0]];
        var mapped = ColdItemFactors.Apply(model, text, [true, true, true, false], new ColdItemMapOptions(ColdItemMap.Neighbours, Neighbours: 2));
        CollectionAssert.AreEqual(new float[] { 0.5f, 0.5f }, mapped.ItemFactors[6..8]);
        CollectionAssert.AreEqual(model.ItemFactors[..6], mapped.ItemFactors[..6]); // known items keep theirs
    }

    [TestMethod]
    public void Implicit_fold_in_minimises_the_weighted_squared_loss()
    {
        // Three items with factors y_i; the user had item 0 twice and item 2 once. The fold-in p must be where the
        // gradient of L(p) = Σ_i c_i (x_i − p·y_i)² + λ‖p‖² vanishes (c_i = 1 + α r_i, x_i = 1 on the history), and
        // L must rise in every direction around it; checked numerically, not through the normal equations.
        var model = new LatentFactorModel(2, new float[2], [1, 0.5f, -0.3f, 1, 0.8f, 0.2f], null, null, 0);
        var (lambda, alpha) = (0.1, 2.0);
        var p = FoldIn.Implicit(model, [0, 2], [2, 1], lambda, alpha);
        double Loss(double p0, double p1)
        {
            var r = new[] { 2.0, 0, 1 };
            var sum = lambda * (p0 * p0 + p1 * p1);
            for (var i = 0; i < 3; i++)
            {
                var c = 1 + alpha * r[i];
                var x = r[i] > 0 ? 1 : 0;
                var e = x - (p0 * model.ItemFactors[2 * i] + p1 * model.ItemFactors[2 * i + 1]);
                sum += c * e * e;
            }
            return sum;
        }
        const double h = 1e-4;
        var at = Loss(p[0], p[1]);
        Assert.AreEqual(0, (Loss(p[0] + h, p[1]) - Loss(p[0] - h, p[1])) / (2 * h), 1e-3);
        Assert.AreEqual(0, (Loss(p[0], p[1] + h) - Loss(p[0], p[1] - h)) / (2 * h), 1e-3);
        foreach (var (d0, d1) in new[] { (0.01, 0.0), (0.0, 0.01), (-0.01, 0.01), (0.01, 0.01) })
            Assert.IsGreaterThan(at, Loss(p[0] + d0, p[1] + d1));
    }

    [TestMethod]
    public void Text_neighbours_score_the_cosine_with_the_history_centroid()
    {
        // History: items 0 ([1, 0]) and 1 ([0, 1]); centroid [1, 1]/√2. Item 2 is [0.6, 0.8].
        var rows = Rows(("u", "0", 0), ("u", "1", 0), ("v", "2", 0));
        var model = new TextNeighboursModel(UserItemMatrix.ByUser(rows.Subset([0, 1])), [[1, 0], [0, 1], [0.6f, 0.8f]], weighted: false);
        var scores = new float[3];
        model.ScoreItems(0, scores);
        Assert.AreEqual((0.6 + 0.8) / Math.Sqrt(2), scores[2], 1e-6);
        Assert.AreEqual(1 / Math.Sqrt(2), scores[0], 1e-6);
    }

    [TestMethod]
    public void Recent_popularity_halves_a_rows_weight_every_half_life()
    {
        // Times 0 … 100 (period 100), half-life 0.5 → 50 time units. Item a: rows at 100 and 50 → 1 + 0.5; b: at 0 → 0.25.
        var rows = Rows(("u", "a", 100), ("v", "a", 50), ("w", "b", 0));
        var scores = RecentPopularity.Scores(rows, 0.5);
        Assert.AreEqual(1.5, scores[0], 1e-6);
        Assert.AreEqual(0.25, scores[1], 1e-6);
    }
}

/// <summary>Amazon Beauty's item attributes (format item-attribute-lists), read against the file's own first entries.</summary>
[TestClass]
public sealed class ItemAttributeListTests
{
    [TestMethod]
    public void Beauty_items_carry_their_attribute_ids()
    {
        var dataset = RealData.Open("amazon-beauty-5core");
        var items = dataset.Items()!;
        // Beauty_item2attributes.json begins {"4": [1, 2, 3], "83": [4, 5, 6], "165": [7, 8, 9, 10], …}.
        var ids = items.WithRole("item")!.Strings!;
        var attributes = items.Columns[1].Strings!;
        Assert.AreEqual("1|2|3", attributes[Array.IndexOf(ids, "4")]);
        Assert.AreEqual("7|8|9|10", attributes[Array.IndexOf(ids, "165")]);
        var data = dataset.Interactions();
        var side = Experiments.Hybrid.ItemSide.Load(dataset, new Experiments.Core.Definitions.HybridSpec(), data.Users, data.Items);
        CollectionAssert.AreEqual(new[] { "attributes" }, side.AttributeNames.ToArray());
    }
}
