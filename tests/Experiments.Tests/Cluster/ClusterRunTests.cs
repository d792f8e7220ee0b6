using Experiments.Core;
using Experiments.Runs;
using Experiments.Store;
using Experiments.Sweeps;

namespace Experiments.Tests.Cluster;

/// <summary>`experiments sweep FILE --cluster` and `experiments run FILE --cluster`: a definition's work on real worker processes, compared with the same work on one machine.</summary>
[TestClass]
public sealed class ClusterRunTests
{
    private const string Definition = """
        {
          "name": "cluster-sweep",
          "task": "rating",
          "dataset": { "name": "demo-shop", "table": "ratings", "options": { "users": 200, "items": 120, "seed": 3 } },
          "split": { "method": "random", "testFraction": 0.2, "validationFraction": 0.2 },
          "models": [ { "type": "bias" } ],
          "metrics": ["rmse", "mae"],
          "evaluation": { "bootstrapSamples": 20 },
          "sweep": { "tuner": "tpe", "trials": 8 },
          "seed": 5
        }
        """;

    private static string Describe(ClusterWorker[] workers, (int ExitCode, string Output, string Error) cli) =>
        $"exit {cli.ExitCode}: {cli.Output} {cli.Error} | workers: {string.Join(" | ", workers.SelectMany(w => w.Log))}";

    // One cluster of two workers for the class's tests (starting workers is what takes time).
    private static string _cluster = null!;
    private static TempFolder _home = null!;
    private static ClusterWorker[] _workers = [];

    private static string EmptyData => Path.Combine(_home.Path, "empty-data");

    [ClassInitialize]
    public static void StartWorkers(TestContext _)
    {
        _cluster = SharedPostgres.Require().NewSchema();
        _home = new TempFolder();
        // The first worker offers one GPU (told, as none is here), the second none; the second reads an empty data directory.
        Directory.CreateDirectory(EmptyData);
        _workers = [new ClusterWorker(_home.Path, _cluster, "--gpus", "1"), new ClusterWorker(_home.Path, _cluster, "--data-dir", EmptyData)];
        using var client = Experiments.Cluster.Cluster.ConnectAsync(_cluster).GetAwaiter().GetResult();
        Experiments.Cluster.ClusterSweeps.WaitForWorkersAsync(client, 2, TimeSpan.FromSeconds(90)).GetAwaiter().GetResult();
    }

    [ClassCleanup]
    public static void StopWorkers()
    {
        foreach (var w in _workers) w.Dispose();
        _home?.Dispose();
    }

    [TestMethod]
    public void A_definitions_sweep_on_two_workers_equals_the_same_sweep_on_one_machine_and_its_refit_is_stored()
    {
        var cluster = _cluster;
        var workers = _workers;
        using var folder = new TempFolder();
        var file = folder.File("sweep.json", Definition);
        var cli = CliProcess.Run(folder.Path, "sweep", file, "--cluster", cluster, "--reports", Path.Combine(folder.Path, "reports"), "--quiet");
        Assert.AreEqual(0, cli.ExitCode, Describe(workers, cli));

        using var store = RunStores.Open(cluster);
        var sweep = store.ListSweeps().Single(s => s.Name == "cluster-sweep");
        Assert.AreEqual((4, "finished"), (sweep.Parallelism, sweep.Status), "parallelism defaults to the cluster's slots (2 workers × 2)");
        var remote = store.GetTrials(sweep.Id);
        CollectionAssert.AreEqual(Enumerable.Range(0, 8).ToList(), remote.Select(t => t.Number).ToList(), "every trial once");
        Assert.IsTrue(workers.All(w => w.Log.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, "#[1-7] completed"))), "both workers ran trials");

        // The reference: the same definition swept on this machine with the same seed and parallelism.
        using var local = SqliteRunStore.Open(Path.Combine(folder.Path, "local.db"));
        var definition = Platform.Reader.ReadFile(file);
        var reference = new ExperimentRunner(local).Sweep(definition, new RunOptions { ReportDirectory = Path.Combine(folder.Path, "local-reports") }, new SweepRunOptions { Parallelism = 4 });
        for (var n = 0; n < 8; n++)
        {
            Assert.AreEqual(TrialStatus.Completed, remote[n].Status, $"trial {n}: {remote[n].Error}");
            Assert.AreEqual(reference.Sweep.Trials[n].Parameters, remote[n].Parameters, $"trial {n}'s proposal");
            Assert.AreEqual(reference.Sweep.Trials[n].Value!.Value, remote[n].Value!.Value, 1e-12, $"trial {n}'s validation RMSE");
        }

        // The refit of the best, in the cluster's store as the sweep's run, tested once like the local one.
        var run = store.GetRun(sweep.RunId!.Value);
        Assert.AreEqual(RunStatus.Finished, run.Run.Status);
        var refit = run.Trials.Single().Metrics.Single(m => m.Name == "rmse").Value;
        Assert.AreEqual(local.GetRun(reference.RunId).Trials.Single().Metrics.Single(m => m.Name == "rmse").Value, refit, 1e-12);
    }

    [TestMethod]
    public void A_definitions_pruner_stops_trials_on_the_workers_from_the_values_they_report()
    {
        // PruningSweepTests' sweep: ALS at rank 4 for 8 iterations, λ 40 worse than λ 0.05 at every iteration, so the
        // median rule, with the first trial complete, prunes the second at its first report.
        var pruned = Experiments.Tests.Sweeps.PruningSweepTests.Definition().Replace("pruned-sweep", "cluster-pruned");
        using var folder = new TempFolder();
        var file = folder.File("pruned.json", pruned);
        var cli = CliProcess.Run(folder.Path, "sweep", file, "--cluster", _cluster, "--reports", Path.Combine(folder.Path, "reports"), "--quiet");
        Assert.AreEqual(0, cli.ExitCode, Describe(_workers, cli));
        using var store = RunStores.Open(_cluster);
        var remote = store.GetTrials(store.ListSweeps().Single(s => s.Name == "cluster-pruned").Id).OrderBy(t => t.Number).ToList();

        // The same sweep on this machine: the values the workers reported are the trainer's own, step by step.
        using var local = SqliteRunStore.Open(Path.Combine(folder.Path, "local.db"));
        var reference = new ExperimentRunner(local).Sweep(Platform.Reader.ReadFile(file), new RunOptions { ReportDirectory = Path.Combine(folder.Path, "local-reports") });
        var expected = local.GetTrials(reference.Sweep.SweepId).OrderBy(t => t.Number).ToList();
        Assert.AreEqual((TrialStatus.Completed, TrialStatus.Pruned), (expected[0].Status, expected[1].Status), "the local reference prunes the second trial");
        Assert.AreEqual(TrialStatus.Completed, remote[0].Status, remote[0].Error);
        CollectionAssert.AreEqual(expected[0].Intermediate.Select(v => v.Step).ToList(), remote[0].Intermediate.Select(v => v.Step).ToList(), "the first trial's eight iterations");
        for (var i = 0; i < expected[0].Intermediate.Count; i++) Assert.AreEqual(expected[0].Intermediate[i].Value, remote[0].Intermediate[i].Value, 1e-12, $"iteration {i + 1}");
        Assert.AreEqual(TrialStatus.Pruned, remote[1].Status, "the submitter's pruner stopped the worker's trial");
        Assert.HasCount(1, remote[1].Intermediate, "values after the pruning step are not passed on");
        Assert.AreEqual((expected[1].Intermediate[0].Step, expected[1].Intermediate[0].Value), (remote[1].Intermediate[0].Step, remote[1].Intermediate[0].Value));
    }

    [TestMethod]
    public void A_run_on_the_cluster_is_recorded_by_a_worker_like_a_run_on_this_machine()
    {
        var cluster = _cluster;
        var workers = _workers;
        using var folder = new TempFolder();
        var file = folder.File("run.json", Definition.Replace("cluster-sweep", "cluster-run").Replace("""  "sweep": { "tuner": "tpe", "trials": 8 },""", "").Replace("""[ { "type": "bias" } ]""", """[ { "type": "bias" }, { "name": "global", "type": "global-mean" } ]"""));
        var reports = Path.Combine(folder.Path, "reports");
        var cli = CliProcess.Run(folder.Path, "run", file, "--cluster", cluster, "--reports", reports);
        Assert.AreEqual(0, cli.ExitCode, Describe(workers, cli));

        using var store = RunStores.Open(cluster);
        var run = store.ListRuns(experiment: "cluster-run").Single();
        var details = store.GetRun(run.Id);
        Assert.AreEqual(RunStatus.Finished, run.Status);
        Assert.IsTrue(workers.Any(w => w.Log.Any(l => l.Contains("#0 completed", StringComparison.Ordinal))), "a worker ran it");
        StringAssert.Contains(cli.Output, $"Run {run.Id} ", "the submitter reports the run as an ordinary run");
        Assert.IsTrue(File.Exists(Path.Combine(CliProcess.ReportFolder(reports, run.Id), "report.md")), "the report is written");

        using var local = SqliteRunStore.Open(Path.Combine(folder.Path, "local.db"));
        var reference = new ExperimentRunner(local).Run(Platform.Reader.ReadFile(file), new RunOptions { ReportDirectory = Path.Combine(folder.Path, "local-reports") });
        var expected = local.GetRun(reference.RunId).Trials;
        Assert.AreEqual(expected.Count, details.Trials.Count);
        foreach (var (mine, theirs) in details.Trials.Zip(expected))
            foreach (var metric in theirs.Metrics)
                Assert.AreEqual(metric.Value, mine.Metrics.Single(m => m.Label == metric.Label && m.Split == metric.Split).Value, 1e-12, $"{mine.ModelName} {metric.Label}");
    }

    [TestMethod]
    public void Trials_that_need_a_GPU_go_only_to_the_worker_that_has_one_and_status_shows_the_GPUs()
    {
        var status = CliProcess.Run(_home.Path, "cluster", "status", "--cluster", _cluster, "--json");
        Assert.AreEqual(0, status.ExitCode, status.Error);
        using (var json = System.Text.Json.JsonDocument.Parse(status.Output))
        {
            var gpus = json.RootElement.GetProperty("workers").EnumerateArray().ToDictionary(w => w.GetProperty("report").GetProperty("pid").GetInt32(), w => w.GetProperty("report").GetProperty("gpus").GetInt32());
            Assert.AreEqual(1, gpus[_workers[0].Process.Id]);
            Assert.AreEqual(0, gpus[_workers[1].Process.Id]);
        }

        var function = Experiments.Sweeps.Benchmarks.TestFunctions.Branin();
        using var client = Experiments.Cluster.Cluster.ConnectAsync(_cluster).GetAwaiter().GetResult();
        using var store = RunStores.Open(_cluster);
        var settings = new SweepSettings { Name = "gpu", Space = function.Space, Objective = new SweepObjective("loss"), Seed = 2, MaxTrials = 6, Parallelism = 3 };
        var result = Experiments.Cluster.ClusterSweeps.RunAsync(client, store, settings, new Experiments.Sweeps.Tuners.RandomTuner(function.Space, 2), "test-function",
            """{"function": "branin", "sleepMs": 100}""", Experiments.Core.GpuUse.Required).GetAwaiter().GetResult();
        Assert.AreEqual(6, result.Trials.Count(t => t.Status == TrialStatus.Completed));
        // All on the worker that has the GPU, although the other one had free slots.
        Assert.IsTrue(result.Trials.All(t => t.Metrics["worker"].Value == _workers[0].Process.Id), string.Join(", ", result.Trials.Select(t => t.Metrics["worker"].Value)));
    }

    [TestMethod]
    public void A_worker_without_the_data_set_that_cannot_fetch_it_fails_the_run_naming_the_data_set_and_the_directory()
    {
        using var folder = new TempFolder();
        // A registered data set with no download address (it is derived by hand), absent from the data directory the
        // workers read: the submitter's --data-dir for the first worker, the second's own.
        var file = folder.File("missing.json", Definition.Replace("cluster-sweep", "cluster-missing").Replace("""  "sweep": { "tuner": "tpe", "trials": 8 },""", "")
            .Replace("""{ "name": "demo-shop", "table": "ratings", "options": { "users": 200, "items": 120, "seed": 3 } }""", """{ "name": "movielens-latest-small-80-20" }"""));
        var cli = CliProcess.Run(folder.Path, "run", file, "--cluster", _cluster, "--data-dir", EmptyData, "--reports", Path.Combine(folder.Path, "reports"));
        Assert.AreEqual(2, cli.ExitCode, Describe(_workers, cli));
        StringAssert.Contains(cli.Error, "no data set 'movielens-latest-small-80-20' in " + EmptyData);
        StringAssert.Contains(cli.Error, "cannot be downloaded automatically");
        using var store = RunStores.Open(_cluster);
        Assert.AreEqual(RunStatus.Failed, store.ListRuns(experiment: "cluster-missing").Single().Status, "the run is recorded as failed");
    }

    /// <summary>A click-through definition whose text encoder has <paramref name="encoderParameters"/>, or a search definition whose intent encoder has <paramref name="modelParameters"/>.</summary>
    private static Experiments.Core.Definitions.ExperimentDefinition Encoding(string? encoderParameters = null, string? modelParameters = null) => Platform.Reader.Read(modelParameters is null
        ? $$"""
          { "name": "gpu-ctr", "task": "classification", "dataset": { "name": "demo-shop", "table": "clicks" },
            "encoders": [ { "name": "q", "objective": "contrastive", "columns": ["query", "title"], "parameters": {{encoderParameters}} } ],
            "models": [ { "type": "logistic-regression", "parameters": { "textEncoder": "q" } } ], "metrics": ["auc"] }
          """
        : $$"""
          { "name": "gpu-search", "task": "search", "dataset": { "name": "demo-shop" },
            "models": [ { "type": "bm25" }, { "type": "intent-encoder", "parameters": {{modelParameters}} } ], "metrics": ["accuracy"] }
          """, "gpu.json");

    [TestMethod]
    public void Work_needs_a_GPU_for_a_cuda_encoder_and_uses_one_when_present_for_an_auto_encoder()
    {
        Assert.AreEqual(Experiments.Core.GpuUse.Required, RemoteWork.GpuUseOf(Encoding(modelParameters: """{ "device": "cuda:1" }""")));
        Assert.AreEqual(Experiments.Core.GpuUse.Required, RemoteWork.GpuUseOf(Encoding("""{ "device": "CUDA" }""")));
        Assert.AreEqual(Experiments.Core.GpuUse.WhenPresent, RemoteWork.GpuUseOf(Encoding(modelParameters: """{ "device": "auto" }""")));
        // Not set: the encoders' default device, auto.
        Assert.AreEqual(Experiments.Core.GpuUse.WhenPresent, RemoteWork.GpuUseOf(Encoding("""{ "epochs": 1 }""")));
        Assert.AreEqual(Experiments.Core.GpuUse.WhenPresent, RemoteWork.GpuUseOf(Encoding(modelParameters: "{}")));
        Assert.AreEqual(Experiments.Core.GpuUse.None, RemoteWork.GpuUseOf(Encoding("""{ "device": "cpu" }""")));
        Assert.AreEqual(Experiments.Core.GpuUse.None, RemoteWork.GpuUseOf(Platform.Reader.Read("""
            { "name": "no-gpu", "task": "rating", "dataset": { "name": "demo-shop", "table": "ratings" }, "models": [ { "type": "bias" } ], "metrics": ["rmse"] }
            """, "bias.json")));
        // What a worker is sent says it, read back from the payload.
        var work = RemoteWork.FromJson(RemoteWork.Of(Encoding("""{ "epochs": 1 }"""), new RunOptions()).ToJson());
        Assert.AreEqual(Experiments.Core.GpuUse.WhenPresent, work.Gpu);
    }

    [TestMethod]
    public void Nvidia_smis_memory_lines_give_the_GPUs_and_their_memory()
    {
        // `nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits` on a machine with two 80 GB A100s.
        var two = Experiments.Cluster.GpuCapacity.Parse("81920\n81920\n");
        Assert.AreEqual((2, 2L * 81920 * 1024 * 1024), (two.Count, two.MemoryBytes));
        Assert.AreEqual(Experiments.Cluster.GpuCapacity.None, Experiments.Cluster.GpuCapacity.Parse(""));
    }

    [TestMethod]
    public void A_gpu_tool_that_hangs_counts_as_no_gpu_and_one_that_answers_is_read()
    {
        using var folder = new TempFolder();
        string Tool(string name, string body)
        {
            var path = folder.File(name, "#!/bin/sh\n" + body + "\n");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return path;
        }
        // A wedged driver: nvidia-smi never answers. The worker must still join, with no GPU.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.AreEqual(Experiments.Cluster.GpuCapacity.None, Experiments.Cluster.GpuCapacity.Detect(Tool("hangs", "sleep 600"), TimeSpan.FromSeconds(1)));
        Assert.IsLessThan(60, clock.Elapsed.TotalSeconds, "the wait ends at the timeout, not when the tool does");
        Assert.AreEqual(new Experiments.Cluster.GpuCapacity(2, 2L * 81920 * 1024 * 1024),
            Experiments.Cluster.GpuCapacity.Detect(Tool("answers", "echo 81920; echo 81920; echo noise >&2"), TimeSpan.FromSeconds(30)));
        Assert.AreEqual(Experiments.Cluster.GpuCapacity.None, Experiments.Cluster.GpuCapacity.Detect(Tool("fails", "echo 81920; exit 3"), TimeSpan.FromSeconds(30)));
    }
}
