using System.Text.Json;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Evaluation;
using Experiments.Evaluation.Statistics;
using Experiments.Store;

namespace Experiments.Reports;

/// <summary>What paired tests need from a stored run: its task, its metrics, and its definition's resampling settings.</summary>
public sealed record StoredEvaluation(string Task, IReadOnlyList<MetricName> Metrics, PairedSettings Settings)
{
    /// <summary>Read from the definition the run recorded (written in full by <see cref="DefinitionWriter"/>).</summary>
    public static StoredEvaluation Of(RunRecord run)
    {
        var root = JsonDocument.Parse(run.Definition).RootElement;
        var evaluation = root.TryGetProperty("evaluation", out var e) ? e : default;
        double Setting(string name, double fallback) =>
            evaluation.ValueKind == JsonValueKind.Object && evaluation.TryGetProperty(name, out var v) ? v.GetDouble() : fallback;
        return new StoredEvaluation(root.GetProperty("task").GetString()!,
            root.GetProperty("metrics").EnumerateArray().Select(m => MetricName.Parse(m.GetString()!)).ToList(),
            new PairedSettings((int)Setting("bootstrapSamples", 200), Setting("confidenceLevel", 0.95), root.TryGetProperty("seed", out var seed) ? seed.GetInt32() : run.Seed));
    }
}

/// <summary>
/// Paired tests as the store keeps them: between two trials on the same split and units (the runner: every model
/// against the baseline; <c>compare</c>: the same model in two runs), with Holm's adjustment over each split's family
/// of tests. The tests themselves are <see cref="PairedComparison"/>'s.
/// </summary>
public static class RunComparison
{
    /// <summary>Model B − model A for every metric whose per-unit values both trials kept; the units must be the same.</summary>
    public static List<ComparisonRecord> Trials(IReadOnlyList<MetricName> metrics, PairedSettings settings, string split, string baseline, string model,
        UserValuesRecord a, UserValuesRecord b) =>
        PairedComparison.Compare(metrics, a.Values, b.Values, settings)
            .Select(d => new ComparisonRecord(split, d.Metric, baseline, model, d.Difference, d.Lower, d.Upper, d.PValue, d.Units, d.Test, null, d.Resamples))
            .ToList();

    /// <summary>What makes two runs' splits differ (data, split settings, seed), or null when they share them.</summary>
    private static string? SplitDifference(RunRecord a, RunRecord b)
    {
        if (a.DataFingerprint != b.DataFingerprint) return "their data fingerprints differ";
        string Split(RunRecord run) => JsonDocument.Parse(run.Definition).RootElement.TryGetProperty("split", out var split) ? split.GetRawText() : "";
        if (Split(a) != Split(b)) return "their split settings differ";
        return a.Seed != b.Seed ? $"seed {a.Seed} and seed {b.Seed} cut different splits" : null;
    }

    /// <summary>The records with Holm-adjusted p-values; the family is every test on one split (all models × metrics × tests).</summary>
    public static List<ComparisonRecord> WithHolm(IReadOnlyList<ComparisonRecord> comparisons)
    {
        var adjusted = comparisons.ToArray();
        foreach (var family in Enumerable.Range(0, adjusted.Length).GroupBy(i => adjusted[i].Split))
        {
            var members = family.ToArray();
            var holm = PairedComparison.Holm(members.Select(i => adjusted[i].PValue).ToArray(),
                members.Select(i => adjusted[i].Resamples is { } r && adjusted[i].PValue <= PValues.Floor(r) * (1 + 1e-9)).ToArray());
            for (var j = 0; j < members.Length; j++) adjusted[members[j]] = adjusted[members[j]] with { HolmPValue = holm[j].P, HolmBound = holm[j].Bound };
        }
        return adjusted.ToList();
    }

    /// <summary>Runs can be compared when they are different runs of the same task; otherwise a clear error.</summary>
    public static void RequireComparable(IReadOnlyList<RunDetails> runs)
    {
        var twice = runs.GroupBy(r => r.Run.Id).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
            throw new ExperimentsException($"Run {twice.Key} is named twice: a run compared with itself differs by nothing. Name different runs (`experiments list` shows them).");
        var tasks = runs.Select(r => (r.Run.Id, StoredEvaluation.Of(r.Run).Task)).ToList();
        var other = tasks.FirstOrDefault(t => t.Task != tasks[0].Task);
        if (other.Task is not null)
            throw new ExperimentsException($"Run {tasks[0].Id} is a {tasks[0].Task} run and run {other.Id} a {other.Task} run: their metrics mean different things. Compare runs of the same task.");
    }

    /// <summary>
    /// For each model name in both runs, on the same split and the same test units: run B − run A, with run A's
    /// definition's confidence level, seed and (unless <paramref name="samples"/> says otherwise) bootstrap samples.
    /// Runs share a split when they saw the same data (fingerprint) and cut it by the same split settings and seed;
    /// otherwise, or where a pair's units differ, nothing is paired and <c>Skipped</c> says why.
    /// </summary>
    public static (List<ComparisonRecord> Comparisons, List<string> Skipped) Paired(IRunStore store, RunDetails a, RunDetails b, int? samples = null)
    {
        var evaluation = StoredEvaluation.Of(a.Run);
        var settings = samples is { } s ? evaluation.Settings with { Samples = s } : evaluation.Settings;
        var comparisons = new List<ComparisonRecord>();
        var skipped = new List<string>();
        if (SplitDifference(a.Run, b.Run) is { } difference)
        {
            skipped.Add($"every model: the runs do not share a split ({difference})");
            return (comparisons, skipped);
        }
        foreach (var trialA in a.Trials.Where(t => t.Status == "finished"))
        {
            var trialB = b.Trials.FirstOrDefault(t => t.ModelName == trialA.ModelName && t.Split == trialA.Split && t.Status == "finished");
            if (trialB is null) continue;
            var valuesA = store.GetUserValues(trialA.Id);
            var valuesB = store.GetUserValues(trialB.Id);
            if (valuesA is null || valuesB is null) continue;
            if (!valuesA.Users.SequenceEqual(valuesB.Users))
            {
                skipped.Add($"{trialA.ModelName} ({trialA.Split}): the runs have different test {(evaluation.Task == MetricCatalog.Classification ? "rows" : "users")}");
                continue;
            }
            comparisons.AddRange(Trials(evaluation.Metrics, settings, trialA.Split, $"run {a.Run.Id}", $"{trialA.ModelName} (run {b.Run.Id})", valuesA, valuesB));
        }
        return (WithHolm(comparisons), skipped);
    }
}
