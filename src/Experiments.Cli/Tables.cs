using Experiments.Reports;
using Experiments.Store;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>Spectre tables for results, runs and comparisons.</summary>
internal static class Tables
{
    public static Table Results(RunDetails details)
    {
        var result = ResultTable.From(details);
        var table = new Table().Border(TableBorder.Rounded);
        table.Title = new TableTitle($"{Markup.Escape(details.Run.Experiment)} — run {details.Run.Id}{(details.Run.DatasetSynthetic ? " [yellow](SYNTHETIC data)[/]" : "")}");
        table.AddColumn("model");
        table.AddColumn("split");
        foreach (var metric in result.Metrics) table.AddColumn(new TableColumn(Markup.Escape(metric)).RightAligned());
        table.AddColumn(new TableColumn("fit (s)").RightAligned());
        foreach (var row in result.Rows)
        {
            var cells = new List<string> { Markup.Escape(row.Model), Markup.Escape(row.Split) };
            cells.AddRange(result.Metrics.Select(m => row.Cells.TryGetValue(m, out var c) ? Markup.Escape(c.FormatCompact()) : $"[red]{Markup.Escape(row.Status)}[/]"));
            cells.Add(row.FitSeconds is { } f ? MetricCell.Number(f, 2) : "—");
            table.AddRow(cells.ToArray());
        }
        if (result.Protocols.Count > 0) table.Caption = new TableTitle(Markup.Escape(string.Join("; ", result.Protocols)) + (result.Rows.Any(r => r.Cells.Values.Any(c => c.Lower is not null)) ? "\n[grey]±: half-width of the " + Markup.Escape(result.Rows.SelectMany(r => r.Cells.Values).First().IntervalKind) + " interval[/]" : ""));
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
