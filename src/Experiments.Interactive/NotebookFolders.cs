namespace Experiments.Interactive;

/// <summary>Where a notebook writes its files (run store, reports, models): never the repository.</summary>
public static class NotebookFolders
{
    /// <summary>Overrides the root of the notebooks' folders (the notebook tests set a fresh one per test run).</summary>
    public const string Variable = "EXPERIMENTS_NOTEBOOKS_DIR";

    /// <summary>
    /// The folder <paramref name="name"/> under <c>$EXPERIMENTS_NOTEBOOKS_DIR</c>, else under the system's temp folder
    /// (<c>experiments-notebooks/</c>), created if missing.
    /// </summary>
    public static string For(string name)
    {
        var root = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } configured ? configured : Path.Combine(Path.GetTempPath(), "experiments-notebooks");
        return Directory.CreateDirectory(Path.Combine(root, name)).FullName;
    }
}
