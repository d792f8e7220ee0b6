using System.Diagnostics;
using System.Reflection;

[assembly: DoNotParallelize] // the kernel's working directory and formatters are the process's

namespace Experiments.Notebooks;

/// <summary>
/// The platform's packages as `dotnet pack -c Release` writes them (artifacts/packages), and the NuGet folders that
/// restores of them use here.
/// </summary>
[TestClass]
public static class LocalPackages
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Folder => Path.Combine(RepositoryRoot, "artifacts", "packages");

    /// <summary>The platform's version (Directory.Build.props stamps it on every project, this one included).</summary>
    public static string Version { get; } =
        typeof(LocalPackages).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    /// <summary>
    /// A packages folder of the tests' own, whose experiments.* packages are removed at start: a package rebuilt under
    /// the same version is then restored afresh, never taken from an old extraction. Everything else comes read-only from
    /// the user's packages folder as a fallback folder, unless that folder holds experiments.* packages of this version
    /// (a notebook opened by hand restores them there), which would shadow the fresh ones.
    /// </summary>
    public static IReadOnlyDictionary<string, string> NuGetEnvironment { get; private set; } = new Dictionary<string, string>();

    /// <summary>
    /// The notebooks' work folder for this test run (EXPERIMENTS_NOTEBOOKS_DIR, which NotebookFolders reads): a fresh
    /// one, so test runs in other worktrees or processes never share a run store; removed at the end.
    /// </summary>
    public static string WorkFolder { get; } = Path.Combine(Path.GetTempPath(), $"experiments-notebooks-{Environment.ProcessId}-{Guid.NewGuid():N}");

    [AssemblyInitialize]
    public static void Prepare(TestContext _)
    {
        Directory.CreateDirectory(WorkFolder);
        Environment.SetEnvironmentVariable("EXPERIMENTS_NOTEBOOKS_DIR", WorkFolder);
        EnsurePacked();
        var own = Path.Combine(RepositoryRoot, "artifacts", "nuget-packages");
        Directory.CreateDirectory(own);
        foreach (var stale in Directory.GetDirectories(own, "experiments.*")) Directory.Delete(stale, recursive: true);
        var user = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = own };
        if (!Directory.GetDirectories(user, "experiments.*").Any(d => Directory.Exists(Path.Combine(d, Version))))
            environment["NUGET_FALLBACK_PACKAGES"] = user;
        NuGetEnvironment = environment;
        // The kernel restores in child processes, which inherit these.
        foreach (var (name, value) in environment) Environment.SetEnvironmentVariable(name, value);
    }

    [AssemblyCleanup]
    public static void Clean()
    {
        try { Directory.Delete(WorkFolder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Packs the libraries (from the Release build, without building) when a package is missing or older than its library.</summary>
    private static void EnsurePacked()
    {
        var stale = Directory.GetDirectories(Path.Combine(RepositoryRoot, "src")).Select(d => Path.GetFileName(d)!)
            .Where(name => File.Exists(Path.Combine(RepositoryRoot, "src", name, "bin", "Release", "net10.0", name + ".dll")) && name != "Experiments.Cli")
            .Where(name => !File.Exists(Package(name)) || File.GetLastWriteTimeUtc(Package(name)) < File.GetLastWriteTimeUtc(Path.Combine(RepositoryRoot, "src", name, "bin", "Release", "net10.0", name + ".dll")))
            .ToList();
        if (stale.Count == 0 && File.Exists(Package("Experiments.Runs"))) return;
        var (code, output) = Dotnet(RepositoryRoot, new Dictionary<string, string>(), TimeSpan.FromMinutes(10), "pack", "Experiments.sln", "-c", "Release", "--no-build", "-v", "q", "-nologo");
        if (code != 0) Assert.Fail($"dotnet pack -c Release --no-build failed (build the solution in Release first):\n{output}");
    }

    public static string Package(string id) => Path.Combine(Folder, $"{id}.{Version}.nupkg");

    /// <summary>Runs the dotnet CLI; returns its exit code and its output and error streams together.</summary>
    public static (int ExitCode, string Output) Dotnet(string folder, IReadOnlyDictionary<string, string> environment, TimeSpan limit, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet", args) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit)) { process.Kill(true); Assert.Fail($"dotnet {string.Join(' ', args)} ran past {limit.TotalMinutes:F0} minutes"); }
        return (process.ExitCode, output.Result + error.Result);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Experiments.sln"))) return dir.FullName;
        throw new InvalidOperationException("Experiments.sln not found above the test binaries.");
    }
}
