using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Runs;
using Experiments.Search;
using Experiments.Search.Data;
using Experiments.Search.Evaluation;
using Experiments.Search.Intent;
using Experiments.Search.Retrieval;
using Experiments.Store;
using Experiments.Sweeps;
using Experiments.Text;
using TrialResult = Experiments.Sweeps.TrialResult;

namespace Experiments.Tests.Sweeps;

/// <summary>
/// Pruning of the search task's models: those that train an encoder (dense, hybrid, intent-encoder) report the sweep's
/// metric on the validation queries after each epoch, the re-ranker in rungs of trees; a pruned trial stops inside its
/// fit and keeps its values, a full one equals the unpruned fit. The reference values come from checkpoints of an
/// encoder trained here (one per epoch) and from re-rankers fitted here with a rung's trees, scored by the evaluator.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class SearchPruningTests
{
    private const int Epochs = 3;
    private const int Trees = 12;

    // ASHA with minResource 2 and η 3 over 12 trees: rungs at 2 and 6 trees, then the 12 of the configuration.
    private static readonly int[] Rungs = [2, 6, 12];

    private static string Encoder => $"\"hiddenSize\": 32, \"layers\": 1, \"attentionHeads\": 2, \"intermediateSize\": 64, \"vocabularySize\": 600, \"maxLength\": 24, "
                                     + $"\"epochs\": {Epochs}, \"batchSize\": 16, \"threads\": 1, \"device\": \"{TestDevice.Name}\"";

    // Two trials in the grid's seeded order; the second configuration is crafted to be poor where it can be.
    private static string Definition(string model, string parameters, string metric, string space, string pruner, int queries = 160) => $$"""
        {
          "name": "pruned-search", "task": "search",
          "dataset": { "name": "demo-shop", "options": { "users": 60, "items": 150, "searchQueries": {{queries}}, "seed": 4 } },
          "split": { "method": "random", "testFraction": 0.2, "validationFraction": 0.3 },
          "search": { "judgements": "search-judgements", "relevanceThreshold": 2 },
          "models": [ { "type": "{{model}}", "name": "m", "parameters": { {{parameters}} } } ],
          "metrics": ["{{metric}}"],
          "evaluation": { "bootstrapSamples": 0 },
          "sweep": { "tuner": "grid", "trials": 2, "parallelism": 1, "metric": "{{metric}}", "defaultSpaces": false, "space": { "m": {{space}} },
                     "pruner": {{pruner}} },
          "seed": 9
        }
        """;

    /// <summary>The run's collection and the sweep's tuning split (training queries less validation ones, scored on the validation queries) as the search task cuts them.</summary>
    private sealed record Tuning(ExperimentDefinition Definition, SearchCollection Collection, int[] Train, int[] Validation, SearchEvaluationOptions Options)
    {
        public static Tuning Of(ExperimentDefinition definition)
        {
            var dataset = new DatasetLoader().Open(DatasetRequest.From(definition.Dataset));
            var spec = definition.Search!;
            var collection = SearchCollection.Load(dataset, dataset.Manifest.Search!, spec.Judgements, spec.MaxQueries, definition.Seed);
            var cut = RowSplitter.Random(collection.Queries.Count, definition.Split.TestFraction, definition.Split.ValidationFraction, definition.Seed);
            return new(definition, collection, cut.Train.Order().ToArray(), cut.Validation, new SearchEvaluationOptions(SearchMetrics.ParseGain(spec.Gain), spec.RelevanceThreshold, BootstrapSamples: 0));
        }

        public double Ranking(Ranked[] lists) =>
            SearchEvaluator.EvaluateRanking(Collection, Validation, lists, Definition.Metrics, Options, 0).Values[0].Value;

        public string[] Texts(IEnumerable<int> queries) => queries.Select(q => Collection.Queries[q].Text).ToArray();
    }

    private static Dictionary<string, object> ParametersOf(ExperimentDefinition definition, TrialResult trial)
    {
        var parameters = new Dictionary<string, object>(definition.Models[0].Parameters);
        foreach (var (name, value) in trial.Parameters) parameters[name] = value;
        return parameters;
    }

    /// <summary>
    /// The trial's metric on the validation queries after each epoch: its encoder trained here as the model trains it
    /// (the same task, vocabulary, weights and seed), a checkpoint saved after every epoch, and each checkpoint made into
    /// the model and scored by the evaluator.
    /// </summary>
    private static List<double> EpochCurve(Tuning tuning, string model, TrialResult trial)
    {
        var (collection, catalogue) = (tuning.Collection, tuning.Collection.Catalogue!);
        var parameters = ParametersOf(tuning.Definition, trial);
        using var folder = new TempFolder();
        var training = EncoderCatalog.TrainingOptions(parameters, trial.Seed) with { CheckpointFolder = folder.Path };
        var labelled = tuning.Train.Where(q => collection.Queries[q].Intent is not null).ToArray();
        var labels = labelled.Select(q => collection.Queries[q].Intent!).ToList();
        var pairs = model == SearchCatalog.IntentEncoder ? null
            : DenseTrainingPairs.Mine(collection, tuning.Train, Convert.ToInt32(parameters["positivesPerQuery"]), null, 30, trial.Seed);
        EncoderTask task = pairs is null
            ? new EncoderTask.Labelled(tuning.Texts(labelled), labels.Select(l => collection.Intents.ToList().IndexOf(l)).ToArray(), collection.Intents.Count, null)
            : new EncoderTask.Pairs(pairs.Pairs, null, null, Enumerable.Range(0, catalogue.Count).Select(catalogue.Text).ToList());
        var vocabulary = TextTokenizer.LearnVocabulary(task.Corpus.ToList(), Convert.ToInt32(parameters["vocabularySize"]));
        var trainer = new EncoderTrainer(new BertEncoder(EncoderCatalog.ModelOptions(parameters, vocabulary.Count), trial.Seed), new TextTokenizer(vocabulary), training);
        if (task is EncoderTask.Labelled l) trainer.TrainClassifier(l.Texts, l.Labels, l.Classes);
        else trainer.TrainContrastive(pairs!.Pairs);

        var excluded = tuning.Validation.Select(q => collection.Queries[q].Excluded).ToList();
        return Enumerable.Range(1, Epochs).Select(epoch =>
        {
            var loaded = EncoderCheckpoint.Load(Path.Combine(folder.Path, $"epoch-{epoch}"));
            var encoder = new FittedEncoder(loaded.Encoder, loaded.Tokenizer, [], training with { CheckpointFolder = null });
            if (model == SearchCatalog.IntentEncoder)
            {
                var classifier = IntentClassifiers.OnEncoder(encoder, tuning.Texts(labelled), labels, collection.Intents, Convert.ToDouble(parameters["l2"]), trial.Seed);
                return SearchEvaluator.EvaluateIntent(collection, tuning.Validation, classifier.Classes, classifier.Predict(tuning.Texts(tuning.Validation)), tuning.Definition.Metrics, tuning.Options, 0).Values[0].Value;
            }
            var dense = DenseRetriever.Of(encoder, catalogue);
            var lists = dense.Search(dense.Embed(tuning.Texts(tuning.Validation)), model == SearchCatalog.Hybrid ? 100 : 10, excluded);
            if (model == SearchCatalog.Dense) return tuning.Ranking(lists);
            // Hybrid: BM25's 100 best (the default depth, the parameters' defaults) and the dense 100 best, fused by reciprocal rank (k 60, BM25 weight 0.5).
            using var bm25 = new Bm25Index(catalogue, new Bm25Options { Language = "english" });
            return tuning.Ranking(tuning.Validation.Select((q, i) => Fusion.ReciprocalRank(bm25.Search(collection.Queries[q].Text, 100, excluded[i]), lists[i], 0.5, 60, 10)).ToArray());
        }).ToList();
    }

    public static IEnumerable<object[]> EncoderModels =>
    [
        ["dense", $"{Encoder}, \"positivesPerQuery\": 2, \"hardNegatives\": false", "ndcg@10", 160],
        ["hybrid", $"{Encoder}, \"positivesPerQuery\": 2, \"hardNegatives\": false, \"language\": \"english\", \"fusion\": \"rrf\"", "ndcg@10", 160],
        // More queries and a weak L2, so that the classes are learned at all.
        ["intent-encoder", $"{Encoder}, \"l2\": 0.01", "macro-f1", 400],
    ];

    [TestMethod]
    [DynamicData(nameof(EncoderModels))]
    public void Each_encoder_epoch_reports_the_validation_metric_a_poor_trial_is_pruned_and_a_full_one_equals_the_unpruned_fit(string model, string parameters, string metric, int queries)
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        // A learning rate of 10⁻⁷ leaves the encoder almost where it started.
        const string space = """{ "learningRate": { "choice": [0.0000001, 0.003] } }""";
        var definition = Platform.Reader.Read(Definition(model, parameters, metric, space, """{ "type": "median", "startupTrials": 1 }""", queries), "pruned.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        var tuning = Tuning.Of(definition);

        var trials = store.GetTrials(outcome.Sweep.SweepId).OrderBy(t => t.Number).ToList();
        Assert.HasCount(2, trials);
        var (first, second) = (trials[0], trials[1]);
        Assert.AreEqual(0.003, Convert.ToDouble(first.Parameters["learningRate"]), "the grid's seeded order runs the good configuration first");
        var firstCurve = EpochCurve(tuning, model, first);
        var secondCurve = EpochCurve(tuning, model, second);

        // (a) One value per epoch, each the metric of the checkpoint of that epoch scored here.
        Assert.AreEqual(TrialStatus.Completed, first.Status);
        CollectionAssert.AreEqual(Enumerable.Range(1, Epochs).Select(i => (long)i).ToList(), first.Intermediate.Select(v => v.Step).ToList());
        for (var i = 0; i < Epochs; i++) Assert.AreEqual(firstCurve[i], first.Intermediate[i].Value, 1e-12, $"epoch {i + 1}");
        Assert.AreEqual(firstCurve[^1], first.Value!.Value, 1e-12, "the completed trial's value is its final model's");

        // (b) The median rule with one completed trial stops the second at the first epoch where its best value so far is
        // below the first trial's at that epoch; it keeps the values up to there.
        var stop = Enumerable.Range(0, Epochs).Where(i => secondCurve.Take(i + 1).Max() < firstCurve[i]).DefaultIfEmpty(Epochs).First();
        Assert.IsLessThan(Epochs - 1, stop, $"the crafted configuration falls behind before its last epoch (first {string.Join(", ", firstCurve)}; second {string.Join(", ", secondCurve)})");
        Assert.AreEqual(TrialStatus.Pruned, second.Status);
        CollectionAssert.AreEqual(Enumerable.Range(1, stop + 1).Select(i => (long)i).ToList(), second.Intermediate.Select(v => v.Step).ToList());
        for (var i = 0; i <= stop; i++) Assert.AreEqual(secondCurve[i], second.Intermediate[i].Value, 1e-12, $"pruned trial, epoch {i + 1}");

        // (c) Without a pruner the same trial reports nothing and ends with the same metrics: scoring the epochs does not change the training.
        var plain = Platform.Reader.Read(Definition(model, parameters, metric, space, """{ "type": "none" }""", queries), "plain.json");
        var same = new ExperimentRunner(store).Sweep(plain, new RunOptions { ReportDirectory = folder.Path }).Sweep.Trials.Single(t => t.Number == 0);
        Assert.IsEmpty(same.Intermediate);
        CollectionAssert.AreEquivalent(same.Metrics.Select(m => (m.Key, m.Value.Value)).ToList(), first.Metrics.Select(m => (m.Key, m.Value.Value)).ToList());
    }

    [TestMethod]
    public void With_reportEvery_an_encoder_reports_every_nth_epoch_and_after_its_last()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(Definition("intent-encoder", $"{Encoder}, \"l2\": 0.01", "macro-f1", """{ "learningRate": { "choice": [0.003] } }""",
            """{ "type": "median", "startupTrials": 1, "reportEvery": 2 }""", 400), "every.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        var trial = store.GetTrials(outcome.Sweep.SweepId).Single(t => t.Number == 0);
        var curve = EpochCurve(Tuning.Of(definition), "intent-encoder", trial);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, trial.Intermediate.Select(v => v.Step).ToList());
        Assert.AreEqual(curve[1], trial.Intermediate[0].Value, 1e-12);
        Assert.AreEqual(curve[2], trial.Intermediate[1].Value, 1e-12);
    }

    [TestMethod]
    public void An_intent_encoder_under_a_ranking_metric_reports_nothing_and_fails_for_its_missing_objective_as_without_a_pruner()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(Definition("intent-encoder", $"{Encoder.Replace($"\"epochs\": {Epochs}", "\"epochs\": 1")}, \"l2\": 0.01", "ndcg@10",
            """{ "learningRate": { "choice": [0.003] } }""", """{ "type": "median", "startupTrials": 1 }"""), "mixed.json");
        var error = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path }));
        StringAssert.Contains(error.Message, "all 1 trials failed");
        var trial = store.GetTrials(store.ListSweeps().Single().Id).Single();
        Assert.AreEqual(TrialStatus.Failed, trial.Status);
        Assert.AreEqual("MissingObjective", trial.ErrorType, trial.Error);
        Assert.IsEmpty(trial.Intermediate);
    }

    /// <summary>NDCG@10 on the validation queries of the trial's re-ranker fitted here (no sweep, no pruner) with <paramref name="trees"/> trees.</summary>
    private static double Reranked(Tuning tuning, TrialResult trial, int trees)
    {
        var parameters = ParametersOf(tuning.Definition, trial);
        parameters["trees"] = (long)trees;
        using var components = new SearchComponents();
        using var parts = components.Take();
        var ranker = (IRankingModel)SearchCatalog.Fit(SearchCatalog.Reranker, parameters, new SearchFitContext(tuning.Collection, tuning.Train, parts, trial.Seed) { Gain = tuning.Options.Gain, Language = "english" });
        return tuning.Ranking(ranker.Rank(tuning.Validation, 10));
    }

    [TestMethod]
    public void A_re_ranker_trial_whose_minimum_leaf_size_the_training_rows_cannot_split_is_recorded_failed_with_the_reason()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var parameters = "\"ranker\": \"lightgbm\", \"trees\": 5, \"leaves\": 8, \"dense\": false, \"intent\": \"none\"";
        var definition = Platform.Reader.Read(Definition("reranker", parameters, "ndcg@10", """{ "minLeaf": { "choice": [5, 1000000] } }""", """{ "type": "none" }"""), "minleaf.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });

        var trials = store.GetTrials(outcome.Sweep.SweepId).ToDictionary(t => Convert.ToInt64(t.Parameters["minLeaf"]));
        Assert.AreEqual(TrialStatus.Completed, trials[5].Status, trials[5].Error);
        var failed = trials[1_000_000];
        Assert.AreEqual((TrialStatus.Failed, "ExperimentsException"), (failed.Status, failed.ErrorType), failed.Error);
        var reason = System.Text.RegularExpressions.Regex.Match(failed.Error!, @"^minLeaf 1000000 is too large for this ranking model's (\d+) training rows: .* minLeaf must be at most (\d+)\.");
        Assert.IsTrue(reason.Success, failed.Error);
        Assert.AreEqual(int.Parse(reason.Groups[1].Value) / 2, int.Parse(reason.Groups[2].Value), "at most half the rows");
        // The sweep went on: the trial that fitted is refitted and tested.
        Assert.AreEqual(RunStatus.Finished, outcome.Status);
        Assert.AreEqual("5", store.GetRun(outcome.RunId).Trials.Single().Parameters["minLeaf"]);
    }

    [TestMethod]
    [DataRow("lightgbm")]
    [DataRow("fasttree")]
    public void The_re_ranker_reports_in_rungs_of_trees_a_poor_trial_stops_at_a_rung_and_a_full_one_equals_the_unpruned_fit(string ranker)
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var parameters = $"\"ranker\": \"{ranker}\", \"trees\": {Trees}, \"leaves\": 8, \"minLeaf\": 5, \"dense\": false, \"intent\": \"none\"";
        // Three candidates per query leave NDCG@10 little to find, whatever the trees do.
        const string space = """{ "depth": { "choice": [3, 50] } }""";
        var definition = Platform.Reader.Read(Definition("reranker", parameters, "ndcg@10", space, """{ "type": "asha", "minResource": 2, "reductionFactor": 3 }"""), "pruned.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        var tuning = Tuning.Of(definition);

        var trials = store.GetTrials(outcome.Sweep.SweepId).OrderBy(t => t.Number).ToList();
        Assert.HasCount(2, trials);
        var (first, second) = (trials[0], trials[1]);
        Assert.AreEqual(50L, Convert.ToInt64(first.Parameters["depth"]), "the grid's seeded order runs the good configuration first");
        var firstCurve = Rungs.Select(r => Reranked(tuning, first, r)).ToList();
        var secondCurve = Rungs.Select(r => Reranked(tuning, second, r)).ToList();

        // (a) One value per rung, at the rung's trees, each the NDCG@10 of a re-ranker with that many trees fitted here.
        Assert.AreEqual(TrialStatus.Completed, first.Status);
        CollectionAssert.AreEqual(Rungs.Select(r => (long)r).ToList(), first.Intermediate.Select(v => v.Step).ToList());
        for (var i = 0; i < Rungs.Length; i++) Assert.AreEqual(firstCurve[i], first.Intermediate[i].Value, 1e-12, $"{Rungs[i]} trees");
        Assert.AreEqual(firstCurve[^1], first.Value!.Value, 1e-12, "the completed trial's value is its full fit's");

        // (b) ASHA with fewer than η trials at a rung keeps only the best: the second stops at the first rung where it trails.
        var stop = Enumerable.Range(0, Rungs.Length).Where(i => secondCurve[i] < firstCurve[i]).DefaultIfEmpty(Rungs.Length).First();
        Assert.IsLessThan(Rungs.Length - 1, stop, $"the crafted configuration trails before its last rung (first {string.Join(", ", firstCurve)}; second {string.Join(", ", secondCurve)})");
        Assert.AreEqual(TrialStatus.Pruned, second.Status);
        CollectionAssert.AreEqual(Rungs.Take(stop + 1).Select(r => (long)r).ToList(), second.Intermediate.Select(v => v.Step).ToList());
        for (var i = 0; i <= stop; i++) Assert.AreEqual(secondCurve[i], second.Intermediate[i].Value, 1e-12, $"pruned trial, {Rungs[i]} trees");

        // (c) Without a pruner the trial is one fit of all its trees, with the same metrics.
        var plain = Platform.Reader.Read(Definition("reranker", parameters, "ndcg@10", space, """{ "type": "none" }"""), "plain.json");
        var same = new ExperimentRunner(store).Sweep(plain, new RunOptions { ReportDirectory = folder.Path }).Sweep.Trials.Single(t => t.Number == 0);
        Assert.IsEmpty(same.Intermediate);
        CollectionAssert.AreEquivalent(same.Metrics.Select(m => (m.Key, m.Value.Value)).ToList(), first.Metrics.Select(m => (m.Key, m.Value.Value)).ToList());
    }
}
