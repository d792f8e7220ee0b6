using Experiments.Core;
using Experiments.Core.Models;
using Experiments.Search.Data;
using Experiments.Text;

namespace Experiments.Search.Retrieval;

/// <summary>
/// Dense retrieval with a bi-encoder: the platform's transformer encoder embeds queries and products with the same
/// weights (one tower, shared), trained contrastively on the training queries' relevant products (in-batch negatives,
/// plus one BM25 hard negative per pair), and every product is scored by the cosine of normalised vectors — an exact
/// nearest-neighbour search over the whole catalogue (docs/search.md says when an approximate index would pay off).
/// </summary>
public sealed class DenseRetriever
{
    private readonly ITextEmbedder _embedder;

    private DenseRetriever(FittedEncoder encoder, ProductCatalogue catalogue)
    {
        Encoder = encoder;
        _embedder = encoder.Embedder("dense");
        ProductVectors = _embedder.Embed(CatalogueTexts(catalogue));
    }

    public FittedEncoder Encoder { get; }
    /// <summary>One L2-normalised vector per catalogue product.</summary>
    public float[][] ProductVectors { get; }

    /// <summary>
    /// Trains the encoder on <paramref name="pairs"/> (query ↔ product text, with optional hard negatives) and embeds the
    /// catalogue. <paramref name="epochFitted"/>: the encoder after each epoch (<see cref="EncoderCatalog.Fit"/>), for
    /// <see cref="Of"/>.
    /// </summary>
    public static DenseRetriever Fit(ProductCatalogue catalogue, DenseTrainingPairs pairs, IReadOnlyDictionary<string, object> parameters, int seed,
        Action<string>? notice = null, Action<double>? progress = null, CancellationToken cancel = default, Action<int, FittedEncoder>? epochFitted = null)
    {
        var task = new EncoderTask.Pairs(pairs.Pairs, null, pairs.HardNegatives, CatalogueTexts(catalogue));
        return Of(EncoderCatalog.Fit(null, task, parameters, seed, null, notice, cancel, progress, epochFitted), catalogue);
    }

    /// <summary>The retriever of an encoder as it is (the catalogue embedded by it).</summary>
    public static DenseRetriever Of(FittedEncoder encoder, ProductCatalogue catalogue) => new(encoder, catalogue);

    private static List<string> CatalogueTexts(ProductCatalogue catalogue) => Enumerable.Range(0, catalogue.Count).Select(catalogue.Text).ToList();

    public float[][] Embed(IReadOnlyList<string> queries) => _embedder.Embed(queries);

    /// <summary>Exact top <paramref name="depth"/> by cosine for each query vector, without the query's excluded product.</summary>
    public Ranked[] Search(float[][] queries, int depth, IReadOnlyList<int> excluded)
    {
        var results = new Ranked[queries.Length];
        Parallelism.For(0, queries.Length, new ParallelOptions(), () => new float[ProductVectors.Length], (q, _, scores) =>
        {
            for (var p = 0; p < ProductVectors.Length; p++) scores[p] = Vectors.Dot(queries[q], ProductVectors[p]);
            results[q] = Ranked.Top(scores, depth, excluded[q]);
            return scores;
        }, _ => { });
        return results;
    }

    public float Cosine(float[] query, int product) => Vectors.Dot(query, ProductVectors[product]);
}

/// <summary>What the bi-encoder learns from: (query, relevant product text) pairs and, when mined, a hard negative per pair.</summary>
public sealed record DenseTrainingPairs(IReadOnlyList<(string A, string B)> Pairs, IReadOnlyList<string>? HardNegatives)
{
    /// <summary>
    /// For each training query, its <paramref name="positivesPerQuery"/> best-graded products are positives. With a BM25
    /// index, each pair also gets a hard negative: one of BM25's top <paramref name="negativeDepth"/> products for the
    /// query whose grade is below the positive's (drawn with a seeded generator); a pair whose query has none gets a
    /// random catalogue product of lower grade.
    /// </summary>
    public static DenseTrainingPairs Mine(SearchCollection collection, IReadOnlyList<int> queries, int positivesPerQuery, Bm25Index? bm25, int negativeDepth, int seed)
    {
        var catalogue = collection.Catalogue!;
        var judgements = collection.Judgements ?? throw new ExperimentsException("Dense retrieval is trained on judged queries; this collection has no judgements.");
        var random = new Random(seed);
        var pairs = new List<(string, string)>();
        var negatives = bm25 is null ? null : new List<string>();
        foreach (var q in queries)
        {
            var query = collection.Queries[q];
            var best = judgements.Best(q, positivesPerQuery);
            var candidates = bm25?.Search(query.Text, negativeDepth, query.Excluded).Products;
            foreach (var (product, grade) in best)
            {
                pairs.Add((query.Text, catalogue.Text(product)));
                if (negatives is null) continue;
                var lower = candidates!.Where(p => judgements.Grade(q, p) < grade).ToArray();
                int negative;
                if (lower.Length > 0) negative = lower[random.Next(lower.Length)];
                else
                {
                    var tries = 0;
                    do negative = random.Next(catalogue.Count);
                    while ((negative == query.Excluded || judgements.Grade(q, negative) >= grade) && ++tries < 100);
                }
                negatives.Add(catalogue.Text(negative));
            }
        }
        if (pairs.Count < 2) throw new ExperimentsException($"Dense retrieval needs at least two (query, relevant product) pairs to train on; the {queries.Count} training queries give {pairs.Count}.");
        return new DenseTrainingPairs(pairs, negatives);
    }
}
