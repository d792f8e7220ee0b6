namespace Experiments.Sweeps;

/// <summary>
/// What an objective gets for one trial: its parameters and seed, a token that is cancelled when the trial must stop
/// (its time or memory limit, the sweep's budget, Ctrl+C), and <see cref="Report"/> for intermediate values.
/// </summary>
public sealed class TrialContext
{
    private readonly Func<long, double, bool> _report;

    public TrialContext(int number, ParameterSet parameters, int seed, CancellationToken cancellation, Func<long, double, bool>? report = null)
    {
        Number = number;
        Parameters = parameters;
        Seed = seed;
        Cancellation = cancellation;
        _report = report ?? ((_, _) => false);
    }

    public int Number { get; }
    public ParameterSet Parameters { get; }
    public int Seed { get; }
    public CancellationToken Cancellation { get; }

    /// <summary>Reports the objective metric after <paramref name="step"/> (an epoch, a round); true means the pruner wants the trial stopped.</summary>
    public bool Report(long step, double value) => _report(step, value);

    /// <summary>Reports, and throws <see cref="TrialPrunedException"/> when the pruner wants the trial stopped.</summary>
    public void ReportOrStop(long step, double value)
    {
        if (Report(step, value)) throw new TrialPrunedException(step);
    }
}

/// <summary>Thrown by an objective that stops because it was pruned.</summary>
public sealed class TrialPrunedException(long step) : Exception($"Pruned at step {step}.")
{
    public long Step { get; } = step;
}

/// <summary>An objective's result: its metrics (the sweep's objective metric among them) and, optionally, its own cost.</summary>
public sealed record TrialOutcome(IReadOnlyDictionary<string, TrialMetric> Metrics)
{
    /// <summary>The work the trial did, in the objective's own unit (e.g. rows × iterations); cost-aware tuners prefer it to seconds, being reproducible.</summary>
    public double? Cost { get; init; }

    public static TrialOutcome Of(string metric, double value, double? cost = null) =>
        new(new Dictionary<string, TrialMetric> { [metric] = new(value) }) { Cost = cost };
}

/// <summary>An objective run in this process.</summary>
public delegate TrialOutcome TrialObjective(TrialContext context);
