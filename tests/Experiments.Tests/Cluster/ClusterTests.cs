using Experiments.Cluster;
using Experiments.Store;
using Experiments.Sweeps;
using Experiments.Sweeps.Benchmarks;
using Experiments.Sweeps.Tuners;

namespace Experiments.Tests.Cluster;

/// <summary>Sweeps on a real cluster: worker processes (`experiments worker`) on the test run's PostgreSQL, one of them SIGKILLed mid-trial.</summary>
[TestClass]
public sealed class ClusterTests
{
    private sealed class KillObserver(Func<Task> kill) : ISweepObserver
    {
        private int _fired;
        public Task Killed { get; private set; } = Task.CompletedTask;

        public void TrialStarted(int number, ParameterSet parameters)
        {
            if (number == 12 && Interlocked.Exchange(ref _fired, 1) == 0) Killed = Task.Run(kill);
        }
    }

    [TestMethod]
    public void A_run_whose_worker_is_killed_mid_run_goes_on_in_the_same_run_on_the_other_worker()
    {
        var cluster = SharedPostgres.Require().NewSchema();
        using var folder = new TempFolder();
        // Four models one after another, each a few seconds here: the worker is killed after the first is stored.
        var file = folder.File("run.json", """
            {
              "name": "cluster-rerun",
              "task": "rating",
              "dataset": { "name": "demo-shop", "table": "ratings", "options": { "users": 1500, "items": 400, "seed": 3 } },
              "split": { "method": "random", "testFraction": 0.2 },
              "models": [ { "type": "bias" },
                          { "name": "mf-8", "type": "matrix-factorization", "parameters": { "solver": "als", "rank": 8, "iterations": 30, "threads": 1 } },
                          { "name": "mf-16", "type": "matrix-factorization", "parameters": { "solver": "als", "rank": 16, "iterations": 30, "threads": 1 } },
                          { "name": "global", "type": "global-mean" } ],
              "metrics": ["rmse", "mae"],
              "evaluation": { "bootstrapSamples": 200 },
              "seed": 5
            }
            """);
        var workers = Enumerable.Range(0, 2).Select(_ => new ClusterWorker(folder.Path, cluster)).ToList();
        try
        {
            using (var client = Experiments.Cluster.Cluster.ConnectAsync(cluster).GetAwaiter().GetResult())
                ClusterSweeps.WaitForWorkersAsync(client, 2, TimeSpan.FromSeconds(90)).GetAwaiter().GetResult();
            using var submitter = System.Diagnostics.Process.Start(CliProcess.StartInfo(folder.Path, "run", file, "--cluster", cluster, "--reports", Path.Combine(folder.Path, "reports")))!;
            var output = submitter.StandardOutput.ReadToEndAsync();
            var error = submitter.StandardError.ReadToEndAsync();

            // Kill the worker that runs it once its first trial is stored.
            using var store = RunStores.Open(cluster);
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            int finishedAtKill;
            while (true)
            {
                if (store.ListRuns(experiment: "cluster-rerun").SingleOrDefault() is { } started && store.GetRun(started.Id).Trials.Count(t => t.Status == "finished") is var finished and > 0)
                {
                    var victim = workers.Single(w => w.Log.Any(l => l.Contains("#0 started", StringComparison.Ordinal)));
                    victim.Process.Kill();
                    finishedAtKill = finished;
                    break;
                }
                Assert.IsTrue(DateTime.UtcNow < deadline && !submitter.HasExited, $"the run did not get going: {string.Join(" | ", workers.SelectMany(w => w.Log))}");
                Thread.Sleep(20);
            }
            Assert.IsTrue(submitter.WaitForExit(TimeSpan.FromMinutes(4)), "the submitter did not finish");
            Assert.AreEqual(0, submitter.ExitCode, $"{output.Result} {error.Result} | workers: {string.Join(" | ", workers.SelectMany(w => w.Log))}");
            Assert.IsLessThan(4, finishedAtKill, "the worker was killed mid-run");

            var runs = store.ListRuns(experiment: "cluster-rerun");
            Assert.HasCount(1, runs, "one run in the store for the one submitted");
            var details = store.GetRun(runs[0].Id);
            Assert.AreEqual(RunStatus.Finished, details.Run.Status, details.Run.Error);
            var finishedTrials = details.Trials.Where(t => t.Status == "finished").ToList();
            CollectionAssert.AreEquivalent(new[] { "bias", "mf-8", "mf-16", "global" }, finishedTrials.Select(t => t.ModelName).ToList(), "each model finished once");
            Assert.IsTrue(details.Trials.Where(t => t.Status != "finished").All(t => t.Status == "killed"), "only the trial in flight at the kill is left, marked killed");
            Assert.IsLessThanOrEqualTo(1, details.Trials.Count(t => t.Status == "killed"));
            Assert.IsTrue(details.Profile.GroupBy(p => (p.Split, p.Name)).All(g => g.Count() == 1), "the data profile once, though both attempts recorded it");
            StringAssert.Contains(output.Result, $"Run {runs[0].Id} ");

            // The same definition on this machine: every model's metrics as the two attempts recorded them.
            using var local = SqliteRunStore.Open(Path.Combine(folder.Path, "local.db"));
            var reference = new Experiments.Runs.ExperimentRunner(local).Run(Experiments.Runs.Platform.Reader.ReadFile(file), new Experiments.Runs.RunOptions { ReportDirectory = Path.Combine(folder.Path, "local-reports") });
            foreach (var expected in local.GetRun(reference.RunId).Trials)
                foreach (var metric in expected.Metrics)
                    Assert.AreEqual(metric.Value, finishedTrials.Single(t => t.ModelName == expected.ModelName).Metrics.Single(m => m.Label == metric.Label && m.Split == metric.Split).Value, 1e-12, $"{expected.ModelName} {metric.Label}");
            var localDetails = local.GetRun(reference.RunId);
            Assert.AreEqual(localDetails.Comparisons.Count, details.Comparisons.Count, "the comparisons once");
            Assert.AreEqual(localDetails.Profile.Count, details.Profile.Count);
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
        }
    }

    private static void Signal(string signal, int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.AreEqual(0, kill.ExitCode, $"kill -{signal} {pid}");
    }

    [TestMethod]
    public void A_worker_that_cannot_join_says_why_in_a_clear_error()
    {
        // Nothing listens where the database should be.
        var unreachable = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() =>
            Experiments.Cluster.Cluster.StartWorkerAsync(new WorkerOptions("postgres://ana:secret@127.0.0.1:1/experiments", 1)).GetAwaiter().GetResult());
        StringAssert.Contains(unreachable.Message, "postgres://ana:***@127.0.0.1:1/experiments");
        // The database is there, the silo's port is taken.
        var cluster = SharedPostgres.Require().NewSchema();
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Any, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var busy = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() =>
            Experiments.Cluster.Cluster.StartWorkerAsync(new WorkerOptions(cluster, 1) { Address = System.Net.IPAddress.Loopback, SiloPort = port }).GetAwaiter().GetResult());
        StringAssert.Contains(busy.Message, $"The worker could not join the cluster at {PostgresConnection.Parse(cluster).Location} as 127.0.0.1 (silo port {port}");
        StringAssert.Contains(busy.Message, "the ports are free");
    }

    [TestMethod]
    public void Three_workers_one_killed_mid_trial_every_trial_finishes_exactly_once_as_on_one_machine()
    {
        var cluster = SharedPostgres.Require().NewSchema();
        using var folder = new TempFolder();
        var workers = Enumerable.Range(0, 3).Select(_ => new ClusterWorker(folder.Path, cluster)).ToList();
        try
        {
            using var client = Experiments.Cluster.Cluster.ConnectAsync(cluster).GetAwaiter().GetResult();
            var ready = ClusterSweeps.WaitForWorkersAsync(client, 3, TimeSpan.FromSeconds(90)).GetAwaiter().GetResult();
            Assert.AreEqual(6, ready.Workers.Sum(w => w.Report.Slots));

            var function = TestFunctions.Branin();
            int? killedPid = null;
            var killedTrials = new List<int>();
            var observer = new KillObserver(async () =>
            {
                // A worker that runs trials right now (not the one holding the coordinator, whose state would go with
                // it) is frozen (SIGSTOP: it sends nothing more); once what it sent has arrived, the trials the
                // coordinator still has it running are exactly those it will never finish, and it is killed (SIGKILL).
                // A worker that is this client's gateway cannot be asked through while frozen: it is let go at once
                // (well within its lease) and another is chosen.
                var coordinator = Experiments.Cluster.Cluster.CoordinatorOf(client);
                var gateways = new HashSet<int>();
                while (killedPid is null)
                {
                    var status = await coordinator.Status();
                    if (status.Workers.FirstOrDefault(w => w.Running.Count > 0 && w.Report.Pid != status.CoordinatorPid && !gateways.Contains(w.Report.Pid)) is not { } victim)
                    {
                        await Task.Delay(50);
                        continue;
                    }
                    Signal("STOP", victim.Report.Pid);
                    await Task.Delay(500);
                    var read = coordinator.Status();
                    if (await Task.WhenAny(read, Task.Delay(1500)) != read)
                    {
                        Signal("CONT", victim.Report.Pid);
                        gateways.Add(victim.Report.Pid);
                        try { await read; } catch (TimeoutException) { }
                        continue;
                    }
                    var frozen = (await read).Workers.Single(w => w.Report.Worker == victim.Report.Worker);
                    if (frozen.Running.Count == 0)
                    {
                        Signal("CONT", victim.Report.Pid);
                        continue;
                    }
                    killedTrials.AddRange(frozen.Running.Select(r => int.Parse(r[(r.LastIndexOf('#') + 1)..])));
                    killedPid = victim.Report.Pid;
                    workers.Single(w => w.Process.Id == victim.Report.Pid).Process.Kill();
                }
            });
            var settings = new SweepSettings { Name = "cluster", Space = function.Space, Objective = new SweepObjective("loss"), Seed = 5, MaxTrials = 30, Parallelism = 6, Observer = observer };
            SweepResult result;
            using (var store = RunStores.Open(cluster))
            {
                result = ClusterSweeps.RunAsync(client, store, settings, new TpeTuner(function.Space, 5), "test-function", """{"function": "branin", "sleepMs": 300}""")
                    .GetAwaiter().GetResult();
                observer.Killed.GetAwaiter().GetResult();
                Assert.IsNotNull(killedPid);
                Assert.IsNotEmpty(killedTrials, "the worker was killed while it ran trials");

                var stored = store.GetTrials(result.SweepId);
                CollectionAssert.AreEqual(Enumerable.Range(0, 30).ToList(), stored.Select(t => t.Number).ToList(), "every trial once, none lost");
                Assert.IsTrue(stored.All(t => t.Status == TrialStatus.Completed), string.Join("; ", stored.Where(t => t.Status != TrialStatus.Completed).Select(t => $"{t.Number} {t.Status} {t.Error}")));
                foreach (var t in stored)
                    Assert.AreEqual(TestFunctions.BraninValue(t.Parameters.Number("x1"), t.Parameters.Number("x2")), t.Value!.Value, 1e-12);
                // The trials the killed worker was running when it was frozen were run again, and stored once, by another worker.
                foreach (var n in killedTrials)
                    Assert.AreNotEqual((double)killedPid!.Value, stored[n].Metrics["worker"].Value, $"trial {n}, in flight on the killed worker {killedPid}");
                Assert.AreEqual(3, stored.Select(t => t.Metrics["worker"].Value).Distinct().Count(), "all three workers ran trials");
            }
            using (var raw = new Npgsql.NpgsqlConnection(PostgresConnection.Parse(cluster).ConnectionString))
            {
                raw.Open();
                using var count = new Npgsql.NpgsqlCommand($"SELECT count(*) FROM sweep_trials WHERE sweep_id = {result.SweepId}", raw);
                Assert.AreEqual(30L, count.ExecuteScalar(), "no duplicate rows");
            }

            // The same sweep on one machine, same seed and parallelism: the same proposals and values, trial by trial.
            var local = new SweepRunner(new InMemorySweepStorage()).Run(settings with { Observer = null }, new TpeTuner(function.Space, 5),
                c => TrialOutcome.Of("loss", function.Evaluate(c.Parameters)));
            for (var n = 0; n < 30; n++)
            {
                Assert.AreEqual(local.Trials[n].Parameters, result.Trials[n].Parameters, $"trial {n}");
                Assert.AreEqual(local.Trials[n].Value, result.Trials[n].Value, $"trial {n}");
            }
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
        }
    }
}
