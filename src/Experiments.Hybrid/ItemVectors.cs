using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Text;

namespace Experiments.Hybrid;

/// <summary>
/// L2-normalised text vectors of every item, so that a dot product is a cosine: the text-nearest-neighbour retriever,
/// the re-ranker's text features and the cold-item factor maps all read them. An item without text gets a zero
/// vector (cosine 0 with everything). Two embedders: ML.NET's FeaturizeText (word 1–2-grams and character 3-grams,
/// TF-IDF) projected to principal components by ML.NET's randomised PCA, one pipeline; or the platform's transformer
/// encoder (<see cref="EncoderCatalog"/>), trained contrastively on pairs of items that a training user had one after
/// the other (the batch's other pairs are the negatives), or a checkpoint.
/// </summary>
public static class ItemVectors
{
    /// <summary>Most item pairs the encoder trains on (a seeded sample beyond it), so an epoch stays minutes on a CPU.</summary>
    public const int MaxEncoderPairs = 50_000;

    public static float[][] Embed(string[] texts, Interactions train, HybridSpec spec, int seed, Action<string>? notice = null, Action<double>? progress = null, CancellationToken cancel = default)
    {
        if (texts.All(t => t.Length == 0)) return texts.Select(_ => new float[1]).ToArray();
        var vectors = spec.Embedder == HybridSpec.Encoder ? Encoder(texts, train, spec, seed, notice, progress, cancel) : Tfidf(texts, spec.Dimension, seed);
        for (var i = 0; i < texts.Length; i++)
            if (texts[i].Length == 0) Array.Clear(vectors[i]);
        return vectors;
    }

    /// <summary>TF-IDF n-grams → principal components → unit length, as one ML.NET pipeline fitted on the items' texts.</summary>
    public static float[][] Tfidf(string[] texts, int dimension, int seed)
    {
        var ml = new MLContext(seed);
        var view = ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }));
        var options = new TextFeaturizingEstimator.Options
        {
            WordFeatureExtractor = new WordBagEstimator.Options { NgramLength = 2, Weighting = NgramExtractingEstimator.WeightingCriteria.TfIdf },
            CharFeatureExtractor = new WordBagEstimator.Options { NgramLength = 3, Weighting = NgramExtractingEstimator.WeightingCriteria.TfIdf },
            Norm = TextFeaturizingEstimator.NormFunction.L2,
        };
        var featurized = ml.Transforms.Text.FeaturizeText("Tfidf", options, "Text").Fit(view).Transform(view);
        var width = (featurized.Schema["Tfidf"].Type as VectorDataViewType)!.Size;
        var rank = Math.Min(dimension, Math.Max(1, Math.Min(width, texts.Length) - 1));
        var pipeline = ml.Transforms.ProjectToPrincipalComponents("Pca", "Tfidf", rank: rank, seed: seed)
            .Append(ml.Transforms.NormalizeLpNorm("Vector", "Pca"));
        var projected = pipeline.Fit(featurized).Transform(featurized);
        return projected.GetColumn<float[]>("Vector").ToArray();
    }

    private static float[][] Encoder(string[] texts, Interactions train, HybridSpec spec, int seed, Action<string>? notice, Action<double>? progress, CancellationToken cancel)
    {
        var pairs = Sequences(train).SelectMany(items => items.Zip(items.Skip(1)))
            .Where(p => texts[p.First].Length > 0 && texts[p.Second].Length > 0 && p.First != p.Second)
            .Select(p => (texts[p.First], texts[p.Second])).Distinct().ToList();
        if (pairs.Count > MaxEncoderPairs)
        {
            new Random(seed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pairs));
            pairs = pairs[..MaxEncoderPairs];
        }
        if (pairs.Count < 2 && spec.Checkpoint is null)
            throw new ExperimentsException($"The item encoder learns from items a user had one after the other; the training rows give {pairs.Count} such pairs with text. Use embedder 'tfidf'.");
        var task = pairs.Count >= 2 ? new EncoderTask.Pairs(pairs, null, null, texts) : (EncoderTask)new EncoderTask.Untrained();
        var encoder = EncoderCatalog.Fit(spec.Checkpoint, task, spec.EncoderParameters, seed, null, notice, cancel, progress);
        return encoder.Embedder("items").Embed(texts);
    }

    /// <summary>The unit-length mean of the items' vectors, weighted by <paramref name="weights"/> when given; zero when they have none.</summary>
    public static float[] Centroid(float[][] vectors, ReadOnlySpan<int> items, ReadOnlySpan<float> weights = default)
    {
        var centroid = new float[vectors.Length == 0 ? 0 : vectors[0].Length];
        for (var k = 0; k < items.Length; k++)
        {
            var weight = weights.IsEmpty ? 1 : weights[k];
            var vector = vectors[items[k]];
            for (var d = 0; d < centroid.Length; d++) centroid[d] += weight * vector[d];
        }
        var norm = MathF.Sqrt(Core.Models.Vectors.Dot(centroid, centroid));
        if (norm > 0) for (var d = 0; d < centroid.Length; d++) centroid[d] /= norm;
        return centroid;
    }

    /// <summary>Each user's training items in time order (ties: as the rows come).</summary>
    internal static IEnumerable<int[]> Sequences(Interactions train) =>
        Enumerable.Range(0, train.Count).GroupBy(r => train.User[r]).Select(g => g.OrderBy(r => train.Timestamp[r]).Select(r => train.Item[r]).ToArray());

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }
}
