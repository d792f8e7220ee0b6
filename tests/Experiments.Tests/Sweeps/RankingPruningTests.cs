using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation;
using Experiments.Recommenders;
using Experiments.Runs;
using Experiments.Store;
using Experiments.Sweeps;
using TrialResult = Experiments.Sweeps.TrialResult;

namespace Experiments.Tests.Sweeps;

/// <summary>
/// Pruning of the ranking trainers: implicit ALS (per sweep), BPR (per epoch), and the rating trainers matrix
/// factorisation (per ALS sweep) and SVD++ (per epoch) on a ranking metric, report the sweep's ranking metric on the
/// validation users after each iteration; a pruned trial stops inside its fit and keeps its values.
/// </summary>
[TestClass]
public sealed class RankingPruningTests
{
    private const int Iterations = 6;

    // Two trials in the grid's seeded order; the second configuration is crafted to be poor: ALS with λ 10⁶ shrinks
    // the factors towards 0 each half-sweep (scores tie once they underflow), BPR with a learning rate of 10⁻⁵ barely
    // leaves its random start; matrix factorisation without biases and with λ 1000 (times each row's ratings) shrinks its
    // factors to almost 0, SVD++ with a learning rate of 10⁻⁵ barely leaves its start too. The rating trainers learn from
    // the demo shop's ratings table.
    private static string Definition(string model, string fixedParameters, string space, string pruner) => $$"""
        {
          "name": "pruned-ranking",
          "task": "ranking",
          "dataset": { "name": "demo-shop"{{(model is "matrix-factorization" or "svd++" ? ", \"table\": \"ratings\"" : "")}}, "options": { "users": 250, "items": 150, "seed": 4 } },
          "split": { "method": "random", "testFraction": 0.2, "validationFraction": 0.2 },
          "models": [ { "type": "{{model}}", "name": "m", "parameters": { {{fixedParameters}}, "iterations": {{Iterations}} } } ],
          "metrics": ["ndcg@10", "recall@20"],
          "evaluation": { "bootstrapSamples": 0 },
          "sweep": { "tuner": "grid", "trials": 2, "parallelism": 1, "metric": "ndcg@10", "defaultSpaces": false, "space": { "m": {{space}} },
                     "pruner": {{pruner}} },
          "seed": 9
        }
        """;

    public static IEnumerable<object[]> Trainers =>
    [
        ["implicit-als", "\"rank\": 8, \"alpha\": 2, \"threads\": 1", """{ "lambda": { "choice": [1000000, 0.1] } }""", "lambda", 0.1],
        ["bpr", "\"rank\": 8, \"lambda\": 0.01", """{ "learningRate": { "choice": [0.00001, 0.05] } }""", "learningRate", 0.05],
        ["matrix-factorization", "\"rank\": 8, \"biases\": false, \"earlyStoppingRounds\": 0, \"threads\": 1", """{ "lambda": { "choice": [1000, 0.05] } }""", "lambda", 0.05],
        ["svd++", "\"rank\": 8, \"earlyStoppingRounds\": 0", """{ "learningRate": { "choice": [0.00001, 0.007] } }""", "learningRate", 0.007],
    ];

    /// <summary>NDCG@10 on the validation users of the trainer fitted here with <paramref name="iterations"/> iterations (the same seed and parameters otherwise, <paramref name="overrides"/> aside).</summary>
    private static double Refit(ExperimentDefinition definition, InteractionSplit split, TrialResult trial, int iterations, IReadOnlyDictionary<string, object>? overrides = null)
    {
        var parameters = new Dictionary<string, object>(definition.Models[0].Parameters) { ["iterations"] = iterations };
        foreach (var (name, value) in overrides ?? new Dictionary<string, object>()) parameters[name] = value;
        foreach (var (name, value) in trial.Parameters) parameters[name] = value;
        var model = RecommenderCatalog.Create(definition.Models[0].Type, parameters, trial.Seed).Fit(split.Train);
        return RecommenderEvaluator.Evaluate(model, split.Train, split.Validation!, [MetricName.Parse("ndcg@10")], definition.Evaluation, trial.Seed).Values[0].Value;
    }

    [TestMethod]
    [DynamicData(nameof(Trainers))]
    public void Each_iteration_reports_the_validation_metric_a_poor_trial_is_pruned_and_a_full_one_equals_the_unpruned_fit(
        string model, string fixedParameters, string space, string swept, double good)
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(Definition(model, fixedParameters, space, """{ "type": "median", "startupTrials": 1 }"""), "pruned.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        var dataset = new DatasetLoader().Open(DatasetRequest.From(definition.Dataset));
        var split = InteractionSplits.Split(dataset.Interactions(definition.Dataset.Table), definition.Split, definition.Seed, dataset.PredefinedSplit).Single();

        var trials = store.GetTrials(outcome.Sweep.SweepId).OrderBy(t => t.Number).ToList();
        Assert.HasCount(2, trials);
        var (first, second) = (trials[0], trials[1]);
        Assert.AreEqual(good, Convert.ToDouble(first.Parameters[swept]), "the grid's seeded order runs the good configuration first");
        var firstCurve = Enumerable.Range(1, Iterations).Select(k => Refit(definition, split, first, k)).ToList();
        var secondCurve = Enumerable.Range(1, Iterations).Select(k => Refit(definition, split, second, k)).ToList();

        // (a) One value per iteration, steps 1…n, each equal to a refit with that many iterations scored here.
        Assert.AreEqual(TrialStatus.Completed, first.Status);
        CollectionAssert.AreEqual(Enumerable.Range(1, Iterations).Select(i => (long)i).ToList(), first.Intermediate.Select(v => v.Step).ToList());
        for (var i = 0; i < Iterations; i++) Assert.AreEqual(firstCurve[i], first.Intermediate[i].Value, 1e-12, $"iteration {i + 1}");
        Assert.AreEqual(firstCurve[^1], first.Value!.Value, 1e-12, "the completed trial's value is its final model's");

        // (b) The median rule with one completed trial stops the second at the first iteration where its best NDCG so far
        // is below the first trial's NDCG at that iteration; it keeps the values up to there.
        var stop = Enumerable.Range(0, Iterations).First(i => secondCurve.Take(i + 1).Max() < firstCurve[i]);
        Assert.IsLessThan(Iterations - 1, stop, "the crafted configuration falls behind before its last iteration");
        Assert.AreEqual(TrialStatus.Pruned, second.Status);
        CollectionAssert.AreEqual(Enumerable.Range(1, stop + 1).Select(i => (long)i).ToList(), second.Intermediate.Select(v => v.Step).ToList());
        for (var i = 0; i <= stop; i++) Assert.AreEqual(secondCurve[i], second.Intermediate[i].Value, 1e-12, $"pruned trial, iteration {i + 1}");
        Assert.AreEqual(secondCurve[stop], second.Value!.Value, 1e-12, "a pruned trial's value is its last reported one");

        // (c) Without a pruner the same trial reports nothing and ends with the same metrics.
        var plain = Platform.Reader.Read(Definition(model, fixedParameters, space, """{ "type": "none" }"""), "plain.json");
        var unpruned = new ExperimentRunner(store).Sweep(plain, new RunOptions { ReportDirectory = folder.Path });
        var same = unpruned.Sweep.Trials.Single(t => t.Number == 0);
        Assert.IsEmpty(same.Intermediate);
        Assert.AreEqual(same.Value, first.Value);
        CollectionAssert.AreEquivalent(same.Metrics.Select(m => (m.Key, m.Value.Value)).ToList(), first.Metrics.Select(m => (m.Key, m.Value.Value)).ToList());
    }

    [TestMethod]
    public void With_reportEvery_the_trainer_reports_every_nth_iteration_and_after_its_last()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(Definition("bpr", "\"rank\": 8, \"lambda\": 0.01", """{ "learningRate": { "choice": [0.00001, 0.05] } }""",
            """{ "type": "asha", "minResource": 4, "reportEvery": 4 }"""), "every.json");
        Assert.AreEqual(4, definition.Sweep!.Pruner.ReportEvery);
        StringAssert.Contains(DefinitionWriter.ToJson(definition), "\"reportEvery\": 4");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        var dataset = new DatasetLoader().Open(DatasetRequest.From(definition.Dataset));
        var split = InteractionSplits.Split(dataset.Interactions(definition.Dataset.Table), definition.Split, definition.Seed, dataset.PredefinedSplit).Single();

        // The first trial has nothing to be compared with: it reports after iterations 4 and 6 (its last) and completes.
        var first = store.GetTrials(outcome.Sweep.SweepId).Single(t => t.Number == 0);
        Assert.AreEqual(TrialStatus.Completed, first.Status);
        CollectionAssert.AreEqual(new long[] { 4, 6 }, first.Intermediate.Select(v => v.Step).ToList());
        Assert.AreEqual(Refit(definition, split, first, 4), first.Intermediate[0].Value, 1e-12);
        Assert.AreEqual(Refit(definition, split, first, 6), first.Intermediate[1].Value, 1e-12);
    }

    [TestMethod]
    public void Matrix_factorisation_that_stops_early_reports_the_iterations_of_its_refit_only()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        // 20 iterations at most, stopping after 2 without a better RMSE on a seeded tenth of the training pairs (rank 32 and
        // λ 0.001 overfit within a few); then the refit on every training pair runs the best number of iterations, and
        // only its iterations are reported.
        var definition = Platform.Reader.Read(Definition("matrix-factorization", "\"rank\": 32, \"earlyStoppingRounds\": 2, \"validationFraction\": 0.1, \"threads\": 1",
            """{ "lambda": { "choice": [0.001] } }""", """{ "type": "median", "startupTrials": 1 }""").Replace($"\"iterations\": {Iterations}", "\"iterations\": 20"), "early.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        var dataset = new DatasetLoader().Open(DatasetRequest.From(definition.Dataset));
        var split = InteractionSplits.Split(dataset.Interactions(definition.Dataset.Table), definition.Split, definition.Seed, dataset.PredefinedSplit).Single();

        var trial = store.GetTrials(outcome.Sweep.SweepId).Single(t => t.Number == 0);
        Assert.AreEqual(TrialStatus.Completed, trial.Status);
        var steps = trial.Intermediate.Select(v => v.Step).ToList();
        Assert.IsGreaterThan(0, steps.Count);
        Assert.IsLessThan(20, steps.Count, "early stopping cut the refit short");
        CollectionAssert.AreEqual(Enumerable.Range(1, steps.Count).Select(i => (long)i).ToList(), steps, "each refit iteration once, the hold-out's search not at all");
        // The refit's k-th iteration is the model of a fit with k iterations and no early stopping.
        var off = new Dictionary<string, object> { ["earlyStoppingRounds"] = 0L };
        for (var k = 1; k <= steps.Count; k++) Assert.AreEqual(Refit(definition, split, trial, k, off), trial.Intermediate[k - 1].Value, 1e-12, $"iteration {k}");
        Assert.AreEqual(trial.Intermediate[^1].Value, trial.Value!.Value, 1e-12, "the trial's value is the refit's last model's");
    }
}
