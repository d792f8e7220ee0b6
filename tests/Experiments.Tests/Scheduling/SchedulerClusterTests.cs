using Experiments.Store;

namespace Experiments.Tests.Scheduling;

/// <summary>Scheduler nodes in a cluster on a private PostgreSQL server (Quartz's clustered ADO job store).</summary>
[TestClass]
public sealed class SchedulerClusterTests
{
    [TestMethod]
    public void Two_scheduler_nodes_on_one_postgresql_fire_each_time_exactly_once()
    {
        // A server of its own: Quartz's clustered tables live in its default schema.
        using var postgres = PostgresServer.Start();
        using var folder = new TempFolder();
        var times = new List<DateTimeOffset>();
        var schedules = postgres.Uri;
        var definition = SchedulerProcessTests.Definition(folder, "shared", "runs.db");
        // The first node creates Quartz's tables; the second finds them.
        using (var a = new SchedulerProcess(folder.Path, "--schedules", schedules, "--node", "node-a"))
        using (var b = new SchedulerProcess(folder.Path, "--schedules", schedules, "--node", "node-b"))
        {
            // Three schedules added while both nodes run, each due a while after it is added, at least eight seconds apart.
            foreach (var i in Enumerable.Range(0, 3))
                times.Add(SchedulerProcessTests.AddDailySoon(schedules, $"shared-{i}", definition, folder.Path, notBefore: i > 0 ? times[^1].AddSeconds(8) : null));
            var deadline = DateTimeOffset.UtcNow.AddMinutes(3);
            while (a.Count(": run ") + b.Count(": run ") < 2 * times.Count && DateTimeOffset.UtcNow < deadline) Thread.Sleep(200);
            // Time for a duplicate to show up, were there one.
            Thread.Sleep(4000);
            a.Stop();
            b.Stop();
            Assert.AreEqual(times.Count, a.Count("finished") + b.Count("finished"), a.Output + "\n---\n" + b.Output);
        }
        var runs = SchedulerProcessTests.Runs(Path.Combine(folder.Path, "runs.db"), "shared");
        Assert.HasCount(times.Count, runs);
        Assert.IsTrue(runs.All(r => r.Status == RunStatus.Finished));
        var nodes = new HashSet<string>();
        for (var i = 0; i < times.Count; i++)
        {
            var fired = SchedulerProcessTests.Json(folder.Path, "schedule", "history", $"shared-{i}", "--schedules", schedules).EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "fired").ToList();
            Assert.HasCount(1, fired, $"shared-{i} fired once across both nodes");
            nodes.Add(fired[0].GetProperty("node").GetString()!);
            Assert.IsGreaterThanOrEqualTo(times[i], fired[0].GetProperty("at").GetDateTimeOffset());
        }
        CollectionAssert.IsSubsetOf(nodes.ToList(), new[] { "node-a", "node-b" });
    }

    [TestMethod]
    public async Task A_clustered_node_without_a_name_gets_an_id_of_its_own()
    {
        using var postgres = PostgresServer.Start();
        await using var scheduler = await Experiments.Scheduling.ExperimentScheduler.OpenAsync(Experiments.Scheduling.ScheduleStore.Parse(postgres.Uri));
        // Quartz's fixed default would be shared by every unnamed node; a generated id starts with the host name.
        Assert.AreNotEqual("NON_CLUSTERED", scheduler.Node);
        Assert.StartsWith(System.Net.Dns.GetHostName(), scheduler.Node);
    }
}
