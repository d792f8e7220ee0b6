using System.Diagnostics;
using Experiments.Store;
using Experiments.Sweeps;

namespace Experiments.Tests.Cli;

/// <summary>Whole runs in their own processes: Ctrl+C inside a trainer or a sweep, and the same numbers from two processes.</summary>
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

    /// <summary>
    /// Ctrl+C during `experiments sweep`: exit 130, the finished trials kept, the sweep and its run cancelled, the way to
    /// resume printed; then `--resume ID` re-runs the stopped trial with the parameters it had, continues the numbering,
    /// refits and exits 0.
    /// </summary>
    [TestMethod]
    public void Ctrl_C_stops_a_sweep_that_resume_then_finishes()
    {
        using var work = new TempFolder();
        // Trials of a second or so each (MF of rank 32–64, 150 ALS iterations, one thread), far more than can finish before the signal.
        work.File("sweep.json", """
            { "name": "stop-sweep", "task": "rating", "dataset": { "name": "demo-shop", "table": "ratings", "options": { "users": 400, "items": 300 } },
              "split": { "method": "random", "testFraction": 0.2, "validationFraction": 0.2 },
              "models": [ { "type": "matrix-factorization", "name": "mf", "parameters": { "solver": "als", "iterations": 150, "earlyStoppingRounds": 0, "threads": 1 } } ],
              "metrics": ["rmse"], "evaluation": { "bootstrapSamples": 20 },
              "sweep": { "tuner": "random", "trials": 200, "parallelism": 1, "seed": 5, "defaultSpaces": false,
                         "space": { "mf": { "rank": { "int": [32, 64] }, "lambda": { "float": [0.01, 1], "log": true } } } },
              "seed": 42, "output": { "store": "runs.db", "reports": "reports" } }
            """);
        var store = Path.Combine(work.Path, "runs.db");
        string output, error;
        using (var process = Process.Start(CliProcess.StartInfo(work.Path, "sweep", "sweep.json"))!)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            var wait = Stopwatch.StartNew();
            while (Experiments.Tests.Sweeps.SweepStoreProbe.FinishedTrials(store) < 2)
            {
                if (process.HasExited) Assert.Fail($"the sweep ended before it could be stopped: {stderr.Result}");
                if (wait.Elapsed > TimeSpan.FromMinutes(2)) { process.Kill(true); Assert.Fail("two trials did not finish within 2 minutes"); }
                Thread.Sleep(50);
            }
            Thread.Sleep(300); // inside the next trial's fit
            Assert.IsFalse(process.HasExited);
            Process.Start("kill", ["-INT", process.Id.ToString()])!.WaitForExit();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30))) { process.Kill(true); Assert.Fail("the sweep did not stop within 30 s of Ctrl+C"); }
            (output, error) = (stdout.Result, stderr.Result);
            Assert.AreEqual(130, process.ExitCode, error);
        }
        StringAssert.Contains(output + error, "experiments sweep sweep.json --resume 1");
        List<TrialResult> before;
        TrialResult? stopped;
        using (var runs = SqliteRunStore.OpenExisting(store))
        {
            var sweep = ((ISweepStorage)runs).GetSweep(1);
            Assert.AreEqual("cancelled", sweep.Status);
            var run = runs.GetRun(sweep.RunId!.Value);
            Assert.AreEqual(RunStatus.Cancelled, run.Run.Status);
            Assert.AreEqual(0, run.Trials.Count, "no refit: the test part stays untouched");
            var trials = ((ISweepStorage)runs).GetTrials(1);
            before = trials.Where(t => t.Status == TrialStatus.Completed).ToList();
            // One trial at a time: trials 0 … k−1 completed, trial k (running at the signal) cancelled, nothing after it
            // (none cancelled only if the signal fell in the moment between two trials).
            Assert.IsGreaterThanOrEqualTo(2, before.Count);
            CollectionAssert.AreEqual(Enumerable.Range(0, before.Count).ToList(), before.Select(t => t.Number).ToList());
            stopped = trials.SingleOrDefault(t => t.Status == TrialStatus.Cancelled);
            Assert.AreEqual(before.Count + (stopped is null ? 0 : 1), trials.Count, string.Join(", ", trials.Select(t => t.Status)));
            if (stopped is not null) Assert.AreEqual(before.Count, stopped.Number);
        }
        // The stop message counts the finished trials, not the one cancelled in flight.
        StringAssert.Contains(error, $"stopped after {before.Count} finished trial(s)" + (stopped is null ? ";" : " (1 in progress cancelled, run again on resume);"));

        // Two more trials than finished: the stopped one again, then one new.
        var budget = before.Count + 2;
        var resumed = CliProcess.Run(work.Path, "sweep", "sweep.json", "--resume", "1", "--trials", budget.ToString());
        Assert.AreEqual(0, resumed.ExitCode, resumed.Error);
        using (var runs = SqliteRunStore.OpenExisting(store))
        {
            var sweep = ((ISweepStorage)runs).GetSweep(1);
            Assert.AreEqual("finished", sweep.Status);
            Assert.AreEqual(1, runs.ListRuns().Count, "the resumed sweep goes on in the run that started it");
            var run = runs.GetRun(sweep.RunId!.Value);
            Assert.AreEqual(RunStatus.Finished, run.Run.Status);
            Assert.AreEqual("finished", run.Trials.Single().Status, "the refit");
            var after = ((ISweepStorage)runs).GetTrials(1);
            CollectionAssert.AreEqual(Enumerable.Range(0, budget).ToList(), after.Select(t => t.Number).ToList());
            Assert.IsTrue(after.All(t => t.Status == TrialStatus.Completed), string.Join(", ", after.Select(t => t.Status)));
            foreach (var b in before)
            {
                var a = after.Single(t => t.Number == b.Number);
                Assert.AreEqual((b.Value, b.EndedAt), (a.Value, a.EndedAt), $"trial {b.Number} was kept as it was, not run again");
            }
            if (stopped is not null) Assert.AreEqual(stopped.Parameters, after[stopped.Number].Parameters, "the stopped trial is run again with its own parameters");
            Assert.AreNotEqual(after[budget - 2].Parameters, after[budget - 1].Parameters);
        }
        StringAssert.Contains(resumed.Output, "Refit of the best configuration");
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
