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

    public ExperimentDefinition ReadFile(string path)
    {
        if (!File.Exists(path)) throw new ExperimentsException($"{path}: no such experiment definition file.");
        return Read(File.ReadAllText(path), path);
    }

    /// <summary>Parses and validates; throws <see cref="DefinitionException"/> listing every problem.</summary>
    public ExperimentDefinition Read(string json, string source)
    {
        var root = JsonTree.Parse(json, source);
        var errors = DefinitionValidator.Validate(root, _shape);
        if (errors.Count == 0) CrossCheck(root, errors);
        if (errors.Count > 0) throw new DefinitionException(source, errors);
        return Bind(root);
    }

    /// <summary>Rules that span several fields: models and metrics must suit the task, names must be unique.</summary>
    private void CrossCheck(JsonTree root, List<DefinitionError> errors)
    {
        var task = root["task"]!.Text!;
        var dataset = _vocabulary.Datasets.First(d => d.Name == root["dataset"]!["name"]!.Text);
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
        for (var i = 0; i < metrics.Count; i++)
            if (MetricName.Parse(metrics[i].Text!).Name == "diversity" && !dataset.HasItemCategories)
                errors.Add(new($"$.metrics[{i}]", metrics[i].Line, metrics[i].Column,
                    $"metric 'diversity' compares items by category, but data set '{dataset.Name}' has no item categories"));
        var table = root["dataset"]!["table"];
        var derived = root["dataset"]!["clicksFromRatings"];
        if (derived is not null && task != "classification")
            errors.Add(new("$.dataset.clicksFromRatings", derived.Line, derived.Column, "clicksFromRatings derives a click log: it belongs to task 'classification'"));
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
        if (task == "classification" && method is not null && method.Text is not ("random" or "stratified" or "k-fold"))
            errors.Add(new("$.split.method", method.Line, method.Column, $"split method '{method.Text}' needs users and times; for task 'classification' use random, stratified (by label) or k-fold"));
        CrossCheckEncoders(root, task, errors);
        CrossCheckSearch(root, task, dataset, errors);
        var baseline = root["evaluation"]?["baseline"];
        if (baseline is not null && !names.ContainsKey(baseline.Text!))
            errors.Add(new("$.evaluation.baseline", baseline.Line, baseline.Column,
                DefinitionValidator.UnknownValue($"baseline model '{baseline.Text}'", baseline.Text!, names.Keys.ToList())));
        if (root["split"]?["method"]?.Text == "predefined")
        {
            var split = root["split"]!["name"]!;
            if (!dataset.PredefinedSplits.Contains(split.Text!))
                errors.Add(new("$.split.name", split.Line, split.Column, dataset.PredefinedSplits.Count == 0
                    ? $"data set '{dataset.Name}' has no predefined splits; use another split method"
                    : DefinitionValidator.UnknownValue($"predefined split '{split.Text}' of '{dataset.Name}'", split.Text!, dataset.PredefinedSplits)));
        }
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
            errors.Add(new("$.dataset.name", name.Line, name.Column, $"data set '{dataset.Name}' has no search collection; for task 'search' use: {string.Join(", ", _vocabulary.Datasets.Where(d => d.Search is not null).Select(d => d.Name))}"));
            return;
        }
        var models = root["models"]!.Items;
        for (var i = 0; i < models.Count; i++)
        {
            var type = models[i]["type"]!;
            var ranker = type.Text is "bm25" or "dense" or "hybrid" or "reranker";
            if (ranker && (!search.HasCatalogue || search.JudgementSources.Count == 0))
                errors.Add(new($"$.models[{i}].type", type.Line, type.Column, $"model '{type.Text}' ranks products for judged queries, but '{dataset.Name}' has {(search.HasCatalogue ? "no judgements" : "no product catalogue")}; use intent-tfidf or intent-encoder"));
            if (!ranker && !search.HasIntents)
                errors.Add(new($"$.models[{i}].type", type.Line, type.Column, $"model '{type.Text}' learns query intents, but the queries of '{dataset.Name}' have no intent (a column with role 'label')"));
        }
        var source = section?["judgements"];
        if (source is not null && !search.JudgementSources.Contains(source.Text!))
            errors.Add(new("$.search.judgements", source.Line, source.Column, search.JudgementSources.Count == 0
                ? $"data set '{dataset.Name}' has no judgements"
                : DefinitionValidator.UnknownValue($"judgement source '{source.Text}' of '{dataset.Name}'", source.Text!, search.JudgementSources)));
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

    private static ExperimentDefinition Bind(JsonTree root)
    {
        var dataset = root["dataset"]!;
        var split = root["split"];
        var evaluation = root["evaluation"];
        var output = root["output"];
        return new ExperimentDefinition
        {
            Name = root["name"]!.Text!,
            Description = root["description"]?.Text,
            Task = root["task"]!.Text!,
            Seed = (int)(root["seed"]?.Number ?? 42),
            Dataset = new DatasetSpec
            {
                Name = dataset["name"]!.Text!,
                Table = dataset["table"]?.Text,
                DataDirectory = dataset["dataDirectory"]?.Text,
                BadRows = Enum.Parse<BadRowPolicy>(dataset["badRows"]?.Text ?? "fail", ignoreCase: true),
                Duplicates = Enum.Parse<DuplicatePolicy>(dataset["duplicates"]?.Text ?? "keep", ignoreCase: true),
                Options = dataset["options"]?.Properties.ToDictionary(p => p.Name, p => p.Value.Number) ?? new Dictionary<string, double>(),
                ClicksFromRatings = dataset["clicksFromRatings"] is { } clicks
                    ? new ClicksFromRatings(clicks["positiveRating"]?.Number ?? 4, (int)(clicks["negativesPerPositive"]?.Number ?? 1))
                    : null,
            },
            Split = split is null ? new SplitSpec() : new SplitSpec
            {
                Method = split["method"]!.Text!,
                TestFraction = split["testFraction"]?.Number ?? 0.2,
                ValidationFraction = split["validationFraction"]?.Number ?? 0,
                N = (int)(split["n"]?.Number ?? 1),
                Folds = (int)(split["folds"]?.Number ?? 5),
                Name = split["name"]?.Text,
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
            } : null,
            Output = output is null ? new OutputSpec() : new OutputSpec
            {
                Store = output["store"]?.Text ?? "experiments.db",
                Reports = output["reports"]?.Text ?? "reports",
                Formats = output["formats"]?.Items.Select(f => f.Text!).ToList() ?? ["markdown"],
            },
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
