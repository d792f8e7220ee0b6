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
                var coordinator = Experiments.Cluster.Cluster.CoordinatorOf(client);
                while (killedPid is null)
                {
                    var status = await coordinator.Status();
                    if (status.Workers.FirstOrDefault(w => w.Running.Count > 0 && w.Report.Pid != status.CoordinatorPid) is not { } victim)
                    {
                        await Task.Delay(50);
                        continue;
                    }
                    Signal("STOP", victim.Report.Pid);
                    await Task.Delay(500);
                    var frozen = (await coordinator.Status()).Workers.Single(w => w.Report.Worker == victim.Report.Worker);
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
