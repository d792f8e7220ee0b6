using System.CommandLine;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Download;
using Experiments.Datasets.Manifests;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>`datasets list|describe|pull|add`.</summary>
internal static class DatasetCommands
{
    public static void Add(RootCommand root)
    {
        var datasets = new Command("datasets", "The registered data sets: list, describe, pull, and add your own.");
        var name = new Argument<string>("NAME") { Description = "A data set name (see `experiments datasets list`)." };

        var list = new Command("list", "List the registered data sets and where each was found.");
        list.With(CommonOptions.DataDir, CommonOptions.Json, CommonOptions.Quiet);
        list.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var locations = DataDirectory.Resolve(parse.GetValue(CommonOptions.DataDir));
            var registry = DatasetRegistry.Default;
            var rows = registry.All.Select(m => new
            {
                m.Name, m.Title, m.Synthetic, m.Added,
                Location = m.Synthetic ? "generated" : DatasetLoader.Locate(m, locations) ?? "not present",
                m.Licence,
            }).ToList();
            output.JsonResult(new { locations, userManifests = DatasetRegistry.UserFolder, problems = registry.Problems, datasets = rows });
            var table = new Table().Border(TableBorder.Rounded).AddColumns("name", "title", "where");
            foreach (var row in rows)
                table.AddRow(Markup.Escape(row.Name), Markup.Escape(row.Title) + (row.Synthetic ? " [yellow](synthetic)[/]" : "") + (row.Added is not null ? " [blue](yours)[/]" : ""),
                    row.Location == "not present" ? (row.Added is null ? "[grey]not present — `datasets pull`[/]" : "[red]files missing — `datasets add` again[/]") : Markup.Escape(row.Location));
            output.Write(table);
            output.Line("[grey]Looked in: " + Markup.Escape(string.Join("; ", locations.Select(l => $"{l.Path} ({l.Origin})"))) + "[/]");
            output.Line($"[grey]Your data sets' manifests: {Markup.Escape(DatasetRegistry.UserFolder)} (`datasets add`)[/]");
            foreach (var problem in registry.Problems) output.Warning($"left out: {problem}");
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
            Fact("added", manifest.Added is null ? null : $"{manifest.Added} with `datasets add` (manifest in {DatasetRegistry.UserFolder})");
            Fact("location", folder);
            Fact("download", manifest.Download?.Archive ?? (manifest.Download is not null ? "per-file URLs (see manifest)" : manifest.ManualDownload));
            output.Write(grid);
            var tables = new Table().Border(TableBorder.Rounded).AddColumns("table", "role", "file", "columns");
            foreach (var t in manifest.Tables)
                tables.AddRow(Markup.Escape(t.Name + (t.Name == manifest.DefaultTable ? " (default)" : "")), t.Role.ToString().ToLowerInvariant(), Markup.Escape(t.File ?? "generated"),
                    Markup.Escape(ColumnList(t)));
            output.Write(tables);
            foreach (var split in manifest.Splits)
                output.Line($"[grey]predefined split[/] {Markup.Escape(split.Name)}: {Markup.Escape(split.Train)}{(split.Validation is null ? "" : " + " + Markup.Escape(split.Validation))} → {Markup.Escape(split.Test)}");
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
        datasets.Subcommands.Add(AddCommand());
        root.Subcommands.Add(datasets);
    }

    /// <summary>`datasets add NAME --from FILE...`: a manifest for the user's own files, so definitions can name them like a built-in data set.</summary>
    private static Command AddCommand()
    {
        var name = new Argument<string>("NAME") { Description = "The new data set's name (letters, digits, '.', '_', '-')." };
        var from = new Option<string[]>("--from")
        {
            Description = "The files: FILE (a table named after the file), or TABLE=FILE; tables train=, test= (and validation=) form the predefined split 'default'.",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var columns = new Option<string?>("--columns") { Description = "Roles by column name: user=…,item=…,rating=…,timestamp=…,label=… (roles not given are guessed from common names)." };
        var numeric = new Option<string?>("--numeric") { Description = "Classification: numeric feature columns, comma-separated (others are sniffed)." };
        var categorical = new Option<string?>("--categorical") { Description = "Classification: categorical feature columns, comma-separated." };
        var text = new Option<string?>("--text") { Description = "Classification: free-text feature columns, comma-separated." };
        var ignore = new Option<string?>("--ignore") { Description = "Columns that are neither roles nor features (row ids, notes), comma-separated." };
        var delimiter = new Option<string?>("--delimiter") { Description = "Field separator: , ; | or tab (\\t); default: sniffed from the first line." };
        var noHeader = new Option<bool>("--no-header") { Description = "The files have no header line; name the columns with --names." };
        var names = new Option<string?>("--names") { Description = "Column names in order, comma-separated, for files without a header." };
        var quote = new Option<string>("--quote") { Description = "Quote character (\" or ') or none.", DefaultValueFactory = _ => "\"" };
        var encoding = new Option<string>("--encoding") { Description = "utf-8, latin1 or windows-1252.", DefaultValueFactory = _ => "utf-8" };
        var title = new Option<string?>("--title") { Description = "Title shown by `datasets list`." };
        var description = new Option<string?>("--description") { Description = "What the data is." };
        var licence = new Option<string?>("--licence") { Description = "Terms of use of the data." };
        var force = new Option<bool>("--force") { Description = "Replace an existing manifest of the same name." };
        var add = new Command("add", $"Register your own files as a data set: writes a manifest (SHA-256 of each file, column types and roles) into {DatasetRegistry.UserFolder} (or ${DatasetRegistry.UserFolderVariable}).") { name };
        add.With(from, columns, numeric, categorical, text, ignore, delimiter, noHeader, names, quote, encoding, title, description, licence, force, CommonOptions.Json, CommonOptions.Quiet);
        add.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var datasetName = parse.GetValue(name)!;
            if (!System.Text.RegularExpressions.Regex.IsMatch(datasetName, "^[A-Za-z0-9][A-Za-z0-9._-]*$"))
                throw new ExperimentsException($"'{datasetName}' cannot name a data set: use letters, digits, '.', '_' and '-', starting with a letter or digit.");
            if (DatasetRegistry.BuiltIn.Contains(datasetName)) throw new ExperimentsException($"'{datasetName}' is a built-in data set; choose another name.");
            var manifestPath = Path.Combine(DatasetRegistry.UserFolder, datasetName + ".json");
            if (File.Exists(manifestPath) && !parse.GetValue(force))
                throw new ExperimentsException($"Data set '{datasetName}' exists already ({manifestPath}); add --force to replace it.");
            var files = parse.GetValue(from)!.SelectMany(List).Select(TableAndFile).ToList();
            foreach (var (_, file) in files)
                if (!File.Exists(file)) throw new ExperimentsException($"--from: no such file: {Path.GetFullPath(file)}");
            var fileEncoding = parse.GetValue(encoding)!;
            if (!FileFormat.Encodings.Contains(fileEncoding)) throw new ExperimentsException(DefinitionValidator.UnknownValue($"encoding '{fileEncoding}'", fileEncoding, FileFormat.Encodings));
            var quoteText = parse.GetValue(quote)!;
            if (!FileFormat.Quotes.Contains(quoteText)) throw new ExperimentsException(DefinitionValidator.UnknownValue($"quote '{quoteText}'", quoteText, FileFormat.Quotes));
            var given = parse.GetValue(delimiter);
            var format = new FileFormat
            {
                Delimiter = given is null ? DatasetSniffer.SniffDelimiter(files[0].Value, fileEncoding) : given is "\\t" or "tab" ? "\t" : given,
                Header = !parse.GetValue(noHeader),
                ColumnNames = parse.GetValue(names) is { } n ? List(n).ToList() : null,
                Quote = quoteText,
                Encoding = fileEncoding,
            };
            var roles = Roles(parse.GetValue(columns));
            var sniffed = DatasetSniffer.Sniff(new NewDataset
            {
                Name = datasetName,
                Files = files,
                Format = format,
                Columns = new ColumnRoles
                {
                    User = roles.GetValueOrDefault("user"), Item = roles.GetValueOrDefault("item"), Rating = roles.GetValueOrDefault("rating"),
                    Timestamp = roles.GetValueOrDefault("timestamp"), Label = roles.GetValueOrDefault("label"),
                    Numeric = List(parse.GetValue(numeric)).ToList(), Categorical = List(parse.GetValue(categorical)).ToList(), Text = List(parse.GetValue(text)).ToList(),
                },
                Ignored = List(parse.GetValue(ignore)).ToList(),
                Title = parse.GetValue(title), Description = parse.GetValue(description), Licence = parse.GetValue(licence),
            }, DateTimeOffset.UtcNow);
            Directory.CreateDirectory(DatasetRegistry.UserFolder);
            File.WriteAllText(manifestPath, DatasetRegistry.ToJson(sniffed.Manifest));
            var manifest = sniffed.Manifest;
            output.JsonResult(new { dataset = manifest.Name, manifestPath, manifest, warnings = sniffed.Warnings });
            foreach (var warning in sniffed.Warnings) output.Warning(warning);
            var tables = new Table().Border(TableBorder.Rounded).AddColumns("table", "role", "file", "columns (type, role)");
            foreach (var t in manifest.Tables)
                tables.AddRow(Markup.Escape(t.Name), t.Role.ToString().ToLowerInvariant(), Markup.Escape(t.File!),
                    Markup.Escape(ColumnList(t)));
            output.Write(tables);
            foreach (var split in manifest.Splits) output.Line($"[grey]predefined split[/] {Markup.Escape(split.Name)}: {Markup.Escape(split.Train)} → {Markup.Escape(split.Test)}");
            output.Line($"Added {Markup.Escape(manifest.Name)}: {Markup.Escape(manifestPath)}. Check the roles and types above; name it in a definition as \"dataset\": {{ \"name\": \"{Markup.Escape(manifest.Name)}\" }}.");
            return Task.FromResult(ExitCodes.Success);
        }));
        return add;
    }

    /// <summary>"name (type, role), …" of a table's columns.</summary>
    private static string ColumnList(TableManifest table) =>
        string.Join(", ", table.Columns.Select(c => $"{c.Name} ({c.Type.ToString().ToLowerInvariant()}{(c.Role is null ? "" : ", " + c.Role)})"));

    private static IEnumerable<string> List(string? text) =>
        (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>"TABLE=FILE", or "FILE" named after the file (letters, digits and '-' of its name without extension).</summary>
    private static KeyValuePair<string, string> TableAndFile(string argument)
    {
        var equals = argument.IndexOf('=');
        if (equals > 0 && !File.Exists(argument)) return new(argument[..equals], argument[(equals + 1)..]);
        var stem = new string(Path.GetFileNameWithoutExtension(argument).Select(c => char.IsLetterOrDigit(c) ? c : '-').ToArray());
        return new(stem.Length > 0 ? stem : "table", argument);
    }

    private static Dictionary<string, string> Roles(string? text)
    {
        var roles = new Dictionary<string, string>();
        foreach (var pair in List(text))
        {
            var equals = pair.IndexOf('=');
            string[] allowed = ["user", "item", "rating", "timestamp", "label"];
            if (equals <= 0 || !allowed.Contains(pair[..equals]))
                throw new ExperimentsException($"--columns: '{pair}' is not ROLE=COLUMN with a role among {string.Join(", ", allowed)} (feature columns go to --numeric, --categorical, --text)");
            roles[pair[..equals]] = pair[(equals + 1)..];
        }
        return roles;
    }
}
