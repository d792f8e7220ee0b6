using System.CommandLine;
using System.Globalization;
using Experiments.Core;
using Experiments.Reports;
using Experiments.Runs;
using Experiments.Store;
using Experiments.Sweeps;
using Spectre.Console;
using SweepTrial = Experiments.Sweeps.TrialResult;

namespace Experiments.Cli;

/// <summary>`sweep`: tune a definition's models, refit the best on training + validation, test it once.</summary>
internal static class SweepCommands
{
    public static void Add(RootCommand root)
    {
        var file = new Argument<string>("FILE") { Description = "An experiment definition with a \"sweep\" block (experiments/sweep-*.json)." };
        var resume = new Option<long?>("--resume") { Description = "Continue stored sweep ID (stopped or killed) with the same definition: its finished trials are kept and replayed into the tuner." };
        var storeOverride = new Option<string?>("--store") { Description = "The run store: a SQLite file or postgres://… (default: the cluster's PostgreSQL with --cluster, else the definition's output.store)." };
        var parallel = new Option<int?>("--parallel") { Description = "Trials at once (default: the sweep block's parallelism, else the cores divided by the threads one trial of the models uses)." };
        var takeOver = new Option<bool>("--take-over") { Description = "With --resume: continue a sweep that a shared store marks running on another machine, when its process there no longer runs." };
        var trials = new Option<int?>("--trials") { Description = "Trials in all (overrides the sweep block's \"trials\"; a resumed sweep counts its stored trials)." };
        var tuner = new Option<string?>("--tuner") { Description = $"Overrides the sweep block's tuner: {string.Join(", ", Experiments.Sweeps.Tuners.TunerCatalog.Names)}." };
        var seed = new Option<int?>("--seed") { Description = "Overrides the sweep block's seed (of the tuner and the trials)." };
        var reports = new Option<string?>("--reports") { Description = "Folder for reports (default: the definition's output.reports)." };
        var sweep = new Command("sweep", "Tune an experiment's models: trials scored on validation data (or k folds), the best configuration refitted on training + validation and evaluated once on the test part, saved as a run.") { file };
        sweep.With(resume, takeOver, storeOverride, parallel, trials, tuner, seed, reports, ClusterCommands.SubmitOption, CommonOptions.DataDir, CommonOptions.Quiet, CommonOptions.Json);
        sweep.SetAction((parse, cancel) => CommonOptions.Guarded(parse, async output =>
        {
            var path = parse.GetValue(file)!;
            var definition = Platform.Reader.ReadFile(path);
            if (definition.Sweep is null) throw new ExperimentsException($"{path}: the definition has no \"sweep\" block; add one (see docs/sweeps.md), or run it with `experiments run`.");
            var cluster = parse.GetValue(ClusterCommands.SubmitOption);
            using var store = RunStores.Open(parse.GetValue(storeOverride) ?? cluster ?? definition.Output.Store);
            using var client = cluster is null ? null : await Cluster.Cluster.ConnectAsync(cluster, cancel);
            // On the cluster, trials at once default to its slots (a resumed sweep keeps its own: proposals depend on it).
            var parallelism = parse.GetValue(parallel) ?? (client is null || parse.GetValue(resume) is not null ? null : definition.Sweep.Parallelism ?? await Cluster.ClusterSweeps.SlotsAsync(client));
            var runner = new ExperimentRunner(store);
            var options = new RunOptions { DataDirectory = parse.GetValue(CommonOptions.DataDir), Source = path, ReportDirectory = parse.GetValue(reports), Observer = new Stages(output) };
            var spec = definition.Sweep with { Tuner = parse.GetValue(tuner) ?? definition.Sweep.Tuner };
            output.Line($"[bold]{Markup.Escape(definition.Name)}[/]: sweeping {string.Join(", ", definition.Models.Select(m => Markup.Escape(m.Name)))} with {spec.Tuner}, " +
                        $"{(spec.Maximizes(definition.Metrics) ? "maximising" : "minimising")} {spec.MetricOf(definition.Metrics)} on {(spec.Objective == Core.Definitions.SweepSpec.KFold ? $"{spec.Folds} folds" : "the validation part")}");
            var sweepOptions = new SweepRunOptions
            {
                Resume = parse.GetValue(resume), TakeOver = parse.GetValue(takeOver), Parallelism = parallelism, TrialProcess = ThisProgram,
                Remote = client is null ? null : payload => Cluster.ClusterSweeps.Executor(client, store.Location, RemoteWork.SweepTrialObjective, payload, RemoteWork.FromJson(payload).Gpu), Trials = parse.GetValue(trials), Tuner = parse.GetValue(tuner), Seed = parse.GetValue(seed),
                Progress = new TrialLines(output, spec.MetricOf(definition.Metrics).ToString(), parse.GetValue(trials) ?? spec.Trials),
                Started = id => output.Line($"sweep [bold]{id}[/] in {Markup.Escape(store.Location)} (after a stop: experiments sweep {Markup.Escape(path)} --resume {id})"),
            };
            var outcome = await Task.Run(() => runner.Sweep(definition, options, sweepOptions, cancel), CancellationToken.None);
            var result = outcome.Sweep;
            var leaderboard = result.Leaderboard(10);
            // Seeded as the sweep's report is: with the sweep's stored seed (the block's or --seed).
            var importance = result.Importance(((Experiments.Sweeps.ISweepStorage)store).GetSweep(result.SweepId).Seed);
            // The result is the refit this process did: a resumed sweep's run also keeps the attempt a stop or a
            // dead process cut short (cancelled, killed), which stays in its history and report but is not the result.
            var stored = store.GetRun(outcome.RunId);
            var details = stored with { Trials = stored.Trials.Where(t => t.Id == outcome.Refit?.TrialId).ToList() };
            output.JsonResult(new
            {
                outcome.RunId, sweepId = result.SweepId, outcome.Status, stop = result.Stop.ToString(), store = store.Location, objective = result.Objective.ToString(),
                trials = result.Trials.Count, elapsedSeconds = result.Elapsed.TotalSeconds,
                best = result.Best is { } b ? new { b.Number, b.Value, b.Parameters, b.Metrics } : null,
                leaderboard = leaderboard.Select(t => new { t.Number, t.Value, t.Parameters, t.Metrics, t.Seconds }),
                importance, history = result.History(), refit = details.Trials, outcome.Reports, outcome.ReportError,
            });
            if (output.Human)
            {
                var board = new Table().Border(TableBorder.Rounded).AddColumn("trial").AddColumn(Markup.Escape(result.Objective.Metric)).AddColumn("seconds").AddColumn("parameters");
                board.Title = new TableTitle($"Leaderboard ({result.Trials.Count(t => t.Status == TrialStatus.Completed)} of {result.Trials.Count} trials completed, {result.Objective} on {(spec.Objective == Core.Definitions.SweepSpec.KFold ? "k folds" : "validation")})");
                foreach (var t in leaderboard) board.AddRow(t.Number.ToString(CultureInfo.InvariantCulture), MetricCell.Number(t.Value!.Value, 4), t.Seconds.ToString("F1", CultureInfo.InvariantCulture), Markup.Escape(t.Parameters.ToString()));
                output.Write(board);
                if (importance.Count > 0)
                {
                    var table = new Table().Border(TableBorder.Rounded).AddColumn("parameter").AddColumn("importance (fANOVA)").AddColumn("scope");
                    foreach (var i in importance) table.AddRow(Markup.Escape(i.Parameter), i.Importance.ToString("F3", CultureInfo.InvariantCulture), Markup.Escape(i.Scope ?? "all trials"));
                    output.Write(table);
                }
                if (outcome.Refit is not null)
                {
                    output.Line("[bold]Refit of the best configuration on training + validation, evaluated once on the test part:[/]");
                    output.Write(Tables.Results(details));
                }
                output.Line($"Run [bold]{outcome.RunId}[/] {Tables.Status(outcome.Status)} — sweep {result.SweepId} stored in {Markup.Escape(store.Location)}");
                foreach (var report in outcome.Reports) output.Line($"Report: {Markup.Escape(report)}");
            }
            if (outcome.Status == RunStatus.Cancelled)
                output.Error($"sweep {result.SweepId} stopped after {result.FinishedCount} finished trial(s){ExperimentRunner.InFlight(result)}" + (result.Best is { } best ? $"; best so far: trial {best.Number}, {result.Objective.Metric} {MetricCell.Number(best.Value!.Value, 4)} ({best.Parameters})" : "") +
                             $"; continue it with: experiments sweep {path} --resume {result.SweepId}");
            if (outcome.ReportError is { } reportError) output.Error(reportError);
            return outcome.Status switch
            {
                RunStatus.Cancelled => ExitCodes.Cancelled,
                RunStatus.Failed => ExitCodes.RunFailed,
                _ when outcome.ReportError is not null => ExitCodes.ReportFailed,
                _ => ExitCodes.Success,
            };
        }));
        root.Subcommands.Add(sweep);

        // The child a memory-limited sweep starts for each trial (ExperimentRunner.RunTrialProcess); not for people.
        var work = new Argument<string>("WORK");
        var scratch = new Argument<string>("SCRATCH-STORE");
        var child = new Command(TrialCommand, "Run one sweep trial given on standard input (started by `experiments sweep` for a memory-limited sweep).") { work, scratch };
        child.Hidden = true;
        child.SetAction(parse => ExperimentRunner.RunTrialProcess(parse.GetValue(work)!, parse.GetValue(scratch)!));
        root.Subcommands.Add(child);
    }

    private const string TrialCommand = "sweep-trial";

    /// <summary>This program, started as a sweep's child trial.</summary>
    private static TrialProcess ThisProgram => TrialProcess.Dotnet(typeof(SweepCommands).Assembly.Location, TrialCommand);

    /// <summary>One line per finished trial: its status, value, the best so far and its parameters.</summary>
    private sealed class TrialLines(Output output, string metric, int budget) : ISweepObserver
    {
        private readonly object _gate = new();
        private int _finished;

        public void TrialFinished(SweepTrial result, SweepTrial? best)
        {
            var value = result.Value is { } v ? MetricCell.Number(v, 4) : "—";
            var interval = result.Metrics.GetValueOrDefault(metric) is { Lower: { } lower, Upper: { } upper } && result.Status == TrialStatus.Completed ? $" [[{MetricCell.Number(lower, 4)}, {MetricCell.Number(upper, 4)}]]" : "";
            var status = result.Status == TrialStatus.Completed ? "[green]completed[/]" : $"[yellow]{result.Status.Name()}[/]";
            var error = result.Error is { } e ? $" [red]{Markup.Escape(e)}[/]" : "";
            lock (_gate)
                output.Line($"trial {result.Number} ({Interlocked.Increment(ref _finished)}/{budget}) {status} {value}{interval} in {result.Seconds:F1} s; best {(best?.Value is { } b ? MetricCell.Number(b, 4) : "—")} " +
                            $"(trial {(best is null ? "—" : best.Number.ToString(CultureInfo.InvariantCulture))}) [grey]{Markup.Escape(result.Parameters.ToString())}[/]{error}");
        }
    }

    /// <summary>The run's stages (loading, splitting, the refit) as plain lines; trials are silent (their lines come from the sweep).</summary>
    private sealed class Stages(Output output) : IRunObserver
    {
        public void Stage(string message) => output.Line($"[grey]{Markup.Escape(message)}[/]");
        public void Progress(string step, double fraction) { }
        public void TrialFinished(Runs.TrialResult result)
        {
            if (result.Status == "failed") output.Error($"the refit of {result.Model} failed: {result.Error}");
        }
        public void Warning(string message) => output.Warning(message);
    }
}
