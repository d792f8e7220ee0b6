using System.Globalization;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets.Loading;

namespace Experiments.Datasets.Manifests;

/// <summary>A user's own data set to register (<c>experiments datasets add</c>): its files by table name, their format and the roles the user gave.</summary>
public sealed record NewDataset
{
    public required string Name { get; init; }
    /// <summary>Table name → file. Tables "train" and "test" (and "validation") form the predefined split "default".</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Files { get; init; }
    public FileFormat Format { get; init; } = new();
    /// <summary>Roles the user gave; user, item, rating, timestamp and label not given are sniffed from the column names.</summary>
    public ColumnRoles Columns { get; init; } = new();
    /// <summary>Columns that are neither roles nor features (row ids, free notes).</summary>
    public IReadOnlyList<string> Ignored { get; init; } = [];
    public string? Title { get; init; }
    public string? Description { get; init; }
    public string? Licence { get; init; }
}

/// <summary>The manifest written for a new data set, with what was sniffed and any warnings about the files.</summary>
public sealed record SniffedDataset(DatasetManifest Manifest, IReadOnlyList<string> Warnings);

/// <summary>
/// Writes the manifest of a user's own files: reads every file once (SHA-256, column types, roles), so the data set
/// can be named in definitions like a built-in one. Roles come from the user or from common column names (userId,
/// customer_id → user; sku, movieId → item; …); types from the values: integers, numbers, ISO 8601 times or text;
/// in a labelled table, text columns with long, spaced values are free text, other text columns categorical features.
/// </summary>
public static class DatasetSniffer
{
    /// <summary>The split that train and test tables form.</summary>
    public const string SplitName = "default";

    private static readonly Dictionary<string, string[]> RoleNames = new()
    {
        ["user"] = ["user", "userid", "customer", "customerid", "visitor", "visitorid", "member", "memberid", "reviewerid", "uid"],
        ["item"] = ["item", "itemid", "product", "productid", "sku", "movie", "movieid", "article", "articleid", "asin", "iid"],
        ["rating"] = ["rating", "stars", "score"],
        ["timestamp"] = ["timestamp", "time", "ts", "datetime", "date", "when", "eventtime", "createdat"],
        ["label"] = ["label", "click", "clicked", "isclick", "target"],
    };

    /// <summary>The most frequent of the common delimiters (, tab ; |) on the file's first line; a comma when none occurs.</summary>
    public static string SniffDelimiter(string path, string encoding)
    {
        CheckedRowReader.RequireNonEmptyFile(path);
        using var reader = new StreamReader(path, DelimitedReader.EncodingOf(encoding), detectEncodingFromByteOrderMarks: true);
        string? first;
        try { first = reader.ReadLine(); }
        catch (System.Text.DecoderFallbackException) { throw DelimitedReader.InvalidUtf8(path); }
        return OwnFiles.CommonDelimiters.OrderByDescending(d => first?.Split(d).Length ?? 0).ThenBy(d => OwnFiles.CommonDelimiters.ToList().IndexOf(d)).First();
    }

    public static SniffedDataset Sniff(NewDataset request, DateTimeOffset now)
    {
        if (request.Files.Count == 0) throw new ExperimentsException("Name at least one file with --from.");
        var warnings = new List<string>();
        var paths = request.Files.Select(f => (Table: f.Key, Path: Path.GetFullPath(f.Value))).ToList();
        if (paths.GroupBy(p => p.Table).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ExperimentsException($"Table '{twice.Key}' is named twice in --from; give each file its own table name (TABLE=FILE).");
        var folder = OwnFiles.CommonFolder(paths.Select(p => p.Path));
        var tables = paths.Select(p => Table(p.Table, p.Path, Path.GetRelativePath(folder, p.Path), request, warnings)).ToList();
        var names = tables.Select(t => t.Name).ToHashSet();
        var split = names.Contains("train") && names.Contains("test")
            ? new PredefinedSplitManifest { Name = SplitName, Train = "train", Validation = names.Contains("validation") ? "validation" : null, Test = "test", Description = "The train and test files as given." }
            : null;
        var files = paths.Select(p => new ManifestFile { Path = Path.GetRelativePath(folder, p.Path), Sha256 = FileDataset.Sha256(p.Path), Bytes = new FileInfo(p.Path).Length }).ToList();
        var manifest = new DatasetManifest
        {
            Name = request.Name,
            Title = request.Title ?? request.Name,
            Description = request.Description ?? $"Added with `experiments datasets add` from {string.Join(", ", files.Select(f => f.Path))} in {folder}.",
            Licence = request.Licence ?? "your own data: terms as you know them",
            Folder = folder,
            Added = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            Files = files,
            Tables = tables,
            DefaultTable = tables.Any(t => t.Role == TableRole.Interactions) ? (split is not null ? "train" : tables.First(t => t.Role == TableRole.Interactions).Name) : null,
            Splits = split is null ? [] : [split],
        };
        return new SniffedDataset(manifest, warnings);
    }

    /// <summary>What one pass over a column's values shows.</summary>
    private sealed class ColumnStats
    {
        public long Values, Empty, Spaced, Length;
        public bool Integer = true, Number = true, Time = true;
        public (long Line, string Value)? FirstNonNumber, FirstNonTime, FirstNonLabel;

        public void Add(string value, long line)
        {
            if (value.Length == 0) { Empty++; return; }
            Values++;
            Length += value.Length;
            if (value.Contains(' ')) Spaced++;
            if (FirstNonLabel is null && value is not ("0" or "1")) FirstNonLabel = (line, value);
            var isInteger = long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
            Integer &= isInteger;
            if (Number && !(double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && double.IsFinite(x))) { Number = false; FirstNonNumber = (line, value); }
            if (Time && !isInteger && double.IsNaN(CheckedRowReader.UnixSeconds(value))) { Time = false; FirstNonTime = (line, value); }
        }

        /// <summary>Long values with spaces in most of them: free text rather than a category.</summary>
        public bool LooksLikeText => Values > 0 && Length / (double)Values >= 20 && Spaced * 2 >= Values;
    }

    private static TableManifest Table(string name, string path, string file, NewDataset request, List<string> warnings)
    {
        var format = request.Format;
        var fileName = Path.GetFileName(path);
        var columns = (format.Header ? OwnFiles.Header(path, format).Names : format.ColumnNames
            ?? throw new ExperimentsException("Files without a header (--no-header) need their column names: --names a,b,c.")).ToList();
        var stats = columns.Select(_ => new ColumnStats()).ToArray();
        var ragged = 0L;
        using (var reader = OwnFiles.Reader(path, format))
        {
            if (format.Header) reader.Read();
            while (reader.Read() is { } fields)
            {
                if (fields.Count != columns.Count || reader.UnterminatedQuote)
                {
                    if (ragged++ == 0) warnings.Add($"{fileName}, line {reader.Line}: {fields.Count} fields, expected {columns.Count}; such rows fail to load unless the definition says \"badRows\": \"skip\"");
                    continue;
                }
                for (var c = 0; c < columns.Count; c++) stats[c].Add(fields[c].Trim(), reader.Line);
            }
        }
        if (ragged > 1) warnings.Add($"{fileName}: {ragged:N0} rows with the wrong number of fields in all");
        if (stats.All(s => s.Values == 0)) throw new DataFileException(fileName, 0, null, "the file has no data rows");

        var roles = Roles(columns, request, fileName, stats);
        var role = roles.ContainsKey("label") ? TableRole.Records
            : roles.ContainsKey("user") && roles.ContainsKey("item") ? TableRole.Interactions
            : throw new ExperimentsException(
                $"{fileName}: cannot tell what the table holds (columns: {string.Join(", ", columns)}). Name the user and item columns (ranking, rating), " +
                "or the 0/1 label column (classification): --columns user=COLUMN,item=COLUMN or --columns label=COLUMN.");
        var byColumn = roles.ToDictionary(r => r.Value, r => r.Key);
        var manifestColumns = columns.Select((column, c) =>
        {
            var s = stats[c];
            var given = byColumn.GetValueOrDefault(column);
            if (given is "user" or "item" or "label" or "rating" && s.Empty > 0)
                warnings.Add($"{fileName}: column '{column}' ({given}) is empty on {s.Empty:N0} row(s); they fail to load unless the definition says \"badRows\": \"skip\"");
            return given switch
            {
                "user" or "item" => new ColumnManifest { Name = column, Role = given, Required = true },
                "label" => new ColumnManifest { Name = column, Role = given, Required = true, Allowed = ["0", "1"] },
                "rating" => new ColumnManifest { Name = column, Type = ColumnType.Float, Role = given, Required = true },
                "timestamp" => new ColumnManifest { Name = column, Type = s.Integer ? ColumnType.Int64 : ColumnType.DateTime, Role = given },
                _ when request.Ignored.Contains(column) => new ColumnManifest { Name = column, Type = Sniffed(s), Role = "id" },
                _ when request.Columns.Text.Contains(column) => new ColumnManifest { Name = column, Role = "text" },
                _ when request.Columns.Categorical.Contains(column) => new ColumnManifest { Name = column },
                _ when request.Columns.Numeric.Contains(column) => new ColumnManifest { Name = column, Type = ColumnType.Float },
                _ when role == TableRole.Records && !s.Number && s.LooksLikeText => new ColumnManifest { Name = column, Role = "text" },
                _ => new ColumnManifest { Name = column, Type = Sniffed(s) },
            };
        }).ToList();
        foreach (var listed in request.Columns.Numeric)
            if (columns.IndexOf(listed) is var c and >= 0 && !stats[c].Number)
                throw new DataFileException(fileName, stats[c].FirstNonNumber!.Value.Line, listed, $"not a number: '{stats[c].FirstNonNumber!.Value.Value}' (the column is listed as numeric)");
        return OwnFiles.Delimited(name, file, role, format, manifestColumns);
    }

    private static ColumnType Sniffed(ColumnStats s) => s.Values == 0 ? ColumnType.String : s.Integer ? ColumnType.Int64 : s.Number ? ColumnType.Float : ColumnType.String;

    /// <summary>Role → column: the ones given (which must exist and fit), then the common names for the roles not given.</summary>
    private static Dictionary<string, string> Roles(List<string> columns, NewDataset request, string fileName, ColumnStats[] stats)
    {
        var roles = new Dictionary<string, string>();
        var features = request.Columns.Numeric.Concat(request.Columns.Categorical).Concat(request.Columns.Text).Concat(request.Ignored).ToHashSet();
        foreach (var (role, column) in request.Columns.Mapped().Select(m => (m.Role, m.Column)).Concat(request.Ignored.Select(c => ("ignored", c))))
        {
            if (!columns.Contains(column))
                throw new DataFileException(fileName, request.Format.Header ? 1 : 0, null, $"no column '{column}' (given as {role}); the file's columns are: {string.Join(", ", columns)}");
            if (RoleNames.ContainsKey(role)) roles[role] = column;
        }
        foreach (var (role, candidates) in RoleNames.Where(r => !roles.ContainsKey(r.Key)))
        {
            var found = columns.FirstOrDefault(c => !roles.ContainsValue(c) && !features.Contains(c) && candidates.Contains(Normalised(c)));
            if (found is not null) roles[role] = found;
        }
        var given = request.Columns.Mapped().Select(m => m.Role).ToHashSet();
        foreach (var (role, column) in roles.ToList())
        {
            var s = stats[columns.IndexOf(column)];
            var problem = role switch
            {
                "rating" when !s.Number => $"not a number: '{s.FirstNonNumber!.Value.Value}' at line {s.FirstNonNumber.Value.Line}",
                "label" when s.FirstNonLabel is { } bad => $"'{bad.Value}' at line {bad.Line} is not a click label (allowed: 0, 1)",
                "timestamp" when !s.Time => $"not Unix seconds or an ISO 8601 time: '{s.FirstNonTime!.Value.Value}' at line {s.FirstNonTime.Value.Line}",
                _ => null,
            };
            if (problem is null) continue;
            // A role the user gave must fit; a sniffed one that does not is dropped (the column stays a plain column).
            if (given.Contains(role)) throw new DataFileException(fileName, 0, null, $"column '{column}' cannot be the {role}: {problem}");
            roles.Remove(role);
        }
        return roles;
    }

    private static string Normalised(string column) => new(column.ToLowerInvariant().Where(char.IsLetterOrDigit).ToArray());
}
