using System.Diagnostics;
using System.Globalization;
using Experiments.Core;
using Experiments.Search.Data;
using Experiments.Search.Evaluation;
using Experiments.Search.Intent;
using Experiments.Search.Retrieval;

namespace Experiments.Search;

/// <summary>A fitted search model: it ranks the catalogue for queries, or predicts their intent.</summary>
public interface ISearchModel;

public interface IRankingModel : ISearchModel
{
    /// <summary>The top <paramref name="depth"/> products for each of <paramref name="queries"/> (collection indices), each query's excluded product left out.</summary>
    Ranked[] Rank(IReadOnlyList<int> queries, int depth);
}

public interface IIntentModel : ISearchModel
{
    IIntentClassifier Classifier { get; }
}

/// <summary>What fitting a search model may use: the collection, the training queries, the split's shared components, and how to report.</summary>
public sealed record SearchFitContext(SearchCollection Collection, int[] Train, SearchComponents Components, int Seed)
{
    /// <summary>NDCG gains the evaluation uses (the re-ranker optimises the same).</summary>
    public Gain Gain { get; init; } = Gain.Exponential;
    /// <summary>The collection's analyser language (the definition's search.language, else the data set's), used when a model does not set "language".</summary>
    public string Language { get; init; } = Core.Definitions.SearchSpec.English;
    public Action<string>? Notice { get; init; }
    /// <summary>(component, share done) while an encoder trains.</summary>
    public Action<string, double>? Progress { get; init; }
    public CancellationToken Cancel { get; init; }
}

/// <summary>
/// The parts several models of one split share — a BM25 index, a dense retriever, an intent classifier — built once per
/// settings and training queries, and reused. A model's fit time includes the time its parts took to build, whether it
/// built them or found them built, so fit times compare like with like.
/// </summary>
public sealed class SearchComponents : IDisposable
{
    private readonly Dictionary<string, (object Part, double Seconds)> _parts = new(StringComparer.Ordinal);

    /// <summary>Seconds of parts that were reused since the last call (added to the current model's fit time).</summary>
    public double TakeReusedSeconds()
    {
        var seconds = _reused;
        _reused = 0;
        return seconds;
    }

    private double _reused;

    /// <summary>The part under <paramref name="key"/>, built once; safe from parallel trials (two may build the same part at once, one is kept).</summary>
    public T Get<T>(string key, Func<T> build) where T : notnull
    {
        lock (_parts)
            if (_parts.TryGetValue(key, out var found))
            {
                _reused += found.Seconds;
                return (T)found.Part;
            }
        var clock = Stopwatch.StartNew();
        var part = build();
        lock (_parts)
        {
            if (_parts.TryAdd(key, (part, clock.Elapsed.TotalSeconds))) return part;
            (part as IDisposable)?.Dispose();
            return (T)_parts[key].Part;
        }
    }

    /// <summary>A key for a part built from these parameters on these queries.</summary>
    public static string Key(string kind, IReadOnlyDictionary<string, object> parameters, IEnumerable<string> names, IReadOnlyList<int>? queries = null) =>
        kind + "|" + string.Join(",", names.Order(StringComparer.Ordinal).Select(n => $"{n}={(parameters.TryGetValue(n, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture) : "")}"))
        + (queries is null ? "" : "|" + string.Join(",", queries));

    public void Dispose()
    {
        foreach (var (part, _) in _parts.Values) (part as IDisposable)?.Dispose();
        _parts.Clear();
    }
}

internal sealed class Bm25Model(Bm25Index index, SearchCollection collection) : IRankingModel
{
    public Ranked[] Rank(IReadOnlyList<int> queries, int depth)
    {
        var results = new Ranked[queries.Count];
        Parallelism.For(0, queries.Count, new ParallelOptions(), () => 0, (i, _, local) =>
        {
            var query = collection.Queries[queries[i]];
            results[i] = index.Search(query.Text, depth, query.Excluded);
            return local;
        }, _ => { });
        return results;
    }
}

internal sealed class DenseModel(DenseRetriever dense, SearchCollection collection) : IRankingModel
{
    public Ranked[] Rank(IReadOnlyList<int> queries, int depth) =>
        dense.Search(dense.Embed(queries.Select(q => collection.Queries[q].Text).ToList()), depth, queries.Select(q => collection.Queries[q].Excluded).ToList());
}

internal sealed class HybridModel(Bm25Model lexical, DenseModel dense, string fusion, double lexicalWeight, double rrfK, int candidates) : IRankingModel
{
    public Ranked[] Rank(IReadOnlyList<int> queries, int depth)
    {
        var depthEach = Math.Max(depth, candidates);
        var a = lexical.Rank(queries, depthEach);
        var b = dense.Rank(queries, depthEach);
        return a.Select((list, i) => fusion == "rrf" ? Fusion.ReciprocalRank(list, b[i], lexicalWeight, rrfK, depth) : Fusion.Weighted(list, b[i], lexicalWeight, depth)).ToArray();
    }
}

internal sealed class RerankerModel(Ranking.Reranker reranker) : IRankingModel
{
    public Ranked[] Rank(IReadOnlyList<int> queries, int depth) => reranker.Rank(queries, depth);
}

internal sealed class IntentModel(IIntentClassifier classifier) : IIntentModel
{
    public IIntentClassifier Classifier => classifier;
}
