using Experiments.Evaluation.Statistics;
using Experiments.Reports;
using Experiments.Store;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>Spectre tables for results, runs and comparisons.</summary>
internal static class Tables
{
    /// <summary>
    /// A run's results. Terminals are narrow: with more metrics than models the table is turned so that models are
    /// columns and metrics rows; otherwise models are rows.
    /// </summary>
    public static Table Results(RunDetails details)
    {
        var result = ResultTable.From(details);
        var table = new Table().Border(TableBorder.Rounded);
        table.Title = new TableTitle($"{Markup.Escape(details.Run.Experiment)} — run {details.Run.Id}{(details.Run.DatasetSynthetic ? " [yellow](SYNTHETIC data)[/]" : "")}");
        // A finished model without a metric (a search run's intent classifier has no ndcg) shows a dash, not its status.
        string Cell(ResultRow row, string metric) => row.Cells.TryGetValue(metric, out var c) ? Markup.Escape(c.FormatCompact()) : row.Status == "finished" ? "—" : $"[red]{Markup.Escape(row.Status)}[/]";
        string Fit(ResultRow row) => row.FitSeconds is { } f ? MetricCell.Number(f, 2) : "—";
        var splits = result.Rows.Select(r => r.Split).Distinct().Count();
        string Label(ResultRow row) => splits > 1 || result.Rows.Count(r => r.Model == row.Model) > 1 ? $"{row.Model} ({row.Split})" : row.Model;
        if (result.Metrics.Count > result.Rows.Count)
        {
            table.AddColumn("metric");
            foreach (var row in result.Rows) table.AddColumn(new TableColumn(Markup.Escape(Label(row))).RightAligned());
            foreach (var metric in result.Metrics) table.AddRow([Markup.Escape(metric), .. result.Rows.Select(r => Cell(r, metric))]);
            table.AddRow(["fit (s)", .. result.Rows.Select(Fit)]);
        }
        else
        {
            table.AddColumn("model");
            foreach (var metric in result.Metrics) table.AddColumn(new TableColumn(Markup.Escape(metric)).RightAligned());
            table.AddColumn(new TableColumn("fit (s)").RightAligned());
            foreach (var row in result.Rows) table.AddRow([Markup.Escape(Label(row)), .. result.Metrics.Select(m => Cell(row, m)), Fit(row)]);
        }
        if (result.Protocols.Count > 0)
            table.Caption = new TableTitle(Markup.Escape(string.Join("; ", result.Protocols)) +
                (result.Rows.SelectMany(r => r.Cells.Values).FirstOrDefault(c => c.Lower is not null) is { } interval ? $"\n[grey]±: half-width of the {Markup.Escape(interval.IntervalKind)} interval[/]" : ""));
        return table;
    }

    /// <summary>Paired tests: the difference, its interval, the raw p and Holm's adjusted p (bold below 0.05), and the test.</summary>
    public static Table Comparisons(IEnumerable<ComparisonRecord> comparisons, string title)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumns("split", "metric", "model", "difference", "interval", "p", "Holm p", "test");
        table.Title = new TableTitle(Markup.Escape(title));
        static string P(double? p, string text) => p is { } value ? (value < 0.05 ? "[bold]" : "[grey]") + Markup.Escape(text) + "[/]" : "—";
        foreach (var c in comparisons)
            table.AddRow(Markup.Escape(c.Split), Markup.Escape(c.Metric), Markup.Escape(c.Model), MetricCell.Number(c.Difference),
                Markup.Escape($"[{MetricCell.Number(c.Lower)}, {MetricCell.Number(c.Upper)}]"), P(c.PValue, PValues.Format(c.PValue, c.Resamples)),
                P(c.HolmPValue, c.HolmPValue is { } holm ? PValues.FormatAdjusted(holm, c.HolmBound == true, c.Resamples) : ""), Markup.Escape(c.Test ?? "—"));
        return table;
    }

    public static string Status(RunStatus status) => status switch
    {
        RunStatus.Finished => "[green]finished[/]",
        RunStatus.Running => "[blue]running[/]",
        RunStatus.Cancelled => "[yellow]cancelled[/]",
        _ => $"[red]{status.ToString().ToLowerInvariant()}[/]",
    };
}
