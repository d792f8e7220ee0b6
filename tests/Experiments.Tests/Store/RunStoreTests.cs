using Experiments.Core;
using Experiments.Store;
using Microsoft.Data.Sqlite;

namespace Experiments.Tests.Store;

[TestClass]
public sealed class RunStoreTests
{
    private static RunStart Start(string experiment = "e") =>
        new(experiment, "about e", "{\"name\":\"e\"}", "abc123", "e.json", "demo-shop", 42, "deadbeef", "{}", "test machine");

    [TestMethod]
    public void Everything_recorded_reads_back()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "runs.db");
        long runId, trialId;
        using (var store = SqliteRunStore.Open(path))
        {
            runId = store.StartRun(Start());
            store.RecordDataset(runId, "fp", "generated", synthetic: true);
            store.RecordDataIssues(runId, [new DataIssueRecord("skipped: ragged row", 3, "r.csv", 7, "3 fields")]);
            trialId = store.StartTrial(runId, "knn", "item-knn", "stratified", new Dictionary<string, string> { ["neighbours"] = "50" });
            store.RecordMetrics(runId, trialId, [new MetricRecord("ndcg", 10, 0.25, 0.2, 0.3, 100, "stratified"), new MetricRecord("rmse", null, 0.9, null, null, 50, "stratified")]);
            store.FinishTrial(trialId, "finished", 1.5, 0.5, "protocol", null);
            store.RecordArtifact(runId, null, "report-markdown", "reports/run-1/report.md", "sha", 10);
            store.FinishRun(runId, RunStatus.Finished, null);
        }
        using (var store = SqliteRunStore.Open(path))
        {
            var details = store.GetRun(runId);
            Assert.AreEqual(RunStatus.Finished, details.Run.Status);
            Assert.AreEqual("e", details.Run.Experiment);
            Assert.AreEqual("fp", details.Run.DataFingerprint);
            Assert.IsTrue(details.Run.DatasetSynthetic);
            Assert.AreEqual("deadbeef", details.Run.GitCommit);
            Assert.AreEqual(42, details.Run.Seed);
            var trial = details.Trials.Single();
            Assert.AreEqual("50", trial.Parameters["neighbours"]);
            Assert.AreEqual(1.5, trial.FitSeconds);
            Assert.AreEqual(new MetricRecord("ndcg", 10, 0.25, 0.2, 0.3, 100, "stratified"), trial.Metrics[0]);
            Assert.IsNull(trial.Metrics[1].K);
            Assert.AreEqual(3, details.DataIssues.Single().Count);
            Assert.AreEqual("report-markdown", details.Artifacts.Single().Kind);
            Assert.AreEqual(1, store.ListRuns().Count);
            Assert.AreEqual(0, store.ListRuns(experiment: "other").Count);
        }
    }

    [TestMethod]
    public void Curves_and_the_data_profile_read_back_exactly()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var runId = store.StartRun(Start());
        var trialId = store.StartTrial(runId, "knn", "item-knn", "s", new Dictionary<string, string>());
        // Values that a decimal text form would round: 0.1 + 0.2, 1/3, a tiny and a huge number.
        var roc = new CurveRecord(trialId, "s", CurveKinds.Roc, "roc", [0, 0.1 + 0.2, 1], [1 / 3.0, 1e-300, 1.7976931348623157e308]);
        var importance = new CurveRecord(trialId, "s", CurveKinds.FeatureImportance, "feature-importance", [1, 2], [0.02, -0.001], [0.004, 0.0005], ["price", "brand | \"x\""]);
        var encoder = new CurveRecord(null, "s", CurveKinds.Training, "encoder e: training loss", [1, 2], [2.5, 1.25]);
        store.RecordCurves(runId, [roc, importance, encoder]);
        store.RecordProfile(runId, [new ProfileRecord(null, "users", 300), new ProfileRecord("s", "test users", 120), new ProfileRecord(null, "sparsity", 1 - 1 / 7.0)]);
        var details = store.GetRun(runId);
        Assert.HasCount(3, details.Curves);
        void Same(CurveRecord expected, CurveRecord actual)
        {
            Assert.AreEqual((expected.TrialId, expected.Split, expected.Kind, expected.Name), (actual.TrialId, actual.Split, actual.Kind, actual.Name));
            CollectionAssert.AreEqual(expected.X.ToList(), actual.X.ToList());
            CollectionAssert.AreEqual(expected.Y.ToList(), actual.Y.ToList());
            CollectionAssert.AreEqual(expected.Z?.ToList(), actual.Z?.ToList());
            CollectionAssert.AreEqual(expected.Labels?.ToList(), actual.Labels?.ToList());
        }
        Same(roc, details.Curves[0]);
        Same(importance, details.Curves[1]);
        Same(encoder, details.Curves[2]);
        CollectionAssert.AreEqual(new[] { new ProfileRecord(null, "users", 300), new ProfileRecord("s", "test users", 120), new ProfileRecord(null, "sparsity", 1 - 1 / 7.0) }, details.Profile.ToList());
        Assert.ThrowsExactly<ArgumentException>(() => store.RecordCurves(runId, [new CurveRecord(null, "s", CurveKinds.Roc, "roc", [0, 1], [0])]));
    }

    [TestMethod]
    public void Store_uses_WAL_and_the_latest_schema()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "runs.db");
        SqliteRunStore.Open(path).Dispose();
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.AreEqual("wal", command.ExecuteScalar());
        command.CommandText = "PRAGMA user_version";
        Assert.AreEqual(7L, command.ExecuteScalar()); // 5: sweeps, 6: curves and data profiles, 7: regression checks
    }

    [TestMethod]
    public void A_store_from_a_newer_program_is_refused_clearly()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "runs.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            command.ExecuteNonQuery();
        }
        var e = Assert.ThrowsExactly<ExperimentsException>(() => SqliteRunStore.Open(path));
        StringAssert.Contains(e.Message, "schema version 99, newer than this program knows");
    }

    [TestMethod]
    public void A_run_whose_process_is_gone_is_marked_killed_and_keeps_its_trials()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "runs.db");
        using var store = SqliteRunStore.Open(path);
        var runId = store.StartRun(Start());
        var trialId = store.StartTrial(runId, "pop", "most-popular", "s", new Dictionary<string, string>());
        store.RecordMetrics(runId, trialId, [new MetricRecord("ndcg", 10, 0.1, null, null, 5, "s")]);
        store.FinishTrial(trialId, "finished", 0.1, 0.1, null, null);
        var unfinished = store.StartTrial(runId, "knn", "item-knn", "s", new Dictionary<string, string>());
        Assert.IsEmpty(store.MarkAbandonedRuns(), "this process is alive: its run is not abandoned");
        // Pretend the run belonged to a process that has exited.
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE runs SET pid = 999999999";
            command.ExecuteNonQuery();
        }
        CollectionAssert.AreEqual(new[] { runId }, store.MarkAbandonedRuns().ToArray());
        var details = store.GetRun(runId);
        Assert.AreEqual(RunStatus.Killed, details.Run.Status);
        StringAssert.Contains(details.Run.Error!, "ended without finishing this run");
        Assert.AreEqual("finished", details.Trials[0].Status);
        Assert.AreEqual(0.1, details.Trials[0].Metrics.Single().Value);
        Assert.AreEqual("killed", details.Trials.Single(t => t.Id == unfinished).Status);
    }

    [TestMethod]
    public void A_read_only_store_is_read_without_changes_and_refused_for_recording()
    {
        using var folder = new TempFolder();
        var archive = Directory.CreateDirectory(Path.Combine(folder.Path, "archive")).FullName;
        var path = Path.Combine(archive, "runs.db");
        long finished, abandoned;
        using (var store = SqliteRunStore.Open(path))
        {
            finished = store.StartRun(Start());
            store.FinishRun(finished, RunStatus.Finished, null);
            abandoned = store.StartRun(Start());
        }
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"UPDATE runs SET pid = 999999999 WHERE id = {abandoned}";
            command.ExecuteNonQuery();
        }
        using (Experiments.Tests.Cli.ReadOnly.Make(archive, path))
        {
            using (var store = SqliteRunStore.OpenExisting(path))
            {
                Assert.IsTrue(store.IsReadOnly);
                Assert.HasCount(2, store.ListRuns());
                Assert.AreEqual(RunStatus.Finished, store.GetRun(finished).Run.Status);
                Assert.IsEmpty(store.MarkAbandonedRuns(), "a read-only store is not changed");
                Assert.AreEqual(RunStatus.Running, store.GetRun(abandoned).Run.Status);
                StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => store.StartRun(Start())).Message, "open read-only");
            }
            var e = Assert.ThrowsExactly<ExperimentsException>(() => SqliteRunStore.Open(path));
            StringAssert.Contains(e.Message, $"The run store {path} cannot be written");
        }
        using (var store = SqliteRunStore.OpenExisting(path))
        {
            Assert.IsFalse(store.IsReadOnly, "writable again");
            CollectionAssert.AreEqual(new[] { abandoned }, store.MarkAbandonedRuns().ToArray());
        }
    }

    [TestMethod]
    public void Unknown_run_id_is_a_clear_error()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => store.GetRun(7)).Message, "There is no run 7");
    }
}
