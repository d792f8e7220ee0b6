namespace Experiments.Datasets;

/// <summary>Where data sets are looked for, in order, and why each place is on the list.</summary>
public sealed record DataLocation(string Path, string Origin);

/// <summary>
/// Resolves the data directories: the CLI option, then <c>EXPERIMENTS_DATA_DIR</c>, then <c>../shared/datasets</c> beside
/// the repository (or the working directory), then the user cache. A data set is read from the first place that
/// holds its folder; <c>datasets pull</c> writes to the first writable one that is not the shared folder.
/// </summary>
public static class DataDirectory
{
    public const string EnvironmentVariable = "EXPERIMENTS_DATA_DIR";

    public static IReadOnlyList<DataLocation> Resolve(string? option = null, string? environmentValue = null, string? workingDirectory = null)
    {
        var locations = new List<DataLocation>();
        if (!string.IsNullOrWhiteSpace(option)) locations.Add(new(Path.GetFullPath(option), "--data-dir option"));
        var environment = environmentValue ?? Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(environment)) locations.Add(new(Path.GetFullPath(environment), $"{EnvironmentVariable} environment variable"));
        foreach (var shared in SharedCandidates(workingDirectory ?? Directory.GetCurrentDirectory()))
            if (Directory.Exists(shared) && locations.All(l => l.Path != shared))
            {
                locations.Add(new(shared, "shared data sets beside the project"));
                break;
            }
        locations.Add(new(UserCache, "user cache"));
        return locations;
    }

    /// <summary>~/.cache/experiments/datasets (or $XDG_CACHE_HOME/experiments/datasets).</summary>
    public static string UserCache
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var root = !string.IsNullOrWhiteSpace(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "experiments", "datasets");
        }
    }

    // ../shared/datasets from the working directory, and from the repository root (the folder with Experiments.sln)
    // found above the working directory or above the running program.
    private static IEnumerable<string> SharedCandidates(string workingDirectory)
    {
        yield return Path.GetFullPath(Path.Combine(workingDirectory, "..", "shared", "datasets"));
        foreach (var start in new[] { workingDirectory, AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Experiments.sln")))
                {
                    yield return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "datasets"));
                    break;
                }
    }
}
