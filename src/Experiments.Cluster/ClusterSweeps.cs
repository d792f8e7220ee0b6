using Experiments.Core;
using Experiments.Sweeps;
using Experiments.Sweeps.Tuners;
using Microsoft.Extensions.Hosting;

namespace Experiments.Cluster;

/// <summary>Sweeps on the cluster, from C#: the engine's <see cref="SweepRunner"/> with its trials on the workers.</summary>
public static class ClusterSweeps
{
    /// <summary>
    /// Runs a sweep whose trials run on the cluster's workers, recorded in <paramref name="storage"/> (the run store,
    /// typically the same PostgreSQL). Parallelism left unset is the cluster's slots at the start: every worker's
    /// free capacity. The sweep's name keys its trials at the coordinator, with the sweep's id, so two sweeps never mix.
    /// </summary>
    public static async Task<SweepResult> RunAsync(IHost client, ISweepStorage storage, SweepSettings settings, ITuner tuner, string objective, string payload,
        GpuUse gpu = GpuUse.None, CancellationToken cancel = default)
    {
        settings = settings with { Parallelism = settings.Parallelism ?? await SlotsAsync(client).ConfigureAwait(false) };
        return await new SweepRunner(storage).RunAsync(settings, tuner, Executor(client, storage.Location, objective, payload, gpu), cancel).ConfigureAwait(false);
    }

    /// <summary>The executor of one sweep's trials on the cluster, keyed by the store and a new id so that two sweeps never mix.</summary>
    public static ClusterTrialExecutor Executor(IHost client, string store, string objective, string payload, GpuUse gpu = GpuUse.None) =>
        new(Cluster.CoordinatorOf(client), $"{store}/{Guid.NewGuid():N}", objective, payload, gpu);

    /// <summary>The cluster's slots now: every worker's trials at once, a sweep's default parallelism.</summary>
    public static async Task<int> SlotsAsync(IHost client)
    {
        var status = await Cluster.CoordinatorOf(client).Status().ConfigureAwait(false);
        var slots = status.Workers.Sum(w => w.Report.Slots);
        return slots > 0 ? slots : throw new ExperimentsException("The cluster has no workers yet: start some with `experiments worker --cluster …`, or give the sweep's parallelism.");
    }

    /// <summary>Waits until the cluster has at least <paramref name="workers"/> workers (each heartbeat registers one).</summary>
    public static async Task<ClusterStatus> WaitForWorkersAsync(IHost client, int workers, TimeSpan timeout, CancellationToken cancel = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var status = await Cluster.CoordinatorOf(client).Status().ConfigureAwait(false);
                if (status.Workers.Count >= workers) return status;
                if (DateTime.UtcNow > deadline)
                    throw new ExperimentsException($"The cluster has {status.Workers.Count} workers after {timeout.TotalSeconds:0} s; {workers} were expected.");
            }
            catch (Exception e) when (e is not ExperimentsException && DateTime.UtcNow <= deadline)
            {
                // Silos still joining.
            }
            await Task.Delay(200, cancel).ConfigureAwait(false);
        }
    }
}
