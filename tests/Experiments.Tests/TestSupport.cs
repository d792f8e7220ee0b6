using System.Diagnostics;
using Experiments.Datasets;
using Experiments.Datasets.Manifests;

[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.ClassLevel)]

namespace Experiments.Tests;

/// <summary>Access to the real data sets in the data directory, through the project's own loader.</summary>
internal static class RealData
{
    /// <summary>
    /// Opens a real data set. Where it is absent, a developer's run reports the test as inconclusive; CI (CI=true)
    /// fails, because CI always has ../shared/datasets.
    /// </summary>
    public static Dataset Open(string name, Experiments.Core.Definitions.BadRowPolicy badRows = Experiments.Core.Definitions.BadRowPolicy.Fail,
        Experiments.Core.Definitions.DuplicatePolicy duplicates = Experiments.Core.Definitions.DuplicatePolicy.Keep)
    {
        var manifest = DatasetRegistry.Default.Get(name);
        if (DatasetLoader.Locate(manifest, DataDirectory.Resolve()) is null)
        {
            var message = $"Data set '{name}' is not in any data directory ({string.Join("; ", DataDirectory.Resolve().Select(l => l.Path))}).";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(message);
            Assert.Inconclusive(message + " Set EXPERIMENTS_DATA_DIR to run this test.");
        }
        return new DatasetLoader().Open(new DatasetRequest(name) { BadRows = badRows, Duplicates = duplicates });
    }

    /// <summary>The folder of a real data set (for tests that copy and corrupt its files).</summary>
    public static string Folder(string name) => ((Experiments.Datasets.Loading.FileDataset)Open(name)).Folder;
}

/// <summary>A temporary folder removed after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "experiments-tests", Guid.NewGuid().ToString("N")));

    public string Path { get; }

    public string File(string name, string contents)
    {
        var path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, contents);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Runs the real `experiments` CLI in its own process, as a user would.</summary>
internal static class CliProcess
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "experiments.dll");

    public static ProcessStartInfo StartInfo(string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["NO_COLOR"] = "1";
        return info;
    }

    public static (int ExitCode, string Output, string Error) Run(string workingDirectory, params string[] args) =>
        Run(new Dictionary<string, string>(), workingDirectory, args);

    /// <summary>Runs the CLI with extra environment variables (e.g. a folder of its own for the user's data set manifests).</summary>
    public static (int ExitCode, string Output, string Error) Run(IReadOnlyDictionary<string, string> environment, string workingDirectory, params string[] args)
    {
        var info = StartInfo(workingDirectory, args);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) { process.Kill(true); Assert.Fail("the CLI did not finish in 5 minutes"); }
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>The report folder of run <paramref name="runId"/> under <paramref name="reports"/> (run-N-UID).</summary>
    public static string ReportFolder(string reports, long runId) => Directory.GetDirectories(reports, $"run-{runId}-*").Single();

    /// <summary>The repository root (for experiments/ and the committed schema).</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (System.IO.File.Exists(Path.Combine(dir.FullName, "Experiments.sln"))) return dir.FullName;
            throw new InvalidOperationException("Experiments.sln not found above the test binaries.");
        }
    }
}

/// <summary>
/// The device the text-encoder tests run on: "cpu" unless EXPERIMENTS_TEST_DEVICE says otherwise (set it to "cuda" on a
/// machine with a GPU to run the same tests there; docs/text.md shows how). The text test classes do not run beside
/// other classes: libtorch's random generator is one per process, so a seed one test sets would be consumed by another.
/// </summary>
[TestClass]
public static class TestDevice
{
    /// <summary>TorchSharp's native libraries (and a libtorch named by EXPERIMENTS_LIBTORCH) load before any test touches TorchSharp.</summary>
    [AssemblyInitialize]
    public static void LoadLibTorch(TestContext _) => Experiments.Text.TorchNative.EnsureLoaded();

    public static string Name => Environment.GetEnvironmentVariable("EXPERIMENTS_TEST_DEVICE") is { Length: > 0 } name ? name : "cpu";

    public static bool IsCuda => Name.StartsWith("cuda", StringComparison.Ordinal);
}

/// <summary>
/// Debian's Python (/usr/bin/python3) for reference values: JSON in on standard input, JSON out. A module the
/// reference needs that is missing makes a developer's run inconclusive and fails CI (CI=true), which installs them
/// (`.ci/run`).
/// </summary>
internal static class Python
{
    public const string Interpreter = "/usr/bin/python3";
    private static readonly Dictionary<string, bool> Importable = [];

    public static void Require(params string[] modules)
    {
        foreach (var module in modules)
        {
            bool available;
            lock (Importable)
                if (!Importable.TryGetValue(module, out available))
                {
                    if (File.Exists(Interpreter))
                    {
                        using var check = Process.Start(new ProcessStartInfo(Interpreter, ["-c", $"import {module}"]) { RedirectStandardError = true, UseShellExecute = false })!;
                        check.WaitForExit();
                        available = check.ExitCode == 0;
                    }
                    Importable[module] = available;
                }
            if (available) continue;
            var message = $"{Interpreter} cannot import {module} (Debian: apt-get install python3-{module}): the reference values cannot be computed.";
            if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(message);
            Assert.Inconclusive(message);
        }
    }

    /// <summary>Runs the interpreter with <paramref name="arguments"/>, <paramref name="input"/> as JSON on standard input; returns its JSON output.</summary>
    public static System.Text.Json.JsonElement Json(IEnumerable<string> arguments, object input)
    {
        var info = new ProcessStartInfo(Interpreter) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        process.StandardInput.Write(System.Text.Json.JsonSerializer.Serialize(input));
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        Assert.AreEqual(0, process.ExitCode, error.Result);
        return System.Text.Json.JsonDocument.Parse(output.Result).RootElement.Clone();
    }
}
