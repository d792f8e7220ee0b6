using Experiments.Core.Definitions;

namespace Experiments.Evaluation;

/// <summary>Every metric a definition can name. Formulas, averaging and edge cases: docs/metrics.md.</summary>
public static class MetricCatalog
{
    public const string Ranking = "ranking";
    public const string Rating = "rating";
    public const string Classification = "classification";
    /// <summary>Product search: retrievers and re-rankers scored on judged queries (ndcg, mrr, recall, precision), intent classifiers (accuracy, macro-f1).</summary>
    public const string Search = "search";
    /// <summary>Two-stage ranking: retrievers, merged candidates and a learned re-ranker, scored like ranking (every ranking metric and model applies).</summary>
    public const string Hybrid = "hybrid";

    /// <summary>Every metric; each ranking metric also scores task "hybrid" (two-stage ranking is ranking).</summary>
    public static IReadOnlyList<MetricDescriptor> All { get; } = WithHybrid(
    [
        new("precision", true, [Ranking, Search], "Relevant items in the top K, divided by K."),
        new("recall", true, [Ranking, Search], "Relevant items in the top K, divided by the user's relevant items."),
        new("ndcg", true, [Ranking, Search], "DCG of the top K over the ideal DCG (binary gains, or 2^grade − 1 with graded relevance)."),
        new("map", true, [Ranking], "Sum of precision at each relevant position in the top K, divided by min(K, relevant items)."),
        new("map-relevant", true, [Ranking], "Sum of precision at each relevant position in the top K, divided by all relevant items: the older MAP of Microsoft Recommenders' published tables."),
        new("hit-rate", true, [Ranking], "Share of users with at least one relevant item in the top K."),
        new("mrr", true, [Ranking, Search], "1 / rank of the first relevant item in the top K (0 if none)."),
        new("coverage", true, [Ranking], "Share of the catalogue that appears in at least one user's top K."),
        new("diversity", true, [Ranking], "Intra-list diversity: 1 − mean category similarity (Jaccard) of the pairs in a top K."),
        new("novelty", true, [Ranking], "Mean self-information −log2(p) of recommended items, p = share of training users who had the item."),
        new("popularity", true, [Ranking], "Average recommendation popularity: mean share of training users who had a recommended item."),
        new("rmse", false, [Rating], "Root mean squared error of predicted ratings."),
        new("mae", false, [Rating], "Mean absolute error of predicted ratings."),
        new("r2", false, [Rating], "Coefficient of determination: 1 − SSE / total sum of squares around the test mean."),
        new("accuracy", false, [Classification, Search], "Share of rows whose predicted class is the true class."),
        new("precision", false, [Classification], "Binary: TP / (TP + FP) at the chosen threshold."),
        new("recall", false, [Classification], "Binary: TP / (TP + FN) at the chosen threshold."),
        new("f1", false, [Classification], "Binary: harmonic mean of precision and recall at the chosen threshold."),
        new("macro-precision", false, [Classification], "Unweighted mean of per-class precision."),
        new("macro-recall", false, [Classification], "Unweighted mean of per-class recall."),
        new("macro-f1", false, [Classification, Search], "Unweighted mean of per-class F1."),
        new("micro-f1", false, [Classification], "F1 from counts pooled over classes (equals accuracy for single-label data)."),
        new("weighted-precision", false, [Classification], "Per-class precision weighted by class support."),
        new("weighted-recall", false, [Classification], "Per-class recall weighted by class support."),
        new("weighted-f1", false, [Classification], "Per-class F1 weighted by class support."),
        new("auc", false, [Classification], "Area under the ROC curve (binary), with a DeLong interval."),
        new("pr-auc", false, [Classification], "Area under the precision–recall curve as average precision (binary)."),
        new("log-loss", false, [Classification], "Mean negative log-likelihood of the true labels (probabilities clipped at 1e-15)."),
    ]);

    public static IReadOnlyList<string> Tasks { get; } = [Ranking, Rating, Classification, Search, Hybrid];

    private static IReadOnlyList<MetricDescriptor> WithHybrid(IEnumerable<MetricDescriptor> metrics) =>
        metrics.Select(m => m.Tasks.Contains(Ranking) ? m with { Tasks = [.. m.Tasks, Hybrid] } : m).ToList();

    /// <summary>Ranking metrics that describe the lists rather than their relevance (no relevant items needed).</summary>
    public static bool IsBeyondAccuracy(string name) => name is "coverage" or "diversity" or "novelty" or "popularity";
}
