using Experiments.Core;
using Experiments.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Experiments.Ctr;

/// <summary>
/// Fits which values of a text column occur at least <paramref name="minCount"/> times; the transformer replaces every
/// other value, rare in training or never seen, by <see cref="RareValuesTransformer.Other"/> in place. ML.NET has no
/// such transform: its OneHotEncoding caps a vocabulary by size and maps unseen values to an all-zero vector, and
/// SelectFeaturesBasedOnCount drops rare slots, but neither pools rare and unseen values into one category that a
/// model can weigh (a click model learns one weight for "some rare site" from all of them).
/// </summary>
public sealed class RareValuesEstimator(string column, int minCount) : IEstimator<RareValuesTransformer>
{
    public RareValuesTransformer Fit(IDataView input)
    {
        if (minCount < 1) throw new ExperimentsException($"minCategoryCount must be at least 1; it is {minCount}.");
        var source = RareValuesTransformer.Source(input.Schema, column);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        using (var cursor = input.GetRowCursor([source]))
        {
            var getter = cursor.GetGetter<ReadOnlyMemory<char>>(source);
            var value = default(ReadOnlyMemory<char>);
            while (cursor.MoveNext())
            {
                getter(ref value);
                var text = value.ToString();
                counts[text] = counts.GetValueOrDefault(text) + 1;
            }
        }
        return new RareValuesTransformer(column, counts.Where(c => c.Value >= minCount).Select(c => c.Key).ToHashSet(StringComparer.Ordinal));
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var found = inputSchema.FirstOrDefault(c => c.Name == column);
        if (found.Name != column) throw new ExperimentsException($"Categorical column '{column}' is not in the data.");
        if (found.ItemType is not TextDataViewType || found.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw new ExperimentsException($"Categorical column '{column}' must be text; it is {found.ItemType}.");
        return new SchemaShape(inputSchema.Where(c => c.Name != column).Append(MLNetInternals.Column(column, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance)));
    }
}

/// <summary>A text column with every value outside the fitted set replaced by <see cref="Other"/>; saves in ML.NET's model zip.</summary>
public sealed class RareValuesTransformer : IPersistentTransformer<RareValuesTransformer>
{
    public const string Other = "__other__";

    private readonly string _column;
    private readonly HashSet<string> _kept;

    internal RareValuesTransformer(string column, HashSet<string> kept)
    {
        _column = column;
        _kept = kept;
    }

    /// <summary>The values kept as themselves.</summary>
    public IReadOnlySet<string> Kept => _kept;

    public bool IsRowToRowMapper => true;

    internal static DataViewSchema.Column Source(DataViewSchema schema, string column)
    {
        var found = schema.GetColumnOrNull(column) ?? throw new ExperimentsException($"Categorical column '{column}' is not in the data; columns: {string.Join(", ", schema.Select(c => c.Name))}.");
        return found.Type is TextDataViewType ? found : throw new ExperimentsException($"Categorical column '{column}' must be text; it is {found.Type}.");
    }

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        Source(inputSchema, _column);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema.Where(c => !c.IsHidden && c.Name != _column));
        builder.AddColumn(_column, TextDataViewType.Instance);
        return builder.ToSchema();
    }

    public IDataView Transform(IDataView input) => Appended.View(input, GetOutputSchema(input.Schema));

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => Appended.Mapper(inputSchema, GetOutputSchema(inputSchema));

    private AppendedColumn Appended => new([_column], row =>
    {
        var getter = row.GetGetter<ReadOnlyMemory<char>>(row.Schema[_column]);
        var other = Other.AsMemory();
        // Looked up by span: no string per row (importance re-reads the rows many times).
        var kept = _kept.GetAlternateLookup<ReadOnlySpan<char>>();
        return (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> value) =>
        {
            getter(ref value);
            if (!kept.Contains(value.Span)) value = other;
        });
    });

    public static int FormatVersion => 1;

    public void Write(ModelWriter writer)
    {
        var w = writer.Writer;
        w.Write(_column);
        w.Write(_kept.Count);
        foreach (var value in _kept.Order(StringComparer.Ordinal)) w.Write(value);
    }

    public static RareValuesTransformer Load(ModelReader reader)
    {
        var r = reader.Reader;
        var column = r.ReadString();
        var kept = new HashSet<string>(StringComparer.Ordinal);
        for (var count = r.ReadInt32(); count > 0; count--) kept.Add(r.ReadString());
        return new RareValuesTransformer(column, kept);
    }
}
