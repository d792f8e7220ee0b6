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
            output.JsonResult(runs.Select(r => new { r.Id, r.Experiment, r.Status, r.Dataset, r.DatasetSynthetic, r.Seed, r.StartedAt, r.EndedAt, r.Trials, r.Error }));
            var table = new Table().Border(TableBorder.Rounded).AddColumns("run", "experiment", "status", "data set", "trials", "started (UTC)", "duration");
            foreach (var r in runs)
                table.AddRow(r.Id.ToString(), Markup.Escape(r.Experiment), Tables.Status(r.Status), Markup.Escape(r.Dataset) + (r.DatasetSynthetic ? " [yellow](synthetic)[/]" : ""),
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

        var report = new Command("report", "Write a run's report (Markdown or JSON) from the store.") { runId };
        var format = new Option<string>("--format") { Description = "markdown or json.", DefaultValueFactory = _ => "markdown" };
        format.AcceptOnlyFromAmong("markdown", "json");
        var outDir = new Option<string?>("--out") { Description = "Folder to write to (default: the run's report folder, reports/run-N-UID)." };
        report.With(CommonOptions.Store, format, outDir, CommonOptions.Json, CommonOptions.Quiet);
        report.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            using var store = OpenExisting(parse.GetValue(CommonOptions.Store)!);
            var details = store.GetRun(parse.GetValue(runId));
            var folder = parse.GetValue(outDir) ?? details.Run.ReportFolder ?? Path.Combine("reports", details.Run.ReportFolderName);
            string path;
            try
            {
                path = ReportWriter.Write(details, parse.GetValue(format)!, folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new Core.ExperimentsException($"Cannot write the report to {Path.GetFullPath(folder)} ({e.Message}); pass --out DIR to write it elsewhere.");
            }
            output.JsonResult(new { run = details.Run.Id, report = path });
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

    /// <summary>Reading commands open the store read-only when it cannot be written (a shared or archived store).</summary>
    private static RunStore OpenExisting(string store) => RunStores.OpenExisting(store);
}
