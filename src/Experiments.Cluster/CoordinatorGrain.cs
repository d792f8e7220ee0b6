namespace Experiments.Cluster;

/// <summary>
/// The trial coordinator (one per cluster, key <see cref="Cluster.Coordinator"/>). Its state is soft: if the silo
/// holding it dies, a new activation starts empty, submitters find their trials unknown and submit them again, and
/// outcomes that workers report for trials it no longer knows are taken if the trial was submitted again.
/// </summary>
internal sealed class CoordinatorGrain : Grain, ICoordinatorGrain
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

    private readonly Dictionary<string, Entry> _trials = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _queue = new();
    private readonly Dictionary<string, (WorkerReport Report, DateTime LastSeen)> _workers = new(StringComparer.Ordinal);
    private int _finished, _reassigned;

    private static string Key(string sweep, int number) => $"{sweep}#{number}";

    public Task Submit(TrialJob job)
    {
        Expire();
        if (!_trials.ContainsKey(job.Key))
        {
            _trials[job.Key] = new Entry(job);
            _queue.AddLast(job.Key);
        }
        return Task.CompletedTask;
    }

    public Task<TrialProgress> Progress(string sweep, int number)
    {
        Expire();
        return Task.FromResult(_trials.TryGetValue(Key(sweep, number), out var e)
            ? new TrialProgress(true, e.Worker, e.Attempts, e.Intermediate.ToList(), e.Outcome)
            : new TrialProgress(false, null, 0, [], null));
    }

    public Task Stop(string sweep, int number)
    {
        if (_trials.TryGetValue(Key(sweep, number), out var e) && e.Outcome is null)
        {
            e.StopRequested = true;
            // One still waiting never starts.
            if (e.Worker is null && _queue.Remove(e.Job.Key)) e.Outcome = new TrialJobOutcome("cancelled", [], null, null, null, null, "");
        }
        return Task.CompletedTask;
    }

    public Task Forget(string sweep, int number)
    {
        var key = Key(sweep, number);
        _queue.Remove(key);
        _trials.Remove(key);
        return Task.CompletedTask;
    }

    public Task<Lease> Heartbeat(WorkerReport report)
    {
        var now = DateTime.UtcNow;
        _workers[report.Worker] = (report, now);
        Expire();
        // Trials the coordinator gave this worker that it no longer runs (lost in a restart of the worker) go back.
        var running = report.Running.ToHashSet(StringComparer.Ordinal);
        foreach (var e in _trials.Values.Where(e => e.Worker == report.Worker && e.Outcome is null && !running.Contains(e.Job.Key) && now - e.Since > Cluster.LeaseTimeout).ToList())
            Requeue(e);
        var start = new List<TrialJob>();
        var free = report.Slots - report.Running.Count;
        var memory = report.AvailableMemoryBytes;
        // A trial that needs a GPU goes only to a worker with a GPU not taken by another such trial.
        var freeGpus = report.Gpus - _trials.Values.Count(e => e.Worker == report.Worker && e.Outcome is null && e.Job.NeedsGpu);
        for (var node = _queue.First; node is not null && free > 0;)
        {
            var next = node.Next;
            var e = _trials[node.Value];
            // A trial with a memory limit goes only where that much memory is free.
            if ((e.Job.MemoryBytes is not { } need || memory is not { } have || need <= have) && (!e.Job.NeedsGpu || freeGpus > 0))
            {
                if (e.Job.NeedsGpu) freeGpus--;
                _queue.Remove(node);
                e.Worker = report.Worker;
                e.Attempts++;
                e.Since = now;
                start.Add(e.Job);
                free--;
                if (memory is not null && e.Job.MemoryBytes is { } used) memory -= used;
            }
            node = next;
        }
        var stop = report.Running.Where(k => !_trials.TryGetValue(k, out var e) || e.StopRequested || e.Outcome is not null).ToList();
        return Task.FromResult(new Lease(start, stop));
    }

    public Task<bool> Report(string worker, string sweep, int number, long step, double value)
    {
        if (!_trials.TryGetValue(Key(sweep, number), out var e) || e.Worker != worker) return Task.FromResult(true);
        e.Intermediate.Add(new IntermediateReport(step, value));
        return Task.FromResult(e.StopRequested);
    }

    public Task Complete(string worker, string sweep, int number, TrialJobOutcome outcome)
    {
        if (_trials.TryGetValue(Key(sweep, number), out var e) && e.Outcome is null)
        {
            e.Outcome = outcome;
            _queue.Remove(e.Job.Key);
            _finished++;
        }
        return Task.CompletedTask;
    }

    public Task<ClusterStatus> Status()
    {
        Expire();
        var running = _trials.Values.Where(e => e.Worker is not null && e.Outcome is null)
            .Select(e => new RunningTrial(e.Job.Sweep, e.Job.Number, e.Worker!, e.Attempts, e.Since)).OrderBy(r => r.Since).ToList();
        var workers = _workers.Values.Select(w => new WorkerStatus(w.Report, w.LastSeen, running.Where(r => r.Worker == w.Report.Worker).Select(r => $"{r.Sweep}#{r.Number}").ToList()))
            .OrderBy(w => w.Report.Worker, StringComparer.Ordinal).ToList();
        return Task.FromResult(new ClusterStatus(workers, _queue.Count, running, _finished, _reassigned));
    }

    /// <summary>Workers silent past the lease lose their trials to the queue (at its front: they waited longest).</summary>
    private void Expire()
    {
        var now = DateTime.UtcNow;
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
        if (e.StopRequested) e.Outcome = new TrialJobOutcome("cancelled", [], null, null, null, null, "");
        else _queue.AddFirst(e.Job.Key);
    }
}
