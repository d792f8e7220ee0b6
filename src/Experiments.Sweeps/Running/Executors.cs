namespace Experiments.Sweeps;

/// <summary>The limits of one trial: its time, the grace it gets to stop after being cancelled, its memory.</summary>
public sealed record TrialLimits(TimeSpan? Timeout, TimeSpan Grace, long? MemoryBytes);

public sealed record TrialRequest(int Number, ParameterSet Parameters, int Seed, TrialLimits Limits);

/// <summary>How a trial ended, as its executor saw it.</summary>
public sealed record TrialExecution(TrialStatus Status, IReadOnlyDictionary<string, TrialMetric> Metrics, double? Cost, long? PeakMemoryBytes, string? ErrorType, string? Error)
{
    public static readonly IReadOnlyDictionary<string, TrialMetric> NoMetrics = new Dictionary<string, TrialMetric>();
}

/// <summary>
/// Runs trials. A trial's own failure, time-out or excess memory is in the returned <see cref="TrialExecution"/>,
/// never thrown. <c>report</c> records an intermediate value and returns true when the pruner wants the trial stopped.
/// </summary>
public interface ITrialExecutor
{
    /// <summary>Each trial's memory is its own (a child process), so a per-trial memory limit holds with parallel trials.</summary>
    bool IsolatesMemory { get; }

    Task<TrialExecution> ExecuteAsync(TrialRequest request, Func<long, double, bool> report, CancellationToken sweepCancellation);
}

/// <summary>What happened to a trial while it ran, decided into a status the same way by every executor.</summary>
internal sealed class TrialWatch(CancellationToken sweepCancellation)
{
    public volatile bool TimedOut;
    public volatile bool OverMemory;
    public volatile bool Pruned;
    public long? PeakMemory;

    public void SawMemory(long? bytes)
    {
        if (bytes is { } b && (PeakMemory is not { } peak || b > peak)) PeakMemory = b;
    }

    /// <summary>Limits first (a trial past its limit is recorded as such even if it then returned), then cancellation, pruning, errors.</summary>
    public TrialStatus Decide(bool finished, bool returned, string? error) =>
        OverMemory ? TrialStatus.OutOfMemory
        : TimedOut ? TrialStatus.TimedOut
        : Pruned ? TrialStatus.Pruned
        : returned ? TrialStatus.Completed
        : sweepCancellation.IsCancellationRequested ? TrialStatus.Cancelled
        : error is not null || finished ? TrialStatus.Failed
        : TrialStatus.Cancelled;

    public static string Limit(TrialLimits limits, TrialWatch watch, bool stopped) =>
        (watch.OverMemory ? $"used more than its memory limit of {limits.MemoryBytes / 1048576.0:F0} MiB (peak {watch.PeakMemory / 1048576.0:F0} MiB)"
            : watch.TimedOut ? $"ran past its time limit of {limits.Timeout!.Value.TotalSeconds:0.###} s"
            : "was cancelled")
        + (stopped ? "" : $", and did not stop within the grace period of {limits.Grace.TotalSeconds:0.###} s");
}

/// <summary>
/// Runs the objective in this process, on a thread of its own. A time limit cancels the trial's token; a trial that
/// does not return within the grace period is recorded as timed out and abandoned (a thread cannot be killed: it runs
/// on in the background). Memory: the process's resident set is sampled every 100 ms while the trial runs, and its
/// peak is recorded; with a memory limit (one trial at a time only, since trials in one process share its memory),
/// growth beyond the limit over the resident set at the trial's start cancels the trial and records it out of memory.
/// Both limits are cooperative here; <see cref="ProcessTrialExecutor"/> enforces them by killing.
/// </summary>
public sealed class InProcessExecutor(TrialObjective objective) : ITrialExecutor
{
    private static readonly TimeSpan Sampling = TimeSpan.FromMilliseconds(100);

    public bool IsolatesMemory => false;

    public async Task<TrialExecution> ExecuteAsync(TrialRequest request, Func<long, double, bool> report, CancellationToken sweepCancellation)
    {
        var limits = request.Limits;
        var watch = new TrialWatch(sweepCancellation);
        using var trial = CancellationTokenSource.CreateLinkedTokenSource(sweepCancellation);
        using var timeout = new CancellationTokenSource();
        using var onTimeout = timeout.Token.Register(() => { watch.TimedOut = true; trial.Cancel(); });
        if (limits.Timeout is { } t) timeout.CancelAfter(t);
        var pid = Environment.ProcessId;
        var baseline = MemoryProbe.Resident(pid) ?? 0;
        watch.SawMemory(baseline);
        using var sampler = new Timer(_ =>
        {
            var rss = MemoryProbe.Resident(pid);
            watch.SawMemory(rss);
            if (limits.MemoryBytes is { } limit && rss - baseline > limit && !watch.OverMemory)
            {
                watch.OverMemory = true;
                trial.Cancel();
            }
        }, null, Sampling, Sampling);

        var context = new TrialContext(request.Number, request.Parameters, request.Seed, trial.Token, (step, value) =>
        {
            var prune = report(step, value);
            if (prune) watch.Pruned = true;
            return prune;
        });
        var run = Task.Factory.StartNew(() => objective(context), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var stopRequested = new TaskCompletionSource();
        using (trial.Token.Register(() => stopRequested.TrySetResult()))
            await Task.WhenAny(run, stopRequested.Task).ConfigureAwait(false);
        if (!run.IsCompleted) await Task.WhenAny(run, Task.Delay(limits.Grace)).ConfigureAwait(false);
        await sampler.DisposeAsync().ConfigureAwait(false);
        watch.SawMemory(MemoryProbe.Resident(pid));

        if (!run.IsCompleted)
            return new TrialExecution(watch.Decide(false, false, null), TrialExecution.NoMetrics, null, watch.PeakMemory, null,
                $"The trial {TrialWatch.Limit(limits, watch, stopped: false)}; it was abandoned and may still be running in this process.");
        if (run.IsCompletedSuccessfully)
        {
            var outcome = run.Result;
            var status = watch.Decide(true, true, null);
            return new TrialExecution(status, outcome.Metrics, outcome.Cost, watch.PeakMemory, null,
                status is TrialStatus.TimedOut or TrialStatus.OutOfMemory ? $"The trial {TrialWatch.Limit(limits, watch, stopped: true)}." : null);
        }
        var error = run.Exception!.GetBaseException();
        if (error is TrialPrunedException) watch.Pruned = true;
        // Cancellation the sweep asked for is not a failure; an objective's own OperationCanceledException is.
        var failed = error is not TrialPrunedException && !(error is OperationCanceledException && trial.IsCancellationRequested);
        var final = watch.Decide(true, false, failed ? error.Message : null);
        return final == TrialStatus.Failed
            ? new TrialExecution(final, TrialExecution.NoMetrics, null, watch.PeakMemory, error.GetType().Name, error.Message)
            : new TrialExecution(final, TrialExecution.NoMetrics, null, watch.PeakMemory, null,
                final is TrialStatus.TimedOut or TrialStatus.OutOfMemory ? $"The trial {TrialWatch.Limit(limits, watch, stopped: true)}." : null);
    }
}
