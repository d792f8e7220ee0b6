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
                // A worker that is running trials right now, killed without warning.
                while (killedPid is null)
                {
                    var status = await Experiments.Cluster.Cluster.CoordinatorOf(client).Status();
                    if (status.Workers.FirstOrDefault(w => w.Running.Count > 0) is { } victim)
                    {
                        killedTrials.AddRange(victim.Running.Select(r => int.Parse(r[(r.LastIndexOf('#') + 1)..])));
                        killedPid = victim.Report.Pid;
                        workers.Single(w => w.Process.Id == victim.Report.Pid).Process.Kill();
                    }
                    else await Task.Delay(50);
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
                // The trials the killed worker held are all stored, completed, once (above): finished by it before the kill,
                // or run again elsewhere. Which of the two is not asserted: the coordinator's status can list a trial as
                // running after its result is stored (seen in 2 of 4 runs; under investigation in issue 17).
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
