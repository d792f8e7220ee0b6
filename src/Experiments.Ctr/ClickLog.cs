using Experiments.Core;
using Experiments.Datasets.Loading;
using Experiments.Datasets.Manifests;

namespace Experiments.Ctr;

/// <summary>Which columns of a click log are the label, numeric features, categorical features and the display position.</summary>
public sealed record ClickLogSchema(string Label, IReadOnlyList<string> Numeric, IReadOnlyList<string> Categorical, IReadOnlyList<string> Text, string? Position = null)
{
    /// <summary>
    /// The schema a table's manifest implies: the column with role "label"; columns with role "text" are free text;
    /// every other column except identifiers and times (roles id, timestamp, group) is a feature — numeric when its
    /// type is, categorical otherwise (user and item ids are categorical features). A column named "position" is the
    /// display position.
    /// </summary>
    public static ClickLogSchema Infer(Table table)
    {
        var label = table.WithRole("label") ?? throw new ExperimentsException($"Table '{table.Name}' has no label column; a click log needs one with role \"label\".");
        var features = table.Columns.Where(c => c != label && c.Manifest.Role is not ("id" or "timestamp" or "group")).ToList();
        var position = features.FirstOrDefault(c => c.Name == "position");
        return new ClickLogSchema(label.Name,
            features.Where(c => c.Type != ColumnType.String && c != position).Select(c => c.Name).ToList(),
            features.Where(c => c.Type == ColumnType.String && c.Manifest.Role != "text").Select(c => c.Name).ToList(),
            features.Where(c => c.Manifest.Role == "text").Select(c => c.Name).ToList(),
            position?.Name);
    }
}

/// <summary>A click log in memory, column by column: labels, numeric columns (NaN = missing), categorical columns.</summary>
public sealed class ClickLog
{
    public ClickLog(ClickLogSchema schema, bool[] labels, float[][] numeric, string[][] categorical, string[][] text, float[]? position)
    {
        Schema = schema;
        Labels = labels;
        Numeric = numeric;
        Categorical = categorical;
        Text = text;
        Position = position;
    }

    public ClickLogSchema Schema { get; }
    public bool[] Labels { get; }
    /// <summary>Numeric[c][row], in the order of <see cref="ClickLogSchema.Numeric"/>.</summary>
    public float[][] Numeric { get; }
    /// <summary>Categorical[c][row], in the order of <see cref="ClickLogSchema.Categorical"/>.</summary>
    public string[][] Categorical { get; }
    /// <summary>Text[c][row], in the order of <see cref="ClickLogSchema.Text"/>.</summary>
    public string[][] Text { get; }
    public float[]? Position { get; }
    public int Count => Labels.Length;

    /// <summary>A click log from a loaded table; labels must be 0 or 1 (the loader's allowed-values check, or this one).</summary>
    public static ClickLog From(Table table, ClickLogSchema? schema = null)
    {
        schema ??= ClickLogSchema.Infer(table);
        var label = table[schema.Label];
        var labels = new bool[table.RowCount];
        for (var r = 0; r < labels.Length; r++)
        {
            var value = label.Strings?[r] ?? label.Numbers![r].ToString(System.Globalization.CultureInfo.InvariantCulture);
            labels[r] = value switch
            {
                "1" => true,
                "0" => false,
                _ => throw new DataFileException(table.Source, table.SourceLines[r], schema.Label, $"not a click label: '{value}' (allowed: 0, 1)"),
            };
        }
        float[] Numbers(string name)
        {
            var column = table[name];
            if (column.Numbers is null) throw new ExperimentsException($"Column '{name}' of '{table.Name}' is text; a numeric feature needs a numeric column.");
            return column.Numbers.Select(v => (float)v).ToArray();
        }
        string[] Strings(string name) => table[name].Strings ?? table[name].Numbers!.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var position = schema.Position is { } p ? Numbers(p) : null;
        return new ClickLog(schema, labels, schema.Numeric.Select(Numbers).ToArray(), schema.Categorical.Select(Strings).ToArray(), schema.Text.Select(Strings).ToArray(), position);
    }

    public ClickLog Subset(IReadOnlyList<int> rows) => new(Schema,
        rows.Select(r => Labels[r]).ToArray(),
        Numeric.Select(c => rows.Select(r => c[r]).ToArray()).ToArray(),
        Categorical.Select(c => rows.Select(r => c[r]).ToArray()).ToArray(),
        Text.Select(c => rows.Select(r => c[r]).ToArray()).ToArray(),
        Position is null ? null : rows.Select(r => Position[r]).ToArray());

    /// <summary>The rows of <paramref name="first"/> then those of <paramref name="second"/> (two parts of one log: the same schema).</summary>
    public static ClickLog Concatenate(ClickLog first, ClickLog second)
    {
        if (first.Schema != second.Schema) throw new ArgumentException("Only parts of one click log (the same schema) can be concatenated.");
        static T[][] Columns<T>(T[][] a, T[][] b) => a.Zip(b, (x, y) => (T[])[.. x, .. y]).ToArray();
        return new ClickLog(first.Schema, [.. first.Labels, .. second.Labels], Columns(first.Numeric, second.Numeric), Columns(first.Categorical, second.Categorical),
            Columns(first.Text, second.Text), first.Position is null || second.Position is null ? null : [.. first.Position, .. second.Position]);
    }

    /// <summary>The same rows with every display position set to <paramref name="position"/> (serving time).</summary>
    public ClickLog AtPosition(float position) =>
        Position is null ? this : new ClickLog(Schema, Labels, Numeric, Categorical, Text, Enumerable.Repeat(position, Count).ToArray());
}
