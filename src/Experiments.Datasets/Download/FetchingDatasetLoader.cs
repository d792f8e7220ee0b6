using Experiments.Core;

namespace Experiments.Datasets.Download;

/// <summary>
/// A loader for machines that may not have the data (a cluster's workers): a registered data set missing from the
/// data directory is first fetched from its official source and verified against its manifest's checksums
/// (<see cref="DatasetDownloader"/>), then opened. One that cannot be fetched fails with a message that names the
/// data set, the directory and the machine.
/// </summary>
public sealed class FetchingDatasetLoader(DatasetLoader inner, HttpClient http) : IDatasetLoader
{
    /// <summary>One fetch of a data set at a time in this process; other data sets (and present ones) do not wait for it.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, object> FetchGates = new(StringComparer.Ordinal);

    public Dataset Open(DatasetRequest request)
    {
        if (request.OwnFiles is null && inner.Registry.Get(request.Name) is { Synthetic: false } manifest && !(manifest.Folder is { } own && Path.IsPathRooted(own)))
        {
            var locations = request.DataDirectory is { } named ? [new DataLocation(Path.GetFullPath(named), "named")] : DataDirectory.Resolve();
            if (DatasetLoader.Locate(manifest, locations) is null)
                lock (FetchGates.GetOrAdd(manifest.Name, _ => new object()))
                {
                    // Another trial may have fetched it while this one waited.
                    if (DatasetLoader.Locate(manifest, locations) is not null) return inner.Open(request);
                    // Into the named directory, else the first that is not the project's shared one (as `datasets pull`).
                    var target = locations.First(l => !l.Origin.StartsWith("shared", StringComparison.Ordinal)).Path;
                    try
                    {
                        new DatasetDownloader(http).PullAsync(manifest, target).GetAwaiter().GetResult();
                    }
                    catch (ExperimentsException e)
                    {
                        throw new ExperimentsException($"{Environment.MachineName} has no data set '{manifest.Name}' in {target} (the folder {manifest.Folder ?? manifest.Name}) and could not fetch it by its checksums: {e.Message} " +
                                                       "Put it in the shared data directory the workers read (worker --data-dir), or pull it there with `experiments datasets pull`.", e);
                    }
                }
        }
        return inner.Open(request);
    }
}
