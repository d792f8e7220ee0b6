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
/// settings and training queries, and reused. A model's fit time includes the time its parts took to build, whether it
/// built them or found them built, so fit times compare like with like. A fit takes them through a <see cref="Lease"/>,
/// which keeps them alive until its model is evaluated. Bounded: beyond <see cref="Capacity"/> parts, the least recently
/// used part that no lease holds is let go (and disposed) — a sweep's trials each build parts of their own settings,
/// which later trials and the refit rarely share, so without a bound the parts of every trial would stay until the
/// refit. A part let go and needed again is built again (its time is the model's, as always).
/// </summary>
public sealed class SearchComponents(int capacity = SearchComponents.DefaultCapacity) : IDisposable
{
    /// <summary>Enough for the models of one run to share their parts (a hybrid or re-ranker reuses the lexical, dense and intent parts).</summary>
    public const int DefaultCapacity = 8;

    private sealed class Entry(object part, double seconds)
    {
        public object Part { get; } = part;
        public double Seconds { get; } = seconds;
        public int Holders;
        public long LastUsed;
    }

    private readonly Dictionary<string, Entry> _parts = new(StringComparer.Ordinal);
    private long _uses;

    public int Capacity { get; } = capacity >= 1 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "At least one part.");

    /// <summary>The parts kept now (those held by a lease may go beyond <see cref="Capacity"/> until it ends).</summary>
    public int Count
    {
        get
        {
            lock (_parts) return _parts.Count;
        }
    }

    /// <summary>Parts for one fit and its evaluation: what it gets stays alive until the lease is disposed.</summary>
    public Lease Take() => new(this);

    /// <summary>One fit's hold on the shared parts; safe from parallel trials (two may build the same part at once, one is kept).</summary>
    public sealed class Lease : IDisposable
    {
        private readonly SearchComponents _owner;
        private readonly HashSet<Entry> _held = [];

        internal Lease(SearchComponents owner) => _owner = owner;

        /// <summary>Seconds the parts this lease found built had taken to build (added to the model's fit time).</summary>
        public double ReusedSeconds { get; private set; }

        /// <summary>The part under <paramref name="key"/>, built once while it is kept.</summary>
        public T Get<T>(string key, Func<T> build) where T : notnull
        {
            var parts = _owner._parts;
            lock (parts)
                if (parts.TryGetValue(key, out var found))
                {
                    ReusedSeconds += found.Seconds;
                    return (T)Hold(found).Part;
                }
            var clock = Stopwatch.StartNew();
            var part = build();
            lock (parts)
            {
                if (!parts.TryGetValue(key, out var entry))
                    parts[key] = entry = new Entry(part, clock.Elapsed.TotalSeconds);
                else
                    (part as IDisposable)?.Dispose();
                Hold(entry);
                _owner.Trim();
                return (T)entry.Part;
            }
        }

        private Entry Hold(Entry entry)
        {
            entry.LastUsed = ++_owner._uses;
            if (_held.Add(entry)) entry.Holders++;
            return entry;
        }

        public void Dispose()
        {
            lock (_owner._parts)
            {
                foreach (var entry in _held) entry.Holders--;
                _held.Clear();
                _owner.Trim();
            }
        }
    }

    /// <summary>Lets the least recently used parts that no lease holds go, down to the capacity (called under the lock).</summary>
    private void Trim()
    {
        while (_parts.Count > Capacity && _parts.Where(p => p.Value.Holders == 0).OrderBy(p => p.Value.LastUsed).Select(p => p.Key).FirstOrDefault() is { } idle)
        {
            (_parts[idle].Part as IDisposable)?.Dispose();
            _parts.Remove(idle);
        }
    }

    /// <summary>A key for a part built from these parameters on these queries.</summary>
    public static string Key(string kind, IReadOnlyDictionary<string, object> parameters, IEnumerable<string> names, IReadOnlyList<int>? queries = null) =>
        kind + "|" + string.Join(",", names.Order(StringComparer.Ordinal).Select(n => $"{n}={(parameters.TryGetValue(n, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture) : "")}"))
        + (queries is null ? "" : "|" + string.Join(",", queries));

    public void Dispose()
    {
        lock (_parts)
        {
            foreach (var entry in _parts.Values) (entry.Part as IDisposable)?.Dispose();
            _parts.Clear();
        }
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
