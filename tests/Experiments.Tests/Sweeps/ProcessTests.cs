using System.Diagnostics;
using Experiments.Store;
using Experiments.Sweeps;
using Experiments.Sweeps.Benchmarks;
using Experiments.Sweeps.Pruners;
using Experiments.Sweeps.Tuners;

namespace Experiments.Tests.Sweeps;

/// <summary>Sweeps and trials in real processes: the process executor's limits, and a sweep killed with SIGKILL.</summary>
[TestClass]
public sealed class ProcessTests
{
    private static string Host => Path.Combine(AppContext.BaseDirectory, "Experiments.Sweeps.TestHost.dll");

    private static ProcessTrialExecutor Trial(string mode) => new("dotnet", [Host, "trial", mode]);

    private static SweepSettings Settings(SearchSpace space, int trials) => new() { Space = space, Objective = new SweepObjective("loss"), MaxTrials = trials, Parallelism = 1 };

    [TestMethod]
    public void A_child_trial_reports_is_pruned_and_returns_through_the_protocol()
    {
        var space = new SearchSpaceBuilder().Choice("x", 1.0, 2.0, 3.0).Build();
        var grid = new GridTuner(space, 0);
        var result = new SweepRunner(new InMemorySweepStorage()).RunAsync(Settings(space, 3) with { Pruner = new MedianPruner(startupTrials: 1) }, grid, Trial("report"))
            .GetAwaiter().GetResult();
        var byX = result.Trials.ToDictionary(t => t.Parameters.Number("x"));
        var first = result.Trials[0];
        Assert.AreEqual(TrialStatus.Completed, first.Status);
        CollectionAssert.AreEqual(Enumerable.Range(1, 5).Select(s => new IntermediateValue(s, first.Parameters.Number("x") * s)).ToList(), first.Intermediate.ToList());
        // A later trial with a larger x is worse than the first at step 1 and is pruned there, by the parent's pruner.
        foreach (var t in result.Trials.Skip(1).Where(t => t.Parameters.Number("x") > first.Parameters.Number("x")))
        {
            Assert.AreEqual(TrialStatus.Pruned, t.Status);
            Assert.AreEqual(1, t.Intermediate.Count);
        }
        Assert.IsTrue(first.PeakMemoryBytes > 1 << 20, "the child's peak resident set is recorded");
        Assert.AreEqual(3, byX.Count);
    }

    [TestMethod]
    public void NaN_and_infinite_values_cross_from_the_child_unchanged()
    {
        var space = new SearchSpaceBuilder().Fixed("k", 1).Build();
        var trial = new SweepRunner(new InMemorySweepStorage()).RunAsync(Settings(space, 1), new RandomTuner(space, 0), Trial("nonfinite")).GetAwaiter().GetResult().Trials.Single();
        Assert.AreEqual(TrialStatus.Completed, trial.Status, trial.Error);
        Assert.AreEqual(double.PositiveInfinity, trial.Value);
        CollectionAssert.AreEqual(new[] { new IntermediateValue(1, double.NaN), new IntermediateValue(2, double.NegativeInfinity) }, trial.Intermediate.ToList());
        Assert.AreEqual(new TrialMetric(double.NaN, double.NegativeInfinity, double.PositiveInfinity), trial.Metrics["other"]);
    }

    [TestMethod]
    public void A_child_writing_a_malformed_protocol_line_fails_its_trial_is_killed_and_the_sweep_goes_on()
    {
        var lines = new Dictionary<string, string>
        {
            ["{not json"] = "not JSON",
            ["[1, 2]"] = "not a JSON object",
            ["{\"report\":{\"value\":1}}"] = "a report needs a whole-number \"step\"",
            ["{\"result\":{\"metrics\":{\"loss\":{\"value\":true}}}}"] = "a field of the wrong type",
            ["{\"hello\":1}"] = "none of \"report\", \"result\" or \"error\"",
        };
        const string good = "{\"result\":{\"metrics\":{\"loss\":{\"value\":2.5}}}}";
        // Two sweeps with a good line each, so that five failures in a row cannot stop one early.
        foreach (var chunk in lines.Keys.Chunk(3))
        {
            var space = new SearchSpaceBuilder().Choice("line", [good, .. chunk]).Build();
            var result = new SweepRunner(new InMemorySweepStorage()).RunAsync(Settings(space, chunk.Length + 1), new GridTuner(space, 0), Trial("malformed")).GetAwaiter().GetResult();
            Assert.AreEqual(chunk.Length + 1, result.Trials.Count, "every trial ran");
            foreach (var t in result.Trials)
            {
                var line = t.Parameters.Text("line");
                if (line == good)
                {
                    Assert.AreEqual((TrialStatus.Completed, 2.5), (t.Status, t.Value), t.Error);
                    continue;
                }
                Assert.AreEqual(TrialStatus.Failed, t.Status, line);
                StringAssert.StartsWith(t.Error, $"The trial process wrote a malformed @@sweep line ({lines[line]}", line);
                StringAssert.EndsWith(t.Error, "@@sweep " + line);
                Assert.IsTrue(t.Seconds < 60, $"the child was killed, not waited out over its 120 s sleep ({t.Seconds:F1} s)");
            }
        }
    }

    [TestMethod]
    public void A_child_over_its_memory_limit_is_killed_and_recorded_out_of_memory()
    {
        var space = new SearchSpaceBuilder().Choice("megabytes", 400, 10).Build();
        var result = new SweepRunner(new InMemorySweepStorage()).RunAsync(Settings(space, 2) with { TrialMemoryLimitBytes = 200L << 20, Parallelism = 2 },
            new GridTuner(space, 0), Trial("allocate")).GetAwaiter().GetResult();
        var trial = result.Trials.Single(t => t.Parameters.Integer("megabytes") == 400);
        Assert.AreEqual(TrialStatus.Completed, result.Trials.Single(t => t.Parameters.Integer("megabytes") == 10).Status, "the small one runs beside it");
        Assert.AreEqual(TrialStatus.OutOfMemory, trial.Status, trial.Error);
        Assert.IsTrue(trial.PeakMemoryBytes > 200L << 20, $"peak {trial.PeakMemoryBytes}");
        Assert.IsTrue(trial.Seconds < 5, "killed before its 5 s hold");
    }

    [TestMethod]
    public void A_child_past_its_time_limit_gets_sigterm_and_is_recorded_timed_out()
    {
        var space = new SearchSpaceBuilder().Choice("seconds", 30, 0).Build();
        var clock = Stopwatch.StartNew();
        var result = new SweepRunner(new InMemorySweepStorage()).RunAsync(Settings(space, 2) with { TrialTimeout = TimeSpan.FromSeconds(2), GracePeriod = TimeSpan.FromSeconds(8), Parallelism = 2 },
            new GridTuner(space, 0), Trial("sleep")).GetAwaiter().GetResult();
        var slow = result.Trials.Single(t => t.Parameters.Integer("seconds") == 30);
        Assert.AreEqual(TrialStatus.TimedOut, slow.Status, slow.Error);
        Assert.IsTrue(slow.Seconds < 8, $"SIGTERM cancelled the child's token, so it stopped before the grace period ran out ({slow.Seconds:F1} s)");
        Assert.AreEqual(TrialStatus.Completed, result.Trials.Single(t => t.Parameters.Integer("seconds") == 0).Status);
    }

    [TestMethod]
    public void A_child_that_throws_or_crashes_is_a_failed_trial_with_its_error()
    {
        var space = new SearchSpaceBuilder().Fixed("k", 1).Build();
        var settings = Settings(space, 1) with { StopAfterFailures = 100 };
        var thrown = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() =>
            new SweepRunner(new InMemorySweepStorage()).RunAsync(settings, new RandomTuner(space, 0), Trial("fail")).GetAwaiter().GetResult());
        StringAssert.Contains(thrown.Message, "InvalidOperationException: broken on purpose");
        var storage = new InMemorySweepStorage();
        Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => new SweepRunner(storage).RunAsync(settings, new RandomTuner(space, 0), Trial("crash")).GetAwaiter().GetResult());
        var crashed = storage.GetTrials(1).Single();
        Assert.AreEqual("ProcessExit", crashed.ErrorType);
        StringAssert.Contains(crashed.Error, "exited with code 3");
    }

    [TestMethod]
    public void A_sweep_killed_with_sigkill_loses_no_finished_trial_and_resumes_the_same_sequence()
    {
        using var folder = new TempFolder();
        var store = Path.Combine(folder.Path, "sweeps.db");
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { Host, "sweep", store, "7", "40" }) info.ArgumentList.Add(a);
        using (var process = Process.Start(info)!)
        {
            // Let it finish some trials (150 ms each, two at a time), then kill it without warning.
            var deadline = Stopwatch.StartNew();
            while (SweepStoreProbe.FinishedTrials(store) < 8 && deadline.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(50);
            process.Kill(); // SIGKILL
            process.WaitForExit();
        }
        List<TrialResult> before;
        using (var opened = SqliteRunStore.Open(store))
            before = opened.GetTrials(1).Where(t => t.Status.IsFinal()).ToList();
        Assert.IsTrue(before.Count >= 8, $"{before.Count} finished before the kill");
        Assert.IsTrue(before.Count < 40, "killed before the end");

        // Resume in another process, as a user would after a crash.
        var resume = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { Host, "sweep", store, "7", "40", "1" }) resume.ArgumentList.Add(a);
        using (var process = Process.Start(resume)!)
        {
            var error = process.StandardError.ReadToEndAsync();
            Assert.IsTrue(process.WaitForExit(TimeSpan.FromSeconds(120)), "the resumed sweep did not finish");
            Assert.AreEqual(0, process.ExitCode, error.Result);
        }
        var function = TestFunctions.Branin();
        using var reopened = SqliteRunStore.Open(store);
        var after = reopened.GetTrials(1);
        Assert.AreEqual(40, after.Count);
        Assert.IsTrue(after.All(t => t.Status == TrialStatus.Completed));
        foreach (var b in before)
        {
            var a = after.Single(t => t.Number == b.Number);
            Assert.AreEqual((b.Value, b.EndedAt), (a.Value, a.EndedAt), $"trial {b.Number} was kept as it was, not run again");
        }
        // The same sweep uninterrupted, in memory: the same proposals, trial by trial.
        var uninterrupted = new SweepRunner(new InMemorySweepStorage()).Run(
            new SweepSettings { Space = function.Space, Objective = new SweepObjective("loss"), Seed = 7, MaxTrials = 40, Parallelism = 2 },
            new TpeTuner(function.Space, 7), c => TrialOutcome.Of("loss", function.Evaluate(c.Parameters)));
        CollectionAssert.AreEqual(uninterrupted.Trials.Select(t => t.Parameters).ToList(), after.Select(t => function.Space.Conform(t.Parameters)).ToList());
    }
}
