using System.Net;
using Experiments.Reports;
using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;

namespace Experiments.Interactive;

/// <summary>
/// How the platform's values look in a Polyglot notebook: <see cref="Register"/> once, after the package references.
/// Plotly.NET charts become offline HTML (<see cref="OfflineCharts"/>; this replaces Plotly.NET.Interactive's formatter,
/// so a notebook does not need that package), and a <see cref="ResultTable"/> an HTML table with each metric's interval.
/// </summary>
public static class NotebookFormatters
{
    public static void Register()
    {
        Formatter.Register<GenericChart>((chart, writer) => writer.Write(OfflineCharts.Html(chart)), HtmlFormatter.MimeType);
        Formatter.Register<ResultTable>((table, writer) => writer.Write(Html(table)), HtmlFormatter.MimeType);
    }

    /// <summary>One row per model, each metric as "value [lower, upper]", then the fit time.</summary>
    public static string Html(ResultTable table) =>
        "<table><thead><tr><th>model</th>" + string.Concat(table.Metrics.Select(m => $"<th>{E(m)}</th>")) + "<th>fit (s)</th></tr></thead><tbody>"
        + string.Concat(table.Rows.Select(r => $"<tr><td>{E(r.Model)}</td>"
            + string.Concat(table.Metrics.Select(m => $"<td>{(r.Cells.TryGetValue(m, out var c) ? E(c.Format()) : "")}</td>"))
            + $"<td>{(r.FitSeconds is { } s ? s.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) : "")}</td></tr>"))
        + "</tbody></table>";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
