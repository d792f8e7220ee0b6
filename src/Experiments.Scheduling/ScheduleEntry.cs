using Quartz;

namespace Experiments.Scheduling;

/// <summary>What to do when a schedule's firing was missed (the scheduler was down or busy longer than the misfire threshold).</summary>
public enum MissedFiring
{
    /// <summary>Run once as soon as the scheduler can, however many firings were missed; then keep to the schedule.</summary>
    RunOnce,
    /// <summary>Skip what was missed and wait for the next time on the schedule.</summary>
    Skip,
}

/// <summary>
/// What a schedule runs, as its Quartz job keeps it: the definition file (absolute), the run store and reports
/// overrides, the data directory, and the working directory the relative paths of the definition's output are read
/// against (the one `schedule add` ran in), so that the scheduler may run anywhere.
/// </summary>
public sealed record ScheduleEntry(string Definition, string WorkingDirectory, string? Store = null, string? Reports = null, string? DataDirectory = null)
{
    private const string DefinitionKey = "definition", WorkingDirectoryKey = "workingDirectory", StoreKey = "store", ReportsKey = "reports", DataDirectoryKey = "dataDirectory";

    internal JobDataMap ToJobData()
    {
        var data = new JobDataMap { [DefinitionKey] = Definition, [WorkingDirectoryKey] = WorkingDirectory };
        if (Store is not null) data[StoreKey] = Store;
        if (Reports is not null) data[ReportsKey] = Reports;
        if (DataDirectory is not null) data[DataDirectoryKey] = DataDirectory;
        return data;
    }

    /// <summary>The entry as it is shown (`schedule list`, `--json`): the run store's password, if any, as ***.</summary>
    public ScheduleEntry Redacted() => this with { Store = Store is null ? null : Experiments.Store.PostgresConnection.Hide(Store) };

    internal static ScheduleEntry Read(IJobDetail job)
    {
        var data = job.JobDataMap;
        string? Optional(string key) => data.TryGetValue(key, out var value) ? value as string : null;
        return new ScheduleEntry(Optional(DefinitionKey)!, Optional(WorkingDirectoryKey)!, Optional(StoreKey), Optional(ReportsKey), Optional(DataDirectoryKey));
    }
}

/// <summary>A schedule as `schedule list` shows it: its cron and zone, state, misfire policy, what it runs (<see cref="ScheduleEntry.Redacted"/>) and when it fires next.</summary>
public sealed record ScheduleInfo(string Name, string Cron, string TimeZone, string QuartzCron, string State, MissedFiring Misfire, TimeSpan MisfireThreshold,
    ScheduleEntry Entry, DateTimeOffset? PreviousFire, IReadOnlyList<DateTimeOffset> NextFires);

/// <summary>
/// One line of a schedule's history: a firing (run id and outcome, or why it failed) or a missed firing (no scheduler
/// was up, or the previous run went on past the misfire threshold).
/// </summary>
public sealed record ScheduleEvent(DateTimeOffset At, string Kind, bool? Succeeded, string Summary, long? RunId, string? Node, TimeSpan? Duration);
