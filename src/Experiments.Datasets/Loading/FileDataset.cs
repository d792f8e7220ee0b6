using System.Globalization;
using System.Security.Cryptography;
using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Datasets.Manifests;

namespace Experiments.Datasets.Loading;

/// <summary>A data set read from its folder in a data directory (or the user's own files), driven entirely by its manifest.</summary>
public sealed class FileDataset : Dataset
{
    private readonly string? _origin;

    /// <param name="origin">Where the data came from, when not simply <paramref name="folder"/> (own files: their paths).</param>
    public FileDataset(DatasetManifest manifest, string folder, DataCheckReport checks, string? origin = null) : base(manifest, checks)
    {
        Folder = folder;
        _origin = origin;
    }

    public string Folder { get; }

    public override string Origin => _origin ?? Folder;

    protected override Interactions LoadInteractions(TableManifest table, InteractionsBuilder builder)
    {
        var path = PathOf(table);
        if (table.Format == TableFormat.UserSequences) return LoadUserSequences(path, builder);
        var user = Index(table, "user");
        var item = Index(table, "item");
        var rating = table.Columns.ToList().FindIndex(c => c.Role == "rating");
        var timestamp = table.Columns.ToList().FindIndex(c => c.Role == "timestamp");
        foreach (var row in CheckedRowReader.Read(table, path, Checks))
        {
            var u = row.Fields[user].Trim();
            var i = row.Fields[item].Trim();
            if (u.Length == 0 || i.Length == 0)
            {
                Checks.BadRow(Path.GetFileName(path), row.Line, u.Length == 0 ? table.Columns[user].Name : table.Columns[item].Name, "missing value: a user and an item are required");
                continue;
            }
            var r = rating >= 0 ? row.Numbers[rating] : 1;
            if (double.IsNaN(r))
            {
                Checks.BadRow(Path.GetFileName(path), row.Line, table.Columns[rating].Name, "missing value: the rating is required");
                continue;
            }
            var t = timestamp >= 0 && !double.IsNaN(row.Numbers[timestamp]) ? (long)row.Numbers[timestamp] : 0;
            builder.Add(u, i, (float)r, t);
        }
        Hash(path);
        return builder.Build();
    }

    private Interactions LoadUserSequences(string path, InteractionsBuilder builder)
    {
        CheckedRowReader.RequireNonEmptyFile(path);
        var file = Path.GetFileName(path);
        using var reader = DelimitedReader.Open(path, " ", quoted: false, "utf-8");
        while (reader.Read() is { } fields)
        {
            var items = fields.Where(f => f.Length > 0).ToList();
            if (items.Count < 2)
            {
                Checks.BadRow(file, reader.Line, null, "ragged row: a user id followed by at least one item id is required");
                continue;
            }
            // The position in the user's sequence stands in for the time: the file lists each user's items in time order.
            for (var k = 1; k < items.Count; k++) builder.Add(items[0], items[k], 1f, k);
        }
        if (builder.Count == 0) throw new DataFileException(file, 0, null, "the file has no usable data rows");
        Hash(path);
        return builder.Build();
    }

    protected override Table LoadTable(TableManifest table)
    {
        var path = PathOf(table);
        if (table.Format == TableFormat.ItemAttributeLists) return LoadItemAttributeLists(table, path);
        var columns = table.Columns;
        var strings = columns.Select(c => c.Type == ColumnType.String ? new List<string>() : null).ToArray();
        var numbers = columns.Select(c => c.Type != ColumnType.String ? new List<double>() : null).ToArray();
        var lines = new List<long>();
        foreach (var row in CheckedRowReader.Read(table, path, Checks))
        {
            for (var c = 0; c < columns.Count; c++)
            {
                strings[c]?.Add(row.Fields[c].Trim());
                numbers[c]?.Add(row.Numbers[c]);
            }
            lines.Add(row.Line);
        }
        Hash(path);
        return new Table(table.Name, Path.GetFileName(path),
            columns.Select((c, k) => new TableColumn(c, strings[k]?.ToArray(), numbers[k]?.ToArray())).ToList(), lines.ToArray());
    }

    /// <summary>
    /// {"item": [attribute, …], …}: one row per item, its attributes (numbers or strings) joined by '|' in the second
    /// column (the first is the item). A value that is not a list is a bad row naming the item.
    /// </summary>
    private Table LoadItemAttributeLists(TableManifest table, string path)
    {
        CheckedRowReader.RequireNonEmptyFile(path);
        var file = Path.GetFileName(path);
        if (table.Columns.Count != 2 || table.Columns[0].Role != "item")
            throw new ExperimentsException($"Table '{table.Name}' of '{Name}': format item-attribute-lists has two columns, the item (role \"item\") and its attributes.");
        System.Text.Json.JsonDocument document;
        try
        {
            document = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new DataFileException(file, (e.LineNumber ?? 0) + 1, null, $"not valid JSON: {e.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
                throw new DataFileException(file, 1, null, "expected a JSON object of item id → list of attributes");
            var (items, attributes) = (new List<string>(), new List<string>());
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind != System.Text.Json.JsonValueKind.Array)
                {
                    Checks.BadRow(file, 0, property.Name, $"item '{property.Name}': expected a list of attributes, got {property.Value.ValueKind}");
                    continue;
                }
                items.Add(property.Name);
                attributes.Add(string.Join('|', property.Value.EnumerateArray().Select(v => v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : v.GetRawText())));
            }
            Hash(path);
            return new Table(table.Name, file, [new TableColumn(table.Columns[0], items.ToArray(), null), new TableColumn(table.Columns[1], attributes.ToArray(), null)], new long[items.Count]);
        }
    }

    protected override WordVectors LoadWordVectors(TableManifest table)
    {
        var path = PathOf(table);
        CheckedRowReader.RequireNonEmptyFile(path);
        var file = Path.GetFileName(path);
        var vectors = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var dimension = 0;
        using var reader = DelimitedReader.Open(path, " ", quoted: false, "utf-8");
        while (reader.Read() is { } fields)
        {
            if (dimension == 0) dimension = fields.Count - 1;
            if (fields.Count - 1 != dimension || dimension < 1)
            {
                Checks.BadRow(file, reader.Line, null, $"ragged row: {fields.Count - 1} components, expected {dimension}");
                continue;
            }
            var vector = new float[dimension];
            var ok = true;
            for (var d = 0; d < dimension && ok; d++)
                ok = float.TryParse(fields[d + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out vector[d]);
            if (!ok) { Checks.BadRow(file, reader.Line, fields[0], "not a number in the vector's components"); continue; }
            if (!vectors.TryAdd(fields[0], vector)) Checks.Note(file, reader.Line, "duplicate words ignored", $"'{fields[0]}' appears again");
        }
        if (vectors.Count == 0) throw new DataFileException(file, 0, null, "the file has no usable data rows");
        Hash(path);
        return new WordVectors(dimension, vectors);
    }

    private string PathOf(TableManifest table)
    {
        if (table.File is null) throw new ExperimentsException($"Table '{table.Name}' of '{Name}' names no file in its manifest.");
        return Path.Combine(Folder, table.File);
    }

    private static int Index(TableManifest table, string role)
    {
        var index = table.Columns.ToList().FindIndex(c => c.Role == role);
        if (index < 0) throw new ExperimentsException($"Table '{table.Name}' has no column with role '{role}' in its manifest.");
        return index;
    }

    // The hash goes into the run's data fingerprint; a file that differs from the official release (or from the file
    // recorded by `datasets add`) is worth a warning.
    private void Hash(string path)
    {
        var sha = Sha256(path);
        var relative = Path.GetRelativePath(Folder, path);
        RecordFileHash(relative, sha);
        var expected = Manifest.Files.FirstOrDefault(f => f.Path == relative)?.Sha256;
        if (expected is not null && expected != sha)
            Checks.Warn(relative, Manifest.Added is null
                ? $"differs from the official release (SHA-256 {sha[..12]}…, expected {expected[..12]}…): results may not match published figures"
                : $"differs from the file recorded by `datasets add` on {Manifest.Added} (SHA-256 {sha[..12]}…, expected {expected[..12]}…): the data changed since; add it again to record the new files");
    }

    /// <summary>The SHA-256 of a file's bytes, in lower-case hex.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
