using System.Diagnostics;
using System.Text.Json;
using Experiments.Store;

namespace Experiments.Tests.Cli;

/// <summary>The `experiments` program in its own process, as a user runs it.</summary>
[TestClass]
public sealed class CliTests
{
    private static string Definition(int users, int items, int knnModels) => $$"""
        {
          "name": "cli-test",
          "task": "ranking",
          "dataset": { "name": "demo-shop", "options": { "users": {{users}}, "items": {{items}} } },
          "split": { "method": "stratified", "testFraction": 0.2 },
          "models": [ { "type": "most-popular" }{{string.Concat(Enumerable.Range(1, knnModels).Select(k => $", {{ \"type\": \"item-knn\", \"name\": \"knn-{k}\", \"parameters\": {{ \"neighbours\": {10 * k} }} }}"))}} ],
          "metrics": ["ndcg@10", "hit-rate@10"],
          "evaluation": { "bootstrapSamples": 100 },
          "output": { "store": "runs.db", "reports": "reports", "formats": ["markdown"] }
        }
        """;

    [TestMethod]
    public void Run_then_list_show_compare_and_report()
    {
        using var work = new TempFolder();
        work.File("e.json", Definition(300, 150, 1));
        var run = CliProcess.Run(work.Path, "run", "e.json");
        Assert.AreEqual(0, run.ExitCode, run.Error);
        StringAssert.Contains(run.Output, "SYNTHETIC");
        StringAssert.Contains(run.Output, "knn-1");
        StringAssert.Contains(run.Output, "ndcg@10");
        StringAssert.Contains(run.Output, "Run 1 finished");
        Assert.IsTrue(File.Exists(Path.Combine(CliProcess.ReportFolder(Path.Combine(work.Path, "reports"), 1), "report.md")));
        Assert.AreEqual(0, CliProcess.Run(work.Path, "run", "e.json", "--quiet").ExitCode);

        var list = CliProcess.Run(work.Path, "list", "--store", "runs.db", "--json");
        Assert.AreEqual(0, list.ExitCode, list.Error);
        var runs = JsonDocument.Parse(list.Output).RootElement;
        Assert.AreEqual(2, runs.GetArrayLength());
        Assert.AreEqual("finished", runs[0].GetProperty("status").GetString());

        var show = CliProcess.Run(work.Path, "show", "1", "--store", "runs.db");
        Assert.AreEqual(0, show.ExitCode, show.Error);
        StringAssert.Contains(show.Output, "data fingerprint");
        StringAssert.Contains(show.Output, "most-popular");

        var compare = CliProcess.Run(work.Path, "compare", "1", "2", "--store", "runs.db", "--json");
        Assert.AreEqual(0, compare.ExitCode, compare.Error);
        var rows = JsonDocument.Parse(compare.Output).RootElement.GetProperty("runs");
        Assert.AreEqual(rows[0].GetProperty("rows")[1].GetProperty("cells").GetProperty("ndcg@10").GetProperty("value").GetDouble(),
            rows[1].GetProperty("rows")[1].GetProperty("cells").GetProperty("ndcg@10").GetProperty("value").GetDouble(), "same definition, same seed, same number");

        var report = CliProcess.Run(work.Path, "report", "2", "--store", "runs.db", "--format", "json", "--out", "out");
        Assert.AreEqual(0, report.ExitCode, report.Error);
        var reported = JsonDocument.Parse(File.ReadAllText(Path.Combine(work.Path, "out", "report.json"))).RootElement.GetProperty("run");
        Assert.AreEqual(2, reported.GetProperty("id").GetInt32());

        // The packages the run can use are recorded with the versions Directory.Packages.props pins, although these
        // models (most popular, item-kNN) never load ML.NET or TorchSharp.
        using var versions = JsonDocument.Parse(reported.GetProperty("packageVersions").GetString()!);
        var props = File.ReadAllText(Path.Combine(CliProcess.RepositoryRoot, "Directory.Packages.props"));
        // (MLContext's assembly is Microsoft.ML.Data, of the Microsoft.ML package.)
        foreach (var (package, assembly) in new[] { ("Microsoft.ML", "Microsoft.ML.Data"), ("TorchSharp", "TorchSharp"), ("Microsoft.Data.Sqlite", "Microsoft.Data.Sqlite") })
            Assert.AreEqual(System.Text.RegularExpressions.Regex.Match(props, $"Include=\"{package}\" Version=\"([^\"]+)\"").Groups[1].Value,
                versions.RootElement.GetProperty(assembly).GetString(), package);
    }

    [TestMethod]
    public void Invalid_definition_exits_2_with_the_located_problem_and_no_stack_trace()
    {
        using var work = new TempFolder();
        work.File("bad.json", Definition(300, 150, 1).Replace("\"ndcg@10\"", "\"ndcg@ten\""));
        var result = CliProcess.Run(work.Path, "validate", "bad.json");
        Assert.AreEqual(2, result.ExitCode);
        StringAssert.Contains(result.Error, "bad.json:7:15 $.metrics[0]: the cut-off in 'ndcg@ten' must be a whole number");
        Assert.IsFalse(result.Error.Contains("   at "), result.Error);
        var json = CliProcess.Run(work.Path, "validate", "bad.json", "--json");
        Assert.AreEqual(2, json.ExitCode);
        Assert.AreEqual("$.metrics[0]", JsonDocument.Parse(json.Output).RootElement.GetProperty("errors")[0].GetProperty("path").GetString());
        var missing = CliProcess.Run(work.Path, "run", "nope.json");
        Assert.AreEqual(2, missing.ExitCode);
        StringAssert.Contains(missing.Error, "nope.json: no such experiment definition file");
    }

    [TestMethod]
    public void Shipped_quickstart_validates()
    {
        var result = CliProcess.Run(CliProcess.RepositoryRoot, "validate", "experiments/quickstart.json");
        Assert.AreEqual(0, result.ExitCode, result.Error);
        StringAssert.Contains(result.Output, "valid");
    }

    [TestMethod]
    public void Datasets_list_and_describe()
    {
        using var work = new TempFolder();
        var list = CliProcess.Run(work.Path, "datasets", "list", "--json");
        Assert.AreEqual(0, list.ExitCode, list.Error);
        var names = JsonDocument.Parse(list.Output).RootElement.GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("name").GetString()).ToList();
        CollectionAssert.IsSubsetOf(new[] { "demo-shop", "movielens-latest-small", "movielens-100k", "movielens-1m", "criteo-samples", "avazu-samples", "pricerunner-product-classification", "wands-queries", "glove-6b-100d-top40k", "amazon-beauty-5core" }, names);
        var describe = CliProcess.Run(work.Path, "datasets", "describe", "movielens-100k");
        Assert.AreEqual(0, describe.ExitCode, describe.Error);
        StringAssert.Contains(describe.Output, "u1-base");
        var unknown = CliProcess.Run(work.Path, "datasets", "describe", "movielens-10k");
        Assert.AreEqual(2, unknown.ExitCode);
        StringAssert.Contains(unknown.Error, "did you mean 'movielens-100k'?");
    }

    /// <summary>Starts a long run and waits until the store shows its first finished trial.</summary>
    private static (Process Process, string Store) StartLongRun(TempFolder work)
    {
        work.File("long.json", Definition(4000, 2000, 40));
        var process = Process.Start(CliProcess.StartInfo(work.Path, "run", "long.json", "--quiet"))!;
        var store = Path.Combine(work.Path, "runs.db");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            Thread.Sleep(100);
            if (process.HasExited) Assert.Fail("the run ended before it could be interrupted: " + process.StandardError.ReadToEnd());
            if (!File.Exists(store)) continue;
            using var reader = SqliteRunStore.Open(store);
            var runs = reader.ListRuns();
            if (runs.Count == 1 && reader.GetRun(runs[0].Id).Trials.Any(t => t.Status == "finished"))
                return (process, store);
        }
        process.Kill(true);
        Assert.Fail("no trial finished within 2 minutes");
        return default;
    }

    [TestMethod]
    public void SIGKILL_mid_run_loses_nothing_already_recorded()
    {
        using var work = new TempFolder();
        var (process, path) = StartLongRun(work);
        List<long> finishedBefore;
        using (var before = SqliteRunStore.Open(path))
            finishedBefore = before.GetRun(1).Trials.Where(t => t.Status == "finished").Select(t => t.Id).ToList();
        process.Kill(); // SIGKILL: no handler runs
        process.WaitForExit();
        Assert.AreEqual(137, process.ExitCode);

        using var store = SqliteRunStore.Open(path);
        Assert.AreEqual(RunStatus.Running, store.GetRun(1).Run.Status, "nothing marked it yet");
        CollectionAssert.AreEqual(new[] { 1L }, store.MarkAbandonedRuns().ToArray());
        var details = store.GetRun(1);
        Assert.AreEqual(RunStatus.Killed, details.Run.Status);
        var finished = details.Trials.Where(t => t.Status == "finished").ToList();
        CollectionAssert.IsSubsetOf(finishedBefore, finished.Select(t => t.Id).ToList());
        Assert.IsTrue(finished.All(t => t.Metrics.Count == 2 && t.FitSeconds is not null));
        Assert.IsTrue(details.Trials.Count < 41, "the run was killed before its last model");

        // The next run on the store starts normally after it.
        var list = CliProcess.Run(work.Path, "list", "--store", "runs.db", "--json");
        Assert.AreEqual("killed", JsonDocument.Parse(list.Output).RootElement[0].GetProperty("status").GetString());
    }

    [TestMethod]
    public void A_killed_run_gets_its_report_from_the_next_program_that_opens_the_store()
    {
        using var work = new TempFolder();
        var (process, _) = StartLongRun(work);
        process.Kill(); // SIGKILL: the run writes no report itself
        process.WaitForExit();
        var reports = Path.Combine(work.Path, "reports");
        Assert.IsFalse(Directory.Exists(reports) && Directory.GetDirectories(reports).Length > 0, "nothing was written before");
        var list = CliProcess.Run(work.Path, "list", "--store", "runs.db");
        Assert.AreEqual(0, list.ExitCode, list.Error);
        StringAssert.Contains(list.Output, "had been killed mid-way");
        var report = File.ReadAllText(Path.Combine(CliProcess.ReportFolder(reports, 1), "report.md"));
        StringAssert.Contains(report, "**Status: killed.**");
        StringAssert.Contains(report, "| most-popular |");
    }

    [TestMethod]
    public void Ctrl_C_stops_cleanly_and_keeps_what_finished()
    {
        using var work = new TempFolder();
        var (process, path) = StartLongRun(work);
        Process.Start("kill", ["-INT", process.Id.ToString()])!.WaitForExit();
        Assert.IsTrue(process.WaitForExit(TimeSpan.FromSeconds(60)), "the run did not stop after Ctrl+C");
        Assert.AreEqual(130, process.ExitCode, process.StandardError.ReadToEnd());
        using var store = SqliteRunStore.Open(path);
        var details = store.GetRun(1);
        Assert.AreEqual(RunStatus.Cancelled, details.Run.Status);
        Assert.IsTrue(details.Trials.Count(t => t.Status == "finished") >= 1);
        Assert.IsTrue(File.Exists(Path.Combine(CliProcess.ReportFolder(Path.Combine(work.Path, "reports"), 1), "report.md")), "the report of what finished is written");
    }

    [TestMethod]
    public void Two_processes_writing_one_store_at_once()
    {
        using var work = new TempFolder();
        work.File("e.json", Definition(800, 300, 4));
        var processes = Enumerable.Range(0, 2).Select(_ => Process.Start(CliProcess.StartInfo(work.Path, "run", "e.json", "--quiet"))!).ToList();
        foreach (var p in processes)
        {
            Assert.IsTrue(p.WaitForExit(TimeSpan.FromMinutes(3)));
            Assert.AreEqual(0, p.ExitCode, p.StandardError.ReadToEnd());
        }
        using var store = SqliteRunStore.Open(Path.Combine(work.Path, "runs.db"));
        var runs = store.ListRuns();
        Assert.HasCount(2, runs);
        foreach (var run in runs)
        {
            var details = store.GetRun(run.Id);
            Assert.AreEqual(RunStatus.Finished, details.Run.Status);
            Assert.HasCount(5, details.Trials);
            Assert.IsTrue(details.Trials.All(t => t.Metrics.Count == 2));
        }
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(work.Path, "runs.db")};Pooling=False");
        connection.Open();
        using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.AreEqual("ok", check.ExecuteScalar());
    }
}
