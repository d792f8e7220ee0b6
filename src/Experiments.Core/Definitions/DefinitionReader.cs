using System.Globalization;

namespace Experiments.Core.Definitions;

/// <summary>Reads an experiment definition: parse, check against the vocabulary, then bind to <see cref="ExperimentDefinition"/>.</summary>
public sealed class DefinitionReader
{
    private readonly DefinitionVocabulary _vocabulary;
    private readonly ObjectShape _shape;

    public DefinitionReader(DefinitionVocabulary vocabulary)
    {
        _vocabulary = vocabulary;
        _shape = DefinitionShape.Build(vocabulary);
    }

    /// <summary>Reads a definition file; the data set's own files resolve against the file's folder.</summary>
    public ExperimentDefinition ReadFile(string path)
    {
        if (!File.Exists(path)) throw new ExperimentsException($"{path}: no such experiment definition file.");
        return Read(File.ReadAllText(path), path, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>
    /// Parses and validates; throws <see cref="DefinitionException"/> listing every problem. Own files resolve against
    /// <paramref name="baseDirectory"/> (default: the working directory).
    /// </summary>
    public ExperimentDefinition Read(string json, string source, string? baseDirectory = null)
    {
        baseDirectory = Path.GetFullPath(baseDirectory ?? Directory.GetCurrentDirectory());
        var root = JsonTree.Parse(json, source);
        var errors = DefinitionValidator.Validate(root, _shape);
        if (errors.Count == 0) CrossCheck(root, baseDirectory, errors);
        if (errors.Count > 0) throw new DefinitionException(source, errors);
        return Bind(root, baseDirectory);
    }

    /// <summary>Rules that span several fields: models and metrics must suit the task, names must be unique.</summary>
    private void CrossCheck(JsonTree root, string baseDirectory, List<DefinitionError> errors)
    {
        var task = root["task"]!.Text!;
        var models = root["models"]!.Items;
        var names = new Dictionary<string, int>();
        for (var i = 0; i < models.Count; i++)
        {
            var type = models[i]["type"]!;
            var descriptor = _vocabulary.Models.First(m => m.Type == type.Text);
            if (!descriptor.Tasks.Contains(task))
                errors.Add(new($"$.models[{i}].type", type.Line, type.Column,
                    $"model '{type.Text}' cannot do task '{task}'; it does: {string.Join(", ", descriptor.Tasks)}. Models for '{task}': {string.Join(", ", _vocabulary.Models.Where(m => m.Tasks.Contains(task)).Select(m => m.Type))}"));
            var name = models[i]["name"] ?? type;
            if (names.TryGetValue(name.Text!, out var first))
                errors.Add(new($"$.models[{i}].name", name.Line, name.Column,
                    $"two models are named '{name.Text}' (the other is models[{first}]); give each a distinct \"name\""));
            else names[name.Text!] = i;
        }
        var metrics = root["metrics"]!.Items;
        for (var i = 0; i < metrics.Count; i++)
        {
            var metric = MetricName.Find(_vocabulary.Metrics, MetricName.Parse(metrics[i].Text!))!;
            if (!metric.Tasks.Contains(task))
                errors.Add(new($"$.metrics[{i}]", metrics[i].Line, metrics[i].Column,
                    $"metric '{metrics[i].Text}' does not apply to task '{task}'; metrics for '{task}': {string.Join(", ", _vocabulary.Metrics.Where(m => m.Tasks.Contains(task)).Select(m => m.RequiresK ? m.Name + "@K" : m.Name))}"));
        }
        var derived = root["dataset"]!["clicksFromRatings"];
        if (derived is not null && task != "classification")
            errors.Add(new("$.dataset.clicksFromRatings", derived.Line, derived.Column, "clicksFromRatings derives a click log: it belongs to task 'classification'"));
        var method = root["split"]?["method"];
        if (task == "classification" && method is not null && method.Text is not ("random" or "stratified" or "k-fold" or "predefined"))
            errors.Add(new("$.split.method", method.Line, method.Column, $"split method '{method.Text}' needs users and times; for task 'classification' use random, stratified (by label) or k-fold (or predefined, with train and test files)"));
        if (root["dataset"]!["files"] is { } files)
        {
            if (task != "search" && root["search"] is { } search)
                errors.Add(new("$.search", search.Line, search.Column, $"\"search\" belongs to task 'search', not '{task}'"));
            CrossCheckFiles(root, task, baseDirectory, errors);
        }
        else CrossCheckRegistered(root, task, errors);
        CrossCheckEncoders(root, task, errors);
        CrossCheckHybrid(root, task, names, errors);
        SweepDefinition.CrossCheck(root, _vocabulary, errors);
        var baseline = root["evaluation"]?["baseline"];
        if (baseline is not null && !names.ContainsKey(baseline.Text!))
            errors.Add(new("$.evaluation.baseline", baseline.Line, baseline.Column,
                DefinitionValidator.UnknownValue($"baseline model '{baseline.Text}'", baseline.Text!, names.Keys.ToList())));
        if (root["regression"] is { } regression) CrossCheckRegression(root, regression, names.Keys.ToList(), errors);
    }

    /// <summary>A regression rule watches one of the definition's metrics and models, with the settings its rule reads.</summary>
    private static void CrossCheckRegression(JsonTree root, JsonTree regression, IReadOnlyList<string> models, List<DefinitionError> errors)
    {
        void Error(string key, JsonTree at, string message) => errors.Add(new($"$.regression{key}", at.Line, at.Column, message));
        var metric = regression["metric"]!;
        var metrics = root["metrics"]!.Items.Select(m => m.Text!).ToList();
        if (!metrics.Contains(metric.Text!))
            Error(".metric", metric, $"the rule watches '{metric.Text}', which this definition does not compute" +
                (DefinitionValidator.Suggest(metric.Text!, metrics) is { } close ? $"; did you mean '{close}'?" : "") + $"; its metrics: {string.Join(", ", metrics)}");
        var rule = regression["rule"]?.Text ?? RegressionRule.NotSignificantlyWorse;
        if (regression["model"] is { } model && !models.Contains(model.Text!))
            Error(".model", model, DefinitionValidator.UnknownValue($"model '{model.Text}'", model.Text!, models));
        if (rule == RegressionRule.NotSignificantlyWorse)
        {
            if (regression["tolerance"] is { } tolerance)
                Error(".tolerance", tolerance, $"\"tolerance\" belongs to rule '{RegressionRule.NotWorse}'; rule '{rule}' decides by the paired test at level alpha");
            // Coverage describes all lists at once: it has no per-user values to pair (UnitStatistics has no form for it).
            if (MetricName.Parse(metric.Text!).Name == "coverage")
                Error(".metric", metric, $"coverage describes all users' lists at once, so it has no per-user values for the paired test; use rule '{RegressionRule.NotWorse}' for it");
            var samples = root["evaluation"]?["bootstrapSamples"]?.Number ?? 200;
            var alpha = regression["alpha"]?.Number ?? 0.05;
            if (samples == 0 && MetricName.Parse(metric.Text!).Name != "auc")
                Error(".rule", regression["rule"] ?? regression, $"rule '{rule}' uses the paired permutation test, which evaluation.bootstrapSamples = 0 turns off; set bootstrapSamples, or use rule '{RegressionRule.NotWorse}'");
            else if (samples > 0 && alpha <= 1 / (samples + 1))
                Error(".alpha", regression["alpha"] ?? regression, $"alpha {alpha.ToString(CultureInfo.InvariantCulture)} is at or below the smallest p-value {samples} resamples can give (1 / {samples + 1}), so no run could ever count as regressed; raise evaluation.bootstrapSamples above {Math.Ceiling(1 / alpha)} or raise alpha");
        }
        else if (regression["alpha"] is { } alpha)
            Error(".alpha", alpha, $"\"alpha\" belongs to rule '{RegressionRule.NotSignificantlyWorse}'; rule '{rule}' compares the values, allowing \"tolerance\"");
    }

    /// <summary>A registered data set: its tables, item categories and predefined splits must fit the task and the split.</summary>
    private void CrossCheckRegistered(JsonTree root, string task, List<DefinitionError> errors)
    {
        var dataset = _vocabulary.Datasets.First(d => d.Name == root["dataset"]!["name"]!.Text);
        var metrics = root["metrics"]!.Items;
        for (var i = 0; i < metrics.Count; i++)
            if (MetricName.Parse(metrics[i].Text!).Name == "diversity" && !dataset.HasItemCategories)
                errors.Add(new($"$.metrics[{i}]", metrics[i].Line, metrics[i].Column,
                    $"metric 'diversity' compares items by category, but data set '{dataset.Name}' has no item categories"));
        var table = root["dataset"]!["table"];
        var derived = root["dataset"]!["clicksFromRatings"];
        if (task == "classification" && derived is not null)
        {
            if (table is not null && !dataset.InteractionTables.Contains(table.Text!))
                errors.Add(new("$.dataset.table", table.Line, table.Column, $"clicksFromRatings derives clicks from an interaction table; use: {string.Join(", ", dataset.InteractionTables)}"));
        }
        else if (task == "classification")
        {
            if (dataset.LabelledTables.Count == 0)
                errors.Add(new("$.dataset.name", root["dataset"]!["name"]!.Line, root["dataset"]!["name"]!.Column, $"data set '{dataset.Name}' has no labelled table, so it cannot be used for task 'classification' as it is; add \"clicksFromRatings\" to derive a click log from its ratings"));
            else if (table is not null && !dataset.LabelledTables.Contains(table.Text!))
                errors.Add(new("$.dataset.table", table.Line, table.Column, $"table '{table.Text}' has no label; for task 'classification' use: {string.Join(", ", dataset.LabelledTables)}"));
        }
        else if (task == "search")
        {
            if (table is not null)
                errors.Add(new("$.dataset.table", table.Line, table.Column, "task 'search' reads the data set's search tables; choose the judgements with \"search\": { \"judgements\": … } instead of \"table\""));
        }
        else if (table is not null && !dataset.InteractionTables.Contains(table.Text!))
            errors.Add(new("$.dataset.table", table.Line, table.Column, $"table '{table.Text}' is not an interaction table; for task '{task}' use: {string.Join(", ", dataset.InteractionTables)}"));
        var method = root["split"]?["method"];
        if (task is "ranking" or "rating" or "hybrid" && method?.Text != "predefined") CrossCheckTable(root, task, dataset, errors);
        CrossCheckSearch(root, task, dataset, errors);
        if (method?.Text == "predefined")
        {
            var split = root["split"]!["name"];
            if (split is null)
                errors.Add(new("$.split", root["split"]!.Line, root["split"]!.Column, dataset.PredefinedSplits.Count == 0
                    ? $"data set '{dataset.Name}' has no predefined splits; use another split method"
                    : $"split method 'predefined' needs \"name\": one of {string.Join(", ", dataset.PredefinedSplits)}"));
            else if (!dataset.PredefinedSplits.Contains(split.Text!))
                errors.Add(new("$.split.name", split.Line, split.Column, dataset.PredefinedSplits.Count == 0
                    ? $"data set '{dataset.Name}' has no predefined splits; use another split method"
                    : DefinitionValidator.UnknownValue($"predefined split '{split.Text}' of '{dataset.Name}'", split.Text!, dataset.PredefinedSplits)));
        }
    }

    /// <summary>
    /// Own files: which files (one table, or train and test), that each exists, which columns the task needs, and a
    /// split that fits the files (train and test files fix it; a table is cut by the definition's split).
    /// </summary>
    private static void CrossCheckFiles(JsonTree root, string task, string baseDirectory, List<DefinitionError> errors)
    {
        var dataset = root["dataset"]!;
        void Error(string path, JsonTree at, string message) => errors.Add(new(path, at.Line, at.Column, message));
        var files = dataset["files"]!;
        var (table, train, validation, test) = (files["table"], files["train"], files["validation"], files["test"]);
        var (catalogue, judgements, clicks) = (files[DataFiles.CatalogueKey], files[DataFiles.JudgementsKey], files[DataFiles.ClicksKey]);
        if (task == "search")
        {
            if ((table ?? train ?? validation ?? test) is { } other)
                Error("$.dataset.files", other, "task 'search' reads a product catalogue and its judgements: give \"catalogue\" and \"judgements\" or \"clicks\" (the split cuts the queries), not \"table\", \"train\", \"validation\" or \"test\"");
            else if (catalogue is null)
                Error("$.dataset.files", files, "task 'search' needs \"catalogue\" (the products): it is missing");
            else if (judgements is not null && clicks is not null)
                Error("$.dataset.files.clicks", clicks, "give \"judgements\" (graded: query, product, relevance) or \"clicks\" (a click log: query, product, position, clicked, from which judgements are derived), not both");
            else if (judgements is null && clicks is null)
                Error("$.dataset.files", files, "task 'search' needs \"judgements\" (query, product, relevance) or \"clicks\" (query, product, position, clicked) beside \"catalogue\": neither is given");
        }
        else if ((catalogue ?? judgements ?? clicks) is { } searchFile)
            Error("$.dataset.files", searchFile, $"\"catalogue\", \"judgements\" and \"clicks\" are the files of task 'search', not '{task}'");
        else if (table is null && train is null && test is null)
            Error("$.dataset.files", files, "give \"table\" (one file that the split cuts) or \"train\" and \"test\" (and optionally \"validation\")");
        else if (table is not null && (train ?? validation ?? test) is { } other)
            Error("$.dataset.files.table", table, $"\"table\" is one file that the split cuts, \"train\" / \"validation\" / \"test\" fix the split themselves: give one or the other, not both (line {other.Line} has one of the latter)");
        else if (table is null && (train is null || test is null))
            Error("$.dataset.files", files, $"train and test files come together: \"{(train is null ? "train" : "test")}\" is missing");
        var format = dataset["format"];
        CheckFormat(format, null, "$.dataset.format", dataset, errors);
        // The files that read their column names from the shared format's list (no header line, no list of their own).
        var sharedNames = new List<string>();
        var unnamed = new HashSet<string>();
        foreach (var property in files.Properties)
        {
            var at = $"$.dataset.files.{property.Name}";
            var own = property.Value.Kind == JsonKind.Object ? property.Value["format"] : null;
            if (own is not null) CheckFormat(own, format, $"{at}.format", own, errors);
            if ((own?["header"] ?? format?["header"])?.Kind == JsonKind.False && own?["columnNames"] is null)
            {
                sharedNames.Add(property.Name);
                // Said once, where "header": false is written.
                var (where, whereAt) = own?["header"] is not null ? (own, $"{at}.format") : (format!, "$.dataset.format");
                if (format?["columnNames"] is null && unnamed.Add(whereAt))
                    Error(whereAt, where, "files without a header (\"header\": false) need \"columnNames\": the names of their columns in order");
            }
            var path = FilePath(property.Value);
            if (property.Value.Kind == JsonKind.Object) at += ".path";
            var resolved = Path.GetFullPath(path.Text!, baseDirectory);
            if (Directory.Exists(resolved))
                Error(at, path, $"'{path.Text}' is a folder, not a file (resolved to {resolved})");
            else if (!File.Exists(resolved))
                Error(at, path, $"no such file: {resolved}" +
                    (Path.IsPathRooted(path.Text!) ? "" : $" (relative paths resolve against {baseDirectory}, the definition's folder)"));
        }
        var names = sharedNames.Count > 0 ? format?["columnNames"] : null;

        var columns = dataset["columns"]!;
        // Each file's columns have one role each; a search catalogue and its judgements are two files with their own columns.
        var roles = new Dictionary<(bool, string), string>();
        foreach (var property in columns.Properties)
        {
            var entries = property.Value.Kind == JsonKind.Array
                ? property.Value.Items.Select((v, k) => (Key: $"{property.Name}[{k}]", Node: v))
                : [(Key: property.Name, Node: property.Value)];
            // The judgements file or the click log (only one is given).
            var judgementsFile = ColumnRoles.JudgementRoles.Contains(property.Name) || ColumnRoles.ClickRoles.Contains(property.Name);
            foreach (var (key, node) in entries)
            {
                if (roles.TryGetValue((judgementsFile, node.Text!), out var first))
                    Error($"$.dataset.columns.{key}", node, $"column '{node.Text}' already has role {first}; give each column one role");
                else roles[(judgementsFile, node.Text!)] = key;
                if (names is not null && names.Items.All(n => n.Text != node.Text))
                    Error($"$.dataset.columns.{key}", node, $"column '{node.Text}' is not among format.columnNames ({string.Join(", ", names.Items.Select(n => n.Text))})");
            }
        }
        if (task == "search")
        {
            CrossCheckSearchColumns(root, columns, sharedNames, errors);
            return;
        }
        foreach (var role in ColumnRoles.CatalogueRoles.Where(r => r != "item").Concat(ColumnRoles.JudgementRoles).Union(ColumnRoles.ClickRoles).Where(r => columns[r] is not null))
            Error($"$.dataset.columns.{role}", columns[role]!, $"\"{role}\" is a column of a search catalogue, judgements file or click log: it belongs to task 'search', not '{task}'");
        var derived = dataset["clicksFromRatings"];
        var interactions = task != "classification" || derived is not null;
        var needed = interactions ? new List<string> { "user", "item" } : ["label"];
        if (task == "rating") needed.Add("rating");
        foreach (var role in needed.Where(r => columns[r] is null))
            Error("$.dataset.columns", columns, $"task '{task}'{(derived is null ? "" : " with clicksFromRatings")} needs column \"{role}\": the name of the column that holds the {role}{(role == "label" ? " (0 or 1)" : "")}");
        if (interactions)
            foreach (var role in new[] { "label", "numeric", "categorical", "text" }.Where(r => columns[r] is not null))
                Error($"$.dataset.columns.{role}", columns[role]!, $"\"{role}\" columns are click-model features: they belong to task 'classification'{(derived is null ? "" : " on a labelled table, not to clicksFromRatings")}");
        if (!interactions && columns["rating"] is { } rating)
            Error("$.dataset.columns.rating", rating, "task 'classification' predicts the label; to use the rating as a feature list it under \"numeric\"");
        if (dataset["ratingScale"] is { } scale)
        {
            if (columns["rating"] is null) Error("$.dataset.ratingScale", scale, "ratingScale checks the ratings, but no \"rating\" column is named");
            else if (scale["min"]!.Number >= scale["max"]!.Number) Error("$.dataset.ratingScale", scale, $"min ({scale["min"]!.Text}) must be less than max ({scale["max"]!.Text})");
        }

        var metrics = root["metrics"]!.Items;
        for (var i = 0; i < metrics.Count; i++)
            if (MetricName.Parse(metrics[i].Text!).Name == "diversity")
                Error($"$.metrics[{i}]", metrics[i], "metric 'diversity' compares items by category; own files have no item catalogue, so use a registered data set with item categories");
        var split = root["split"];
        var method = split?["method"];
        if (train is not null || test is not null)
        {
            if (derived is not null)
                Error("$.dataset.clicksFromRatings", derived, "clicksFromRatings derives clicks from one table: use \"files\": { \"table\": … } with it");
            if (method is not null && method.Text != "predefined")
                Error("$.split.method", method, $"the train and test files fix the split, so split method '{method.Text}' cannot apply: remove \"split\", or write {{ \"method\": \"predefined\", \"validationFraction\": 0.1 }} to carve validation rows from the training file");
            if (split?["name"] is { } name && name.Text != DataFiles.SplitName)
                Error("$.split.name", name, $"the split of own train and test files is named '{DataFiles.SplitName}'; leave \"name\" out");
            if (validation is not null && split?["validationFraction"] is { Number: > 0 } fraction)
                Error("$.split.validationFraction", fraction, "the validation file holds the validation rows already; remove validationFraction or the validation file");
        }
        else if (method?.Text == "predefined")
            Error("$.split.method", method, "one table has no predefined split: give \"train\" and \"test\" files instead of \"table\", or choose another split method");
    }

    /// <summary>
    /// A file format's own rules: only files without a header line may have column names; the delimiter holds no line
    /// break and not the quote. A file's own format (<paramref name="shared"/> given) inherits what it leaves out.
    /// </summary>
    private static void CheckFormat(JsonTree? format, JsonTree? shared, string at, JsonTree where, List<DefinitionError> errors)
    {
        void Error(string path, JsonTree node, string message) => errors.Add(new(path, node.Line, node.Column, message));
        var header = (format?["header"] ?? shared?["header"])?.Kind != JsonKind.False;
        if (header && format?["columnNames"] is { } unused)
            Error($"{at}.columnNames", unused, "\"columnNames\" names the columns of files without a header line; with \"header\": true the names come from the header (set \"header\": false, or remove \"columnNames\")");
        var delimiter = format?["delimiter"] ?? shared?["delimiter"];
        var quote = (format?["quote"] ?? shared?["quote"])?.Text ?? "\"";
        // A file's own format re-checks the pair only when it changes one of them.
        if ((shared is null || format?["delimiter"] is not null || format?["quote"] is not null)
            && delimiter?.Text is { } d && (d.Contains('\n') || d.Contains('\r') || (quote != FileFormat.NoQuote && d.Contains(quote))))
            Error(format?["delimiter"] is null ? at : $"{at}.delimiter", format?["delimiter"] ?? format ?? where, $"the delimiter must not contain a line break or the quote character ({quote})");
    }

    /// <summary>
    /// Search on own files: the catalogue's id and title and the judgements' query and relevance columns are named, no
    /// column of another task is, and the models, judgement source and split suit what the files hold.
    /// </summary>
    private static void CrossCheckSearchColumns(JsonTree root, JsonTree columns, IReadOnlyList<string> sharedNames, List<DefinitionError> errors)
    {
        if (sharedNames.Count == 2 && root["dataset"]!["format"]?["header"] is { Kind: JsonKind.False } header)
            errors.Add(new("$.dataset.format.header", header.Line, header.Column, "a catalogue and its judgements have different columns, so one \"columnNames\" list cannot describe both; give each file its own header line, or its own \"format\": { \"header\": false, \"columnNames\": [ … ] }"));
        var given = root["dataset"]!["files"]!;
        var clicks = given[DataFiles.ClicksKey] is not null;
        // Which columns a file needs is said once it is clear which file it is (the files' error says the rest).
        var known = clicks != (given[DataFiles.JudgementsKey] is not null);
        var (file, files) = clicks ? ("click log", "click log's") : ("judgements", "judgements'");
        string[] needed = clicks ? ["item", "title", "query", "position", "clicked"] : ["item", "title", "query", "relevance"];
        foreach (var role in needed.Where(r => known && columns[r] is null))
            errors.Add(new("$.dataset.columns", columns.Line, columns.Column, $"task 'search' on own files needs column \"{role}\": {role switch
            {
                "item" => $"the catalogue's product id (also the {files} product column unless \"product\" names another)",
                "title" => "the catalogue's product title",
                "query" => $"the {files} query text",
                "position" => "the click log's position of each shown product (a whole number ≥ 1, 1 = top)",
                "clicked" => "the click log's click, 0 or 1",
                _ => "the judgements' graded relevance (a number ≥ 0)",
            }}"));
        // A click log has no grades and no intents; judgements have no positions or clicks.
        foreach (var role in (clicks ? ColumnRoles.JudgementRoles.Except(ColumnRoles.ClickRoles) : ColumnRoles.ClickRoles.Except(ColumnRoles.JudgementRoles)).Where(r => known && columns[r] is not null))
            errors.Add(new($"$.dataset.columns.{role}", columns[role]!.Line, columns[role]!.Column, $"\"{role}\" is a column of {(clicks ? "a judgements file" : "a click log (\"files\": { \"clicks\": … })")}, but the files give {(clicks ? "a click log" : "judgements")}; {(clicks ? "a click log" : "a judgements file")} has columns {string.Join(", ", clicks ? ColumnRoles.ClickRoles : ColumnRoles.JudgementRoles)}"));
        foreach (var role in new[] { "user", "rating", "timestamp", "label", "numeric", "categorical", "text" }.Where(r => columns[r] is not null))
            errors.Add(new($"$.dataset.columns.{role}", columns[role]!.Line, columns[role]!.Column, $"\"{role}\" is not a column of a search catalogue, judgements file or click log; task 'search' reads item, title, description, category, attributes, popularity (catalogue) and query, product, relevance, intent (judgements) or query, product, position, clicked (click log)"));
        if (root["dataset"]!["ratingScale"] is { } scale)
            errors.Add(new("$.dataset.ratingScale", scale.Line, scale.Column, "ratingScale checks ratings; task 'search' reads relevance grades (any number ≥ 0)"));
        var own = new SearchDescriptor(true, columns["intent"] is not null, [clicks ? DataFiles.ClicksKey : DataFiles.JudgementsKey]);
        CrossCheckSearchModels(root, "the own files", "name the judgements' query intent column as \"intent\"", own, errors);
    }

    /// <summary>
    /// What the interaction table's manifest rules out, as the run would: a rating task needs ratings, a split by time
    /// needs a time order. (Whether users have enough rows for leave-last-n needs the data: <c>validate --with-data</c>.)
    /// </summary>
    private static void CrossCheckTable(JsonTree root, string task, DatasetDescriptor dataset, List<DefinitionError> errors)
    {
        var named = root["dataset"]!["table"];
        var table = named?.Text ?? dataset.DefaultTable;
        if (table is null || !dataset.InteractionTables.Contains(table)) return;
        var which = named is null ? $"table '{table}' (the default) of '{dataset.Name}'" : $"table '{table}' of '{dataset.Name}'";
        if (task == "rating" && dataset.RatedTables is { } rated && !rated.Contains(table))
        {
            var node = root["task"]!;
            errors.Add(new("$.task", node.Line, node.Column, $"task 'rating' predicts ratings, but {which} has none; use task 'ranking'" +
                (rated.Count > 0 ? $", or a table with ratings (\"table\": {string.Join(" or ", rated.Select(t => $"\"{t}\""))})" : "")));
        }
        var method = root["split"]?["method"];
        if (method?.Text is "temporal" or "leave-last-n" && dataset.TimedTables is { } timed && !timed.Contains(table))
            errors.Add(new("$.split.method", method.Line, method.Column, $"split method '{method.Text}' orders each user's rows by time, but {which} has no timestamps; " +
                $"use 'stratified' or 'random'{(timed.Count > 0 ? $", or a table with timestamps (\"table\": {string.Join(" or ", timed.Select(t => $"\"{t}\""))})" : "")}"));
    }

    /// <summary>Search: a data set with a search collection, models that suit it, a split by query, a judgement source it has.</summary>
    private void CrossCheckSearch(JsonTree root, string task, DatasetDescriptor dataset, List<DefinitionError> errors)
    {
        var section = root["search"];
        if (task != "search")
        {
            if (section is not null) errors.Add(new("$.search", section.Line, section.Column, $"\"search\" belongs to task 'search', not '{task}'"));
            return;
        }
        var name = root["dataset"]!["name"]!;
        if (dataset.Search is not { } search)
        {
            errors.Add(new("$.dataset.name", name.Line, name.Column, $"data set '{dataset.Name}' has no search collection; for task 'search' use: {string.Join(", ", _vocabulary.Datasets.Where(d => d.Search is not null).Select(d => d.Name))}, or your own catalogue and judgements or click log files (\"files\": {{ \"catalogue\": …, \"judgements\": … }} or {{ \"catalogue\": …, \"clicks\": … }})"));
            return;
        }
        CrossCheckSearchModels(root, $"'{dataset.Name}'", "a column with role 'label'", search, errors);
    }

    /// <summary>Search: models that suit the collection, a judgement source it has, a split by query.</summary>
    /// <param name="dataset">The data named in messages ("'demo-shop'", "the own files").</param>
    /// <param name="intentColumn">Where query intents come from, for the message when there are none.</param>
    private static void CrossCheckSearchModels(JsonTree root, string dataset, string intentColumn, SearchDescriptor search, List<DefinitionError> errors)
    {
        var section = root["search"];
        var models = root["models"]!.Items;
        for (var i = 0; i < models.Count; i++)
        {
            var type = models[i]["type"]!;
            var ranker = type.Text is "bm25" or "dense" or "hybrid" or "reranker";
            if (ranker && (!search.HasCatalogue || search.JudgementSources.Count == 0))
                errors.Add(new($"$.models[{i}].type", type.Line, type.Column, $"model '{type.Text}' ranks products for judged queries, but {dataset} has {(search.HasCatalogue ? "no judgements" : "no product catalogue")}; use intent-tfidf or intent-encoder"));
            if (!ranker && !search.HasIntents)
                errors.Add(new($"$.models[{i}].type", type.Line, type.Column, $"model '{type.Text}' learns query intents, but the queries of {dataset} have no intent ({intentColumn})"));
        }
        var source = section?["judgements"];
        if (source is not null && !search.JudgementSources.Contains(source.Text!))
            errors.Add(new("$.search.judgements", source.Line, source.Column, search.JudgementSources.Count == 0
                ? $"{dataset} has no judgements"
                : DefinitionValidator.UnknownValue($"judgement source '{source.Text}' of {dataset}", source.Text!, search.JudgementSources)));
        var method = root["split"]?["method"];
        if (method is not null && method.Text is not ("random" or "k-fold"))
            errors.Add(new("$.split.method", method.Line, method.Column, $"task 'search' splits by query: use random or k-fold, not '{method.Text}'"));
    }

    /// <summary>Encoders: classification only, unique names, columns that suit the objective; models name defined encoders.</summary>
    private static void CrossCheckEncoders(JsonTree root, string task, List<DefinitionError> errors)
    {
        var encoders = root["encoders"]?.Items ?? [];
        var names = new HashSet<string>();
        for (var i = 0; i < encoders.Count; i++)
        {
            var encoder = encoders[i];
            var at = $"$.encoders[{i}]";
            if (task != "classification")
                errors.Add(new(at, encoder.Line, encoder.Column, $"encoders feed text columns to click models: they belong to task 'classification', not '{task}'"));
            var name = encoder["name"]!;
            if (!names.Add(name.Text!))
                errors.Add(new($"{at}.name", name.Line, name.Column, $"two encoders are named '{name.Text}'; give each a distinct name"));
            var objective = encoder["objective"]?.Text ?? EncoderSpec.Contrastive;
            var columns = encoder["columns"]?.Items.Count ?? 0;
            var (wanted, rule) = objective switch
            {
                EncoderSpec.Contrastive => (2, "two text columns that form a pair (e.g. [\"query\", \"title\"])"),
                EncoderSpec.Classification => (1, "one text column"),
                _ => (-1, ""),
            };
            if (wanted > 0 && columns != wanted)
                errors.Add(new($"{at}.columns", (encoder["columns"] ?? encoder).Line, (encoder["columns"] ?? encoder).Column, $"objective '{objective}' needs \"columns\" with {rule}; it has {columns}"));
            var label = encoder["labelColumn"];
            if (objective == EncoderSpec.Classification && label is null)
                errors.Add(new(at, encoder.Line, encoder.Column, "objective 'classification' needs \"labelColumn\": the categorical column the text predicts"));
            if (objective != EncoderSpec.Classification && label is not null)
                errors.Add(new($"{at}.labelColumn", label.Line, label.Column, $"\"labelColumn\" belongs to objective 'classification', not '{objective}'"));
            if (objective == EncoderSpec.None && encoder["checkpoint"] is null)
                errors.Add(new(at, encoder.Line, encoder.Column, "objective 'none' uses a checkpoint as it is: add \"checkpoint\" (a Hugging Face-layout folder), or train it with 'contrastive' or 'classification'"));
        }
        var models = root["models"]!.Items;
        for (var i = 0; i < models.Count; i++)
            if (models[i]["parameters"]?["textEncoder"] is { Text: { Length: > 0 } wanted } reference && !names.Contains(wanted))
                errors.Add(new($"$.models[{i}].parameters.textEncoder", reference.Line, reference.Column, names.Count == 0
                    ? $"model uses encoder '{wanted}', but the definition has no \"encoders\"; define it there"
                    : DefinitionValidator.UnknownValue($"encoder '{wanted}'", wanted, names.ToList())));
    }

    /// <summary>Hybrid: the "hybrid" block belongs to it; a two-stage model's retrievers are other (single-stage) models of the definition.</summary>
    private static void CrossCheckHybrid(JsonTree root, string task, IReadOnlyDictionary<string, int> names, List<DefinitionError> errors)
    {
        if (task != "hybrid" && root["hybrid"] is { } section)
            errors.Add(new("$.hybrid", section.Line, section.Column, $"\"hybrid\" belongs to task 'hybrid', not '{task}'"));
        var models = root["models"]!.Items;
        var twoStage = models.Select((m, i) => (m, i)).Where(x => x.m["type"]!.Text == "two-stage").Select(x => (x.m["name"] ?? x.m["type"]!).Text!).ToHashSet();
        for (var i = 0; i < models.Count; i++)
        {
            if (models[i]["type"]!.Text != "two-stage") continue;
            var at = $"$.models[{i}].parameters.retrievers";
            var node = models[i]["parameters"]?["retrievers"];
            if (node is null)
            {
                errors.Add(new($"$.models[{i}]", models[i].Line, models[i].Column, $"a two-stage model needs \"parameters\": {{ \"retrievers\": … }}: names of the definition's other models, comma-separated (e.g. \"ease,implicit-als,text-knn\"); its models: {string.Join(", ", names.Keys)}"));
                continue;
            }
            var listed = node.Text!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (listed.Length == 0) errors.Add(new(at, node.Line, node.Column, "name at least one retriever"));
            foreach (var name in listed)
                if (twoStage.Contains(name))
                    errors.Add(new(at, node.Line, node.Column, $"'{name}' is a two-stage model; retrievers are single-stage models"));
                else if (!names.ContainsKey(name))
                    errors.Add(new(at, node.Line, node.Column, DefinitionValidator.UnknownValue($"retriever '{name}'", name, names.Keys.Where(n => !twoStage.Contains(n)).ToList())));
            if (listed.Distinct().Count() < listed.Length) errors.Add(new(at, node.Line, node.Column, "a retriever is listed twice"));
        }
    }

    private static ExperimentDefinition Bind(JsonTree root, string baseDirectory)
    {
        var dataset = BindDataset(root["dataset"]!, baseDirectory);
        var split = root["split"];
        var evaluation = root["evaluation"];
        var output = root["output"];
        var regression = root["regression"];
        return new ExperimentDefinition
        {
            Name = root["name"]!.Text!,
            Description = root["description"]?.Text,
            Task = root["task"]!.Text!,
            Seed = (int)(root["seed"]?.Number ?? 42),
            Dataset = dataset,
            Split = dataset.Files?.FixSplit == true
                // Train and test files are the split: method "predefined" whether or not the definition says so.
                ? new SplitSpec { Method = "predefined", Name = DataFiles.SplitName, ValidationFraction = split?["validationFraction"]?.Number ?? 0, Unit = split?["unit"]?.Text ?? SplitSpec.Pairs }
                : split is null ? new SplitSpec() : new SplitSpec
                {
                    Method = split["method"]!.Text!,
                    TestFraction = split["testFraction"]?.Number ?? 0.2,
                    ValidationFraction = split["validationFraction"]?.Number ?? 0,
                    N = (int)(split["n"]?.Number ?? 1),
                    Folds = (int)(split["folds"]?.Number ?? 5),
                    Name = split["name"]?.Text,
                    Unit = split["unit"]?.Text ?? SplitSpec.Pairs,
                },
            Encoders = root["encoders"]?.Items.Select(e => new EncoderSpec
            {
                Name = e["name"]!.Text!,
                Checkpoint = e["checkpoint"]?.Text,
                Objective = e["objective"]?.Text ?? EncoderSpec.Contrastive,
                Columns = e["columns"]?.Items.Select(c => c.Text!).ToList() ?? [],
                LabelColumn = e["labelColumn"]?.Text,
                Parameters = e["parameters"]?.Properties.ToDictionary(p => p.Name, p => Value(p.Value)) ?? new Dictionary<string, object>(),
            }).ToList() ?? [],
            Models = root["models"]!.Items.Select(m => new ModelSpec
            {
                Type = m["type"]!.Text!,
                Name = m["name"]?.Text ?? m["type"]!.Text!,
                Parameters = m["parameters"]?.Properties.ToDictionary(p => p.Name, p => Value(p.Value)) ?? new Dictionary<string, object>(),
            }).ToList(),
            Metrics = root["metrics"]!.Items.Select(m => MetricName.Parse(m.Text!)).ToList(),
            Evaluation = evaluation is null ? new EvaluationSpec() : new EvaluationSpec
            {
                RelevanceThreshold = evaluation["relevanceThreshold"]?.Number,
                ExcludeTrainItems = evaluation["excludeTrainItems"]?.Kind != JsonKind.False,
                BootstrapSamples = (int)(evaluation["bootstrapSamples"]?.Number ?? 200),
                ConfidenceLevel = evaluation["confidenceLevel"]?.Number ?? 0.95,
                GradedRelevance = evaluation["gradedRelevance"]?.Kind == JsonKind.True,
                Protocol = evaluation["protocol"]?.Text ?? "full-catalogue",
                Negatives = (int)(evaluation["negatives"]?.Number ?? 100),
                Baseline = evaluation["baseline"]?.Text,
                ThresholdRule = evaluation["thresholdRule"]?.Text ?? "max-f1",
                Threshold = evaluation["threshold"]?.Number ?? 0.5,
                TargetPrecision = evaluation["targetPrecision"]?.Number ?? 0.9,
            },
            Search = root["search"] is { } search ? new SearchSpec
            {
                Judgements = search["judgements"]?.Text,
                MaxQueries = (int)(search["maxQueries"]?.Number ?? 0),
                Gain = search["gain"]?.Text ?? SearchSpec.Exponential,
                RelevanceThreshold = search["relevanceThreshold"]?.Number,
                Language = search["language"]?.Text,
            } : null,
            Hybrid = root["hybrid"] is { } hybrid ? new HybridSpec
            {
                TextColumns = hybrid["textColumns"]?.Items.Select(c => c.Text!).ToList() ?? [],
                Attributes = hybrid["attributes"]?.Items.Select(c => c.Text!).ToList() ?? [],
                Tags = hybrid["tags"]?.Text,
                Impressions = hybrid["impressions"]?.Text,
                Embedder = hybrid["embedder"]?.Text ?? HybridSpec.Tfidf,
                Dimension = (int)(hybrid["dimension"]?.Number ?? 64),
                Checkpoint = hybrid["checkpoint"]?.Text,
                EncoderParameters = hybrid["encoder"]?.Properties.ToDictionary(p => p.Name, p => Value(p.Value)) ?? new Dictionary<string, object>(),
                FoldIn = (int)(hybrid["foldIn"]?.Number ?? 5),
                ColdItemCandidates = hybrid["coldItemCandidates"]?.Text ?? HybridSpec.Unseen,
            } : null,
            Sweep = SweepDefinition.Bind(root["sweep"]),
            Output = output is null ? new OutputSpec() : new OutputSpec
            {
                Store = output["store"]?.Text ?? "experiments.db",
                Reports = output["reports"]?.Text ?? "reports",
                Formats = output["formats"]?.Items.Select(f => f.Text!).ToList() ?? ["html", "markdown", "json"],
            },
            Regression = regression is null ? null : new RegressionRule
            {
                Metric = MetricName.Parse(regression["metric"]!.Text!),
                Rule = regression["rule"]?.Text ?? RegressionRule.NotSignificantlyWorse,
                Against = regression["against"]?.Text ?? RegressionRule.Previous,
                Model = regression["model"]?.Text,
                Alpha = regression["alpha"]?.Number ?? 0.05,
                Tolerance = regression["tolerance"]?.Number ?? 0,
            },
        };
    }

    private static DatasetSpec BindDataset(JsonTree dataset, string baseDirectory)
    {
        var format = BindFormat(dataset["format"], new FileFormat());
        var files = BindFiles(dataset["files"], format);
        var columns = dataset["columns"];
        IReadOnlyList<string> Names(string role) => columns?[role]?.Items.Select(c => c.Text!).ToList() ?? [];
        return new DatasetSpec
        {
            Name = dataset["name"]?.Text ?? Path.GetFileNameWithoutExtension(files!.Table ?? files.Train ?? files.Catalogue!),
            Table = dataset["table"]?.Text,
            DataDirectory = dataset["dataDirectory"]?.Text,
            BadRows = Enum.Parse<BadRowPolicy>(dataset["badRows"]?.Text ?? "fail", ignoreCase: true),
            Duplicates = Enum.Parse<DuplicatePolicy>(dataset["duplicates"]?.Text ?? "keep", ignoreCase: true),
            Options = dataset["options"]?.Properties.ToDictionary(p => p.Name, p => p.Value.Number) ?? new Dictionary<string, double>(),
            ClicksFromRatings = dataset["clicksFromRatings"] is { } clicks
                ? new ClicksFromRatings(clicks["positiveRating"]?.Number ?? 4, (int)(clicks["negativesPerPositive"]?.Number ?? 1))
                : null,
            Files = files,
            Format = format,
            Columns = columns is null ? new ColumnRoles() : new ColumnRoles
            {
                User = columns["user"]?.Text,
                Item = columns["item"]?.Text,
                Rating = columns["rating"]?.Text,
                Timestamp = columns["timestamp"]?.Text,
                Label = columns["label"]?.Text,
                Numeric = Names("numeric"),
                Categorical = Names("categorical"),
                Text = Names("text"),
                Title = columns["title"]?.Text,
                Description = columns["description"]?.Text,
                Category = columns["category"]?.Text,
                Popularity = columns["popularity"]?.Text,
                Attributes = Names("attributes"),
                Query = columns["query"]?.Text,
                Product = columns["product"]?.Text,
                Relevance = columns["relevance"]?.Text,
                Intent = columns["intent"]?.Text,
                Position = columns["position"]?.Text,
                Clicked = columns["clicked"]?.Text,
            },
            RatingScale = dataset["ratingScale"] is { } scale ? new RatingScale(scale["min"]!.Number, scale["max"]!.Number) : null,
            BaseDirectory = files is null ? null : baseDirectory,
        };
    }

    /// <summary>The files' paths, and the formats of those written differently, each over the shared <paramref name="format"/>.</summary>
    private static DataFiles? BindFiles(JsonTree? files, FileFormat format)
    {
        if (files is null) return null;
        string? PathOf(string key) => files[key] is { } entry ? FilePath(entry).Text : null;
        return new DataFiles
        {
            Table = PathOf("table"),
            Train = PathOf("train"),
            Validation = PathOf("validation"),
            Test = PathOf("test"),
            Catalogue = PathOf(DataFiles.CatalogueKey),
            Judgements = PathOf(DataFiles.JudgementsKey),
            Clicks = PathOf(DataFiles.ClicksKey),
            Formats = files.Properties.Where(p => p.Value.Kind == JsonKind.Object && p.Value["format"] is not null)
                .ToDictionary(p => p.Name, p => BindFormat(p.Value["format"], format)),
        };
    }

    /// <summary>A file entry's path: the entry itself, or its "path".</summary>
    private static JsonTree FilePath(JsonTree entry) => entry.Kind == JsonKind.Object ? entry["path"]! : entry;

    /// <summary>
    /// A format whose unset properties come from <paramref name="fallback"/>; column names are inherited only by a file
    /// that has no header line either.
    /// </summary>
    private static FileFormat BindFormat(JsonTree? format, FileFormat fallback)
    {
        if (format is null) return fallback;
        var header = format["header"] is { } h ? h.Kind == JsonKind.True : fallback.Header;
        return new FileFormat
        {
            Delimiter = format["delimiter"]?.Text ?? fallback.Delimiter,
            Header = header,
            ColumnNames = format["columnNames"]?.Items.Select(c => c.Text!).ToList() ?? (header ? null : fallback.ColumnNames),
            Quote = format["quote"]?.Text ?? fallback.Quote,
            Encoding = format["encoding"]?.Text ?? fallback.Encoding,
        };
    }

    private static object Value(JsonTree node) => node.Kind switch
    {
        JsonKind.True => true,
        JsonKind.False => false,
        JsonKind.String => node.Text!,
        _ => node.IsIntegerLiteral ? (object)(long)node.Number : node.Number,
    };
}
