using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Experiments.Runs;

/// <summary>What a run records about where it ran: machine, package versions, git commit.</summary>
public static class RunEnvironment
{
    public static string Machine =>
        $"{Environment.MachineName} ({RuntimeInformation.OSDescription.Trim()}, {RuntimeInformation.OSArchitecture}, {Environment.ProcessorCount} cores, .NET {Environment.Version})";

    /// <summary>Versions of the runtime and of the assemblies a run depends on, as JSON.</summary>
    public static string PackageVersions()
    {
        var versions = new SortedDictionary<string, string>(StringComparer.Ordinal) { [".NET"] = Environment.Version.ToString() };
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            var name = assembly.GetName().Name;
            if (name is null || !(name.StartsWith("Experiments", StringComparison.Ordinal) || name.StartsWith("Microsoft.ML", StringComparison.Ordinal)
                                  || name.StartsWith("Microsoft.Data.Sqlite", StringComparison.Ordinal) || name.StartsWith("TorchSharp", StringComparison.Ordinal)))
                continue;
            var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            versions[name] = (informational ?? assembly.GetName().Version?.ToString() ?? "?").Split('+')[0];
        }
        return JsonSerializer.Serialize(versions);
    }

    /// <summary>The commit checked out in the repository holding <paramref name="directory"/>, read from .git without running git.</summary>
    public static string? GitCommit(string directory)
    {
        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            var git = Path.Combine(dir.FullName, ".git");
            if (!Directory.Exists(git)) continue;
            var head = ReadTrimmed(Path.Combine(git, "HEAD"));
            if (head is null) return null;
            if (!head.StartsWith("ref: ", StringComparison.Ordinal)) return head;
            var reference = head[5..];
            var loose = ReadTrimmed(Path.Combine(git, reference));
            if (loose is not null) return loose;
            var packed = Path.Combine(git, "packed-refs");
            return File.Exists(packed)
                ? File.ReadLines(packed).Select(l => l.Split(' ')).FirstOrDefault(p => p.Length == 2 && p[1] == reference)?[0]
                : null;
        }
        return null;
    }

    private static string? ReadTrimmed(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;
}
