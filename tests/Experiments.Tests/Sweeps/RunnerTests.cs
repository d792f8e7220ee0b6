using System.Collections.Concurrent;
using Experiments.Core;
using Experiments.Store;
using Experiments.Sweeps;
using Experiments.Sweeps.Benchmarks;
using Experiments.Sweeps.Pruners;
using Experiments.Sweeps.Tuners;

namespace Experiments.Tests.Sweeps;

[TestClass]
public sealed class RunnerTests
{
    private static readonly TestFunction Branin = TestFunctions.Branin();

    private static SweepSettings Settings(int trials, int parallelism = 1, SearchSpace? space = null) =>
        new() { Space = space ?? Branin.Space, Objective = new SweepObjective("loss"), Seed = 3, MaxTrials = trials, Parallelism = parallelism };

    private static TrialObjective Evaluate(Func<int, int> sleepMs) => c =>
    {
        Thread.Sleep(sleepMs(c.Number));
        return TrialOutcome.Of("loss", Branin.Evaluate(c.Parameters));
    };

    private static List<ParameterSet> Proposals(SweepResult result) => result.Trials.OrderBy(t => t.Number).Select(t => t.Parameters).ToList();

    /// <summary>A store whose write of one trial's result fails (a full disk, a lost connection).</summary>
    private sealed class FailingWrite(ISweepStorage inner, int failing) : ISweepStorage
    {
        public string Location => inner.Location;
        public long CreateSweep(SweepStart start) => inner.CreateSweep(start);
        public SweepRecord GetSweep(long sweepId) => inner.GetSweep(sweepId);
        public IReadOnlyList<SweepRecord> ListSweeps(int limit = 50) => inner.ListSweeps(limit);
        public void ResumeSweep(long sweepId, bool takeOver = false) => inner.ResumeSweep(sweepId, takeOver);
        public void TrialStarted(long sweepId, int number, int seed, ParameterSet parameters) => inner.TrialStarted(sweepId, number, seed, parameters);
        public void TrialFinished(long sweepId, TrialResult result)
        {
            if (result.Number == failing) throw new IOException("disk full");
            inner.TrialFinished(sweepId, result);
        }
        public IReadOnlyList<TrialResult> GetTrials(long sweepId) => inner.GetTrials(sweepId);
        public void FinishSweep(long sweepId, string status, string? error) => inner.FinishSweep(sweepId, status, error);
    }

    [TestMethod]
    public void A_store_failure_while_the_last_trials_end_marks_the_sweep_failed()
    {
        var memory = new InMemorySweepStorage();
        // Trial 3 of 4 is still running when the budget is reached: its write fails while the runner waits for it.
        var error = Assert.ThrowsExactly<IOException>(() => new SweepRunner(new FailingWrite(memory, failing: 3)).Run(Settings(4), new RandomTuner(Branin.Space, 0), Evaluate(_ => 50)));
        Assert.AreEqual("disk full", error.Message);
        var sweep = memory.ListSweeps().Single();
        Assert.AreEqual(("failed", "disk full"), (sweep.Status, sweep.Error));
    }

    [TestMethod]
    public void With_two_trials_at_once_the_proposals_do_not_depend_on_which_finishes_first()
    {
        foreach (var name in new[] { "tpe", "blendsearch", "smac", "cfo" })
        {
            // Run A: even trials are slow; run B: odd trials are slow. Completion orders differ, proposals may not.
            var a = new SweepRunner(new InMemorySweepStorage()).Run(Settings(16, 2), TunerCatalog.Create(name, Branin.Space, 1), Evaluate(n => n % 2 == 0 ? 30 : 1));
            var b = new SweepRunner(new InMemorySweepStorage()).Run(Settings(16, 2), TunerCatalog.Create(name, Branin.Space, 1), Evaluate(n => n % 2 == 1 ? 30 : 1));
            CollectionAssert.AreEqual(Proposals(a), Proposals(b), name);
            // And the parallel sequence is a sequence of its own (proposals see results p trials late).
            var sequential = new SweepRunner(new InMemorySweepStorage()).Run(Settings(16, 1), TunerCatalog.Create(name, Branin.Space, 1), Evaluate(_ => 0));
            CollectionAssert.AreNotEqual(Proposals(sequential), Proposals(a), name);
        }
    }

    [TestMethod]
    public void A_cost_model_costs_every_trial_however_it_ends()
    {
        var space = new SearchSpaceBuilder().Choice("x", [1L, 2L, 3L]).Build();
        // x = 2 fails after a pause; the others complete at once. Costs: 100·x for all three, never their seconds.
        var settings = Settings(3, space: space) with { Cost = p => 100 * p.Integer("x") };
        var result = new SweepRunner(new InMemorySweepStorage()).Run(settings, new GridTuner(space, 0), c =>
        {
            if (c.Parameters.Integer("x") == 2) { Thread.Sleep(30); throw new InvalidOperationException("broken"); }
            return TrialOutcome.Of("loss", 1.0, cost: 7);
        });
        var byX = result.Trials.ToDictionary(t => t.Parameters.Integer("x"));
        Assert.AreEqual(TrialStatus.Failed, byX[2].Status);
        Assert.AreEqual((100.0, 200.0, 300.0), (byX[1].Cost, byX[2].Cost, byX[3].Cost), "the model over the objective's 7 and the failed trial's seconds");
        // Without a model: the objective's cost, else the seconds.
        var plain = new SweepRunner(new InMemorySweepStorage()).Run(Settings(3, space: space), new GridTuner(space, 0), c =>
            c.Parameters.Integer("x") == 2 ? throw new InvalidOperationException("broken") : TrialOutcome.Of("loss", 1.0, cost: 7));
        Assert.IsTrue(plain.Trials.All(t => t.Cost == (t.Status == TrialStatus.Failed ? t.Seconds : 7)));
    }

    [TestMethod]
    public void Trials_run_in_parallel_up_to_the_degree()
    {
        var running = 0;
        var most = 0;
        var result = new SweepRunner(new InMemorySweepStorage()).Run(Settings(8, 3), new RandomTuner(Branin.Space, 0), c =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            Thread.Sleep(60);
            Interlocked.Decrement(ref running);
            return TrialOutcome.Of("loss", 1);
        });
        Assert.AreEqual(8, result.Trials.Count);
        Assert.AreEqual(3, most);
        Assert.AreEqual(Math.Max(1, Environment.ProcessorCount / 4), SweepSettings.DefaultParallelism(threadsPerTrial: 4));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = target) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    [TestMethod]
    public void A_stopped_sweep_resumed_proposes_exactly_what_an_uninterrupted_one_would()
    {
        foreach (var parallelism in new[] { 1, 2 })
        {
            var uninterrupted = new SweepRunner(new InMemorySweepStorage()).Run(Settings(20, parallelism), new TpeTuner(Branin.Space, 5), Evaluate(_ => 0));
            var storage = new InMemorySweepStorage();
            var runner = new SweepRunner(storage);
            var first = runner.Run(Settings(12, parallelism), new TpeTuner(Branin.Space, 5), Evaluate(_ => 0));
            Assert.AreEqual(12, first.Trials.Count);
            var calls = 0;
            var resumed = runner.Resume(first.SweepId, Settings(20, parallelism), new TpeTuner(Branin.Space, 5), c => { Interlocked.Increment(ref calls); return Evaluate(_ => 0)(c); });
            Assert.AreEqual(8, calls, "the 12 stored trials are replayed, not run again");
            CollectionAssert.AreEqual(Proposals(uninterrupted), Proposals(resumed), $"parallelism {parallelism}");
            Assert.AreEqual(uninterrupted.Best!.Value, resumed.Best!.Value);
        }
    }

    private static readonly TestFunction Conditional = TestFunctions.Conditional();

    /// <summary>Each stateful tuner, built afresh for a run: (name, space, factory).</summary>
    private static IEnumerable<(string Name, SearchSpace Space, Func<ITuner> Make)> StatefulTuners() =>
    [
        ("blendsearch", Branin.Space, () => new BlendSearchTuner(Branin.Space, 5)),
        ("cfo", Branin.Space, () => new CfoTuner(Branin.Space, 5)),
        ("smac", Branin.Space, () => new SmacTuner(Branin.Space, 5)),
        ("grid", Branin.Space, () => new GridTuner(Branin.Space, 5)),
        ("portfolio", Branin.Space, () => new PortfolioTuner(Branin.Space,
            [new Dictionary<string, object> { ["x1"] = 0.0, ["x2"] = 5.0 }, new Dictionary<string, object> { ["x1"] = 3.0, ["x2"] = 2.0 }],
            new BlendSearchTuner(Branin.Space, 5))),
        ("eci", Conditional.Space, () => new EciTuner(Conditional.Space, "branch", 5)),
    ];

    // A cost the objective reports itself (by branch), so ECI's choices do not depend on measured seconds.
    private static TrialObjective Known(TestFunction f) => c =>
        TrialOutcome.Of("loss", f.Evaluate(c.Parameters), cost: c.Parameters.ContainsKey("branch") ? 1 + (c.Parameters.Text("branch")[0] - 'a') : 1);

    [TestMethod]
    public void Every_stateful_tuner_resumed_after_a_stop_proposes_what_an_uninterrupted_sweep_would()
    {
        foreach (var (name, space, make) in StatefulTuners())
            foreach (var parallelism in new[] { 1, 2 })
            {
                var function = space == Branin.Space ? Branin : Conditional;
                var uninterrupted = new SweepRunner(new InMemorySweepStorage()).Run(Settings(20, parallelism, space), make(), Known(function));
                var runner = new SweepRunner(new InMemorySweepStorage());
                var first = runner.Run(Settings(7, parallelism, space), make(), Known(function));
                Assert.AreEqual(7, first.Trials.Count, name);
                var resumed = runner.Resume(first.SweepId, Settings(20, parallelism, space), make(), Known(function));
                CollectionAssert.AreEqual(Proposals(uninterrupted), Proposals(resumed), $"{name}, parallelism {parallelism}");
            }
    }

    [TestMethod]
    public void Resuming_with_other_settings_is_refused_with_what_differs()
    {
        var storage = new InMemorySweepStorage();
        var runner = new SweepRunner(storage);
        var first = runner.Run(Settings(3), new TpeTuner(Branin.Space, 5), Evaluate(_ => 0));
        var e = Assert.ThrowsExactly<ExperimentsException>(() => runner.Resume(first.SweepId, Settings(6, parallelism: 2), new TpeTuner(Branin.Space, 6), Evaluate(_ => 0)));
        StringAssert.Contains(e.Message, "its tuner was tpe(");
        StringAssert.Contains(e.Message, "its parallelism was 1, now 2");
    }

    [TestMethod]
    public void Failed_trials_are_recorded_with_their_error_and_the_sweep_goes_on()
    {
        var result = new SweepRunner(new InMemorySweepStorage()).Run(Settings(10), new RandomTuner(Branin.Space, 2), c =>
            c.Number % 3 == 1 ? throw new InvalidOperationException($"trial {c.Number} broke") : TrialOutcome.Of("loss", Branin.Evaluate(c.Parameters)));
        Assert.AreEqual(10, result.Trials.Count);
        var failed = result.Trials.Where(t => t.Status == TrialStatus.Failed).ToList();
        CollectionAssert.AreEqual(new[] { 1, 4, 7 }, failed.Select(t => t.Number).ToArray());
        Assert.AreEqual("InvalidOperationException", failed[0].ErrorType);
        Assert.AreEqual("trial 1 broke", failed[0].Error);
        Assert.IsNotNull(result.Best);
    }

    [TestMethod]
    public void When_every_trial_fails_the_sweep_stops_with_a_clear_message()
    {
        var storage = new InMemorySweepStorage();
        var calls = 0;
        var e = Assert.ThrowsExactly<ExperimentsException>(() => new SweepRunner(storage).Run(Settings(50) with { StopAfterFailures = 4 }, new RandomTuner(Branin.Space, 2), c =>
        {
            Interlocked.Increment(ref calls);
            throw new ArgumentException("no such column 'price'");
        }));
        StringAssert.Contains(e.Message, "all 4 trials failed");
        StringAssert.Contains(e.Message, "ArgumentException: no such column 'price'");
        Assert.AreEqual(4, calls);
        Assert.AreEqual("failed", storage.GetSweep(1).Status);
        Assert.AreEqual(4, storage.GetTrials(1).Count, "the failed trials are kept");
    }

    [TestMethod]
    public void An_objective_without_the_metric_or_with_NaN_fails_its_trial_clearly()
    {
        var result = new SweepRunner(new InMemorySweepStorage()).Run(Settings(3), new RandomTuner(Branin.Space, 2), c =>
            c.Number == 0 ? TrialOutcome.Of("rmse", 1) : TrialOutcome.Of("loss", c.Number == 1 ? double.NaN : 1));
        Assert.AreEqual("the objective returned no 'loss'; it returned rmse", result.Trials[0].Error);
        Assert.AreEqual("NaNObjective", result.Trials[1].ErrorType);
    }

    [TestMethod]
    public void The_trial_budget_and_the_wall_time_budget_end_the_sweep()
    {
        var byCount = new SweepRunner(new InMemorySweepStorage()).Run(Settings(7), new RandomTuner(Branin.Space, 0), Evaluate(_ => 0));
        Assert.AreEqual(SweepStop.TrialBudget, byCount.Stop);
        Assert.AreEqual(7, byCount.Trials.Count);

        var storage = new InMemorySweepStorage();
        var byTime = new SweepRunner(storage).Run(Settings(1000) with { WallTime = TimeSpan.FromMilliseconds(400) }, new RandomTuner(Branin.Space, 0), Evaluate(_ => 50));
        Assert.AreEqual(SweepStop.WallTime, byTime.Stop);
        Assert.IsTrue(byTime.Trials.Count is > 2 and < 12, $"{byTime.Trials.Count} trials of 50 ms in 400 ms");
        Assert.IsTrue(byTime.Elapsed < TimeSpan.FromSeconds(3));
    }

    [TestMethod]
    public void A_trial_past_its_time_limit_is_stopped_and_recorded_as_timed_out()
    {
        var result = new SweepRunner(new InMemorySweepStorage()).Run(
            Settings(3) with { TrialTimeout = TimeSpan.FromMilliseconds(150), GracePeriod = TimeSpan.FromMilliseconds(200) }, new RandomTuner(Branin.Space, 0), c =>
            {
                if (c.Number == 0) Task.Delay(5000, c.Cancellation).Wait(c.Cancellation);         // stops when told
                if (c.Number == 1) Thread.Sleep(1500);                                          // ignores the token
                return TrialOutcome.Of("loss", 1);
            });
        Assert.AreEqual(TrialStatus.TimedOut, result.Trials[0].Status);
        StringAssert.Contains(result.Trials[0].Error, "time limit of 0.15 s");
        Assert.AreEqual(TrialStatus.TimedOut, result.Trials[1].Status);
        StringAssert.Contains(result.Trials[1].Error, "did not stop within the grace period of 0.2 s");
        Assert.IsTrue(result.Trials[1].Seconds < 1.0, "an abandoned trial does not hold the sweep");
        Assert.AreEqual(TrialStatus.Completed, result.Trials[2].Status);
    }

    [TestMethod]
    public void A_trial_over_its_memory_limit_in_process_is_stopped_as_out_of_memory()
    {
        var result = new SweepRunner(new InMemorySweepStorage()).Run(Settings(2) with { TrialMemoryLimitBytes = 100L << 20 }, new RandomTuner(Branin.Space, 0), c =>
        {
            if (c.Number == 1) return TrialOutcome.Of("loss", 0);
            var blocks = new List<byte[]>();
            while (!c.Cancellation.IsCancellationRequested && blocks.Count < 2000)
            {
                var block = new byte[1 << 20];
                for (var k = 0; k < block.Length; k += 4096) block[k] = 1;
                blocks.Add(block);
                Thread.Sleep(2);
            }
            c.Cancellation.ThrowIfCancellationRequested();
            return TrialOutcome.Of("loss", blocks.Count);
        });
        Assert.AreEqual(TrialStatus.OutOfMemory, result.Trials[0].Status, result.Trials[0].Error);
        StringAssert.Contains(result.Trials[0].Error, "memory limit of 100 MiB");
        Assert.IsTrue(result.Trials[0].PeakMemoryBytes > 100L << 20);
        Assert.AreEqual(TrialStatus.Completed, result.Trials[1].Status, "the sweep goes on");
        var e = Assert.ThrowsExactly<ExperimentsException>(() => new SweepRunner(new InMemorySweepStorage()).Run(Settings(1, 2) with { TrialMemoryLimitBytes = 1L << 30 }, new RandomTuner(Branin.Space, 0), Evaluate(_ => 0)));
        StringAssert.Contains(e.Message, "needs each trial in its own process");
    }

    [TestMethod]
    public void Cancelling_stops_cleanly_and_returns_the_best_so_far()
    {
        using var cancel = new CancellationTokenSource();
        var storage = new InMemorySweepStorage();
        var result = new SweepRunner(storage).Run(Settings(1000, 2), new RandomTuner(Branin.Space, 0), c =>
        {
            if (c.Number == 6) cancel.Cancel();
            Task.Delay(20, c.Cancellation).Wait(c.Cancellation);
            return TrialOutcome.Of("loss", Branin.Evaluate(c.Parameters));
        }, cancel.Token);
        Assert.AreEqual(SweepStop.Cancelled, result.Stop);
        Assert.IsTrue(result.Trials.Count(t => t.Status == TrialStatus.Completed) >= 5);
        Assert.IsTrue(result.Trials.Any(t => t.Status == TrialStatus.Cancelled));
        Assert.AreEqual(result.Trials.Where(t => t.Status == TrialStatus.Completed).Min(t => t.Value), result.Best!.Value);
        Assert.AreEqual("cancelled", storage.GetSweep(result.SweepId).Status);
    }

    [TestMethod]
    public void Pruned_trials_keep_their_intermediate_values_and_pruning_sees_only_trials_p_behind()
    {
        var references = new ConcurrentDictionary<int, int>();
        var pruner = new RecordingPruner(new MedianPruner(startupTrials: 2), references);
        var result = new SweepRunner(new InMemorySweepStorage()).Run(Settings(12, 3) with { Pruner = pruner }, new RandomTuner(Branin.Space, 4), c =>
        {
            var value = Branin.Evaluate(c.Parameters);
            for (var step = 0; step < 5; step++) c.ReportOrStop(step, value * (5 - step));
            return TrialOutcome.Of("loss", value);
        });
        foreach (var (number, seen) in references) Assert.AreEqual(Math.Max(0, number - 3 + 1), seen, $"trial {number}");
        var pruned = result.Trials.Where(t => t.Status == TrialStatus.Pruned).ToList();
        Assert.IsTrue(pruned.Count > 0);
        Assert.IsTrue(pruned.All(t => t.Intermediate.Count is > 0 and < 5 && t.Value == t.Intermediate[^1].Value));
    }

    private sealed class RecordingPruner(IPruner inner, ConcurrentDictionary<int, int> references) : IPruner
    {
        public string Description => inner.Description;
        public bool ShouldPrune(PruningContext context)
        {
            references[context.Number] = context.Reference.Count;
            return inner.ShouldPrune(context);
        }
    }

    [TestMethod]
    [DataRow(TestStores.Sqlite)]
    [DataRow(TestStores.Postgres)]
    public void The_run_store_keeps_every_trial_and_resumes_from_it(string kind)
    {
        using var folder = new TempFolder();
        var path = TestStores.New(kind, folder, "sweeps.db");
        var space = TestFunctions.Conditional().Space;
        double F(ParameterSet p) => TestFunctions.ConditionalValue(p);
        var settings = Settings(6, space: space) with { Pruner = new MedianPruner(startupTrials: 1) };
        TrialObjective objective = c =>
        {
            c.Report(1, F(c.Parameters) + 1);
            return new TrialOutcome(new Dictionary<string, TrialMetric> { ["loss"] = new(F(c.Parameters), F(c.Parameters) - 0.1, F(c.Parameters) + 0.1), ["other"] = new(2) }) { Cost = 3 };
        };
        SweepResult first;
        using (var store = RunStores.Open(path))
            first = new SweepRunner(store).Run(settings, new TpeTuner(space, 1), objective);
        using (var store = RunStores.Open(path))
        {
            var stored = store.GetTrials(first.SweepId).Select(t => t with { Parameters = space.Conform(t.Parameters)! }).ToList();
            Assert.AreEqual(6, stored.Count);
            for (var k = 0; k < 6; k++)
            {
                var (a, b) = (first.Trials[k], stored[k]);
                Assert.AreEqual(a.Parameters, b.Parameters);
                Assert.AreEqual(a.Status, b.Status);
                Assert.AreEqual(a.Value, b.Value);
                CollectionAssert.AreEqual(a.Intermediate.ToList(), b.Intermediate.ToList());
                Assert.AreEqual(a.Metrics["loss"], b.Metrics["loss"]);
                Assert.AreEqual(3.0, b.Cost);
            }
            var record = store.GetSweep(first.SweepId);
            Assert.AreEqual(("finished", 6, SpaceJson.Write(space)), (record.Status, record.Trials, record.Space));
            var resumed = new SweepRunner(store).Resume(first.SweepId, settings with { MaxTrials = 10 }, new TpeTuner(space, 1), objective);
            var uninterrupted = new SweepRunner(new InMemorySweepStorage()).Run(settings with { MaxTrials = 10 }, new TpeTuner(space, 1), objective);
            CollectionAssert.AreEqual(Proposals(uninterrupted), Proposals(resumed));
        }
    }
}
