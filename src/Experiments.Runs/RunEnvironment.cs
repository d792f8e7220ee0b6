using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Experiments.Runs;

/// <summary>What a run records about where it ran: machine, package versions, git commit.</summary>
public static class RunEnvironment
{
    public static string Machine =>
        $"{Environment.MachineName} ({RuntimeInformation.OSDescription.Trim()}, {RuntimeInformation.OSArchitecture}, {Environment.ProcessorCount} cores, .NET {Environment.Version})";

    /// <summary>
    /// Versions of the runtime and of the assemblies a run can use (ours, ML.NET's, SQLite's, TorchSharp's), as JSON:
    /// those loaded, and those our assemblies reference — a package is listed even when the run has not loaded it
    /// yet (ML.NET's trainers load with the first model that uses them, after the run is recorded).
    /// </summary>
    public static string PackageVersions()
    {
        static bool Tracked(string? name) => name is not null && (name.StartsWith("Experiments", StringComparison.Ordinal) || name.StartsWith("Microsoft.ML", StringComparison.Ordinal)
            || name.StartsWith("Microsoft.Data.Sqlite", StringComparison.Ordinal) || name.StartsWith("TorchSharp", StringComparison.Ordinal));
        var versions = new SortedDictionary<string, string>(StringComparer.Ordinal) { [".NET"] = Environment.Version.ToString() };
        var pending = new Queue<Assembly>(AppDomain.CurrentDomain.GetAssemblies().Append(typeof(RunEnvironment).Assembly));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryDequeue(out var assembly))
        {
            var name = assembly.GetName().Name;
            if (!Tracked(name) || !seen.Add(name!)) continue;
            var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            versions[name!] = (informational ?? assembly.GetName().Version?.ToString() ?? "?").Split('+')[0];
            if (!name!.StartsWith("Experiments", StringComparison.Ordinal)) continue;
            foreach (var reference in assembly.GetReferencedAssemblies().Where(r => Tracked(r.Name) && !seen.Contains(r.Name!)))
            {
                try { pending.Enqueue(Assembly.Load(reference)); }
                catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException) { } // not deployed with this program: not used
            }
        }
        return JsonSerializer.Serialize(versions);
    }

    /// <summary>
    /// The commit checked out in the git repository that holds <paramref name="directory"/> (the definition's folder),
    /// and whether its tracked files — or <paramref name="definitionFile"/>, when it is not tracked — differ from it.
    /// None when the folder is in no repository. Asks git itself (work trees, packed refs); without git the commit is
    /// read from .git and the dirty flag is unknown.
    /// </summary>
    public static (string? Commit, bool? Dirty) Git(string directory, string? definitionFile = null)
    {
        var status = RunGit(directory, "status", "--porcelain=v2", "--branch", "--untracked-files=no");
        if (status is null) return (CommitFromFiles(directory), null);
        var oid = status.Split('\n').FirstOrDefault(l => l.StartsWith("# branch.oid ", StringComparison.Ordinal))?["# branch.oid ".Length..].Trim();
        if (oid is null or "(initial)") return (null, null);
        var dirty = status.Split('\n').Any(l => l.Length > 0 && l[0] != '#');
        if (!dirty && definitionFile is not null) dirty = RunGit(directory, "ls-files", "--error-unmatch", "--", Path.GetFullPath(definitionFile)) is null;
        return (oid, dirty);
    }

    /// <summary>git's standard output, or null when git is missing or fails (no repository, an unsafe owner).</summary>
    private static string? RunGit(string directory, params string[] arguments)
    {
        if (!Directory.Exists(directory)) return null;
        var info = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-C");
        info.ArgumentList.Add(directory);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        // The repository is the one holding the directory, never one an outer process pointed git at.
        foreach (var variable in new[] { "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CEILING_DIRECTORIES" }) info.Environment.Remove(variable);
        try
        {
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                process.Kill(true);
                return null;
            }
            return process.ExitCode == 0 ? output.Result : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // git is not installed
        }
    }

    /// <summary>The commit of HEAD read from .git (a folder, or a work tree's "gitdir:" file).</summary>
    private static string? CommitFromFiles(string directory)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(directory)); dir is not null; dir = dir.Parent)
        {
            var git = Path.Combine(dir.FullName, ".git");
            if (File.Exists(git) && ReadTrimmed(git) is { } link && link.StartsWith("gitdir: ", StringComparison.Ordinal))
                git = Path.GetFullPath(link[8..], dir.FullName);
            else if (!Directory.Exists(git)) continue;
            var head = ReadTrimmed(Path.Combine(git, "HEAD"));
            if (head is null) return null;
            if (!head.StartsWith("ref: ", StringComparison.Ordinal)) return head;
            var reference = head[5..];
            // A work tree keeps HEAD in its own folder and refs in the main repository's (its "commondir").
            var common = ReadTrimmed(Path.Combine(git, "commondir")) is { } c ? Path.GetFullPath(c, git) : git;
            var loose = ReadTrimmed(Path.Combine(common, reference));
            if (loose is not null) return loose;
            var packed = Path.Combine(common, "packed-refs");
            return File.Exists(packed)
                ? File.ReadLines(packed).Select(l => l.Split(' ')).FirstOrDefault(p => p.Length == 2 && p[1] == reference)?[0]
                : null;
        }
        return null;
    }

    private static string? ReadTrimmed(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;
}
