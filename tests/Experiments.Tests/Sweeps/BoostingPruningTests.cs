using Experiments.Core.Definitions;
using Experiments.Ctr;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Runs;
using Experiments.Store;
using Experiments.Sweeps;
using TrialResult = Experiments.Sweeps.TrialResult;

namespace Experiments.Tests.Sweeps;

/// <summary>
/// Pruning of boosted click models: LightGBM and FastTree are fitted in rungs of rounds (ML.NET has no per-round
/// callback), each rung's validation AUC reported; a pruned trial stops at a rung, a full one equals the unpruned fit.
/// </summary>
[TestClass]
public sealed class BoostingPruningTests
{
    private const int Rounds = 12;

    // ASHA with minResource 2 and η 3 over 12 rounds: rungs at 2 and 6 rounds, then the 12 of the configuration.
    private static readonly int[] Rungs = [2, 6, 12];

    // The second configuration is crafted to be poor: leaves of at least 400 of the training rows allow few splits.
    private static string Definition(string model, string pruner) => $$"""
        {
          "name": "pruned-boosting", "task": "classification",
          "dataset": { "name": "demo-shop", "table": "clicks", "options": { "users": 200, "items": 150, "seed": 3 } },
          "split": { "method": "stratified", "testFraction": 0.2, "validationFraction": 0.2 },
          "models": [ { "type": "{{model}}", "name": "trees", "parameters": { "iterations": {{Rounds}}, "leaves": 8, "learningRate": 0.2 } } ],
          "metrics": ["auc", "log-loss"],
          "evaluation": { "bootstrapSamples": 0 },
          "sweep": { "tuner": "grid", "trials": 2, "parallelism": 1, "metric": "auc", "defaultSpaces": false,
                     "space": { "trees": { "minLeaf": { "choice": [5, 400] } } }, "pruner": {{pruner}} },
          "seed": 4
        }
        """;

    /// <summary>AUC by counting: the share of (click, non-click) pairs ranked correctly, ties counting one half.</summary>
    private static double Auc(bool[] labels, double[] scores)
    {
        double correct = 0, pairs = 0;
        for (var i = 0; i < labels.Length; i++)
            if (labels[i])
                for (var j = 0; j < labels.Length; j++)
                    if (!labels[j])
                    {
                        pairs++;
                        correct += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                    }
        return correct / pairs;
    }

    /// <summary>Validation AUC of the trial's configuration fitted here on the training rows with <paramref name="rounds"/> rounds.</summary>
    private static double Refit(ExperimentDefinition definition, ClickLog train, ClickLog validation, TrialResult trial, int rounds)
    {
        var parameters = new Dictionary<string, object>(definition.Models[0].Parameters) { ["iterations"] = rounds };
        foreach (var (name, value) in trial.Parameters) parameters[name] = value;
        var model = CtrTrainer.Fit(train, CtrCatalog.Options(definition.Models[0].Type, parameters, trial.Seed, _ => throw new InvalidOperationException()));
        return Auc(validation.Labels, model.Predict(validation));
    }

    [TestMethod]
    [DataRow("lightgbm")]
    [DataRow("fasttree")]
    public void Each_rung_reports_the_validation_auc_a_poor_trial_stops_at_a_rung_and_a_full_one_equals_the_unpruned_fit(string model)
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(Definition(model, """{ "type": "asha", "minResource": 2, "reductionFactor": 3 }"""), "pruned.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        var log = ClickLog.From(new DatasetLoader().Open(DatasetRequest.From(definition.Dataset)).Table("clicks"));
        var cut = RowSplitter.Stratified(log.Labels.Select(l => l ? 1 : 0).ToArray(), 0.2, 0.2, definition.Seed);
        // No metric here depends on the decision threshold: a trial fits on every training row (none held out to choose it).
        var (train, validation) = (log.Subset(cut.Train), log.Subset(cut.Validation));

        var trials = store.GetTrials(outcome.Sweep.SweepId).OrderBy(t => t.Number).ToList();
        Assert.HasCount(2, trials);
        var (first, second) = (trials[0], trials[1]);
        Assert.AreEqual(5L, Convert.ToInt64(first.Parameters["minLeaf"]), "the grid's seeded order runs the good configuration first");
        var firstCurve = Rungs.Select(r => Refit(definition, train, validation, first, r)).ToList();
        var secondCurve = Rungs.Select(r => Refit(definition, train, validation, second, r)).ToList();

        // (a) One value per rung, at the rung's rounds, each the AUC of a fit with that many rounds computed here.
        Assert.AreEqual(TrialStatus.Completed, first.Status);
        CollectionAssert.AreEqual(Rungs.Select(r => (long)r).ToList(), first.Intermediate.Select(v => v.Step).ToList());
        for (var i = 0; i < Rungs.Length; i++) Assert.AreEqual(firstCurve[i], first.Intermediate[i].Value, 1e-9, $"{Rungs[i]} rounds");
        Assert.AreEqual(firstCurve[^1], first.Value!.Value, 1e-9, "the completed trial's value is its full fit's");

        // (b) ASHA with fewer than η trials at a rung keeps only the best: the second stops at the first rung where it trails.
        var stop = Enumerable.Range(0, Rungs.Length).First(i => secondCurve[i] < firstCurve[i]);
        Assert.IsLessThan(Rungs.Length - 1, stop, "the crafted configuration trails before its last rung");
        Assert.AreEqual(TrialStatus.Pruned, second.Status);
        CollectionAssert.AreEqual(Rungs.Take(stop + 1).Select(r => (long)r).ToList(), second.Intermediate.Select(v => v.Step).ToList());
        for (var i = 0; i <= stop; i++) Assert.AreEqual(secondCurve[i], second.Intermediate[i].Value, 1e-9, $"pruned trial, {Rungs[i]} rounds");

        // (c) Without a pruner the trial is one fit of all its rounds, with the same metrics.
        var plain = Platform.Reader.Read(Definition(model, """{ "type": "none" }"""), "plain.json");
        var same = new ExperimentRunner(store).Sweep(plain, new RunOptions { ReportDirectory = folder.Path }).Sweep.Trials.Single(t => t.Number == 0);
        Assert.IsEmpty(same.Intermediate);
        CollectionAssert.AreEquivalent(same.Metrics.Select(m => (m.Key, m.Value.Value)).ToList(), first.Metrics.Select(m => (m.Key, m.Value.Value)).ToList());
    }
}
