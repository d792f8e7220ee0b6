using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Manifests;
using Experiments.Runs;
using Experiments.Store;

namespace Experiments.Tests.Runs;

/// <summary>One model's failure — whatever throws it — fails that trial only; output problems never lose results.</summary>
[TestClass]
public sealed class FailureIsolationTests
{
    // A click log of 40 rows with 3 clicks, numeric and categorical features, as a user's own data set would be.
    private const string Manifest = """
        {
          "name": "few-clicks", "title": "Few clicks", "description": "test click log", "licence": "none", "folder": "few-clicks",
          "files": [ { "path": "log.csv", "sha256": null } ],
          "tables": [
            { "name": "log", "file": "log.csv", "role": "records", "header": true,
              "columns": [ { "name": "label", "role": "label", "required": true, "allowed": ["0", "1"] }, { "name": "x", "type": "float" }, { "name": "c" } ] }
          ]
        }
        """;

    private static readonly DefinitionVocabulary Vocabulary = Platform.Vocabulary with
    {
        Datasets = [.. Platform.Vocabulary.Datasets, new DatasetDescriptor("few-clicks", "test click log", false, [], [], false, ["log"])],
    };

    private static (DatasetLoader Loader, string Folder) FewClicks(TempFolder folder)
    {
        var rows = Enumerable.Range(0, 40).Select(i => $"{(i is 5 or 17 or 31 ? 1 : 0)},{i * 0.37 % 3:F3},{"abcd"[i % 4]}");
        folder.File("data/few-clicks/log.csv", "label,x,c\n" + string.Join("\n", rows) + "\n");
        return (new DatasetLoader(new DatasetRegistry([DatasetRegistry.Parse(Manifest, "few-clicks.json")])), Path.Combine(folder.Path, "data"));
    }

    [TestMethod]
    public void A_test_fold_with_one_class_fails_its_trials_and_the_other_folds_finish()
    {
        using var folder = new TempFolder();
        var (loader, data) = FewClicks(folder);
        // Five folds of 8 rows and 3 clicks: at least two test folds hold no click, where AUC is undefined.
        var definition = ExperimentBuilder.Create("one-class").ForTask("classification")
            .OnDataset("few-clicks", d => d with { Table = "log", DataDirectory = data })
            .Split("k-fold", folds: 5)
            .AddModel("logistic-regression").AddModel("sdca")
            .WithMetrics("auc", "log-loss")
            .Build(Vocabulary);
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var outcome = new ExperimentRunner(store, loader).Run(definition, new RunOptions { ReportDirectory = Path.Combine(folder.Path, "reports") });

        Assert.AreEqual(RunStatus.Failed, outcome.Status);
        var trials = store.GetRun(outcome.RunId).Trials;
        Assert.HasCount(10, trials, "every model on every fold was tried");
        var failed = trials.Where(t => t.Status == "failed").ToList();
        Assert.IsGreaterThanOrEqualTo(4, failed.Count);
        // The evaluator names the undefined metric and why (a fold of 8 rows with no click); foreign exceptions' types are recorded too (the FFM test below).
        Assert.IsTrue(failed.All(t => t.Error!.StartsWith("Metric 'auc' is undefined on these 8 test rows: none is positive", StringComparison.Ordinal)), string.Join("\n", failed.Select(t => t.Error)));
        var finished = trials.Where(t => t.Status == "finished").ToList();
        Assert.IsNotEmpty(finished);
        Assert.IsTrue(finished.All(t => t.Metrics.Any(m => m.Name == "auc")));
        Assert.HasCount(3, outcome.Reports);
        Assert.IsTrue(outcome.Reports.All(File.Exists), "the run's reports are written");
    }

    [TestMethod]
    public void An_MLNet_error_inside_one_model_leaves_the_other_models_running()
    {
        using var folder = new TempFolder();
        var (loader, data) = FewClicks(folder);
        // 2^22 hashed slots × 2 fields × 256 latent factors overflows the size ML.NET's FFM trainer checks before it allocates.
        var definition = ExperimentBuilder.Create("mlnet-error").ForTask("classification")
            .OnDataset("few-clicks", d => d with { Table = "log", DataDirectory = data })
            .Split("stratified", 0.25)
            .AddModel("logistic-regression")
            .AddModel("ffm", p => { p["hashBits"] = 22L; p["latentDimension"] = 256L; p["iterations"] = 1L; })
            .AddModel("lightgbm", p => { p["iterations"] = 5L; p["minLeaf"] = 2L; })
            .WithMetrics("log-loss")
            .Build(Vocabulary);
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var outcome = new ExperimentRunner(store, loader).Run(definition, new RunOptions { ReportDirectory = Path.Combine(folder.Path, "reports") });

        var trials = store.GetRun(outcome.RunId).Trials;
        Assert.AreEqual(RunStatus.Failed, outcome.Status);
        CollectionAssert.AreEqual(new[] { "finished", "failed", "finished" }, trials.Select(t => t.Status).ToArray());
        StringAssert.StartsWith(trials[1].Error!, "OverflowException: ");
        StringAssert.Contains(store.GetRun(outcome.RunId).Run.Error!, "ffm: OverflowException");
    }

    [TestMethod]
    public void A_singular_system_in_one_solver_leaves_the_other_models_running()
    {
        using var folder = new TempFolder();
        // Without regularisation, users with fewer ratings than the rank give ALS singular normal equations.
        var definition = ExperimentBuilder.Create("singular").ForTask("rating")
            .OnDataset("demo-shop", d => d with { Table = "ratings", Options = new Dictionary<string, double> { ["users"] = 200, ["items"] = 100 } })
            .Split("random", 0.2)
            .AddModel("global-mean")
            .AddModel("matrix-factorization", p => { p["lambda"] = 0.0; p["biasLambda"] = 0.0; p["rank"] = 32L; p["iterations"] = 2L; })
            .AddModel("bias")
            .WithMetrics("rmse")
            .Build(Platform.Vocabulary);
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = Path.Combine(folder.Path, "reports") });
        CollectionAssert.AreEqual(new[] { "finished", "failed", "finished" }, outcome.Trials.Select(t => t.Status).ToArray());
        StringAssert.Contains(outcome.Trials[1].Error!, "not positive definite");
    }

    [TestMethod]
    public void A_report_that_cannot_be_written_at_the_end_loses_no_result()
    {
        using var folder = new TempFolder();
        var reports = Path.Combine(folder.Path, "reports");
        var definition = ExperimentBuilder.Create("report-lost").ForTask("ranking")
            .OnDataset("demo-shop", d => d with { Options = new Dictionary<string, double> { ["users"] = 200, ["items"] = 100 } })
            .AddModel("most-popular").WithMetrics("ndcg@10").WithEvaluation(e => e with { BootstrapSamples = 0 })
            .Build(Platform.Vocabulary);
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        // The folder was writable when the run started; it is replaced by a file before the report is written.
        var observer = new OnTrialFinished(() => { Directory.Delete(reports, recursive: true); File.WriteAllText(reports, "not a folder"); });
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = reports, Observer = observer });

        Assert.AreEqual(RunStatus.Finished, outcome.Status);
        Assert.IsEmpty(outcome.Reports);
        StringAssert.Contains(outcome.ReportError!, $"experiments report {outcome.RunId} --store {store.Location} --out DIR");
        var stored = store.GetRun(outcome.RunId);
        Assert.AreEqual(RunStatus.Finished, stored.Run.Status);
        Assert.IsNull(stored.Run.Error);
        Assert.AreEqual(outcome.Trials[0].Metrics[0].Value, stored.Trials[0].Metrics.Single().Value);
    }

    [TestMethod]
    public void An_unwritable_reports_folder_is_refused_before_anything_is_trained()
    {
        using var folder = new TempFolder();
        var blocker = folder.File("blocker", "a file, not a folder");
        var definition = ExperimentBuilder.Create("no-reports").ForTask("ranking").OnDataset("demo-shop").AddModel("most-popular").WithMetrics("ndcg@10").Build(Platform.Vocabulary);
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var trained = new OnTrialFinished(() => Assert.Fail("a model was trained"));
        var e = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() =>
            new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = Path.Combine(blocker, "reports"), Observer = trained }));
        StringAssert.Contains(e.Message, $"The reports folder {Path.Combine(blocker, "reports")} cannot be written");
        Assert.IsEmpty(store.ListRuns(), "no run was started");
    }

    private sealed class OnTrialFinished(Action action) : IRunObserver
    {
        public void Stage(string message) { }
        public void Progress(string step, double fraction) { }
        public void TrialFinished(TrialResult result) => action();
        public void Warning(string message) { }
    }
}
