using Experiments.Core.Definitions;

namespace Experiments.Evaluation;

/// <summary>Every metric a definition can name. Formulas and edge cases: docs/metrics.md.</summary>
public static class MetricCatalog
{
    public const string Ranking = "ranking";
    public const string Rating = "rating";

    public static IReadOnlyList<MetricDescriptor> All { get; } =
    [
        new("precision", true, [Ranking], "Relevant items in the top K, divided by K."),
        new("recall", true, [Ranking], "Relevant items in the top K, divided by the user's relevant items."),
        new("ndcg", true, [Ranking], "Discounted cumulative gain of the top K over that of an ideal list (binary gains)."),
        new("map", true, [Ranking], "Mean of precision at each relevant position in the top K, divided by min(K, relevant items)."),
        new("hit-rate", true, [Ranking], "1 when at least one relevant item is in the top K, else 0."),
        new("mrr", true, [Ranking], "1 / rank of the first relevant item in the top K (0 if none)."),
        new("rmse", false, [Rating], "Root mean squared error of predicted ratings."),
        new("mae", false, [Rating], "Mean absolute error of predicted ratings."),
    ];

    public static IReadOnlyList<string> Tasks { get; } = [Ranking, Rating];
}
