using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;
using Experiments.Recommenders;
using Experiments.Recommenders.Baselines;
using Experiments.Tests.Evaluation;

namespace Experiments.Tests.Recommenders;

/// <summary>EASE on the whole catalogue: its weights against their defining equations and numpy, caps, and memory.</summary>
[TestClass]
public sealed class EaseTests
{
    /// <summary>Random binary interactions over <paramref name="items"/> items (every one declared in the item map, used or not).</summary>
    private static Interactions RandomClicks(int users, int items, int rows, int seed, int unused = 0)
    {
        var itemIds = new IdMap();
        for (var i = 0; i < items; i++) itemIds.GetOrAdd($"i{i}");
        var builder = new InteractionsBuilder(items: itemIds, hasRatings: false);
        var random = new Random(seed);
        var seen = new HashSet<(int, int)>();
        while (builder.Count < rows)
        {
            // Skewed popularity, so that a cap keeps a clear head; the last `unused` items never occur.
            int u = random.Next(users), i = (int)(Math.Pow(random.NextDouble(), 2) * (items - unused));
            if (seen.Add((u, i))) builder.Add($"u{u}", $"i{i}");
        }
        return builder.Build();
    }

    private static double[,] Dense(Interactions data)
    {
        var x = new double[data.Users.Count, data.Items.Count];
        for (var r = 0; r < data.Count; r++) x[data.User[r], data.Item[r]] = 1;
        return x;
    }

    private static float[,] Scores(Experiments.Core.Models.IRecommenderModel model, Interactions data)
    {
        var scores = new float[data.Users.Count, data.Items.Count];
        var row = new float[data.Items.Count];
        for (var u = 0; u < data.Users.Count; u++)
        {
            model.ScoreItems(u, row);
            for (var i = 0; i < row.Length; i++) scores[u, i] = row[i];
        }
        return scores;
    }

    [TestMethod]
    [DataRow(true, 2e-8)] // float64 solve, float32 weights
    [DataRow(false, 1e-6)]
    public void The_weights_have_a_zero_diagonal_and_solve_the_constrained_normal_equations(bool doublePrecision, double tolerance)
    {
        // B minimises ‖X − XB‖² + λ‖B‖² subject to diag B = 0; with A = XᵀX + λI, stationarity says A·(I − B) = diag(γ):
        // every off-diagonal entry of A·(I − B) is 0. 150 items span three tiles of the blocked solver.
        const double lambda = 3;
        var data = RandomClicks(400, 150, 5000, 1);
        var model = (EaseModel)new EaseTrainer(new EaseOptions { Lambda = lambda, DoublePrecision = doublePrecision }).Fit(data);
        var n = data.Items.Count;
        Assert.HasCount(n, model.ModelledItems, "every item with an interaction is modelled");
        var x = Dense(data);
        var a = new double[n, n];
        for (var u = 0; u < data.Users.Count; u++)
            for (var i = 0; i < n; i++)
                if (x[u, i] != 0)
                    for (var j = 0; j < n; j++) a[i, j] += x[u, j];
        for (var i = 0; i < n; i++) a[i, i] += lambda;
        var worst = 0.0;
        var scale = 0.0;
        for (var i = 0; i < n; i++) scale = Math.Max(scale, a[i, i]);
        for (var i = 0; i < n; i++)
        {
            Assert.AreEqual(0f, model.Weight(i, i), $"B[{i}, {i}]");
            for (var j = 0; j < n; j++)
            {
                if (i == j) continue;
                var sum = a[i, j];
                for (var k = 0; k < n; k++) sum -= a[i, k] * model.Weight(k, j);
                worst = Math.Max(worst, Math.Abs(sum / scale));
            }
        }
        Assert.IsLessThan(EaseTrainer.ResidualTolerance, model.Residual);
        Assert.AreEqual(0, worst, tolerance, "max |(A·(I − B))_ij| / max A_ii off the diagonal");
    }

    [TestMethod]
    public void Scores_match_numpy_on_the_full_catalogue_and_under_a_cap()
    {
        const double lambda = 2;
        var data = RandomClicks(14, 9, 50, 2);
        var x = Dense(data);
        var rows = Enumerable.Range(0, data.Users.Count).Select(u => Enumerable.Range(0, data.Items.Count).Select(i => x[u, i]).ToArray()).ToArray();
        // The cap's items, chosen here independently: most interactions first, ties to the lower index.
        var counts = Enumerable.Range(0, data.Items.Count).Select(i => rows.Count(r => r[i] != 0)).ToArray();
        var top = Enumerable.Range(0, data.Items.Count).OrderByDescending(i => counts[i]).ThenBy(i => i).Take(4).Order().ToArray();
        const string script = """
            x = np.array(data["x"], dtype=float)
            def ease(x):
                g = x.T @ x + data["lambda"] * np.eye(x.shape[1])
                p = np.linalg.inv(g)
                b = np.eye(x.shape[1]) - p / np.diag(p)
                return (x @ b).tolist()
            print(json.dumps({"full": ease(x), "capped": ease(x[:, data["top"]])}))
            """;
        var reference = ScikitLearn.Run(script, new { x = rows, lambda, top }, module: "numpy");

        var full = Scores(new EaseTrainer(new EaseOptions { Lambda = lambda }).Fit(data), data);
        var capped = Scores(new EaseTrainer(new EaseOptions { Lambda = lambda, MaxItems = 4 }).Fit(data), data);
        for (var u = 0; u < data.Users.Count; u++)
        {
            var expectedFull = reference.GetProperty("full")[u];
            var expectedCapped = reference.GetProperty("capped")[u];
            for (var i = 0; i < data.Items.Count; i++)
                Assert.AreEqual(expectedFull[i].GetDouble(), full[u, i], 1e-5, $"full: user {u} item {i}");
            for (var i = 0; i < data.Items.Count; i++)
            {
                var c = Array.IndexOf(top, i);
                if (c >= 0) Assert.AreEqual(expectedCapped[c].GetDouble(), capped[u, i], 1e-5, $"capped: user {u} item {i}");
                else Assert.AreEqual(float.NegativeInfinity, capped[u, i], $"capped: user {u} unmodelled item {i}");
            }
        }
    }

    [TestMethod]
    public void Similar_items_are_the_largest_weights_from_the_item_as_numpy_computes_them_and_survive_save_and_load()
    {
        const double lambda = 2;
        var data = RandomClicks(30, 12, 120, 4, unused: 2);
        var x = Dense(data);
        var rows = Enumerable.Range(0, data.Users.Count).Select(u => Enumerable.Range(0, data.Items.Count).Select(i => x[u, i]).ToArray()).ToArray();
        const string script = """
            x = np.array(data["x"], dtype=float)
            seen = np.flatnonzero(x.sum(axis=0) > 0)
            g = x[:, seen].T @ x[:, seen] + data["lambda"] * np.eye(len(seen))
            p = np.linalg.inv(g)
            b = np.eye(len(seen)) - p / np.diag(p)
            print(json.dumps({"seen": seen.tolist(), "b": b.tolist()}))
            """;
        var reference = ScikitLearn.Run(script, new { x = rows, lambda }, module: "numpy");
        var seen = reference.GetProperty("seen").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var b = reference.GetProperty("b");
        var fitted = new FittedRecommender(new EaseTrainer(new EaseOptions { Lambda = lambda }).Fit(data), data);
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "ease.recommender");
        fitted.Save(path);
        var loaded = FittedRecommender.Load(path);
        for (var a = 0; a < seen.Length; a++)
        {
            // Expected: the other modelled items by B[item, j], largest first (ties in TopK's tie order).
            var expected = Enumerable.Range(0, seen.Length).Where(c => c != a).Select(c => (Item: seen[c], Weight: b[a][c].GetDouble()))
                .OrderByDescending(e => e.Weight).ThenBy(e => TopK.TieOrder(e.Item)).Take(4).ToList();
            var item = data.Items[seen[a]];
            var similar = fitted.SimilarItems(item, 4);
            Assert.HasCount(4, similar);
            for (var r = 0; r < 4; r++)
            {
                Assert.AreEqual(data.Items[expected[r].Item], similar[r].Item, $"{item}: rank {r}");
                Assert.AreEqual(expected[r].Weight, similar[r].Score, 1e-5, $"{item}: rank {r}");
            }
            CollectionAssert.AreEqual(similar.ToArray(), loaded.SimilarItems(item, 4).ToArray(), "the loaded model gives the same lists");
        }
        CollectionAssert.AreEqual(fitted.Recommend("u3", 5).ToArray(), loaded.Recommend("u3", 5).ToArray());
        CollectionAssert.AreEquivalent(((EaseModel)fitted.Model).Facts.ToList(), ((EaseModel)loaded.Model).Facts.ToList());
        var unmodelled = Assert.ThrowsExactly<ExperimentsException>(() => fitted.SimilarItems("i11", 3));
        StringAssert.Contains(unmodelled.Message, "EASE does not model item 'i11': it had no training interaction");
    }

    [TestMethod]
    public void Unmodelled_items_rank_below_every_modelled_item_and_the_cap_is_reported()
    {
        // 30 items, the last 5 never seen in training, a cap of 12: 13 seen items are beyond the cap.
        var data = RandomClicks(60, 30, 400, 3, unused: 5);
        var model = (EaseModel)RecommenderCatalog.Create("ease", new Dictionary<string, object> { ["lambda"] = 1.0, ["maxItems"] = 12L }, 1).Fit(data);
        Assert.AreEqual(12, model.MaxItems);
        Assert.HasCount(12, model.ModelledItems);
        Assert.AreEqual("12", model.Facts["modelledItems"]);
        Assert.AreEqual("12", model.Facts["maxItems"]);
        Assert.AreEqual("30", model.Facts["catalogueItems"]);
        var modelled = model.ModelledItems.ToHashSet();
        var scores = new float[data.Items.Count];
        var negative = 0;
        for (var u = 0; u < data.Users.Count; u++)
        {
            model.ScoreItems(u, scores);
            var lowestModelled = modelled.Min(i => scores[i]);
            negative += modelled.Count(i => scores[i] < 0);
            for (var i = 0; i < scores.Length; i++)
                if (!modelled.Contains(i)) Assert.IsLessThan(lowestModelled, scores[i], $"user {u}: unmodelled item {i}");
        }
        Assert.IsGreaterThan(0, negative, "some modelled items score below 0, where the old cap's 0 would have outranked them");

        var recommender = new FittedRecommender(model, data);
        foreach (var list in recommender.RecommendAll(25).Values)
            Assert.IsTrue(list.All(r => modelled.Contains(data.Items.TryGetIndex(r.Item, out var i) ? i : -1)), "only modelled items are recommended");
    }

    [TestMethod]
    public void Without_a_cap_every_seen_item_is_modelled_and_unseen_ones_rank_last()
    {
        var data = RandomClicks(50, 20, 300, 4, unused: 3);
        var model = (EaseModel)RecommenderCatalog.Create("ease", new Dictionary<string, object> { ["lambda"] = 1.0 }, 1).Fit(data);
        Assert.IsNull(model.MaxItems);
        Assert.AreEqual("none", model.Facts["maxItems"]);
        CollectionAssert.AreEqual(Enumerable.Range(0, 17).ToArray(), model.ModelledItems.ToArray());
        var scores = new float[20];
        model.ScoreItems(0, scores);
        CollectionAssert.AreEqual(new[] { float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity }, scores[17..]);
    }

    [TestMethod]
    public void A_fit_that_needs_more_memory_than_allowed_is_refused_before_it_starts_with_what_it_needs()
    {
        var data = RandomClicks(100, 40, 600, 5);
        var trainer = new EaseTrainer(new EaseOptions { MemoryBudgetBytes = 10_000, DoublePrecision = true });
        var message = Assert.ThrowsExactly<ExperimentsException>(() => trainer.Fit(data)).Message;
        // 40 items: 40² entries × (8 bytes of float64 + 4 of float32 weights) = 19,200 bytes, plus the solver's panels.
        StringAssert.Contains(message, "EASE on 40 items needs");
        StringAssert.Contains(message, "40² entries × 12 bytes");
        StringAssert.Contains(message, "\"maxItems\"");
        StringAssert.Contains(message, "0.0 MiB is allowed by MemoryBudgetBytes");
        var single = new EaseTrainer(new EaseOptions { MemoryBudgetBytes = 10_000 });
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => single.Fit(data)).Message, "40² entries × 4 bytes");
    }

    [TestMethod]
    public void A_lambda_too_small_for_float32_is_an_error_that_names_double_precision()
    {
        // Items i0 and i1 have the same 300 users: XᵀX + λI has eigenvalues ~600 and λ along (e0 − e1), a condition
        // number of ~6·10⁵ at λ = 0.001, beyond float32's 7 digits but well within float64's 16.
        var builder = new InteractionsBuilder(hasRatings: false);
        var random = new Random(7);
        for (var u = 0; u < 300; u++)
        {
            builder.Add($"u{u}", "i0");
            builder.Add($"u{u}", "i1");
            builder.Add($"u{u}", $"i{2 + random.Next(10)}");
        }
        var data = builder.Build();
        var message = Assert.ThrowsExactly<ExperimentsException>(() => new EaseTrainer(new EaseOptions { Lambda = 0.001 }).Fit(data)).Message;
        StringAssert.Contains(message, "float32");
        StringAssert.Contains(message, "doublePrecision");
        var model = (EaseModel)new EaseTrainer(new EaseOptions { Lambda = 0.001, DoublePrecision = true }).Fit(data);
        Assert.IsLessThan(EaseTrainer.ResidualTolerance, model.Residual);
    }

    [TestMethod]
    public void Bad_options_are_clear_errors()
    {
        var data = RandomClicks(10, 5, 20, 6);
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => new EaseTrainer(new EaseOptions { Lambda = 0 }).Fit(data)).Message, "lambda > 0");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => new EaseTrainer(new EaseOptions { MaxItems = 0 }).Fit(data)).Message, "maxItems must be at least 1");
    }
}
