using System.CommandLine;
using Experiments.Reports;
using Experiments.Runs;
using Experiments.Store;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>`list`, `show`, `compare` and `report`: read the store, never train; `store copy` moves runs between stores.</summary>
internal static class StoreCommands
{
    public static void Add(RootCommand root)
    {
        var runId = new Argument<long>("RUN") { Description = "A run id (see `experiments list`)." };
        var runIds = new Argument<long[]>("RUN") { Description = "Two or more run ids.", Arity = new ArgumentArity(2, 100) };

        var list = new Command("list", "List the runs in the store, newest first.");
        var limit = new Option<int>("--limit") { Description = "How many runs to show.", DefaultValueFactory = _ => 50 };
        var experiment = new Option<string?>("--experiment") { Description = "Only runs of this experiment." };
        list.With(CommonOptions.Store, limit, experiment, CommonOptions.Json, CommonOptions.Quiet);
        list.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            using var store = OpenExisting(parse.GetValue(CommonOptions.Store)!);
            RunReports.SettleAbandoned(store, output.Warning);
            var runs = store.ListRuns(parse.GetValue(limit), parse.GetValue(experiment));
            output.JsonResult(runs.Select(r => new { r.Id, r.Experiment, r.Status, r.Regressed, r.Dataset, r.DatasetSynthetic, r.Seed, r.StartedAt, r.EndedAt, r.Trials, r.Error }));
            var table = new Table().Border(TableBorder.Rounded).AddColumns("run", "experiment", "status", "data set", "trials", "started (UTC)", "duration");
            foreach (var r in runs)
                table.AddRow(r.Id.ToString(), Markup.Escape(r.Experiment), Tables.Status(r.Status) + (r.Regressed == true ? " [red]regressed[/]" : ""), Markup.Escape(r.Dataset) + (r.DatasetSynthetic ? " [yellow](synthetic)[/]" : ""),
                    r.Trials.ToString(), r.StartedAt.ToString("yyyy-MM-dd HH:mm:ss"), r.EndedAt is { } end ? $"{(end - r.StartedAt).TotalSeconds:F1} s" : "—");
            if (runs.Count == 0) output.Line($"No runs in {Markup.Escape(store.Location)} yet: try `experiments run experiments/quickstart.json`.");
            else output.Write(table);
            return Task.FromResult(ExitCodes.Success);
        }));
        root.Subcommands.Add(list);

        var show = new Command("show", "Show one run: results, data checks, provenance.") { runId };
        show.With(CommonOptions.Store, CommonOptions.Json, CommonOptions.Quiet);
        show.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            using var store = OpenExisting(parse.GetValue(CommonOptions.Store)!);
            RunReports.SettleAbandoned(store, output.Warning);
            var details = store.GetRun(parse.GetValue(runId));
            output.JsonResult(details);
            var run = details.Run;
            output.Write(Tables.Results(details));
            var facts = new Grid().AddColumn().AddColumn();
            void Fact(string name, string? value) => facts.AddRow($"[grey]{name}[/]", Markup.Escape(value ?? "—"));
            facts.AddRow("[grey]status[/]", Tables.Status(run.Status) + (run.Error is null ? "" : " " + Markup.Escape(run.Error)));
            Fact("data set", $"{run.Dataset}{(run.DatasetSynthetic ? " (SYNTHETIC)" : "")} — {run.DatasetOrigin}");
            Fact("seed", run.Seed.ToString());
            Fact("definition", $"{run.DefinitionHash[..12]}… {run.Source}");
            Fact("data fingerprint", run.DataFingerprint);
            if (details.Regression is { } regression) facts.AddRow("[grey]regression check[/]", (regression.Regressed == true ? "[red]regressed[/] " : "") + Markup.Escape(regression.Summary));
            Fact("git commit", run.GitDescription);
            Fact("reports", run.ReportFolder);
            Fact("machine", run.Machine);
            Fact("started", run.StartedAt.ToString("u"));
            Fact("ended", run.EndedAt?.ToString("u"));
            output.Write(facts);
            foreach (var issue in details.DataIssues)
                output.Line($"[yellow]data check[/] {Markup.Escape(issue.Kind)}: {issue.Count:N0} (e.g. {Markup.Escape($"{issue.ExampleFile}:{issue.ExampleLine} {issue.Example}")})");
            if (details.Comparisons.Count > 0) output.Write(Tables.Comparisons(details.Comparisons, $"paired tests against {details.Comparisons[0].Baseline}"));
            foreach (var artifact in details.Artifacts) output.Line($"[grey]artifact[/] {Markup.Escape(artifact.Kind)}: {Markup.Escape(artifact.Path)}");
            return Task.FromResult(ExitCodes.Success);
        }));
        root.Subcommands.Add(show);

        var compare = new Command("compare", "Compare the metrics of several runs side by side.") { runIds };
        var samples = new Option<int?>("--samples") { Description = "Resamples of the paired bootstrap and permutation test (default: the first run's evaluation.bootstrapSamples)." };
        compare.With(CommonOptions.Store, samples, CommonOptions.Json, CommonOptions.Quiet);
        compare.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            using var store = OpenExisting(parse.GetValue(CommonOptions.Store)!);
            var runs = parse.GetValue(runIds)!.Select(store.GetRun).ToList();
            RunComparison.RequireComparable(runs);
            var tables = runs.Select(ResultTable.From).ToList();
            var metrics = tables.SelectMany(t => t.Metrics).Distinct().ToList();
            // Paired tests of each later run against the first, model by model, where both saw the same test units.
            var paired = runs.Skip(1).Select(r => RunComparison.Paired(store, runs[0], r, parse.GetValue(samples))).ToList();
            output.JsonResult(new
            {
                runs = runs.Zip(tables, (r, t) => new { run = r.Run.Id, r.Run.Experiment, r.Run.Dataset, r.Run.DataFingerprint, rows = t.Rows }),
                paired = paired.SelectMany(p => p.Comparisons),
                skipped = paired.SelectMany(p => p.Skipped),
            });
            var table = new Table().Border(TableBorder.Rounded).AddColumns("run", "data set", "model");
            foreach (var metric in metrics) table.AddColumn(new TableColumn(Markup.Escape(metric)).RightAligned());
            foreach (var (run, result) in runs.Zip(tables))
                foreach (var row in result.Rows)
                    table.AddRow([run.Run.Id.ToString(), Markup.Escape(run.Run.Dataset), Markup.Escape(row.Model),
                        .. metrics.Select(m => row.Cells.TryGetValue(m, out var c) ? Markup.Escape(c.FormatCompact()) : "—")]);
            if (runs.Select(r => r.Run.DataFingerprint).Distinct().Count() > 1)
                output.Warning("these runs saw different data (their data fingerprints differ): compare with care.");
            output.Write(table);
            var comparisons = paired.SelectMany(p => p.Comparisons).ToList();
            if (comparisons.Count > 0) output.Write(Tables.Comparisons(comparisons, $"paired tests against run {runs[0].Run.Id} (same model, same test units)"));
            foreach (var skip in paired.SelectMany(p => p.Skipped)) output.Line($"[grey]not paired: {Markup.Escape(skip)}[/]");
            return Task.FromResult(ExitCodes.Success);
        }));
        root.Subcommands.Add(compare);

        var report = new Command("report", "Write a report from the store: of one run, a comparison of runs (--compare), the trend of an experiment's runs (--trend), or a sweep (--sweep).");
        var reportRun = new Argument<long?>("RUN") { Description = "A run id (see `experiments list`).", Arity = ArgumentArity.ZeroOrOne };
        var format = new Option<string>("--format") { Description = "markdown (the default), html (one offline file with charts), json, or pdf (printed from the HTML by headless Chromium).", DefaultValueFactory = _ => "markdown" };
        format.AcceptOnlyFromAmong([.. ReportWriter.Formats]);
        var outDir = new Option<string?>("--out") { Description = "Folder to write to (default: the run's report folder, reports/run-N-UID; for --compare and --trend, reports/)." };
        var compareRuns = new Option<long[]>("--compare") { Description = "Two or more run ids to report side by side, with paired tests where they share a split.", AllowMultipleArgumentsPerToken = true };
        var trend = new Option<string?>("--trend") { Description = "An experiment's name: its runs over time, each metric with its interval, data fingerprint and commit." };
        var sweepId = new Option<long?>("--sweep") { Description = "A sweep id (printed by `experiments sweep`): its trials, history with best-so-far, parameter importance, parallel coordinates and the refit's test result → sweep-ID.*" };
        report.Arguments.Add(reportRun);
        report.With(CommonOptions.Store, format, outDir, compareRuns, trend, sweepId, samples, CommonOptions.Json, CommonOptions.Quiet);
        report.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var compared = parse.GetValue(compareRuns) ?? [];
            var trendOf = parse.GetValue(trend);
            var id = parse.GetValue(reportRun);
            var sweepOf = parse.GetValue(sweepId);
            var asked = (id is not null ? 1 : 0) + (compared.Length > 0 ? 1 : 0) + (trendOf is not null ? 1 : 0) + (sweepOf is not null ? 1 : 0);
            if (asked != 1)
                throw new Core.ExperimentsException("Name what to report: a RUN id, or --compare RUN RUN..., or --trend EXPERIMENT, or --sweep ID (one of the four).");
            if (compared.Length == 1)
                throw new Core.ExperimentsException("--compare needs two or more run ids; for one run, name it without --compare.");
            using var store = OpenExisting(parse.GetValue(CommonOptions.Store)!);
            var chosen = parse.GetValue(format)!;
            string path;
            try
            {
                if (id is { } one)
                {
                    var details = store.GetRun(one);
                    path = ReportWriter.Write(details, chosen, parse.GetValue(outDir) ?? ReportFolder(details));
                }
                else if (sweepOf is { } sweep)
                {
                    var content = SweepReport.From(store, sweep, store);
                    var folder = parse.GetValue(outDir) ?? (content.Sweep.RunId is { } owner ? ReportFolder(store.GetRun(owner)) : "reports");
                    path = ReportWriter.WriteSweep(content, chosen, folder);
                }
                else if (compared.Length > 0)
                {
                    var content = RunSetReports.Compare(store, compared.Select(store.GetRun).ToList(), parse.GetValue(samples));
                    path = ReportWriter.WriteDocument(chosen, parse.GetValue(outDir) ?? "reports", $"compare-{string.Join("-", compared)}",
                        () => RunSetReports.Document(content), () => System.Text.Json.JsonSerializer.Serialize(content, ReportWriter.JsonOptions));
                }
                else
                {
                    var content = RunSetReports.Trend(store, trendOf!);
                    path = ReportWriter.WriteDocument(chosen, parse.GetValue(outDir) ?? "reports", $"trend-{RunArtifacts.FileName(trendOf!)}",
                        () => RunSetReports.Document(content), () => System.Text.Json.JsonSerializer.Serialize(content, ReportWriter.JsonOptions));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new Core.ExperimentsException($"Cannot write the report ({e.Message}); pass --out DIR to write it elsewhere.");
            }
            output.JsonResult(new { run = id, compare = compared, trend = trendOf, sweep = sweepOf, report = path });
            output.Line($"Report: {Markup.Escape(path)}");
            return Task.FromResult(ExitCodes.Success);
        }));
        root.Subcommands.Add(report);

        var copyFrom = new Argument<string>("FROM") { Description = "The store to copy from: a SQLite file or postgres://…" };
        var copyTo = new Argument<string>("TO") { Description = "The store to copy into (created if needed): a SQLite file or postgres://…" };
        var copy = new Command("copy", "Copy every run and sweep from one store into another (runs already there are skipped).") { copyFrom, copyTo };
        copy.With(CommonOptions.Json, CommonOptions.Quiet);
        copy.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            using var from = OpenExisting(parse.GetValue(copyFrom)!);
            using var to = RunStores.Open(parse.GetValue(copyTo)!);
            var copied = from.CopyTo(to);
            output.JsonResult(copied);
            output.Line($"Copied {copied.RunsCopied} runs and {copied.SweepsCopied} sweeps from {Markup.Escape(from.Location)} to {Markup.Escape(to.Location)}" +
                (copied.RunsAlreadyThere + copied.SweepsAlreadyThere > 0 ? $" ({copied.RunsAlreadyThere} runs and {copied.SweepsAlreadyThere} sweeps were there already)." : "."));
            return Task.FromResult(ExitCodes.Success);
        }));
        root.Subcommands.Add(new Command("store", "Manage run stores.") { copy });
    }

    /// <summary>The folder a run's reports go to by default: the one it recorded, else reports/run-N-UID.</summary>
    private static string ReportFolder(RunDetails details) => details.Run.ReportFolder ?? Path.Combine("reports", details.Run.ReportFolderName);

    /// <summary>Reading commands open the store read-only when it cannot be written (a shared or archived store).</summary>
    private static RunStore OpenExisting(string store) => RunStores.OpenExisting(store);
}
