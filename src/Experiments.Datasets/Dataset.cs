using System.Security.Cryptography;
using System.Text;
using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Datasets.Loading;
using Experiments.Datasets.Manifests;

namespace Experiments.Datasets;

/// <summary>A train/test split that the data set ships with: row indices into <see cref="All"/>; Validation is empty unless the split has a validation table.</summary>
public sealed record PredefinedSplit(string Name, Interactions All, int[] Train, int[] Validation, int[] Test);

/// <summary>Word vectors (GloVe's text format): word → components.</summary>
public sealed record WordVectors(int Dimension, IReadOnlyDictionary<string, float[]> Vectors);

/// <summary>
/// An opened data set. Tables load on first use and are cached; every load runs the data checks, whose findings
/// collect in <see cref="Checks"/>. Interaction tables of one data set share their user and item id maps, so a
/// predefined train file and its test file index the same items the same way.
/// </summary>
public abstract class Dataset
{
    private readonly Dictionary<string, Interactions> _interactions = new();
    private readonly Dictionary<string, Table> _tables = new();
    private readonly SortedDictionary<string, string> _fileHashes = new(StringComparer.Ordinal);
    private readonly IdMap _users = new();
    private readonly IdMap _items = new();

    protected Dataset(DatasetManifest manifest, DataCheckReport checks)
    {
        Manifest = manifest;
        Checks = checks;
    }

    public DatasetManifest Manifest { get; }
    public string Name => Manifest.Name;
    public bool IsSynthetic => Manifest.Synthetic;
    public DataCheckReport Checks { get; }

    /// <summary>Where the data came from: a folder, or "generated (seed …)".</summary>
    public abstract string Origin { get; }

    /// <summary>
    /// SHA-256 over what was loaded: the hash of every file read (or the generator's settings), so two runs with the
    /// same fingerprint saw the same bytes.
    /// </summary>
    public string Fingerprint
    {
        get
        {
            var text = string.Join("\n", FingerprintParts().Select(p => $"{p.Key}:{p.Value}"));
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        }
    }

    protected virtual IEnumerable<KeyValuePair<string, string>> FingerprintParts() => _fileHashes;

    /// <summary>The interaction table <paramref name="table"/> (default: the manifest's default table).</summary>
    public Interactions Interactions(string? table = null)
    {
        var manifest = InteractionTable(table);
        lock (_interactions)
        {
            if (!_interactions.TryGetValue(manifest.Name, out var data))
                _interactions[manifest.Name] = data = LoadInteractions(manifest, new InteractionsBuilder(_users, _items,
                    manifest.ColumnWithRole("rating") is not null, manifest.ColumnWithRole("timestamp") is not null || manifest.Format == TableFormat.UserSequences));
            return data;
        }
    }

    public Table Table(string name)
    {
        var manifest = Manifest.FindTable(name)
                       ?? throw new ExperimentsException(Core.Definitions.DefinitionValidator.UnknownValue($"table '{name}' in data set '{Name}'", name, Manifest.Tables.Select(t => t.Name).ToList()));
        if (manifest.Role is TableRole.Interactions or TableRole.WordVectors)
            throw new ExperimentsException($"Table '{name}' of '{Name}' holds {manifest.Role}; use {(manifest.Role == TableRole.WordVectors ? "WordVectors()" : "Interactions()")}.");
        lock (_tables)
        {
            if (!_tables.TryGetValue(name, out var table)) _tables[name] = table = LoadTable(manifest);
            return table;
        }
    }

    /// <summary>The item catalogue, when the data set has one.</summary>
    public Table? Items()
    {
        var items = Manifest.Tables.FirstOrDefault(t => t.Role == TableRole.Items);
        return items is null ? null : Table(items.Name);
    }

    public WordVectors WordVectors()
    {
        var manifest = Manifest.Tables.FirstOrDefault(t => t.Role == TableRole.WordVectors)
                       ?? throw new ExperimentsException($"Data set '{Name}' has no word vectors.");
        return LoadWordVectors(manifest);
    }

    public PredefinedSplit PredefinedSplit(string name)
    {
        var split = PredefinedSplitManifest(name);
        var train = Interactions(split.Train);
        var validation = split.Validation is null ? null : Interactions(split.Validation);
        var test = Interactions(split.Test);
        var parts = validation is null ? new[] { train, test } : [train, validation, test];
        int[] Rows(int part) => Enumerable.Range(parts.Take(part).Sum(p => p.Count), parts[part].Count).ToArray();
        return new PredefinedSplit(name, Core.Data.Interactions.Concatenate(parts), Rows(0), validation is null ? [] : Rows(1), Rows(parts.Length - 1));
    }

    /// <summary>The manifest of predefined split <paramref name="name"/>: its train, validation and test tables.</summary>
    public PredefinedSplitManifest PredefinedSplitManifest(string name) =>
        Manifest.Splits.FirstOrDefault(s => s.Name == name)
        ?? throw new ExperimentsException(Core.Definitions.DefinitionValidator.UnknownValue($"predefined split '{name}' of '{Name}'", name, Manifest.Splits.Select(s => s.Name).ToList()));

    protected abstract Interactions LoadInteractions(TableManifest table, InteractionsBuilder builder);

    protected abstract Table LoadTable(TableManifest table);

    protected virtual WordVectors LoadWordVectors(TableManifest table) =>
        throw new ExperimentsException($"Data set '{Name}' has no word vectors.");

    protected void RecordFileHash(string file, string sha256)
    {
        lock (_fileHashes) _fileHashes[file] = sha256;
    }

    private TableManifest InteractionTable(string? table)
    {
        var name = table ?? Manifest.DefaultTable ?? Manifest.InteractionTables.FirstOrDefault()?.Name
                   ?? throw new ExperimentsException($"Data set '{Name}' has no interaction table; its tables are: {string.Join(", ", Manifest.Tables.Select(t => $"{t.Name} ({t.Role})"))}.");
        var manifest = Manifest.FindTable(name);
        if (manifest is null || manifest.Role != TableRole.Interactions)
            throw new ExperimentsException(Core.Definitions.DefinitionValidator.UnknownValue($"interaction table '{name}' in data set '{Name}'", name,
                Manifest.InteractionTables.Select(t => t.Name).ToList()));
        return manifest;
    }
}
