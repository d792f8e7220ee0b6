using System.Globalization;
using Experiments.Store;

namespace Experiments.Reports;

/// <summary>One row of a results table: a model (on one split, or averaged over folds) and its metric cells.</summary>
public sealed record ResultRow(string Model, string ModelType, string Split, string Status, IReadOnlyDictionary<string, MetricCell> Cells, double? FitSeconds, string? Error,
    double? EvaluateSeconds = null);

/// <summary>A metric's value with its interval (bootstrap bounds, or ± one standard deviation across folds).</summary>
public sealed record MetricCell(double Value, double? Lower, double? Upper, string IntervalKind)
{
    public string Format(int digits = 4)
    {
        var value = Number(Value, digits);
        return Lower is { } lo && Upper is { } hi ? $"{value} [{Number(lo, digits)}, {Number(hi, digits)}]" : value;
    }

    /// <summary>Compact form for terminals: the value and the interval's half-width.</summary>
    public string FormatCompact(int digits = 4) =>
        Lower is { } lo && Upper is { } hi ? $"{Number(Value, digits)} ±{Number((hi - lo) / 2, digits)}" : Number(Value, digits);

    public static string Number(double x, int digits = 4) => x.ToString("F" + digits, CultureInfo.InvariantCulture);
}

/// <summary>The results of a run as a table: metrics as columns, in the order the definition listed them.</summary>
public sealed record ResultTable(IReadOnlyList<string> Metrics, IReadOnlyList<ResultRow> Rows, IReadOnlyList<string> Protocols)
{
    /// <summary>One row per trial; with several splits (k-fold) one row per model with the mean and its ± standard deviation.</summary>
    public static ResultTable From(RunDetails run)
    {
        var metrics = run.Trials.SelectMany(t => t.Metrics).Select(m => m.Label).Distinct().ToList();
        var protocols = run.Trials.Select(t => t.Protocol).OfType<string>().Distinct().ToList();
        var splits = run.Trials.Select(t => t.Split).Distinct().Count();
        var rows = splits <= 1
            ? run.Trials.Select(t => new ResultRow(t.ModelName, t.ModelType, t.Split, t.Status,
                t.Metrics.ToDictionary(m => m.Label, m => new MetricCell(m.Value, m.Lower, m.Upper, "bootstrap")), t.FitSeconds, t.Error, t.EvaluateSeconds)).ToList()
            : run.Trials.GroupBy(t => t.ModelName).Select(g => new ResultRow(g.Key, g.First().ModelType, $"mean of {g.Count()} splits",
                g.All(t => t.Status == "finished") ? "finished" : string.Join("/", g.Select(t => t.Status).Distinct()),
                metrics.Where(m => g.Any(t => t.Metrics.Any(x => x.Label == m))).ToDictionary(m => m, m => FoldCell(g.SelectMany(t => t.Metrics).Where(x => x.Label == m).Select(x => x.Value).ToList())),
                g.Sum(t => t.FitSeconds ?? 0), g.Select(t => t.Error).FirstOrDefault(e => e is not null), g.Sum(t => t.EvaluateSeconds ?? 0))).ToList();
        return new ResultTable(metrics, rows, protocols);
    }

    private static MetricCell FoldCell(IReadOnlyList<double> values)
    {
        var mean = values.Average();
        var sd = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return new MetricCell(mean, mean - sd, mean + sd, "± 1 sd over splits");
    }
}
