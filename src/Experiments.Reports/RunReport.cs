using System.Globalization;
using System.Text.Json;
using Experiments.Evaluation;
using Experiments.Store;

namespace Experiments.Reports;

/// <summary>
/// The ten-second summary of a run: the winner on the definition's first metric, its lift over the baseline in %
/// (with the paired interval turned into %), whether that difference survives Holm's adjustment, and one sentence per
/// model family.
/// </summary>
public sealed record RunSummary(
    string? Metric, bool LowerIsBetter, string? Winner, double? WinnerValue, string? Baseline, double? BaselineValue,
    double? LiftPercent, double? LiftLowerPercent, double? LiftUpperPercent, double? HolmP, bool? Significant,
    string Headline, IReadOnlyList<string> Families);

/// <summary>A leaderboard row: a model (one split, or the mean over splits) with every metric's value and interval, fit and scoring time.</summary>
public sealed record LeaderboardRow(int Rank, string Model, string ModelType, string Split, string Status, IReadOnlyDictionary<string, MetricCell> Metrics,
    double? FitSeconds, double? EvaluateSeconds, string? Error);

/// <summary>
/// Everything a run's report shows, computed from the store alone; the JSON report is this record (the definition as
/// an object), and the HTML and Markdown reports render it.
/// </summary>
public sealed record RunReport(
    RunRecord Run, JsonElement Definition, RunSummary Summary, IReadOnlyList<string> Metrics, IReadOnlyList<string> Protocols,
    IReadOnlyList<LeaderboardRow> Leaderboard, IReadOnlyList<ComparisonRecord> Comparisons, IReadOnlyList<ProfileRecord> Profile,
    IReadOnlyList<DataIssueRecord> DataChecks, IReadOnlyList<TrialRecord> Trials, IReadOnlyList<CurveRecord> Curves, IReadOnlyList<ArtifactRecord> Artifacts, double Alpha,
    RegressionCheckRecord? Regression)
{
    public static RunReport From(RunDetails details)
    {
        var table = ResultTable.From(details);
        var definition = JsonDocument.Parse(details.Run.Definition).RootElement.Clone();
        var alpha = 1 - (definition.TryGetProperty("evaluation", out var e) && e.TryGetProperty("confidenceLevel", out var level) ? level.GetDouble() : 0.95);
        var primary = table.Metrics.FirstOrDefault(m => table.Rows.Any(r => r.Cells.ContainsKey(m)));
        var lower = primary is not null && Core.Definitions.MetricName.LowerIsBetter(MetricName(primary));
        // Best first on the first metric; models without it (failed, or another kind of model) after them, in run order.
        var ranked = table.Rows
            .Select((row, index) => (row, index))
            .OrderBy(x => primary is not null && x.row.Cells.ContainsKey(primary) ? 0 : 1)
            .ThenBy(x => primary is not null && x.row.Cells.TryGetValue(primary, out var c) ? (lower ? c.Value : -c.Value) : 0)
            .ThenBy(x => x.index)
            .Select((x, rank) => new LeaderboardRow(rank + 1, x.row.Model, x.row.ModelType, x.row.Split, x.row.Status, x.row.Cells, x.row.FitSeconds, x.row.EvaluateSeconds, x.row.Error))
            .ToList();
        var summary = Summarise(details, ranked, primary, lower, alpha);
        return new RunReport(details.Run, definition, summary, table.Metrics, table.Protocols, ranked, details.Comparisons, details.Profile,
            details.DataIssues, details.Trials, details.Curves, details.Artifacts, alpha, details.Regression);
    }

    /// <summary>"ndcg@10" → "ndcg".</summary>
    public static string MetricName(string label) => label.Split('@')[0];

    private static RunSummary Summarise(RunDetails details, IReadOnlyList<LeaderboardRow> ranked, string? metric, bool lower, double alpha)
    {
        var scored = ranked.Where(r => metric is not null && r.Metrics.ContainsKey(metric)).ToList();
        if (metric is null || scored.Count == 0)
            return new RunSummary(metric, lower, null, null, null, null, null, null, null, null, null, "No model finished with a metric: there is no winner.", []);
        var winner = scored[0];
        var value = winner.Metrics[metric].Value;
        var baselineName = details.Comparisons.FirstOrDefault()?.Baseline;
        var baseline = ranked.FirstOrDefault(r => r.Model == baselineName && r.Metrics.ContainsKey(metric));
        string Pct(double x) => x.ToString("+0.0;−0.0;0.0", CultureInfo.InvariantCulture) + "%";
        string Num(double x) => MetricCell.Number(x);
        double? lift = null, liftLower = null, liftUpper = null, holm = null;
        bool? significant = null;
        string headline;
        if (baseline is null || baseline.Model == winner.Model)
            headline = baseline is null
                ? $"{winner.Model} is the best of {scored.Count} model(s) on {metric}: {Num(value)}."
                : $"The baseline {winner.Model} is the best of {scored.Count} model(s) on {metric} ({Num(value)}): no model beat it.";
        else
        {
            var baseValue = baseline.Metrics[metric].Value;
            lift = baseValue == 0 ? null : 100 * (value - baseValue) / Math.Abs(baseValue);
            // The paired test of the winner against the baseline on this metric; with several splits, the first split's.
            var tests = details.Comparisons.Where(c => c.Model == winner.Model && c.Metric == metric).ToList();
            var test = tests.FirstOrDefault();
            if (test is not null && baseValue != 0 && tests.Select(t => t.Split).Distinct().Count() == 1)
                (liftLower, liftUpper) = (100 * test.Lower / Math.Abs(baseValue), 100 * test.Upper / Math.Abs(baseValue));
            if (test?.HolmPValue is { } h)
            {
                holm = h;
                significant = tests.All(t => t.HolmPValue < alpha);
            }
            var direction = (value > baseValue) ^ lower ? "better" : "worse";
            var interval = liftLower is { } lo && liftUpper is { } hi ? $" [{Pct(lo)}, {Pct(hi)}]" : "";
            var verdict = significant switch
            {
                true => $"significant after Holm's adjustment (p = {MetricCell.Number(holm!.Value, 4)}{(tests.Count > 1 ? $", on all {tests.Count} splits" : "")})",
                false => $"not significant after Holm's adjustment (p = {MetricCell.Number(holm!.Value, 4)}{(tests.Count > 1 ? ", on at least one split" : "")}): the data do not tell them apart",
                null => "no paired test recorded",
            };
            headline = lift is { } l
                ? $"{winner.Model} wins on {metric} with {Num(value)}: {Pct(l)}{interval} against the baseline {baseline.Model} ({Num(baseValue)}), {direction}; {verdict}."
                : $"{winner.Model} wins on {metric} with {Num(value)} against the baseline {baseline.Model} ({Num(baseValue)}); {verdict}.";
        }
        var families = scored.GroupBy(r => r.ModelType).Select(g =>
        {
            var best = g.First();
            var v = best.Metrics[metric].Value;
            var against = baseline is not null && baseline.Model != best.Model && baseline.Metrics[metric].Value != 0
                ? $", {Pct(100 * (v - baseline.Metrics[metric].Value) / Math.Abs(baseline.Metrics[metric].Value))} against the baseline"
                : baseline?.Model == best.Model ? " (the baseline)" : "";
            var who = g.Count() > 1 ? $"the best of {g.Count()} is {best.Model}, with" : best.Model == g.Key ? "" : $"{best.Model},";
            return $"{g.Key}: {who} {metric} {Num(v)}{against}, rank {best.Rank} of {scored.Count}.".Replace(":  ", ": ");
        }).ToList();
        return new RunSummary(metric, lower, winner.Model, value, baseline?.Model, baseline?.Metrics[metric].Value, lift, liftLower, liftUpper, holm, significant, headline, families);
    }
}
