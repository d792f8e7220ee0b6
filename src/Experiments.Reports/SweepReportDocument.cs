using System.Globalization;
using Experiments.Sweeps;

namespace Experiments.Reports;

/// <summary>
/// Lays out a sweep's report: summary, what was swept, the refit's test result, history with best-so-far, parameter
/// importance, parallel coordinates, each parameter against the objective, and the trials (completed ones best first,
/// then those that did not complete, with their errors).
/// </summary>
public static class SweepReportDocument
{
    /// <summary>Rows of each trials table in HTML and Markdown (the JSON report has every trial): enough to read, short enough to scroll.</summary>
    public const int MaxTableRows = 30;

    /// <summary>Parameter-vs-objective charts beyond this many show the most important parameters only.</summary>
    private const int MaxScatterCharts = 24;

    public static ReportDocument Build(SweepReport report)
    {
        var sweep = report.Sweep;
        var result = report.Result;
        var minimise = sweep.Direction == "minimize";
        var doc = new ReportDocument($"{sweep.Name} — sweep {sweep.Id}");
        if (sweep.Status != "finished")
            doc.Text($"{(sweep.Error is null ? "" : $"{sweep.Error}. ")}The report shows the trials it recorded.", warning: true, lead: $"Status: {sweep.Status}.");

        doc.Heading("Summary");
        doc.Text(report.Headline, emphasis: true);

        doc.Heading("What was swept");
        doc.Table("sweep-facts", ["fact", "value"], new List<IReadOnlyList<ReportDocument.Cell>>
        {
            Row("objective", $"{(minimise ? "minimise" : "maximise")} {sweep.Metric} ({sweep.ScoredOn})"),
            Row("trials", string.Join(", ", report.StatusCounts.Select(c => $"{c.Value} {c.Key}"))),
            Row("tuner", sweep.Tuner),
            Row("pruner", sweep.Pruner ?? "none"),
            Row("seed", sweep.Seed.ToString(CultureInfo.InvariantCulture)),
            Row("parallelism", sweep.Parallelism.ToString(CultureInfo.InvariantCulture)),
            Row("started", RunReportDocument.Stamp(sweep.CreatedAt)),
            Row("ended", sweep.EndedAt is { } end ? $"{RunReportDocument.Stamp(end)} ({RunReportDocument.Duration(end - sweep.CreatedAt)})" : "—"),
            Row("status", sweep.Status),
            Row("run", sweep.RunId is { } run ? $"{run} (the refit; its report: experiments report {run})" : "— (run through the engine directly: no refit)"),
        });

        if (report.Refit is { } refit)
        {
            doc.Heading("Refit of the best configuration, tested once");
            doc.Text($"The best trial's configuration fitted again on training + validation and evaluated on the test part, which no trial saw (run {refit.RunId}, {refit.RunStatus}).");
            if (refit.Rows.Count == 0) doc.Text($"The refit recorded no result{(refit.Error is null ? "" : $": {refit.Error}")}.", warning: true);
            else RunReportDocument.Leaderboard(doc, "refit", refit.Metrics, refit.Rows);
        }

        History(doc, report, minimise);
        Importance(doc, report);
        ParallelCoordinates(doc, report, minimise);
        Scatter(doc, report);
        Trials(doc, report);

        doc.Heading("Reproducibility");
        doc.Bullets([
            $"Report again from the store: experiments report --sweep {sweep.Id} --format html|markdown|json|pdf",
            sweep.Status == "finished" ? "Rerun: experiments sweep DEFINITION.json — the same definition, data, seed and parallelism propose the same trials."
                : $"Continue it: experiments sweep DEFINITION.json --resume {sweep.Id} (its finished trials are kept).",
        ]);
        doc.Code("Search space", "json", System.Text.Json.JsonSerializer.Serialize(report.Space, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return doc;
    }

    private static void History(ReportDocument doc, SweepReport report, bool minimise)
    {
        var valued = report.Result.Trials.Where(t => t.Value is { } v && double.IsFinite(v) && t.Status != TrialStatus.Running).ToList();
        if (valued.Count == 0) return;
        doc.Heading("History");
        doc.Text($"Each trial's {report.Sweep.Metric} in the order the trials were proposed (a pruned trial: its last reported value); the line is the best completed value so far ({(minimise ? "lowest" : "highest")}).");
        var points = valued.GroupBy(t => t.Status).OrderBy(g => g.Key)
            .Select(g => new Series(g.Key.Name(), g.Select(t => (double)t.Number).ToList(), g.Select(t => t.Value!.Value).ToList())).ToList();
        var best = report.History.Where(h => h.Best is not null).ToList();
        doc.Chart($"{report.Sweep.Metric} by trial", ReportCharts.History(report.Sweep.Metric, points,
            new Series("best so far", best.Select(h => (double)h.Number).ToList(), best.Select(h => h.Best!.Value).ToList())));
    }

    private static void Importance(ReportDocument doc, SweepReport report)
    {
        if (report.Importance.Count == 0) return;
        doc.Heading("Parameter importance");
        doc.Text("fANOVA (Hutter et al. 2014) over a random forest fitted on the completed trials: the share of the objective's variance each parameter explains on its own " +
                 "(importance: normalised to sum to 1 within its scope, as Optuna reports it). A scope other than \"all trials\" covers the trials of one branch of a choice.");
        doc.Table("importance", ["parameter", "importance", "variance fraction", "trials", "scope"], report.Importance.Select(i => (IReadOnlyList<ReportDocument.Cell>)
            [i.Parameter, ReportDocument.Cell.Of(i.Importance, 3), ReportDocument.Cell.Of(i.VarianceFraction, 3), new ReportDocument.Cell(i.Trials.ToString(CultureInfo.InvariantCulture), i.Trials, true), i.Scope ?? "all trials"]));
        foreach (var scope in report.Importance.GroupBy(i => i.Scope).Take(6))
            doc.Chart(scope.Key is null ? "Parameter importance" : $"Parameter importance: {scope.Key}",
                ReportCharts.HorizontalBars("importance", scope.Select(i => i.Parameter).ToList(), scope.Select(i => i.Importance).ToList(), null));
    }

    private static void ParallelCoordinates(ReportDocument doc, SweepReport report, bool minimise)
    {
        var completed = report.Result.Trials.Where(t => t.Status == TrialStatus.Completed && t.HasLoss).ToList();
        var space = report.Result.Space;
        var shared = space.Parameters.Where(p => p is not FixedParameter && completed.All(t => t.Parameters.ContainsKey(p.Name))).ToList();
        if (completed.Count < 2 || shared.Count == 0) return;
        doc.Heading("Parallel coordinates");
        doc.Text($"One line per completed trial ({completed.Count}) across the parameters every completed trial had (log-scaled ones as log10), ending at its {report.Sweep.Metric}; " +
                 $"the colour is the objective, brightest where it is best. Drag along an axis to pick a range.");
        var axes = shared.Select(p =>
        {
            if (p is ChoiceParameter choice)
                return new ReportCharts.Axis(p.Name, completed.Select(t => (double)choice.Values.ToList().FindIndex(v => ParameterValue.Same(v, t.Parameters[p.Name]))).ToList(),
                    choice.Values.Select(SweepReport.Format).ToList());
            var log = p is FloatParameter { Log: true } or IntegerParameter { Log: true };
            return new ReportCharts.Axis(log ? $"log10({p.Name})" : p.Name,
                completed.Select(t => ParameterValue.ToDouble(t.Parameters[p.Name]) is var x && log ? Math.Log10(x) : x).ToList());
        }).ToList();
        var objective = completed.Select(t => t.Value!.Value).ToList();
        axes.Add(new ReportCharts.Axis(report.Sweep.Metric, objective));
        doc.Chart("Parallel coordinates of the completed trials", ReportCharts.ParallelCoordinates(axes, objective, report.Sweep.Metric, reverseScale: minimise));
    }

    private static void Scatter(ReportDocument doc, SweepReport report)
    {
        var space = report.Result.Space;
        // Most important first (by the all-trials scope, then any scope), then the rest in the space's order.
        var order = report.Importance.OrderBy(i => i.Scope is null ? 0 : 1).ThenByDescending(i => i.Importance).Select(i => i.Parameter)
            .Concat(report.Parameters).Distinct().ToList();
        var charts = order.Select(name => (Parameter: space.Parameters.First(p => p.Name == name), Points: report.Result.ParameterVsMetric(name)))
            .Where(x => x.Points.Count > 0).ToList();
        if (charts.Count == 0) return;
        doc.Heading("Each parameter against the objective");
        doc.Text($"Every completed trial's value of the parameter (where it was active) against its {report.Sweep.Metric}; hover a point for its trial." +
                 (charts.Count > MaxScatterCharts ? $" The {MaxScatterCharts} most important of {charts.Count} parameters are drawn." : ""));
        foreach (var (parameter, points) in charts.Take(MaxScatterCharts))
        {
            var numeric = points.All(p => ParameterValue.IsNumber(p.Value));
            var log = parameter is FloatParameter { Log: true } or IntegerParameter { Log: true };
            doc.Chart($"{parameter.Name} vs {report.Sweep.Metric}", ReportCharts.Scatter(parameter.Name, report.Sweep.Metric,
                numeric ? points.Select(p => ParameterValue.ToDouble(p.Value)).ToList() : null,
                numeric ? null : points.Select(p => SweepReport.Format(p.Value)).ToList(),
                points.Select(p => p.Metric).ToList(), points.Select(p => $"trial {p.Number}").ToList(), numeric && log));
        }
    }

    private static void Trials(ReportDocument doc, SweepReport report)
    {
        var metric = report.Sweep.Metric;
        var completed = report.Trials.Where(t => t.Rank is not null).ToList();
        var others = report.Trials.Where(t => t.Rank is null).ToList();
        var metrics = report.Trials.SelectMany(t => t.Metrics.Keys).Where(m => m != metric).Distinct().Order(StringComparer.Ordinal).ToList();
        doc.Heading("Trials");
        doc.Text($"Completed trials ranked by {metric} ({report.Sweep.ScoredOn}; {(report.Sweep.Direction == "minimize" ? "lowest" : "highest")} first), with every metric the trials recorded (brackets: the interval where the evaluation gives one)." +
                 (completed.Count > MaxTableRows ? $" The best {MaxTableRows} of {completed.Count} are shown; the JSON report (experiments report --sweep {report.Sweep.Id} --format json) has every trial." : ""));
        doc.Table("trials", ["#", "trial", metric, .. metrics, .. report.Parameters, "seconds"], completed.Take(MaxTableRows).Select(t => (IReadOnlyList<ReportDocument.Cell>)
        [
            t.Rank!.Value.ToString(CultureInfo.InvariantCulture), t.Number.ToString(CultureInfo.InvariantCulture),
            Metric(t, metric, metric), .. metrics.Select(m => Metric(t, m, metric)),
            .. report.Parameters.Select(p => t.Parameters.TryGetValue(p, out var v) ? Parameter(v) : new ReportDocument.Cell("—")),
            ReportDocument.Cell.Of(t.Seconds, 2),
        ]));
        if (others.Count == 0) return;
        doc.Heading("Trials that did not complete", 3);
        doc.Text($"{string.Join(", ", others.GroupBy(t => t.Status).Select(g => $"{g.Count()} {g.Key}"))}: pruned trials stopped early on their intermediate values (the value is the last one reported), " +
                 "failed ones threw (their error below), timed-out and out-of-memory ones ran past the per-trial limits." +
                 (others.Count > MaxTableRows ? $" The first {MaxTableRows} of {others.Count} are shown; the JSON report has every one." : ""));
        doc.Table("unfinished-trials", ["trial", "status", metric, "steps", "seconds", "error", .. report.Parameters], others.Take(MaxTableRows).Select(t => (IReadOnlyList<ReportDocument.Cell>)
        [
            t.Number.ToString(CultureInfo.InvariantCulture), t.Status, ReportDocument.Cell.Of(t.Value),
            new ReportDocument.Cell(t.IntermediateValues.ToString(CultureInfo.InvariantCulture), t.IntermediateValues, true), ReportDocument.Cell.Of(t.Seconds, 2),
            t.Error is null ? "—" : $"{(t.ErrorType is null ? "" : t.ErrorType + ": ")}{t.Error}",
            .. report.Parameters.Select(p => t.Parameters.TryGetValue(p, out var v) ? Parameter(v) : new ReportDocument.Cell("—")),
        ]));
    }

    /// <summary>A trial's metric with its interval; for the objective, the trial's value where the metrics lack it.</summary>
    private static ReportDocument.Cell Metric(SweepTrialRow trial, string name, string objective) =>
        trial.Metrics.TryGetValue(name, out var m) ? ReportDocument.Cell.Of(new MetricCell(m.Value, m.Lower, m.Upper, "bootstrap"))
        : name == objective ? ReportDocument.Cell.Of(trial.Value) : new ReportDocument.Cell("—");

    private static ReportDocument.Cell Parameter(object value) =>
        ParameterValue.IsNumber(value) ? new ReportDocument.Cell(SweepReport.Format(value), ParameterValue.ToDouble(value), true) : SweepReport.Format(value);

    private static IReadOnlyList<ReportDocument.Cell> Row(string name, string value) => [name, value];
}
