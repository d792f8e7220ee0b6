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
    [DataRow(TestStores.Sqlite)]
    [DataRow(TestStores.Postgres)]
    public void Everything_recorded_reads_back(string kind)
    {
        using var folder = new TempFolder();
        var path = TestStores.New(kind, folder);
        long runId, trialId;
        using (var store = RunStores.Open(path))
        {
            runId = store.StartRun(Start());
            store.RecordDataset(runId, "fp", "generated", synthetic: true);
            store.RecordDataIssues(runId, [new DataIssueRecord("skipped: ragged row", 3, "r.csv", 7, "3 fields")]);
            trialId = store.StartTrial(runId, "knn", "item-knn", "stratified", new Dictionary<string, string> { ["neighbours"] = "50" });
            store.RecordMetrics(runId, trialId, [new MetricRecord("ndcg", 10, 0.25, 0.2, 0.3, 100, "stratified"), new MetricRecord("rmse", null, 0.9, null, null, 50, "stratified")]);
            store.FinishTrial(trialId, "finished", 1.5, 0.5, "protocol", null);
            store.RecordArtifact(runId, null, "report-markdown", "reports/run-1/report.md", "sha", 10);
            // Written again (a report rewritten; a cluster run's reports, where it was submitted): one row per file, the last.
            store.RecordArtifact(runId, null, "report-markdown", "reports/run-1/report.md", "sha2", 11);
            store.RecordArtifact(runId, trialId, "model", "models/knn.zip", "m1", 5);
            store.RecordArtifact(runId, trialId, "model", "models/knn.zip", "m2", 6);
            store.RecordUserValues(trialId, new UserValuesRecord(["u1", "u2"], new Dictionary<string, double[]> { ["ndcg@10"] = [0.5, 1e-300] }));
            store.RecordComparisons(runId, [new ComparisonRecord("stratified", "ndcg@10", "pop", "knn", 0.125, -0.25, 0.5, 0.03, 2, "permutation", 0.06, 999, true)]);
            store.FinishRun(runId, RunStatus.Finished, null);
        }
        using (var store = RunStores.OpenExisting(path))
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
            Assert.AreEqual(("sha2", 11L), details.Artifacts.Where(a => a.Kind == "report-markdown").Select(a => (a.Sha256, a.Bytes!.Value)).Single());
            Assert.AreEqual(("m2", 6L), details.Artifacts.Where(a => a.Kind == "model").Select(a => (a.Sha256, a.Bytes!.Value)).Single());
            Assert.AreEqual(1, store.ListRuns().Count);
            Assert.AreEqual(0, store.ListRuns(experiment: "other").Count);
            Assert.AreEqual(1, store.ListRuns(experiment: "e").Count);
            var values = store.GetUserValues(trialId)!;
            CollectionAssert.AreEqual(new[] { "u1", "u2" }, values.Users.ToArray());
            CollectionAssert.AreEqual(new[] { 0.5, 1e-300 }, values.Values["ndcg@10"]);
            Assert.AreEqual(new ComparisonRecord("stratified", "ndcg@10", "pop", "knn", 0.125, -0.25, 0.5, 0.03, 2, "permutation", 0.06, 999, true), details.Comparisons.Single());
            Assert.AreEqual(16, details.Run.Uid!.Length, "a 16-hex-digit uid (64 random bits: no collision in any real store) names the report folder");
            StringAssert.Matches(details.Run.Uid, new System.Text.RegularExpressions.Regex("^[0-9a-f]{16}$"));
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
        Assert.AreEqual(9L, command.ExecuteScalar()); // 5: sweeps, 6: curves and data profiles, 7: regression checks, 8: trial facts, 9: sweeps' trial budgets
    }

    [TestMethod]
    public void PostgreSQL_gets_the_same_tables_and_columns_as_SQLite()
    {
        using var folder = new TempFolder();
        var sqlite = TestStores.New(TestStores.Sqlite, folder);
        var postgres = TestStores.New(TestStores.Postgres, folder);
        int version;
        using (var a = RunStores.Open(sqlite)) version = a.SchemaVersion;
        using (var b = RunStores.Open(postgres)) Assert.AreEqual(version, b.SchemaVersion, "every migration, on both");
        // Each database's own catalogue, read directly.
        var sqliteColumns = new SortedSet<string>();
        using (var connection = new SqliteConnection($"Data Source={sqlite};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'";
            using var reader = command.ExecuteReader();
            while (reader.Read()) sqliteColumns.Add(reader.GetString(0));
        }
        var postgresColumns = new SortedSet<string>();
        var schema = postgres[(postgres.IndexOf("search_path=", StringComparison.Ordinal) + "search_path=".Length)..];
        using (var connection = new Npgsql.NpgsqlConnection(PostgresConnection.Parse(SharedPostgres.Require().Uri).ConnectionString))
        {
            connection.Open();
            using var command = new Npgsql.NpgsqlCommand("SELECT table_name || '.' || column_name, data_type FROM information_schema.columns WHERE table_schema = @s AND table_name <> 'schema_version'", connection);
            command.Parameters.AddWithValue("s", schema);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                postgresColumns.Add(reader.GetString(0));
                // SQLite's integers are 64-bit and its reals doubles: nothing narrower on PostgreSQL.
                Assert.IsFalse(reader.GetString(1) is "integer" or "real" or "smallint", $"{reader.GetString(0)} is {reader.GetString(1)}");
            }
        }
        Assert.IsGreaterThan(60, sqliteColumns.Count);
        CollectionAssert.AreEqual(sqliteColumns.ToList(), postgresColumns.ToList());
    }

    [TestMethod]
    public void Connection_strings_are_read_as_libpq_writes_them_and_passwords_never_shown()
    {
        var target = PostgresConnection.Parse("postgresql://ana:s%3Acret@db.example:6543/runs?search_path=team_a&sslmode=disable");
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(target.ConnectionString);
        Assert.AreEqual(("db.example", 6543, "ana", "s:cret", "runs", "team_a", Npgsql.SslMode.Disable),
            (builder.Host, builder.Port, builder.Username, builder.Password, builder.Database, builder.SearchPath, builder.SslMode));
        Assert.AreEqual("postgresql://ana:***@db.example:6543/runs?search_path=team_a&sslmode=disable", target.Location);
        Assert.AreEqual(5432, new Npgsql.NpgsqlConnectionStringBuilder(PostgresConnection.Parse("postgres://localhost/x").ConnectionString).Port);
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => PostgresConnection.Parse("postgres://a:pw@h/d?colour=blue")).Message, "parameter 'colour'");
        Assert.IsFalse(Assert.ThrowsExactly<ExperimentsException>(() => PostgresConnection.Parse("postgres://a:pw@h/d?colour=blue")).Message.Contains("pw"));
        Assert.IsFalse(PostgresConnection.IsConnectionString("runs/postgres.db"));
    }

    [TestMethod]
    public void An_unreachable_server_is_a_clear_error()
    {
        using var folder = new TempFolder();
        // A port that was just free: nobody listens there.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var free = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var e = Assert.ThrowsExactly<ExperimentsException>(() => RunStores.Open($"postgres://experiments:secret@127.0.0.1:{free}/postgres"));
        StringAssert.Contains(e.Message, $"Cannot open the run store postgres://experiments:***@127.0.0.1:{free}/postgres");
        var empty = TestStores.New(TestStores.Postgres, folder);
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => RunStores.OpenExisting(empty)).Message, "No run store in");
    }

    [TestMethod]
    [DataRow(TestStores.Sqlite)]
    [DataRow(TestStores.Postgres)]
    public void A_store_from_a_newer_program_is_refused_clearly(string kind)
    {
        using var folder = new TempFolder();
        var path = TestStores.New(kind, folder);
        TestStores.Execute(path, kind == TestStores.Sqlite ? "PRAGMA user_version = 99" : "CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (99)");
        var e = Assert.ThrowsExactly<ExperimentsException>(() => RunStores.Open(path));
        StringAssert.Contains(e.Message, "schema version 99, newer than this program knows");
    }

    [TestMethod]
    [DataRow(TestStores.Sqlite)]
    [DataRow(TestStores.Postgres)]
    public void A_run_whose_process_is_gone_is_marked_killed_and_keeps_its_trials(string kind)
    {
        using var folder = new TempFolder();
        var path = TestStores.New(kind, folder);
        using var store = RunStores.Open(path);
        var runId = store.StartRun(Start());
        var trialId = store.StartTrial(runId, "pop", "most-popular", "s", new Dictionary<string, string>());
        store.RecordMetrics(runId, trialId, [new MetricRecord("ndcg", 10, 0.1, null, null, 5, "s")]);
        store.FinishTrial(trialId, "finished", 0.1, 0.1, null, null);
        var unfinished = store.StartTrial(runId, "knn", "item-knn", "s", new Dictionary<string, string>());
        Assert.IsEmpty(store.MarkAbandonedRuns(), "this process is alive: its run is not abandoned");
        // Pretend the run belonged to a process that has exited.
        TestStores.Execute(path, "UPDATE runs SET pid = 999999999");
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
    [DataRow(TestStores.Sqlite)]
    [DataRow(TestStores.Postgres)]
    public void Unknown_run_id_is_a_clear_error(string kind)
    {
        using var folder = new TempFolder();
        using var store = RunStores.Open(TestStores.New(kind, folder));
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => store.GetRun(7)).Message, "There is no run 7");
    }
}
