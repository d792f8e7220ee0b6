using Experiments.Reports;
using Plotly.NET;

namespace Experiments.Interactive;

/// <summary>The notebooks' charts of results, drawn as the HTML reports draw them.</summary>
public static class NotebookCharts
{
    /// <summary>One metric per model as columns, its interval (where it has one) as error bars: bootstrap intervals need not be symmetric.</summary>
    public static GenericChart Metric(ResultTable table, string metric)
    {
        var rows = table.Rows.Where(r => r.Cells.ContainsKey(metric)).ToList();
        if (rows.Count == 0)
            throw new Core.ExperimentsException($"No model has metric '{metric}'; the table's metrics: {string.Join(", ", table.Metrics)}.");
        return ReportCharts.Bars(metric, rows.Select(r => r.Model).ToList(), rows.Select(r => r.Cells[metric].Value).ToList(),
            rows.Select(r => r.Cells[metric] is { Lower: { } lo, Upper: { } hi } ? ((double, double)?)(lo, hi) : null).ToList());
    }
}
