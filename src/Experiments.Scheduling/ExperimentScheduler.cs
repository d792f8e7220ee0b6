using System.Text.Json;
using Experiments.Core;
using Experiments.Runs;
using Microsoft.Extensions.DependencyInjection;
using Quartz;
using Quartz.Extensibility;

namespace Experiments.Scheduling;

/// <summary>
/// Scheduled experiment runs on Quartz.NET: schedules are kept in the <see cref="ScheduleStore"/> (so they survive
/// restarts), managed from any process (`experiments schedule …`) and fired by the scheduler nodes that
/// <see cref="RunAsync"/> starts (`experiments scheduler`). Each firing is an ordinary run (<see cref="ScheduledRunJob"/>).
/// </summary>
public sealed class ExperimentScheduler : IAsyncDisposable
{
    public const string Group = "experiments";
    public const string SchedulerName = "experiments";
    /// <summary>How late a firing may start before it counts as missed and the schedule's <see cref="MissedFiring"/> policy decides.</summary>
    public static readonly TimeSpan DefaultMisfireThreshold = TimeSpan.FromMinutes(1);

    private readonly ServiceProvider _services;
    private readonly IScheduler _scheduler;
    private readonly IExecutionHistoryStore _history;
    private bool _started;

    private ExperimentScheduler(ScheduleStore store, ServiceProvider services, IScheduler scheduler)
    {
        Store = store;
        _services = services;
        _scheduler = scheduler;
        _history = services.GetRequiredService<IExecutionHistoryStore>();
    }

    public ScheduleStore Store { get; }

    /// <summary>
    /// Opens the schedules in <paramref name="store"/>. <paramref name="node"/> names this scheduler node in a
    /// PostgreSQL cluster (default: generated from the host and process); <paramref name="concurrentRuns"/> is how many
    /// runs of different schedules this node runs at once.
    /// </summary>
    public static async Task<ExperimentScheduler> OpenAsync(ScheduleStore store, SchedulerLog? log = null, string? node = null, int concurrentRuns = 1, CancellationToken cancel = default)
    {
        var services = new ServiceCollection();
        services.AddSingleton(log ?? new SchedulerLog(_ => { }));
        services.AddTransient<ScheduledRunJob>();
        services.Configure<ExecutionHistoryOptions>(o =>
        {
            // A year of history, and every misfire kept as long (Quartz's own default is a day).
            o.Retention = TimeSpan.FromDays(366);
            o.MaxEntriesPerScheduler = 100_000;
        });
        services.AddQuartz(q =>
        {
            q.ConfigureScheduler(o =>
            {
                o.InstanceName = SchedulerName;
                // Quartz's default id is one constant ("NON_CLUSTERED"): clustered nodes without --node would all share it.
                if (node is not null) o.InstanceId = node;
                else if (store.IsPostgres) o.GenerateInstanceId = true;
                // A schedule added by another process is seen within this time.
                o.IdleWaitTime = TimeSpan.FromSeconds(2);
                // Stopping the node cancels its runs and waits for them to record what finished ('cancelled').
                o.ShutdownJobInterruption = ShutdownJobInterruption.WhenWaitingForJobs;
            });
            q.UseDefaultThreadPool(concurrentRuns);
            q.UsePersistentStore(s => store.Configure(s, DefaultMisfireThreshold));
        });
        var provider = services.BuildServiceProvider();
        try
        {
            var scheduler = await provider.GetRequiredService<ISchedulerFactory>().GetScheduler(cancel);
            return new ExperimentScheduler(store, provider, scheduler);
        }
        catch (Exception e) when (e is not ExperimentsException and not OperationCanceledException)
        {
            await provider.DisposeAsync();
            throw new ExperimentsException($"The schedule store {store} cannot be opened: {Innermost(e).Message}");
        }
    }

    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;

    private static JobKey Key(string name) => new(name, Group);

    /// <summary>
    /// Adds a schedule: the entry's definition (checked now, and again at every firing) runs on <paramref name="cron"/>.
    /// A name already taken is refused unless <paramref name="replace"/>.
    /// </summary>
    public async Task<ScheduleInfo> AddAsync(string name, CronSchedule cron, ScheduleEntry entry, MissedFiring misfire = MissedFiring.RunOnce,
        TimeSpan? misfireThreshold = null, bool replace = false, CancellationToken cancel = default)
    {
        CheckName(name);
        Platform.Reader.ReadFile(entry.Definition);
        if (!replace && await _scheduler.Exists(Key(name), cancel))
            throw new ExperimentsException($"A schedule named '{name}' exists already in {Store}; remove it first, choose another --name, or pass --replace.");
        var threshold = misfireThreshold ?? DefaultMisfireThreshold;
        if (threshold <= TimeSpan.Zero) throw new ExperimentsException("The misfire threshold must be positive (e.g. 1m, 30s).");
        var job = JobBuilder.Create<ScheduledRunJob>().WithIdentity(Key(name)).WithDescription(entry.Definition).UsingJobData(entry.ToJobData()).Build();
        var trigger = TriggerBuilder.Create().WithIdentity(name, Group).ForJob(job)
            .WithDescription(cron.Text)
            .WithCronSchedule(cron.Expression, c => c.InTimeZone(cron.TimeZone).WithMisfireInstruction(misfire == MissedFiring.RunOnce ? CronTriggerMisfireInstruction.FireAndProceed : CronTriggerMisfireInstruction.DoNothing))
            .WithMisfireThreshold(threshold)
            .Build();
        await _scheduler.ScheduleJob(job, trigger, replace ? ScheduleJobOptions.Replacing : new ScheduleJobOptions(), cancel);
        return (await GetAsync(name, cancel))!;
    }

    private static void CheckName(string name)
    {
        if (name.Length == 0 || name.Length > 150 || name.Any(c => char.IsControl(c)))
            throw new ExperimentsException($"The schedule name '{name}' is not allowed: 1 to 150 characters, no control characters.");
    }

    public async Task<IReadOnlyList<ScheduleInfo>> ListAsync(CancellationToken cancel = default)
    {
        var keys = await _scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(Group), cancel);
        var schedules = new List<ScheduleInfo>();
        foreach (var key in keys.OrderBy(k => k.Name, StringComparer.Ordinal))
            if (await GetAsync(key.Name, cancel) is { } info) schedules.Add(info);
        return schedules;
    }

    public async Task<ScheduleInfo?> GetAsync(string name, CancellationToken cancel = default)
    {
        var job = await _scheduler.GetJobDetail(Key(name), cancel);
        if (job is null || await _scheduler.GetTrigger(new TriggerKey(name, Group), cancel) is not ICronTrigger trigger) return null;
        var state = await _scheduler.GetTriggerState(trigger.Key, cancel);
        var next = new List<DateTimeOffset>();
        if (state != TriggerState.Paused && trigger.NextFireTimeUtc is { } first)
        {
            next.Add(first);
            while (next.Count < 3 && trigger.GetFireTimeAfter(next[^1]) is { } t) next.Add(t);
        }
        var misfire = trigger.MisfireInstruction == CronTriggerMisfireInstruction.DoNothing ? MissedFiring.Skip : MissedFiring.RunOnce;
        var quartzForm = trigger.CronExpressionString ?? "";
        return new ScheduleInfo(name, trigger.Description ?? quartzForm, trigger.TimeZone.Id, quartzForm, state.ToString().ToLowerInvariant(),
            misfire, trigger.MisfireThreshold ?? DefaultMisfireThreshold, ScheduleEntry.Read(job).Redacted(), trigger.PreviousFireTimeUtc, next);
    }

    private async Task<ScheduleInfo> Existing(string name, CancellationToken cancel) =>
        await GetAsync(name, cancel) ?? throw new ExperimentsException(await Unknown(name, cancel));

    private async Task<string> Unknown(string name, CancellationToken cancel)
    {
        var names = (await _scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(Group), cancel)).Select(k => k.Name).ToList();
        return names.Count == 0
            ? $"There is no schedule '{name}': {Store} has no schedules (add one with `experiments schedule add FILE --cron \"0 3 * * *\"`)."
            : $"There is no schedule '{name}' in {Store}{(Core.Definitions.DefinitionValidator.Suggest(name, names) is { } close ? $"; did you mean '{close}'?" : "")}; its schedules: {string.Join(", ", names.Order(StringComparer.Ordinal))}.";
    }

    public async Task RemoveAsync(string name, CancellationToken cancel = default)
    {
        await Existing(name, cancel);
        await _scheduler.DeleteJob(Key(name), cancel);
    }

    public async Task<ScheduleInfo> PauseAsync(string name, CancellationToken cancel = default)
    {
        await Existing(name, cancel);
        await _scheduler.PauseJob(Key(name), cancel);
        return await Existing(name, cancel);
    }

    /// <summary>Resumes a paused schedule; firings missed while it was paused follow its <see cref="MissedFiring"/> policy.</summary>
    public async Task<ScheduleInfo> ResumeAsync(string name, CancellationToken cancel = default)
    {
        await Existing(name, cancel);
        await _scheduler.ResumeJob(Key(name), cancel);
        return await Existing(name, cancel);
    }

    /// <summary>The schedule's firings and missed firings, newest first, from Quartz's execution history in the store (every node's).</summary>
    public async Task<IReadOnlyList<ScheduleEvent>> HistoryAsync(string name, int limit = 50, CancellationToken cancel = default)
    {
        var known = await _scheduler.Exists(Key(name), cancel);
        var executions = await _history.QueryExecutions(new ExecutionHistoryQuery { SchedulerName = SchedulerName, Job = Key(name), Take = limit }, cancel);
        var misfires = await _history.QueryMisfires(new MisfireHistoryQuery { SchedulerName = SchedulerName, Job = Key(name), Take = limit }, cancel);
        if (!known && executions.Items.Count == 0 && misfires.Items.Count == 0) throw new ExperimentsException(await Unknown(name, cancel));
        var events = executions.Items.Select(e => new ScheduleEvent(e.FiredAtUtc, e.Manual ? "manual" : "fired", e.Succeeded,
                e.Summary ?? e.ExceptionMessage ?? (e.Succeeded ? "done" : "failed"), RunId(e.MetricsJson), e.SchedulerInstanceId, e.Duration))
            .Concat(misfires.Items.Select(m => new ScheduleEvent(m.MisfiredAtUtc, "missed", null,
                $"the firing due {m.ScheduledFireTimeUtc:u} was missed (no scheduler was up, or the previous run went on past the misfire threshold); the schedule's misfire policy applied",
                null, m.SchedulerInstanceId, null)))
            .OrderByDescending(e => e.At).Take(limit).ToList();
        return events;
    }

    private static long? RunId(string? metrics) =>
        metrics is not null && JsonDocument.Parse(metrics).RootElement.TryGetProperty("run", out var run) && run.TryGetInt64(out var id) ? id : null;

    /// <summary>
    /// Runs this scheduler node until <paramref name="cancel"/> fires: due firings start runs; firings missed while no
    /// node was up follow each schedule's policy. On cancellation, running runs are cancelled (their finished
    /// trials are kept) and the node shuts down.
    /// </summary>
    public async Task RunAsync(CancellationToken cancel)
    {
        using var exclusive = Store.IsPostgres ? null : OnlySchedulerOfFile();
        await _scheduler.Start(CancellationToken.None);
        _started = true;
        var log = _services.GetRequiredService<SchedulerLog>();
        log.Line($"scheduler node {Node} started on {Store}{(Store.IsPostgres ? " (clustered)" : "")}: {(await ListAsync(CancellationToken.None)).Count} schedule(s)");
        try
        {
            await Task.Delay(Timeout.Infinite, cancel);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            await _scheduler.Shutdown(waitForJobsToComplete: true, CancellationToken.None);
            log.Line($"scheduler node {Node} stopped");
        }
    }

    /// <summary>
    /// A SQLite store is not clustered: two schedulers on one file would both fire every schedule. The first holds an
    /// exclusive lock on a file beside it (released by the system when the process ends, however it ends).
    /// </summary>
    private FileStream OnlySchedulerOfFile()
    {
        var path = Store.Location + ".scheduler-lock";
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            var pid = System.Text.Encoding.UTF8.GetBytes($"{Environment.ProcessId}\n");
            stream.Write(pid);
            stream.Flush();
            return stream;
        }
        catch (IOException)
        {
            string holder;
            try
            {
                holder = File.ReadAllText(path).Trim();
            }
            catch (IOException)
            {
                holder = "?";
            }
            throw new ExperimentsException($"Another scheduler (process {holder}) runs on {Store} already; a SQLite schedule store has one scheduler. " +
                                           "Stop it first, or put the schedules in PostgreSQL (--schedules postgres://…) to run several nodes.");
        }
    }

    /// <summary>The node's id in the cluster (Quartz's instance id).</summary>
    public string Node => _scheduler.SchedulerInstanceId;

    public async ValueTask DisposeAsync()
    {
        if (!_started) await _scheduler.Shutdown(waitForJobsToComplete: false, CancellationToken.None);
        await _services.DisposeAsync();
    }
}
