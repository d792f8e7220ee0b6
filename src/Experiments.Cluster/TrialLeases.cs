using Experiments.Core;
namespace Experiments.Cluster;

/// <summary>
/// The coordinator's state and rules (kept apart from the grain so that they are tested without a silo): the queue of
/// submitted trials, their leases to workers, and their outcomes. A lease is held by one worker at a time; only its
/// holder may report on a trial and complete it, and a trial takes one outcome. A trial nobody holds (its worker fell
/// silent, or a new coordinator had it submitted again) is taken back by a worker that reports running it. A trial a
/// worker runs that this coordinator does not know is left running for a lease's time — a new coordinator knows no
/// trial until its submitter submits it again — and stopped after that, or at once if its submitter forgot it. Not
/// thread-safe: the grain calls it one message at a time.
/// </summary>
internal sealed class TrialLeases(TimeProvider clock)
{
    private sealed class Entry(TrialJob job)
    {
        public TrialJob Job { get; } = job;
        public string? Worker;
        public int Attempts;
        public DateTime Since;
        public bool StopRequested;
        public readonly List<IntermediateReport> Intermediate = [];
        public TrialJobOutcome? Outcome;
    }

    private static readonly TrialJobOutcome Cancelled = new("cancelled", [], null, null, null, null, "");

    private readonly Dictionary<string, Entry> _trials = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _queue = new();
    private readonly Dictionary<string, (WorkerReport Report, DateTime LastSeen)> _workers = new(StringComparer.Ordinal);
    // Trials whose submitters took their outcome (a worker still running one stops at once), and unknown trials that
    // workers run, with when each was forgotten or first seen; both are let go after a while (Expire).
    private readonly Dictionary<string, DateTime> _forgotten = new(StringComparer.Ordinal), _strangers = new(StringComparer.Ordinal);
    private int _finished, _reassigned;

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    private static string Key(string sweep, int number) => $"{sweep}#{number}";

    public void Submit(TrialJob job)
    {
        Expire();
        if (!_trials.ContainsKey(job.Key))
        {
            _forgotten.Remove(job.Key);
            _strangers.Remove(job.Key);
            _trials[job.Key] = new Entry(job);
            _queue.AddLast(job.Key);
        }
    }

    public TrialProgress Progress(string sweep, int number)
    {
        Expire();
        return _trials.TryGetValue(Key(sweep, number), out var e)
            ? new TrialProgress(true, e.Worker, e.Attempts, e.Intermediate.ToList(), e.Outcome)
            : new TrialProgress(false, null, 0, [], null);
    }

    public void Stop(string sweep, int number)
    {
        if (_trials.TryGetValue(Key(sweep, number), out var e) && e.Outcome is null)
        {
            e.StopRequested = true;
            // One still waiting never starts.
            if (e.Worker is null && _queue.Remove(e.Job.Key)) e.Outcome = Cancelled;
        }
    }

    public void Forget(string sweep, int number)
    {
        var key = Key(sweep, number);
        _queue.Remove(key);
        if (_trials.Remove(key)) _forgotten[key] = Now;
    }

    public Lease Heartbeat(WorkerReport report)
    {
        var now = Now;
        _workers[report.Worker] = (report, now);
        Expire();
        var running = report.Running.ToHashSet(StringComparer.Ordinal);
        // Trials this worker runs that nobody holds go back to it rather than starting over elsewhere.
        foreach (var key in running)
            if (_trials.TryGetValue(key, out var e)) Holds(e, report.Worker);
        // Trials the coordinator gave this worker that it no longer runs (lost in a restart of the worker, or
        // abandoned when it could not report them) go back.
        foreach (var e in _trials.Values.Where(e => e.Worker == report.Worker && e.Outcome is null && !running.Contains(e.Job.Key) && now - e.Since > Cluster.LeaseTimeout).ToList())
            Requeue(e);
        var start = new List<TrialJob>();
        var free = report.Slots - report.Running.Count;
        var memory = report.AvailableMemoryBytes;
        // A trial that uses a GPU takes one of its worker's: one that needs a GPU goes only to a worker with one free;
        // one that uses a GPU when there is one (an encoder on device "auto") waits for a free one on a worker that
        // has GPUs, and runs on the CPU of a worker without.
        bool TakesGpu(TrialJob job) => job.Gpu == GpuUse.Required || (job.Gpu == GpuUse.WhenPresent && report.Gpus > 0);
        var freeGpus = report.Gpus - _trials.Values.Count(e => e.Worker == report.Worker && e.Outcome is null && TakesGpu(e.Job));
        for (var node = _queue.First; node is not null && free > 0;)
        {
            var next = node.Next;
            var e = _trials[node.Value];
            // A trial with a memory limit goes only where that much memory is free.
            if ((e.Job.MemoryBytes is not { } need || memory is not { } have || need <= have) && (!TakesGpu(e.Job) || freeGpus > 0))
            {
                if (TakesGpu(e.Job)) freeGpus--;
                _queue.Remove(node);
                Lease(e, report.Worker, now);
                start.Add(e.Job);
                free--;
                if (memory is not null && e.Job.MemoryBytes is { } used) memory -= used;
            }
            node = next;
        }
        // Stopped, finished, held by another worker, forgotten, or unknown past a lease: this worker's run of it is over.
        var stop = report.Running.Where(k => _trials.TryGetValue(k, out var e)
            ? e.StopRequested || e.Outcome is not null || e.Worker != report.Worker
            : _forgotten.ContainsKey(k) || now - FirstSeen(k, now) > Cluster.LeaseTimeout).ToList();
        return new Lease(start, stop);
    }

    private DateTime FirstSeen(string stranger, DateTime now)
    {
        _strangers.TryAdd(stranger, now);
        return _strangers[stranger];
    }

    public ReportAnswer Report(string worker, string sweep, int number, long step, double value)
    {
        if (!_trials.TryGetValue(Key(sweep, number), out var e) || e.Outcome is not null || !Holds(e, worker)) return ReportAnswer.Lost;
        e.Intermediate.Add(new IntermediateReport(step, value));
        return e.StopRequested ? ReportAnswer.Stop : ReportAnswer.Continue;
    }

    public bool Complete(string worker, string sweep, int number, TrialJobOutcome outcome)
    {
        if (!_trials.TryGetValue(Key(sweep, number), out var e)) return false;
        // A worker that repeats a completion the coordinator took (its answer was lost) is told it was taken.
        if (e.Outcome is not null) return e.Outcome.Worker == worker;
        if (!Holds(e, worker)) return false;
        e.Outcome = outcome;
        _finished++;
        return true;
    }

    public ClusterStatus Status()
    {
        Expire();
        var running = _trials.Values.Where(e => e.Worker is not null && e.Outcome is null)
            .Select(e => new RunningTrial(e.Job.Sweep, e.Job.Number, e.Worker!, e.Attempts, e.Since)).OrderBy(r => r.Since).ToList();
        var workers = _workers.Values.Select(w => new WorkerStatus(w.Report, w.LastSeen, running.Where(r => r.Worker == w.Report.Worker).Select(r => $"{r.Sweep}#{r.Number}").ToList()))
            .OrderBy(w => w.Report.Worker, StringComparer.Ordinal).ToList();
        return new ClusterStatus(workers, _queue.Count, running, _finished, _reassigned);
    }

    /// <summary>Whether <paramref name="worker"/> holds the trial's lease; one nobody holds and still waiting is leased to it.</summary>
    private bool Holds(Entry e, string worker)
    {
        if (e.Worker == worker) return true;
        if (e.Worker is not null || e.Outcome is not null || !_queue.Remove(e.Job.Key)) return false;
        Lease(e, worker, Now);
        return true;
    }

    private static void Lease(Entry e, string worker, DateTime now)
    {
        e.Worker = worker;
        e.Attempts++;
        e.Since = now;
    }

    /// <summary>Workers silent past the lease lose their trials to the queue (at its front: they waited longest).</summary>
    private void Expire()
    {
        var now = Now;
        foreach (var marks in new[] { _forgotten, _strangers })
            foreach (var (key, _) in marks.Where(m => now - m.Value > 4 * Cluster.LeaseTimeout).ToList()) marks.Remove(key);
        foreach (var (worker, _) in _workers.Where(w => now - w.Value.LastSeen > Cluster.LeaseTimeout).ToList())
        {
            _workers.Remove(worker);
            foreach (var e in _trials.Values.Where(e => e.Worker == worker && e.Outcome is null).ToList()) Requeue(e);
        }
    }

    private void Requeue(Entry e)
    {
        e.Worker = null;
        e.Intermediate.Clear();
        _reassigned++;
        if (e.StopRequested) e.Outcome = Cancelled;
        else _queue.AddFirst(e.Job.Key);
    }
}

/// <summary>
/// The trial coordinator (one per cluster, key <see cref="Cluster.Coordinator"/>): <see cref="TrialLeases"/> behind a
/// grain, which serialises the calls. Its state is soft: if the silo holding it dies, a new activation starts empty,
/// submitters find their trials unknown and submit them again, and workers still running them take them back.
/// </summary>
internal sealed class CoordinatorGrain : Grain, ICoordinatorGrain
{
    private readonly TrialLeases _leases = new(TimeProvider.System);

    public Task Submit(TrialJob job)
    {
        _leases.Submit(job);
        return Task.CompletedTask;
    }

    public Task<TrialProgress> Progress(string sweep, int number) => Task.FromResult(_leases.Progress(sweep, number));

    public Task Stop(string sweep, int number)
    {
        _leases.Stop(sweep, number);
        return Task.CompletedTask;
    }

    public Task Forget(string sweep, int number)
    {
        _leases.Forget(sweep, number);
        return Task.CompletedTask;
    }

    public Task<Lease> Heartbeat(WorkerReport report) => Task.FromResult(_leases.Heartbeat(report));
    public Task<ReportAnswer> Report(string worker, string sweep, int number, long step, double value) => Task.FromResult(_leases.Report(worker, sweep, number, step, value));
    public Task<bool> Complete(string worker, string sweep, int number, TrialJobOutcome outcome) => Task.FromResult(_leases.Complete(worker, sweep, number, outcome));
    public Task<ClusterStatus> Status() => Task.FromResult(_leases.Status() with { CoordinatorPid = Environment.ProcessId });
}
