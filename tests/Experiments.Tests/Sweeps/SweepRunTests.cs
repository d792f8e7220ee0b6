using System.Diagnostics;
using System.Globalization;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Recommenders;
using Experiments.Runs;
using Experiments.Store;
using Experiments.Sweeps;
using TrialResult = Experiments.Sweeps.TrialResult;

namespace Experiments.Tests.Sweeps;

/// <summary>`experiments sweep` and ExperimentRunner.Sweep: trials on validation data, the refit tested once, budgets, failures, stops and resume.</summary>
[TestClass]
public sealed class SweepRunTests
{
    private static string Ratings(string sweep, string split = """{ "method": "random", "testFraction": 0.2, "validationFraction": 0.2 }""",
        string models = """[ { "type": "bias" } ]""", int users = 300) => $$"""
        {
          "name": "sweep-test",
          "task": "rating",
          "dataset": { "name": "demo-shop", "table": "ratings", "options": { "users": {{users}}, "items": 200, "seed": 3 } },
          "split": {{split}},
          "models": {{models}},
          "metrics": ["rmse", "mae"],
          "evaluation": { "bootstrapSamples": 20 },
          "sweep": {{sweep}},
          "seed": 5
        }
        """;

    /// <summary>RMSE of user and item biases with <paramref name="parameters"/> fitted on <paramref name="train"/>, computed here from the predictions.</summary>
    private static double BiasRmse(Interactions train, Interactions test, IReadOnlyDictionary<string, object> parameters)
    {
        var model = RecommenderCatalog.Create("bias", parameters, 0).Fit(train);
        var squares = Enumerable.Range(0, test.Count).Select(r => Math.Pow(model.PredictRating(test.User[r], test.Item[r]) - test.Rating[r], 2));
        return Math.Sqrt(squares.Average());
    }

    private static InteractionSplit SplitOf(ExperimentDefinition definition)
    {
        var dataset = new DatasetLoader().Open(DatasetRequest.From(definition.Dataset));
        return InteractionSplits.Split(dataset.Interactions("ratings"), definition.Split, definition.Seed, dataset.PredefinedSplit).Single();
    }

    private static Dictionary<string, object> Own(ParameterSet parameters) => parameters.ToDictionary(p => p.Key, p => p.Value);

    [TestMethod]
    public void Trials_are_scored_on_validation_and_the_best_is_refitted_on_training_and_validation_and_tested_once()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(Ratings("""{ "tuner": "random", "trials": 6 }"""), "sweep.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Finished, outcome.Status);
        var sweep = outcome.Sweep;
        Assert.AreEqual(6, sweep.Trials.Count);
        Assert.IsTrue(sweep.Trials.All(t => t.Status == TrialStatus.Completed && t.Metrics["rmse"].Lower is not null), "every trial has its metrics with intervals");

        // Independently: each trial's value is the RMSE of its configuration fitted on the training part, on the validation part.
        var split = SplitOf(definition);
        foreach (var trial in sweep.Trials)
            Assert.AreEqual(BiasRmse(split.Train, split.Validation!, Own(trial.Parameters)), trial.Value!.Value, 1e-5, $"trial {trial.Number}");
        var best = sweep.Best!;
        Assert.AreEqual(sweep.Trials.Min(t => t.Value), best.Value);

        // The store: the sweep's trials in its tables, and one run trial — the refit on training + validation, tested on the test part.
        var run = store.GetRun(outcome.RunId);
        var refit = run.Trials.Single();
        Assert.AreEqual(("bias", split.Name, "finished"), (refit.ModelName, refit.Split, refit.Status));
        foreach (var (name, value) in best.Parameters)
            Assert.AreEqual(Convert.ToString(value, CultureInfo.InvariantCulture), refit.Parameters[name], $"the refit has trial {best.Number}'s {name}");
        var testRmse = refit.Metrics.Single(m => m.Name == "rmse");
        Assert.AreEqual(BiasRmse(Interactions.Concatenate(split.Train, split.Validation!), split.Test, Own(best.Parameters)), testRmse.Value, 1e-5);
        Assert.IsNotNull(testRmse.Lower, "the refit is evaluated with intervals");
        var stored = store.GetSweep(sweep.SweepId);
        Assert.AreEqual((outcome.RunId, "finished", 6), (stored.RunId, stored.Status, stored.Trials));
        Assert.AreEqual("on validation", Experiments.Reports.SweepReport.From(store, sweep.SweepId, store).Sweep.ScoredOn);
        Assert.IsTrue(outcome.Reports.Count > 0);
    }

    [TestMethod]
    public void K_fold_objectives_average_the_folds_of_training_and_validation()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(Ratings("""{ "tuner": "cfo", "trials": 3, "objective": "k-fold", "folds": 3 }""", split: """{ "method": "random", "testFraction": 0.2 }"""), "sweep.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        var split = SplitOf(definition);
        var folds = InteractionSplits.Split(split.Train, new SplitSpec { Method = "k-fold", Folds = 3 }, definition.Seed, _ => throw new InvalidOperationException()).ToList();
        Assert.HasCount(3, folds);
        foreach (var trial in outcome.Sweep.Trials)
            Assert.AreEqual(folds.Average(f => BiasRmse(f.Train, f.Test, Own(trial.Parameters))), trial.Value!.Value, 1e-5, $"trial {trial.Number}: the mean of the folds' RMSE");
        Assert.AreEqual(BiasRmse(split.Train, split.Test, Own(outcome.Sweep.Best!.Parameters)), store.GetRun(outcome.RunId).Trials.Single().Metrics.Single(m => m.Name == "rmse").Value, 1e-5);
        // The sweep's report says what the trials' values are.
        var report = Experiments.Reports.SweepReport.From(store, outcome.Sweep.SweepId, store);
        Assert.AreEqual("the mean over 3 folds", report.Sweep.ScoredOn);
        StringAssert.Contains(report.Headline, "(the mean over 3 folds)");
    }

    [TestMethod]
    public void A_model_based_tuner_proposes_after_the_definitions_startup_trials()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        List<ParameterSet> Proposed(string sweep) => new ExperimentRunner(store)
            .Sweep(Platform.Reader.Read(Ratings(sweep, users: 120), "sweep.json"), new RunOptions { ReportDirectory = folder.Path })
            .Sweep.Trials.OrderBy(t => t.Number).Select(t => t.Parameters).ToList();
        // One trial at a time, so that every proposal after the start-up sees them all. TPE's start-up trials are random search's draws with the same seed; its model's proposals are not.
        var random = Proposed("""{ "tuner": "random", "trials": 5, "parallelism": 1 }""");
        CollectionAssert.AreEqual(random, Proposed("""{ "tuner": "tpe", "trials": 5, "parallelism": 1 }"""), "the default start-up (10) covers all five trials");
        var early = Proposed("""{ "tuner": "tpe", "trials": 5, "parallelism": 1, "startupTrials": 2 }""");
        CollectionAssert.AreEqual(random.Take(2).ToList(), early.Take(2).ToList(), "two random start-up trials");
        for (var i = 2; i < 5; i++) Assert.AreNotEqual(random[i], early[i], $"trial {i + 1} comes from the model");
    }

    [TestMethod]
    public void A_sweep_over_two_models_costs_its_trials_by_their_work_and_proposes_the_same_for_the_same_seed()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        // Two models: ECI chooses between them by the trials' costs.
        var definition = Platform.Reader.Read(Ratings("""
            { "tuner": "cfo", "trials": 10, "parallelism": 1, "defaultSpaces": false,
              "space": { "bias": { "iterations": { "int": [1, 10], "lowCost": 2 } }, "mf": { "rank": { "int": [2, 16], "lowCost": 2 }, "iterations": { "int": [5, 20], "lowCost": 5 } } } }
            """, models: """[ { "type": "bias" }, { "type": "matrix-factorization", "name": "mf", "parameters": { "threads": 1, "earlyStoppingRounds": 0 } } ]""", users: 120), "sweep.json");
        List<TrialResult> Stored()
        {
            var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
            Assert.AreEqual(RunStatus.Finished, outcome.Status);
            return store.GetTrials(outcome.Sweep.SweepId).OrderBy(t => t.Number).ToList();
        }
        var first = Stored();
        var second = Stored();
        Assert.HasCount(10, first);
        var rows = SplitOf(definition).Train.Count;
        foreach (var trial in first)
        {
            // By hand: bias does rows × iterations; ALS (the default solver) rows × rank² × iterations.
            var p = trial.Parameters;
            double expected = p.Text("model") == "bias"
                ? (double)rows * p.Integer("model.bias.iterations")
                : (double)rows * p.Integer("model.mf.rank") * p.Integer("model.mf.rank") * p.Integer("model.mf.iterations");
            Assert.AreEqual(expected, trial.Cost, $"trial {trial.Number} ({p}) costs its work, not its {trial.Seconds} s");
        }
        Assert.IsTrue(first.Select(t => t.Parameters.Text("model")).Distinct().Count() == 2, "both models were tried");
        CollectionAssert.AreEqual(first.Select(t => t.Parameters).ToList(), second.Select(t => t.Parameters).ToList(), "the same seed proposes the same trials");
        CollectionAssert.AreEqual(first.Select(t => t.Cost).ToList(), second.Select(t => t.Cost).ToList());
    }

    [TestMethod]
    public void A_failing_configuration_is_recorded_and_the_sweep_goes_on()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read("""
            {
              "name": "sweep-failures", "task": "classification",
              "dataset": { "name": "demo-shop", "table": "clicks", "options": { "users": 200, "items": 150, "seed": 3 } },
              "split": { "method": "stratified", "testFraction": 0.2, "validationFraction": 0.2 },
              "models": [ { "type": "logistic-regression" } ],
              "metrics": ["auc"],
              "evaluation": { "bootstrapSamples": 0 },
              "sweep": { "tuner": "grid", "defaultSpaces": false,
                         "space": { "logistic-regression": { "crosses": { "choice": ["", "not-a-pair"] }, "l2": { "choice": [0.1, 1] } } } }
            }
            """, "sweep.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        var trials = store.GetTrials(outcome.Sweep.SweepId);
        Assert.HasCount(4, trials, "the grid's four configurations all ran");
        var failed = trials.Where(t => t.Status == TrialStatus.Failed).ToList();
        Assert.HasCount(2, failed);
        Assert.IsTrue(failed.All(t => t.Parameters.Text("crosses") == "not-a-pair" && t.Error!.Contains("A*B")), string.Join("; ", failed.Select(t => t.Error)));
        Assert.AreEqual(RunStatus.Finished, outcome.Status);
        Assert.AreEqual("", store.GetRun(outcome.RunId).Trials.Single().Parameters["crosses"], "the refit is of a configuration that worked");
    }

    [TestMethod]
    public void A_classification_refit_chooses_its_threshold_on_validation_rows_it_was_not_trained_on()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read("""
            {
              "name": "sweep-threshold", "task": "classification",
              "dataset": { "name": "demo-shop", "table": "clicks", "options": { "users": 200, "items": 150, "seed": 3 } },
              "split": { "method": "stratified", "testFraction": 0.2, "validationFraction": 0.2 },
              "models": [ { "type": "logistic-regression" } ],
              "metrics": ["auc", "f1"],
              "evaluation": { "bootstrapSamples": 0, "thresholdRule": "max-f1" },
              "sweep": { "tuner": "grid", "defaultSpaces": false, "space": { "logistic-regression": { "l2": { "choice": [0.01, 10] } } } },
              "seed": 4
            }
            """, "sweep.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Finished, outcome.Status);

        // Independently: the same stratified split, the best configuration fitted on the training rows only, max-F1 on validation.
        var log = Experiments.Ctr.ClickLog.From(new DatasetLoader().Open(DatasetRequest.From(definition.Dataset)).Table("clicks"));
        var cut = RowSplitter.Stratified(log.Labels.Select(l => l ? 1 : 0).ToArray(), 0.2, 0.2, definition.Seed);
        var (train, validation) = (log.Subset(cut.Train), log.Subset(cut.Validation));
        var best = Own(outcome.Sweep.Best!.Parameters);
        var model = Experiments.Ctr.CtrTrainer.Fit(train, Experiments.Ctr.CtrCatalog.Options("logistic-regression", best, definition.Seed, _ => throw new InvalidOperationException()), CancellationToken.None);
        var expected = Experiments.Evaluation.Classification.BinaryMetrics.MaxF1Threshold(validation.Labels, model.Predict(validation));
        var refit = store.GetRun(outcome.RunId).Trials.Single();
        Assert.AreEqual(expected, refit.Metrics.Single(m => m.Name == "threshold").Value, 1e-9);
    }

    [TestMethod]
    [DataRow("validation")]
    [DataRow("k-fold")]
    public void A_classification_trial_chooses_its_threshold_on_held_out_training_rows_not_on_the_rows_it_is_scored_on(string objective)
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var folds = objective == "k-fold" ? ", \"folds\": 3" : "";
        var definition = Platform.Reader.Read($$"""
            {
              "name": "trial-threshold", "task": "classification",
              "dataset": { "name": "demo-shop", "table": "clicks", "options": { "users": 200, "items": 150, "seed": 3 } },
              "split": { "method": "stratified", "testFraction": 0.2, "validationFraction": 0.2 },
              "models": [ { "type": "logistic-regression" } ],
              "metrics": ["auc", "f1"],
              "evaluation": { "bootstrapSamples": 0, "thresholdRule": "max-f1" },
              "sweep": { "tuner": "grid", "objective": "{{objective}}"{{folds}}, "defaultSpaces": false, "space": { "logistic-regression": { "l2": { "choice": [0.01, 10] } } } },
              "seed": 4
            }
            """, "sweep.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Finished, outcome.Status);

        // Independently: the same stratified split; each tuning part's training rows less a stratified share (the
        // validation rows' share of training + validation) fit the model, which chooses its max-F1 threshold on that
        // share; F1 is counted here on the rows the trial is scored on (validation, or each fold's held-out rows).
        var log = Experiments.Ctr.ClickLog.From(new DatasetLoader().Open(DatasetRequest.From(definition.Dataset)).Table("clicks"));
        static int[] Classes(Experiments.Ctr.ClickLog rows) => rows.Labels.Select(l => l ? 1 : 0).ToArray();
        var cut = RowSplitter.Stratified(Classes(log), 0.2, 0.2, definition.Seed);
        var (train, validation) = (log.Subset(cut.Train), log.Subset(cut.Validation));
        var known = Experiments.Ctr.ClickLog.Concatenate(train, validation);
        var share = (double)validation.Count / known.Count;
        var parts = objective == "k-fold"
            ? RowSplitter.KFold(known.Count, 3, definition.Seed).Select(f => (Train: known.Subset(f.Train), Scored: known.Subset(f.Test))).ToList()
            : [(train, validation)];
        static double F1(bool[] labels, double[] scores, double threshold)
        {
            var (tp, fp, fn) = (0, 0, 0);
            for (var i = 0; i < labels.Length; i++)
                if (scores[i] >= threshold) { if (labels[i]) tp++; else fp++; }
                else if (labels[i]) fn++;
            return 2.0 * tp / (2 * tp + fp + fn);
        }
        Assert.HasCount(2, outcome.Sweep.Trials);
        foreach (var trial in outcome.Sweep.Trials)
        {
            var (expected, flattered) = (0.0, 0.0);
            foreach (var (rows, scored) in parts)
            {
                var held = RowSplitter.Stratified(Classes(rows), 0, share, definition.Seed);
                var (fit, thresholdRows) = (rows.Subset(held.Train), rows.Subset(held.Validation));
                var model = Experiments.Ctr.CtrTrainer.Fit(fit, Experiments.Ctr.CtrCatalog.Options("logistic-regression", Own(trial.Parameters), trial.Seed, _ => throw new InvalidOperationException()), CancellationToken.None);
                var scores = model.Predict(scored);
                expected += F1(scored.Labels, scores, Experiments.Evaluation.Classification.BinaryMetrics.MaxF1Threshold(thresholdRows.Labels, model.Predict(thresholdRows))) / parts.Count;
                flattered += F1(scored.Labels, scores, Experiments.Evaluation.Classification.BinaryMetrics.MaxF1Threshold(scored.Labels, scores)) / parts.Count;
            }
            Assert.AreEqual(expected, trial.Metrics["f1"].Value, 1e-9, $"trial {trial.Number}");
            // The threshold chosen on the scored rows themselves would have flattered the trial.
            Assert.IsLessThan(flattered, trial.Metrics["f1"].Value, $"trial {trial.Number}");
        }
    }

    /// <summary>A store that records which of its methods are called, in order, and forwards them to a real one.</summary>
    public interface IRecordedStore : IRunStore, ISweepStorage;

    public class CallRecorder : System.Reflection.DispatchProxy
    {
        public object Inner { get; set; } = null!;
        public List<string> Calls { get; } = [];

        protected override object? Invoke(System.Reflection.MethodInfo? method, object?[]? args)
        {
            lock (Calls) Calls.Add(method!.Name);
            try
            {
                return method.Invoke(Inner, args);
            }
            catch (System.Reflection.TargetInvocationException e)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException!);
                throw;
            }
        }
    }

    [TestMethod]
    public void A_sweep_reads_back_no_whole_run_before_its_trials_its_fingerprint_is_that_of_the_data_it_loaded()
    {
        using var folder = new TempFolder();
        using var real = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var store = System.Reflection.DispatchProxy.Create<IRecordedStore, CallRecorder>();
        var recorder = (CallRecorder)(object)store;
        recorder.Inner = real;
        var definition = Platform.Reader.Read(Ratings("""{ "tuner": "random", "trials": 2 }"""), "sweep.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Finished, outcome.Status);
        var beforeTrials = recorder.Calls.TakeWhile(c => c != nameof(ISweepStorage.TrialStarted)).ToList();
        Assert.AreNotEqual(recorder.Calls.Count, beforeTrials.Count, "the trials started");
        CollectionAssert.Contains(beforeTrials, nameof(IRunStore.RecordDataset));
        CollectionAssert.DoesNotContain(beforeTrials, nameof(IRunStore.GetRun), string.Join(", ", beforeTrials));
        // What a worker is sent is the fingerprint recorded for the run, that of the data set the definition names.
        Assert.AreEqual(new DatasetLoader().Open(DatasetRequest.From(definition.Dataset)).Fingerprint, real.GetRun(outcome.RunId).Run.DataFingerprint);
    }

    [TestMethod]
    public void Budgets_of_wall_time_end_the_sweep_and_the_best_so_far_is_refitted()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(Ratings("""{ "tuner": "random", "trials": 100000, "wallTimeSeconds": 1.5 }"""), "sweep.json");
        var clock = Stopwatch.StartNew();
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(SweepStop.WallTime, outcome.Sweep.Stop);
        Assert.IsTrue(outcome.Sweep.Trials.Count is > 0 and < 100000);
        Assert.AreEqual(RunStatus.Finished, outcome.Status);
        Assert.IsNotNull(outcome.Refit);
        // The trial budget on the command line counts like the block's.
        var capped = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path }, new SweepRunOptions { Trials = 3 });
        Assert.AreEqual((SweepStop.TrialBudget, 3), (capped.Sweep.Stop, capped.Sweep.Trials.Count));
    }

    [TestMethod]
    public void A_wall_time_budget_that_ends_the_sweep_before_any_trial_completes_says_so_not_that_the_user_stopped_it()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        // One ALS trial of 1,000 sweeps takes far longer than the 1 s budget; the budget cancels it (the trainer checks its token).
        var definition = Platform.Reader.Read(Ratings("""{ "tuner": "random", "trials": 5, "parallelism": 1, "wallTimeSeconds": 1, "defaultSpaces": false, "space": { "mf": { "lambda": { "float": [0.01, 0.1] } } } }""",
            models: """[ { "type": "matrix-factorization", "name": "mf", "parameters": { "solver": "als", "rank": 32, "iterations": 1000, "threads": 1, "earlyStoppingRounds": 0 } } ]"""), "sweep.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual((SweepStop.WallTime, RunStatus.Cancelled), (outcome.Sweep.Stop, outcome.Status));
        Assert.IsNull(outcome.Sweep.Best);
        var error = store.GetRun(outcome.RunId).Run.Error!;
        StringAssert.Contains(error, "reached its wall-time budget of 1 s after 0 finished trial(s) with none completed (1 cancelled)");
        Assert.IsFalse(error.Contains("by the user"), error);
    }

    [TestMethod]
    public void A_k_fold_metric_is_the_folds_mean_with_their_intervals_combined()
    {
        // Folds 0.70 [0.64, 0.74], 0.76 [0.72, 0.82], 0.73 [0.70, 0.78]: mean 0.73; lower half-widths 0.06, 0.04, 0.03 →
        // √(0.0036 + 0.0016 + 0.0009) / 3 = √0.0061 / 3 = 0.026034; upper 0.04, 0.06, 0.05 → √0.0077 / 3 = 0.029250.
        var folds = new[] { (0.70, 0.64, 0.74), (0.76, 0.72, 0.82), (0.73, 0.70, 0.78) }
            .Select(f => new Experiments.Evaluation.MetricValue("auc", null, f.Item1, f.Item2, f.Item3, 100)).ToList();
        var metric = ExperimentRunner.FoldMean(folds);
        Assert.AreEqual(0.73, metric.Value, 1e-12);
        Assert.AreEqual(0.73 - 0.026034, metric.Lower!.Value, 1e-6);
        Assert.AreEqual(0.73 + 0.029250, metric.Upper!.Value, 1e-6);
        // A fold without an interval (no bootstrap): the mean alone.
        var without = ExperimentRunner.FoldMean([folds[0], folds[1] with { Lower = null, Upper = null }]);
        Assert.AreEqual((0.73, (double?)null, (double?)null), (without.Value, without.Lower, without.Upper));
    }

    [TestMethod]
    public void A_trial_takes_every_core_only_for_trainers_that_use_them()
    {
        int Threads(string models) => ExperimentRunner.ThreadsPerTrial(Platform.Reader.Read($$"""
            { "name": "t", "task": "classification", "dataset": { "name": "demo-shop", "table": "clicks" }, "models": {{models}}, "metrics": ["auc"] }
            """, "t.json"));
        // SDCA and L-BFGS logistic regression train on one thread here; LightGBM on every core unless its threads are fixed.
        Assert.AreEqual(1, Threads("""[ { "type": "sdca" }, { "type": "logistic-regression" } ]"""));
        Assert.AreEqual(Environment.ProcessorCount, Threads("""[ { "type": "sdca" }, { "type": "lightgbm" } ]"""));
        Assert.AreEqual(3, Threads("""[ { "type": "sdca" }, { "type": "lightgbm", "parameters": { "threads": 3 } } ]"""));
    }

    [TestMethod]
    public void A_sweep_that_ends_with_every_trial_pruned_or_failed_fails_its_run_saying_why()
    {
        var space = new SearchSpaceBuilder().Float("x", 0, 1).Build();
        TrialResult Trial(int n, TrialStatus status, string? error = null) => new()
        {
            Number = n, Parameters = ParameterSet.Empty, Seed = n, Status = status, Value = status == TrialStatus.Pruned ? 1 : null,
            ErrorType = error is null ? null : "InvalidOperationException", Error = error,
        };
        SweepResult Result(SweepStop stop, params TrialResult[] trials) => new(7, stop, space, new SweepObjective("rmse"), trials, TimeSpan.FromSeconds(3));

        var (status, message) = ExperimentRunner.NotRefitted(Result(SweepStop.TrialBudget, Trial(0, TrialStatus.Pruned), Trial(1, TrialStatus.Pruned)), null);
        Assert.AreEqual(RunStatus.Failed, status);
        StringAssert.Contains(message, "Sweep 7 ended after 2 finished trial(s), every one pruned");
        (status, message) = ExperimentRunner.NotRefitted(Result(SweepStop.TrialBudget, Trial(0, TrialStatus.Pruned), Trial(1, TrialStatus.Failed, "broken")), null);
        Assert.AreEqual(RunStatus.Failed, status);
        StringAssert.Contains(message, "ended after 2 finished trial(s) with none completed (1 pruned, 1 failed), so there is nothing to refit; trial 1: InvalidOperationException: broken");
        // The trial in flight at the stop is not counted as finished: a resume runs it again.
        (status, message) = ExperimentRunner.NotRefitted(Result(SweepStop.Cancelled, Trial(0, TrialStatus.Cancelled)), null);
        Assert.AreEqual((RunStatus.Cancelled, "Sweep 7 stopped by the user after 0 finished trial(s) (1 in progress cancelled, run again on resume); resume it with --resume 7."), (status, message));
    }

    [TestMethod]
    public void A_stopped_sweep_keeps_its_trials_and_best_so_far_and_tests_nothing()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(Ratings("""{ "tuner": "random", "trials": 1000, "parallelism": 1 }"""), "sweep.json");
        using var stop = new CancellationTokenSource();
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path },
            new SweepRunOptions { Progress = new StopAfter(3, stop) }, stop.Token);
        Assert.AreEqual((RunStatus.Cancelled, SweepStop.Cancelled), (outcome.Status, outcome.Sweep.Stop));
        Assert.IsNull(outcome.Refit);
        Assert.IsNotNull(outcome.Sweep.Best, "the best so far");
        Assert.IsEmpty(store.GetRun(outcome.RunId).Trials, "the test part was not touched");
        Assert.AreEqual("cancelled", store.GetSweep(outcome.Sweep.SweepId).Status);
        Assert.IsTrue(store.GetTrials(outcome.Sweep.SweepId).Count(t => t.Status == TrialStatus.Completed) >= 3);
    }

    [TestMethod]
    public void A_resume_is_checked_before_it_touches_the_run_and_records_the_runs_data_once()
    {
        using var folder = new TempFolder();
        var db = Path.Combine(folder.Path, "runs.db");
        using var store = SqliteRunStore.Open(db);
        const string sweep = """{ "tuner": "random", "trials": 8, "parallelism": 1 }""";
        var definition = Platform.Reader.Read(Ratings(sweep), "sweep.json");
        var options = new RunOptions { ReportDirectory = folder.Path };
        using var stop = new CancellationTokenSource();
        var stopped = new ExperimentRunner(store).Sweep(definition, options, new SweepRunOptions { Progress = new StopAfter(3, stop) }, stop.Token);
        var (runId, sweepId) = (stopped.RunId, stopped.Sweep.SweepId);
        var before = store.GetRun(runId);
        Assert.AreEqual(RunStatus.Cancelled, before.Run.Status);
        Assert.IsNotEmpty(before.Profile, "the run's data profile");
        var completed = store.GetTrials(sweepId).Count(t => t.Status == TrialStatus.Completed);
        SweepOutcome Resume(ExperimentDefinition d, SweepRunOptions o) => new ExperimentRunner(store).Sweep(d, options, o with { Resume = sweepId });

        // Refused for other settings: the run keeps its status and message.
        var tuner = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => Resume(definition, new SweepRunOptions { Tuner = "tpe" }));
        StringAssert.Contains(tuner.Message, "cannot be resumed with these settings");
        var refused = store.GetRun(runId);
        Assert.AreEqual((before.Run.Status, before.Run.Error), (refused.Run.Status, refused.Run.Error));
        // Other data (here, generated with other options): refused saying so, compared before the run is reopened, so
        // the run keeps its status, message, data checks and profile, and the sweep its trials.
        var otherData = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => Resume(Platform.Reader.Read(Ratings(sweep, users: 301), "sweep.json"), new SweepRunOptions()));
        StringAssert.Contains(otherData.Message, "is not what it was");
        StringAssert.Contains(otherData.Message, "stored trials were scored on the data it began with");
        Assert.AreEqual(("cancelled", completed), (store.GetSweep(sweepId).Status, store.GetTrials(sweepId).Count(t => t.Status == TrialStatus.Completed)));
        refused = store.GetRun(runId);
        Assert.AreEqual((before.Run.Status, before.Run.Error, before.Run.DataFingerprint), (refused.Run.Status, refused.Run.Error, refused.Run.DataFingerprint));
        Assert.AreEqual((before.Profile.Count, before.DataIssues.Count), (refused.Profile.Count, refused.DataIssues.Count), "its profile and data checks are kept");

        // Marked running on another machine of a shared store: refused unless taken over.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"UPDATE sweeps SET status = 'running', host = 'elsewhere', pid = 4242 WHERE id = {sweepId}; " +
                                  $"UPDATE runs SET status = 'running', host = 'elsewhere', pid = 4242 WHERE id = {runId}";
            command.ExecuteNonQuery();
        }
        var elsewhere = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => Resume(definition, new SweepRunOptions()));
        StringAssert.Contains(elsewhere.Message, "marked running on elsewhere (process 4242)");
        var resumed = Resume(definition, new SweepRunOptions { TakeOver = true });
        Assert.AreEqual((RunStatus.Finished, runId, 8), (resumed.Status, resumed.RunId, resumed.Sweep.Trials.Count));
        var after = store.GetRun(runId);
        Assert.AreEqual(before.Profile.Count, after.Profile.Count, "the resumed run's data profile is recorded once");
        Assert.AreEqual(before.DataIssues.Count, after.DataIssues.Count, "and its data checks");
        Assert.HasCount(1, after.Trials, "the refit");

        // A finished sweep (its refit done) is not resumed: it would add a second refit to its run.
        var finished = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => Resume(definition, new SweepRunOptions { Trials = 12 }));
        StringAssert.Contains(finished.Message, "has finished");
        Assert.HasCount(1, store.GetRun(runId).Trials);
    }

    /// <summary>Stops the run (as Ctrl+C does) when the refit begins: the trials are silent, only the refit reaches the run's observer.</summary>
    private sealed class StopAtRefit(CancellationTokenSource stop) : IRunObserver
    {
        public void Stage(string message)
        {
            if (message.StartsWith("Refitting", StringComparison.Ordinal)) stop.Cancel();
        }

        public void Progress(string step, double fraction) { }
        public void TrialFinished(Experiments.Runs.TrialResult result) { }
        public void Warning(string message) { }
    }

    /// <summary>A sweep of <paramref name="definition"/> stopped during its refit; its run and sweep ids.</summary>
    private static (long RunId, long SweepId) StoppedInItsRefit(SqliteRunStore store, ExperimentDefinition definition, string reports)
    {
        using var stop = new CancellationTokenSource();
        long? sweepId = null;
        Assert.ThrowsExactly<OperationCanceledException>(() => new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = reports, Observer = new StopAtRefit(stop) },
            new SweepRunOptions { Started = id => sweepId = id }, stop.Token));
        var runId = store.GetSweep(sweepId!.Value).RunId!.Value;
        return (runId, sweepId.Value);
    }

    /// <summary>The refit's test RMSE, computed here: the best stored trial's configuration fitted on training + validation.</summary>
    private static double RefitRmse(SqliteRunStore store, long sweepId, ExperimentDefinition definition)
    {
        var best = store.GetTrials(sweepId).Where(t => t.Status == TrialStatus.Completed).MinBy(t => t.Value)!;
        var split = SplitOf(definition);
        return BiasRmse(Interactions.Concatenate(split.Train, split.Validation!), split.Test, Own(best.Parameters));
    }

    [TestMethod]
    public void A_sweep_resumed_with_another_trial_budget_keeps_the_random_start_its_first_budget_gave_smac()
    {
        // SMAC starts with a quarter of the trial budget at random: 2 of 8. Stopped after 3 trials and resumed to 12
        // (which alone would give 3), the sweep keeps its 2, the budget it started with being in the store, and proposes
        // what a 12-trial sweep told to start with 2 proposes.
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var options = new RunOptions { ReportDirectory = folder.Path };
        var definition = Platform.Reader.Read(Ratings("""{ "tuner": "smac", "trials": 8, "parallelism": 1 }"""), "sweep.json");
        using var stop = new CancellationTokenSource();
        var stopped = new ExperimentRunner(store).Sweep(definition, options, new SweepRunOptions { Progress = new StopAfter(3, stop) }, stop.Token);
        var record = store.GetSweep(stopped.Sweep.SweepId);
        Assert.AreEqual(8, record.TrialBudget);
        StringAssert.StartsWith(record.Tuner, "smac(startup=2,");
        var resumed = new ExperimentRunner(store).Sweep(definition, options, new SweepRunOptions { Resume = stopped.Sweep.SweepId, Trials = 12 });
        Assert.AreEqual((RunStatus.Finished, 12), (resumed.Status, resumed.Sweep.Trials.Count));
        var givenStart = Platform.Reader.Read(Ratings("""{ "tuner": "smac", "trials": 12, "startupTrials": 2, "parallelism": 1 }"""), "sweep.json");
        var uninterrupted = new ExperimentRunner(store).Sweep(givenStart, options);
        CollectionAssert.AreEqual(uninterrupted.Sweep.Trials.Select(t => t.Parameters).ToList(), resumed.Sweep.Trials.Select(t => t.Parameters).ToList());
    }

    [TestMethod]
    public void A_sweep_stopped_during_its_refit_resumes_and_refits_keeping_the_stopped_attempt()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(Ratings("""{ "tuner": "random", "trials": 4, "parallelism": 1 }"""), "sweep.json");
        var (runId, sweepId) = StoppedInItsRefit(store, definition, folder.Path);
        var stopped = store.GetRun(runId);
        Assert.AreEqual(RunStatus.Cancelled, stopped.Run.Status);
        Assert.AreEqual("cancelled", stopped.Trials.Single().Status, "the stopped refit");
        Assert.AreEqual(4, store.GetTrials(sweepId).Count(t => t.Status == TrialStatus.Completed));

        // The resume the CLI's hint names: the stored trials are replayed, the budget is reached and the refit done.
        var resumed = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path }, new SweepRunOptions { Resume = sweepId });
        Assert.AreEqual((RunStatus.Finished, runId, 4), (resumed.Status, resumed.RunId, resumed.Sweep.Trials.Count));
        var run = store.GetRun(runId);
        CollectionAssert.AreEqual(new[] { "cancelled", "finished" }, run.Trials.Select(t => t.Status).ToList(), "the stopped attempt is kept beside the refit");
        Assert.AreEqual(RefitRmse(store, sweepId, definition), run.Trials[1].Metrics.Single(m => m.Name == "rmse").Value, 1e-5);

        // Now the refit is done: refused, saying so.
        var finished = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() =>
            new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path }, new SweepRunOptions { Resume = sweepId }));
        StringAssert.Contains(finished.Message, $"Sweep {sweepId} has finished: run {runId} holds the refit");
        Assert.HasCount(2, store.GetRun(runId).Trials);
    }

    [TestMethod]
    public void The_cli_result_of_a_sweep_resumed_after_a_stop_in_its_refit_is_the_finished_refit_not_the_stopped_attempt()
    {
        using var folder = new TempFolder();
        var db = Path.Combine(folder.Path, "runs.db");
        var file = folder.File("sweep.json", Ratings("""{ "tuner": "random", "trials": 3, "parallelism": 1 }"""));
        var definition = Platform.Reader.ReadFile(file);
        long runId, sweepId;
        using (var stopping = SqliteRunStore.Open(db))
            (runId, sweepId) = StoppedInItsRefit(stopping, definition, folder.Path);

        var (code, output, error) = CliProcess.Run(folder.Path, "sweep", file, "--store", db, "--reports", folder.Path, "--resume", sweepId.ToString(CultureInfo.InvariantCulture), "--json");
        Assert.AreEqual(0, code, error + output);
        using var store = SqliteRunStore.Open(db);
        var trials = store.GetRun(runId).Trials;
        CollectionAssert.AreEqual(new[] { "cancelled", "finished" }, trials.Select(t => t.Status).ToList(), "the stopped attempt stays in the run's history");
        var refit = System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("refit");
        Assert.AreEqual(1, refit.GetArrayLength(), output);
        Assert.AreEqual("finished", refit[0].GetProperty("status").GetString());
        Assert.AreEqual(trials[1].Id, refit[0].GetProperty("id").GetInt64());
        Assert.AreEqual(RefitRmse(store, sweepId, definition), refit[0].GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "rmse").GetProperty("value").GetDouble(), 1e-5);
    }

    [TestMethod]
    public void A_sweep_whose_refit_was_left_running_on_another_machine_is_taken_over_and_refitted()
    {
        using var folder = new TempFolder();
        var db = Path.Combine(folder.Path, "runs.db");
        using var store = SqliteRunStore.Open(db);
        var definition = Platform.Reader.Read(Ratings("""{ "tuner": "random", "trials": 3, "parallelism": 1 }"""), "sweep.json");
        var (runId, sweepId) = StoppedInItsRefit(store, definition, folder.Path);
        // As a machine that died while refitting leaves a shared store: the run and its refit running there.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"UPDATE runs SET status = 'running', ended_at = NULL, host = 'elsewhere', pid = 4242 WHERE id = {runId}; " +
                                  $"UPDATE trials SET status = 'running', ended_at = NULL WHERE run_id = {runId}";
            command.ExecuteNonQuery();
        }
        var resumed = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path }, new SweepRunOptions { Resume = sweepId, TakeOver = true });
        Assert.AreEqual((RunStatus.Finished, runId), (resumed.Status, resumed.RunId));
        var run = store.GetRun(runId);
        CollectionAssert.AreEqual(new[] { "killed", "finished" }, run.Trials.Select(t => t.Status).ToList(), "the refit left running is marked killed");
        Assert.AreEqual(RefitRmse(store, sweepId, definition), run.Trials[1].Metrics.Single(m => m.Name == "rmse").Value, 1e-5);
    }

    [TestMethod]
    public void A_memory_limit_with_parallel_trials_in_this_process_or_no_trial_budget_is_refused_before_a_run_is_started()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(Ratings("""{ "tuner": "random", "trials": 2, "parallelism": 2, "trialMemoryMb": 500 }"""), "sweep.json");
        var e = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path }));
        StringAssert.Contains(e.Message, "A per-trial memory limit with 2 trials at once needs each trial in a process of its own");
        // So is a trial budget no sweep can run (--trials 0).
        var budget = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path },
            new SweepRunOptions { Trials = 0, Parallelism = 1 }));
        StringAssert.Contains(budget.Message, "The trial budget must be at least 1, not 0");
        Assert.IsEmpty(store.ListRuns(), "no run was started");
        Assert.IsEmpty(store.ListSweeps());
    }

    [TestMethod]
    public void A_worker_that_reads_other_data_than_the_sweeps_submitter_refuses_its_trials()
    {
        var definition = Platform.Reader.Read(Ratings("""{ "tuner": "random", "trials": 2 }"""), "sweep.json");
        // The submitter's fingerprint, computed here from the data the definition names (generated from its options).
        var submitted = new DatasetLoader().Open(DatasetRequest.From(definition.Dataset)).Fingerprint;
        Assert.IsNotNull(ExperimentRunner.SweepTrialObjective((RemoteWork.Of(definition, new RunOptions()) with { Fingerprint = submitted }).ToJson(), null));
        // Data edited since the worker last prepared it, or another copy: the payload's fingerprint differs, the trials are refused.
        var other = (RemoteWork.Of(definition, new RunOptions()) with { Fingerprint = new string('0', 64) }).ToJson();
        var e = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => ExperimentRunner.SweepTrialObjective(other, null));
        StringAssert.Contains(e.Message, "submitter loaded other data");
    }

    private sealed class StopAfter(int trials, CancellationTokenSource stop) : ISweepObserver
    {
        private int _finished;

        public void TrialFinished(TrialResult result, TrialResult? best)
        {
            if (Interlocked.Increment(ref _finished) >= trials) stop.Cancel();
        }
    }

    [TestMethod]
    public void A_sweep_killed_with_sigkill_resumes_from_its_stored_trials_and_continues_the_same_sequence()
    {
        using var folder = new TempFolder();
        var json = Ratings("""{ "tuner": "tpe", "trials": 16, "parallelism": 1, "defaultSpaces": false, "space": { "mf": { "rank": { "int": [2, 24] }, "iterations": { "int": [20, 40] }, "lambda": { "float": [0.01, 0.5], "log": true } } } }""",
            models: """[ { "type": "matrix-factorization", "name": "mf", "parameters": { "threads": 1, "earlyStoppingRounds": 0 } } ]""", users: 1000);
        var file = folder.File("sweep.json", json);
        var db = Path.Combine(folder.Path, "runs.db");
        string[] Args(params string[] more) => ["sweep", file, "--store", db, "--reports", Path.Combine(folder.Path, "reports"), .. more];
        using (var process = Process.Start(CliProcess.StartInfo(folder.Path, Args()))!)
        {
            var deadline = Stopwatch.StartNew();
            while (SweepStoreProbe.FinishedTrials(db) < 4 && deadline.Elapsed < TimeSpan.FromSeconds(120) && !process.HasExited) Thread.Sleep(50);
            if (process.HasExited) Assert.Fail("the sweep ended before it could be killed: " + process.StandardError.ReadToEnd());
            process.Kill(); // SIGKILL
            process.WaitForExit();
        }
        List<TrialResult> before;
        using (var opened = SqliteRunStore.Open(db))
            before = opened.GetTrials(1).Where(t => t.Status.IsFinal()).ToList();
        Assert.IsTrue(before.Count is >= 4 and < 16, $"{before.Count} trials finished before the kill");

        var (code, output, error) = CliProcess.Run(folder.Path, Args("--resume", "1", "--json"));
        Assert.AreEqual(0, code, error + output);
        using var store = SqliteRunStore.Open(db);
        var after = store.GetTrials(1);
        Assert.AreEqual(16, after.Count);
        Assert.IsTrue(after.All(t => t.Status == TrialStatus.Completed));
        foreach (var b in before)
        {
            var a = after.Single(t => t.Number == b.Number);
            Assert.AreEqual((b.Value, b.EndedAt), (a.Value, a.EndedAt), $"trial {b.Number} was kept, not run again");
        }
        // The same sweep without a kill proposes the same configurations, trial by trial, with the same results.
        using var fresh = SqliteRunStore.Open(Path.Combine(folder.Path, "fresh.db"));
        var uninterrupted = new ExperimentRunner(fresh).Sweep(Platform.Reader.ReadFile(file), new RunOptions { ReportDirectory = folder.Path });
        CollectionAssert.AreEqual(uninterrupted.Sweep.Trials.Select(t => t.Parameters).ToList(), after.Select(t => uninterrupted.Sweep.Space.Conform(t.Parameters)).ToList());
        CollectionAssert.AreEqual(uninterrupted.Sweep.Trials.Select(t => t.Value).ToList(), after.Select(t => t.Value).ToList());
        // One sweep, one run, one result: the killed sweep's own run is reopened and holds the refit.
        var run = store.ListRuns().Single();
        Assert.AreEqual((RunStatus.Finished, run.Id), (run.Status, store.GetSweep(1).RunId!.Value));
        Assert.AreEqual("finished", store.GetRun(run.Id).Trials.Single().Status, "the run's one trial is the refit");
    }

    [TestMethod]
    public void The_cli_refuses_a_definition_without_a_sweep_block_and_a_malformed_one_with_its_path()
    {
        using var folder = new TempFolder();
        var plain = folder.File("plain.json", Ratings("{}").Replace("\"sweep\": {},", ""));
        var (code, _, error) = CliProcess.Run(folder.Path, "sweep", plain, "--store", Path.Combine(folder.Path, "runs.db"));
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "has no \"sweep\" block");
        var bad = folder.File("bad.json", Ratings("""{ "space": { "bias": { "iterations": { "int": [10, 1] } } } }"""));
        (code, _, error) = CliProcess.Run(folder.Path, "sweep", bad, "--store", Path.Combine(folder.Path, "runs.db"));
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "$.sweep.space.bias.iterations");
        Assert.IsFalse(error.Contains("   at "), "no stack trace");
    }
}
