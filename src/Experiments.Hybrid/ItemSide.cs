using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Loading;

namespace Experiments.Hybrid;

/// <summary>
/// What is known about items apart from interactions, indexed like the interactions' items: each item's fixed text
/// (item-table columns), its categorical attributes (several values per item where a column separates them with
/// '|'), tags users gave (joined into the text only for training pairs), and an impression log for click features.
/// </summary>
public sealed class ItemSide
{
    private static readonly string[] TextRoles = ["title", "category", "brand", "description", "attribute"];
    private static readonly string[] AttributeRoles = ["category", "brand", "attribute"];

    private readonly string[] _text;
    private readonly (int User, int Item, string Text)[] _tags;

    public ItemSide(int items, string[] text, IReadOnlyList<string> attributeNames, string[][][] attributes, (int User, int Item, string Text)[] tags, Impressions? impressions)
    {
        if (text.Length != items || attributes.Any(a => a.Length != items)) throw new ArgumentException("Every item column needs one entry per item.");
        Items = items;
        _text = text;
        AttributeNames = attributeNames;
        Attributes = attributes;
        _tags = tags;
        Impressions = impressions;
    }

    public int Items { get; }
    public IReadOnlyList<string> AttributeNames { get; }
    /// <summary>Attributes[column][item]: the item's values of that column (none when unknown).</summary>
    public string[][][] Attributes { get; }
    public Impressions? Impressions { get; }

    /// <summary>Items with no side information at all.</summary>
    public static ItemSide Empty(int items) => new(items, Enumerable.Repeat("", items).ToArray(), [], [], [], null);

    /// <summary>
    /// Each item's text for a model fitted on <paramref name="train"/>: the fixed text plus the tags whose (user, item)
    /// pair is a training pair, so that no tag tells what a user did outside the training rows.
    /// </summary>
    public string[] Texts(Interactions train)
    {
        if (_tags.Length == 0) return _text;
        var pairs = new HashSet<long>(train.Count);
        for (var r = 0; r < train.Count; r++) pairs.Add(Key(train.User[r], train.Item[r]));
        var tags = new List<string>?[Items];
        foreach (var (user, item, text) in _tags)
            if (pairs.Contains(Key(user, item))) (tags[item] ??= []).Add(text);
        return _text.Select((t, i) => tags[i] is { } extra ? $"{t} {string.Join(' ', extra.Distinct(StringComparer.OrdinalIgnoreCase))}".Trim() : t).ToArray();
    }

    private static long Key(int user, int item) => (long)user << 32 | (uint)item;

    /// <summary>
    /// The side of <paramref name="dataset"/>'s items for interactions indexed by <paramref name="users"/> and
    /// <paramref name="items"/>: the item table's text and attribute columns (named in <paramref name="spec"/>, or found
    /// by their roles), the tag table and the impression log the spec names. Items missing from the item table have no text.
    /// </summary>
    public static ItemSide Load(Dataset dataset, HybridSpec spec, IdMap users, IdMap items)
    {
        var table = dataset.Items();
        var text = Enumerable.Repeat("", items.Count).ToArray();
        var names = new List<string>();
        var attributes = new List<string[][]>();
        if (table is not null)
        {
            var idColumn = table.WithRole("item") ?? throw new ExperimentsException($"The item table '{table.Name}' of '{dataset.Name}' has no column with role 'item'.");
            var textColumns = Columns(table, spec.TextColumns, TextRoles, "hybrid.textColumns");
            var attributeColumns = Columns(table, spec.Attributes, AttributeRoles, "hybrid.attributes");
            var rows = new int[table.RowCount];
            for (var r = 0; r < rows.Length; r++) rows[r] = items.TryGetIndex(Value(idColumn, r), out var index) ? index : -1;
            for (var r = 0; r < rows.Length; r++)
                if (rows[r] >= 0) text[rows[r]] = string.Join(" ", textColumns.Select(c => Value(c, r).Replace('|', ' ')).Where(v => v.Length > 0));
            foreach (var column in attributeColumns)
            {
                var values = Enumerable.Repeat(Array.Empty<string>(), items.Count).ToArray();
                for (var r = 0; r < rows.Length; r++)
                    if (rows[r] >= 0) values[rows[r]] = Value(column, r).Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                names.Add(column.Name);
                attributes.Add(values);
            }
        }
        else if (spec.TextColumns.Count > 0 || spec.Attributes.Count > 0)
            throw new ExperimentsException($"hybrid.textColumns and hybrid.attributes name item-table columns, but data set '{dataset.Name}' has no item table.");
        return new ItemSide(items.Count, text, names, [.. attributes], spec.Tags is { } tags ? Tags(dataset, tags, users, items) : [],
            spec.Impressions is { } impressions ? Impressions.Load(dataset.Table(impressions), users, items) : null);
    }

    private static List<TableColumn> Columns(Table table, IReadOnlyList<string> named, string[] roles, string field)
    {
        if (named.Count == 0) return table.Columns.Where(c => roles.Contains(c.Manifest.Role)).ToList();
        return named.Select(name => table.Columns.FirstOrDefault(c => c.Name == name)
            ?? throw new ExperimentsException(Experiments.Core.Definitions.DefinitionValidator.UnknownValue($"column '{name}' in {field} (item table '{table.Name}')", name, table.Columns.Select(c => c.Name).ToList()))).ToList();
    }

    private static (int, int, string)[] Tags(Dataset dataset, string name, IdMap users, IdMap items)
    {
        var table = dataset.Table(name);
        var (user, item, text) = (table.WithRole("user"), table.WithRole("item"), table.WithRole("text"));
        if (user is null || item is null || text is null)
            throw new ExperimentsException($"hybrid.tags: table '{name}' of '{dataset.Name}' needs columns with roles user, item and text; it has {string.Join(", ", table.Columns.Select(c => $"{c.Name} ({c.Manifest.Role ?? "no role"})"))}.");
        var result = new List<(int, int, string)>();
        for (var r = 0; r < table.RowCount; r++)
            if (users.TryGetIndex(Value(user, r), out var u) && items.TryGetIndex(Value(item, r), out var i) && Value(text, r) is { Length: > 0 } t)
                result.Add((u, i, t));
        return [.. result];
    }

    internal static string Value(TableColumn column, int row) =>
        column.Strings?[row] ?? column.Numbers![row].ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>An impression log: which items were shown to which users, when, and whether they were clicked.</summary>
public sealed class Impressions(int[] user, int[] item, bool[] clicked, long[] timestamp)
{
    public int[] User { get; } = user;
    public int[] Item { get; } = item;
    public bool[] Clicked { get; } = clicked;
    public long[] Timestamp { get; } = timestamp;
    public int Count => User.Length;

    public static Impressions Load(Table table, IdMap users, IdMap items)
    {
        var (user, item, label, time) = (table.WithRole("user"), table.WithRole("item"), table.WithRole("label"), table.WithRole("timestamp"));
        if (user is null || item is null || label is null || time is null)
            throw new ExperimentsException($"hybrid.impressions: table '{table.Name}' needs columns with roles user, item, label (0 or 1) and timestamp; it has {string.Join(", ", table.Columns.Select(c => $"{c.Name} ({c.Manifest.Role ?? "no role"})"))}.");
        var (u, i, c, t) = (new List<int>(), new List<int>(), new List<bool>(), new List<long>());
        for (var r = 0; r < table.RowCount; r++)
        {
            if (!users.TryGetIndex(ItemSide.Value(user, r), out var userIndex) || !items.TryGetIndex(ItemSide.Value(item, r), out var itemIndex)) continue;
            u.Add(userIndex);
            i.Add(itemIndex);
            c.Add(ItemSide.Value(label, r) == "1");
            t.Add(time.Numbers is { } n ? (long)n[r] : long.Parse(time.Strings![r], System.Globalization.CultureInfo.InvariantCulture));
        }
        return new Impressions([.. u], [.. i], [.. c], [.. t]);
    }

    /// <summary>
    /// Impressions and clicks per item, counting only impressions of users who have training rows, up to each such
    /// user's last training interaction (<paramref name="lastSeen"/>; long.MinValue: the user has none).
    /// </summary>
    public (float[] Shown, float[] Clicks) Counts(int items, long[] lastSeen)
    {
        var shown = new float[items];
        var clicks = new float[items];
        for (var r = 0; r < Count; r++)
        {
            if (User[r] >= lastSeen.Length || lastSeen[User[r]] == long.MinValue || Timestamp[r] > lastSeen[User[r]]) continue;
            shown[Item[r]]++;
            if (Clicked[r]) clicks[Item[r]]++;
        }
        return (shown, clicks);
    }
}
