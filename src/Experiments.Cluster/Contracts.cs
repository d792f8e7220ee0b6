using Experiments.Core;
using Experiments.Sweeps;

namespace Experiments.Cluster;

/// <summary>One trial as the coordinator hands it out: which sweep, its number, seed and parameters, the objective, its limits, and what it does with a GPU.</summary>
[GenerateSerializer, Immutable]
public sealed record TrialJob(
    [property: Id(0)] string Sweep,
    [property: Id(1)] int Number,
    [property: Id(2)] int Seed,
    [property: Id(3)] string ParametersJson,
    [property: Id(4)] string Objective,
    [property: Id(5)] string Payload,
    [property: Id(6)] double? TimeoutSeconds,
    [property: Id(7)] double GraceSeconds,
    [property: Id(8)] long? MemoryBytes,
    [property: Id(9)] GpuUse Gpu = GpuUse.None)
{
    public string Key => $"{Sweep}#{Number}";
}

[GenerateSerializer, Immutable]
public sealed record MetricValue([property: Id(0)] double Value, [property: Id(1)] double? Lower, [property: Id(2)] double? Upper);

/// <summary>How a trial ended on its worker (an executor's <see cref="TrialExecution"/>, serialisable).</summary>
[GenerateSerializer, Immutable]
public sealed record TrialJobOutcome(
    [property: Id(0)] string Status,
    [property: Id(1)] Dictionary<string, MetricValue> Metrics,
    [property: Id(2)] double? Cost,
    [property: Id(3)] long? PeakMemoryBytes,
    [property: Id(4)] string? ErrorType,
    [property: Id(5)] string? Error,
    [property: Id(6)] string Worker)
{
    public static TrialJobOutcome From(TrialExecution execution, string worker) =>
        new(execution.Status.Name(), execution.Metrics.ToDictionary(m => m.Key, m => new MetricValue(m.Value.Value, m.Value.Lower, m.Value.Upper)),
            execution.Cost, execution.PeakMemoryBytes, execution.ErrorType, execution.Error, worker);

    public TrialExecution ToExecution() =>
        new(TrialStatusNames.Parse(Status), Metrics.ToDictionary(m => m.Key, m => new TrialMetric(m.Value.Value, m.Value.Lower, m.Value.Upper)), Cost, PeakMemoryBytes, ErrorType, Error);
}

/// <summary>A worker's heartbeat: who it is, what it can take (slots, cores, free memory, GPUs and their memory), what it runs.</summary>
[GenerateSerializer, Immutable]
public sealed record WorkerReport(
    [property: Id(0)] string Worker,
    [property: Id(1)] string Host,
    [property: Id(2)] int Pid,
    [property: Id(3)] int Slots,
    [property: Id(4)] int Cores,
    [property: Id(5)] long? AvailableMemoryBytes,
    [property: Id(6)] List<string> Running,
    [property: Id(7)] int Gpus = 0,
    [property: Id(8)] long? GpuMemoryBytes = null);

/// <summary>The coordinator's answer to a heartbeat: trials to start, and running ones to stop (pruned or cancelled).</summary>
[GenerateSerializer, Immutable]
public sealed record Lease([property: Id(0)] List<TrialJob> Start, [property: Id(1)] List<string> Stop);

/// <summary>What the submitter learns of its trial: unknown (submit it again), waiting, running (with its intermediate values), or done.</summary>
[GenerateSerializer, Immutable]
public sealed record TrialProgress(
    [property: Id(0)] bool Known,
    [property: Id(1)] string? Worker,
    [property: Id(2)] int Attempts,
    [property: Id(3)] List<IntermediateReport> Intermediate,
    [property: Id(4)] TrialJobOutcome? Outcome);

[GenerateSerializer, Immutable]
public sealed record IntermediateReport([property: Id(0)] long Step, [property: Id(1)] double Value);

[GenerateSerializer, Immutable]
public sealed record WorkerStatus(
    [property: Id(0)] WorkerReport Report,
    [property: Id(1)] DateTime LastSeen,
    [property: Id(2)] List<string> Running);

[GenerateSerializer, Immutable]
public sealed record RunningTrial([property: Id(0)] string Sweep, [property: Id(1)] int Number, [property: Id(2)] string Worker, [property: Id(3)] int Attempt, [property: Id(4)] DateTime Since);

/// <summary>The cluster now: its workers, trials waiting and running, counts, and the process the coordinator lives in (a worker's).</summary>
[GenerateSerializer, Immutable]
public sealed record ClusterStatus(
    [property: Id(0)] List<WorkerStatus> Workers,
    [property: Id(1)] int Queued,
    [property: Id(2)] List<RunningTrial> Running,
    [property: Id(3)] int Finished,
    [property: Id(4)] int Reassigned,
    [property: Id(5)] int? CoordinatorPid = null);

/// <summary>The coordinator's answer to a worker's intermediate value.</summary>
[GenerateSerializer]
public enum ReportAnswer
{
    /// <summary>Go on.</summary>
    Continue,
    /// <summary>Stop the trial (its pruner said so, or its sweep stopped) and report its outcome.</summary>
    Stop,
    /// <summary>
    /// The worker no longer holds the trial (it was cancelled before, forgotten, or leased to another worker after this
    /// one fell silent): abandon it without reporting an outcome.
    /// </summary>
    Lost,
}

/// <summary>
/// The coordinator: a queue of submitted trials leased to workers by their free capacity. A worker's heartbeat
/// (<see cref="Heartbeat"/>, several a second) renews the lease of every trial it runs; a worker silent for longer
/// than the lease loses its trials, which go back to the queue for another worker. Only the worker that holds a
/// trial's lease may report on it and complete it, and a trial takes one outcome, so a trial run twice (a worker
/// presumed dead that was only slow) is still recorded once.
/// </summary>
public interface ICoordinatorGrain : IGrainWithStringKey
{
    Task Submit(TrialJob job);
    Task<TrialProgress> Progress(string sweep, int number);
    /// <summary>Stops a trial wherever it runs (pruned, cancelled, or its sweep stopped); its outcome is still taken.</summary>
    Task Stop(string sweep, int number);
    /// <summary>The submitter has its outcome: forget the trial.</summary>
    Task Forget(string sweep, int number);
    Task<Lease> Heartbeat(WorkerReport report);
    /// <summary>An intermediate value of a trial the worker runs: go on, stop, or abandon it (<see cref="ReportAnswer"/>).</summary>
    Task<ReportAnswer> Report(string worker, string sweep, int number, long step, double value);
    /// <summary>
    /// A trial's outcome: true when the coordinator has it from this worker (now, or from an earlier attempt of the same
    /// call); false when refused — the worker no longer holds the trial (re-leased, cancelled, or unknown).
    /// </summary>
    Task<bool> Complete(string worker, string sweep, int number, TrialJobOutcome outcome);
    Task<ClusterStatus> Status();
}
