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
        var storeOverride = new Option<string?>("--store") { Description = "The SQLite run store (default: the definition's output.store)." };
        var reports = new Option<string?>("--reports") { Description = "Folder for reports (default: the definition's output.reports)." };

        var run = new Command("run", "Run an experiment: load, split, fit, evaluate, record, report.") { file };
        run.With(storeOverride, reports, CommonOptions.DataDir, CommonOptions.Quiet, CommonOptions.Json);
        run.SetAction((parse, cancel) => CommonOptions.Guarded(parse, async output =>
        {
            var path = parse.GetValue(file)!;
            var definition = Platform.Reader.ReadFile(path);
            using var store = SqliteRunStore.Open(parse.GetValue(storeOverride) ?? definition.Output.Store);
            var runner = new ExperimentRunner(store);
            var options = new RunOptions { DataDirectory = parse.GetValue(CommonOptions.DataDir), Source = path, ReportDirectory = parse.GetValue(reports) };
            output.Line($"[bold]{Markup.Escape(definition.Name)}[/] on [bold]{Markup.Escape(definition.Dataset.Name)}[/]{(definition.Dataset.Files is not null ? " (your files)" : Platform.Vocabulary.Datasets.First(d => d.Name == definition.Dataset.Name).IsSynthetic ? " [yellow](SYNTHETIC data)[/]" : "")}: " +
                        $"{definition.Models.Count} model(s), split {Markup.Escape(definition.Split.Method)}, seed {definition.Seed}");
            var outcome = await RunWithProgress(runner, definition, options, output, cancel);
            var details = store.GetRun(outcome.RunId);
            if (output.Json) output.JsonResult(new { outcome.RunId, outcome.Status, store = store.Location, outcome.Reports, trials = details.Trials, dataIssues = details.DataIssues });
            else
            {
                output.Write(Tables.Results(details));
                output.Line($"Run [bold]{outcome.RunId}[/] {Tables.Status(outcome.Status)} — stored in {Markup.Escape(store.Location)}");
                foreach (var report in outcome.Reports) output.Line($"Report: {Markup.Escape(report)}");
            }
            return outcome.Status switch
            {
                RunStatus.Finished => ExitCodes.Success,
                RunStatus.Cancelled => ExitCodes.Cancelled,
                _ => ExitCodes.RunFailed,
            };
        }));
        root.Subcommands.Add(run);

        var validate = new Command("validate", "Check an experiment definition without running it.") { file };
        validate.With(CommonOptions.Json, CommonOptions.Quiet);
        validate.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var path = parse.GetValue(file)!;
            try
            {
                var definition = Platform.Reader.ReadFile(path);
                output.JsonResult(new { valid = true, file = path, hash = DefinitionWriter.Hash(definition) });
                output.Line($"[green]valid[/]: {Markup.Escape(path)} ({definition.Models.Count} model(s), {definition.Metrics.Count} metric(s), data set {Markup.Escape(definition.Dataset.Name)})");
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

    /// <summary>Progress as plain lines, for logs and pipes.</summary>
    private sealed class LineObserver(Output output) : IRunObserver
    {
        public void Stage(string message) => output.Line(Markup.Escape(message));
        public void Progress(string step, double fraction) { }
        public void TrialFinished(TrialResult result) { }
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
        }

        public void Warning(string message) => output.Warning(message);
    }
}
