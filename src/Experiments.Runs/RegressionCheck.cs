using System.Globalization;
using Experiments.Core.Definitions;
using Experiments.Evaluation;
using Experiments.Evaluation.Statistics;
using Experiments.Reports;
using Experiments.Store;

namespace Experiments.Runs;

/// <summary>
/// The definition's regression rule on a run that has ended: the reference run (the previous finished run of the same
/// experiment in the store, or the last one not marked regressed), the comparison the rule asks for — the paired test
/// of <see cref="PairedComparison"/> on the per-unit values both runs stored, as <c>compare</c> does, or the metric's
/// values — and the verdict, recorded in the store. Every model watched is compared with the same model of the
/// reference run, split by split; the run regressed when any of them did.
/// </summary>
public static class RegressionCheck
{
    /// <summary>Checks run <paramref name="runId"/> and records the verdict; a check that cannot be made is recorded with its reason.</summary>
    public static RegressionCheckRecord Record(IRunStore store, long runId, ExperimentDefinition definition, Action<string> warn)
    {
        var rule = definition.Regression ?? throw new ArgumentException("The definition has no regression rule.", nameof(definition));
        RegressionCheckRecord check;
        try
        {
            check = Check(store, store.GetRun(runId), definition, rule);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The run's results are stored already: a check that breaks must not lose them or their report.
            check = new RegressionCheckRecord(rule.Rule, rule.Metric.ToString(), null, null, $"the regression check failed: {ExperimentRunner.Describe(e)}", []);
            warn(check.Summary);
        }
        store.RecordRegression(runId, check);
        return check;
    }

    private static RegressionCheckRecord Check(IRunStore store, RunDetails current, ExperimentDefinition definition, RegressionRule rule)
    {
        RegressionCheckRecord NotChecked(long? against, string reason) => new(rule.Rule, rule.Metric.ToString(), against, null, $"not checked: {reason}", []);
        var reference = Reference(store, current.Run, rule);
        if (reference is null)
            return NotChecked(null, $"no earlier {(rule.Against == RegressionRule.LastGood ? "finished run not marked regressed" : "finished run")} of experiment '{current.Run.Experiment}' in {store.Location} to compare with");
        var previous = store.GetRun(reference.Id);
        if (StoredEvaluation.Of(previous.Run).Task != definition.Task)
            return NotChecked(reference.Id, $"run {reference.Id} is a {StoredEvaluation.Of(previous.Run).Task} run and this one a {definition.Task} run");

        var pairs = current.Trials
            .Where(t => t.Status == "finished" && (rule.Model is null || t.ModelName == rule.Model))
            .Select(t => (Current: t, Reference: previous.Trials.FirstOrDefault(p => p.ModelName == t.ModelName && p.Split == t.Split && p.Status == "finished")))
            .ToList();
        var skipped = pairs.Where(p => p.Reference is null).Select(p => $"{p.Current.ModelName} ({p.Current.Split}) has no finished trial in run {reference.Id}").ToList();
        var matched = pairs.Where(p => p.Reference is not null).Select(p => (p.Current, Reference: p.Reference!)).ToList();
        var tests = rule.Rule == RegressionRule.NotWorse
            ? ByValues(matched, rule, skipped)
            : ByPairedTest(store, matched, current.Run, previous.Run, definition, rule, skipped);
        if (rule.Model is not null && !current.Trials.Any(t => t.ModelName == rule.Model && t.Status == "finished"))
            skipped.Add($"model {rule.Model} did not finish in this run");
        if (tests.Count == 0)
            return NotChecked(reference.Id, skipped.Count > 0 ? string.Join("; ", skipped) : "no model of this run has a finished trial to compare");
        return new RegressionCheckRecord(rule.Rule, rule.Metric.ToString(), reference.Id, tests.Any(t => t.Regressed), Summary(tests, rule, reference.Id, skipped), tests);
    }

    /// <summary>The latest earlier finished run of the experiment (for 'last-good': the latest not marked regressed).</summary>
    private static RunRecord? Reference(IRunStore store, RunRecord current, RegressionRule rule) =>
        store.ListRuns(int.MaxValue, current.Experiment)
            .FirstOrDefault(r => r.Id < current.Id && r.Status == RunStatus.Finished && (rule.Against != RegressionRule.LastGood || r.Regressed != true));

    /// <summary>Rule 'not-worse': this run's value of the metric against the reference run's, with the rule's tolerance.</summary>
    private static List<RegressionTestRecord> ByValues(List<(TrialRecord Current, TrialRecord Reference)> pairs, RegressionRule rule, List<string> skipped)
    {
        var tests = new List<RegressionTestRecord>();
        foreach (var (current, reference) in pairs)
        {
            var now = Value(current, rule.Metric);
            var before = Value(reference, rule.Metric);
            if (now is null || before is null)
            {
                skipped.Add($"{current.ModelName} ({current.Split}): no {rule.Metric} value in {(now is null ? "this run" : "the reference run")}");
                continue;
            }
            var difference = now.Value - before.Value;
            tests.Add(new RegressionTestRecord(current.ModelName, current.Split, difference, null, null, null, null, null, null, null, Worse(rule.Metric, difference) > rule.Tolerance));
        }
        return tests;
    }

    private static double? Value(TrialRecord trial, MetricName metric) =>
        trial.Metrics.FirstOrDefault(m => m.Name == metric.Name && m.K == metric.K && m.Split == trial.Split)?.Value;

    /// <summary>
    /// Rule 'not-significantly-worse': the paired test on the test units both runs share, with this run's resamples,
    /// level and seed; p is Holm-adjusted over every test of the check. Test users (and queries) pair by their ids,
    /// so runs on refreshed data are paired on the users both saw; a classifier's test rows pair only when both runs
    /// read the same data (their ids are row positions).
    /// </summary>
    private static List<RegressionTestRecord> ByPairedTest(IRunStore store, List<(TrialRecord Current, TrialRecord Reference)> pairs, RunRecord currentRun, RunRecord referenceRun,
        ExperimentDefinition definition, RegressionRule rule, List<string> skipped)
    {
        var settings = new PairedSettings(definition.Evaluation.BootstrapSamples, definition.Evaluation.ConfidenceLevel, definition.Seed);
        var byPosition = definition.Task == MetricCatalog.Classification;
        var compared = new List<(TrialRecord Trial, ComparisonRecord Test)>();
        foreach (var (current, reference) in pairs)
        {
            var now = store.GetUserValues(current.Id);
            var before = store.GetUserValues(reference.Id);
            if (now is null || before is null)
            {
                skipped.Add($"{current.ModelName} ({current.Split}): {(now is null ? "this run" : $"run {referenceRun.Id}")} kept no per-unit values");
                continue;
            }
            if (byPosition && (currentRun.DataFingerprint != referenceRun.DataFingerprint || !now.Users.SequenceEqual(before.Users)))
            {
                skipped.Add($"{current.ModelName} ({current.Split}): the runs read different data, so their test rows cannot be paired (use rule '{RegressionRule.NotWorse}' for changing data)");
                continue;
            }
            var (a, b) = Shared(before, now);
            if (a.Users.Count == 0)
            {
                skipped.Add($"{current.ModelName} ({current.Split}): no test unit is in both runs");
                continue;
            }
            var tests = RunComparison.Trials([rule.Metric], settings, current.Split, $"run {referenceRun.Id}", current.ModelName, a, b);
            // One test per pair: the permutation test where there is one (DeLong's for AUC without resampling).
            if ((tests.FirstOrDefault(t => t.Test == PairedComparison.Resampled) ?? tests.FirstOrDefault()) is { } test) compared.Add((current, test));
            else skipped.Add($"{current.ModelName} ({current.Split}): {rule.Metric} is undefined on the shared test units");
        }
        var holm = PairedComparison.Holm(compared.Select(c => c.Test.PValue).ToArray(), compared.Select(c => PValues.AtFloor(c.Test.PValue, c.Test.Resamples)).ToArray());
        return compared.Select((c, i) => new RegressionTestRecord(c.Trial.ModelName, c.Trial.Split, c.Test.Difference, c.Test.Lower, c.Test.Upper, c.Test.PValue, holm[i].P,
            c.Test.Test, c.Test.Resamples, c.Test.Users, Worse(rule.Metric, c.Test.Difference) > 0 && holm[i].P < rule.Alpha)).ToList();
    }

    /// <summary>Both runs' values restricted to the units both have, in the reference run's order.</summary>
    private static (UserValuesRecord Reference, UserValuesRecord Current) Shared(UserValuesRecord reference, UserValuesRecord current)
    {
        if (reference.Users.SequenceEqual(current.Users)) return (reference, current);
        var position = new Dictionary<string, int>(current.Users.Count);
        for (var i = 0; i < current.Users.Count; i++) position.TryAdd(current.Users[i], i);
        var keep = Enumerable.Range(0, reference.Users.Count).Where(i => position.ContainsKey(reference.Users[i])).ToArray();
        var there = keep.Select(i => position[reference.Users[i]]).ToArray();
        UserValuesRecord Subset(UserValuesRecord values, int[] indices) =>
            new(indices.Select(i => values.Users[i]).ToList(), values.Values.ToDictionary(v => v.Key, v => indices.Select(i => v.Value[i]).ToArray()));
        return (Subset(reference, keep), Subset(current, there));
    }

    /// <summary>How much worse a difference (this run − the reference) is: positive when worse, whichever way the metric points.</summary>
    private static double Worse(MetricName metric, double difference) => MetricName.LowerIsBetter(metric.Name) ? difference : -difference;

    private static string Summary(List<RegressionTestRecord> tests, RegressionRule rule, long reference, List<string> skipped)
    {
        static string F(double v) => v.ToString("+0.0000;−0.0000;0", CultureInfo.InvariantCulture);
        string Describe(RegressionTestRecord t) => $"{t.Model}{(tests.Select(x => x.Split).Distinct().Count() > 1 ? $" ({t.Split})" : "")} {F(t.Difference)}" +
            (t.HolmPValue is { } p ? $" [{F(t.Lower!.Value)}, {F(t.Upper!.Value)}], Holm p {PValues.FormatAdjusted(p, PValues.AtFloor(p, t.Resamples), t.Resamples)}{(t.Units is { } n ? $", {n} shared units" : "")}" : "");
        var regressed = tests.Where(t => t.Regressed).ToList();
        var verdict = regressed.Count > 0
            ? $"regressed against run {reference}: {rule.Metric} {string.Join("; ", regressed.Select(Describe))}"
            : $"not regressed against run {reference}: {rule.Metric} {string.Join("; ", tests.Select(Describe))}";
        var how = rule.Rule == RegressionRule.NotWorse
            ? $" (rule {rule.Rule}, tolerance {rule.Tolerance.ToString(CultureInfo.InvariantCulture)})"
            : $" (rule {rule.Rule}, alpha {rule.Alpha.ToString(CultureInfo.InvariantCulture)})";
        return verdict + how + (skipped.Count > 0 ? $"; not compared: {string.Join("; ", skipped)}" : "");
    }
}
