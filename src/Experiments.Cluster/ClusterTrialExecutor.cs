using Experiments.Core;
using Experiments.Sweeps;

namespace Experiments.Cluster;

/// <summary>
/// Runs a sweep's trials on the cluster's workers: each trial is submitted to the coordinator grain and followed until
/// its outcome arrives. The sweep itself — the tuner, the pruner, the store — stays with the submitter
/// (<see cref="SweepRunner"/>), so tuners work unchanged and every trial is written once, by the submitter, however
/// many times a dying worker made the cluster run it. Intermediate values reach the submitter's pruner once per step
/// (a trial run again elsewhere reports its first steps again: they are not passed on twice); a trial it prunes is
/// stopped on its worker, and is pruned even if its worker finished it before the stop arrived. A coordinator that lost the trial (its silo died) gets it submitted again, and so does one that answers a cancellation nobody asked for. Trials
/// that use a GPU (<paramref name="gpu"/>) are counted against a worker's GPUs: those that need one go only to workers with one free.
/// </summary>
public sealed class ClusterTrialExecutor(ICoordinatorGrain coordinator, string sweep, string objective, string payload, GpuUse gpu = GpuUse.None) : ITrialExecutor
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private const int MaxUnaskedCancels = 3;

    /// <summary>A worker runs several trials in one process: they share its memory.</summary>
    public bool IsolatesMemory => false;

    public async Task<TrialExecution> ExecuteAsync(TrialRequest request, Func<long, double, bool> report, CancellationToken sweepCancellation)
    {
        var job = new TrialJob(sweep, request.Number, request.Seed, request.Parameters.ToJson(), objective, payload,
            request.Limits.Timeout?.TotalSeconds, request.Limits.Grace.TotalSeconds, request.Limits.MemoryBytes, gpu);
        // The last step passed to the pruner: a re-run's values start over, and only later steps are new.
        var lastStep = long.MinValue;
        var pruned = false;
        var stopSent = false;
        var submitted = false;
        var failures = 0;
        var unaskedCancels = 0;
        while (true)
        {
            try
            {
                if (!submitted)
                {
                    await coordinator.Submit(job).ConfigureAwait(false);
                    submitted = true;
                }
                if (sweepCancellation.IsCancellationRequested && !stopSent)
                {
                    await coordinator.Stop(sweep, request.Number).ConfigureAwait(false);
                    stopSent = true;
                }
                var progress = await coordinator.Progress(sweep, request.Number).ConfigureAwait(false);
                if (!progress.Known)
                {
                    submitted = false;
                    continue;
                }
                foreach (var (step, value) in progress.Intermediate)
                {
                    if (pruned || step <= lastStep) continue;
                    lastStep = step;
                    if (report(step, value))
                    {
                        pruned = true;
                        await coordinator.Stop(sweep, request.Number).ConfigureAwait(false);
                    }
                }
                if (progress.Outcome is { } outcome)
                {
                    await coordinator.Forget(sweep, request.Number).ConfigureAwait(false);
                    var execution = outcome.ToExecution();
                    // A cancellation nobody here asked for (no stop sent, not pruned: a coordinator that restarted may have
                    // stopped a worker's trial before it was submitted again) is no result of the trial: it runs again.
                    if (execution.Status == TrialStatus.Cancelled && !pruned && !stopSent && ++unaskedCancels <= MaxUnaskedCancels)
                    {
                        submitted = false;
                        continue;
                    }
                    // As in a local sweep, a trial the pruner stopped is pruned, whether its worker stopped it or finished first.
                    if (pruned && execution.Status is TrialStatus.Completed or TrialStatus.Cancelled or TrialStatus.Failed) execution = execution with { Status = TrialStatus.Pruned, ErrorType = null, Error = null };
                    if (sweepCancellation.IsCancellationRequested && execution.Status == TrialStatus.Failed && outcome.ErrorType is null) execution = execution with { Status = TrialStatus.Cancelled };
                    return execution;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException && e is not Core.ExperimentsException)
            {
                // The coordinator is moving to another silo: ask again — unless the sweep is stopping and the
                // cluster has not answered for a while (its last worker gone, or this client shut down).
                if (sweepCancellation.IsCancellationRequested && ++failures > 50)
                    return new TrialExecution(TrialStatus.Cancelled, TrialExecution.NoMetrics, null, null, null, $"The cluster did not answer while the sweep stopped: {e.Message}");
            }
            await Task.Delay(PollInterval, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
