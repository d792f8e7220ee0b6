using System.Globalization;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Recommenders.Baselines;

namespace Experiments.Recommenders;

/// <summary>
/// Every recommender a definition can name: its descriptor (task, parameters with ranges and defaults) and how to
/// build its trainer from a definition's parameters. Add a model here and it is in the schema, the validator and the CLI.
/// </summary>
public static class RecommenderCatalog
{
    private const string Ranking = "ranking";
    private const string Rating = "rating";

    private sealed record Entry(ModelDescriptor Descriptor, Func<Parameters, int, IRecommenderTrainer> Create);

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
    ];

    public static IReadOnlyList<ModelDescriptor> Models { get; } = Entries.Select(e => e.Descriptor).ToList();

    /// <summary>A trainer for <paramref name="type"/> with the given parameters (already validated against the descriptor).</summary>
    public static IRecommenderTrainer Create(string type, IReadOnlyDictionary<string, object> parameters, int seed)
    {
        var entry = Entries.FirstOrDefault(e => e.Descriptor.Type == type)
                    ?? throw new ExperimentsException(DefinitionValidator.UnknownValue($"model type '{type}'", type, Models.Select(m => m.Type).ToList()));
        return entry.Create(new Parameters(parameters), seed);
    }

    private sealed class Parameters(IReadOnlyDictionary<string, object> values)
    {
        public double Number(string name, double fallback) =>
            values.TryGetValue(name, out var v) ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : fallback;

        public int Integer(string name, int fallback) =>
            values.TryGetValue(name, out var v) ? Convert.ToInt32(v, CultureInfo.InvariantCulture) : fallback;
    }
}
