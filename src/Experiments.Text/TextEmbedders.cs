using Experiments.Core;
using Experiments.MLNet;
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

/// <summary>An embedder that a saved ML.NET pipeline can hold (<see cref="TextEmbeddingTransformer"/>): its kind names how <see cref="SavedEmbedders.Read"/> reads it back.</summary>
public interface ISaveableEmbedder : ITextEmbedder
{
    string Kind { get; }
    void Write(ModelWriter writer);
}

/// <summary>The embedders a saved pipeline can hold, by kind.</summary>
public static class SavedEmbedders
{
    /// <summary>The embedder to save (a cache is unwrapped: the transformer saves its own); a clear error for one that cannot be saved.</summary>
    public static ISaveableEmbedder Saveable(ITextEmbedder embedder) => embedder switch
    {
        CachedEmbedder cached => Saveable(cached.Inner),
        ISaveableEmbedder saveable => saveable,
        _ => throw new ExperimentsException($"A pipeline with the {embedder.Name} text embedder cannot be saved: only the trained encoder and TF-IDF can. " +
                                            "Keep the embedder's own files (e.g. the GloVe file) and build the estimator again after loading the rest."),
    };

    public static ITextEmbedder Read(ModelReader reader, string kind) => kind switch
    {
        EncoderEmbedder.SavedKind => EncoderEmbedder.Read(reader),
        TfidfEmbedder.SavedKind => TfidfEmbedder.Read(reader),
        _ => throw new ExperimentsException($"The saved text embedding uses a '{kind}' embedder, which this program does not know."),
    };
}

/// <summary>
/// The transformer encoder's sentence vectors, batched (the batch halves if it runs out of memory), each distinct text
/// encoded once per call.
/// </summary>
public sealed class EncoderEmbedder(BertEncoder encoder, TextTokenizer tokenizer, int maxLength = 32, string device = "auto", string precision = "auto",
    int batchSize = 128, string name = "encoder", int threads = 0) : ISaveableEmbedder
{
    internal const string SavedKind = "encoder";

    public string Name => name;

    public string Kind => SavedKind;

    /// <summary>Writes the embedding settings and the encoder as its checkpoint files (config, tokenizer, vocabulary, weights), each a stream of the zip.</summary>
    public void Write(ModelWriter writer)
    {
        var w = writer.Writer;
        w.Write(maxLength);
        w.Write(device);
        w.Write(precision);
        w.Write(batchSize);
        w.Write(name);
        w.Write(threads);
        var folder = Directory.CreateTempSubdirectory("experiments-encoder-");
        try
        {
            EncoderCheckpoint.Save(encoder, tokenizer, folder.FullName);
            var files = folder.GetFiles().OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
            w.Write(files.Count);
            foreach (var file in files)
            {
                w.Write(file.Name);
                writer.WriteStream($"Encoder.{file.Name}", stream => stream.WriteArray(File.ReadAllBytes(file.FullName)));
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    internal static EncoderEmbedder Read(ModelReader reader)
    {
        var r = reader.Reader;
        var (maxLength, device, precision, batchSize, name, threads) = (r.ReadInt32(), r.ReadString(), r.ReadString(), r.ReadInt32(), r.ReadString(), r.ReadInt32());
        var folder = Directory.CreateTempSubdirectory("experiments-encoder-");
        try
        {
            var count = r.ReadInt32();
            for (var i = 0; i < count; i++)
            {
                var file = Path.GetFileName(r.ReadString());
                reader.ReadStream($"Encoder.{file}", stream => File.WriteAllBytes(Path.Combine(folder.FullName, file), stream.ReadArray<byte>()));
            }
            var loaded = EncoderCheckpoint.Load(folder.FullName);
            loaded.Encoder.eval();
            return new EncoderEmbedder(loaded.Encoder, loaded.Tokenizer, maxLength, device, precision, batchSize, name, threads);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

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
public sealed class TfidfEmbedder : ISaveableEmbedder
{
    internal const string SavedKind = "tf-idf";

    private readonly MLContext _ml = new(seed: 1);
    private readonly ITransformer _model;

    private TfidfEmbedder(ITransformer model) => _model = model;

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

    public string Kind => SavedKind;

    /// <summary>Writes the fitted FeaturizeText model as ML.NET's own zip, one stream of the outer zip.</summary>
    public void Write(ModelWriter writer)
    {
        using var zip = new MemoryStream();
        _ml.Model.Save(_model, View([]).Schema, zip);
        writer.WriteStream("TfIdf.zip", stream => stream.WriteArray(zip.ToArray()));
    }

    internal static TfidfEmbedder Read(ModelReader reader)
    {
        byte[] zip = [];
        reader.ReadStream("TfIdf.zip", stream => zip = stream.ReadArray<byte>());
        return new TfidfEmbedder(new MLContext(seed: 1).Model.Load(new MemoryStream(zip), out _));
    }

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
