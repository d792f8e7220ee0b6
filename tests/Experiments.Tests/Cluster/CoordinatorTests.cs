using System.Collections.Concurrent;
using Experiments.Cluster;
using Experiments.Core;
using Experiments.Sweeps;

namespace Experiments.Tests.Cluster;

/// <summary>A clock the test moves: leases expire when it says.</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now = new(2026, 12, 2, 0, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// The coordinator's rules (<see cref="TrialLeases"/>) in this process, one call at a time as the grain takes them,
/// with failures injected on demand — what a worker and a submitter talk to, without a silo.
/// </summary>
internal sealed class LocalCoordinator(TimeProvider clock) : ICoordinatorGrain
{
    private readonly TrialLeases _leases = new(clock);
    private readonly object _gate = new();

    /// <summary>Calls of these names ("Report", "Complete") throw a transient error this many more times.</summary>
    public ConcurrentDictionary<string, int> Failures { get; } = new();
    /// <summary>Every Complete call: which worker, and whether it was taken.</summary>
    public ConcurrentQueue<(string Worker, bool Taken)> Completions { get; } = new();

    public T Locked<T>(Func<TrialLeases, T> act)
    {
        lock (_gate) return act(_leases);
    }

    private Task<T> Call<T>(string name, Func<TrialLeases, T> act)
    {
        if (Failures.TryGetValue(name, out var left) && left > 0 && Failures.TryUpdate(name, left - 1, left))
            return Task.FromException<T>(new TimeoutException($"{name} timed out (injected)"));
        return Task.FromResult(Locked(act));
    }

    public Task Submit(TrialJob job) => Call("Submit", l => { l.Submit(job); return 0; });
    public Task<TrialProgress> Progress(string sweep, int number) => Call("Progress", l => l.Progress(sweep, number));
    public Task Stop(string sweep, int number) => Call("Stop", l => { l.Stop(sweep, number); return 0; });
    public Task Forget(string sweep, int number) => Call("Forget", l => { l.Forget(sweep, number); return 0; });
    public Task<Lease> Heartbeat(WorkerReport report) => Call("Heartbeat", l => l.Heartbeat(report));
    public Task<ReportAnswer> Report(string worker, string sweep, int number, long step, double value) => Call("Report", l => l.Report(worker, sweep, number, step, value));

    public async Task<bool> Complete(string worker, string sweep, int number, TrialJobOutcome outcome)
    {
        var taken = await Call("Complete", l => l.Complete(worker, sweep, number, outcome));
        Completions.Enqueue((worker, taken));
        return taken;
    }

    public Task<ClusterStatus> Status() => Call("Status", l => l.Status());
}

/// <summary>
/// Leases, reports and completions between workers, the coordinator and the submitter: who may report on a trial and
/// complete it, retries of transient failures, and intermediate values of a trial run twice.
/// </summary>
[TestClass]
public sealed class CoordinatorTests
{
    private const string Sweep = "store/sweep";

    /// <summary>A trial that reports steps 1…steps (value 10 × step), sleeping between them, and returns loss = steps.</summary>
    private const string Stepping = "test-stepping";

    [ClassInitialize]
    public static void RegisterObjective(TestContext _) => ClusterObjectives.Register(Stepping, payload =>
    {
        using var json = System.Text.Json.JsonDocument.Parse(payload);
        var (steps, sleep) = (json.RootElement.GetProperty("steps").GetInt32(), json.RootElement.GetProperty("sleepMs").GetInt32());
        return context =>
        {
            for (var step = 1; step <= steps; step++)
            {
                Task.Delay(sleep, context.Cancellation).Wait(context.Cancellation);
                context.ReportOrStop(step, 10 * step);
            }
            return TrialOutcome.Of("loss", steps);
        };
    });

    private static TrialJob Job(int number, int steps = 3, int sleepMs = 20) =>
        new(Sweep, number, 1, ParameterSet.Empty.ToJson(), Stepping, $$"""{"steps": {{steps}}, "sleepMs": {{sleepMs}}}""", null, 5, null);

    private static WorkerReport Beat(string worker, params string[] running) => new(worker, "host", 1, 2, 2, null, [.. running]);

    private static TrialJobOutcome Done(string worker) => new("completed", new() { ["loss"] = new(1, null, null) }, null, null, null, null, worker);

    private static void Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(40);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            Thread.Sleep(10);
        }
    }

    [TestMethod]
    public void Only_the_holder_of_a_lease_reports_and_completes_a_trial_the_others_are_told_they_lost_it()
    {
        var clock = new ManualClock();
        var leases = new TrialLeases(clock);
        var job = Job(0);
        leases.Submit(job);
        Assert.AreEqual(job.Key, leases.Heartbeat(Beat("a")).Start.Single().Key);
        Assert.AreEqual(ReportAnswer.Continue, leases.Report("a", Sweep, 0, 1, 10));
        Assert.AreEqual(ReportAnswer.Lost, leases.Report("b", Sweep, 0, 1, 10), "b never held it");

        // a falls silent past the lease; b gets the trial.
        clock.Advance(Experiments.Cluster.Cluster.LeaseTimeout + TimeSpan.FromSeconds(1));
        Assert.AreEqual(job.Key, leases.Heartbeat(Beat("b")).Start.Single().Key);
        Assert.AreEqual(ReportAnswer.Lost, leases.Report("a", Sweep, 0, 2, 20), "a lost it to b: not 'stop' (which would record it pruned)");
        Assert.IsFalse(leases.Complete("a", Sweep, 0, Done("a")), "a stale worker's completion is refused");
        Assert.IsNull(leases.Progress(Sweep, 0).Outcome);
        CollectionAssert.AreEqual(new[] { job.Key }, leases.Heartbeat(Beat("a", job.Key)).Stop, "a is told to stop its run of it");

        // The pruner (the submitter) stops it: its holder is told to stop, and its outcome is taken, once.
        leases.Stop(Sweep, 0);
        Assert.AreEqual(ReportAnswer.Stop, leases.Report("b", Sweep, 0, 1, 10));
        Assert.IsTrue(leases.Complete("b", Sweep, 0, Done("b")));
        Assert.IsTrue(leases.Complete("b", Sweep, 0, Done("b")), "b repeating its completion (its answer lost) is told it was taken");
        Assert.IsFalse(leases.Complete("a", Sweep, 0, Done("a")));
        var progress = leases.Progress(Sweep, 0);
        Assert.AreEqual(("b", 2), (progress.Outcome!.Worker, progress.Attempts));
        Assert.AreEqual(1, leases.Status().Finished);

        // A trial cancelled while it waited was never leased: a worker reporting on it has lost it.
        leases.Submit(Job(1));
        leases.Stop(Sweep, 1);
        Assert.AreEqual(ReportAnswer.Lost, leases.Report("a", Sweep, 1, 1, 10));
        Assert.AreEqual("cancelled", leases.Progress(Sweep, 1).Outcome!.Status);
    }

    [TestMethod]
    public void Trials_on_an_auto_device_take_a_GPU_of_a_worker_that_has_one_and_run_anywhere_else()
    {
        var leases = new TrialLeases(new ManualClock());
        TrialJob On(int number, GpuUse gpu) => Job(number) with { Gpu = gpu };
        // Slots for three, one GPU: a CUDA trial, then two on "auto", then one without a GPU.
        foreach (var job in new[] { On(0, GpuUse.Required), On(1, GpuUse.WhenPresent), On(2, GpuUse.WhenPresent), On(3, GpuUse.None) }) leases.Submit(job);
        WorkerReport WithGpus(string worker, int slots, int gpus, params string[] running) => Beat(worker, running) with { Slots = slots, Gpus = gpus };
        var first = leases.Heartbeat(WithGpus("gpu", 3, 1));
        CollectionAssert.AreEqual(new[] { 0, 3 }, first.Start.Select(j => j.Number).ToArray(), "the GPU is taken by the CUDA trial: the auto ones wait, the CPU one starts");
        var cpu = leases.Heartbeat(WithGpus("cpu", 3, 0));
        CollectionAssert.AreEqual(new[] { 1, 2 }, cpu.Start.Select(j => j.Number).ToArray(), "a worker without a GPU runs auto trials on its CPU");

        // On a worker whose one GPU runs an auto trial, a CUDA trial waits for it.
        leases.Submit(On(4, GpuUse.WhenPresent));
        leases.Submit(On(5, GpuUse.Required));
        Assert.IsTrue(leases.Complete("gpu", Sweep, 0, Done("gpu")));
        var second = leases.Heartbeat(WithGpus("gpu", 3, 1, Job(3).Key));
        CollectionAssert.AreEqual(new[] { 4 }, second.Start.Select(j => j.Number).ToArray());
        Assert.IsEmpty(leases.Heartbeat(WithGpus("gpu", 3, 1, Job(3).Key, Job(4).Key)).Start, "the CUDA trial waits for the GPU");
    }

    [TestMethod]
    public void A_worker_still_running_a_trial_nobody_holds_takes_it_back()
    {
        var clock = new ManualClock();
        var leases = new TrialLeases(clock);
        var job = Job(0);
        leases.Submit(job);
        leases.Heartbeat(Beat("a"));
        // a was only slow: its lease lapsed, the trial waits in the queue, and a comes back running it.
        clock.Advance(Experiments.Cluster.Cluster.LeaseTimeout + TimeSpan.FromSeconds(1));
        Assert.AreEqual(1, leases.Status().Queued);
        var lease = leases.Heartbeat(Beat("a", job.Key));
        Assert.AreEqual((0, 0), (lease.Start.Count, lease.Stop.Count), "not started twice, not stopped");
        Assert.AreEqual((0, "a", 2), (leases.Status().Queued, leases.Progress(Sweep, 0).Worker, leases.Progress(Sweep, 0).Attempts));
        Assert.IsEmpty(leases.Heartbeat(Beat("b")).Start, "b gets nothing");
        Assert.IsTrue(leases.Complete("a", Sweep, 0, Done("a")));
    }

    [TestMethod]
    public async Task A_worker_that_lost_its_lease_abandons_the_trial_and_the_new_holders_outcome_is_the_one_taken()
    {
        var clock = new ManualClock();
        var coordinator = new LocalCoordinator(clock);
        var log = new ConcurrentQueue<string>();
        var worker = new TrialWorker(() => coordinator, new WorkerOptions("postgres://unused/db", 1) { Gpus = GpuCapacity.None, Log = log.Enqueue });
        var job = Job(0, steps: 40, sleepMs: 50);
        await coordinator.Submit(job);
        await worker.StartAsync(CancellationToken.None);
        try
        {
            Until(() => coordinator.Locked(l => l.Progress(Sweep, 0).Intermediate.Count) >= 2, "the first worker's reports");
            // The worker is presumed dead (its heartbeats late past the lease) and the trial leased to another, at once.
            var other = coordinator.Locked(l =>
            {
                clock.Advance(Experiments.Cluster.Cluster.LeaseTimeout + TimeSpan.FromSeconds(1));
                return l.Heartbeat(Beat("other")).Start.Select(j => j.Key).ToList();
            });
            CollectionAssert.AreEqual(new[] { job.Key }, other);
            Until(() => log.Any(l => l.Contains($"trial {job.Key} abandoned", StringComparison.Ordinal) || l.Contains("refused", StringComparison.Ordinal)), "the first worker to give it up");
            Assert.IsTrue(await coordinator.Complete("other", Sweep, 0, Done("other")));
            Until(() => coordinator.Locked(l => l.Status().Workers.FirstOrDefault(w => w.Report.Worker == worker.Name)) is { Report.Running.Count: 0 }, "the first worker's slot to free");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
        Assert.AreEqual("other", coordinator.Locked(l => l.Progress(Sweep, 0)).Outcome!.Worker, string.Join("\n", log));
        Assert.IsFalse(coordinator.Completions.Any(c => c.Worker == worker.Name && c.Taken), "the first worker's outcome (pruned, before) is not taken");
        Assert.IsFalse(log.Any(l => l.Contains("pruned", StringComparison.Ordinal)), string.Join("\n", log));
    }

    [TestMethod]
    public async Task Transient_failures_of_reports_and_completions_are_retried_and_the_trial_completes()
    {
        var coordinator = new LocalCoordinator(new ManualClock());
        coordinator.Failures["Report"] = 2;
        coordinator.Failures["Complete"] = 2;
        var log = new ConcurrentQueue<string>();
        var worker = new TrialWorker(() => coordinator, new WorkerOptions("postgres://unused/db", 1) { Gpus = GpuCapacity.None, Log = log.Enqueue });
        await coordinator.Submit(Job(0, steps: 3));
        await worker.StartAsync(CancellationToken.None);
        try
        {
            Until(() => coordinator.Locked(l => l.Progress(Sweep, 0).Outcome) is not null, "the outcome");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
        var progress = coordinator.Locked(l => l.Progress(Sweep, 0));
        Assert.AreEqual("completed", progress.Outcome!.Status, progress.Outcome.Error + "\n" + string.Join("\n", log));
        CollectionAssert.AreEqual(new long[] { 1, 2, 3 }, progress.Intermediate.Select(i => i.Step).ToList(), "every step reported once");
        Assert.AreEqual((0, 0), (coordinator.Failures["Report"], coordinator.Failures["Complete"]), "both failures were met");
    }

    [TestMethod]
    public async Task A_completion_that_keeps_failing_is_given_up_with_an_error_and_the_trial_is_leased_again()
    {
        var clock = new ManualClock();
        var coordinator = new LocalCoordinator(clock);
        coordinator.Failures["Complete"] = CoordinatorCalls.Complete.Attempts;
        var log = new ConcurrentQueue<string>();
        var worker = new TrialWorker(() => coordinator, new WorkerOptions("postgres://unused/db", 1) { Gpus = GpuCapacity.None, Log = log.Enqueue });
        await coordinator.Submit(Job(0, steps: 1, sleepMs: 1));
        await worker.StartAsync(CancellationToken.None);
        try
        {
            Until(() => log.Any(l => l.StartsWith("error: trial", StringComparison.Ordinal)), "the worker to give up");
            StringAssert.Contains(log.First(l => l.StartsWith("error: trial", StringComparison.Ordinal)), $"could not be reported after {CoordinatorCalls.Complete.Attempts} attempts (TimeoutException");
            // Past the lease, the trial the worker no longer runs goes back to the queue and is leased (to it) again; now it is taken.
            clock.Advance(Experiments.Cluster.Cluster.LeaseTimeout + TimeSpan.FromSeconds(1));
            Until(() => coordinator.Locked(l => l.Progress(Sweep, 0).Outcome) is not null, "the second attempt's outcome");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
        Assert.AreEqual(2, coordinator.Locked(l => l.Progress(Sweep, 0)).Attempts);
        Assert.AreEqual(1, coordinator.Completions.Count(c => c.Taken));
    }

    [TestMethod]
    public async Task A_trial_run_again_elsewhere_passes_each_steps_value_to_the_pruner_once()
    {
        var clock = new ManualClock();
        var coordinator = new LocalCoordinator(clock);
        var executor = new ClusterTrialExecutor(coordinator, Sweep, Stepping, "{}");
        var seen = new ConcurrentQueue<(long Step, double Value)>();
        var execution = executor.ExecuteAsync(new TrialRequest(0, ParameterSet.Empty, 1, new TrialLimits(null, TimeSpan.FromSeconds(5), null)),
            (step, value) => { seen.Enqueue((step, value)); return false; }, CancellationToken.None);
        Until(() => coordinator.Locked(l => l.Status().Queued) == 1, "the submission");
        coordinator.Locked(l => l.Heartbeat(Beat("a")));
        for (var step = 1; step <= 3; step++) Assert.AreEqual(ReportAnswer.Continue, await coordinator.Report("a", Sweep, 0, step, 10 * step));
        Until(() => seen.Count == 3, "a's values at the submitter");
        // a dies; b runs the trial from its start and reports every step again.
        coordinator.Locked(l =>
        {
            clock.Advance(Experiments.Cluster.Cluster.LeaseTimeout + TimeSpan.FromSeconds(1));
            return l.Heartbeat(Beat("b"));
        });
        for (var step = 1; step <= 5; step++) Assert.AreEqual(ReportAnswer.Continue, await coordinator.Report("b", Sweep, 0, step, 100 * step));
        Until(() => coordinator.Locked(l => l.Progress(Sweep, 0).Intermediate.Count) == 5, "b's values");
        Thread.Sleep(300); // polls of b's values
        Assert.IsTrue(await coordinator.Complete("b", Sweep, 0, Done("b")));
        var result = await execution;
        Assert.AreEqual(TrialStatus.Completed, result.Status);
        CollectionAssert.AreEqual(new[] { (1L, 10.0), (2L, 20.0), (3L, 30.0), (4L, 400.0), (5L, 500.0) }, seen.ToList(), "steps 1–3 from a, 4–5 from b, each once");
        Assert.IsFalse(coordinator.Locked(l => l.Progress(Sweep, 0).Known), "the submitter forgot the trial");
    }

    [TestMethod]
    public async Task A_trial_the_pruner_stopped_is_pruned_even_if_its_worker_finished_before_the_stop_arrived()
    {
        var coordinator = new LocalCoordinator(new ManualClock());
        var executor = new ClusterTrialExecutor(coordinator, Sweep, Stepping, "{}");
        var execution = executor.ExecuteAsync(new TrialRequest(0, ParameterSet.Empty, 1, new TrialLimits(null, TimeSpan.FromSeconds(5), null)),
            (step, _) => step >= 2, CancellationToken.None);
        Until(() => coordinator.Locked(l => l.Status().Queued) == 1, "the submission");
        coordinator.Locked(l => l.Heartbeat(Beat("a")));
        // The worker races through its steps before the submitter's verdict on step 2 comes back.
        for (var step = 1; step <= 3; step++) await coordinator.Report("a", Sweep, 0, step, step);
        Until(() => coordinator.Locked(l => l.Report("a", Sweep, 0, 4, 4)) == ReportAnswer.Stop, "the stop");
        Assert.IsTrue(await coordinator.Complete("a", Sweep, 0, Done("a")));
        Assert.AreEqual(TrialStatus.Pruned, (await execution).Status);
    }

    [TestMethod]
    public void A_new_coordinator_lets_a_worker_keep_a_trial_it_does_not_know_yet_until_its_submitter_submits_it_again()
    {
        var clock = new ManualClock();
        // The coordinator's silo died: a new one knows no trial, and worker a's heartbeat comes before the submitter's resubmission.
        var leases = new TrialLeases(clock);
        var job = Job(0);
        Assert.IsEmpty(leases.Heartbeat(Beat("a", job.Key)).Stop, "not stopped before its submitter could submit it again");
        clock.Advance(TimeSpan.FromSeconds(1));
        leases.Submit(job);
        var lease = leases.Heartbeat(Beat("a", job.Key));
        Assert.AreEqual((0, 0), (lease.Start.Count, lease.Stop.Count), "taken back: not started twice, not stopped");
        Assert.AreEqual("a", leases.Progress(Sweep, 0).Worker);
        Assert.IsEmpty(leases.Heartbeat(Beat("b")).Start);
        Assert.IsTrue(leases.Complete("a", Sweep, 0, Done("a")));

        // A trial nobody submits again within a lease's time is stopped; one whose submitter took its outcome, at once.
        Assert.IsEmpty(leases.Heartbeat(Beat("a", "other#7")).Stop);
        clock.Advance(Experiments.Cluster.Cluster.LeaseTimeout + TimeSpan.FromSeconds(1));
        CollectionAssert.AreEqual(new[] { "other#7" }, leases.Heartbeat(Beat("a", "other#7")).Stop);
        leases.Forget(Sweep, 0);
        CollectionAssert.AreEqual(new[] { job.Key }, leases.Heartbeat(Beat("b", job.Key)).Stop, "a stale run of a forgotten trial stops at once");
    }

    [TestMethod]
    public async Task A_cancellation_the_submitter_did_not_ask_for_runs_the_trial_again_instead_of_recording_it_cancelled()
    {
        var coordinator = new LocalCoordinator(new ManualClock());
        var executor = new ClusterTrialExecutor(coordinator, Sweep, Stepping, "{}");
        var execution = executor.ExecuteAsync(new TrialRequest(0, ParameterSet.Empty, 1, new TrialLimits(null, TimeSpan.FromSeconds(5), null)),
            (_, _) => false, CancellationToken.None);
        Until(() => coordinator.Locked(l => l.Status().Queued) == 1, "the submission");
        coordinator.Locked(l => l.Heartbeat(Beat("a")));
        // a's run of it was stopped by the coordinator (not by the submitter) and reports it cancelled.
        Assert.IsTrue(await coordinator.Complete("a", Sweep, 0, new TrialJobOutcome("cancelled", [], null, null, null, null, "a")));
        Until(() => coordinator.Locked(l => l.Status().Queued) == 1, "the trial submitted again");
        Assert.AreEqual(Stepping, coordinator.Locked(l => l.Heartbeat(Beat("b"))).Start.Single().Objective);
        Assert.IsTrue(await coordinator.Complete("b", Sweep, 0, Done("b")));
        var result = await execution;
        Assert.AreEqual(TrialStatus.Completed, result.Status);
        Assert.AreEqual(1, result.Metrics["loss"].Value);
    }
}
