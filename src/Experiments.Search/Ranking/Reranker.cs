using Experiments.Core;
using Experiments.Search.Data;
using Experiments.Search.Evaluation;
using Experiments.Search.Intent;
using Experiments.Search.Retrieval;

namespace Experiments.Search.Ranking;

public enum RankingTrainer { LightGbm, FastTree }

/// <summary>The learning-to-rank model (which ML.NET trainer and its boosting settings) and how deep each retriever is read for candidates.</summary>
public sealed record RerankerOptions
{
    public RankingModelOptions Model { get; init; } = new();
    /// <summary>Candidates per retriever for each query: the union of BM25's and the dense retriever's top lists.</summary>
    public int Depth { get; init; } = 100;
}

/// <summary>The first-stage retrievers and the intent classifier whose outputs become the re-ranker's features.</summary>
public sealed record RerankerInputs(SearchCollection Collection, Bm25Index Bm25, DenseRetriever? Dense, IIntentClassifier? Intent);

/// <summary>
/// A learning-to-rank re-ranker: candidates from BM25 and the dense retriever are re-ordered by an ML.NET ranking model
/// (LightGBM or FastTree, both LambdaRank: gradients of pairwise swaps weighted by their change in NDCG, grouped by
/// query). Features of a (query, product) pair, in <see cref="FeatureNames"/> order: the unboosted BM25 score of each
/// field, the boosted BM25 total and the product's BM25 rank, the encoder cosine and dense rank, the share of the
/// query's terms found in the title, log(1 + popularity), the predicted probability that the query asks for the
/// product's category and whether that category is the predicted intent, and the query's length in terms.
/// </summary>
public sealed class Reranker
{
    public static readonly IReadOnlyList<string> FeatureNames =
    [
        "bm25-title", "bm25-description", "bm25-attributes", "bm25-category", "bm25", "bm25-rank", "dense-cosine", "dense-rank",
        "title-overlap", "log-popularity", "intent-probability", "intent-match", "query-terms",
    ];

    private const int FeatureCount = 13;
    private readonly RerankerInputs _inputs;
    private readonly RerankerOptions _options;
    private readonly RankingModel _model;

    private Reranker(RerankerInputs inputs, RerankerOptions options, RankingModel model) => (_inputs, _options, _model) = (inputs, options, model);

    /// <summary>
    /// Learns from <paramref name="queries"/>' candidates, labelled by their judgements. The inputs should not have been
    /// fitted on these queries (the task holds them out), or the dense and intent features look better here than they
    /// will on new queries.
    /// </summary>
    public static Reranker Fit(RerankerInputs inputs, IReadOnlyList<int> queries, RerankerOptions options) => Prepare(inputs, queries, options.Depth).Fit(options.Model);

    /// <summary>
    /// The training rows of <see cref="Fit(RerankerInputs, IReadOnlyList{int}, RerankerOptions)"/> — candidates, features and
    /// labels — built once, from which ranking models of several boosting settings can be fitted (a pruned sweep's rungs).
    /// </summary>
    public static Training Prepare(RerankerInputs inputs, IReadOnlyList<int> queries, int depth)
    {
        var judgements = inputs.Collection.Judgements ?? throw new ExperimentsException("A re-ranker learns from judgements; this collection has none.");
        var candidates = Candidates(inputs, queries, depth);
        var maxGrade = queries.Select(q => judgements.BestGrades(q, 1).FirstOrDefault()).DefaultIfEmpty(0).Max();
        var integral = queries.All(q => judgements.Best(q, int.MaxValue / 2).All(p => p.Grade == Math.Floor(p.Grade)));
        var rows = new List<(float Label, int Group, float[] Features)>();
        for (var i = 0; i < queries.Count; i++)
            foreach (var (product, features) in candidates[i])
                rows.Add((Label(judgements.Grade(queries[i], product), maxGrade, integral), i, features));
        if (rows.Select(r => r.Label).Distinct().Count() < 2)
            throw new ExperimentsException($"The re-ranker's {queries.Count} training queries have candidates of only one grade; retrieve deeper (depth) or use more training queries.");
        return new Training(inputs, depth, rows.Select(r => r.Features).ToList(), rows.Select(r => r.Label).ToList(), rows.Select(r => r.Group).ToList());
    }

    /// <summary>A re-ranker's training rows (<see cref="Prepare"/>).</summary>
    public sealed class Training
    {
        private readonly RerankerInputs _inputs;
        private readonly int _depth;
        private readonly List<float[]> _features;
        private readonly List<float> _labels;
        private readonly List<int> _groups;

        internal Training(RerankerInputs inputs, int depth, List<float[]> features, List<float> labels, List<int> groups) =>
            (_inputs, _depth, _features, _labels, _groups) = (inputs, depth, features, labels, groups);

        /// <summary>The re-ranker whose ranking model is fitted on these rows with <paramref name="model"/>'s settings.</summary>
        public Reranker Fit(RankingModelOptions model) =>
            new(_inputs, new RerankerOptions { Model = model, Depth = _depth }, RankingModel.Fit(_features, _labels, _groups, model));
    }

    /// <summary>The re-ordered candidates of each query, best first, at most <paramref name="depth"/>.</summary>
    public Ranked[] Rank(IReadOnlyList<int> queries, int depth)
    {
        var candidates = Candidates(_inputs, queries, _options.Depth);
        var rows = candidates.SelectMany((list, i) => list.Select(c => (Group: i, c.Features))).ToList();
        if (rows.Count == 0) return queries.Select(_ => Ranked.Empty).ToArray();
        var scores = _model.Score(rows.Select(r => r.Features).ToList(), rows.Select(r => r.Group).ToList());
        var results = new Ranked[queries.Count];
        var at = 0;
        for (var i = 0; i < queries.Count; i++)
        {
            var list = candidates[i];
            var order = Enumerable.Range(0, list.Count).OrderByDescending(k => scores[at + k]).ThenBy(k => k).Take(depth).ToArray();
            results[i] = new Ranked(order.Select(k => list[k].Product).ToArray(), order.Select(k => scores[at + k]).ToArray());
            at += list.Count;
        }
        return results;
    }

    /// <summary>Integral grades are the labels as they are; others (e.g. click-model probabilities) are spread over 0–4.</summary>
    private static float Label(double grade, double maxGrade, bool integral) =>
        integral ? (float)Math.Max(0, grade) : maxGrade <= 0 ? 0 : (float)Math.Round(4 * Math.Clamp(grade / maxGrade, 0, 1));

    /// <summary>Each query's candidates (BM25's and the dense retriever's top lists, merged) with their features.</summary>
    private static List<(int Product, float[] Features)>[] Candidates(RerankerInputs inputs, IReadOnlyList<int> queries, int depth)
    {
        var collection = inputs.Collection;
        var catalogue = collection.Catalogue!;
        var texts = queries.Select(q => collection.Queries[q].Text).ToList();
        var excluded = queries.Select(q => collection.Queries[q].Excluded).ToList();
        var denseVectors = inputs.Dense?.Embed(texts);
        var dense = denseVectors is null ? null : inputs.Dense!.Search(denseVectors, depth, excluded);
        var intents = inputs.Intent?.Predict(texts);
        var categoryOfIntent = inputs.Intent is null ? null : inputs.Intent.Classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var boosts = new[] { inputs.Bm25.Options.TitleBoost, inputs.Bm25.Options.DescriptionBoost, inputs.Bm25.Options.AttributesBoost, inputs.Bm25.Options.CategoryBoost };
        var result = new List<(int, float[])>[queries.Count];
        Parallelism.For(0, queries.Count, new ParallelOptions(), () => 0, (i, _, local) =>
        {
            var lexical = inputs.Bm25.Search(texts[i], depth, excluded[i]);
            var products = lexical.Products.Concat(dense?[i].Products ?? []).Distinct().ToArray();
            var fields = inputs.Bm25.FieldScores(texts[i], products);
            var lexicalRank = Ranks(lexical);
            var denseRank = dense is null ? null : Ranks(dense[i]);
            var queryTerms = inputs.Bm25.Terms(texts[i]).Distinct().ToArray();
            var predicted = intents is null ? -1 : Array.IndexOf(intents[i], intents[i].Max());
            var list = new List<(int, float[])>(products.Length);
            for (var k = 0; k < products.Length; k++)
            {
                var p = products[k];
                var f = new float[FeatureCount];
                for (var field = 0; field < 4; field++) f[field] = fields[field][k];
                f[4] = (float)Enumerable.Range(0, 4).Sum(field => boosts[field] * fields[field][k]);
                f[5] = lexicalRank.TryGetValue(p, out var r) ? r : depth + 1;
                f[6] = denseVectors is null ? 0 : inputs.Dense!.Cosine(denseVectors[i], p);
                f[7] = denseRank is null ? 0 : denseRank.TryGetValue(p, out var d) ? d : depth + 1;
                var titleTerms = inputs.Bm25.Terms(catalogue.Titles[p]).ToHashSet(StringComparer.Ordinal);
                f[8] = queryTerms.Length == 0 ? 0 : queryTerms.Count(titleTerms.Contains) / (float)queryTerms.Length;
                f[9] = (float)Math.Log(1 + catalogue.Popularity[p]);
                if (intents is not null && categoryOfIntent!.TryGetValue(catalogue.Categories[p], out var c))
                {
                    f[10] = (float)intents[i][c];
                    f[11] = c == predicted ? 1 : 0;
                }
                f[12] = queryTerms.Length;
                list.Add((p, f));
            }
            result[i] = list;
            return local;
        }, _ => { });
        return result;
    }

    private static Dictionary<int, int> Ranks(Ranked list)
    {
        var ranks = new Dictionary<int, int>(list.Count);
        for (var r = 0; r < list.Count; r++) ranks[list.Products[r]] = r + 1;
        return ranks;
    }

}
