using Experiments.Datasets.Manifests;

namespace Experiments.Datasets.Loading;

/// <summary>A loaded column: text values, or numbers (NaN where the value was missing).</summary>
public sealed class TableColumn
{
    public TableColumn(ColumnManifest manifest, string[]? strings, double[]? numbers)
    {
        Manifest = manifest;
        Strings = strings;
        Numbers = numbers;
    }

    public ColumnManifest Manifest { get; }
    public string Name => Manifest.Name;
    public ColumnType Type => Manifest.Type;
    public string[]? Strings { get; }
    public double[]? Numbers { get; }
}

/// <summary>A checked table of typed columns (click logs, labelled titles, the item catalogue), with each row's source line.</summary>
public sealed class Table
{
    public Table(string name, string source, IReadOnlyList<TableColumn> columns, long[] sourceLines)
    {
        Name = name;
        Source = source;
        Columns = columns;
        SourceLines = sourceLines;
    }

    public string Name { get; }
    /// <summary>The file the table came from, or "generated".</summary>
    public string Source { get; }
    public IReadOnlyList<TableColumn> Columns { get; }
    public long[] SourceLines { get; }
    public int RowCount => SourceLines.Length;

    public TableColumn this[string name] =>
        Columns.FirstOrDefault(c => c.Name == name)
        ?? throw new KeyNotFoundException($"Table '{Name}' has no column '{name}'; it has: {string.Join(", ", Columns.Select(c => c.Name))}.");

    public TableColumn? WithRole(string role) => Columns.FirstOrDefault(c => c.Manifest.Role == role);
}
