using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders.Factorization;
using Experiments.Recommenders.Linear;

namespace Experiments.Recommenders;

/// <summary>
/// Every recommender a definition can name: its descriptor (task, parameters with ranges and defaults) and how to
/// build its trainer from a definition's parameters. Add a model here and it is in the schema, the validator and the CLI.
/// </summary>
public static class RecommenderCatalog
{
    private const string Ranking = "ranking";
    private const string Rating = "rating";
    private const string Hybrid = "hybrid";

    private sealed record Entry(ModelDescriptor Descriptor, Func<ParameterValues, int, IRecommenderTrainer> Create);

    private const string EarlyStoppingHelp = "Stop when validation RMSE has not improved for this many iterations (0: run them all). Uses the split's validation rows when it has them (the best iteration is kept); otherwise holds out validationFraction of the training pairs, then refits on all of them for the best number of iterations.";
    private const string ValidationFractionHelp = "Seeded share of the training pairs held out for early stopping when the split gives no validation rows.";

    private static readonly Entry[] Entries =
    [
        new(new("most-popular", [Ranking], "Recommends the items with the most training interactions to everyone.", []),
            (_, _) => new MostPopularTrainer()),
        new(new("random", [Ranking], "Ranks items in a random order per user (seeded): the floor every model must clear.", []),
            (_, seed) => new RandomTrainer(seed)),
        new(new("global-mean", [Rating], "Predicts the mean training rating for every pair.", []),
            (_, _) => new GlobalMeanTrainer()),
        new(new("bias", [Rating, Ranking], "Global mean plus regularised user and item biases (Koren's baseline predictor), fitted by alternating least squares.",
            [
                new("userRegularization", ParameterKind.Number, BiasOptions.Defaults.UserRegularization, "Shrinks user biases towards 0 (λ added to each user's count).", 0, 1000),
                new("itemRegularization", ParameterKind.Number, BiasOptions.Defaults.ItemRegularization, "Shrinks item biases towards 0 (λ added to each item's count).", 0, 1000),
                new("iterations", ParameterKind.Integer, BiasOptions.Defaults.Iterations, "Alternating updates of item then user biases.", 1, 100),
            ]),
            (p, _) => new BiasTrainer(new BiasOptions
            {
                UserRegularization = p.Number("userRegularization", BiasOptions.Defaults.UserRegularization),
                ItemRegularization = p.Number("itemRegularization", BiasOptions.Defaults.ItemRegularization),
                Iterations = p.Integer("iterations", BiasOptions.Defaults.Iterations),
            })),
        new(new("item-knn", [Ranking], "Item-based k-nearest neighbours: cosine similarity of items' user sets with shrinkage; a user's score for an item sums its similarity to the items the user has.",
            [
                new("neighbours", ParameterKind.Integer, ItemKnnOptions.Defaults.Neighbours, "Most similar items kept per item.", 1, 100_000),
                new("shrinkage", ParameterKind.Number, ItemKnnOptions.Defaults.Shrinkage, "Added to the cosine's denominator: damps similarities built on few common users.", 0, 10_000),
            ]),
            (p, _) => new ItemKnnTrainer(new ItemKnnOptions
            {
                Neighbours = p.Integer("neighbours", ItemKnnOptions.Defaults.Neighbours),
                Shrinkage = p.Number("shrinkage", ItemKnnOptions.Defaults.Shrinkage),
            })),
        new(new("ease", [Ranking], "EASE (Steck 2019): closed-form item–item regression with zero diagonal; among the strongest published baselines on MovieLens.",
            [
                new("lambda", ParameterKind.Number, EaseOptions.Defaults.Lambda, "L2 weight on the item–item matrix.", 0.001, 1e7),
                new("maxItems", ParameterKind.Integer, 0, "Model only the most popular items up to this many (time grows with its cube, memory with its square); the others rank last. 0: every item.", 0, CholeskyInverse.MaxOrder),
                new("doublePrecision", ParameterKind.Boolean, EaseOptions.Defaults.DoublePrecision, "Solve in float64 instead of float32: 3× the memory, 2× the time; for a lambda too small for float32 (the fit's residual check says so)."),
            ]),
            (p, _) => new EaseTrainer(new EaseOptions
            {
                Lambda = p.Number("lambda", EaseOptions.Defaults.Lambda),
                MaxItems = p.Integer("maxItems", 0) is > 0 and var cap ? cap : null,
                DoublePrecision = p.Flag("doublePrecision", EaseOptions.Defaults.DoublePrecision),
            })),
        new(new("matrix-factorization", [Rating, Ranking], "Explicit-rating matrix factorisation with user and item biases, by ALS (exact block solves, ALS-WR regularisation) or SGD.",
            [
                new("solver", ParameterKind.String, "als", "als or sgd.", Allowed: ["als", "sgd"]),
                new("rank", ParameterKind.Integer, MatrixFactorizationOptions.Defaults.ApproximationRank, "Rank of the factors (ML.NET: ApproximationRank).", 1, 1024),
                new("iterations", ParameterKind.Integer, MatrixFactorizationOptions.Defaults.NumberOfIterations, "ALS sweeps or SGD epochs (ML.NET: NumberOfIterations).", 1, 1000),
                new("learningRate", ParameterKind.Number, MatrixFactorizationOptions.Defaults.LearningRate, "SGD step size.", 1e-6, 10),
                new("lambda", ParameterKind.Number, MatrixFactorizationOptions.Defaults.Lambda, "L2 on factors (scaled by each row's rating count in ALS).", 0, 1000),
                new("biasLambda", ParameterKind.Number, MatrixFactorizationOptions.Defaults.BiasLambda, "L2 on biases.", 0, 1000),
                new("biases", ParameterKind.Boolean, true, "Fit user and item biases."),
                new("nonNegative", ParameterKind.Boolean, false, "Keep factors ≥ 0."),
                new("threads", ParameterKind.Integer, 0, "Threads (0: all cores); the result does not depend on it unless hogwild is on.", 0, 256),
                new("hogwild", ParameterKind.Boolean, false, "SGD: lock-free parallel updates (Hogwild!) instead of the fixed block schedule; with several threads the result depends on thread timing and the model reports it is not reproducible."),
                new("earlyStoppingRounds", ParameterKind.Integer, MatrixFactorizationOptions.Defaults.EarlyStoppingRounds, EarlyStoppingHelp, 0, 1000),
                new("validationFraction", ParameterKind.Number, MatrixFactorizationOptions.Defaults.ValidationFraction, ValidationFractionHelp, 0, 0.9),
            ]),
            (p, seed) => new MatrixFactorizationTrainer(new MatrixFactorizationOptions
            {
                Solver = p.Text("solver", "als") == "sgd" ? MatrixFactorizationSolver.Sgd : MatrixFactorizationSolver.Als,
                ApproximationRank = p.Integer("rank", MatrixFactorizationOptions.Defaults.ApproximationRank),
                NumberOfIterations = p.Integer("iterations", MatrixFactorizationOptions.Defaults.NumberOfIterations),
                LearningRate = p.Number("learningRate", MatrixFactorizationOptions.Defaults.LearningRate),
                Lambda = p.Number("lambda", MatrixFactorizationOptions.Defaults.Lambda),
                BiasLambda = p.Number("biasLambda", MatrixFactorizationOptions.Defaults.BiasLambda),
                UseBiases = p.Flag("biases", true),
                NonNegative = p.Flag("nonNegative", false),
                NumberOfThreads = p.Threads(),
                Hogwild = p.Flag("hogwild", false),
                EarlyStoppingRounds = p.Integer("earlyStoppingRounds", MatrixFactorizationOptions.Defaults.EarlyStoppingRounds),
                ValidationFraction = p.Number("validationFraction", MatrixFactorizationOptions.Defaults.ValidationFraction),
                Seed = seed,
            })),
        new(new("svd++", [Rating, Ranking], "SVD++ (Koren 2008): biased matrix factorisation whose user factors add the implicit feedback of the items the user rated, by SGD.",
            [
                new("rank", ParameterKind.Integer, SvdPlusPlusOptions.Defaults.ApproximationRank, "Rank of the factors.", 1, 1024),
                new("iterations", ParameterKind.Integer, SvdPlusPlusOptions.Defaults.NumberOfIterations, "Most SGD epochs (early stopping usually ends sooner).", 1, 1000),
                new("learningRate", ParameterKind.Number, SvdPlusPlusOptions.Defaults.LearningRate, "SGD step size of the first epoch.", 1e-6, 10),
                new("learningRateDecay", ParameterKind.Number, SvdPlusPlusOptions.Defaults.LearningRateDecay, "Step size multiplier after each epoch.", 0.1, 1),
                new("lambda", ParameterKind.Number, SvdPlusPlusOptions.Defaults.Lambda, "L2 on the factors and implicit-feedback vectors, per update.", 0, 100),
                new("biasLambda", ParameterKind.Number, SvdPlusPlusOptions.Defaults.BiasLambda, "L2 on the biases, per update.", 0, 100),
                new("earlyStoppingRounds", ParameterKind.Integer, SvdPlusPlusOptions.Defaults.EarlyStoppingRounds, EarlyStoppingHelp, 0, 1000),
                new("validationFraction", ParameterKind.Number, SvdPlusPlusOptions.Defaults.ValidationFraction, ValidationFractionHelp, 0, 0.9),
            ]),
            (p, seed) => new SvdPlusPlusTrainer(new SvdPlusPlusOptions
            {
                ApproximationRank = p.Integer("rank", SvdPlusPlusOptions.Defaults.ApproximationRank),
                NumberOfIterations = p.Integer("iterations", SvdPlusPlusOptions.Defaults.NumberOfIterations),
                LearningRate = p.Number("learningRate", SvdPlusPlusOptions.Defaults.LearningRate),
                LearningRateDecay = p.Number("learningRateDecay", SvdPlusPlusOptions.Defaults.LearningRateDecay),
                Lambda = p.Number("lambda", SvdPlusPlusOptions.Defaults.Lambda),
                BiasLambda = p.Number("biasLambda", SvdPlusPlusOptions.Defaults.BiasLambda),
                EarlyStoppingRounds = p.Integer("earlyStoppingRounds", SvdPlusPlusOptions.Defaults.EarlyStoppingRounds),
                ValidationFraction = p.Number("validationFraction", SvdPlusPlusOptions.Defaults.ValidationFraction),
                Seed = seed,
            })),
        new(new("bayesian-mf", [Rating, Ranking], "Bayesian probabilistic matrix factorisation (Salakhutdinov & Mnih 2008): Gibbs sampling with Normal-Wishart hyper-priors; predictions average the kept samples.",
            [
                new("rank", ParameterKind.Integer, BayesianMatrixFactorizationOptions.Defaults.ApproximationRank, "Rank of each sample's factors.", 1, 256),
                new("burnIn", ParameterKind.Integer, BayesianMatrixFactorizationOptions.Defaults.BurnIn, "Gibbs sweeps discarded first.", 0, 10_000),
                new("samples", ParameterKind.Integer, BayesianMatrixFactorizationOptions.Defaults.Samples, "Sweeps kept after the burn-in; predictions average them (the model holds rank × samples factors per row).", 1, 1000),
                new("alpha", ParameterKind.Number, BayesianMatrixFactorizationOptions.Defaults.Alpha, "Observation precision (1 / noise variance of a rating).", 1e-3, 1000),
                new("beta0", ParameterKind.Number, BayesianMatrixFactorizationOptions.Defaults.Beta0, "Strength of the hyper-prior on the factor means.", 1e-3, 1000),
                new("threads", ParameterKind.Integer, 0, "Threads (0: all cores); the result does not depend on it.", 0, 256),
            ]),
            (p, seed) => new BayesianMatrixFactorizationTrainer(new BayesianMatrixFactorizationOptions
            {
                ApproximationRank = p.Integer("rank", BayesianMatrixFactorizationOptions.Defaults.ApproximationRank),
                BurnIn = p.Integer("burnIn", BayesianMatrixFactorizationOptions.Defaults.BurnIn),
                Samples = p.Integer("samples", BayesianMatrixFactorizationOptions.Defaults.Samples),
                Alpha = p.Number("alpha", BayesianMatrixFactorizationOptions.Defaults.Alpha),
                Beta0 = p.Number("beta0", BayesianMatrixFactorizationOptions.Defaults.Beta0),
                NumberOfThreads = p.Threads(),
                Seed = seed,
            })),
        new(new("implicit-als", [Ranking], "Weighted ALS for implicit feedback (Hu, Koren & Volinsky) with a conjugate-gradient solver; confidence 1 + alpha·r.",
            [
                new("rank", ParameterKind.Integer, ImplicitAlsOptions.Defaults.ApproximationRank, "Rank of the factors.", 1, 1024),
                new("iterations", ParameterKind.Integer, ImplicitAlsOptions.Defaults.NumberOfIterations, "ALS sweeps.", 1, 1000),
                new("lambda", ParameterKind.Number, ImplicitAlsOptions.Defaults.Lambda, "L2 on factors.", 0, 1e6),
                new("alpha", ParameterKind.Number, ImplicitAlsOptions.Defaults.Alpha, "Confidence slope: c = 1 + alpha·r.", 0, 1e6),
                new("cgSteps", ParameterKind.Integer, ImplicitAlsOptions.Defaults.ConjugateGradientSteps, "Conjugate-gradient steps per row.", 1, 100),
                new("threads", ParameterKind.Integer, 0, "Threads (0: all cores).", 0, 256),
            ]),
            (p, seed) => new ImplicitAlsTrainer(new ImplicitAlsOptions
            {
                ApproximationRank = p.Integer("rank", ImplicitAlsOptions.Defaults.ApproximationRank),
                NumberOfIterations = p.Integer("iterations", ImplicitAlsOptions.Defaults.NumberOfIterations),
                Lambda = p.Number("lambda", ImplicitAlsOptions.Defaults.Lambda),
                Alpha = p.Number("alpha", ImplicitAlsOptions.Defaults.Alpha),
                ConjugateGradientSteps = p.Integer("cgSteps", ImplicitAlsOptions.Defaults.ConjugateGradientSteps),
                NumberOfThreads = p.Threads(),
                Seed = seed,
            })),
        new(new("bpr", [Ranking], "Bayesian personalised ranking (Rendle et al.): pairwise SGD on sampled (user, positive, negative) triples.",
            [
                new("rank", ParameterKind.Integer, BprOptions.Defaults.ApproximationRank, "Rank of the factors.", 1, 1024),
                new("iterations", ParameterKind.Integer, BprOptions.Defaults.NumberOfIterations, "Epochs.", 1, 10_000),
                new("learningRate", ParameterKind.Number, BprOptions.Defaults.LearningRate, "SGD step size.", 1e-6, 10),
                new("lambda", ParameterKind.Number, BprOptions.Defaults.Lambda, "L2 on factors and item biases.", 0, 100),
                new("initialScale", ParameterKind.Number, BprOptions.Defaults.InitialScale, "Standard deviation of the initial factors (Cornac's uniform(-0.5, 0.5)/k has 1/(k·√12)).", 1e-6, 10),
            ]),
            (p, seed) => new BprTrainer(new BprOptions
            {
                ApproximationRank = p.Integer("rank", BprOptions.Defaults.ApproximationRank),
                NumberOfIterations = p.Integer("iterations", BprOptions.Defaults.NumberOfIterations),
                LearningRate = p.Number("learningRate", BprOptions.Defaults.LearningRate),
                Lambda = p.Number("lambda", BprOptions.Defaults.Lambda),
                InitialScale = p.Number("initialScale", BprOptions.Defaults.InitialScale),
                Seed = seed,
            })),
    ];

    /// <summary>Every recommender; each ranking model is also a single stage (and retriever) of task "hybrid".</summary>
    public static IReadOnlyList<ModelDescriptor> Models { get; } = Entries
        .Select(e => e.Descriptor.Tasks.Contains(Ranking) ? e.Descriptor with { Tasks = [.. e.Descriptor.Tasks, Hybrid] } : e.Descriptor).ToList();

    /// <summary>A trainer for <paramref name="type"/> with the given parameters (already validated against the descriptor).</summary>
    public static IRecommenderTrainer Create(string type, IReadOnlyDictionary<string, object> parameters, int seed)
    {
        var entry = Entries.FirstOrDefault(e => e.Descriptor.Type == type)
                    ?? throw new ExperimentsException(DefinitionValidator.UnknownValue($"model type '{type}'", type, Models.Select(m => m.Type).ToList()));
        return entry.Create(new ParameterValues(parameters), seed);
    }
}
