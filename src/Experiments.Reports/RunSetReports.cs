using System.Globalization;
using Experiments.Core;
using Experiments.Evaluation.Statistics;
using Experiments.Store;

namespace Experiments.Reports;

/// <summary>One run in a comparison or trend: what identifies it, and its leaderboard.</summary>
public sealed record RunColumn(long Run, string Experiment, RunStatus Status, DateTime StartedAt, string Dataset, string? DataFingerprint, string? GitCommit,
    IReadOnlyList<ResultRow> Rows);

/// <summary>Runs side by side, with the paired tests of each later run against the first where they share a split, and notes where they do not.</summary>
public sealed record ComparisonReport(IReadOnlyList<RunColumn> Runs, IReadOnlyList<string> Metrics, IReadOnlyList<ComparisonRecord> Paired, IReadOnlyList<string> Notes);

/// <summary>The runs of one experiment in time order: every metric over time with its interval, with each point's data fingerprint and commit.</summary>
public sealed record TrendReport(string Experiment, IReadOnlyList<RunColumn> Runs, IReadOnlyList<string> Metrics, IReadOnlyList<string> Notes);

/// <summary>Reports across runs: <c>experiments report --compare</c> and <c>--trend</c>.</summary>
public static class RunSetReports
{
    public static ComparisonReport Compare(IRunStore store, IReadOnlyList<RunDetails> runs, int? samples = null)
    {
        RunComparison.RequireComparable(runs);
        var columns = runs.Select(Column).ToList();
        var paired = new List<ComparisonRecord>();
        var notes = new List<string>();
        if (runs.Select(r => r.Run.DataFingerprint).Distinct().Count() > 1)
            notes.Add("These runs saw different data (their data fingerprints differ): differences mix the models' and the data's.");
        foreach (var later in runs.Skip(1))
        {
            var (comparisons, skipped) = RunComparison.Paired(store, runs[0], later, samples);
            paired.AddRange(comparisons);
            notes.AddRange(skipped.Select(s => $"Run {later.Run.Id} against run {runs[0].Run.Id}, {s}: not a paired design, so no paired test; compare their intervals only."));
            if (comparisons.Count == 0 && skipped.Count == 0)
                notes.Add($"Run {later.Run.Id} shares no finished model and split with run {runs[0].Run.Id} (same model name, same split): nothing to pair.");
        }
        return new ComparisonReport(columns, Metrics(columns), paired, notes);
    }

    public static TrendReport Trend(IRunStore store, string experiment)
    {
        var runs = store.ListRuns(int.MaxValue, experiment).OrderBy(r => r.StartedAt).ThenBy(r => r.Id).Select(r => store.GetRun(r.Id)).ToList();
        if (runs.Count == 0)
            throw new ExperimentsException($"The store {store.Location} has no runs of experiment '{experiment}'; `experiments list` shows the experiments it has.");
        var columns = runs.Select(Column).ToList();
        var notes = new List<string>();
        var fingerprints = columns.Select(c => c.DataFingerprint).Distinct().Count();
        if (fingerprints > 1) notes.Add($"The data changed over these runs ({fingerprints} different data fingerprints): a move in a metric may be the data's, not the model's.");
        var commits = columns.Select(c => c.GitCommit).Distinct().Count();
        if (commits > 1) notes.Add($"The code or definition changed over these runs ({commits} different commits).");
        return new TrendReport(experiment, columns, Metrics(columns), notes);
    }

    public static ReportDocument Document(ComparisonReport report)
    {
        var doc = new ReportDocument($"Comparison of runs {string.Join(", ", report.Runs.Select(r => r.Run))}");
        foreach (var note in report.Notes) doc.Text(note, warning: true);
        doc.Heading("Runs");
        RunsTable(doc, report.Runs);
        doc.Heading("Results side by side");
        ResultsTable(doc, report.Runs, report.Metrics);
        var models = report.Runs.SelectMany(r => r.Rows.Select(x => x.Model)).Distinct().ToList();
        foreach (var metric in report.Metrics)
            doc.Chart(metric, ReportCharts.GroupedBars("model", metric, models,
                report.Runs.Select(r => ($"run {r.Run}", (IReadOnlyList<double>)models.Select(m => r.Rows.FirstOrDefault(x => x.Model == m)?.Cells.GetValueOrDefault(metric)?.Value ?? double.NaN).ToList())).ToList()));
        doc.Heading($"Paired tests against run {report.Runs[0].Run}");
        if (report.Paired.Count == 0) doc.Text("No paired tests: the runs share no model on the same split and test units.");
        else
            doc.Table("paired-tests", ["split", "metric", "model", "difference", "interval", "p-value", "Holm p", "test"], report.Paired.Select(c => (IReadOnlyList<ReportDocument.Cell>)
            [
                c.Split, c.Metric, c.Model, ReportDocument.Cell.Of(c.Difference), $"[{MetricCell.Number(c.Lower)}, {MetricCell.Number(c.Upper)}]",
                new ReportDocument.Cell(PValues.Format(c.PValue, c.Resamples), c.PValue, true),
                c.HolmPValue is { } holm ? new ReportDocument.Cell(PValues.FormatAdjusted(holm, c.HolmBound == true, c.Resamples), holm, true) : "—",
                c.Test ?? "—",
            ]));
        return doc;
    }

    public static ReportDocument Document(TrendReport report)
    {
        var doc = new ReportDocument($"{report.Experiment} — trend over {report.Runs.Count} run(s)");
        foreach (var note in report.Notes) doc.Text(note, warning: true);
        doc.Text("Each point is one run: its value and interval. Hover a point for its run, data fingerprint and commit.");
        foreach (var metric in report.Metrics)
        {
            var models = report.Runs.SelectMany(r => r.Rows.Where(x => x.Cells.ContainsKey(metric)).Select(x => x.Model)).Distinct().ToList();
            doc.Chart($"{metric} over time", ReportCharts.Trend(metric, models.Select(m =>
            {
                var points = report.Runs.Select(r => (Run: r, Cell: r.Rows.FirstOrDefault(x => x.Model == m)?.Cells.GetValueOrDefault(metric))).Where(p => p.Cell is not null).ToList();
                return new TrendSeries(m, points.Select(p => p.Run.StartedAt).ToList(), points.Select(p => p.Cell!.Value).ToList(),
                    points.Select(p => p.Cell!.Lower is { } lo && p.Cell.Upper is { } hi ? ((double, double)?)(lo, hi) : null).ToList(),
                    points.Select(p => $"run {p.Run.Run}, data {Short(p.Run.DataFingerprint)}, commit {Short(p.Run.GitCommit)}").ToList());
            }).ToList()));
        }
        doc.Heading("Runs");
        RunsTable(doc, report.Runs);
        doc.Heading("Results per run");
        ResultsTable(doc, report.Runs, report.Metrics);
        return doc;
    }

    private static RunColumn Column(RunDetails run) =>
        new(run.Run.Id, run.Run.Experiment, run.Run.Status, run.Run.StartedAt, run.Run.Dataset, run.Run.DataFingerprint, run.Run.GitCommit, ResultTable.From(run).Rows);

    private static List<string> Metrics(IEnumerable<RunColumn> runs) => runs.SelectMany(r => r.Rows.SelectMany(x => x.Cells.Keys)).Distinct().ToList();

    private static void RunsTable(ReportDocument doc, IReadOnlyList<RunColumn> runs) =>
        doc.Table("runs", ["run", "experiment", "status", "started", "data set", "data fingerprint", "git commit"], runs.Select(r => (IReadOnlyList<ReportDocument.Cell>)
            [r.Run.ToString(CultureInfo.InvariantCulture), r.Experiment, RunReportDocument.Status(r.Status), RunReportDocument.Stamp(r.StartedAt), r.Dataset, r.DataFingerprint ?? "—", r.GitCommit ?? "—"]));

    private static void ResultsTable(ReportDocument doc, IReadOnlyList<RunColumn> runs, IReadOnlyList<string> metrics) =>
        doc.Table("results", ["run", "model", "split", .. metrics, "fit (s)"], runs.SelectMany(r => r.Rows.Select(x => (IReadOnlyList<ReportDocument.Cell>)
            [r.Run.ToString(CultureInfo.InvariantCulture), x.Model, x.Split,
             .. metrics.Select(m => x.Cells.TryGetValue(m, out var c) ? ReportDocument.Cell.Of(c) : new ReportDocument.Cell(x.Status == "finished" ? "—" : x.Status)),
             ReportDocument.Cell.Of(x.FitSeconds, 2)])));

    private static string Short(string? hash) => hash is null ? "—" : hash.Length > 12 ? hash[..12] : hash;
}
