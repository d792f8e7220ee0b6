using Experiments.Core;
using Microsoft.ML;
using TorchSharp;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Text;
using static TorchSharp.torch;

namespace Experiments.Text;

/// <summary>Turns texts into vectors; every text representation (encoder, TF-IDF, GloVe) speaks this, so they compare on equal terms.</summary>
public interface ITextEmbedder
{
    string Name { get; }
    /// <summary>One L2-normalised vector per text, so that a dot product is the cosine similarity.</summary>
    float[][] Embed(IReadOnlyList<string> texts);
}

/// <summary>
/// The transformer encoder's sentence vectors, batched (the batch halves if it runs out of memory), each distinct text
/// encoded once per call.
/// </summary>
public sealed class EncoderEmbedder(BertEncoder encoder, TextTokenizer tokenizer, int maxLength = 32, string device = "auto", string precision = "auto",
    int batchSize = 128, string name = "encoder", int threads = 0) : ITextEmbedder
{
    public string Name => name;

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        var distinct = texts.Distinct(StringComparer.Ordinal).ToList();
        var trainer = new EncoderTrainer(encoder, tokenizer, new EncoderTrainingOptions { MaxLength = maxLength, BatchSize = batchSize, Device = device, Precision = precision, Threads = threads });
        using var vectors = trainer.EmbedAll(distinct.Select(t => tokenizer.Encode(t, maxLength)).ToArray());
        using var cpu = vectors.cpu();
        var dimension = (int)cpu.shape[1];
        var flat = cpu.data<float>().ToArray();
        var byText = new Dictionary<string, float[]>(StringComparer.Ordinal);
        for (var i = 0; i < distinct.Count; i++) byText[distinct[i]] = flat.AsSpan(i * dimension, dimension).ToArray();
        return texts.Select(t => byText[t]).ToArray();
    }
}

/// <summary>A sparse vector: sorted feature indices and their values.</summary>
public readonly record struct SparseVector(int[] Indices, float[] Values);

/// <summary>
/// ML.NET's FeaturizeText (word 1–2-grams and character 3-grams, TF-IDF weighted, L2-normalised), fitted on a corpus.
/// Its vectors have tens of thousands of dimensions and a few dozen non-zeros: use <see cref="EmbedSparse"/> and
/// <see cref="SparseCosineSearch"/>; <see cref="Embed"/> (dense) suits only small batches.
/// </summary>
public sealed class TfidfEmbedder : ITextEmbedder
{
    private readonly MLContext _ml = new(seed: 1);
    private readonly ITransformer _model;

    public TfidfEmbedder(IReadOnlyList<string> corpus)
    {
        var options = new TextFeaturizingEstimator.Options
        {
            WordFeatureExtractor = new WordBagEstimator.Options { NgramLength = 2, Weighting = NgramExtractingEstimator.WeightingCriteria.TfIdf },
            CharFeatureExtractor = new WordBagEstimator.Options { NgramLength = 3, Weighting = NgramExtractingEstimator.WeightingCriteria.TfIdf },
            Norm = TextFeaturizingEstimator.NormFunction.L2,
        };
        _model = _ml.Transforms.Text.FeaturizeText("Features", options, "Text").Fit(View(corpus));
    }

    public string Name => "tf-idf";

    public float[][] Embed(IReadOnlyList<string> texts) => Read(_ml, _model.Transform(View(texts)), "Features", texts.Count, null);

    public SparseVector[] EmbedSparse(IReadOnlyList<string> texts)
    {
        var view = _model.Transform(View(texts));
        var column = view.Schema["Features"];
        var result = new SparseVector[texts.Count];
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var buffer = default(VBuffer<float>);
        for (var r = 0; cursor.MoveNext(); r++)
        {
            getter(ref buffer);
            var indices = new List<int>();
            var values = new List<float>();
            foreach (var (index, value) in buffer.Items())
                if (value != 0) { indices.Add(index); values.Add(value); }
            result[r] = new SparseVector(indices.ToArray(), values.ToArray());
        }
        return result;
    }

    private IDataView View(IReadOnlyList<string> texts) => _ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t }));

    internal sealed class TextRow { public string Text { get; set; } = ""; }

    internal static float[][] Read(MLContext ml, IDataView view, string column, int count, (int Start, int Length)? slice)
    {
        var result = new float[count][];
        var col = view.Schema[column];
        using var cursor = view.GetRowCursor([col]);
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        var buffer = default(VBuffer<float>);
        for (var r = 0; cursor.MoveNext(); r++)
        {
            getter(ref buffer);
            var dense = buffer.DenseValues().ToArray();
            var values = slice is { } s ? dense.AsSpan(s.Start, s.Length).ToArray() : dense;
            var norm = MathF.Sqrt(values.Sum(v => v * v));
            if (norm > 0) for (var i = 0; i < values.Length; i++) values[i] /= norm;
            result[r] = values;
        }
        return result;
    }
}

/// <summary>Averaged GloVe vectors through ML.NET's ApplyWordEmbedding with a custom embedding file (lower-cased words).</summary>
public sealed class GloveEmbedder(string gloveFile, int dimension) : ITextEmbedder
{
    private readonly MLContext _ml = new(seed: 1);

    public string Name => "glove-average";

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        if (!File.Exists(gloveFile)) throw new ExperimentsException($"{gloveFile}: the GloVe file is missing.");
        var pipeline = _ml.Transforms.Text.NormalizeText("Normalized", "Text", keepPunctuations: false)
            .Append(_ml.Transforms.Text.TokenizeIntoWords("Tokens", "Normalized"))
            .Append(_ml.Transforms.Text.ApplyWordEmbedding("Embedding", gloveFile, "Tokens"));
        var view = _ml.Data.LoadFromEnumerable(texts.Select(t => new TfidfEmbedder.TextRow { Text = t }));
        // ApplyWordEmbedding concatenates the minimum, average and maximum of the word vectors: keep the average.
        return TfidfEmbedder.Read(_ml, pipeline.Fit(view).Transform(view), "Embedding", texts.Count, (dimension, dimension));
    }
}

/// <summary>Exact cosine top-K over normalised sparse vectors through an inverted index (features → documents).</summary>
public sealed class SparseCosineSearch
{
    private readonly List<(int Document, float Value)>[] _postings;
    private readonly int _documents;

    public SparseCosineSearch(SparseVector[] catalogue, int dimension)
    {
        _documents = catalogue.Length;
        _postings = new List<(int, float)>[dimension];
        for (var d = 0; d < catalogue.Length; d++)
            for (var k = 0; k < catalogue[d].Indices.Length; k++)
                (_postings[catalogue[d].Indices[k]] ??= []).Add((d, catalogue[d].Values[k]));
    }

    public int[][] TopK(SparseVector[] queries, int k, Func<int, int, bool>? exclude = null)
    {
        var result = new int[queries.Length][];
        Parallel.For(0, queries.Length, () => (Scores: new float[_documents], Top: new int[k]), (q, _, buffers) =>
        {
            Array.Clear(buffers.Scores);
            var query = queries[q];
            for (var f = 0; f < query.Indices.Length; f++)
                if (_postings[query.Indices[f]] is { } postings)
                    foreach (var (document, value) in postings) buffers.Scores[document] += query.Values[f] * value;
            if (exclude is not null)
                for (var d = 0; d < _documents; d++) if (exclude(q, d)) buffers.Scores[d] = float.NegativeInfinity;
            var count = Core.Models.TopK.Select(buffers.Scores, buffers.Top);
            result[q] = buffers.Top[..count];
            return buffers;
        }, _ => { });
        return result;
    }
}

/// <summary>Exact cosine top-K over a catalogue of normalised vectors, in blocks of queries.</summary>
public static class CosineSearch
{
    public static int[][] TopK(float[][] queries, float[][] catalogue, int k, Func<int, int, bool>? exclude = null)
    {
        var result = new int[queries.Length][];
        Parallel.For(0, queries.Length, () => (Scores: new float[catalogue.Length], Top: new int[k]), (q, _, buffers) =>
        {
            for (var c = 0; c < catalogue.Length; c++)
                buffers.Scores[c] = exclude?.Invoke(q, c) == true ? float.NegativeInfinity : Core.Models.Vectors.Dot(queries[q], catalogue[c]);
            var count = Core.Models.TopK.Select(buffers.Scores, buffers.Top);
            result[q] = buffers.Top[..count];
            return buffers;
        }, _ => { });
        return result;
    }
}
