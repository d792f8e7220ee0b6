using Experiments.Core;
using Experiments.Store;
using Experiments.Sweeps;
using Experiments.Sweeps.Benchmarks;
using Experiments.Sweeps.Tuners;

namespace Experiments.Tests.Store;

[TestClass]
public sealed class StoreCopyTests
{
    private static long RecordRun(RunStore store, string experiment, double ndcg)
    {
        var runId = store.StartRun(new RunStart(experiment, "about", "{}", "hash", "e.json", "demo-shop", 7, "abc", "{}", "machine"));
        store.RecordDataset(runId, "fp", "generated", synthetic: true);
        store.RecordDataIssues(runId, [new DataIssueRecord("skipped", 1, "a.csv", 2, "x"), new DataIssueRecord("duplicate", 5, null, null, null)]);
        var trialId = store.StartTrial(runId, "pop", "most-popular", "s", new Dictionary<string, string> { ["k"] = "3" });
        store.RecordMetrics(runId, trialId, [new MetricRecord("ndcg", 10, ndcg, ndcg - 0.1, ndcg + 0.1, 3, "s")]);
        store.RecordUserValues(trialId, new UserValuesRecord(["a", "b", "c"], new Dictionary<string, double[]> { ["ndcg@10"] = [ndcg, 0, 1] }));
        store.RecordComparisons(runId, [new ComparisonRecord("s", "ndcg@10", "pop", "pop", 0, 0, 0, 1, 3, "permutation", 1, 99, false)]);
        store.RecordArtifact(runId, trialId, "model", "m.zip", "sha", 12);
        store.FinishTrial(trialId, "finished", 0.25, 0.5, "protocol", null);
        store.FinishRun(runId, RunStatus.Finished, null);
        return runId;
    }

    private static RunDetails Comparable(RunDetails d) => d with
    {
        Run = d.Run with { Id = 0 },
        Trials = d.Trials.Select(t => t with { Id = 0 }).ToList(),
        Artifacts = d.Artifacts.Select(a => a with { Id = 0, TrialId = null }).ToList(),
    };

    [TestMethod]
    [DataRow(TestStores.Sqlite, TestStores.Postgres)]
    [DataRow(TestStores.Postgres, TestStores.Sqlite)]
    public void Runs_and_sweeps_are_copied_whole_and_a_second_copy_adds_nothing(string from, string to)
    {
        using var folder = new TempFolder();
        var source = TestStores.New(from, folder, "from.db");
        var target = TestStores.New(to, folder, "to.db");
        var function = TestFunctions.Branin();
        long first, second;
        SweepResult sweep;
        using (var store = RunStores.Open(source))
        {
            first = RecordRun(store, "e", 0.25);
            second = RecordRun(store, "f", 0.5);
            var settings = new SweepSettings { Space = function.Space, Objective = new SweepObjective("loss"), Seed = 3, MaxTrials = 6, Parallelism = 2, RunId = second };
            sweep = new SweepRunner(store).Run(settings, new RandomTuner(function.Space, 3), c =>
            {
                c.Report(1, function.Evaluate(c.Parameters) + 1);
                return TrialOutcome.Of("loss", function.Evaluate(c.Parameters));
            });
        }
        // The target already has a run of its own: copied runs get new ids beside it.
        using (var store = RunStores.Open(target)) RecordRun(store, "e", 0.75);

        using (var a = RunStores.OpenExisting(source))
        using (var b = RunStores.Open(target))
        {
            Assert.AreEqual(new StoreCopyReport(2, 0, 1, 0), a.CopyTo(b));
            var runs = b.ListRuns();
            Assert.HasCount(3, runs);
            foreach (var original in new[] { first, second })
            {
                var expected = a.GetRun(original);
                var copy = b.GetRun(runs.Single(r => r.Uid == expected.Run.Uid).Id);
                Assert.AreNotEqual(expected.Run.Id, copy.Run.Id, "renumbered after the target's own run");
                var (x, y) = (Comparable(expected), Comparable(copy));
                Assert.AreEqual(x.Run, y.Run);
                CollectionAssert.AreEqual(x.DataIssues.ToList(), y.DataIssues.ToList());
                CollectionAssert.AreEqual(x.Comparisons.ToList(), y.Comparisons.ToList());
                CollectionAssert.AreEqual(x.Artifacts.ToList(), y.Artifacts.ToList());
                Assert.AreEqual(copy.Trials[0].Id, copy.Artifacts[0].TrialId, "the artifact points at the copied trial");
                var (t1, t2) = (expected.Trials.Single(), copy.Trials.Single());
                Assert.AreEqual((t1.ModelName, t1.Status, t1.StartedAt, t1.EndedAt, t1.FitSeconds), (t2.ModelName, t2.Status, t2.StartedAt, t2.EndedAt, t2.FitSeconds));
                CollectionAssert.AreEqual(t1.Metrics.ToList(), t2.Metrics.ToList());
                Assert.AreEqual("3", t2.Parameters["k"]);
                CollectionAssert.AreEqual(a.GetUserValues(t1.Id)!.Values["ndcg@10"], b.GetUserValues(t2.Id)!.Values["ndcg@10"]);
            }
            var copiedSweep = b.ListSweeps().Single();
            Assert.AreEqual(runs.Single(r => r.Uid == a.GetRun(second).Run.Uid).Id, copiedSweep.RunId, "the sweep points at its copied run");
            Assert.AreEqual(a.GetSweep(sweep.SweepId) with { Id = 0, RunId = null }, copiedSweep with { Id = 0, RunId = null });
            var (stored, copied) = (a.GetTrials(sweep.SweepId), b.GetTrials(copiedSweep.Id));
            Assert.HasCount(6, copied);
            for (var k = 0; k < 6; k++)
            {
                Assert.AreEqual(stored[k].Parameters, copied[k].Parameters);
                Assert.AreEqual((stored[k].Value, stored[k].Status, stored[k].StartedAt), (copied[k].Value, copied[k].Status, copied[k].StartedAt));
                CollectionAssert.AreEqual(stored[k].Intermediate.ToList(), copied[k].Intermediate.ToList());
            }

            Assert.AreEqual(new StoreCopyReport(0, 2, 0, 1), a.CopyTo(b), "everything is there already");
            Assert.HasCount(3, b.ListRuns());
            Assert.HasCount(2, b.ListRuns(experiment: "e"), "runs of one experiment share it in the target");
        }
    }

    [TestMethod]
    [DataRow(TestStores.Sqlite, TestStores.Postgres)]
    [DataRow(TestStores.Postgres, TestStores.Sqlite)]
    public void A_regression_check_against_a_run_copied_earlier_is_copied_with_its_later_run(string from, string to)
    {
        using var folder = new TempFolder();
        var source = TestStores.New(from, folder, "from.db");
        var target = TestStores.New(to, folder, "to.db");
        using var a = RunStores.Open(source);
        using var b = RunStores.Open(target);
        var reference = RecordRun(a, "nightly", 0.5);
        a.CopyTo(b);
        // The next night's run, checked against the one copied yesterday, then copied on its own.
        var later = RecordRun(a, "nightly", 0.25);
        var check = new RegressionCheckRecord("not-worse", "ndcg@10", reference, true, "ndcg@10 is worse than run " + reference,
            [new RegressionTestRecord("pop", "s", -0.25, -0.4, -0.1, 0.01, 0.01, "permutation", 99, 3, true)]);
        a.RecordRegression(later, check);
        Assert.AreEqual(new StoreCopyReport(1, 1, 0, 0), a.CopyTo(b));

        var runs = b.ListRuns();
        var copiedReference = runs.Single(r => r.Uid == a.GetRun(reference).Run.Uid).Id;
        var copy = b.GetRun(runs.Single(r => r.Uid == a.GetRun(later).Run.Uid).Id);
        Assert.IsNotNull(copy.Regression, "the later run's regression check is copied");
        Assert.AreEqual(copiedReference, copy.Regression.AgainstRunId, "it points at the reference run's copy");
        Assert.AreEqual((check.Rule, check.Metric, check.Regressed, check.Summary), (copy.Regression.Rule, copy.Regression.Metric, copy.Regression.Regressed, copy.Regression.Summary));
        CollectionAssert.AreEqual(check.Tests.ToList(), copy.Regression.Tests.ToList());
        Assert.IsTrue(copy.Run.Regressed, "the copied run is marked regressed");
    }
}

[TestClass]
public sealed class ConcurrentWriterTests
{
    [TestMethod]
    [DataRow(TestStores.Sqlite)]
    [DataRow(TestStores.Postgres)]
    public void Several_processes_write_one_store_at_once_and_lose_nothing(string kind)
    {
        using var folder = new TempFolder();
        var store = TestStores.New(kind, folder);
        using (RunStores.Open(store)) { } // created once, so that the writers race on writes, not on the first migration
        const int writers = 4, runs = 25;
        var host = Path.Combine(AppContext.BaseDirectory, "Experiments.Sweeps.TestHost.dll");
        var processes = Enumerable.Range(0, writers).Select(_ =>
        {
            var info = new System.Diagnostics.ProcessStartInfo("dotnet", [host, "write", store, runs.ToString()]) { RedirectStandardError = true, UseShellExecute = false };
            return System.Diagnostics.Process.Start(info)!;
        }).ToList();
        foreach (var p in processes)
        {
            var error = p.StandardError.ReadToEndAsync();
            Assert.IsTrue(p.WaitForExit(TimeSpan.FromMinutes(2)), "a writer did not finish");
            Assert.AreEqual(0, p.ExitCode, error.Result);
        }
        using var opened = RunStores.OpenExisting(store);
        var all = opened.ListRuns(limit: 1000);
        Assert.HasCount(writers * runs, all);
        Assert.AreEqual(writers, all.Select(r => r.Experiment).Distinct().Count());
        foreach (var group in all.GroupBy(r => r.Experiment))
        {
            // Each writer's runs, in its own order, each with its trial and metric.
            CollectionAssert.AreEquivalent(Enumerable.Range(0, runs).ToList(), group.Select(r => r.Seed).ToList());
            Assert.IsTrue(group.All(r => r.Status == RunStatus.Finished && r.Trials == 1));
        }
        Assert.AreEqual(writers * runs, all.Select(r => r.Uid).Distinct().Count());
        var sample = opened.GetRun(all[^1].Id);
        Assert.AreEqual(sample.Run.Seed, sample.Trials.Single().Metrics.Single().Value);
    }
}

[TestClass]
public sealed class StoreCopyCliTests
{
    [TestMethod]
    public void Store_copy_moves_runs_into_PostgreSQL_and_list_reads_them_there()
    {
        using var folder = new TempFolder();
        var sqlite = Path.Combine(folder.Path, "runs.db");
        var postgres = TestStores.New(TestStores.Postgres, folder);
        using (var store = RunStores.Open(sqlite))
        {
            var run = store.StartRun(new RunStart("copied", null, "{}", "hash", null, "demo-shop", 3, null, "{}", "machine"));
            store.FinishRun(run, RunStatus.Finished, null);
        }
        var (code, output, error) = CliProcess.Run(folder.Path, "store", "copy", sqlite, postgres);
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "Copied 1 runs and 0 sweeps");
        var list = CliProcess.Run(folder.Path, "list", "--store", postgres, "--json");
        Assert.AreEqual(0, list.ExitCode, list.Error);
        StringAssert.Contains(list.Output, "\"experiment\": \"copied\"");
        var again = CliProcess.Run(folder.Path, "store", "copy", sqlite, postgres);
        StringAssert.Contains(again.Output, "Copied 0 runs and 0 sweeps");
        StringAssert.Contains(again.Output, "1 runs and 0 sweeps were there already");
        var self = CliProcess.Run(folder.Path, "store", "copy", sqlite, sqlite);
        Assert.AreEqual(2, self.ExitCode);
        StringAssert.Contains(self.Error, "into itself");
        var missing = CliProcess.Run(folder.Path, "store", "copy", Path.Combine(folder.Path, "none.db"), postgres);
        Assert.AreEqual(2, missing.ExitCode);
        StringAssert.Contains(missing.Error, "No run store at");
    }
}
