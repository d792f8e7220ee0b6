using Experiments.Core.Definitions;
using Experiments.Runs;
using Experiments.Store;

namespace Experiments.Tests.Runs;

[TestClass]
public sealed class ExperimentRunnerTests
{
    private static ExperimentBuilder Small(string name = "small") => ExperimentBuilder.Create(name)
        .ForTask("ranking")
        .OnDataset("demo-shop", d => d with { Options = new Dictionary<string, double> { ["users"] = 300, ["items"] = 200, ["seed"] = 3 } })
        .Split("stratified", 0.2)
        .AddModel("most-popular")
        .AddModel("item-knn", p => p["neighbours"] = 30)
        .WithMetrics("ndcg@10", "recall@5")
        .WithEvaluation(e => e with { BootstrapSamples = 50 });

    [TestMethod]
    public void A_run_records_every_trial_metric_and_report()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Small().Build(Platform.Vocabulary);
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = Path.Combine(folder.Path, "reports") });
        Assert.AreEqual(RunStatus.Finished, outcome.Status);
        var details = store.GetRun(outcome.RunId);
        Assert.AreEqual(DefinitionWriter.Hash(definition), details.Run.DefinitionHash);
        Assert.IsTrue(details.Run.DatasetSynthetic);
        Assert.AreEqual(64, details.Run.DataFingerprint!.Length);
        Assert.HasCount(2, details.Trials);
        foreach (var trial in details.Trials)
        {
            Assert.AreEqual("finished", trial.Status);
            Assert.HasCount(2, trial.Metrics);
            Assert.IsTrue(trial.Metrics.All(m => m.Lower <= m.Value && m.Value <= m.Upper));
        }
        Assert.AreEqual("30", details.Trials[1].Parameters["neighbours"]);
        // By default a run writes its report as HTML, Markdown and JSON, each recorded as an artifact.
        CollectionAssert.AreEqual(new[] { "report.html", "report.md", "report.json" }, outcome.Reports.Select(Path.GetFileName).ToArray());
        var markdown = outcome.Reports.Single(p => p.EndsWith(".md", StringComparison.Ordinal));
        var report = File.ReadAllText(markdown);
        StringAssert.Contains(report, "**Synthetic data.**");
        StringAssert.Contains(report, "| item-knn | item-knn | stratified |");
        CollectionAssert.AreEqual(outcome.Reports.ToArray(), details.Artifacts.Select(a => a.Path).ToArray());
    }

    [TestMethod]
    public void Same_seed_same_numbers()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var runner = new ExperimentRunner(store);
        var options = new RunOptions { ReportDirectory = folder.Path };
        var a = runner.Run(Small().Build(Platform.Vocabulary), options);
        var b = runner.Run(Small().Build(Platform.Vocabulary), options);
        var c = runner.Run(Small().WithSeed(9).Build(Platform.Vocabulary), options);
        var values = (RunOutcome o) => o.Trials.SelectMany(t => t.Metrics).Select(m => (m.Value, m.Lower, m.Upper)).ToList();
        CollectionAssert.AreEqual(values(a), values(b));
        CollectionAssert.AreNotEqual(values(a), values(c));
    }

    [TestMethod]
    public void K_fold_fits_every_model_on_every_fold()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var outcome = new ExperimentRunner(store).Run(Small().Split("k-fold", folds: 3).Build(Platform.Vocabulary), new RunOptions { ReportDirectory = folder.Path });
        Assert.HasCount(6, outcome.Trials);
        var table = Experiments.Reports.ResultTable.From(store.GetRun(outcome.RunId));
        Assert.HasCount(2, table.Rows);
        Assert.AreEqual("mean of 3 splits", table.Rows[0].Split);
        var folds = outcome.Trials.Where(t => t.Model == "item-knn").Select(t => t.Metrics[0].Value).ToList();
        Assert.AreEqual(folds.Average(), table.Rows[1].Cells["ndcg@10"].Value, 1e-12);
    }

    [TestMethod]
    public void A_failing_model_is_recorded_and_the_others_still_run()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        // 'bias' can rank, but the events table has no ratings to learn from: it fails at fit time.
        var outcome = new ExperimentRunner(store).Run(Small().AddModel("bias").Build(Platform.Vocabulary), new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Failed, outcome.Status);
        var details = store.GetRun(outcome.RunId);
        Assert.AreEqual("finished", details.Trials[0].Status);
        Assert.AreEqual("finished", details.Trials[1].Status);
        Assert.AreEqual("failed", details.Trials[2].Status);
        StringAssert.Contains(details.Trials[2].Error!, "learns from ratings");
        StringAssert.Contains(details.Run.Error!, "bias:");
    }

    [TestMethod]
    public void Cancelling_keeps_what_finished()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        using var cancel = new CancellationTokenSource();
        var observer = new CancelAfterFirstTrial(cancel);
        var outcome = new ExperimentRunner(store).Run(Small().Build(Platform.Vocabulary), new RunOptions { ReportDirectory = folder.Path, Observer = observer }, cancel.Token);
        Assert.AreEqual(RunStatus.Cancelled, outcome.Status);
        var details = store.GetRun(outcome.RunId);
        Assert.AreEqual(RunStatus.Cancelled, details.Run.Status);
        Assert.HasCount(1, details.Trials);
        Assert.AreEqual("finished", details.Trials[0].Status);
        Assert.HasCount(2, details.Trials[0].Metrics);
    }

    private sealed class CancelAfterFirstTrial(CancellationTokenSource cancel) : IRunObserver
    {
        public void Stage(string message) { }
        public void Progress(string step, double fraction) { }
        public void TrialFinished(TrialResult result) => cancel.Cancel();
        public void Warning(string message) { }
    }

    [TestMethod]
    public void Rating_task_on_the_demo_ratings()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = ExperimentBuilder.Create("ratings").ForTask("rating")
            .OnDataset("demo-shop", d => d with { Table = "ratings", Options = new Dictionary<string, double> { ["users"] = 500, ["items"] = 200 } })
            .Split("random", 0.2).AddModel("global-mean").AddModel("bias").WithMetrics("rmse", "mae").Build(Platform.Vocabulary);
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = folder.Path });
        var rmse = outcome.Trials.Select(t => t.Metrics.Single(m => m.Metric == "rmse").Value).ToList();
        Assert.IsLessThan(rmse[0], rmse[1], "biases beat the global mean");
    }

    [TestMethod]
    public void Matrix_factorisation_with_early_stopping_on_the_validation_rows()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = ExperimentBuilder.Create("mf").ForTask("rating")
            .OnDataset("demo-shop", d => d with { Table = "ratings", Options = new Dictionary<string, double> { ["users"] = 500, ["items"] = 200 } })
            .Split("random", 0.2, validationFraction: 0.2)
            .AddModel("matrix-factorization", p => { p["rank"] = 8L; p["iterations"] = 30L; p["earlyStoppingRounds"] = 2L; })
            .WithMetrics("rmse").Build(Platform.Vocabulary);
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Finished, outcome.Status);
        Assert.IsLessThan(1.5, outcome.Trials[0].Metrics[0].Value);
    }

    [TestMethod]
    public void Bad_rows_skipped_are_recorded_with_the_run()
    {
        using var folder = new TempFolder();
        var data = Path.Combine(folder.Path, "data");
        var copy = Path.Combine(data, "movielens-latest-small");
        Directory.CreateDirectory(copy);
        var source = RealData.Folder("movielens-latest-small");
        var lines = File.ReadAllLines(Path.Combine(source, "ratings.csv")).ToList();
        lines[5] = "1,50,nine,964982931";
        lines[9] = "1,70";
        File.WriteAllLines(Path.Combine(copy, "ratings.csv"), lines);
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = ExperimentBuilder.Create("ml").ForTask("rating")
            .OnDataset("movielens-latest-small", d => d with { BadRows = BadRowPolicy.Skip, DataDirectory = data })
            .Split("random", 0.2).AddModel("global-mean").WithMetrics("rmse").Build(Platform.Vocabulary);
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = folder.Path });
        var issues = store.GetRun(outcome.RunId).DataIssues;
        Assert.AreEqual(1, issues.Single(i => i.Kind == "skipped: not a number").Count);
        Assert.AreEqual(6, issues.Single(i => i.Kind == "skipped: not a number").ExampleLine);
        Assert.AreEqual(1, issues.Single(i => i.Kind == "skipped: ragged row").Count);
        Assert.AreEqual(1, issues.Single(i => i.Kind == "warning").Count, "the edited file no longer matches the official checksum");
    }
}
