using System.CommandLine;
using System.Globalization;
using Experiments.Core;
using Experiments.Scheduling;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>`schedule add|list|pause|resume|remove|history` and `scheduler`: scheduled runs on Quartz.NET (docs/scheduling.md).</summary>
internal static class ScheduleCommands
{
    private static readonly Option<string?> Schedules = new("--schedules")
    {
        Description = $"The schedule store: a SQLite file, or postgres://user:password@host:port/database for a cluster of scheduler nodes (else ${ScheduleStore.EnvironmentVariable}, else {ScheduleStore.DefaultFile}).",
    };

    public static void Add(RootCommand root)
    {
        var schedule = new Command("schedule", "Schedule experiment runs (cron), list, pause, resume and remove schedules, and show what they ran.");
        var name = new Argument<string>("NAME") { Description = "A schedule's name (see `experiments schedule list`)." };

        var add = new Command("add", "Schedule a definition: each firing of the cron expression runs it as `experiments run` would.") { new Argument<string>("FILE") { Description = "An experiment definition (experiments/*.json); checked now and at every firing." } };
        var file = (Argument<string>)add.Arguments[0];
        var cron = new Option<string>("--cron") { Description = "When to run: five crontab fields (\"0 3 * * 1\": 03:00 on Mondays) or Quartz's six with seconds first (\"0 0 3 ? * MON\").", Required = true };
        var zone = new Option<string?>("--time-zone") { Description = "The time zone the cron expression is read in, an IANA name (Europe/Berlin); default UTC." };
        var scheduleName = new Option<string?>("--name") { Description = "The schedule's name (default: the definition's name)." };
        var misfire = new Option<string>("--misfire") { Description = "A firing missed while no scheduler ran: run-once (run once as soon as a scheduler is up) or skip (wait for the next time).", DefaultValueFactory = _ => "run-once" };
        misfire.AcceptOnlyFromAmong("run-once", "skip");
        var misfireAfter = new Option<string?>("--misfire-after") { Description = "How late a firing may start before it counts as missed, e.g. 30s, 5m, 1h (default 1m)." };
        var store = new Option<string?>("--store") { Description = "The run store the runs go to: a SQLite file or postgres://user:password@host:port/database (default: the definition's output.store, read against this directory)." };
        var reports = new Option<string?>("--reports") { Description = "Folder for reports (default: the definition's output.reports, read against this directory)." };
        var replace = new Option<bool>("--replace") { Description = "Replace a schedule of the same name." };
        add.With(cron, zone, scheduleName, misfire, misfireAfter, store, reports, CommonOptions.DataDir, replace, Schedules, CommonOptions.Json, CommonOptions.Quiet);
        add.SetAction((parse, cancel) => CommonOptions.Guarded(parse, async output =>
        {
            var path = Path.GetFullPath(parse.GetValue(file)!);
            if (!File.Exists(path)) throw new ExperimentsException($"The definition file '{parse.GetValue(file)}' does not exist.");
            var definition = Experiments.Runs.Platform.Reader.ReadFile(path);
            var expression = CronSchedule.Parse(parse.GetValue(cron)!, parse.GetValue(zone));
            var here = Directory.GetCurrentDirectory();
            string? Full(string? p) => p is null ? null : Path.GetFullPath(p, here);
            var entry = new ScheduleEntry(path, here, parse.GetValue(store) is { } given ? Experiments.Store.RunStores.Resolve(given, here) : null, Full(parse.GetValue(reports)), Full(parse.GetValue(CommonOptions.DataDir)));
            await using var scheduler = await ExperimentScheduler.OpenAsync(ScheduleStore.Resolve(parse.GetValue(Schedules)), cancel: cancel);
            var info = await scheduler.AddAsync(parse.GetValue(scheduleName) ?? definition.Name, expression, entry,
                parse.GetValue(misfire) == "skip" ? MissedFiring.Skip : MissedFiring.RunOnce, parse.GetValue(misfireAfter) is { } after ? Duration(after, "--misfire-after") : null,
                parse.GetValue(replace), cancel);
            output.JsonResult(info);
            output.Line($"Scheduled [bold]{Markup.Escape(info.Name)}[/]: {Markup.Escape(info.Cron)} ({Markup.Escape(info.TimeZone)}; Quartz: {Markup.Escape(info.QuartzCron)}) in {Markup.Escape(scheduler.Store.Location)}");
            output.Line($"Next: {string.Join(", ", info.NextFires.Select(t => Markup.Escape(When(t, expression.TimeZone))))}");
            output.Line("[grey]Runs start while `experiments scheduler` runs with the same --schedules.[/]");
            return ExitCodes.Success;
        }));
        schedule.Subcommands.Add(add);

        var list = new Command("list", "List the schedules: cron, state, misfire policy, the next fire times and what they run.");
        list.With(Schedules, CommonOptions.Json, CommonOptions.Quiet);
        list.SetAction((parse, cancel) => CommonOptions.Guarded(parse, async output =>
        {
            await using var scheduler = await ExperimentScheduler.OpenAsync(ScheduleStore.Resolve(parse.GetValue(Schedules)), cancel: cancel);
            var schedules = await scheduler.ListAsync(cancel);
            output.JsonResult(schedules);
            if (schedules.Count == 0)
            {
                output.Line($"No schedules in {Markup.Escape(scheduler.Store.Location)}: add one with `experiments schedule add FILE --cron \"0 3 * * *\"`.");
                return ExitCodes.Success;
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumns("schedule", "cron", "state", "missed firings", "next (UTC)", "definition");
            foreach (var s in schedules)
                table.AddRow(Markup.Escape(s.Name), Markup.Escape($"{s.Cron} ({s.TimeZone})"), s.State == "paused" ? "[yellow]paused[/]" : Markup.Escape(s.State),
                    $"{(s.Misfire == MissedFiring.Skip ? "skip" : "run once")} after {Format(s.MisfireThreshold)}",
                    s.NextFires.Count == 0 ? "—" : Markup.Escape(string.Join("\n", s.NextFires.Select(t => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))) ),
                    Markup.Escape(s.Entry.Definition));
            output.Write(table);
            return ExitCodes.Success;
        }));
        schedule.Subcommands.Add(list);

        foreach (var (verb, description) in new[] { ("pause", "Pause a schedule: it fires no more until resumed."), ("resume", "Resume a paused schedule (a firing missed meanwhile follows its misfire policy)."), ("remove", "Remove a schedule (its runs stay in the run store).") })
        {
            var command = new Command(verb, description) { name };
            command.With(Schedules, CommonOptions.Json, CommonOptions.Quiet);
            command.SetAction((parse, cancel) => CommonOptions.Guarded(parse, async output =>
            {
                var target = parse.GetValue(name)!;
                await using var scheduler = await ExperimentScheduler.OpenAsync(ScheduleStore.Resolve(parse.GetValue(Schedules)), cancel: cancel);
                ScheduleInfo? info = verb switch
                {
                    "pause" => await scheduler.PauseAsync(target, cancel),
                    "resume" => await scheduler.ResumeAsync(target, cancel),
                    _ => null,
                };
                if (info is null) await scheduler.RemoveAsync(target, cancel);
                output.JsonResult(new { name = target, action = verb, schedule = info });
                output.Line($"Schedule [bold]{Markup.Escape(target)}[/] {(verb == "remove" ? "removed" : verb + "d")}" +
                            (info?.NextFires.FirstOrDefault() is { } next && next != default ? $"; next firing {Markup.Escape(next.UtcDateTime.ToString("u", CultureInfo.InvariantCulture))}" : "") + ".");
                return ExitCodes.Success;
            }));
            schedule.Subcommands.Add(command);
        }

        var history = new Command("history", "What a schedule ran, newest first: each firing's run and outcome (regressions included), failures, and firings missed or skipped.") { name };
        var limit = new Option<int>("--limit") { Description = "How many events to show.", DefaultValueFactory = _ => 50 };
        history.With(limit, Schedules, CommonOptions.Json, CommonOptions.Quiet);
        history.SetAction((parse, cancel) => CommonOptions.Guarded(parse, async output =>
        {
            await using var scheduler = await ExperimentScheduler.OpenAsync(ScheduleStore.Resolve(parse.GetValue(Schedules)), cancel: cancel);
            var events = await scheduler.HistoryAsync(parse.GetValue(name)!, parse.GetValue(limit), cancel);
            output.JsonResult(events);
            if (events.Count == 0)
            {
                output.Line($"Schedule {Markup.Escape(parse.GetValue(name)!)} has not fired yet.");
                return ExitCodes.Success;
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumns("at (UTC)", "event", "run", "outcome", "node");
            foreach (var e in events)
                table.AddRow(e.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), Markup.Escape(e.Kind), e.RunId?.ToString(CultureInfo.InvariantCulture) ?? "—",
                    (e.Succeeded == false ? "[red]" : e.Succeeded == true ? "[green]" : "[yellow]") + Markup.Escape(e.Summary) + "[/]", Markup.Escape(e.Node ?? "—"));
            output.Write(table);
            return ExitCodes.Success;
        }));
        schedule.Subcommands.Add(history);
        root.Subcommands.Add(schedule);

        var node = new Option<string?>("--node") { Description = "This node's id in a PostgreSQL cluster (default: generated by Quartz from the host name and the start time)." };
        var concurrent = new Option<int>("--concurrent-runs") { Description = "How many runs of different schedules this node runs at once.", DefaultValueFactory = _ => 1 };
        var scheduler = new Command("scheduler", "Run a scheduler node until stopped (Ctrl+C, SIGTERM): starts the runs that are due, catches up firings missed while down per each schedule's policy.");
        scheduler.With(node, concurrent, Schedules, CommonOptions.Quiet);
        scheduler.SetAction((parse, cancel) => CommonOptions.Guarded(parse, async output =>
        {
            if (parse.GetValue(concurrent) < 1) throw new ExperimentsException("--concurrent-runs must be at least 1.");
            var log = new SchedulerLog(line =>
            {
                if (!output.Quiet) Console.Out.WriteLine(line);
            });
            await using var instance = await ExperimentScheduler.OpenAsync(ScheduleStore.Resolve(parse.GetValue(Schedules)), log, parse.GetValue(node), parse.GetValue(concurrent), cancel);
            await instance.RunAsync(cancel);
            return ExitCodes.Success;
        }));
        root.Subcommands.Add(scheduler);
    }

    private static string When(DateTimeOffset utc, TimeZoneInfo zone) =>
        zone == TimeZoneInfo.Utc
            ? utc.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)
            : $"{TimeZoneInfo.ConvertTime(utc, zone):yyyy-MM-dd HH:mm:ss zzz} ({utc.UtcDateTime:HH:mm} UTC)";

    /// <summary>A duration as people write it: 90s, 5m, 2h, 1d.</summary>
    internal static TimeSpan Duration(string text, string option)
    {
        var units = new Dictionary<char, TimeSpan> { ['s'] = TimeSpan.FromSeconds(1), ['m'] = TimeSpan.FromMinutes(1), ['h'] = TimeSpan.FromHours(1), ['d'] = TimeSpan.FromDays(1) };
        if (text.Length >= 2 && units.TryGetValue(text[^1], out var unit) && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var count) && count > 0)
            return unit * count;
        throw new ExperimentsException($"{option} '{text}' is not a duration; write a positive number with s, m, h or d, e.g. 30s or 5m.");
    }

    private static string Format(TimeSpan span) =>
        span.TotalDays >= 1 && span.TotalDays % 1 == 0 ? $"{span.TotalDays:0}d" : span.TotalHours >= 1 && span.TotalHours % 1 == 0 ? $"{span.TotalHours:0}h"
        : span.TotalMinutes >= 1 && span.TotalMinutes % 1 == 0 ? $"{span.TotalMinutes:0}m" : $"{span.TotalSeconds:0.#}s";
}
