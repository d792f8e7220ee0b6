using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Recommenders;
using Experiments.Recommenders.Baselines;

namespace Experiments.Tests.Recommenders;

[TestClass]
public sealed class BaselineTests
{
    private static Interactions Ratings(params (string User, string Item, float Rating)[] rows)
    {
        var builder = new InteractionsBuilder();
        foreach (var (u, i, r) in rows) builder.Add(u, i, r);
        return builder.Build();
    }

    private static readonly Interactions Small = Ratings(
        ("a", "x", 5), ("a", "y", 3), ("a", "z", 4),
        ("b", "x", 4), ("b", "z", 1),
        ("c", "y", 2), ("c", "z", 5), ("c", "w", 3));

    [TestMethod]
    public void Bias_model_converges_to_the_normal_equations()
    {
        const double lu = 2, li = 3;
        var model = (BiasModel)new BiasTrainer(new BiasOptions { UserRegularization = lu, ItemRegularization = li, Iterations = 300 }).Fit(Small);
        // Solve min Σ(r − μ − b_u − b_i)² + λu Σ b_u² + λi Σ b_i² directly: (ZᵀZ + Λ) b = Zᵀ(r − μ).
        var users = Small.Users.Count;
        var n = users + Small.Items.Count;
        var a = new double[n, n + 1];
        var mean = Small.Rating.Average(r => (double)r);
        for (var r = 0; r < Small.Count; r++)
        {
            int u = Small.User[r], i = users + Small.Item[r];
            a[u, u]++; a[i, i]++; a[u, i]++; a[i, u]++;
            a[u, n] += Small.Rating[r] - mean;
            a[i, n] += Small.Rating[r] - mean;
        }
        for (var k = 0; k < n; k++) a[k, k] += k < users ? lu : li;
        var b = Solve(a, n);
        Assert.AreEqual(mean, model.Mean, 1e-6);
        for (var u = 0; u < users; u++) Assert.AreEqual(b[u], model.UserBias[u], 1e-5);
        for (var i = 0; i < Small.Items.Count; i++) Assert.AreEqual(b[users + i], model.ItemBias[i], 1e-5);
        Assert.AreEqual(mean + b[0] + b[users], model.PredictRating(0, 0), 1e-5);
    }

    private static double[] Solve(double[,] a, int n)
    {
        for (var c = 0; c < n; c++)
        {
            var pivot = Enumerable.Range(c, n - c).MaxBy(r => Math.Abs(a[r, c]));
            for (var k = 0; k <= n; k++) (a[c, k], a[pivot, k]) = (a[pivot, k], a[c, k]);
            for (var r = 0; r < n; r++)
            {
                if (r == c) continue;
                var f = a[r, c] / a[c, c];
                for (var k = c; k <= n; k++) a[r, k] -= f * a[c, k];
            }
        }
        return Enumerable.Range(0, n).Select(i => a[i, n] / a[i, i]).ToArray();
    }

    [TestMethod]
    public void Global_mean_predicts_the_mean()
    {
        var model = new GlobalMeanTrainer().Fit(Small);
        Assert.AreEqual(27.0 / 8, model.PredictRating(1, 3), 1e-6);
    }

    [TestMethod]
    public void Most_popular_counts_interactions()
    {
        var scores = new float[Small.Items.Count];
        new MostPopularTrainer().Fit(Small).ScoreItems(0, scores);
        CollectionAssert.AreEqual(new float[] { 2, 2, 3, 1 }, scores); // x, y, z, w
    }

    [TestMethod]
    public void Item_knn_similarities_by_hand()
    {
        // Users of x: {a,b}; y: {a,c}; z: {a,b,c}; w: {c}. sim(x,z) = 2 / (√(2·3) + 1).
        var model = new ItemKnnTrainer(new ItemKnnOptions { Neighbours = 10, Shrinkage = 1 }).Fit(Small);
        var scores = new float[4];
        model.ScoreItems(1, scores); // user b has x and z
        double Sim(int common, int n1, int n2) => common / (Math.Sqrt(n1 * n2) + 1.0);
        Assert.AreEqual(Sim(2, 2, 3), scores[0], 1e-6, "x: similarity to z only (not to itself)");
        Assert.AreEqual(Sim(1, 2, 2) + Sim(2, 2, 3), scores[1], 1e-6, "y: via x and via z");
        Assert.AreEqual(Sim(2, 2, 3), scores[2], 1e-6, "z: via x");
        Assert.AreEqual(Sim(1, 1, 3), scores[3], 1e-6, "w: via z");
    }

    [TestMethod]
    public void Item_knn_keeps_only_the_nearest_neighbours()
    {
        var model = new ItemKnnTrainer(new ItemKnnOptions { Neighbours = 1, Shrinkage = 1 }).Fit(Small);
        var scores = new float[4];
        model.ScoreItems(3, scores); // unknown user index beyond training users: all zero
        Assert.IsTrue(scores.All(s => s == 0));
        model.ScoreItems(1, scores);
        // z's single nearest neighbour is x or y (tie 2/(√6+1)); x's is z. w is nobody's nearest from b's items.
        Assert.AreEqual(0f, scores[3]);
    }

    [TestMethod]
    public void Random_model_is_seeded_per_user()
    {
        var a = new float[4]; var b = new float[4]; var c = new float[4];
        new RandomTrainer(3).Fit(Small).ScoreItems(1, a);
        new RandomTrainer(3).Fit(Small).ScoreItems(1, b);
        new RandomTrainer(4).Fit(Small).ScoreItems(1, c);
        CollectionAssert.AreEqual(a, b);
        CollectionAssert.AreNotEqual(a, c);
    }

    [TestMethod]
    public void Empty_training_set_is_a_clear_error()
    {
        var empty = new InteractionsBuilder().Build();
        foreach (var model in RecommenderCatalog.Models)
        {
            var e = Assert.ThrowsExactly<ExperimentsException>(() => RecommenderCatalog.Create(model.Type, new Dictionary<string, object>(), 1).Fit(empty), model.Type);
            StringAssert.Contains(e.Message, "training set is empty");
        }
    }

    [TestMethod]
    public void Rating_models_refuse_implicit_data_and_NaN_ratings()
    {
        var builder = new InteractionsBuilder(hasRatings: false);
        builder.Add("u", "i");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => new BiasTrainer(new BiasOptions()).Fit(builder.Build())).Message, "learns from ratings");
        var nan = Ratings(("u", "i", float.NaN));
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => new GlobalMeanTrainer().Fit(nan)).Message, "ratings must be finite numbers");
    }
}
