using Experiments.Core;

namespace Experiments.Sweeps;

public enum TrialStatus
{
    /// <summary>Started and not finished (in a store: the process died while it ran; resuming runs it again).</summary>
    Running,
    Completed,
    /// <summary>Stopped early by the pruner on its intermediate values.</summary>
    Pruned,
    /// <summary>The objective threw; its error type and message are kept.</summary>
    Failed,
    /// <summary>Ran past the per-trial time limit.</summary>
    TimedOut,
    /// <summary>Used more than the per-trial memory limit.</summary>
    OutOfMemory,
    /// <summary>Stopped by the user or by the sweep's wall-time budget before it finished; resuming runs it again.</summary>
    Cancelled,
}

public enum Direction { Minimize, Maximize }

public static class TrialStatusNames
{
    /// <summary>The status as stored and printed: running, completed, pruned, failed, timed-out, out-of-memory, cancelled.</summary>
    public static string Name(this TrialStatus status) => status switch
    {
        TrialStatus.TimedOut => "timed-out",
        TrialStatus.OutOfMemory => "out-of-memory",
        _ => status.ToString().ToLowerInvariant(),
    };

    public static TrialStatus Parse(string name)
    {
        foreach (var status in Enum.GetValues<TrialStatus>())
            if (status.Name() == name) return status;
        throw new ExperimentsException($"Unknown trial status '{name}'.");
    }

    /// <summary>Finished for good: resuming a sweep keeps it rather than running it again.</summary>
    public static bool IsFinal(this TrialStatus status) => status is not (TrialStatus.Running or TrialStatus.Cancelled);
}

/// <summary>What the sweep optimises: one metric of the objective's results, and which way.</summary>
public sealed record SweepObjective(string Metric, Direction Direction = Direction.Minimize)
{
    /// <summary>The value in minimisation form (what tuners and pruners compare).</summary>
    public double Loss(double value) => Direction == Direction.Minimize ? value : -value;

    public double FromLoss(double loss) => Direction == Direction.Minimize ? loss : -loss;

    public bool Better(double a, double b) => Loss(a) < Loss(b);

    public override string ToString() => $"{(Direction == Direction.Minimize ? "minimise" : "maximise")} {Metric}";
}

/// <summary>A metric of a trial, with its interval where the evaluation gives one.</summary>
public sealed record TrialMetric(double Value, double? Lower = null, double? Upper = null);

/// <summary>A value the objective reported on its way (after an epoch, an iteration, a boosting round).</summary>
public readonly record struct IntermediateValue(long Step, double Value);

/// <summary>Everything known about one trial once it ended (or, in a store, while it runs).</summary>
public sealed record TrialResult
{
    public required int Number { get; init; }
    public required ParameterSet Parameters { get; init; }
    public required int Seed { get; init; }
    public required TrialStatus Status { get; init; }
    /// <summary>The objective metric as reported (for a pruned trial: its last intermediate value).</summary>
    public double? Value { get; init; }
    /// <summary><see cref="Value"/> in minimisation form.</summary>
    public double? Loss { get; init; }
    public IReadOnlyDictionary<string, TrialMetric> Metrics { get; init; } = new Dictionary<string, TrialMetric>();
    public IReadOnlyList<IntermediateValue> Intermediate { get; init; } = [];
    public double Seconds { get; init; }
    /// <summary>
    /// The sweep's cost model's value for these parameters (<see cref="SweepSettings.Cost"/>), else the cost the
    /// objective reported (e.g. work done), else <see cref="Seconds"/>; cost-aware tuners use it.
    /// </summary>
    public double Cost { get; init; }
    public long? PeakMemoryBytes { get; init; }
    public string? ErrorType { get; init; }
    public string? Error { get; init; }
    public DateTime StartedAt { get; init; }
    public DateTime? EndedAt { get; init; }

    public bool HasLoss => Loss is { } l && !double.IsNaN(l);

    /// <summary>The last intermediate value as reported, if any.</summary>
    public IntermediateValue? LastIntermediate => Intermediate.Count == 0 ? null : Intermediate[^1];
}

/// <summary>
/// What a tuner sees when it proposes trial <see cref="Number"/>: the results it has been told (trials 0…k, in
/// order) and the parameters of the trials proposed after them whose results it has not been told yet.
/// </summary>
public sealed record SweepHistory(int Number, IReadOnlyList<TrialResult> Completed, IReadOnlyList<ParameterSet> Pending)
{
    public static SweepHistory Start { get; } = new(0, [], []);
}
