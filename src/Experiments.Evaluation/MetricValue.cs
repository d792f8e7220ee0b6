namespace Experiments.Evaluation;

/// <summary>A metric's value over the test users, with its bootstrap confidence interval when one was computed.</summary>
public sealed record MetricValue(string Metric, int? K, double Value, double? Lower, double? Upper, int Users)
{
    public string Label => K is { } k ? $"{Metric}@{k}" : Metric;
}
