using System.Diagnostics;
using Experiments.Store;

namespace Experiments.Tests.Cli;

/// <summary>Whole runs in their own processes: Ctrl+C inside a trainer, and the same numbers from two processes.</summary>
[TestClass]
public sealed class ProcessTests
{
    private static string LongFit(string model) => model switch
    {
        "lightgbm" or "fasttree" => $$"""
            { "name": "long-{{model}}", "task": "classification", "dataset": { "name": "demo-shop", "table": "clicks", "options": { "users": 600, "items": 300 } },
              "models": [ { "type": "{{model}}", "parameters": { "iterations": 100000, "leaves": 31, "minLeaf": 2 } } ],
              "metrics": ["auc"], "output": { "store": "runs.db", "reports": "reports" } }
            """,
        _ => $$"""
            { "name": "long-{{model}}", "task": "ranking", "dataset": { "name": "demo-shop", "options": { "users": 1500, "items": 800 } },
              "models": [ { "type": "{{model}}", "parameters": { "iterations": 1000, "rank": 128 } } ],
              "metrics": ["ndcg@10"], "output": { "store": "runs.db", "reports": "reports" } }
            """,
    };

    [TestMethod]
    [DataRow("lightgbm")]
    [DataRow("fasttree")]
    [DataRow("implicit-als")]
    public void Ctrl_C_inside_a_long_fit_stops_within_seconds_and_the_run_is_cancelled(string model)
    {
        using var work = new TempFolder();
        work.File("long.json", LongFit(model));
        using var process = Process.Start(CliProcess.StartInfo(work.Path, "run", "long.json", "--quiet"))!;
        var error = process.StandardError.ReadToEndAsync();
        var store = Path.Combine(work.Path, "runs.db");
        var wait = Stopwatch.StartNew();
        while (!Fitting(store))
        {
            if (process.HasExited) Assert.Fail($"the run ended before its fit could be interrupted: {error.Result}");
            if (wait.Elapsed > TimeSpan.FromMinutes(3)) { process.Kill(true); Assert.Fail("the fit did not start within 3 minutes"); }
            Thread.Sleep(100);
        }
        Thread.Sleep(2000); // well inside the trainer's loop (the fit takes minutes)
        Assert.IsFalse(process.HasExited);
        var stop = Stopwatch.StartNew();
        Process.Start("kill", ["-INT", process.Id.ToString()])!.WaitForExit();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30))) { process.Kill(true); Assert.Fail($"{model} did not stop within 30 s of Ctrl+C"); }
        var seconds = stop.Elapsed.TotalSeconds;
        Console.WriteLine($"{model}: stopped {seconds:F2} s after SIGINT");
        Assert.AreEqual(130, process.ExitCode, error.Result);
        // About a second on an idle machine; the bound leaves room for a loaded one (the old code waited out the whole fit).
        Assert.IsLessThan(10.0, seconds, $"{model} took {seconds:F1} s to stop");
        using var runs = SqliteRunStore.OpenExisting(store);
        var details = runs.GetRun(1);
        Assert.AreEqual(RunStatus.Cancelled, details.Run.Status);
        Assert.AreEqual("cancelled", details.Trials.Single().Status);
        Assert.IsTrue(File.Exists(Path.Combine(CliProcess.ReportFolder(Path.Combine(work.Path, "reports"), 1), "report.md")), "the cancelled run has its report");
    }

    private static bool Fitting(string store)
    {
        if (!File.Exists(store)) return false;
        using var runs = SqliteRunStore.OpenExisting(store);
        return runs.ListRuns() is [var run] && runs.GetRun(run.Id).Trials.Any(t => t.Status == "running");
    }

    /// <summary>
    /// Same definition, same seed, two processes: every metric and interval bound is equal bit for bit, for every
    /// click model and for the ranking models (the factorisation trainers' own reproducibility is tested with them).
    /// </summary>
    [TestMethod]
    public void Two_processes_give_the_same_metrics_bit_for_bit()
    {
        using var work = new TempFolder();
        work.File("ranking.json", """
            { "name": "same-ranking", "task": "ranking", "dataset": { "name": "demo-shop", "options": { "users": 300, "items": 150 } },
              "models": [ { "type": "most-popular" }, { "type": "random" }, { "type": "item-knn" }, { "type": "ease" } ],
              "metrics": ["ndcg@10", "recall@10", "coverage@10", "novelty@10"], "evaluation": { "bootstrapSamples": 50 },
              "output": { "store": "runs.db", "reports": "reports" } }
            """);
        work.File("classification.json", """
            { "name": "same-ctr", "task": "classification", "dataset": { "name": "demo-shop", "table": "clicks", "options": { "users": 300, "items": 150 } },
              "split": { "method": "stratified", "testFraction": 0.2, "validationFraction": 0.1 },
              "models": [ { "type": "logistic-regression" }, { "type": "sdca" }, { "type": "lightgbm", "parameters": { "iterations": 40 } },
                          { "type": "fasttree", "parameters": { "iterations": 40 } }, { "type": "ffm", "parameters": { "iterations": 5 } } ],
              "metrics": ["auc", "log-loss", "f1"], "evaluation": { "bootstrapSamples": 50 },
              "output": { "store": "runs.db", "reports": "reports" } }
            """);
        foreach (var definition in new[] { "ranking.json", "classification.json" })
            for (var i = 0; i < 2; i++)
            {
                var result = CliProcess.Run(work.Path, "run", definition, "--quiet");
                Assert.AreEqual(0, result.ExitCode, result.Error);
            }
        using var store = SqliteRunStore.OpenExisting(Path.Combine(work.Path, "runs.db"));
        foreach (var (first, second) in new[] { (1L, 2L), (3L, 4L) })
        {
            var a = Metrics(store.GetRun(first));
            var b = Metrics(store.GetRun(second));
            Assert.IsGreaterThan(10, a.Count);
            CollectionAssert.AreEqual(a.Select(m => m.Key).ToList(), b.Select(m => m.Key).ToList());
            foreach (var ((key, bits), (_, other)) in a.Zip(b))
                Assert.AreEqual(bits, other, $"run {first} and run {second} differ in {key}");
        }
    }

    private static List<(string Key, (long, long, long) Bits)> Metrics(RunDetails run) =>
        run.Trials.SelectMany(t => t.Metrics.Select(m => ($"{t.ModelName} {m.Label}",
            (BitConverter.DoubleToInt64Bits(m.Value), BitConverter.DoubleToInt64Bits(m.Lower ?? double.NaN), BitConverter.DoubleToInt64Bits(m.Upper ?? double.NaN))))).ToList();
}
