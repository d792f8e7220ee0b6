using Experiments.Evaluation;

namespace Experiments.Runs;

/// <summary>Hears what a run is doing, for progress bars and logs. Every method may be called from worker threads.</summary>
public interface IRunObserver
{
    /// <summary>The run is recorded in the store under <paramref name="runId"/>; nothing has been loaded yet.</summary>
    void RunStarted(long runId) { }
    void Stage(string message);
    /// <summary>Progress of the current step (0..1), e.g. evaluation of one model.</summary>
    void Progress(string step, double fraction);
    void TrialFinished(TrialResult result);
    void Warning(string message);
}

/// <summary>An observer that ignores everything (the default in notebooks).</summary>
public sealed class SilentObserver : IRunObserver
{
    public static readonly SilentObserver Instance = new();
    public void Stage(string message) { }
    public void Progress(string step, double fraction) { }
    public void TrialFinished(TrialResult result) { }
    public void Warning(string message) { }
}

/// <summary>One model fitted and evaluated on one split.</summary>
public sealed record TrialResult(
    long TrialId,
    string Model,
    string ModelType,
    string Split,
    string Status,
    double FitSeconds,
    double EvaluateSeconds,
    IReadOnlyList<MetricValue> Metrics,
    string? Protocol,
    string? Error);
