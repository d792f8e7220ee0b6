using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Evaluation;
using Experiments.Evaluation.Classification;
using Experiments.Evaluation.Statistics;
using Experiments.Search.Data;
using Experiments.Search.Retrieval;

namespace Experiments.Search.Evaluation;

/// <summary>How search results are scored: the NDCG gain, the grade from which a product counts as relevant, and the intervals.</summary>
public sealed record SearchEvaluationOptions(Gain Gain = Gain.Exponential, double? RelevanceThreshold = null, int BootstrapSamples = 200, double ConfidenceLevel = 0.95);

/// <summary>Metric values over the test queries, each query's value of each metric (for paired tests), and the protocol.</summary>
public sealed record SearchEvaluation(IReadOnlyList<MetricValue> Values, IReadOnlyList<string> Queries, IReadOnlyDictionary<string, double[]> PerQuery, string Protocol);

/// <summary>
/// Scores ranked lists against judgements (ndcg, mrr, recall, precision at K), and intent predictions against the
/// queries' intents (accuracy, macro-F1); every value has a percentile bootstrap interval over queries.
/// </summary>
public static class SearchEvaluator
{
    public static readonly IReadOnlyList<string> RankingMetrics = ["ndcg", "mrr", "recall", "precision"];
    public static readonly IReadOnlyList<string> IntentMetrics = ["accuracy", "macro-f1"];

    public static SearchEvaluation EvaluateRanking(SearchCollection collection, IReadOnlyList<int> queries, IReadOnlyList<Ranked> lists, IReadOnlyList<MetricName> metrics,
        SearchEvaluationOptions options, int seed)
    {
        var judgements = collection.Judgements ?? throw new ExperimentsException("Ranking metrics need judgements; this collection has none.");
        if (queries.Count == 0) throw new ExperimentsException("There are no test queries, so ranking metrics are undefined.");
        var ranking = metrics.Where(m => RankingMetrics.Contains(m.Name)).ToList();
        var threshold = options.RelevanceThreshold ?? double.Epsilon;
        var perQuery = ranking.Select(_ => new double[queries.Count]).ToArray();
        var maxK = ranking.Select(m => m.K!.Value).DefaultIfEmpty(1).Max();
        for (var i = 0; i < queries.Count; i++)
        {
            var q = queries[i];
            var grades = lists[i].Products.Take(maxK).Select(p => judgements.Grade(q, p)).ToArray();
            var relevant = judgements.CountAtLeast(q, threshold);
            for (var m = 0; m < ranking.Count; m++)
            {
                var k = ranking[m].K!.Value;
                perQuery[m][i] = ranking[m].Name switch
                {
                    "ndcg" => SearchMetrics.Ndcg(grades, judgements.BestGrades(q, k), k, options.Gain),
                    "mrr" => SearchMetrics.ReciprocalRank(grades, k, threshold),
                    "recall" => SearchMetrics.Recall(grades, relevant, k, threshold),
                    _ => SearchMetrics.Precision(grades, k, threshold),
                };
            }
        }
        var values = ranking.Select((m, i) => Summarise(m, perQuery[i], options, seed + i)).ToList();
        var relevance = options.RelevanceThreshold is { } t ? $"relevant = grade ≥ {t}" : "relevant = grade > 0";
        var protocol = $"search over {collection.Catalogue!.Count:N0} products for {queries.Count:N0} test queries ({collection.Description}); NDCG gain {(options.Gain == Gain.Linear ? "g" : "2^g − 1")}, {relevance} for precision, recall and MRR";
        return new SearchEvaluation(values, queries.Select(q => collection.Queries[q].Id).ToList(),
            ranking.Select((m, i) => (m, i)).ToDictionary(x => x.m.ToString(), x => perQuery[x.i]), protocol);
    }

    /// <summary>Accuracy and macro-F1 of intent predictions (the most probable class); per query: 1 when right (accuracy's unit values).</summary>
    public static SearchEvaluation EvaluateIntent(SearchCollection collection, IReadOnlyList<int> queries, IReadOnlyList<string> classes, double[][] probabilities,
        IReadOnlyList<MetricName> metrics, SearchEvaluationOptions options, int seed)
    {
        var labelled = Enumerable.Range(0, queries.Count).Where(i => collection.Queries[queries[i]].Intent is not null).ToArray();
        if (labelled.Length == 0) throw new ExperimentsException("No test query has an intent, so intent metrics are undefined.");
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var truth = labelled.Select(i => index[collection.Queries[queries[i]].Intent!]).ToArray();
        var intent = metrics.Where(m => IntentMetrics.Contains(m.Name)).ToList();
        var result = ClassificationEvaluator.EvaluateMulticlass(truth, labelled.Select(i => probabilities[i]).ToArray(), classes.Count, intent,
            new EvaluationSpec { BootstrapSamples = options.BootstrapSamples, ConfidenceLevel = options.ConfidenceLevel }, seed);
        var correct = labelled.Select((i, k) => ArgMax(probabilities[i]) == truth[k] ? 1.0 : 0.0).ToArray();
        var perQuery = intent.Any(m => m.Name == "accuracy") ? new Dictionary<string, double[]> { ["accuracy"] = correct } : new Dictionary<string, double[]>();
        return new SearchEvaluation(result.Values, labelled.Select(i => collection.Queries[queries[i]].Id).ToList(), perQuery,
            $"intent classification of {labelled.Length:N0} test queries into {classes.Count} classes ({collection.Description})");
    }

    private static MetricValue Summarise(MetricName metric, double[] values, SearchEvaluationOptions options, int seed)
    {
        // Seeded per metric name, so an interval does not depend on where the metric stands in the definition's list.
        var interval = options.BootstrapSamples > 0
            ? Bootstrap.Interval(values.Length, draw => UnitStatistics.Mean(values, draw), options.BootstrapSamples, options.ConfidenceLevel, Seeds.Mix(seed, metric.ToString()))
            : null;
        return new MetricValue(metric.Name, metric.K, values.Average(), interval?.Lower, interval?.Upper, values.Length);
    }

    private static int ArgMax(double[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
