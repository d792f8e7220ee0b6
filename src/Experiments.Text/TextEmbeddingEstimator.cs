using System.Collections.Concurrent;
using Experiments.Core;
using Experiments.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Experiments.Text;

/// <summary>
/// Maps one or more text columns (joined with a space) to a fixed-length embedding vector column that any ML.NET
/// pipeline can use — as features of a click-through model, or for similarity. Uses any <see cref="ITextEmbedder"/>
/// (the trained encoder, TF-IDF, GloVe); the embedder is already fitted, so Fit only checks the columns.
/// </summary>
public sealed class TextEmbeddingEstimator(ITextEmbedder embedder, int dimension, string outputColumnName, params string[] inputColumnNames) : IEstimator<TextEmbeddingTransformer>
{
    public TextEmbeddingTransformer Fit(IDataView input)
    {
        TextEmbeddingTransformer.CheckInputs(input.Schema, inputColumnNames);
        return new TextEmbeddingTransformer(embedder, dimension, outputColumnName, inputColumnNames);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        foreach (var name in inputColumnNames)
        {
            var column = inputSchema.FirstOrDefault(c => c.Name == name);
            if (column.Name != name) throw new ExperimentsException($"Text column '{name}' is not in the data.");
            if (column.ItemType is not TextDataViewType || column.Kind != SchemaShape.Column.VectorKind.Scalar)
                throw new ExperimentsException($"Column '{name}' must be a text column; it is {column.ItemType}.");
        }
        var output = MLNetInternals.Column(outputColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single);
        return new SchemaShape(inputSchema.Where(c => c.Name != outputColumnName).Append(output));
    }
}

public static class TextEmbeddingCatalog
{
    /// <summary>
    /// The text columns' embedding as a vector column, in an ML.NET pipeline beside ML.NET's own text transforms:
    /// <c>ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.Transforms.Text.EmbedText(embedder, 384, "Features", "Title")).Append(trainer)</c>.
    /// </summary>
    public static TextEmbeddingEstimator EmbedText(this TransformsCatalog.TextTransforms catalog, ITextEmbedder embedder, int dimension, string outputColumnName, params string[] inputColumnNames) =>
        new(embedder, dimension, outputColumnName, inputColumnNames);
}

/// <summary>
/// Adds the embedding column. Transform embeds every distinct text of the view once, in batches, before rows are read;
/// each text's vector is cached for the transformer's lifetime; single rows (PredictionEngine) are embedded on demand.
/// Saves inside ML.NET's model zip (<c>mlContext.Model.Save</c> / <c>Load</c>) when its embedder is a trained encoder or
/// TF-IDF (<see cref="ISaveableEmbedder"/>): the embedder and the vectors cached so far, so that a loaded pipeline
/// scores every text the saved one embedded bit for bit as it did (a batch's padding can move the last bits of an
/// encoder's vector, so they are kept rather than recomputed).
/// </summary>
public sealed class TextEmbeddingTransformer : IPersistentTransformer<TextEmbeddingTransformer>
{
    private readonly ITextEmbedder _embedder;
    private readonly int _dimension;
    private readonly string _output;
    private readonly string[] _inputs;
    private readonly ConcurrentDictionary<string, float[]> _cache = new(StringComparer.Ordinal);

    internal TextEmbeddingTransformer(ITextEmbedder embedder, int dimension, string output, string[] inputs)
    {
        _embedder = embedder;
        _dimension = dimension;
        _output = output;
        _inputs = inputs;
    }

    /// <summary>Distinct texts embedded so far.</summary>
    public int CachedTexts => _cache.Count;

    public bool IsRowToRowMapper => true;

    internal static void CheckInputs(DataViewSchema schema, IEnumerable<string> inputs)
    {
        foreach (var name in inputs)
        {
            var column = schema.GetColumnOrNull(name) ?? throw new ExperimentsException($"Text column '{name}' is not in the data; columns: {string.Join(", ", schema.Select(c => c.Name))}.");
            if (column.Type is not TextDataViewType) throw new ExperimentsException($"Column '{name}' must be a text column; it is {column.Type}.");
        }
    }

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        CheckInputs(inputSchema, _inputs);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema.Where(c => !c.IsHidden && c.Name != _output));
        builder.AddColumn(_output, new VectorDataViewType(NumberDataViewType.Single, _dimension));
        return builder.ToSchema();
    }

    public IDataView Transform(IDataView input)
    {
        var schema = GetOutputSchema(input.Schema);
        // One pass to collect the texts, one batched embedding of those not yet cached.
        var columns = _inputs.Select(n => input.Schema[n]).ToArray();
        var missing = new HashSet<string>(StringComparer.Ordinal);
        using (var cursor = input.GetRowCursor(columns))
        {
            var text = JoinedText(cursor);
            while (cursor.MoveNext())
            {
                var value = text();
                if (!_cache.ContainsKey(value)) missing.Add(value);
            }
        }
        Embed(missing.ToList());
        return Appended.View(input, schema);
    }

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => Appended.Mapper(inputSchema, GetOutputSchema(inputSchema));

    private AppendedColumn Appended => new(_inputs, Getter);

    public static int FormatVersion => 1;

    public void Write(ModelWriter writer)
    {
        var embedder = SavedEmbedders.Saveable(_embedder);
        var w = writer.Writer;
        w.Write(_dimension);
        w.Write(_output);
        w.Write(_inputs.Length);
        foreach (var input in _inputs) w.Write(input);
        w.Write(embedder.Kind);
        embedder.Write(writer);
        writer.WriteStream("Vectors.bin", vectors =>
        {
            var cached = _cache.OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
            vectors.Write(cached.Count);
            foreach (var (text, vector) in cached)
            {
                vectors.Write(text);
                vectors.WriteArray(vector);
            }
        });
    }

    public static TextEmbeddingTransformer Load(ModelReader reader)
    {
        var r = reader.Reader;
        var dimension = r.ReadInt32();
        var output = r.ReadString();
        var inputs = new string[r.ReadInt32()];
        for (var i = 0; i < inputs.Length; i++) inputs[i] = r.ReadString();
        var embedder = SavedEmbedders.Read(reader, r.ReadString());
        var transformer = new TextEmbeddingTransformer(embedder, dimension, output, inputs);
        reader.ReadStream("Vectors.bin", vectors =>
        {
            var count = vectors.ReadInt32();
            for (var i = 0; i < count; i++) transformer._cache[vectors.ReadString()] = vectors.ReadArray<float>();
        });
        return transformer;
    }

    private void Embed(List<string> texts)
    {
        if (texts.Count == 0) return;
        var vectors = _embedder.Embed(texts);
        for (var i = 0; i < texts.Count; i++)
        {
            if (vectors[i].Length != _dimension)
                throw new ExperimentsException($"The {_embedder.Name} embedder returned {vectors[i].Length} components; the estimator was declared with {_dimension}.");
            _cache[texts[i]] = vectors[i];
        }
    }

    private Func<string> JoinedText(DataViewRow row)
    {
        var getters = _inputs.Select(n => row.GetGetter<ReadOnlyMemory<char>>(row.Schema[n])).ToArray();
        var value = default(ReadOnlyMemory<char>);
        return () => string.Join(' ', getters.Select(g => { g(ref value); return value.ToString(); }));
    }

    private ValueGetter<VBuffer<float>> Getter(DataViewRow row)
    {
        var text = JoinedText(row);
        return (ref VBuffer<float> value) =>
        {
            var key = text();
            if (!_cache.TryGetValue(key, out var vector))
            {
                Embed([key]);
                vector = _cache[key];
            }
            value = new VBuffer<float>(vector.Length, vector);
        };
    }
}
