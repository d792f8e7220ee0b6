using System.CommandLine;
using Experiments.Datasets;
using Experiments.Datasets.Download;
using Experiments.Datasets.Manifests;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>`datasets list|describe|pull`.</summary>
internal static class DatasetCommands
{
    public static void Add(RootCommand root)
    {
        var datasets = new Command("datasets", "The registered data sets: list, describe, pull.");
        var name = new Argument<string>("NAME") { Description = "A data set name (see `experiments datasets list`)." };

        var list = new Command("list", "List the registered data sets and where each was found.");
        list.With(CommonOptions.DataDir, CommonOptions.Json, CommonOptions.Quiet);
        list.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var locations = DataDirectory.Resolve(parse.GetValue(CommonOptions.DataDir));
            var rows = DatasetRegistry.Default.All.Select(m => new
            {
                m.Name, m.Title, m.Synthetic,
                Location = m.Synthetic ? "generated" : DatasetLoader.Locate(m, locations) ?? "not present",
                m.Licence,
            }).ToList();
            output.JsonResult(new { locations, datasets = rows });
            var table = new Table().Border(TableBorder.Rounded).AddColumns("name", "title", "where");
            foreach (var row in rows)
                table.AddRow(Markup.Escape(row.Name), Markup.Escape(row.Title) + (row.Synthetic ? " [yellow](synthetic)[/]" : ""),
                    row.Location == "not present" ? "[grey]not present — `datasets pull`[/]" : Markup.Escape(row.Location));
            output.Write(table);
            output.Line("[grey]Looked in: " + Markup.Escape(string.Join("; ", locations.Select(l => $"{l.Path} ({l.Origin})"))) + "[/]");
            return Task.FromResult(ExitCodes.Success);
        }));
        datasets.Subcommands.Add(list);

        var describe = new Command("describe", "Describe a data set: source, licence, files, tables, checks.") { name };
        describe.With(CommonOptions.DataDir, CommonOptions.Json, CommonOptions.Quiet);
        describe.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var manifest = DatasetRegistry.Default.Get(parse.GetValue(name)!);
            var folder = manifest.Synthetic ? "generated in memory" : DatasetLoader.Locate(manifest, DataDirectory.Resolve(parse.GetValue(CommonOptions.DataDir))) ?? "not present";
            output.JsonResult(new { manifest, location = folder });
            var grid = new Grid().AddColumn().AddColumn();
            void Fact(string key, string? value) { if (value is not null) grid.AddRow($"[grey]{key}[/]", Markup.Escape(value)); }
            Fact("name", manifest.Name + (manifest.Synthetic ? " (SYNTHETIC)" : ""));
            Fact("title", manifest.Title);
            Fact("description", manifest.Description);
            Fact("licence", manifest.Licence);
            Fact("homepage", manifest.Homepage);
            Fact("cite", manifest.Citation);
            Fact("location", folder);
            Fact("download", manifest.Download?.Archive ?? (manifest.Download is not null ? "per-file URLs (see manifest)" : manifest.ManualDownload));
            output.Write(grid);
            var tables = new Table().Border(TableBorder.Rounded).AddColumns("table", "role", "file", "columns");
            foreach (var t in manifest.Tables)
                tables.AddRow(Markup.Escape(t.Name + (t.Name == manifest.DefaultTable ? " (default)" : "")), t.Role.ToString().ToLowerInvariant(), Markup.Escape(t.File ?? "generated"),
                    Markup.Escape(string.Join(", ", t.Columns.Select(c => c.Role is null ? c.Name : $"{c.Name}:{c.Role}"))));
            output.Write(tables);
            foreach (var split in manifest.Splits) output.Line($"[grey]predefined split[/] {Markup.Escape(split.Name)}: {Markup.Escape(split.Train)} → {Markup.Escape(split.Test)}");
            return Task.FromResult(ExitCodes.Success);
        }));
        datasets.Subcommands.Add(describe);

        var pull = new Command("pull", "Download a data set from its official source and verify its checksums.") { name };
        pull.With(CommonOptions.DataDir, CommonOptions.Json, CommonOptions.Quiet);
        pull.SetAction((parse, cancel) => CommonOptions.Guarded(parse, async output =>
        {
            var manifest = DatasetRegistry.Default.Get(parse.GetValue(name)!);
            // Never into the shared, read-only folder: the first explicit location, else the user cache.
            var target = DataDirectory.Resolve(parse.GetValue(CommonOptions.DataDir)).First(l => !l.Origin.StartsWith("shared", StringComparison.Ordinal)).Path;
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
            http.DefaultRequestHeaders.UserAgent.ParseAdd("experiments-cli/1.0");
            var progress = new Progress<string>(message => output.Line($"[grey]{Markup.Escape(message)}[/]"));
            var files = await new DatasetDownloader(http).PullAsync(manifest, target, progress, cancel);
            output.JsonResult(new { dataset = manifest.Name, folder = Path.Combine(target, manifest.Folder ?? manifest.Name), files });
            foreach (var file in files)
                output.Line(file.Verified
                    ? $"[green]verified[/] {Markup.Escape(file.Path)} ({file.Bytes:N0} bytes, SHA-256 {file.Sha256[..12]}…)"
                    : $"[yellow]no recorded checksum[/] {Markup.Escape(file.Path)} ({file.Bytes:N0} bytes): SHA-256 {file.Sha256}");
            output.Line($"Pulled {Markup.Escape(manifest.Name)} into {Markup.Escape(Path.Combine(target, manifest.Folder ?? manifest.Name))}");
            return ExitCodes.Success;
        }));
        datasets.Subcommands.Add(pull);
        root.Subcommands.Add(datasets);
    }
}
