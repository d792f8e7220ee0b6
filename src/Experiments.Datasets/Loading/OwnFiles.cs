using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets.Manifests;

namespace Experiments.Datasets.Loading;

/// <summary>
/// The user's own files named in a definition, turned into a manifest — one table per file, its columns read from the
/// file's header (or the given names) and typed by the roles the definition maps — and opened like a registered data
/// set, so the same checked reader, bad-row and duplicate policies and fingerprint apply.
/// </summary>
public static class OwnFiles
{
    /// <summary>Common delimiters, named in the hint when a header holds one column that contains one of them.</summary>
    public static readonly IReadOnlyList<string> CommonDelimiters = [",", "\t", ";", "|"];

    public static FileDataset Open(DatasetSpec spec, DataCheckReport checks)
    {
        var manifest = Manifest(spec);
        return new FileDataset(manifest, manifest.Folder!, checks, origin: string.Join("; ", manifest.Tables.Select(t => Path.Combine(manifest.Folder!, t.File!))));
    }

    /// <summary>
    /// The manifest of the files: tables "table", or "train", "validation", "test" forming predefined split "files", or
    /// "catalogue" and "judgements" (or "clicks", a click log whose judgements the position-based click model derives)
    /// forming a search collection.
    /// </summary>
    public static DatasetManifest Manifest(DatasetSpec spec)
    {
        var files = spec.Files ?? throw new ArgumentException("The data set names no files.", nameof(spec));
        var named = files.Named().Select(f => (f.Key, Path: spec.ResolvePath(f.Path))).ToList();
        var folder = CommonFolder(named.Select(f => f.Path));
        var tables = named.Select(f => Table(f.Key, f.Path, Path.GetRelativePath(folder, f.Path), spec)).ToList();
        return new DatasetManifest
        {
            Name = spec.Name,
            Title = spec.Name,
            Description = "Own files: " + string.Join(", ", named.Select(f => f.Path)),
            Licence = "the user's own data",
            Folder = folder,
            Files = tables.Select(t => new ManifestFile { Path = t.File! }).ToList(),
            Tables = tables,
            DefaultTable = tables[0].Name,
            Splits = files.FixSplit
                ? [new PredefinedSplitManifest { Name = DataFiles.SplitName, Train = "train", Validation = files.Validation is null ? null : "validation", Test = "test" }]
                : [],
            // A catalogue and its judgements (or click log): that file's distinct query texts are the queries.
            Search = files.IsSearch
                ? new SearchManifest
                {
                    Catalogue = DataFiles.CatalogueKey,
                    Judgements = files.Clicks is null ? [DataFiles.JudgementsKey] : [],
                    Clicks = files.Clicks is null ? [] : [DataFiles.ClicksKey],
                    QueriesFromJudgements = true,
                }
                : null,
        };
    }

    /// <summary>The column names on a file's first line (trimmed) and that line's number; a name given twice or left empty is an error.</summary>
    public static (IReadOnlyList<string> Names, long Line) Header(string path, FileFormat format)
    {
        CheckedRowReader.RequireNonEmptyFile(path);
        var file = Path.GetFileName(path);
        using var reader = Reader(path, format);
        var names = reader.Read()?.Select(h => h.Trim()).ToList() ?? throw new DataFileException(file, 0, null, "the file has no header line");
        if (names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new DataFileException(file, reader.Line, null, $"the header names column '{twice.Key}' twice; each column needs its own name");
        if (names.IndexOf("") is var empty and >= 0)
            throw new DataFileException(file, reader.Line, null, $"column {empty + 1} of the header has no name; name every column (or set \"header\": false and give \"columnNames\")");
        return (names, reader.Line);
    }

    /// <summary>The deepest folder that holds every one of <paramref name="paths"/>.</summary>
    public static string CommonFolder(IEnumerable<string> paths)
    {
        var folders = paths.Select(p => Path.GetDirectoryName(Path.GetFullPath(p))!).ToList();
        var common = folders[0];
        while (folders.Any(f => !Within(f, common)) && Path.GetDirectoryName(common) is { } parent) common = parent;
        return common;
    }

    private static bool Within(string folder, string root) =>
        folder == root || folder.StartsWith(Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static TableManifest Table(string name, string path, string file, DatasetSpec spec)
    {
        var format = spec.FormatOf(name);
        var (names, line) = format.Header ? Header(path, format) : (format.ColumnNames!, 0L);
        var roles = spec.Columns.MappedIn(name).ToList();
        foreach (var (_, column, key) in roles.Where(r => !names.Contains(r.Column)))
        {
            var hint = names.Count == 1 && CommonDelimiters.FirstOrDefault(d => d != format.Delimiter && names[0].Contains(d)) is { } other
                ? $" (the header is one column holding '{Visible(other)}': is the delimiter \"{Visible(other)}\" rather than \"{Visible(format.Delimiter)}\"?)"
                : "";
            throw new DataFileException(Path.GetFileName(path), line, null,
                $"no column '{column}' (named by the data set's \"columns\".\"{key}\"); the file's columns are: {string.Join(", ", names)}{hint}");
        }
        var role = name switch
        {
            DataFiles.CatalogueKey => TableRole.Items,
            DataFiles.JudgementsKey or DataFiles.ClicksKey => TableRole.Records,
            _ => spec.Columns.Label is null ? TableRole.Interactions : TableRole.Records,
        };
        return Delimited(name, file, role, format,
            names.Select(n => Column(n, roles.FirstOrDefault(r => r.Column == n).Role, spec.RatingScale)).ToList());
    }

    /// <summary>The manifest of a delimited table written in <paramref name="format"/>.</summary>
    public static TableManifest Delimited(string name, string file, TableRole role, FileFormat format, IReadOnlyList<ColumnManifest> columns) => new()
    {
        Name = name,
        File = file,
        Role = role,
        Delimiter = format.Delimiter,
        Header = format.Header,
        Quoted = format.QuoteCharacter is not null,
        Quote = format.QuoteCharacter ?? '"',
        Encoding = format.Encoding,
        Columns = columns,
    };

    /// <summary>A reader of a file written in <paramref name="format"/>.</summary>
    public static DelimitedReader Reader(string path, FileFormat format) =>
        DelimitedReader.Open(path, format.Delimiter, format.QuoteCharacter is not null, format.Encoding, format.QuoteCharacter ?? '"');

    private static string Visible(string delimiter) => delimiter.Replace("\t", "\\t");

    /// <summary>
    /// A column typed by its role: ids and labels are required text, ratings required numbers, numeric features optional
    /// numbers; a search catalogue's id and title, a judgement's query, product and relevance (a number ≥ 0) and a click's
    /// position and clicked (0 or 1) are required.
    /// </summary>
    private static ColumnManifest Column(string name, string? role, RatingScale? scale) => role switch
    {
        "user" or "item" or "title" or "query" => new() { Name = name, Role = role, Required = true },
        "product" => new() { Name = name, Role = "item", Required = true },
        "relevance" => new() { Name = name, Type = ColumnType.Float, Role = role, Required = true, Min = 0 },
        "popularity" => new() { Name = name, Type = ColumnType.Float, Role = role, Min = 0 },
        "description" or "category" => new() { Name = name, Role = role },
        "attributes" => new() { Name = name, Role = "attribute" },
        "intent" => new() { Name = name, Role = "label" },
        "rating" => new() { Name = name, Type = ColumnType.Float, Role = role, Required = true, Min = scale?.Min, Max = scale?.Max },
        "timestamp" => new() { Name = name, Type = ColumnType.DateTime, Role = role },
        "label" => new() { Name = name, Role = role, Required = true, Allowed = ["0", "1"] },
        "clicked" => new() { Name = name, Role = role, Required = true, Allowed = ["0", "1"] },
        // Whole numbers: the click log's reader names a fractional position.
        "position" => new() { Name = name, Type = ColumnType.Float, Role = role, Required = true, Min = 1 },
        "numeric" => new() { Name = name, Type = ColumnType.Float },
        "text" => new() { Name = name, Role = role },
        // Categorical features, and columns the definition does not name: text values, read but not used.
        _ => new() { Name = name },
    };
}
