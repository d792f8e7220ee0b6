using Experiments.Core;
using Quartz;

namespace Experiments.Scheduling;

/// <summary>
/// A cron expression with its time zone, parsed by Quartz: five fields are crontab's (minute hour day-of-month month
/// day-of-week, Sunday 0 or 7: "0 3 * * 1" is 03:00 every Monday); six or seven are Quartz's own, with seconds first
/// and '?' for the day field left open ("*/10 * * * * ?" every ten seconds). Fire times are computed in the time zone,
/// so daylight-saving changes are Quartz's: a time skipped by the spring change fires at the first valid instant
/// after it, and a time repeated in the autumn fires once.
/// </summary>
public sealed record CronSchedule
{
    private CronSchedule(string text, CronExpression expression, TimeZoneInfo timeZone)
    {
        Text = text;
        Expression = expression;
        TimeZone = timeZone;
    }

    /// <summary>As the user wrote it.</summary>
    public string Text { get; }
    /// <summary>Quartz's parsed expression (its canonical form is <see cref="QuartzForm"/>).</summary>
    public CronExpression Expression { get; }
    public TimeZoneInfo TimeZone { get; }
    public string QuartzForm => Expression.CronExpressionString;

    /// <summary>Parses <paramref name="text"/> in <paramref name="timeZone"/> (an IANA id such as Europe/Berlin; null: UTC).</summary>
    public static CronSchedule Parse(string text, string? timeZone)
    {
        var zone = Zone(timeZone);
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var format = fields switch
        {
            5 => CronFormat.Unix,
            6 or 7 => CronFormat.Quartz,
            _ => throw new ExperimentsException($"The cron expression '{text}' has {fields} field(s); write five (minute hour day-of-month month day-of-week, e.g. \"0 3 * * 1\" for 03:00 on Mondays) " +
                                                "or Quartz's six or seven with seconds first (e.g. \"0 0 3 ? * MON\")."),
        };
        CronExpression expression;
        try
        {
            expression = CronExpression.Parse(text, format);
        }
        catch (FormatException e)
        {
            throw new ExperimentsException($"The cron expression '{text}' is not valid ({(format == CronFormat.Unix ? "crontab's five fields" : "Quartz's fields, seconds first")}): {e.Message}");
        }
        expression = expression.WithTimeZone(zone);
        var schedule = new CronSchedule(text, expression, zone);
        if (schedule.Next(DateTimeOffset.UtcNow, 1).Count == 0)
            throw new ExperimentsException($"The cron expression '{text}' never fires again (its times are all in the past).");
        return schedule;
    }

    private static TimeZoneInfo Zone(string? id)
    {
        if (id is null) return TimeZoneInfo.Utc;
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new ExperimentsException($"Unknown time zone '{id}': use an IANA name such as Europe/Berlin, America/New_York or UTC (`timedatectl list-timezones` lists them; Debian's tzdata package provides them).");
        }
    }

    /// <summary>The next <paramref name="count"/> fire times after <paramref name="after"/>, in UTC.</summary>
    public IReadOnlyList<DateTimeOffset> Next(DateTimeOffset after, int count)
    {
        var times = new List<DateTimeOffset>(count);
        for (var t = Expression.GetNextValidTimeAfter(after); t is { } time && times.Count < count; t = Expression.GetNextValidTimeAfter(time)) times.Add(time);
        return times;
    }

    public override string ToString() => $"{Text} ({TimeZone.Id})";
}
