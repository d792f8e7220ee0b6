using System.CommandLine;
using Experiments.Core.Definitions;
using Experiments.Reports;
using Experiments.Runs;
using Experiments.Store;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>`run`, `validate` and `schema`.</summary>
internal static class RunCommands
{
    public static void Add(RootCommand root)
    {
        var file = new Argument<string>("FILE") { Description = "An experiment definition (experiments/*.json)." };
        var storeOverride = new Option<string?>("--store") { Description = "The run store: a SQLite file or postgres://… (default: the definition's output.store)." };
        var reports = new Option<string?>("--reports") { Description = "Folder for reports (default: the definition's output.reports)." };

        var run = new Command("run", "Run an experiment: load, split, fit, evaluate, record, report.") { file };
        run.With(storeOverride, reports, ClusterCommands.SubmitOption, CommonOptions.DataDir, CommonOptions.Quiet, CommonOptions.Json);
        run.SetAction((parse, cancel) => CommonOptions.Guarded(parse, async output =>
        {
            var path = parse.GetValue(file)!;
            var definition = Platform.Reader.ReadFile(path);
            var cluster = parse.GetValue(ClusterCommands.SubmitOption);
            var storeName = parse.GetValue(storeOverride) ?? cluster ?? definition.Output.Store;
            using var store = RunStores.Open(storeName);
            var runner = new ExperimentRunner(store);
            var options = new RunOptions { DataDirectory = parse.GetValue(CommonOptions.DataDir), Source = path, ReportDirectory = parse.GetValue(reports) };
            output.Line($"[bold]{Markup.Escape(definition.Name)}[/] on [bold]{Markup.Escape(definition.Dataset.Name)}[/]{(definition.Dataset.Files is not null ? " (your files)" : Platform.Vocabulary.Datasets.First(d => d.Name == definition.Dataset.Name).IsSynthetic ? " [yellow](SYNTHETIC data)[/]" : "")}: " +
                        $"{definition.Models.Count} model(s), split {Markup.Escape(definition.Split.Method)}, seed {definition.Seed}");
            RunOutcome outcome;
            if (cluster is null) outcome = await RunWithProgress(runner, definition, options, output, cancel);
            else
            {
                using var client = await Cluster.Cluster.ConnectAsync(cluster, cancel);
                outcome = await ExperimentRunner.RunElsewhereAsync(definition, options with { Observer = new LineObserver(output) }, storeName,
                    payload => Cluster.ClusterSweeps.Executor(client, store.Location, RemoteWork.RunObjective, payload, RemoteWork.FromJson(payload).Gpu), cancel);
            }
            var details = store.GetRun(outcome.RunId);
            if (output.Json) output.JsonResult(new { outcome.RunId, outcome.Status, store = store.Location, outcome.Reports, outcome.ReportError, trials = details.Trials, dataIssues = details.DataIssues, regression = outcome.Regression });
            else
            {
                output.Write(Tables.Results(details));
                output.Line($"Run [bold]{outcome.RunId}[/] {Tables.Status(outcome.Status)} — stored in {Markup.Escape(store.Location)}");
                foreach (var report in outcome.Reports) output.Line($"Report: {Markup.Escape(report)}");
                if (outcome.Regression is { Regressed: not true } check) output.Line($"[grey]regression check: {Markup.Escape(check.Summary)}[/]");
            }
            if (outcome.Regressed) output.Error($"run {outcome.RunId} {outcome.Regression!.Summary}");
            if (outcome.ReportError is { } reportError) output.Error(reportError);
            if (outcome.Status == RunStatus.Failed)
                output.Error($"run {outcome.RunId}: {outcome.Trials.Count(t => t.Status == "failed")} of {outcome.Trials.Count} trial(s) failed; the others are kept in {store.Location}.");
            return outcome.Status switch
            {
                RunStatus.Cancelled => ExitCodes.Cancelled,
                _ when outcome.ReportError is not null => ExitCodes.ReportFailed,
                RunStatus.Finished when outcome.Regressed => ExitCodes.Regressed,
                RunStatus.Finished => ExitCodes.Success,
                _ => ExitCodes.RunFailed,
            };
        }));
        root.Subcommands.Add(run);

        var validate = new Command("validate", "Check an experiment definition without running it: its fields, and what the data set's manifest rules out.") { file };
        var withData = new Option<bool>("--with-data") { Description = "Also load the data set and check what needs its rows (every split leaves training and test rows; leave-last-n's n against the users' histories)." };
        validate.With(withData, CommonOptions.DataDir, CommonOptions.Json, CommonOptions.Quiet);
        validate.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var path = parse.GetValue(file)!;
            try
            {
                var definition = Platform.Reader.ReadFile(path);
                if (parse.GetValue(withData))
                    DefinitionDataCheck.Check(definition, File.ReadAllText(path), path, new Experiments.Datasets.DatasetLoader(), parse.GetValue(CommonOptions.DataDir));
                output.JsonResult(new { valid = true, file = path, hash = DefinitionWriter.Hash(definition), dataChecked = parse.GetValue(withData) });
                output.Line($"[green]valid[/]: {Markup.Escape(path)} ({definition.Models.Count} model(s), {definition.Metrics.Count} metric(s), data set {Markup.Escape(definition.Dataset.Name)})");
                if (!parse.GetValue(withData) && definition.Split.Method == "leave-last-n")
                    output.Line($"[grey]whether users have more than {definition.Split.N} row(s) for leave-last-n needs the data: add --with-data[/]");
                return Task.FromResult(ExitCodes.Success);
            }
            catch (DefinitionException e) when (output.Json)
            {
                output.JsonResult(new { valid = false, file = path, errors = e.Errors });
                return Task.FromResult(ExitCodes.InvalidInput);
            }
        }));
        root.Subcommands.Add(validate);

        var schema = new Command("schema", "Print the JSON Schema of experiment definitions (experiments/experiment.schema.json).");
        schema.SetAction(_ => { Console.Out.Write(Platform.Schema); return ExitCodes.Success; });
        root.Subcommands.Add(schema);
    }

    private static async Task<RunOutcome> RunWithProgress(ExperimentRunner runner, ExperimentDefinition definition, RunOptions options, Output output, CancellationToken cancel)
    {
        if (!output.Human || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            var observer = new LineObserver(output);
            return await Task.Run(() => runner.Run(definition, options with { Observer = observer }, cancel), CancellationToken.None);
        }
        return await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var observer = new ProgressObserver(context, output);
                return await Task.Run(() => runner.Run(definition, options with { Observer = observer }, cancel), CancellationToken.None);
            });
    }

    /// <summary>A failed model is an error on standard error, whatever else is shown (also with --quiet).</summary>
    private static void ReportFailure(Output output, TrialResult result)
    {
        if (result.Status == "failed") output.Error($"model {result.Model} ({result.Split}) failed: {result.Error}");
    }

    /// <summary>Progress as plain lines, for logs and pipes.</summary>
    private sealed class LineObserver(Output output) : IRunObserver
    {
        public void Stage(string message) => output.Line(Markup.Escape(message));
        public void Progress(string step, double fraction) { }
        public void TrialFinished(TrialResult result) => ReportFailure(output, result);
        public void Warning(string message) => output.Warning(message);
    }

    /// <summary>One progress bar per stage.</summary>
    private sealed class ProgressObserver(ProgressContext context, Output output) : IRunObserver
    {
        private ProgressTask? _current;

        public void Stage(string message)
        {
            lock (this)
            {
                _current?.StopTask();
                if (_current is not null) _current.Value = _current.MaxValue;
                _current = context.AddTask(Markup.Escape(message), maxValue: 1);
                _current.IsIndeterminate = true;
            }
        }

        public void Progress(string step, double fraction)
        {
            lock (this)
                if (_current is not null)
                {
                    _current.IsIndeterminate = false;
                    _current.Value = fraction;
                }
        }

        public void TrialFinished(TrialResult result)
        {
            lock (this)
                if (_current is not null)
                {
                    _current.Value = 1;
                    _current.StopTask();
                }
            ReportFailure(output, result);
        }

        public void Warning(string message) => output.Warning(message);
    }
}
