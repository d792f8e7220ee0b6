using System.Text.RegularExpressions;
using Microsoft.FSharp.Core;
using Plotly.NET;
using Experiments.Reports;

namespace Experiments.Interactive;

/// <summary>
/// A Plotly.NET chart as one notebook output that draws offline: plotly.js (the copy inside Plotly.NET, as the HTML
/// reports inline it) in the output itself, then the chart's div and drawing script. Plotly.NET.Interactive's own
/// formatter loads plotly.js from a CDN through require.js instead, so its charts stay blank without a network.
/// </summary>
public static class OfflineCharts
{
    /// <summary>Marks the script that carries plotly.js in a chart's output (the notebook tests look for it).</summary>
    public const string LibraryMarker = "experiments: plotly.js inline";

    /// <summary>
    /// plotly.js evaluated once per page (a later chart finds <c>window.Plotly</c> and skips it), with AMD and CommonJS
    /// hidden from its loader: in a page with require.js (Jupyter) it would otherwise register as an anonymous module
    /// and leave <c>window.Plotly</c> unset.
    /// </summary>
    private static readonly Lazy<string> Library = new(() =>
        $"<script type=\"text/javascript\">/* {LibraryMarker} */\nif (typeof window.Plotly === 'undefined') {{ (function (define, exports, module) {{\n{ReportCharts.PlotlyJs}\n}})(); }}\n</script>");

    /// <summary>
    /// The chart's HTML for a notebook: plotly.js inline, then the chart (its own plotly.js reference overridden, so none
    /// is fetched), drawn once <c>window.Plotly</c> exists — at once here, or when another output of the page that
    /// carries plotly.js has run (a saved notebook may keep the library in its first chart only).
    /// </summary>
    public static string Html(GenericChart chart)
    {
        var embedded = DisplayOptions.init(null, null, null, null, null, null, FSharpOption<PlotlyJSReference>.Some(PlotlyJSReference.Full));
        var offline = GenericChart.setDisplayOptions(DisplayOptions.combine(GenericChart.getDisplayOptions(chart), embedded), chart);
        var html = GenericChart.toChartHTML(offline);
        // Plotly.NET's script defines renderPlotly_<id> and calls it at once; the call waits for the library instead.
        var call = Regex.Match(html, @"\n(renderPlotly_[0-9a-f]+)\(\);\s*</script>", RegexOptions.RightToLeft);
        if (!call.Success) throw new InvalidOperationException("Plotly.NET's chart HTML has no renderPlotly call where Experiments.Interactive expects it; its layout changed.");
        var waiting = $"\n(function draw() {{ if (typeof window.Plotly !== 'undefined') {call.Groups[1].Value}(); else setTimeout(draw, 50); }})();\n</script>";
        return "<div>" + Library.Value + html[..call.Index] + waiting + html[(call.Index + call.Length)..] + "</div>";
    }
}
