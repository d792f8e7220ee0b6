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

/// <summary>What fitting a search model may use: the collection, the training queries, the split's shared components (held for this fit), and how to report.</summary>
public sealed record SearchFitContext(SearchCollection Collection, int[] Train, SearchComponents.Lease Components, int Seed)
{
    /// <summary>NDCG gains the evaluation uses (the re-ranker optimises the same).</summary>
    public Gain Gain { get; init; } = Gain.Exponential;
    /// <summary>The collection's analyser language (the definition's search.language, else the data set's), used when a model does not set "language".</summary>
    public string Language { get; init; } = Core.Definitions.SearchSpec.English;
    public Action<string>? Notice { get; init; }
    /// <summary>(component, share done) while an encoder trains.</summary>
    public Action<string, double>? Progress { get; init; }
    public CancellationToken Cancel { get; init; }

    /// <summary>
    /// After each epoch of the encoder the model itself trains (dense, hybrid, intent-encoder; not the encoders that feed a
    /// re-ranker's features), for a caller that scores the model as training goes (a sweep's pruner); a handler that
    /// throws stops the fit. Null: nothing is shown.
    /// </summary>
    public Action<EncoderEpoch>? EpochFitted { get; init; }

    /// <summary>
    /// How the re-ranker's boosting stage is fitted: given its number of trees and a fit with a number of trees, returns
    /// the model to keep (a pruned sweep fits and scores it in rungs). Null: one fit with all its trees.
    /// </summary>
    public Func<int, Func<int, ISearchModel>, ISearchModel>? FitRounds { get; init; }
}

/// <summary>
/// One finished encoder epoch of a model being fitted: its number, the epochs the fit runs, and the model as it would be
/// with the encoder as it stands, built on request (it embeds the catalogue or fits the intent classifier's regression);
/// the model is valid during the <see cref="SearchFitContext.EpochFitted"/> call only, as training goes on in its weights.
/// </summary>
public sealed record EncoderEpoch(int Epoch, int Epochs, Func<ISearchModel> Model);

/// <summary>
/// The parts several models of one split share — a BM25 index, a dense retriever, an intent classifier — built once per
/// settings, training queries and (for a part whose build is seeded) seed, and reused; kept in a <see cref="HeldCache{T}"/>.
/// A model's fit time includes the time its parts took to build, whether it built them or found them built, so fit
/// times compare like with like. A fit takes them through a <see cref="Lease"/>, which keeps them alive until its model
/// is evaluated. Bounded: beyond <see cref="Capacity"/> parts, the least recently used part that no lease holds is let
/// go (and disposed) — a sweep's trials each build parts of their own settings and seed, which later trials and the
/// refit rarely share, so without a bound the parts of every trial would stay until the refit. A part let go and needed
/// again is built again (its time is the model's, as always).
/// </summary>
public sealed class SearchComponents(int capacity = SearchComponents.DefaultCapacity) : IDisposable
{
    /// <summary>Enough for the models of one run to share their parts (a hybrid or re-ranker reuses the lexical, dense and intent parts).</summary>
    public const int DefaultCapacity = 8;

    private readonly HeldCache<object> _parts = new(capacity);

    public int Capacity => _parts.Capacity;

    /// <summary>The parts kept now (those held by a lease may go beyond <see cref="Capacity"/> until it ends).</summary>
    public int Count => _parts.Count;

    /// <summary>Parts for one fit and its evaluation: what it gets stays alive until the lease is disposed.</summary>
    public Lease Take() => new(this);

    /// <summary>One fit's hold on the shared parts; safe from parallel trials (two asking for one part at once share one build).</summary>
    public sealed class Lease : IDisposable
    {
        private readonly SearchComponents _owner;
        private readonly Dictionary<string, HeldCache<object>.Holding> _held = new(StringComparer.Ordinal);

        internal Lease(SearchComponents owner) => _owner = owner;

        /// <summary>
        /// Seconds the parts this lease found built (or waited for) had taken to build before it asked, each part once
        /// (added to the model's fit time; what it built or waited for itself is on its own clock).
        /// </summary>
        public double ReusedSeconds { get; private set; }

        /// <summary>The part under <paramref name="key"/>, built once while it is kept.</summary>
        public T Get<T>(string key, Func<T> build) where T : notnull
        {
            var holding = _owner._parts.Hold(key, () => build());
            lock (_held)
            {
                // Asked again (a re-ranker's dense retriever mines hard negatives from the index it already holds): counted once.
                if (_held.TryAdd(key, holding)) ReusedSeconds += holding.PriorSeconds;
                else holding.Dispose();
                return (T)_held[key].Value;
            }
        }

        public void Dispose()
        {
            lock (_held)
            {
                foreach (var holding in _held.Values) holding.Dispose();
                _held.Clear();
            }
        }
    }

    /// <summary>
    /// A key for a part built from these parameters on these queries, with <paramref name="seed"/> when its build draws
    /// from one (a sweep's trials each have their own seed: equal settings under another seed are another part).
    /// </summary>
    public static string Key(string kind, IReadOnlyDictionary<string, object> parameters, IEnumerable<string> names, IReadOnlyList<int>? queries = null, int? seed = null) =>
        kind + "|" + string.Join(",", names.Order(StringComparer.Ordinal).Select(n => $"{n}={(parameters.TryGetValue(n, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture) : "")}"))
        + (queries is null ? "" : "|" + string.Join(",", queries))
        + (seed is { } s ? $"|seed={s.ToString(CultureInfo.InvariantCulture)}" : "");

    public void Dispose() => _parts.Dispose();
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
