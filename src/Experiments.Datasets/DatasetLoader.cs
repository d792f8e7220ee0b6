using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets.DemoShop;
using Experiments.Datasets.Loading;
using Experiments.Datasets.Manifests;

namespace Experiments.Datasets;

/// <summary>How to open a data set: where to look and what to do with bad or duplicate rows.</summary>
public sealed record DatasetRequest(string Name)
{
    public string? DataDirectory { get; init; }
    public BadRowPolicy BadRows { get; init; } = BadRowPolicy.Fail;
    public DuplicatePolicy Duplicates { get; init; } = DuplicatePolicy.Keep;
    /// <summary>Generator options for synthetic data sets (demo-shop).</summary>
    public IReadOnlyDictionary<string, double> Options { get; init; } = new Dictionary<string, double>();
    /// <summary>The user's own files (with their format and column roles) instead of a registered data set.</summary>
    public DatasetSpec? OwnFiles { get; init; }

    public static DatasetRequest From(DatasetSpec spec, string? dataDirectoryOverride = null) => new(spec.Name)
    {
        DataDirectory = spec.DataDirectory ?? dataDirectoryOverride,
        BadRows = spec.BadRows,
        Duplicates = spec.Duplicates,
        Options = spec.Options,
        OwnFiles = spec.Files is null ? null : spec,
    };
}

/// <summary>Opens data sets, registered or the user's own files: manifest in, checked data out. Knows nothing of models.</summary>
public interface IDatasetLoader
{
    Dataset Open(DatasetRequest request);
}

/// <summary>Finds a data set's folder in the data directories (or generates it) and opens it.</summary>
public sealed class DatasetLoader(DatasetRegistry registry) : IDatasetLoader
{
    public DatasetLoader() : this(DatasetRegistry.Default) { }

    public DatasetRegistry Registry { get; } = registry;

    public Dataset Open(DatasetRequest request)
    {
        var checks = new DataCheckReport(request.BadRows, request.Duplicates);
        if (request.OwnFiles is { } files) return OwnFiles.Open(files, checks);
        var manifest = Registry.Get(request.Name);
        if (manifest.Synthetic) return new DemoShopDataset(manifest, DemoShopOptions.From(request.Options), checks);
        if (manifest.Folder is { } own && Path.IsPathRooted(own))
            return new FileDataset(manifest, Locate(manifest, []) ?? throw new ExperimentsException(
                $"Data set '{manifest.Name}' was added from {own} (`datasets add` on {manifest.Added}), but its files are no longer there: " +
                $"missing {string.Join(", ", manifest.Files.Select(f => f.Path).Where(f => !File.Exists(Path.Combine(own, f))))}. Add it again with `experiments datasets add {manifest.Name} --from …`."), checks);
        // A data directory named explicitly is the only place looked in: another copy elsewhere is never used silently.
        if (request.DataDirectory is { } named)
        {
            var full = Path.GetFullPath(named);
            return new FileDataset(manifest, Locate(manifest, [new DataLocation(full, "named")]) ?? throw NotInNamedDirectory(manifest, full), checks);
        }
        var locations = DataDirectory.Resolve();
        var folder = Locate(manifest, locations)
                     ?? throw new ExperimentsException(
                         $"Data set '{manifest.Name}' was not found. Looked for the folder '{manifest.Folder}' in:" +
                         string.Concat(locations.Select(l => $"{Environment.NewLine}  {l.Path} ({l.Origin})")) +
                         $"{Environment.NewLine}Get it with `experiments datasets pull {manifest.Name}`" +
                         (manifest.Download is null && manifest.ManualDownload is not null ? $" — or by hand: {manifest.ManualDownload}" : "") +
                         $", or point --data-dir / {DataDirectory.EnvironmentVariable} at a folder that holds it.");
        return new FileDataset(manifest, folder, checks);
    }

    private static ExperimentsException NotInNamedDirectory(DatasetManifest manifest, string directory)
    {
        var folder = manifest.Folder ?? manifest.Name;
        var files = manifest.Files.Count == 0 ? "" : $" with its files ({string.Join(", ", manifest.Files.Take(6).Select(f => f.Path))}{(manifest.Files.Count > 6 ? ", …" : "")})";
        return new ExperimentsException(
            $"Data set '{manifest.Name}' is not in the data directory {directory} (named by --data-dir or the definition's dataset.dataDirectory): " +
            $"it should hold the folder {Path.Combine(directory, folder)}{files}. Get it there with `experiments datasets pull {manifest.Name} --data-dir {directory}`, " +
            $"or name the directory that holds '{folder}/'.");
    }

    /// <summary>The first data directory holding the data set's folder with at least one of its files (an absolute folder: that folder).</summary>
    public static string? Locate(DatasetManifest manifest, IEnumerable<DataLocation> locations) =>
        (manifest.Folder is { } own && Path.IsPathRooted(own) ? [own] : locations.Select(l => Path.Combine(l.Path, manifest.Folder ?? manifest.Name)))
            .FirstOrDefault(folder => Directory.Exists(folder) && (manifest.Files.Count == 0 || manifest.Files.Any(f => File.Exists(Path.Combine(folder, f.Path)))));
}
