using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Experiments.Cli;
using Experiments.Store;

namespace Experiments.Tests.Cli;

/// <summary>The command line tells the truth: usage errors, exit codes, data directories, report folders, widths, read-only stores, git.</summary>
[TestClass]
public sealed class CommandLineTests
{
    private static string Ranking(string name = "cli", string models = """{ "type": "most-popular" }""", string metrics = "\"ndcg@10\"", string extra = "") => $$"""
        {
          "name": "{{name}}", "task": "ranking",
          "dataset": { "name": "demo-shop", "options": { "users": 200, "items": 100 } },
          "models": [ {{models}} ],
          "metrics": [ {{metrics}} ],
          "evaluation": { "bootstrapSamples": 20 }{{extra}},
          "output": { "store": "runs.db", "reports": "reports" }
        }
        """;

    [TestMethod]
    [DataRow(new[] { "show", "abc" }, "Cannot parse argument 'abc' for command 'show' as a whole number", "experiments show --help")]
    [DataRow(new[] { "list", "--stor", "x.db" }, "unknown option '--stor'; did you mean '--store'?", "experiments list --help")]
    [DataRow(new[] { "show" }, "Required argument missing for command: 'show'", "experiments show --help")]
    [DataRow(new[] { "lst" }, "unknown command 'lst'; did you mean 'list'?", "experiments --help")]
    [DataRow(new[] { "datasets", "describ", "x" }, "unknown command 'describ'; did you mean 'describe'?", "experiments datasets --help")]
    public void A_usage_error_exits_2_with_one_short_paragraph(string[] args, string problem, string help)
    {
        using var work = new TempFolder();
        var result = CliProcess.Run(work.Path, args);
        Assert.AreEqual(ExitCodes.InvalidInput, result.ExitCode);
        StringAssert.Contains(result.Error, problem);
        StringAssert.Contains(result.Error, $"See `{help}`.");
        Assert.AreEqual(1, result.Error.Trim().Split('\n').Length, result.Error);
        Assert.AreEqual("", result.Output, "no help text");
    }

    [TestMethod]
    public void The_README_documents_every_exit_code_the_program_returns()
    {
        var readme = File.ReadAllText(Path.Combine(CliProcess.RepositoryRoot, "README.md"));
        var paragraph = readme[readme.IndexOf("Exit codes:", StringComparison.Ordinal)..];
        paragraph = paragraph[..paragraph.IndexOf("\n\n", StringComparison.Ordinal)];
        var codes = typeof(ExitCodes).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (int)f.GetValue(null)!).ToList();
        Assert.IsTrue(codes.Contains(70) && codes.Contains(3));
        foreach (var code in codes) StringAssert.Contains(paragraph, $"`{code}`", $"exit code {code} is not in the README's exit codes");
        // Every `return N` / exit code in the CLI's sources goes through ExitCodes.
        foreach (var file in Directory.GetFiles(Path.Combine(CliProcess.RepositoryRoot, "src", "Experiments.Cli"), "*.cs"))
            Assert.IsFalse(Regex.IsMatch(File.ReadAllText(file), @"return\s+\d+\s*;"), $"{file} returns a bare number");
    }

    [TestMethod]
    public void A_failed_model_is_an_error_on_standard_error_also_when_quiet_and_exits_1()
    {
        using var work = new TempFolder();
        // 'bias' can rank, but the events table has no ratings to learn from: it fails at fit time.
        work.File("e.json", Ranking(models: """{ "type": "most-popular" }, { "type": "bias" }"""));
        var result = CliProcess.Run(work.Path, "run", "e.json", "--quiet");
        Assert.AreEqual(ExitCodes.RunFailed, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, "model bias (stratified) failed:");
        StringAssert.Contains(result.Error, "learns from ratings");
        Assert.AreEqual("", result.Output);
    }

    [TestMethod]
    public void A_data_directory_without_the_data_set_is_an_error_naming_it()
    {
        using var work = new TempFolder();
        RealData.Folder("movielens-latest-small"); // present elsewhere: the run must not fall back to that copy
        var empty = Directory.CreateDirectory(Path.Combine(work.Path, "empty")).FullName;
        work.File("m.json", """
            { "name": "m", "task": "rating", "dataset": { "name": "movielens-latest-small" }, "models": [ { "type": "global-mean" } ], "metrics": ["rmse"],
              "output": { "store": "runs.db" } }
            """);
        var result = CliProcess.Run(work.Path, "run", "m.json", "--data-dir", empty, "--quiet");
        Assert.AreEqual(ExitCodes.InvalidInput, result.ExitCode, result.Error);
        StringAssert.Contains(result.Error, $"Data set 'movielens-latest-small' is not in the data directory {empty}");
        StringAssert.Contains(result.Error, $"{Path.Combine(empty, "movielens-latest-small")} with its files (ratings.csv");
    }

    [TestMethod]
    public void Stores_sharing_a_reports_folder_never_overwrite_each_others_reports()
    {
        using var work = new TempFolder();
        work.File("a.json", Ranking("alpha"));
        work.File("b.json", Ranking("beta"));
        Assert.AreEqual(0, CliProcess.Run(work.Path, "run", "a.json", "--store", "a.db", "--quiet").ExitCode);
        Assert.AreEqual(0, CliProcess.Run(work.Path, "run", "b.json", "--store", "b.db", "--quiet").ExitCode);
        var folders = Directory.GetDirectories(Path.Combine(work.Path, "reports"));
        Assert.HasCount(2, folders, "both stores' run 1 have their own folder");
        var titles = folders.Select(f => File.ReadAllLines(Path.Combine(f, "report.md"))[0]).Order().ToList();
        CollectionAssert.AreEqual(new[] { "# alpha — run 1", "# beta — run 1" }, titles);
        // The folder is run-N-UID, the run's uid as `show` prints it.
        using var store = SqliteRunStore.OpenExisting(Path.Combine(work.Path, "a.db"));
        var run = store.GetRun(1).Run;
        StringAssert.Matches(run.Uid!, new Regex("^[0-9a-f]{16}$"));
        Assert.IsTrue(Directory.Exists(Path.Combine(work.Path, "reports", $"run-1-{run.Uid}")));
        StringAssert.Contains(CliProcess.Run(work.Path, "show", "1", "--store", "a.db").Output, $"run-1-{run.Uid}");
    }

    [TestMethod]
    public void Unwritable_outputs_exit_2_before_anything_is_trained()
    {
        using var work = new TempFolder();
        work.File("e.json", Ranking());
        work.File("blocker", "a file where a folder is needed");
        var reports = CliProcess.Run(work.Path, "run", "e.json", "--reports", "blocker/reports", "--quiet");
        Assert.AreEqual(ExitCodes.InvalidInput, reports.ExitCode, reports.Error);
        StringAssert.Contains(reports.Error, $"The reports folder {Path.Combine(work.Path, "blocker", "reports")} cannot be written");
        using (var store = SqliteRunStore.OpenExisting(Path.Combine(work.Path, "runs.db"))) Assert.IsEmpty(store.ListRuns(), "nothing was run");

        var storeResult = CliProcess.Run(work.Path, "run", "e.json", "--store", "blocker/runs.db", "--quiet");
        Assert.AreEqual(ExitCodes.InvalidInput, storeResult.ExitCode, storeResult.Error);
        StringAssert.Contains(storeResult.Error, $"The run store {Path.Combine(work.Path, "blocker", "runs.db")} cannot be written");
    }

    [TestMethod]
    public void Tables_keep_their_full_width_when_output_is_not_a_terminal()
    {
        using var work = new TempFolder();
        var metrics = "\"ndcg@10\", \"hit-rate@10\", \"precision@10\", \"recall@10\", \"map@10\", \"mrr@10\", \"coverage@10\", \"novelty@10\"";
        work.File("e.json", Ranking(models: """{ "type": "most-popular", "name": "a-rather-long-model-name" }, { "type": "item-knn", "name": "another-long-model-name" }""", metrics: metrics));
        Assert.AreEqual(0, CliProcess.Run(work.Path, "run", "e.json", "--quiet").ExitCode);
        var show = CliProcess.Run(work.Path, "show", "1", "--store", "runs.db");
        Assert.AreEqual(0, show.ExitCode, show.Error);
        var table = show.Output.Split('\n').Where(l => l.Contains('│')).ToList();
        Assert.IsTrue(table.Max(l => l.Length) > 80, "the table is wider than 80 columns");
        Assert.IsFalse(table.Any(l => l.Contains('…')), "no cell is cut");
        StringAssert.Contains(show.Output, "a-rather-long-model-name");
        StringAssert.Contains(show.Output, "another-long-model-name");

        var narrow = CliProcess.StartInfo(work.Path, "show", "1", "--store", "runs.db");
        narrow.Environment["COLUMNS"] = "100";
        using var process = Process.Start(narrow)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.IsTrue(output.Split('\n').All(l => l.TrimEnd('\r').Length <= 100), "COLUMNS is honoured");
    }

    [TestMethod]
    public void A_read_only_store_can_be_listed_shown_and_reported()
    {
        using var work = new TempFolder();
        work.File("e.json", Ranking());
        var folder = Directory.CreateDirectory(Path.Combine(work.Path, "archive")).FullName;
        Assert.AreEqual(0, CliProcess.Run(work.Path, "run", "e.json", "--store", "archive/runs.db", "--quiet").ExitCode);
        using (ReadOnly.Make(folder, Path.Combine(folder, "runs.db")))
        {
            var list = CliProcess.Run(work.Path, "list", "--store", "archive/runs.db", "--json");
            Assert.AreEqual(0, list.ExitCode, list.Error);
            Assert.AreEqual("finished", JsonDocument.Parse(list.Output).RootElement[0].GetProperty("status").GetString());
            var show = CliProcess.Run(work.Path, "show", "1", "--store", "archive/runs.db");
            Assert.AreEqual(0, show.ExitCode, show.Error);
            StringAssert.Contains(show.Output, "most-popular");
            var report = CliProcess.Run(work.Path, "report", "1", "--store", "archive/runs.db", "--out", "copy");
            Assert.AreEqual(0, report.ExitCode, report.Error);
            StringAssert.Contains(File.ReadAllText(Path.Combine(work.Path, "copy", "report.md")), "# cli — run 1");
            var run = CliProcess.Run(work.Path, "run", "e.json", "--store", "archive/runs.db", "--quiet");
            Assert.AreEqual(ExitCodes.InvalidInput, run.ExitCode, "a run cannot record into it");
            StringAssert.Contains(run.Error, "cannot be written");
        }
    }

    [TestMethod]
    public void The_recorded_commit_is_the_definitions_repository_with_its_dirty_flag()
    {
        using var work = new TempFolder();
        var project = Directory.CreateDirectory(Path.Combine(work.Path, "project")).FullName;
        var elsewhere = Directory.CreateDirectory(Path.Combine(work.Path, "elsewhere")).FullName;
        var outside = Directory.CreateDirectory(Path.Combine(work.Path, "outside")).FullName;
        File.WriteAllText(Path.Combine(project, "e.json"), Ranking("git"));
        File.WriteAllText(Path.Combine(outside, "e.json"), Ranking("git"));
        var commit = Git.Init(project, "e.json");
        Git.Init(elsewhere, null); // the working directory is another, unrelated repository
        var store = Path.Combine(work.Path, "runs.db");

        Assert.AreEqual(0, CliProcess.Run(elsewhere, "run", Path.Combine(project, "e.json"), "--store", store, "--quiet").ExitCode);
        File.AppendAllText(Path.Combine(project, "e.json"), "\n");
        Assert.AreEqual(0, CliProcess.Run(elsewhere, "run", Path.Combine(project, "e.json"), "--store", store, "--quiet").ExitCode);
        Assert.AreEqual(0, CliProcess.Run(elsewhere, "run", Path.Combine(outside, "e.json"), "--store", store, "--quiet").ExitCode);

        using (var runs = SqliteRunStore.OpenExisting(store))
        {
            var (clean, dirty, none) = (runs.GetRun(1).Run, runs.GetRun(2).Run, runs.GetRun(3).Run);
            Assert.AreEqual(commit, clean.GitCommit);
            Assert.IsFalse(clean.GitDirty);
            Assert.AreEqual(commit, dirty.GitCommit);
            Assert.IsTrue(dirty.GitDirty);
            Assert.IsNull(none.GitCommit, "a definition outside any repository records no commit, not the working directory's");
        }
        var show = CliProcess.Run(elsewhere, "show", "2", "--store", store);
        StringAssert.Contains(show.Output, $"{commit} (uncommitted changes)");
        var report = File.ReadAllText(Path.Combine(CliProcess.ReportFolder(Path.Combine(elsewhere, "reports"), 2), "report.md"));
        StringAssert.Contains(report, $"| git commit | {commit} (uncommitted changes) |");
    }

    /// <summary>Error messages suggest only options, commands and definition fields that exist.</summary>
    [TestMethod]
    public void Messages_name_only_options_commands_and_fields_that_exist()
    {
        var root = CommandLine.Build();
        var commands = new List<(string Path, System.CommandLine.Command Command)>();
        void Walk(System.CommandLine.Command command, string path)
        {
            commands.Add((path, command));
            foreach (var sub in command.Subcommands) Walk(sub, path.Length == 0 ? sub.Name : $"{path} {sub.Name}");
        }
        Walk(root, "");
        var options = commands.SelectMany(c => c.Command.Options).SelectMany(o => o.Aliases.Prepend(o.Name)).ToHashSet();
        var shape = Experiments.Core.Definitions.DefinitionShape.Build(Experiments.Runs.Platform.Vocabulary);
        var fields = new HashSet<string>();
        var paths = new HashSet<string>();
        void Fields(Experiments.Core.Definitions.Shape s, string path)
        {
            switch (s)
            {
                case Experiments.Core.Definitions.ObjectShape o:
                    foreach (var p in o.Properties) { fields.Add(p.Name); paths.Add(path + p.Name); Fields(p.Shape, path + p.Name + "."); }
                    break;
                case Experiments.Core.Definitions.TaggedObjectShape t:
                    foreach (var v in t.Variants.Values) Fields(v, path);
                    break;
                case Experiments.Core.Definitions.ArrayShape a:
                    Fields(a.Items, path);
                    break;
                case Experiments.Core.Definitions.EitherShape e:
                    Fields(e.WithKey, path);
                    Fields(e.Otherwise, path);
                    break;
                case Experiments.Core.Definitions.StringOrObjectShape so:
                    Fields(so.Object, path);
                    break;
            }
        }
        Fields(shape, "");

        var problems = new List<string>();
        var literal = new Regex("\"(?:[^\"\\\\]|\\\\.)*\"");
        var sources = Directory.GetFiles(Path.Combine(CliProcess.RepositoryRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"));
        var checkedCount = 0;
        // Files that write another program's command line (Chromium's flags, nvidia-smi's), not ours.
        string[] foreignCommandLines = ["Chromium.cs", "GpuCapacity.cs"];
        foreach (var file in sources.Where(f => !foreignCommandLines.Contains(Path.GetFileName(f))))
            foreach (var (line, number) in File.ReadLines(file).Select((l, i) => (l, i + 1)))
            {
                if (line.Contains("RunGit(") || line.TrimStart().StartsWith("//", StringComparison.Ordinal)) continue; // git's own arguments
                foreach (Match text in literal.Matches(line))
                {
                    var where = $"{Path.GetFileName(file)}:{number}";
                    foreach (Match option in Regex.Matches(text.Value, @"(?<![\w-])--[a-z][a-z0-9-]*\*?"))
                    {
                        checkedCount++;
                        // "--validation-*" names a family of options by its prefix.
                        var exists = option.Value.EndsWith('*') ? options.Any(o => o.StartsWith(option.Value.TrimEnd('*'), StringComparison.Ordinal)) : options.Contains(option.Value);
                        if (!exists) problems.Add($"{where}: option {option.Value} does not exist");
                    }
                    foreach (Match command in Regex.Matches(text.Value, @"`experiments ((?:[a-z-]+ ?)+)"))
                    {
                        checkedCount++;
                        var words = command.Groups[1].Value.Trim().Split(' ');
                        var known = Enumerable.Range(1, words.Length).Select(n => string.Join(' ', words.Take(n))).LastOrDefault(p => commands.Any(c => c.Path == p));
                        if (known is null) problems.Add($"{where}: command '{command.Groups[1].Value.Trim()}' does not exist");
                    }
                    foreach (Match field in Regex.Matches(text.Value, @"\\""([a-zA-Z]+)\\"": "))
                    {
                        checkedCount++;
                        if (!fields.Contains(field.Groups[1].Value)) problems.Add($"{where}: field \"{field.Groups[1].Value}\" does not exist");
                    }
                    foreach (Match path in Regex.Matches(text.Value, @"\b(dataset|split|evaluation|output)\.([a-z][a-zA-Z]+)\b"))
                    {
                        checkedCount++;
                        if (!paths.Contains(path.Value)) problems.Add($"{where}: field {path.Value} does not exist");
                    }
                }
            }
        Assert.IsGreaterThan(20, checkedCount, "the scan found the messages");
        Assert.IsEmpty(problems, string.Join("\n", problems));
    }
}

/// <summary>A file or folder made read-only even for root (which ignores permission bits): chmod, and chattr +i as root.</summary>
internal sealed class ReadOnly : IDisposable
{
    private readonly string[] _paths;

    private ReadOnly(string[] paths) => _paths = paths;

    public static ReadOnly Make(params string[] paths)
    {
        foreach (var path in paths.Reverse())
        {
            File.SetUnixFileMode(path, Directory.Exists(path) ? UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                : UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            if (Environment.UserName == "root") Run("chattr", "+i", path);
        }
        return new ReadOnly(paths);
    }

    public void Dispose()
    {
        foreach (var path in _paths)
        {
            if (Environment.UserName == "root") Run("chattr", "-i", path);
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | (Directory.Exists(path) ? UnixFileMode.UserExecute : 0));
        }
    }

    private static void Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) Assert.Inconclusive($"{program} {string.Join(' ', args)} failed ({error.Trim()}): cannot make a read-only store here.");
    }
}

/// <summary>A throw-away git repository.</summary>
internal static class Git
{
    /// <summary>Makes <paramref name="folder"/> a repository, commits <paramref name="file"/> (or an empty commit), returns the commit.</summary>
    public static string Init(string folder, string? file)
    {
        Run(folder, "init", "-q");
        if (file is not null) Run(folder, "add", file);
        Run(folder, "-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-q", "--allow-empty", "-m", "test");
        return Run(folder, "rev-parse", "HEAD").Trim();
    }

    private static string Run(string folder, params string[] args)
    {
        var info = new ProcessStartInfo("git") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.AreEqual(0, process.ExitCode, $"git {string.Join(' ', args)}: {error}");
        return output;
    }
}
