using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Recommenders;
using Experiments.Runs;
using Experiments.Store;
using Experiments.Sweeps;

namespace Experiments.Tests.Sweeps;

/// <summary>Pruning from a definition's sweep block: iterative trainers report per iteration, the pruner stops trials, the store keeps their values.</summary>
[TestClass]
public sealed class PruningSweepTests
{
    // ALS at rank 4 for 8 iterations; λ 0.05 fits, λ 40 shrinks every factor towards 0: worse validation RMSE at each iteration.
    internal static string Definition(string pruner = """{ "type": "median", "startupTrials": 1 }""", string limits = "") => Template.Replace("PRUNER", pruner).Replace("LIMITS", limits);

    private const string Template = """
        {
          "name": "pruned-sweep",
          "task": "rating",
          "dataset": { "name": "demo-shop", "table": "ratings", "options": { "users": 300, "items": 200, "seed": 3 } },
          "split": { "method": "random", "testFraction": 0.2, "validationFraction": 0.2 },
          "models": [ { "type": "matrix-factorization", "name": "mf", "parameters": { "solver": "als", "rank": 4, "iterations": 8, "threads": 1, "earlyStoppingRounds": 0 } } ],
          "metrics": ["rmse"],
          "evaluation": { "bootstrapSamples": 0 },
          "sweep": { "tuner": "grid", "trials": 2, "parallelism": 1, "defaultSpaces": false, "space": { "mf": { "lambda": { "choice": [0.05, 40] } } },
                     "pruner": PRUNER LIMITS },
          "seed": 5
        }
        """;

    /// <summary>The validation RMSE per iteration that the trainer itself reports for <paramref name="trial"/>'s configuration and seed.</summary>
    private static List<double> TrainingCurve(ExperimentDefinition definition, InteractionSplit split, Experiments.Sweeps.TrialResult trial)
    {
        var parameters = new Dictionary<string, object>(definition.Models[0].Parameters);
        foreach (var (name, value) in trial.Parameters) parameters[name] = value;
        var trainer = RecommenderCatalog.Create("matrix-factorization", parameters, trial.Seed);
        var curve = new List<double>();
        ((IIterationReporter)trainer).IterationFinished += (_, _, validation) => curve.Add(validation);
        ((IValidatedTrainer)trainer).Fit(split.Train, split.Validation);
        return curve;
    }

    [TestMethod]
    public void A_median_pruner_stops_the_worse_trial_and_the_store_keeps_the_trainers_curve()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(Definition(), "pruned.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        AssertPrunedAsTheTrainerSays(definition, outcome, store);
    }

    [TestMethod]
    public void Trials_in_child_processes_report_their_curve_and_are_pruned_the_same_way()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        // A memory limit puts each trial in a child process: the CLI's own trial command, started through a shell that counts the starts.
        var definition = Platform.Reader.Read(Definition(limits: """, "trialMemoryMb": 2000"""), "pruned.json");
        var starts = Path.Combine(folder.Path, "starts.log");
        var child = new TrialProcess("/bin/sh", ["-c", $"echo started >> '{starts}'; exec dotnet '{CliProcess.Dll}' sweep-trial \"$@\"", "sh"]);
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path }, new SweepRunOptions { TrialProcess = child });
        Assert.HasCount(2, File.ReadAllLines(starts), "one child process per trial");
        AssertPrunedAsTheTrainerSays(definition, outcome, store);
    }

    private static void AssertPrunedAsTheTrainerSays(ExperimentDefinition definition, SweepOutcome outcome, SqliteRunStore store)
    {
        var dataset = new DatasetLoader().Open(DatasetRequest.From(definition.Dataset));
        var split = InteractionSplits.Split(dataset.Interactions("ratings"), definition.Split, definition.Seed, dataset.PredefinedSplit).Single();

        var trials = store.GetTrials(outcome.Sweep.SweepId).OrderBy(t => t.Number).ToList();
        Assert.HasCount(2, trials);
        var (first, second) = (trials[0], trials[1]);
        var firstCurve = TrainingCurve(definition, split, first);
        var secondCurve = TrainingCurve(definition, split, second);
        Assert.HasCount(8, firstCurve);
        // The crafting: the grid's seeded order runs λ 0.05 first, and λ 40 is worse than it at every iteration.
        Assert.AreEqual(0.05, Convert.ToDouble(first.Parameters["lambda"]));
        Assert.IsTrue(secondCurve.Zip(firstCurve).All(p => p.First > p.Second), "λ 40 is worse at every iteration");

        Assert.AreEqual(TrialStatus.Completed, first.Status);
        CollectionAssert.AreEqual(Enumerable.Range(1, 8).Select(i => (long)i).ToList(), first.Intermediate.Select(v => v.Step).ToList());
        for (var i = 0; i < 8; i++) Assert.AreEqual(firstCurve[i], first.Intermediate[i].Value, 1e-12, $"iteration {i + 1}");
        // Median rule with one completed trial: stop as soon as the best so far is worse than its value at the step — iteration 1.
        Assert.AreEqual(TrialStatus.Pruned, second.Status);
        Assert.HasCount(1, second.Intermediate);
        Assert.AreEqual((1L, secondCurve[0]), (second.Intermediate[0].Step, second.Intermediate[0].Value));
        Assert.AreEqual(secondCurve[0], second.Value!.Value, 1e-12, "a pruned trial's value is its last reported one");
        Assert.AreEqual(0.05, Convert.ToDouble(outcome.Sweep.Best!.Parameters["lambda"]));
        Assert.AreEqual(RunStatus.Finished, outcome.Status);
        StringAssert.Contains(store.GetSweep(outcome.Sweep.SweepId).Pruner, "median");
    }

    [TestMethod]
    public void A_pruned_trial_that_stops_early_chooses_its_iteration_on_training_pairs_not_on_the_rows_it_is_scored_on()
    {
        using var folder = new TempFolder();
        // Early stopping on (3 rounds, the default), 20 iterations: the trainer holds out its own share of the training pairs.
        string Stopping(string pruner) => Definition(pruner).Replace("\"earlyStoppingRounds\": 0", "\"earlyStoppingRounds\": 3").Replace("\"iterations\": 8", "\"iterations\": 20")
            .Replace("[0.05, 40]", "[0.05]").Replace("\"trials\": 2", "\"trials\": 1");
        using var pruned = SqliteRunStore.Open(Path.Combine(folder.Path, "pruned.db"));
        var definition = Platform.Reader.Read(Stopping("""{ "type": "median", "startupTrials": 1 }"""), "pruned.json");
        var trial = new ExperimentRunner(pruned).Sweep(definition, new RunOptions { ReportDirectory = folder.Path }).Sweep.Trials.Single();
        using var plain = SqliteRunStore.Open(Path.Combine(folder.Path, "plain.db"));
        var unpruned = new ExperimentRunner(plain).Sweep(Platform.Reader.Read(Stopping("""{ "type": "none" }"""), "plain.json"), new RunOptions { ReportDirectory = folder.Path }).Sweep.Trials.Single();
        // The same model as without a pruner, so the same value on the validation rows.
        Assert.AreEqual(unpruned.Value!.Value, trial.Value!.Value, 1e-12);

        // Independently: the trainer's own curve on its held-out share (fitted as the trial was: on the training part, no validation rows given).
        var dataset = new DatasetLoader().Open(DatasetRequest.From(definition.Dataset));
        var split = InteractionSplits.Split(dataset.Interactions("ratings"), definition.Split, definition.Seed, dataset.PredefinedSplit).Single();
        var parameters = new Dictionary<string, object>(definition.Models[0].Parameters) { ["lambda"] = 0.05 };
        var trainer = RecommenderCatalog.Create("matrix-factorization", parameters, trial.Seed);
        var heldOut = new List<double>();
        ((IIterationReporter)trainer).IterationFinished += (_, _, validation) => { if (double.IsFinite(validation)) heldOut.Add(validation); };
        var model = ((IValidatedTrainer)trainer).Fit(split.Train, null);
        CollectionAssert.AreEqual(heldOut, trial.Intermediate.Select(v => v.Value).ToList(), "the intermediate values are the held-out share's RMSE");
        var scored = Math.Sqrt(Enumerable.Range(0, split.Validation!.Count).Average(r => Math.Pow(model.PredictRating(split.Validation.User[r], split.Validation.Item[r]) - split.Validation.Rating[r], 2)));
        Assert.AreEqual(scored, trial.Value!.Value, 1e-6, "the trial's value is that model's RMSE on the validation rows");
    }

    [TestMethod]
    public void Without_a_pruner_no_trial_is_pruned_and_a_malformed_pruner_is_an_error_at_its_path()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var plain = Platform.Reader.Read(Definition("""{ "type": "none" }"""), "plain.json");
        var outcome = new ExperimentRunner(store).Sweep(plain, new RunOptions { ReportDirectory = folder.Path });
        Assert.IsTrue(outcome.Sweep.Trials.All(t => t.Status == TrialStatus.Completed && t.Intermediate.Count == 0));

        string Error(string pruner)
        {
            var e = Assert.Throws<Experiments.Core.ExperimentsException>(() => Platform.Reader.Read(Definition(pruner), "bad.json"));
            return e.Message;
        }
        StringAssert.Contains(Error("""{ "type": "hyperband" }"""), "$.sweep.pruner: missing required property 'maxResource'");
        StringAssert.Contains(Error("""{ "type": "hyperband", "maxResource": 4, "minResource": 8 }"""), "$.sweep.pruner.maxResource");
        StringAssert.Contains(Error("""{ "type": "asha", "reductionFactor": 1 }"""), "$.sweep.pruner.reductionFactor");
        StringAssert.Contains(Error("""{ "type": "median", "minResource": 2 }"""), "$.sweep.pruner.minResource");
        StringAssert.Contains(Error("""{ "type": "halving" }"""), "$.sweep.pruner.type");
    }
}
