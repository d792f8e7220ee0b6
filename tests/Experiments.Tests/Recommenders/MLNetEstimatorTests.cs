using Experiments.Core;
using Experiments.Core.Data;
using Experiments.MLNet;
using Experiments.Recommenders;
using Experiments.Recommenders.Factorization;
using Experiments.Recommenders.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Experiments.Tests.Recommenders;

[TestClass]
public sealed class MLNetEstimatorTests
{
    public sealed class Rating
    {
        public string UserId { get; set; } = "";
        public string ItemId { get; set; } = "";
        public float Label { get; set; }
    }

    public sealed class Scored
    {
        public float Score { get; set; }
    }

    /// <summary>About 600 distinct (user, item) ratings of 40 users and 30 items, seeded.</summary>
    internal static List<Rating> Ratings()
    {
        var random = new Random(5);
        return Enumerable.Range(0, 600).Select(_ => (U: random.Next(40), I: random.Next(30))).Distinct()
            .Select(p => new Rating { UserId = $"u{p.U}", ItemId = $"i{p.I}", Label = 1 + (p.U + p.I) % 5 }).ToList();
    }

    [TestMethod]
    public void Pipeline_after_MapValueToKey_scores_like_the_model_itself()
    {
        var ml = new MLContext(seed: 1);
        var rows = Ratings();
        var data = ml.Data.LoadFromEnumerable(rows);
        var options = new MatrixFactorizationOptions { ApproximationRank = 6, NumberOfIterations = 8, NumberOfThreads = 1 };
        var pipeline = ml.Transforms.Conversion.MapValueToKey("UserId")
            .Append(ml.Transforms.Conversion.MapValueToKey("ItemId"))
            .Append(ml.Recommenders().MatrixFactorization(options));
        var model = pipeline.Fit(data);
        var scored = model.Transform(data);
        var scores = ml.Data.CreateEnumerable<Scored>(scored, reuseRowObject: false).Select(s => s.Score).ToList();

        // The same ratings through our own API, indexed in the order MapValueToKey assigns keys (first appearance).
        var builder = new InteractionsBuilder();
        foreach (var r in rows) builder.Add(r.UserId, r.ItemId, r.Label);
        var train = builder.Build();
        // The pipeline's options leave the seed unset, so the estimator takes the MLContext's (1).
        var direct = new MatrixFactorizationTrainer(options with { Seed = 1 }).Fit(train, null);
        for (var r = 0; r < rows.Count; r++)
            Assert.AreEqual(direct.PredictRating(train.User[r], train.Item[r]), scores[r], 1e-5);

        var metrics = ml.Regression.Evaluate(scored, labelColumnName: "Label", scoreColumnName: "Score");
        Assert.AreEqual(MatrixFactorizationTrainer.Rmse(direct, train), metrics.RootMeanSquaredError, 1e-5);

        var engine = ml.Model.CreatePredictionEngine<Rating, Scored>(model);
        Assert.AreEqual(scores[3], engine.Predict(rows[3]).Score, 1e-6);
        Assert.IsTrue(float.IsNaN(engine.Predict(new Rating { UserId = "stranger", ItemId = "i1" }).Score), "an unknown user scores NaN, as in ML.NET");
        var recommender = ((TransformerChain<RecommenderTransformer>)model).LastTransformer.Recommender;
        Assert.HasCount(5, recommender.Recommend("1", 5));
    }

    [TestMethod]
    public void Svd_plus_plus_and_bayesian_mf_estimators_score_like_their_trainers()
    {
        var ml = new MLContext(seed: 1);
        var rows = Ratings();
        var data = ml.Data.LoadFromEnumerable(rows);
        var builder = new InteractionsBuilder();
        foreach (var r in rows) builder.Add(r.UserId, r.ItemId, r.Label);
        var train = builder.Build();
        var svd = new SvdPlusPlusOptions { ApproximationRank = 4, NumberOfIterations = 5 };
        var bmf = new BayesianMatrixFactorizationOptions { ApproximationRank = 3, BurnIn = 2, Samples = 3 };
        foreach (var (estimator, direct) in new (RecommenderEstimator, IRecommenderTrainer)[]
                 {
                     (ml.Recommenders().SvdPlusPlus(svd), new SvdPlusPlusTrainer(svd with { Seed = 1 })),
                     (ml.Recommenders().BayesianMatrixFactorization(bmf), new BayesianMatrixFactorizationTrainer(bmf with { Seed = 1 })),
                 })
        {
            var model = ml.Transforms.Conversion.MapValueToKey("UserId").Append(ml.Transforms.Conversion.MapValueToKey("ItemId")).Append(estimator).Fit(data);
            var scores = ml.Data.CreateEnumerable<Scored>(model.Transform(data), reuseRowObject: false).Select(s => s.Score).ToList();
            var fitted = direct.Fit(train);
            for (var r = 0; r < rows.Count; r++) Assert.AreEqual(fitted.PredictRating(train.User[r], train.Item[r]), scores[r], 1e-5, direct.GetType().Name);
        }
    }

    [TestMethod]
    public void Ranking_models_score_rows_and_implicit_data_needs_no_label()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Ratings());
        var model = ml.Transforms.Conversion.MapValueToKey("UserId").Append(ml.Transforms.Conversion.MapValueToKey("ItemId"))
            .Append(ml.Recommenders().ItemKnn()).Fit(data);
        var scores = ml.Data.CreateEnumerable<Scored>(model.Transform(data), false).Select(s => s.Score).ToList();
        Assert.IsTrue(scores.All(float.IsFinite));
        Assert.IsTrue(scores.Any(s => s > 0));
    }

    [TestMethod]
    public void Clear_errors_for_columns_that_are_not_keys()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Ratings());
        var notKey = Assert.ThrowsExactly<ExperimentsException>(() => ml.Recommenders().MatrixFactorization().Fit(data));
        StringAssert.Contains(notKey.Message, "Column 'UserId' must be a key");
        StringAssert.Contains(notKey.Message, "MapValueToKey(\"UserId\")");
        var missing = Assert.ThrowsExactly<ExperimentsException>(() => ml.Recommenders().MatrixFactorization(label: "Stars").Fit(
            ml.Transforms.Conversion.MapValueToKey("UserId").Append(ml.Transforms.Conversion.MapValueToKey("ItemId")).Fit(data).Transform(data)));
        StringAssert.Contains(missing.Message, "Label column 'Stars' is not in the data");
        // SchemaShape.Create is internal to ML.NET: reached through MLNetInternals, as the platform reaches it.
        var keyed = ml.Transforms.Conversion.MapValueToKey("UserId").Append(ml.Transforms.Conversion.MapValueToKey("ItemId")).Fit(data).Transform(data);
        var shape = ml.Recommenders().MostPopular().GetOutputSchema(MLNetInternals.Shape(keyed.Schema));
        var score = shape.Single(c => c.Name == "Score");
        Assert.AreEqual(NumberDataViewType.Single, score.ItemType);
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => ml.Recommenders().MostPopular().GetOutputSchema(MLNetInternals.Shape(data.Schema))).Message, "must be a key");
    }
}
