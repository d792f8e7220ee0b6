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
        // Room on the left for the longest name (about 7 px a character), so that names are not cut.
        return Finish(chart, xTitle, "", height: Math.Max(260, 24 * names.Count + 90), left: Math.Clamp(7 * names.Max(n => n.Length) + 20, 60, 260));
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

    /// <summary>
    /// A sweep's history: each trial's value as a marker (one trace per status that has values, e.g. completed and
    /// pruned), and the best value so far as a line over the trial numbers.
    /// </summary>
    public static GenericChart History(string yTitle, IReadOnlyList<Series> points, Series best)
    {
        var traces = points.Select(p => CSharpChart.Point<double, double, string>(p.X, p.Y, Name: p.Name, ShowLegend: true)).ToList();
        traces.Add(CSharpChart.Line<double, double, string>(best.X, best.Y, Name: best.Name, ShowLegend: true, LineColor: Color.fromString("#1f2933")));
        return Finish(CSharpChart.Combine(traces), "trial", yTitle);
    }

    /// <summary>An axis of a parallel-coordinates chart: its label and one value per line; for a choice, its values' labels at 0, 1, 2 ….</summary>
    public sealed record Axis(string Label, IReadOnlyList<double> Values, IReadOnlyList<string>? Categories = null);

    /// <summary>Parallel coordinates: one line per point across the axes, coloured by <paramref name="colour"/> (with its scale).</summary>
    public static GenericChart ParallelCoordinates(IReadOnlyList<Axis> axes, IReadOnlyList<double> colour, string colourTitle, bool reverseScale)
    {
        var trace = new TraceDomain("parcoords");
        trace.SetProperty("dimensions", axes.Select(a =>
        {
            var dimension = new Dictionary<string, object> { ["label"] = a.Label, ["values"] = a.Values.ToArray() };
            if (a.Categories is { } categories)
            {
                dimension["tickvals"] = Enumerable.Range(0, categories.Count).ToArray();
                dimension["ticktext"] = categories.ToArray();
            }
            return dimension;
        }).ToArray());
        trace.SetProperty("line", new Dictionary<string, object>
        {
            ["color"] = colour.ToArray(), ["colorscale"] = "Viridis", ["reversescale"] = reverseScale, ["showscale"] = true,
            ["colorbar"] = new Dictionary<string, object> { ["title"] = new Dictionary<string, object> { ["text"] = colourTitle } },
        });
        return Frame(GenericChart.ofTraceObject(true, trace), width: 1140, height: 420, top: 60, left: 110);
    }

    /// <summary>Points of one parameter against the objective: numeric values (on a log axis where the parameter is searched on one), or categories.</summary>
    public static GenericChart Scatter(string xTitle, string yTitle, IReadOnlyList<double>? x, IReadOnlyList<string>? categories, IReadOnlyList<double> y,
        IReadOnlyList<string> text, bool logX)
    {
        var chart = x is not null
            ? CSharpChart.Point<double, double, string>(x, y, ShowLegend: false, MultiText: text.ToArray())
            : CSharpChart.Point<string, double, string>(categories!, y, ShowLegend: false, MultiText: text.ToArray());
        chart = Finish(chart, xTitle, yTitle);
        return logX ? Plotly.NET.CSharp.GenericChartExtensions.WithXAxisStyle<double, double, string>(chart, TitleText: xTitle, AxisType: StyleParam.AxisType.Log) : chart;
    }

    /// <summary>Asymmetric error bars from each point's interval (none where a point has no interval).</summary>
    private static Error Whiskers(IReadOnlyList<double> values, IReadOnlyList<(double Lower, double Upper)?> intervals)
    {
        var plus = values.Select((v, i) => intervals[i] is { } b ? b.Upper - v : 0).ToArray();
        var minus = values.Select((v, i) => intervals[i] is { } b ? v - b.Lower : 0).ToArray();
        return Error.init<double, double>(null, null, Some(false), Some<IEnumerable<double>>(plus), Some<IEnumerable<double>>(minus), null, null, null, null, null, null, null, null, null, null);
    }

    /// <summary>
    /// The charts' look: plotly.js's defaults with its usual ten colours and the page's font. Plotly.NET's default
    /// template is large and slow to serialise (about a second per chart on a loaded machine, against milliseconds for
    /// this one), and would be written into every chart again.
    /// </summary>
    private static readonly Template Look = CreateLook();

    private static Template CreateLook()
    {
        var layout = new Layout();
        layout.SetProperty("colorway", new[] { "#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff", "#fecb52" });
        layout.SetProperty("font", new Dictionary<string, object> { ["family"] = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", ["color"] = "#1f2933" });
        return Template.init<Trace>(layout, null);
    }

    private static GenericChart Finish(GenericChart chart, string xTitle, string yTitle, int height = 380, int left = 60)
    {
        chart = Plotly.NET.CSharp.GenericChartExtensions.WithXAxisStyle<double, double, string>(chart, TitleText: xTitle);
        chart = Plotly.NET.CSharp.GenericChartExtensions.WithYAxisStyle<double, double, string>(chart, TitleText: yTitle);
        return Frame(chart, 560, height, 20, left);
    }

    /// <summary>The look, size, margins and the full plotly.js reference, for every chart.</summary>
    private static GenericChart Frame(GenericChart chart, int width, int height, int top, int left)
    {
        chart = Chart.withTemplate(Look).Invoke(chart);
        chart = Chart.withSize(Some(width), Some(height)).Invoke(chart);
        chart = Chart.withMargin(Margin.init<int, int, int, int, int, bool>(Some(left), Some(20), Some(top), Some(60), null, null)).Invoke(chart);
        return Chart.withDisplayOptions(DisplayOptions.init(null, null, null, null, null, null, Some(PlotlyJSReference.Full))).Invoke(chart);
    }

    private static FSharpOption<T> Some<T>(T value) => FSharpOption<T>.Some(value);
}
