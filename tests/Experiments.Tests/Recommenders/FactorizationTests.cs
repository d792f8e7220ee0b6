using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation;
using Experiments.Recommenders;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders.Factorization;

namespace Experiments.Tests.Recommenders;

/// <summary>The factorisation solvers checked against their optimality conditions and closed forms on small problems.</summary>
[TestClass]
public sealed class FactorizationTests
{
    private static Interactions RandomRatings(int users, int items, int rows, int seed, bool ratings = true)
    {
        var random = new Random(seed);
        var builder = new InteractionsBuilder(hasRatings: ratings);
        var seen = new HashSet<(int, int)>();
        while (builder.Count < rows)
        {
            int u = random.Next(users), i = random.Next(items);
            if (seen.Add((u, i))) builder.Add($"u{u}", $"i{i}", ratings ? 1 + random.Next(5) : 1);
        }
        return builder.Build();
    }

    [TestMethod]
    public void Explicit_als_ends_on_the_normal_equations_of_its_last_block()
    {
        var data = RandomRatings(12, 9, 60, 1);
        var options = new MatrixFactorizationOptions { ApproximationRank = 3, NumberOfIterations = 4, Lambda = 0.3, BiasLambda = 0.2, NumberOfThreads = 1 };
        var model = new MatrixFactorizationTrainer(options).Fit(data, null);
        // The last half-step solved every item exactly: the gradient of the item block vanishes.
        var k = options.ApproximationRank;
        for (var item = 0; item < data.Items.Count; item++)
        {
            var gradient = new double[k + 1];
            var count = 0;
            for (var r = 0; r < data.Count; r++)
            {
                if (data.Item[r] != item) continue;
                count++;
                var u = data.User[r];
                var error = data.Rating[r] - model.PredictRating(u, item);
                for (var f = 0; f < k; f++) gradient[f] += error * model.UserFactors[u * k + f];
                gradient[k] += error;
            }
            for (var f = 0; f < k; f++) gradient[f] -= options.Lambda * count * model.ItemFactors[item * k + f];
            gradient[k] -= options.BiasLambda * count * model.ItemBias![item];
            foreach (var g in gradient) Assert.AreEqual(0, g, 1e-3, $"item {item}");
        }
    }

    [TestMethod]
    public void Implicit_als_with_many_cg_steps_solves_the_weighted_normal_equations()
    {
        var data = RandomRatings(15, 10, 40, 2, ratings: false);
        var options = new ImplicitAlsOptions { ApproximationRank = 4, NumberOfIterations = 2, Lambda = 0.5, Alpha = 3, ConjugateGradientSteps = 50, NumberOfThreads = 1 };
        var model = new ImplicitAlsTrainer(options).FitFactors(data);
        var k = options.ApproximationRank;
        // Item side was solved last: Σ_u c_ui (p_ui − x_u·y_i) x_u − λ y_i = 0 over ALL users (observed or not).
        for (var item = 0; item < data.Items.Count; item++)
        {
            var gradient = new double[k];
            for (var u = 0; u < data.Users.Count; u++)
            {
                var observed = Enumerable.Range(0, data.Count).Any(r => data.User[r] == u && data.Item[r] == item);
                var confidence = observed ? 1 + options.Alpha : 1;
                var error = (observed ? 1 : 0) - model.PredictRating(u, item);
                for (var f = 0; f < k; f++) gradient[f] += confidence * error * model.UserFactors[u * k + f];
            }
            for (var f = 0; f < k; f++) Assert.AreEqual(0, gradient[f] - options.Lambda * model.ItemFactors[item * k + f], 1e-3, $"item {item}");
        }
    }

    [TestMethod]
    public void Ease_matches_its_closed_form()
    {
        var data = RandomRatings(8, 5, 20, 3, ratings: false);
        const double lambda = 2;
        var model = new EaseTrainer(new EaseOptions { Lambda = lambda }).Fit(data);
        // P = (XᵀX + λI)⁻¹ by Gauss–Jordan with partial pivoting; B = I − P diag(1/diag P).
        var n = data.Items.Count;
        var x = new double[data.Users.Count, n];
        for (var r = 0; r < data.Count; r++) x[data.User[r], data.Item[r]] = 1;
        var a = new double[n, 2 * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
                for (var u = 0; u < data.Users.Count; u++) a[i, j] += x[u, i] * x[u, j];
            a[i, i] += lambda;
            a[i, n + i] = 1;
        }
        for (var c = 0; c < n; c++)
        {
            var pivot = a[c, c];
            for (var j = 0; j < 2 * n; j++) a[c, j] /= pivot;
            for (var r = 0; r < n; r++)
                if (r != c) { var f = a[r, c]; for (var j = 0; j < 2 * n; j++) a[r, j] -= f * a[c, j]; }
        }
        var scores = new float[n];
        for (var u = 0; u < data.Users.Count; u++)
        {
            model.ScoreItems(u, scores);
            for (var j = 0; j < n; j++)
            {
                var expected = 0.0;
                for (var i = 0; i < n; i++) if (i != j) expected += x[u, i] * (-a[i, n + j] / a[j, n + j]);
                Assert.AreEqual(expected, scores[j], 1e-5, $"user {u} item {j}");
            }
        }
    }

    [TestMethod]
    public void Every_factorisation_is_deterministic_under_a_seed()
    {
        var data = RandomRatings(30, 20, 200, 4);
        foreach (var type in new[] { "matrix-factorization", "implicit-als", "bpr", "ease" })
        {
            var parameters = new Dictionary<string, object> { ["iterations"] = 3L };
            if (type == "ease") parameters.Clear();
            var a = new float[20]; var b = new float[20]; var c = new float[20];
            RecommenderCatalog.Create(type, parameters, 1).Fit(data).ScoreItems(3, a);
            RecommenderCatalog.Create(type, parameters, 1).Fit(data).ScoreItems(3, b);
            RecommenderCatalog.Create(type, parameters, 2).Fit(data).ScoreItems(3, c);
            CollectionAssert.AreEqual(a, b, type);
            if (type != "ease") CollectionAssert.AreNotEqual(a, c, type);
        }
    }

    [TestMethod]
    public void Parallel_solvers_give_the_same_bits_with_any_number_of_threads_and_only_hogwild_says_otherwise()
    {
        var data = RandomRatings(300, 200, 6000, 4);
        var sgd = new MatrixFactorizationOptions { Solver = MatrixFactorizationSolver.Sgd, NumberOfIterations = 3, SgdStrata = 4 };
        var one = new MatrixFactorizationTrainer(sgd with { NumberOfThreads = 1 }).Fit(data, null);
        var four = new MatrixFactorizationTrainer(sgd with { NumberOfThreads = 4 }).Fit(data, null);
        CollectionAssert.AreEqual(one.ItemFactors, four.ItemFactors);
        CollectionAssert.AreEqual(one.UserBias, four.UserBias);
        Assert.IsTrue(((Experiments.Core.Models.IRecommenderModel)four).IsReproducible);
        Assert.IsFalse(((Experiments.Core.Models.IRecommenderModel)new MatrixFactorizationTrainer(sgd with { Hogwild = true, NumberOfThreads = 2 }).Fit(data, null)).IsReproducible);
        Assert.IsTrue(((Experiments.Core.Models.IRecommenderModel)new MatrixFactorizationTrainer(sgd with { Hogwild = true, NumberOfThreads = 1 }).Fit(data, null)).IsReproducible);
        // 5,000 users: their Gram matrix is summed in several chunks.
        var many = RandomRatings(5000, 100, 8000, 5, ratings: false);
        var als = new ImplicitAlsOptions { ApproximationRank = 8, NumberOfIterations = 2 };
        CollectionAssert.AreEqual(new ImplicitAlsTrainer(als with { NumberOfThreads = 1 }).FitFactors(many).ItemFactors, new ImplicitAlsTrainer(als with { NumberOfThreads = 3 }).FitFactors(many).ItemFactors);
    }

    [TestMethod]
    public void Every_rating_model_learns_the_same_from_a_repeated_pair_as_from_its_mean_rating()
    {
        var distinct = RandomRatings(25, 15, 150, 8);
        // The same pairs in user-then-item order (the order of the averaged table), and a table where ten pairs are
        // rated three times: r, r + 1 and r − 1 (mean r), the repeats appended at the end.
        var sorted = Enumerable.Range(0, distinct.Count).OrderBy(r => distinct.User[r]).ThenBy(r => distinct.Item[r]).ToArray();
        var reference = distinct.Subset(sorted);
        var repeated = distinct.Subset([.. Enumerable.Range(0, distinct.Count), .. Enumerable.Range(0, 10), .. Enumerable.Range(0, 10)]);
        for (var r = 0; r < 10; r++)
        {
            repeated.Rating[distinct.Count + r] = distinct.Rating[r] + 1;
            repeated.Rating[distinct.Count + 10 + r] = distinct.Rating[r] - 1;
        }
        foreach (var (type, parameters) in new (string, Dictionary<string, object>)[]
                 {
                     ("global-mean", new()), ("bias", new()),
                     ("matrix-factorization", new() { ["solver"] = "als", ["iterations"] = 3L }),
                     ("matrix-factorization", new() { ["solver"] = "sgd", ["iterations"] = 3L }),
                 })
        {
            var expected = RecommenderCatalog.Create(type, parameters, 3).Fit(reference);
            var actual = RecommenderCatalog.Create(type, parameters, 3).Fit(repeated);
            for (var u = 0; u < distinct.Users.Count; u++)
                for (var i = 0; i < distinct.Items.Count; i++)
                    Assert.AreEqual(expected.PredictRating(u, i), actual.PredictRating(u, i), $"{type} {parameters.GetValueOrDefault("solver")}: user {u}, item {i}");
        }
        // The mean rating counts each pair once: pairs rated (2, 4) and (5) give 4, not 11/3.
        var small = new InteractionsBuilder();
        small.Add("a", "x", 2);
        small.Add("b", "x", 5);
        small.Add("a", "x", 4);
        Assert.AreEqual(4f, new GlobalMeanTrainer().Fit(small.Build()).PredictRating(0, 0));
    }

    [TestMethod]
    public void Early_stopping_keeps_the_best_validation_iteration_and_non_negative_stays_non_negative()
    {
        var data = RandomRatings(40, 30, 500, 5);
        var split = new RandomSplitter(0.2).Split(data, 1)[0];
        var train = data.Subset(split.Train);
        var validation = data.Subset(split.Test);
        var trainer = new MatrixFactorizationTrainer(new MatrixFactorizationOptions { ApproximationRank = 20, NumberOfIterations = 30, Lambda = 1e-4, BiasLambda = 1e-4, EarlyStoppingRounds = 2 });
        var history = new List<double>();
        trainer.IterationFinished += (_, _, v) => history.Add(v);
        var model = trainer.Fit(train, validation);
        Assert.IsTrue(history.Count < 30, "stopped early on a problem that overfits");
        Assert.AreEqual(history.Min(), MatrixFactorizationTrainer.Rmse(model, validation), 1e-9);
        var nonNegative = new MatrixFactorizationTrainer(new MatrixFactorizationOptions { NonNegative = true, NumberOfIterations = 3 }).Fit(train, null);
        Assert.IsTrue(nonNegative.UserFactors.All(f => f >= 0) && nonNegative.ItemFactors.All(f => f >= 0));
    }

    [TestMethod]
    public void Without_validation_rows_early_stopping_holds_out_a_share_then_refits_on_everything_for_the_best_iteration_count()
    {
        var data = RandomRatings(40, 30, 500, 6);
        foreach (var solver in new[] { MatrixFactorizationSolver.Als, MatrixFactorizationSolver.Sgd })
        {
            var options = new MatrixFactorizationOptions { Solver = solver, ApproximationRank = 20, NumberOfIterations = 40, Lambda = 1e-3, BiasLambda = 1e-3, LearningRate = 0.05, EarlyStoppingRounds = 2, ValidationFraction = 0.2 };
            var trainer = new MatrixFactorizationTrainer(options);
            var search = new List<double>();
            var refit = 0;
            trainer.IterationFinished += (_, _, v) => { if (double.IsNaN(v)) refit++; else search.Add(v); };
            var model = trainer.Fit(data, null);
            Assert.IsLessThan(40, search.Count, $"{solver}: the held-out share stopped the search on a problem that overfits");
            Assert.AreEqual(search.IndexOf(search.Min()) + 1, refit, $"{solver}: refitted for the best iteration count");
            var direct = new MatrixFactorizationTrainer(options with { EarlyStoppingRounds = 0, NumberOfIterations = refit }).Fit(data, null);
            CollectionAssert.AreEqual(direct.ItemFactors, model.ItemFactors, $"{solver}: the refit is a plain fit on every pair");
        }
    }

    [TestMethod]
    public void Bad_input_gives_clear_errors()
    {
        var empty = new InteractionsBuilder().Build();
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => new ImplicitAlsTrainer(new ImplicitAlsOptions()).Fit(empty)).Message, "training set is empty");
        var nan = new InteractionsBuilder();
        nan.Add("u", "i", float.NaN);
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => new MatrixFactorizationTrainer(new MatrixFactorizationOptions()).Fit(nan.Build())).Message, "must be finite");
        var implicitData = new InteractionsBuilder(hasRatings: false);
        implicitData.Add("u", "i");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => new MatrixFactorizationTrainer(new MatrixFactorizationOptions()).Fit(implicitData.Build())).Message, "learns from ratings");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => new BprTrainer(new BprOptions { ApproximationRank = 0 }).Fit(RandomRatings(3, 3, 4, 1))).Message, "rank must be at least 1");
    }

    [TestMethod]
    public void Factorisations_beat_popularity_on_the_demo_shop()
    {
        var data = new DatasetLoader().Open(new DatasetRequest("demo-shop") { Options = new Dictionary<string, double> { ["users"] = 1500, ["items"] = 600 } }).Interactions();
        var split = new StratifiedSplitter(0.2).Split(data, 1)[0];
        var train = data.Subset(split.Train);
        var test = data.Subset(split.Test);
        var spec = new EvaluationSpec { BootstrapSamples = 0 };
        double Ndcg(IRecommenderTrainer trainer) => RecommenderEvaluator.Evaluate(trainer.Fit(train), train, test, [MetricName.Parse("ndcg@10")], spec, 1).Values[0].Value;
        var popular = Ndcg(new MostPopularTrainer());
        Assert.IsGreaterThan(popular * 2, Ndcg(new ImplicitAlsTrainer(new ImplicitAlsOptions { ApproximationRank = 16 })));
        Assert.IsGreaterThan(popular * 2, Ndcg(new BprTrainer(new BprOptions { ApproximationRank = 16, NumberOfIterations = 20 })));
        Assert.IsGreaterThan(popular * 2, Ndcg(new EaseTrainer(new EaseOptions { Lambda = 100 })));
    }
}
