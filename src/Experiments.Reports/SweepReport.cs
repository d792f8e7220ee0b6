using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Store;
using Experiments.Sweeps;

namespace Experiments.Reports;

/// <summary>What identifies a sweep and how it ran, as the store records it.</summary>
/// <param name="ScoredOn">What a trial's value is: "on validation", "the mean over k folds" (from the run's definition).</param>
public sealed record SweepFacts(long Id, string Name, string Status, string Tuner, string? Pruner, string Metric, string Direction, int Seed, int Parallelism,
    DateTime CreatedAt, DateTime? EndedAt, string? Error, long? RunId, string ScoredOn);

/// <summary>
/// One trial as stored: its parameters (only the active ones), its objective value and other metrics, time, memory and
/// error; <see cref="Rank"/> is its place among the completed trials (1 = best), null for the others.
/// </summary>
public sealed record SweepTrialRow(int Number, int? Rank, string Status, double? Value, IReadOnlyDictionary<string, object> Parameters,
    IReadOnlyDictionary<string, TrialMetric> Metrics, int IntermediateValues, double Seconds, long? PeakMemoryBytes, string? ErrorType, string? Error,
    DateTime StartedAt, DateTime? EndedAt);

/// <summary>The refit of the sweep's best configuration on training + validation, evaluated once on the test part: the sweep's run.</summary>
public sealed record SweepRefit(long RunId, string RunStatus, string? Error, IReadOnlyList<string> Metrics, IReadOnlyList<LeaderboardRow> Rows);

/// <summary>
/// Everything a sweep's report shows, from the store alone: the sweep's facts and space (as an object), the trials
/// (completed ones best first, then the others in trial order), the best-so-far history, fANOVA parameter importance
/// over the completed trials, and the refit's test result where the sweep belongs to a run. The JSON report is this
/// record; the HTML and Markdown reports render it.
/// </summary>
public sealed record SweepReport(
    SweepFacts Sweep, JsonElement Space, IReadOnlyList<string> Parameters, IReadOnlyDictionary<string, int> StatusCounts, string Headline,
    SweepTrialRow? Best, IReadOnlyList<SweepTrialRow> Trials, IReadOnlyList<BestSoFar> History, IReadOnlyList<ParameterImportance> Importance, SweepRefit? Refit)
{
    /// <summary>The trials and space as the engine sees them (for the charts); not part of the JSON.</summary>
    [JsonIgnore]
    public SweepResult Result { get; private init; } = null!;

    /// <summary>The sweep's report; <paramref name="runs"/> gives its refit (the run it belongs to), when there is one.</summary>
    public static SweepReport From(ISweepStorage storage, long sweepId, IRunStore? runs = null)
    {
        var sweep = storage.GetSweep(sweepId);
        var space = SpaceJson.Parse(sweep.Space, $"the space of sweep {sweepId} in {storage.Location}");
        var trials = storage.GetTrials(sweepId);
        var stop = sweep.Status == "finished" ? SweepStop.TrialBudget : SweepStop.Cancelled;
        var result = new SweepResult(sweepId, stop, space, sweep.Objective, trials, (sweep.EndedAt ?? DateTime.UtcNow) - sweep.CreatedAt);
        var ranked = result.Leaderboard(int.MaxValue);
        var rank = ranked.Select((t, i) => (t.Number, Rank: i + 1)).ToDictionary(x => x.Number, x => x.Rank);
        SweepTrialRow Row(TrialResult t) => new(t.Number, rank.TryGetValue(t.Number, out var r) ? r : null, t.Status.Name(), t.Value,
            t.Parameters.ToDictionary(p => p.Key, p => p.Value), t.Metrics, t.Intermediate.Count, t.Seconds, t.PeakMemoryBytes, t.ErrorType, t.Error, t.StartedAt, t.EndedAt);
        var rows = ranked.Concat(trials.Where(t => !rank.ContainsKey(t.Number)).OrderBy(t => t.Number)).Select(Row).ToList();
        var counts = trials.GroupBy(t => t.Status.Name()).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());
        var run = sweep.RunId is { } runId && runs is not null ? runs.GetRun(runId) : null;
        var refit = run is null ? null : RefitOf(run);
        var facts = new SweepFacts(sweep.Id, sweep.Name, sweep.Status, sweep.Tuner, sweep.Pruner, sweep.Objective.Metric,
            sweep.Objective.Direction.ToString().ToLowerInvariant(), sweep.Seed, sweep.Parallelism, sweep.CreatedAt, sweep.EndedAt, sweep.Error, sweep.RunId,
            ScoredOn(run?.Run.Definition));
        var best = rows.FirstOrDefault(r => r.Rank == 1);
        using var spaceJson = JsonDocument.Parse(sweep.Space);
        return new SweepReport(facts, spaceJson.RootElement.Clone(), space.Parameters.Where(p => p is not FixedParameter).Select(p => p.Name).ToList(), counts,
            Summarise(facts, trials.Count, counts, best, refit), best, rows, result.History(), result.Importance(sweep.Seed), refit)
        {
            Result = result,
        };
    }

    /// <summary>The sweep block's objective in the run's stored definition; without the run, both readings.</summary>
    private static string ScoredOn(string? definition)
    {
        if (definition is null) return "on validation, or the mean over k folds";
        using var json = JsonDocument.Parse(definition);
        if (json.RootElement.TryGetProperty("sweep", out var sweep) && sweep.TryGetProperty("objective", out var objective) && objective.GetString() == SweepSpec.KFold)
            return $"the mean over {(sweep.TryGetProperty("folds", out var folds) ? folds.GetInt32() : new SweepSpec().Folds)} folds";
        return "on validation";
    }

    private static SweepRefit RefitOf(RunDetails run)
    {
        var report = RunReport.From(run);
        return new SweepRefit(run.Run.Id, RunReportDocument.Status(run.Run.Status), run.Run.Error, report.Metrics, report.Leaderboard);
    }

    private static string Summarise(SweepFacts sweep, int total, IReadOnlyDictionary<string, int> counts, SweepTrialRow? best, SweepRefit? refit)
    {
        var tally = string.Join(", ", counts.Select(c => $"{c.Value} {c.Key}"));
        if (best is null) return $"No trial of {total} completed ({(total == 0 ? "none ran" : tally)}): the sweep has no best configuration.";
        var parameters = string.Join(", ", best.Parameters.Select(p => $"{p.Key} = {Format(p.Value)}"));
        var text = $"Best of {total} trials ({tally}): trial {best.Number}, {sweep.Metric} {MetricCell.Number(best.Value!.Value)} ({sweep.ScoredOn}), with {parameters}.";
        var tested = refit?.Rows.FirstOrDefault(r => r.Metrics.ContainsKey(sweep.Metric));
        if (tested is not null)
            text += $" Refitted on training + validation, it scores {sweep.Metric} {ReportDocument.Cell.Of(tested.Metrics[sweep.Metric]).Full} on the test part (run {refit!.RunId}).";
        else if (refit is not null)
            text += $" Its refit (run {refit.RunId}) has no test result: {refit.RunStatus}{(refit.Error is null ? "" : $", {refit.Error}")}.";
        return text;
    }

    /// <summary>A parameter value as the tables show it: numbers with up to 6 significant digits, strings as they are.</summary>
    public static string Format(object value) => value switch
    {
        double d => d.ToString("G6", CultureInfo.InvariantCulture),
        string s => s,
        _ => ParameterValue.Format(value),
    };
}
