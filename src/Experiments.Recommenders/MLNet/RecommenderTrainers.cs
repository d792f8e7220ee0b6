using Experiments.Core;
using Experiments.MLNet;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders.Factorization;
using Microsoft.ML;

namespace Experiments.Recommenders.MLNet;

/// <summary>
/// Our recommenders, found from an MLContext as ML.NET's trainers are:
/// <code>
/// var pipeline = ml.Transforms.Conversion.MapValueToKey("userId")
///     .Append(ml.Transforms.Conversion.MapValueToKey("movieId"))
///     .Append(ml.Recommenders().MatrixFactorization(new MatrixFactorizationOptions { ApproximationRank = 32 }, "userId", "movieId", "rating"));
/// </code>
/// Seeds: options that set <c>Seed</c> keep it; options that leave it unset (or no options) take the MLContext's seed
/// (<c>new MLContext(seed: 7)</c>), and <see cref="SeededOptions.DefaultSeed"/> when the context has none, so that an
/// unseeded context still trains reproducibly.
/// </summary>
public sealed class RecommenderTrainers
{
    private readonly int? _seed;

    internal RecommenderTrainers(MLContext context) => _seed = MLNetInternals.Seed(context);

    public RecommendationColumns Defaults { get; } = new();

    /// <summary>Column names used when a call names none.</summary>
    public sealed record RecommendationColumns(string User = "UserId", string Item = "ItemId", string Label = "Label", string Score = "Score");

    public RecommenderEstimator MatrixFactorization(MatrixFactorizationOptions? options = null, string? user = null, string? item = null, string? label = null) =>
        Create(new MatrixFactorizationTrainer(Seeded(options ?? new MatrixFactorizationOptions())), user, item, label ?? Defaults.Label);

    /// <summary>SVD++ (Koren 2008): matrix factorisation whose user factors add the implicit feedback of the items the user rated.</summary>
    public RecommenderEstimator SvdPlusPlus(SvdPlusPlusOptions? options = null, string? user = null, string? item = null, string? label = null) =>
        Create(new SvdPlusPlusTrainer(Seeded(options ?? new SvdPlusPlusOptions())), user, item, label ?? Defaults.Label);

    /// <summary>Bayesian matrix factorisation by Gibbs sampling (Salakhutdinov &amp; Mnih 2008); predictions average the kept samples.</summary>
    public RecommenderEstimator BayesianMatrixFactorization(BayesianMatrixFactorizationOptions? options = null, string? user = null, string? item = null, string? label = null) =>
        Create(new BayesianMatrixFactorizationTrainer(Seeded(options ?? new BayesianMatrixFactorizationOptions())), user, item, label ?? Defaults.Label);

    public RecommenderEstimator ImplicitAls(ImplicitAlsOptions? options = null, string? user = null, string? item = null, string? label = null) =>
        Create(new ImplicitAlsTrainer(Seeded(options ?? new ImplicitAlsOptions())), user, item, label);

    public RecommenderEstimator Bpr(BprOptions? options = null, string? user = null, string? item = null) =>
        Create(new BprTrainer(Seeded(options ?? new BprOptions())), user, item, null);

    public RecommenderEstimator Ease(EaseOptions? options = null, string? user = null, string? item = null) =>
        Create(new EaseTrainer(options ?? new EaseOptions()), user, item, null);

    public RecommenderEstimator ItemKnn(ItemKnnOptions? options = null, string? user = null, string? item = null) =>
        Create(new ItemKnnTrainer(options ?? new ItemKnnOptions()), user, item, null);

    public RecommenderEstimator MostPopular(string? user = null, string? item = null) => Create(new MostPopularTrainer(), user, item, null);

    public RecommenderEstimator Bias(BiasOptions? options = null, string? user = null, string? item = null, string? label = null) =>
        Create(new BiasTrainer(options ?? new BiasOptions()), user, item, label ?? Defaults.Label);

    private T Seeded<T>(T options) where T : SeededOptions => (T)options.WithSeedIfUnset(_seed);

    private RecommenderEstimator Create(IRecommenderTrainer trainer, string? user, string? item, string? label) =>
        new(trainer, user ?? Defaults.User, item ?? Defaults.Item, label, Defaults.Score);
}

public static class MLContextRecommenderExtensions
{
    /// <summary>The recommender trainers of this platform (matrix factorisation, SVD++, Bayesian MF, implicit ALS, BPR, EASE, kNN, baselines).</summary>
    public static RecommenderTrainers Recommenders(this MLContext context) => new(context);
}
