using Experiments.Core;
using Experiments.Ctr;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation.Classification;
using Experiments.Evaluation.Statistics;
using Experiments.Core.Definitions;

namespace Experiments.Tests.Ctr;

[TestClass]
public sealed class CtrTests
{
    private static (ClickLog Train, ClickLog Test) Criteo(int seed = 1)
    {
        var log = ClickLog.From(RealData.Open("criteo-samples").Table("train"));
        var split = RowSplitter.Stratified(log.Labels.Select(l => l ? 1 : 0).ToArray(), 0.2, 0, seed);
        return (log.Subset(split.Train), log.Subset(split.Test));
    }

    [TestMethod]
    public void Every_trainer_learns_something_on_Criteo()
    {
        var (train, test) = Criteo();
        foreach (var algorithm in Enum.GetValues<CtrAlgorithm>())
        {
            var model = CtrTrainer.Fit(train, new CtrOptions { Algorithm = algorithm, NumberOfIterations = algorithm == CtrAlgorithm.FieldAwareFactorizationMachine ? 10 : 100 });
            var p = model.Predict(test);
            Assert.IsTrue(p.All(x => x is >= 0 and <= 1), algorithm.ToString());
            var auc = BinaryMetrics.RocAuc(test.Labels, p);
            Console.WriteLine($"{algorithm}: AUC {auc:F3}, log loss {BinaryMetrics.LogLoss(test.Labels, p):F3}");
            Assert.IsGreaterThan(0.6, auc, algorithm.ToString());
        }
    }

    [TestMethod]
    public void A_saved_model_reloads_and_scores_identically()
    {
        var (train, test) = Criteo();
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "ctr.zip");
        var model = CtrTrainer.Fit(train, new CtrOptions { Algorithm = CtrAlgorithm.LightGbm, Features = new CtrFeatureOptions { Crosses = [("C1", "C2")] } });
        model.Save(path);
        var loaded = CtrModel.Load(path);
        CollectionAssert.AreEqual(model.Predict(test), loaded.Predict(test));
        var hashed = CtrTrainer.Fit(train, new CtrOptions { Algorithm = CtrAlgorithm.FieldAwareFactorizationMachine, NumberOfIterations = 3, Features = new CtrFeatureOptions { HashBits = 10 } });
        var hashedPath = Path.Combine(folder.Path, "hashed.zip");
        hashed.Save(hashedPath);
        CollectionAssert.AreEqual(hashed.Predict(test), CtrModel.Load(hashedPath).Predict(test));
    }

    [TestMethod]
    public void Bad_click_data_gives_clear_errors()
    {
        var (train, _) = Criteo();
        var onlyClicks = train.Subset(Enumerable.Range(0, train.Count).Where(r => train.Labels[r]).ToArray());
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => CtrTrainer.Fit(onlyClicks, new CtrOptions())).Message, "only clicks");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => CtrTrainer.Fit(train, new CtrOptions { Features = new CtrFeatureOptions { Crosses = [("C1", "I3")] } })).Message, "Cannot cross 'C1' with 'I3'");
    }
}

[TestClass]
public sealed class CtrRunTests
{
    [TestMethod]
    public void A_click_through_experiment_runs_from_a_definition()
    {
        using var folder = new TempFolder();
        using var store = Experiments.Store.SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        RealData.Open("criteo-samples");
        var definition = ExperimentBuilder.Create("ctr").ForTask("classification")
            .OnDataset("criteo-samples", d => d with { Table = "train" })
            .Split("stratified", 0.2, validationFraction: 0.2)
            .AddModel("logistic-regression").AddModel("ffm", p => p["iterations"] = 5L)
            .WithMetrics("auc", "log-loss", "f1").WithEvaluation(e => e with { BootstrapSamples = 50 })
            .Build(Experiments.Runs.Platform.Vocabulary);
        var outcome = new Experiments.Runs.ExperimentRunner(store).Run(definition, new Experiments.Runs.RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(Experiments.Store.RunStatus.Finished, outcome.Status);
        var details = store.GetRun(outcome.RunId);
        Assert.HasCount(2, details.Trials);
        Assert.IsTrue(details.Trials.All(t => t.Metrics.Single(m => m.Name == "auc").Value > 0.6));
        StringAssert.Contains(details.Trials[0].Protocol!, "max F1 on validation");
        // The report's curves are in the store: permutation importance per column, the ROC curve.
        var first = details.Curves.Where(c => c.TrialId == details.Trials[0].Id).ToList();
        Assert.AreEqual(39, first.Single(c => c.Kind == Experiments.Store.CurveKinds.FeatureImportance).Labels!.Count, "13 numeric + 26 categorical columns");
        Assert.IsTrue(first.Single(c => c.Kind == Experiments.Store.CurveKinds.Roc).X.Count > 10);
        var artifact = details.Artifacts.First(a => a.Kind == "classification-details");
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(artifact.Path)).RootElement;
        // ML.NET's permutation feature importance, per slot and summed per source column (for the logistic regression trial).
        var pfi = json.GetProperty("mlnetPermutationImportance");
        Assert.IsTrue(pfi.GetProperty("topSlots").GetArrayLength() > 0);
        var columns = pfi.GetProperty("bySourceColumn").EnumerateArray().Select(c => c.GetProperty("Column").GetString()).ToList();
        CollectionAssert.IsSubsetOf(columns, new[] { "position" }.Concat(Enumerable.Range(1, 13).Select(i => $"I{i}")).Concat(Enumerable.Range(1, 26).Select(i => $"C{i}")).ToList());

        // ffm is compared with the baseline on the same test rows: resampling tests for every metric, DeLong's for AUC.
        var tests = details.Comparisons.Select(c => (c.Metric, c.Test)).ToList();
        CollectionAssert.AreEquivalent(new[] { ("auc", PairedComparison.Resampled), ("auc", PairedComparison.DeLongTest), ("log-loss", PairedComparison.Resampled), ("f1", PairedComparison.Resampled) }, tests);
        double Auc(int trial) => details.Trials[trial].Metrics.Single(m => m.Name == "auc").Value;
        var delong = details.Comparisons.Single(c => c.Test == PairedComparison.DeLongTest);
        Assert.AreEqual(Auc(1) - Auc(0), delong.Difference, 1e-12);
        Assert.AreEqual(details.Trials[0].Metrics.Single(m => m.Name == "auc").Users, delong.Users, "the test rows are the units");
        Assert.IsNull(delong.Resamples);
        // Holm over the four tests of the split: the smallest raw p is multiplied by 4 (capped at 1).
        var smallest = details.Comparisons.MinBy(c => c.PValue)!;
        Assert.AreEqual(Math.Min(1, 4 * smallest.PValue), smallest.HolmPValue!.Value, 1e-12);
        var units = store.GetUserValues(details.Trials[1].Id)!;
        CollectionAssert.AreEquivalent(new[] { UnitStatistics.Label, UnitStatistics.Score, UnitStatistics.Decision }, units.Values.Keys.ToList());
        Assert.AreEqual(delong.Users, units.Users.Count);
    }

    [TestMethod]
    [DataRow("lightgbm", CtrAlgorithm.LightGbm)]
    [DataRow("fasttree", CtrAlgorithm.FastTree)]
    public void Boosting_threads_come_from_the_definition_are_checked_and_do_not_change_the_trees(string type, CtrAlgorithm algorithm)
    {
        string Json(string threads) => $$"""
            { "name": "x", "task": "classification", "dataset": { "name": "criteo-samples" }, "split": { "method": "stratified" },
              "models": [ { "type": "{{type}}", "parameters": { "threads": {{threads}} } } ], "metrics": ["auc"] }
            """;
        foreach (var (bad, why) in new[] { ("-1", "-1 is out of range: "), ("257", "257 is out of range: "), ("1.5", "expected an integer"), ("\"two\"", "expected an integer") })
        {
            var error = Assert.ThrowsExactly<DefinitionException>(() => Experiments.Runs.Platform.Reader.Read(Json(bad), "x.json"), bad);
            StringAssert.Contains(error.Message, $"$.models[0].parameters.threads: {why}", bad);
        }
        var definition = Experiments.Runs.Platform.Reader.Read(Json("2"), "x.json");
        Assert.AreEqual(2, CtrCatalog.Options(type, definition.Models[0].Parameters, 1).NumberOfThreads);
        Assert.AreEqual(Environment.ProcessorCount, CtrCatalog.Options(type, new Dictionary<string, object>(), 1).NumberOfThreads, "the default stays every core");

        // Deterministic, row-wise LightGBM and FastTree sum the same whatever the thread count: one thread and three give the same model.
        var log = ClickLog.From(RealData.Open("criteo-samples").Table("train"));
        var split = RowSplitter.Stratified(log.Labels.Select(l => l ? 1 : 0).ToArray(), 0.2, 0, 1);
        var (train, test) = (log.Subset(split.Train), log.Subset(split.Test));
        double[] Predict(int threads) => CtrTrainer.Fit(train, new CtrOptions { Algorithm = algorithm, NumberOfIterations = 20, NumberOfThreads = threads }).Predict(test);
        CollectionAssert.AreEqual(Predict(1), Predict(3));
    }

    [TestMethod]
    [DataRow(CtrAlgorithm.LightGbm)]
    [DataRow(CtrAlgorithm.FastTree)]
    public void Boosting_with_a_minLeaf_over_half_the_rows_is_an_error_naming_the_largest_allowed(CtrAlgorithm algorithm)
    {
        // 41 rows, 10 of them clicks: a split keeps minLeaf rows on each side, so 20 is the largest minLeaf that can split
        // (2 · 20 ≤ 41 < 2 · 21); above it every tree would be one leaf and every row would get the same score.
        var log = ClickLog.From(RealData.Open("criteo-samples").Table("train"));
        var rows = Enumerable.Range(0, log.Count).Where(i => log.Labels[i]).Take(10)
            .Concat(Enumerable.Range(0, log.Count).Where(i => !log.Labels[i]).Take(31)).Order().ToArray();
        var train = log.Subset(rows);
        var e = Assert.ThrowsExactly<ExperimentsException>(() => CtrTrainer.Fit(train, new CtrOptions { Algorithm = algorithm, MinimumExampleCountPerLeaf = 21, NumberOfIterations = 5 }));
        Assert.AreEqual("minLeaf 21 is too large for this click model's 41 training rows: a tree splits a leaf only when both sides keep at least minLeaf rows, " +
                        "so here minLeaf must be at most 20. Lower minLeaf or train on more rows.", e.Message);
        CtrTrainer.Fit(train, new CtrOptions { Algorithm = algorithm, MinimumExampleCountPerLeaf = 20, NumberOfIterations = 5 });
    }

    [TestMethod]
    public void Definitions_that_cannot_be_click_through_experiments()
    {
        string Json(string dataset, string split = "stratified") => $$"""
            { "name": "x", "task": "classification", "dataset": {{dataset}}, "split": { "method": "{{split}}" },
              "models": [ { "type": "lightgbm" } ], "metrics": ["auc"] }
            """;
        var noLabels = Assert.ThrowsExactly<DefinitionException>(() => Experiments.Runs.Platform.Reader.Read(Json("""{ "name": "movielens-latest-small" }"""), "x.json"));
        StringAssert.Contains(noLabels.Message, "has no labelled table");
        var unlabelled = Assert.ThrowsExactly<DefinitionException>(() => Experiments.Runs.Platform.Reader.Read(Json("""{ "name": "criteo-samples", "table": "test-unlabelled" }"""), "x.json"));
        StringAssert.Contains(unlabelled.Message, "unknown value 'test-unlabelled'");
        var temporal = Assert.ThrowsExactly<DefinitionException>(() => Experiments.Runs.Platform.Reader.Read(Json("""{ "name": "criteo-samples" }""", "leave-last-n"), "x.json"));
        StringAssert.Contains(temporal.Message, "use random, stratified (by label) or k-fold");
        var wrongTask = Assert.ThrowsExactly<DefinitionException>(() => Experiments.Runs.Platform.Reader.Read(Json("""{ "name": "criteo-samples" }""").Replace("\"lightgbm\"", "\"item-knn\""), "x.json"));
        StringAssert.Contains(wrongTask.Message, "model 'item-knn' cannot do task 'classification'");
    }

    [TestMethod]
    public void Bad_click_files_label_missing_column_and_text_in_a_number()
    {
        var source = RealData.Folder("criteo-samples");
        var lines = File.ReadAllLines(Path.Combine(source, "ycjuan_train.tiny.csv"));
        void Expect(Func<string[], string[]> corrupt, string message)
        {
            using var folder = new TempFolder();
            var copy = Path.Combine(folder.Path, "criteo-samples");
            Directory.CreateDirectory(copy);
            File.WriteAllLines(Path.Combine(copy, "ycjuan_train.tiny.csv"), corrupt((string[])lines.Clone()));
            var dataset = new DatasetLoader().Open(new DatasetRequest("criteo-samples") { DataDirectory = folder.Path });
            StringAssert.Contains(Assert.ThrowsExactly<DataFileException>(() => ClickLog.From(dataset.Table("train"))).Message, message);
        }
        Expect(l => { l[3] = l[3].Replace("10000002,0,", "10000002,2,"); return l; }, "line 4, field 'Label': not an allowed value: '2' (allowed: 0, 1)");
        Expect(l => l.Select(x => string.Join(',', x.Split(',').Where((_, i) => i != 5))).ToArray(), "the header does not match the data set's schema");
        Expect(l => { var f = l[2].Split(','); f[6] = "lots"; l[2] = string.Join(',', f); return l; }, "line 3, field 'I5': not a number: 'lots' (column type int64)");
    }

    [TestMethod]
    public void Position_is_learned_at_training_and_fixed_at_serving()
    {
        var dataset = new DatasetLoader().Open(new DatasetRequest("demo-shop") { Options = new Dictionary<string, double> { ["users"] = 800, ["items"] = 300 } });
        var log = ClickLog.From(dataset.Table("clicks"));
        Assert.IsNotNull(log.Position);
        CollectionAssert.Contains(log.Schema.Text.ToList(), "title");
        var model = CtrTrainer.Fit(log, new CtrOptions { Algorithm = CtrAlgorithm.LogisticRegression });
        var top = model.Predict(log.AtPosition(1), serving: false).Average();
        var bottom = model.Predict(log.AtPosition(10), serving: false).Average();
        Assert.IsGreaterThan(bottom * 1.3, top, "position 1 is clicked more than position 10");
        CollectionAssert.AreEqual(model.Predict(log.AtPosition(1), serving: false), model.Predict(log, serving: true), "serving = every item at position 1");
    }
}

[TestClass]
public sealed class DerivedClicksTests
{
    [TestMethod]
    public void Clicks_from_MovieLens_ratings()
    {
        var dataset = RealData.Open("movielens-latest-small");
        var ratings = dataset.Interactions();
        var log = DerivedClicks.FromRatings(ratings, dataset.Items(), 4, 1, seed: 3);
        var positives = ratings.Rating.Count(r => r >= 4);
        Assert.AreEqual(positives, log.Labels.Count(l => l));
        Assert.AreEqual(positives, log.Labels.Count(l => !l));
        var rated = Enumerable.Range(0, ratings.Count).Select(r => (ratings.Users[ratings.User[r]], ratings.Items[ratings.Item[r]])).ToHashSet();
        var user = log.Categorical[0];
        var item = log.Categorical[1];
        for (var r = 0; r < log.Count; r++) Assert.AreEqual(log.Labels[r], rated.Contains((user[r], item[r])), $"row {r}");
        CollectionAssert.AreEqual(new[] { "user", "item", "category" }, log.Schema.Categorical.ToArray());
        Assert.AreEqual("title", log.Schema.Text.Single());
        Assert.AreEqual("Toy Story (1995)", log.Text[0][Array.IndexOf(item, "1")]);
        CollectionAssert.AreEqual(item, DerivedClicks.FromRatings(ratings, dataset.Items(), 4, 1, seed: 3).Categorical[1], "seeded");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => DerivedClicks.FromRatings(ratings, null, 6, 1, 3)).Message, "No rating reaches 6");
    }
}
