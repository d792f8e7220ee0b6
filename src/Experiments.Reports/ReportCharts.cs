using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using Plotly.NET.TraceObjects;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Experiments.Reports;

/// <summary>A line of a chart: its name and points.</summary>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y);

/// <summary>A model's metric over runs: each run's time, value, interval and hover text.</summary>
public sealed record TrendSeries(string Name, IReadOnlyList<DateTime> X, IReadOnlyList<double> Y, IReadOnlyList<(double Lower, double Upper)?> Intervals, IReadOnlyList<string> Text);

/// <summary>
/// The charts of the reports, built with Plotly.NET. Every chart carries the full plotly.js reference in its display
/// options (set on each chart: Plotly.NET's global default does not reach charts already made), so a chart written on its
/// own is offline too; a report inlines that same plotly.js once in its head and writes each chart's div and script.
/// </summary>
public static class ReportCharts
{
    /// <summary>The plotly.js that <see cref="PlotlyJSReference.Full"/> embeds, read from Plotly.NET's own resources.</summary>
    public static string PlotlyJs => LazyPlotlyJs.Value;

    private static readonly Lazy<string> LazyPlotlyJs = new(() =>
    {
        var assembly = typeof(GenericChart).Assembly;
        var name = assembly.GetManifestResourceNames().Single(n => n.StartsWith("Plotly.NET.plotly-", StringComparison.Ordinal) && n.EndsWith(".min.js", StringComparison.Ordinal));
        using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
        // A script's text ends at the first "</script"; plotly.js has none, but this keeps the inline script safe whatever it holds.
        return reader.ReadToEnd().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
    });

    /// <summary>The chart's div and drawing script (no script reference: the page inlines plotly.js once).</summary>
    public static string Html(GenericChart chart) => GenericChart.toChartHTML(chart);

    /// <summary>Bars (one per model) with asymmetric error bars from each bar's interval, where it has one.</summary>
    public static GenericChart Bars(string yTitle, IReadOnlyList<string> names, IReadOnlyList<double> values, IReadOnlyList<(double Lower, double Upper)?> intervals)
    {
        var chart = CSharpChart.Column<double, string, string>(values, Keys: names.ToArray(), Name: yTitle, ShowLegend: false);
        if (intervals.Any(i => i is not null))
        {
            chart = Chart.withYError(Whiskers(values, intervals)).Invoke(chart);
        }
        return Finish(chart, "", yTitle);
    }

    /// <summary>Horizontal bars, largest on top, with symmetric error bars (a standard deviation) where given.</summary>
    public static GenericChart HorizontalBars(string xTitle, IReadOnlyList<string> names, IReadOnlyList<double> values, IReadOnlyList<double>? errors)
    {
        var order = Enumerable.Range(0, names.Count).OrderBy(i => values[i]).ToArray();
        var chart = CSharpChart.Bar<double, string, string>(order.Select(i => values[i]), Keys: order.Select(i => names[i]).ToArray(), ShowLegend: false);
        if (errors is not null)
        {
            var error = Error.init<double, double>(null, null, Some(true), Some<IEnumerable<double>>(order.Select(i => errors[i]).ToArray()), null, null, null, null, null, null, null, null, null, null, null);
            chart = Chart.withXError(error).Invoke(chart);
        }
        return Finish(chart, xTitle, "", height: Math.Max(260, 24 * names.Count + 90));
    }

    /// <summary>Lines, one per series (markers where a series is short).</summary>
    public static GenericChart Lines(string xTitle, string yTitle, IReadOnlyList<Series> series, bool diagonal = false)
    {
        var traces = series.Select(s => CSharpChart.Line<double, double, string>(s.X, s.Y, ShowMarkers: s.X.Count <= 60, Name: s.Name, ShowLegend: true)).ToList();
        if (diagonal)
            traces.Add(CSharpChart.Line<double, double, string>([0.0, 1.0], [0.0, 1.0], Name: "chance / perfect calibration", ShowLegend: true, LineDash: StyleParam.DrawingStyle.Dash, LineColor: Color.fromString("#9aa5b1")));
        return Finish(CSharpChart.Combine(traces), xTitle, yTitle);
    }

    /// <summary>Each model's metric over time, one line per model, whiskers for each run's interval, hover text per point.</summary>
    public static GenericChart Trend(string yTitle, IReadOnlyList<TrendSeries> series)
    {
        var traces = series.Select(s =>
        {
            var trace = CSharpChart.Line<DateTime, double, string>(s.X, s.Y, ShowMarkers: true, Name: s.Name, ShowLegend: true, MultiText: s.Text.ToArray());
            return s.Intervals.Any(i => i is not null) ? Chart.withYError(Whiskers(s.Y, s.Intervals)).Invoke(trace) : trace;
        });
        return Finish(CSharpChart.Combine(traces), "run started (UTC)", yTitle);
    }

    /// <summary>Grouped bars: one group per category, one bar per series.</summary>
    public static GenericChart GroupedBars(string xTitle, string yTitle, IReadOnlyList<string> categories, IReadOnlyList<(string Name, IReadOnlyList<double> Values)> series) =>
        Finish(CSharpChart.Combine(series.Select(s => CSharpChart.Column<double, string, string>(s.Values, Keys: categories.ToArray(), Name: s.Name, ShowLegend: true))), xTitle, yTitle);

    /// <summary>A heatmap of counts with the counts written in the cells (a confusion matrix).</summary>
    public static GenericChart Counts(IReadOnlyList<string> columns, IReadOnlyList<string> rows, double[][] counts, string xTitle, string yTitle)
    {
        var text = counts.SelectMany(r => r).Select(c => c.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var chart = CSharpChart.Heatmap<double, string, string, string>(counts, X: columns.ToArray(), Y: rows.ToArray(), ShowScale: false, MultiText: text);
        return Finish(chart, xTitle, yTitle, height: 300);
    }

    /// <summary>Asymmetric error bars from each point's interval (none where a point has no interval).</summary>
    private static Error Whiskers(IReadOnlyList<double> values, IReadOnlyList<(double Lower, double Upper)?> intervals)
    {
        var plus = values.Select((v, i) => intervals[i] is { } b ? b.Upper - v : 0).ToArray();
        var minus = values.Select((v, i) => intervals[i] is { } b ? v - b.Lower : 0).ToArray();
        return Error.init<double, double>(null, null, Some(false), Some<IEnumerable<double>>(plus), Some<IEnumerable<double>>(minus), null, null, null, null, null, null, null, null, null, null);
    }

    private static GenericChart Finish(GenericChart chart, string xTitle, string yTitle, int height = 380)
    {
        chart = Plotly.NET.CSharp.GenericChartExtensions.WithXAxisStyle<double, double, string>(chart, TitleText: xTitle);
        chart = Plotly.NET.CSharp.GenericChartExtensions.WithYAxisStyle<double, double, string>(chart, TitleText: yTitle);
        chart = Chart.withSize(Some(560), Some(height)).Invoke(chart);
        chart = Chart.withMargin(Margin.init<int, int, int, int, int, bool>(Some(60), Some(20), Some(20), Some(60), null, null)).Invoke(chart);
        return Chart.withDisplayOptions(DisplayOptions.init(null, null, null, null, null, null, Some(PlotlyJSReference.Full))).Invoke(chart);
    }

    private static FSharpOption<T> Some<T>(T value) => FSharpOption<T>.Some(value);
}
