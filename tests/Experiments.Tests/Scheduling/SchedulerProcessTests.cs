using System.Globalization;
using System.Text.Json;
using Experiments.Scheduling;
using Experiments.Store;

namespace Experiments.Tests.Scheduling;

/// <summary>
/// The scheduler as users run it: `experiments schedule add` in one process, `experiments scheduler` in another, the
/// runs checked in the run store and the history read back through `experiments schedule history`.
/// </summary>
[TestClass]
public sealed class SchedulerProcessTests
{
    /// <summary>A small ranking experiment into <paramref name="store"/>; <paramref name="users"/> sets how long a run takes.</summary>
    internal static string Definition(TempFolder folder, string name, string store, int users = 300) => folder.File($"{name}.json", $$"""
        {"name": "{{name}}", "task": "ranking", "dataset": {"name": "demo-shop", "options": {"users": {{users}}, "items": 300, "seed": 3} },
         "split": {"method": "stratified", "testFraction": 0.2},
         "models": [{"type": "item-knn"}], "metrics": ["ndcg@10"], "evaluation": {"bootstrapSamples": 499},
         "output": {"store": "{{store}}", "reports": "reports"} }
        """);

    internal static void Cli(string folder, params string[] args)
    {
        var (code, output, error) = CliProcess.Run(folder, args);
        Assert.AreEqual(0, code, $"experiments {string.Join(" ", args)}: {output}{error}");
    }

    internal static JsonElement Json(string folder, params string[] args)
    {
        var (code, output, error) = CliProcess.Run(folder, [.. args, "--json"]);
        Assert.AreEqual(0, code, $"experiments {string.Join(" ", args)}: {output}{error}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    /// <summary>
    /// Adds a schedule through the C# API, due once a day 25 s from now (whole seconds, UTC): in-process, because a
    /// CLI process can take longer than that to start on a loaded machine. Returns when it is due.
    /// </summary>
    internal static DateTimeOffset AddDailySoon(string schedules, string name, string definition, string folder, MissedFiring misfire = MissedFiring.RunOnce, TimeSpan? threshold = null, DateTimeOffset? notBefore = null)
    {
        var at = DateTimeOffset.UtcNow.AddSeconds(25);
        at = at.AddTicks(-(at.Ticks % TimeSpan.TicksPerSecond));
        if (notBefore is { } earliest && at < earliest) at = earliest;
        var scheduler = ExperimentScheduler.OpenAsync(ScheduleStore.Parse(schedules)).GetAwaiter().GetResult();
        try
        {
            scheduler.AddAsync(name, CronSchedule.Parse(DailyAt(at), null), new ScheduleEntry(definition, folder), misfire, threshold).GetAwaiter().GetResult();
        }
        finally
        {
            scheduler.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        Assert.IsLessThan(at, DateTimeOffset.UtcNow, $"{name} was added before its firing");
        return at;
    }

    /// <summary>A Quartz cron expression that fires once a day at <paramref name="at"/> (UTC, whole seconds).</summary>
    internal static string DailyAt(DateTimeOffset at) => string.Create(CultureInfo.InvariantCulture, $"{at.Second} {at.Minute} {at.Hour} * * ?");

    internal static List<RunRecord> Runs(string path, string experiment)
    {
        using var store = SqliteRunStore.Open(path);
        return store.ListRuns(1000, experiment).OrderBy(r => r.Id).ToList();
    }

    [TestMethod]
    public void A_scheduled_run_lands_in_the_store_runs_never_overlap_and_a_broken_definition_fails_in_the_history()
    {
        using var folder = new TempFolder();
        // Every second, with runs that take longer than that.
        var definition = Definition(folder, "frequent", "runs.db", users: 1000);
        Cli(folder.Path, "schedule", "add", definition, "--cron", "* * * * * ?", "--name", "frequent");
        using (var scheduler = new SchedulerProcess(folder.Path))
        {
            scheduler.WaitFor("frequent: run 3 finished", TimeSpan.FromMinutes(3));
            File.WriteAllText(definition, File.ReadAllText(definition).Replace("item-knn", "item-nn"));
            scheduler.WaitFor("the definition no longer validates", TimeSpan.FromMinutes(2));
            scheduler.Stop();
            Assert.AreEqual(0, scheduler.ExitCode, scheduler.Output);
        }

        var runs = Runs(Path.Combine(folder.Path, "runs.db"), "frequent");
        Assert.IsGreaterThanOrEqualTo(3, runs.Count);
        foreach (var run in runs.Where(r => r.Status != RunStatus.Cancelled)) Assert.AreEqual(RunStatus.Finished, run.Status, run.Error);
        for (var i = 1; i < runs.Count; i++)
            Assert.IsTrue(runs[i].StartedAt >= runs[i - 1].EndedAt, $"run {runs[i].Id} started at {runs[i].StartedAt:O}, before run {runs[i - 1].Id} ended at {runs[i - 1].EndedAt:O}");
        Assert.IsTrue(runs.Skip(1).All(r => r.Regressed is null), "no regression rule, no verdict");

        var history = Json(folder.Path, "schedule", "history", "frequent", "--limit", "500").EnumerateArray().ToList();
        var fired = history.Where(e => e.GetProperty("kind").GetString() == "fired").ToList();
        var ran = fired.Where(e => e.GetProperty("runId").ValueKind == JsonValueKind.Number).Select(e => e.GetProperty("runId").GetInt64()).Order().ToList();
        CollectionAssert.IsSubsetOf(runs.Select(r => r.Id).Take(3).ToList(), ran, "every finished run is in the history with its id");
        StringAssert.Contains(fired.First(e => e.GetProperty("succeeded").GetBoolean() == false).GetProperty("summary").GetString(), "the definition no longer validates");
        StringAssert.Contains(fired.First(e => e.GetProperty("succeeded").GetBoolean() == false).GetProperty("summary").GetString(), "item-nn");
    }

    [TestMethod]
    public void After_a_crash_a_missed_firing_runs_once_on_restart_or_is_skipped_by_its_policy()
    {
        using var folder = new TempFolder();
        // A scheduler that dies with SIGKILL, then the schedules, each due a while after it is added (process starts are
        // slow on a loaded machine), with a 2 s misfire threshold.
        using (var first = new SchedulerProcess(folder.Path)) first.Kill();
        var due = new Dictionary<string, DateTimeOffset>();
        var schedules = Path.Combine(folder.Path, "schedules.db");
        foreach (var (name, policy) in new[] { ("catchup", MissedFiring.RunOnce), ("skipped", MissedFiring.Skip) })
            due[name] = AddDailySoon(schedules, name, Definition(folder, name, $"{name}.db"), folder.Path, policy, TimeSpan.FromSeconds(2));
        // Down over both firing times and beyond the misfire threshold.
        while (DateTimeOffset.UtcNow < due.Values.Max().AddSeconds(5)) Thread.Sleep(200);
        using (var second = new SchedulerProcess(folder.Path))
        {
            second.WaitFor("catchup: run 1 finished", TimeSpan.FromMinutes(2));
            Thread.Sleep(3000);
            second.Stop();
            Assert.AreEqual(0, second.Count("skipped: firing"), second.Output);
        }
        Assert.HasCount(1, Runs(Path.Combine(folder.Path, "catchup.db"), "catchup"), "run once, not once per missed firing");
        Assert.IsFalse(File.Exists(Path.Combine(folder.Path, "skipped.db")) && Runs(Path.Combine(folder.Path, "skipped.db"), "skipped").Count > 0, "the skip policy runs nothing");

        var listed = Json(folder.Path, "schedule", "list").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        foreach (var name in new[] { "catchup", "skipped" })
            Assert.AreEqual(due[name].AddDays(1), listed[name].GetProperty("nextFires")[0].GetDateTimeOffset(), $"{name} waits for tomorrow's time");
        var skipped = Json(folder.Path, "schedule", "history", "skipped").EnumerateArray().ToList();
        Assert.IsTrue(skipped.Any(e => e.GetProperty("kind").GetString() == "missed"), skipped.Count.ToString());
        Assert.IsFalse(skipped.Any(e => e.GetProperty("kind").GetString() == "fired"));
        var caught = Json(folder.Path, "schedule", "history", "catchup").EnumerateArray().Single(e => e.GetProperty("kind").GetString() == "fired");
        Assert.AreEqual(1, caught.GetProperty("runId").GetInt64());
    }

    [TestMethod]
    public void Schedules_list_pause_resume_and_remove_and_mistakes_are_refused_clearly()
    {
        using var folder = new TempFolder();
        Cli(folder.Path, "schedule", "add", Definition(folder, "weekly", "runs.db"), "--cron", "0 3 * * 1", "--time-zone", "Europe/Berlin");
        var listed = Json(folder.Path, "schedule", "list").EnumerateArray().Single();
        Assert.AreEqual("weekly", listed.GetProperty("name").GetString());
        Assert.AreEqual("0 0 3 ? * MON", listed.GetProperty("quartzCron").GetString());
        // By hand: Mondays at 03:00 in Berlin are 02:00 UTC in winter (CET, +1) and 01:00 UTC in summer (CEST, +2).
        foreach (var next in listed.GetProperty("nextFires").EnumerateArray().Select(t => t.GetDateTimeOffset().UtcDateTime))
        {
            Assert.AreEqual(DayOfWeek.Monday, next.DayOfWeek);
            Assert.AreEqual(TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin").IsDaylightSavingTime(next) ? 1 : 2, next.Hour);
        }
        Cli(folder.Path, "schedule", "pause", "weekly");
        Assert.AreEqual("paused", Json(folder.Path, "schedule", "list").EnumerateArray().Single().GetProperty("state").GetString());
        Cli(folder.Path, "schedule", "resume", "weekly");
        Assert.AreEqual("normal", Json(folder.Path, "schedule", "list").EnumerateArray().Single().GetProperty("state").GetString());

        var (code, _, error) = CliProcess.Run(folder.Path, "schedule", "pause", "weekyl");
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "There is no schedule 'weekyl'");
        StringAssert.Contains(error, "did you mean 'weekly'?");
        (code, _, error) = CliProcess.Run(folder.Path, "schedule", "add", Path.Combine(folder.Path, "weekly.json"), "--cron", "0 3 * * 1");
        Assert.AreEqual(2, code);
        StringAssert.Contains(error, "exists already");
        using (var scheduler = new SchedulerProcess(folder.Path))
        {
            (code, _, error) = CliProcess.Run(folder.Path, "scheduler");
            Assert.AreEqual(2, code, "a SQLite store has one scheduler: a second would fire every schedule again");
            StringAssert.Contains(error, "Another scheduler");
            scheduler.Stop();
        }
        Cli(folder.Path, "schedule", "remove", "weekly");
        Assert.AreEqual(0, Json(folder.Path, "schedule", "list").GetArrayLength());

        // The run store option: a relative file is kept as an absolute path, a PostgreSQL URL as written (not as a file
        // name) — and shown without its password, by `schedule add` and `schedule list`, as text or JSON.
        const string url = "postgres://runner:secret@db.example:5433/experiments";
        var added = CliProcess.Run(folder.Path, "schedule", "add", Path.Combine(folder.Path, "weekly.json"), "--cron", "0 3 * * 1", "--name", "to-postgres", "--store", url, "--json");
        Assert.AreEqual(0, added.ExitCode, added.Error);
        Cli(folder.Path, "schedule", "add", Path.Combine(folder.Path, "weekly.json"), "--cron", "0 3 * * 1", "--name", "to-file", "--store", "other.db");
        var list = CliProcess.Run(folder.Path, "schedule", "list", "--json");
        var text = CliProcess.Run(folder.Path, "schedule", "list");
        foreach (var shown in new[] { added, list, text }) Assert.IsFalse((shown.Output + shown.Error).Contains("secret", StringComparison.Ordinal), shown.Output);
        var stores = JsonDocument.Parse(list.Output).RootElement.EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("entry").GetProperty("store").GetString());
        Assert.AreEqual("postgres://runner:***@db.example:5433/experiments", stores["to-postgres"]);
        Assert.AreEqual(Path.Combine(folder.Path, "other.db"), stores["to-file"]);
    }
}
