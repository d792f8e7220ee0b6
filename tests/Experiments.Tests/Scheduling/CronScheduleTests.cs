using Experiments.Core;
using Experiments.Scheduling;

namespace Experiments.Tests.Scheduling;

/// <summary>Cron expressions and time zones (parsed by Quartz), and schedule store locations.</summary>
[TestClass]
public sealed class CronScheduleTests
{
    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute) => new(year, month, day, hour, minute, 0, TimeSpan.Zero);

    [TestMethod]
    public void Crontab_fields_fire_in_their_time_zone_across_both_daylight_saving_changes()
    {
        // Berlin: CET = UTC+1, CEST = UTC+2; in 2027 the clocks go forward on Sunday 28 March (02:00 → 03:00) and
        // back on Sunday 31 October (03:00 → 02:00). Values by hand from those rules.
        var daily = CronSchedule.Parse("30 2 * * *", "Europe/Berlin");
        CollectionAssert.AreEqual(new[]
        {
            Utc(2027, 3, 27, 1, 30), // 02:30 CET
            Utc(2027, 3, 28, 1, 0),  // 02:30 does not exist that day: fires when the clocks jump, at 03:00 CEST
            Utc(2027, 3, 29, 0, 30), // 02:30 CEST
        }, daily.Next(Utc(2027, 3, 27, 0, 0), 3).ToArray());
        CollectionAssert.AreEqual(new[]
        {
            Utc(2027, 10, 31, 0, 30), // 02:30 CEST, the first of the two 02:30s; not again at 02:30 CET (01:30 UTC)
            Utc(2027, 11, 1, 1, 30),  // 02:30 CET
        }, daily.Next(Utc(2027, 10, 30, 23, 0), 2).ToArray());
    }

    [TestMethod]
    public void Five_fields_are_crontabs_and_six_are_quartzs()
    {
        // Crontab numbers Sunday 0 and 7; Quartz spells days by name, with '?' for the open day field.
        Assert.AreEqual("0 0 3 ? * SUN", CronSchedule.Parse("0 3 * * 0", null).QuartzForm);
        Assert.AreEqual("0 0 3 ? * SUN", CronSchedule.Parse("0 3 * * 7", null).QuartzForm);
        Assert.AreEqual("0 */15 9-17 ? * MON-FRI", CronSchedule.Parse("*/15 9-17 * * 1-5", null).QuartzForm);
        var monday = CronSchedule.Parse("0 3 * * 1", null);
        // 2026-12-01 is a Tuesday: the next Mondays are 7 and 14 December, at 03:00 UTC (no zone given: UTC).
        CollectionAssert.AreEqual(new[] { Utc(2026, 12, 7, 3, 0), Utc(2026, 12, 14, 3, 0) }, monday.Next(Utc(2026, 12, 1, 12, 0), 2).ToArray());
        var everyTenSeconds = CronSchedule.Parse("*/10 * * * * ?", null);
        CollectionAssert.AreEqual(new[] { Utc(2026, 12, 1, 12, 0).AddSeconds(10), Utc(2026, 12, 1, 12, 0).AddSeconds(20) }, everyTenSeconds.Next(Utc(2026, 12, 1, 12, 0), 2).ToArray());
    }

    [TestMethod]
    public void Bad_expressions_and_zones_are_refused_with_what_is_allowed()
    {
        string Error(string cron, string? zone = null) => Assert.ThrowsExactly<ExperimentsException>(() => CronSchedule.Parse(cron, zone)).Message;
        StringAssert.Contains(Error("0 3 * *"), "has 4 field(s); write five");
        StringAssert.Contains(Error("0 3 * * 8"), "'8' is not a day of the week");
        StringAssert.Contains(Error("0 25 * * *"), "Hour values must be between 0 and 23");
        StringAssert.Contains(Error("0 0 3 31 2 ?"), "never fires again");
        StringAssert.Contains(Error("0 3 * * *", "Mars/Olympus"), "Unknown time zone 'Mars/Olympus'");
    }

    [TestMethod]
    public void Store_locations_are_files_or_postgresql()
    {
        using var folder = new TempFolder();
        var file = ScheduleStore.Parse(Path.Combine(folder.Path, "s.db"));
        Assert.IsFalse(file.IsPostgres);
        var url = ScheduleStore.Parse("postgres://ana:s%40cret@db.example:6543/schedules?sslmode=require");
        Assert.IsTrue(url.IsPostgres);
        var parts = url.ConnectionString.Split(';').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.AreEqual(("db.example", "6543", "schedules", "ana", "s@cret", "Require"), (parts["Host"], parts["Port"], parts["Database"], parts["Username"], parts["Password"], parts["SSL Mode"]));
        Assert.AreEqual("postgres://ana:***@db.example:6543/schedules?sslmode=require", url.Location, "the password is not shown");
        // Read as the run store reads it (one parser): Npgsql keywords with _ for spaces, e.g. a schema of its own.
        var schema = ScheduleStore.Parse("postgres://ana@db.example/schedules?search_path=team_a");
        Assert.AreEqual(Experiments.Store.PostgresConnection.Parse("postgres://ana@db.example/schedules?search_path=team_a").Location, schema.Location);
        StringAssert.Contains(schema.ConnectionString, "Search Path=team_a");
        Assert.IsTrue(ScheduleStore.Parse("Host=localhost;Database=s;Username=u").IsPostgres);
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => ScheduleStore.Parse("postgres://host")).Message, "names no database");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => ScheduleStore.Parse(Path.Combine(folder.Path, "missing", "s.db"))).Message, "does not exist");
    }
}
