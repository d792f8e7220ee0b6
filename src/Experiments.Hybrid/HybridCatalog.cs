using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Core.Models;
using Experiments.Recommenders;
using Experiments.Recommenders.Baselines;

namespace Experiments.Hybrid;

/// <summary>What a two-stage model does, read from its parameters.</summary>
public sealed record TwoStageOptions
{
    public required IReadOnlyList<string> Retrievers { get; init; }
    public int Depth { get; init; } = 100;
    public RerankerOptions Reranker { get; init; } = new();
    public FeatureGroups Features { get; init; } = FeatureGroups.All;
    public double LabelFraction { get; init; } = 0.2;
    public int MaxLabelUsers { get; init; } = 10_000;
    public ColdItemMapOptions ColdItems { get; init; } = new(ColdItemMap.Linear);
}

/// <summary>
/// The models of task "hybrid" besides the recommenders (every ranking recommender is also a single stage): text
/// nearest neighbours of the user's history, recency-weighted popularity, and the two-stage model, whose retrievers
/// are other models of the definition. Every setting is an ordinary parameter with a range, so a sweep can vary the
/// retriever depth, the re-ranker and its boosting, the feature groups and the cold-item map.
/// </summary>
public static class HybridCatalog
{
    public const string Task = "hybrid";
    public const string TextKnn = "text-knn";
    public const string RecentPopular = "recent-popular";
    public const string TwoStage = "two-stage";
    public static readonly IReadOnlyList<string> ColdItemMaps = ["none", "linear", "mlp", "neighbours"];

    private static readonly (string Name, FeatureGroups Group, string Help)[] FeatureSwitches =
    [
        ("retrievalFeatures", FeatureGroups.Retrieval, "Each retriever's score, gap to its best, rank and whether it listed the candidate; how many did."),
        ("textFeatures", FeatureGroups.Text, "Cosines of the candidate's text vector with the user's history centroid, closest recent item and latest item."),
        ("popularityFeatures", FeatureGroups.Popularity, "The item's training count, recency-weighted count, age and time since its last interaction."),
        ("userFeatures", FeatureGroups.User, "The user's history length, mean item popularity and time since the last interaction."),
        ("attributeFeatures", FeatureGroups.Attributes, "Per categorical item attribute: the share of the user's history that carries the candidate's value."),
        ("clickFeatures", FeatureGroups.Clicks, "The item's impressions and smoothed click-through rate (when the definition names an impression log)."),
    ];

    public static IReadOnlyList<ModelDescriptor> Models { get; } =
    [
        new(TextKnn, [Task], "Text retrieval: cosine of each item's text vector with the centroid of the user's history vectors; ranks items never seen in training and users with a few interactions.",
            [new("weighted", ParameterKind.Boolean, false, "Weight the history's vectors by their values (ratings, or event counts).")]),
        new(RecentPopular, [Task], "Recency-weighted popularity: each training row counts 2^(−age / half-life), age measured back from the latest training time.",
            [new("halfLife", ParameterKind.Number, 0.1, "Half-life as a share of the training period.", 0.001, 100)]),
        new(TwoStage, [Task], "Two-stage ranking: the named retrievers' top-N lists merged (sources kept), then re-ranked by a click-through classifier or LambdaRank (ML.NET LightGBM / FastTree) over stage features; labels from a label part carved out of the training rows.",
        [
            new("retrievers", ParameterKind.String, "", "The first stage: names of the definition's other models, comma-separated (e.g. \"ease,implicit-als,text-knn,popularity\")."),
            new("depth", ParameterKind.Integer, 100, "Candidates taken from each retriever (N); the merge is their union.", 1, 10_000),
            new("reranker", ParameterKind.String, "lightgbm-lambdarank", "lightgbm-binary or fasttree-binary (click-through classifiers), lightgbm-lambdarank or fasttree-lambdarank (learning to rank), or fusion (no model: reciprocal-rank fusion of the lists).", Allowed: RerankerOptions.Names),
            new("trees", ParameterKind.Integer, 150, "Boosting iterations.", 1, 100_000),
            new("leaves", ParameterKind.Integer, 8, "Leaves per tree.", 2, 100_000),
            new("minLeaf", ParameterKind.Integer, 100, "Fewest training rows in a leaf.", 1, 1_000_000),
            new("learningRate", ParameterKind.Number, 0.05, "Boosting learning rate.", 1e-4, 1),
            new("fusionK", ParameterKind.Number, 60.0, "Re-ranker 'fusion': k of reciprocal-rank fusion, 1 / (k + rank).", 0, 100_000),
            new("labelFraction", ParameterKind.Number, 0.2, "Share of the training rows carved out as the re-ranker's label part (the retrievers of the label phase are fitted on the rest).", 0.01, 0.9),
            new("maxLabelUsers", ParameterKind.Integer, 10_000, "Most label users the re-ranker learns from (a seeded sample beyond it).", 1, 10_000_000),
            .. FeatureSwitches.Select(f => new ParameterSpec(f.Name, ParameterKind.Boolean, true, f.Help)),
            new("coldItemMap", ParameterKind.String, "linear", "Factors of items without training rows, for latent-factor retrievers: none, linear (ridge from text vector to factors), mlp (one hidden layer), neighbours (mean of the most text-similar known items' factors).", Allowed: ColdItemMaps),
            new("mapLambda", ParameterKind.Number, 1.0, "Ridge weight of the linear map (the MLP's weight decay × 1000).", 0, 1e6),
            new("mapNeighbours", ParameterKind.Integer, 20, "Known items averaged by the neighbours map.", 1, 100_000),
            new("mapHidden", ParameterKind.Integer, 64, "Hidden width of the MLP map.", 1, 4096),
            new("mapEpochs", ParameterKind.Integer, 300, "Full-batch Adam epochs of the MLP map.", 1, 100_000),
        ]),
    ];

    public static bool IsTwoStage(string type) => type == TwoStage;

    public static TwoStageOptions Options(IReadOnlyDictionary<string, object> parameters, int seed)
    {
        var p = new ParameterValues(parameters, Models.First(m => m.Type == TwoStage).Parameters);
        var features = FeatureSwitches.Where(f => p.Flag(f.Name)).Aggregate(FeatureGroups.None, (all, f) => all | f.Group);
        if (features == FeatureGroups.None && p.Text("reranker") != "fusion")
            throw new ExperimentsException("Every feature group of the two-stage model is off; a re-ranker needs at least one (or use reranker 'fusion').");
        return new TwoStageOptions
        {
            Retrievers = p.Text("retrievers").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            Depth = p.Integer("depth"),
            Reranker = new RerankerOptions
            {
                Kind = RerankerOptions.Parse(p.Text("reranker")),
                Trees = p.Integer("trees"), Leaves = p.Integer("leaves"), MinLeaf = p.Integer("minLeaf"), LearningRate = p.Number("learningRate"),
                FusionK = p.Number("fusionK"), Seed = seed,
            },
            Features = features,
            LabelFraction = p.Number("labelFraction"),
            MaxLabelUsers = p.Integer("maxLabelUsers"),
            ColdItems = new ColdItemMapOptions(Enum.Parse<ColdItemMap>(p.Text("coldItemMap"), ignoreCase: true), p.Number("mapLambda"), p.Integer("mapNeighbours"), p.Integer("mapHidden"), p.Integer("mapEpochs"), seed),
        };
    }
}

/// <summary>
/// Single stages in a phase: fitting one (a recommender from <see cref="RecommenderCatalog"/>, or text-knn and
/// recent-popular), and serving it — cold items mapped into a latent-factor model's space, new users scored from their
/// fold-in histories, candidates limited to the phase's allowed items.
/// </summary>
public static class Stages
{
    /// <summary>Fits <paramref name="model"/> on the phase's training rows (and validation rows, for trainers that watch them).</summary>
    public static IRecommenderModel Fit(ModelSpec model, Phase phase, Interactions? validation, int seed, CancellationToken cancel = default) => model.Type switch
    {
        HybridCatalog.TextKnn => new TextNeighboursModel(phase.History(), phase.Vectors, new ParameterValues(model.Parameters, Descriptor(model.Type)).Flag("weighted")),
        HybridCatalog.RecentPopular => new FixedScoreModel(RecentPopularity.Scores(phase.Train, new ParameterValues(model.Parameters, Descriptor(model.Type)).Number("halfLife"))),
        _ => RecommenderCatalog.Create(model.Type, model.Parameters, seed) is var trainer && trainer is IValidatedTrainer validated && validation is not null
            ? validated.Fit(phase.Train, validation, cancel)
            : trainer.Fit(phase.Train, cancel),
    };

    /// <summary>
    /// The fitted stage as the phase needs it: cold items given mapped factors (latent-factor models, when
    /// <paramref name="coldItems"/> asks), new users scored from their fold-in histories, candidates limited.
    /// </summary>
    public static IRecommenderModel Serve(IRecommenderModel fitted, ModelSpec model, Phase phase, ColdItemMapOptions? coldItems = null)
    {
        var served = fitted;
        if (served is LatentFactorModel factors && coldItems is { Map: not ColdItemMap.None } map)
            served = ColdItemFactors.Apply(factors, phase.Vectors, phase.WarmItems(), map);
        if (phase.FoldIn is not null && served is not TextNeighboursModel)
        {
            var trained = new bool[phase.Train.Users.Count];
            foreach (var user in phase.Train.User) trained[user] = true;
            served = new HistoryScoredModel(served, phase.History(), trained, HistoryScoredModel.For(served, model.Type, model.Parameters));
        }
        return phase.Candidates is { } allowed ? new RestrictedModel(served, allowed) : served;
    }

    private static IReadOnlyList<ParameterSpec> Descriptor(string type) => HybridCatalog.Models.First(m => m.Type == type).Parameters;
}
