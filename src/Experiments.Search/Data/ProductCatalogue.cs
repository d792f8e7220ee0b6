using System.Globalization;
using Experiments.Core;
using Experiments.Datasets.Loading;

namespace Experiments.Search.Data;

/// <summary>
/// The products a search ranks: id, title, optional description, category, attributes (as "name value" text), a
/// popularity and an optional group (the same product offered by several merchants). Read from any table through its
/// manifest's column roles, so a registered data set and a user's own file load the same way.
/// </summary>
public sealed class ProductCatalogue
{
    private readonly Dictionary<string, int> _index;

    public ProductCatalogue(string[] ids, string[] titles, string[]? descriptions, string[] categories, string[] attributes, double[] popularity, string[]? groups, string source)
    {
        var count = ids.Length;
        if (titles.Length != count || categories.Length != count || attributes.Length != count || popularity.Length != count
            || descriptions is { } d && d.Length != count || groups is { } g && g.Length != count)
            throw new ArgumentException("Every catalogue column must have one value per product.");
        (Ids, Titles, Descriptions, Categories, Attributes, Popularity, Groups, Source) = (ids, titles, descriptions, categories, attributes, popularity, groups, source);
        _index = new Dictionary<string, int>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
            if (!_index.TryAdd(ids[i], i))
                throw new ExperimentsException($"{source}: product id '{ids[i]}' appears twice (rows {_index[ids[i]] + 1} and {i + 1}); catalogue ids must be unique.");
    }

    public string[] Ids { get; }
    public string[] Titles { get; }
    public string[]? Descriptions { get; }
    public string[] Categories { get; }
    /// <summary>Each product's attributes as one text ("colour red material oak"), empty when it has none.</summary>
    public string[] Attributes { get; }
    /// <summary>A popularity count or score (0 when the catalogue has none).</summary>
    public double[] Popularity { get; }
    public string[]? Groups { get; }
    public string Source { get; }
    public int Count => Ids.Length;
    public bool HasPopularity => Popularity.Any(p => p != 0);

    public int? IndexOf(string id) => _index.TryGetValue(id, out var i) ? i : null;

    /// <summary>What the dense encoder reads for a product: title, attributes and category.</summary>
    public string Text(int product) => string.Join(" ", new[] { Titles[product], Attributes[product], Categories[product] }.Where(t => t.Length > 0));

    /// <summary>
    /// Reads a catalogue from <paramref name="table"/> by column roles: id (role item, else id), title (title, else text),
    /// description, category (category, else label), every column with role attribute or brand, popularity, group.
    /// A row without an id or title is a bad row (failed or skipped by the data set's badRows policy).
    /// </summary>
    public static ProductCatalogue From(Table table, DataCheckReport checks)
    {
        TableColumn Require(params string[] roles) => roles.Select(table.WithRole).FirstOrDefault(c => c is not null)
            ?? throw new ExperimentsException($"Catalogue table '{table.Name}' ({table.Source}) has no column with role {string.Join(" or ", roles.Select(r => $"'{r}'"))}; its columns: {string.Join(", ", table.Columns.Select(c => $"{c.Name} ({c.Manifest.Role ?? "no role"})"))}.");
        TableColumn? Optional(params string[] roles) => roles.Select(table.WithRole).FirstOrDefault(c => c is not null);
        var id = Require("item", "id");
        var title = Require("title", "text");
        var description = Optional("description");
        var category = Optional("category", "label");
        var group = Optional("group");
        var popularity = Optional("popularity");
        if (popularity is { Numbers: null })
            throw new ExperimentsException($"Catalogue table '{table.Name}': the popularity column '{popularity.Name}' must be numeric (type float or int64 in the manifest).");
        var attributes = table.Columns.Where(c => c.Manifest.Role is "attribute" or "brand").ToList();
        var rows = new List<int>();
        var lines = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var r = 0; r < table.RowCount; r++)
        {
            var problem = Text(id, r).Length == 0 ? (id.Name, "missing value: every product needs an id")
                : lines.TryGetValue(Text(id, r), out var first) ? (id.Name, $"duplicate product id '{Text(id, r)}': it is already on line {first}; catalogue ids must be unique")
                : Text(title, r).Length == 0 ? (title.Name, "missing value: every product needs a title")
                : popularity?.Numbers is { } p && !(p[r] >= 0) ? (popularity.Name, $"popularity must be a number ≥ 0, not '{(double.IsNaN(p[r]) ? "" : p[r].ToString(CultureInfo.InvariantCulture))}'")
                : default;
            if (problem.Item1 is not null) checks.BadRow(table.Source, table.SourceLines[r], problem.Item1, problem.Item2);
            else
            {
                rows.Add(r);
                lines[Text(id, r)] = table.SourceLines[r];
            }
        }
        string[] Column(TableColumn? c) => rows.Select(r => c is null ? "" : Text(c, r)).ToArray();
        return new ProductCatalogue(Column(id), Column(title), description is null ? null : Column(description), Column(category),
            rows.Select(r => string.Join(" ", attributes.Select(a => Text(a, r)).Where(v => v.Length > 0))).ToArray(),
            rows.Select(r => popularity?.Numbers![r] ?? 0).ToArray(),
            group is null ? null : Column(group), $"{table.Name} ({table.Source})");
    }

    internal static string Text(TableColumn column, int row) =>
        column.Strings is { } s ? s[row] : column.Numbers![row] is var x && double.IsNaN(x) ? "" : x.ToString(CultureInfo.InvariantCulture);
}
