using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Recommenders;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders.Factorization;

namespace Experiments.Tests.Recommenders;

[TestClass]
public sealed class FittedRecommenderTests
{
    private static Interactions Data()
    {
        var builder = new InteractionsBuilder();
        var random = new Random(3);
        for (var u = 0; u < 50; u++)
            for (var n = 0; n < 8; n++) builder.Add($"user{u}", $"item{(u % 5) * 6 + random.Next(12)}", 1 + random.Next(5));
        return builder.Build();
    }

    [TestMethod]
    public void Recommend_excludes_seen_items_and_agrees_with_the_batched_path()
    {
        var data = Data();
        var fitted = new FittedRecommender(new MatrixFactorizationTrainer(new MatrixFactorizationOptions { ApproximationRank = 4, NumberOfIterations = 5 }).Fit(data), data);
        var one = fitted.Recommend("user7", 5);
        var all = fitted.RecommendAll(5);
        CollectionAssert.AreEqual(one.ToList(), all["user7"].ToList());
        Assert.AreEqual(50, all.Count);
        var seen = Enumerable.Range(0, data.Count).Where(r => data.Users[data.User[r]] == "user7").Select(r => data.Items[data.Item[r]]).ToHashSet();
        Assert.IsFalse(one.Any(r => seen.Contains(r.Item)));
        Assert.IsTrue(one.Zip(one.Skip(1)).All(p => p.First.Score >= p.Second.Score), "best first");
        var withSeen = fitted.Recommend("user7", 30, excludeSeen: false);
        Assert.IsTrue(withSeen.Any(r => seen.Contains(r.Item)));
    }

    [TestMethod]
    public void Save_and_load_give_identical_recommendations_and_ratings()
    {
        var data = Data();
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "model.bin");
        var fitted = new FittedRecommender(new MatrixFactorizationTrainer(new MatrixFactorizationOptions { ApproximationRank = 6, NumberOfIterations = 5 }).Fit(data), data);
        fitted.Save(path);
        var loaded = FittedRecommender.Load(path);
        CollectionAssert.AreEqual(fitted.Recommend("user3", 10).ToList(), loaded.Recommend("user3", 10).ToList());
        Assert.AreEqual(fitted.PredictRating("user3", "item4"), loaded.PredictRating("user3", "item4"));
        CollectionAssert.AreEqual(fitted.SimilarItems("item4", 5).ToList(), loaded.SimilarItems("item4", 5).ToList());
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..100]);
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => FittedRecommender.Load(path)).Message, "truncated");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => new FittedRecommender(new RandomTrainer(1).Fit(data), data).Save(path)).Message, "Saving is supported for factorisation models");
    }

    [TestMethod]
    public void A_version_1_file_written_before_other_kinds_could_be_saved_still_loads()
    {
        // Version 1, byte by byte: magic, version, user and item ids, rank, mean, user/item factors and biases, histories.
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "v1.bin");
        using (var w = new BinaryWriter(File.Create(path)))
        {
            w.Write("EXPERIMENTS-RECOMMENDER");
            w.Write(1);
            foreach (var ids in new[] { new[] { "ann", "bob" }, new[] { "x", "y", "z" } })
            {
                w.Write(ids.Length);
                foreach (var id in ids) w.Write(id);
            }
            w.Write(1); // rank
            w.Write(3f); // mean
            void Floats(params float[] values) { w.Write(values.Length); foreach (var v in values) w.Write(v); }
            void Ints(params int[] values) { w.Write(values.Length); foreach (var v in values) w.Write(v); }
            Floats(1, 2);
            Floats(0.5f, -1, 2);
            Floats(0.1f, 0.2f);
            Floats(0, 0.3f, -0.3f);
            Ints(0, 1, 2);
            Ints(0, 2);
            Floats(4, 5);
        }
        var loaded = FittedRecommender.Load(path);
        // 3 + b_bob 0.2 + b_z −0.3 + p_bob 2 · q_z 2 = 6.9; bob's history (z) is left out of his recommendations.
        Assert.AreEqual(6.9f, loaded.PredictRating("bob", "z"), 1e-6f);
        CollectionAssert.AreEqual(new[] { "x", "y" }, loaded.Recommend("bob", 3).Select(r => r.Item).ToArray());
    }

    [TestMethod]
    public void Similar_items_by_factors_and_by_knn()
    {
        var data = Data();
        var knn = new FittedRecommender(new ItemKnnTrainer(new ItemKnnOptions { Neighbours = 3, Shrinkage = 0 }).Fit(data), data);
        var similar = knn.SimilarItems("item6", 3);
        Assert.HasCount(3, similar);
        Assert.IsFalse(similar.Any(s => s.Item == "item6"));
        var factors = new FittedRecommender(new ImplicitAlsTrainer(new ImplicitAlsOptions { ApproximationRank = 8, NumberOfIterations = 5 }).Fit(data), data);
        var cosine = factors.SimilarItems("item6", 4);
        Assert.IsTrue(cosine.All(s => s.Score is >= -1.0001f and <= 1.0001f));
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => new FittedRecommender(new MostPopularTrainer().Fit(data), data).SimilarItems("item6", 3)).Message, "Similar items need");
    }

    [TestMethod]
    public void Unknown_user_or_item_at_predict_time()
    {
        var data = Data();
        var fitted = new FittedRecommender(new MatrixFactorizationTrainer(new MatrixFactorizationOptions { NumberOfIterations = 2 }).Fit(data), data);
        var user = Assert.ThrowsExactly<ExperimentsException>(() => fitted.Recommend("stranger", 5));
        StringAssert.StartsWith(user.Message, "Unknown user 'stranger': the model was trained on 50 users");
        StringAssert.StartsWith(Assert.ThrowsExactly<ExperimentsException>(() => fitted.PredictRating("user1", "nothing")).Message, "Unknown item 'nothing'");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => fitted.Recommend("user1", 0)).Message, "k must be at least 1");
    }
}
