namespace Experiments.Core.Definitions;

/// <summary>The shape of an experiment definition for a given vocabulary of data sets, models and metrics.</summary>
public static class DefinitionShape
{
    public static readonly IReadOnlyList<string> SplitMethods =
        ["random", "stratified", "temporal", "leave-last-n", "k-fold", "cold-start-items", "cold-start-users", "predefined"];

    public static readonly IReadOnlyList<string> ReportFormats = ["html", "markdown", "json", "pdf"];

    public static ObjectShape Build(DefinitionVocabulary vocabulary) => new("An experiment definition.",
    [
        new("$schema", new StringShape("Path or URL of experiment.schema.json, for editors.")),
        new("name", new StringShape("Short name of the experiment; runs are grouped by it."), Required: true),
        new("description", new StringShape("What the experiment is for.")),
        new("task", new StringShape("What is predicted: 'ranking' (top-K recommendation), 'rating' (rating prediction), 'classification' (e.g. click-through), 'search' (products ranked for queries, and query intent) or 'hybrid' (two-stage ranking: retrievers merged and re-ranked, with cold start).", vocabulary.Tasks), Required: true),
        new("dataset", Dataset(vocabulary), Required: true),
        new("split", Split()),
        new("encoders", new ArrayShape("Task 'classification': transformer text encoders trained (or loaded) on each split's training rows before the models are fitted; a model uses one through its \"textEncoder\" parameter.", Encoder(vocabulary))),
        new("models", new ArrayShape("The models to fit and compare.", Model(vocabulary), MinItems: 1), Required: true),
        new("metrics", new ArrayShape("Metrics to compute, e.g. \"ndcg@10\", \"rmse\".", new MetricShape("A metric name, with @K for cut-off metrics.", vocabulary.Metrics), MinItems: 1, UniqueItems: true), Required: true),
        new("evaluation", new ObjectShape("How predictions are scored.",
        [
            new("relevanceThreshold", new NumberShape("Ranking: a test interaction counts as relevant when its rating is at least this. Default: every test interaction is relevant.")),
            new("excludeTrainItems", new BooleanShape("Ranking: remove each user's training items from the candidates.", Default: true)),
            new("bootstrapSamples", new IntegerShape("Bootstrap resamples over users for confidence intervals; 0 turns them off.", 0, 100_000, 200)),
            new("confidenceLevel", new NumberShape("Level of the confidence intervals.", 0.5, 1, ExclusiveMax: true, Default: 0.95)),
            new("gradedRelevance", new BooleanShape("Ranking: NDCG uses each test rating as a relevance grade (gain 2^rating − 1).", Default: false)),
            new("protocol", new StringShape("Ranking: 'full-catalogue' (every item is a candidate) or 'sampled' (each test positive ranked against sampled negatives, as in the NCF literature).", ["full-catalogue", "sampled"], "full-catalogue")),
            new("negatives", new IntegerShape("Ranking, sampled protocol: negatives drawn per test positive.", 1, 100_000, 100)),
            new("baseline", new StringShape("Model (by name) that every other model is compared with in paired tests; default: the first model.")),
            new("thresholdRule", new StringShape("Classification: how the decision threshold is chosen on validation data.", ["max-f1", "target-precision", "fixed"], "max-f1")),
            new("threshold", new NumberShape("Classification: the threshold for rule 'fixed'.", 0, 1, Default: 0.5)),
            new("targetPrecision", new NumberShape("Classification: the precision to reach for rule 'target-precision'.", 0, 1, ExclusiveMin: true, Default: 0.9)),
        ])),
        new("search", Search(vocabulary)),
        new("hybrid", Hybrid(vocabulary)),
        .. vocabulary.Sweeps is { } sweeps ? new PropertyShape[] { new("sweep", SweepDefinition.Shape(sweeps, vocabulary)) } : [],
        new("seed", new IntegerShape("Seed for splitting, model initialisation and bootstrap; the same seed gives the same results.", 0, int.MaxValue, 42)),
        new("output", new ObjectShape("Where results go.",
        [
            new("store", new StringShape("The run store: a SQLite file, or a PostgreSQL connection string (postgres://user@host/database).", Default: "experiments.db")),
            new("reports", new StringShape("Folder for reports, one sub-folder per run.", Default: "reports")),
            new("formats", new ArrayShape("Report formats to write (default html, markdown and json; pdf needs Chromium).", new StringShape("A report format.", ReportFormats), UniqueItems: true)),
        ])),
        new("regression", Regression(vocabulary)),
    ]);

    private static ObjectShape Regression(DefinitionVocabulary vocabulary) => new("A regression rule, checked after every run (scheduled runs included): a run whose metric got worse than in a reference run of this experiment in the same store is marked regressed, and `experiments run` exits with code 4.",
    [
        new("metric", new MetricShape("The metric watched: one of the definition's metrics.", vocabulary.Metrics), Required: true),
        new("rule", new StringShape("'not-significantly-worse': regressed when the paired test on the test units both runs share finds the metric worse at level alpha; 'not-worse': regressed when the metric is worse than the reference run's by more than tolerance.", RegressionRule.Rules, RegressionRule.NotSignificantlyWorse)),
        new("against", new StringShape("The reference run: 'previous' (the latest earlier finished run of this experiment) or 'last-good' (the latest one not marked regressed).", RegressionRule.References, RegressionRule.Previous)),
        new("model", new StringShape("The model watched, by name; default: every model, each against the same model of the reference run.")),
        new("alpha", new NumberShape("Rule 'not-significantly-worse': level of the two-sided paired test (p Holm-adjusted over the models and splits tested).", 0, 0.5, ExclusiveMin: true, Default: 0.05)),
        new("tolerance", new NumberShape("Rule 'not-worse': how much worse the metric may get, in its own units, before the run counts as regressed.", 0, Default: 0)),
    ]);

    private static EitherShape Dataset(DefinitionVocabulary vocabulary) =>
        new("The data and how to load it: a registered data set by \"name\", or your own files under \"files\".", "files", OwnFiles(), Registered(vocabulary));

    private static TaggedObjectShape Registered(DefinitionVocabulary vocabulary)
    {
        var variants = new Dictionary<string, ObjectShape>();
        foreach (var dataset in vocabulary.Datasets)
        {
            var properties = new List<PropertyShape>
            {
                new("name", new StringShape("Registered data set name.", vocabulary.Datasets.Select(d => d.Name).ToList()), Required: true),
                new("dataDirectory", new StringShape("Data directory for this experiment (overrides --data-dir and EXPERIMENTS_DATA_DIR).")),
                BadRows(),
                Duplicates(),
            };
            var tables = dataset.InteractionTables.Concat(dataset.LabelledTables).ToList();
            if (tables.Count > 0) properties.Insert(1, new("table", new StringShape("Table to use: an interaction table (ranking, rating) or a labelled table (classification).", tables)));
            if (dataset.InteractionTables.Count > 0) properties.Add(ClicksFromRatings());
            if (dataset.IsSynthetic) properties.Add(new("options", GeneratorOptions()));
            variants[dataset.Name] = new ObjectShape(dataset.Description, properties);
        }
        return new TaggedObjectShape("A registered data set and how to load it.", "name", variants);
    }

    private static ObjectShape OwnFiles()
    {
        static StringOrObjectShape File(string what) => new($"{what}: a path relative to the definition's folder (or absolute), or {{ \"path\": …, \"format\": {{ … }} }} for a file written differently from the others.",
            new StringShape($"{what}: a path relative to the definition's folder, or absolute."),
            new ObjectShape($"{what}, written in a format of its own.",
            [
                new("path", new StringShape("A path relative to the definition's folder, or absolute."), Required: true),
                new("format", Format("How this file is written; what it leaves out comes from the data set's \"format\" (columnNames only while \"header\" stays false).")),
            ]));
        static StringShape Column(string what) => new($"{what}: a column name.");
        static ArrayShape Columns(string what) => new(what, new StringShape("A column name."), UniqueItems: true);
        return new ObjectShape("Your own delimited files: one table (the definition's split cuts it), train and test files with an optional validation file (no split runs), or for task 'search' a product catalogue and judgements or a click log (split by query).",
        [
            new("files", new ObjectShape("Either \"table\", or \"train\" and \"test\" (and optionally \"validation\"), or (task 'search') \"catalogue\" and either \"judgements\" or \"clicks\".",
            [
                new("table", File("One file with all rows; the definition's \"split\" cuts it")),
                new("train", File("The training rows")),
                new("validation", File("Validation rows for early stopping and thresholds (or carve them from train with split.validationFraction)")),
                new("test", File("The test rows")),
                new("catalogue", File("Task 'search': the products, one row each (columns item, title and optionally description, category, attributes, popularity)")),
                new("judgements", File("Task 'search': graded judgements, one row per query and product (columns query, product or item, relevance and optionally intent)")),
                new("clicks", File("Task 'search', instead of \"judgements\": a click log, one row per shown product (columns query, product or item, position, clicked); judgements are derived by the position-based click model, as for registered click logs")),
            ]), Required: true),
            new("name", new StringShape("A label for the data in results and the run store; default: the table's (or training file's) name without extension.")),
            new("format", Format("How the files are written: all of them, except what a file's own \"format\" says.")),
            new("columns", new ObjectShape("Which column plays which role, by name; columns not named are ignored.",
            [
                new("user", Column("The user id (ranking, rating; a categorical feature in classification)")),
                new("item", Column("The item id (ranking, rating; a categorical feature in classification; task 'search': the catalogue's product id)")),
                new("rating", Column("The rating, a number (task 'rating'; optional for 'ranking')")),
                new("timestamp", Column("When it happened, Unix seconds or an ISO 8601 date or date-time (temporal splits)")),
                new("label", Column("Task 'classification': the click label, 0 or 1")),
                new("numeric", Columns("Task 'classification': numeric feature columns (an empty value is a missing value).")),
                new("categorical", Columns("Task 'classification': categorical feature columns.")),
                new("text", Columns("Task 'classification': free-text feature columns (TF-IDF n-grams, or a text encoder).")),
                new("title", Column("Task 'search', catalogue: the product title")),
                new("description", Column("Task 'search', catalogue: the product description (optional)")),
                new("category", Column("Task 'search', catalogue: the product category (optional; what query intents predict)")),
                new("attributes", Columns("Task 'search', catalogue: attribute columns (brand, colour, …) joined into each product's attribute text.")),
                new("popularity", Column("Task 'search', catalogue: a popularity count or score, a number ≥ 0 (optional)")),
                new("query", Column("Task 'search', judgements: the query text (rows with the same text are one query)")),
                new("product", Column("Task 'search', judgements: the product id; default: the column that \"item\" names")),
                new("relevance", Column("Task 'search', judgements: the graded relevance, a number ≥ 0 (0 = not relevant)")),
                new("intent", Column("Task 'search', judgements: the query's intent, a product category (optional; for intent models and the re-ranker's category match)")),
                new("position", Column("Task 'search', click log: where the product was shown, a whole number ≥ 1 (1 = top)")),
                new("clicked", Column("Task 'search', click log: whether the shown product was clicked, 0 or 1")),
            ]), Required: true),
            new("ratingScale", new ObjectShape("The allowed ratings (both ends included); a rating outside is a bad row. Default: any finite number.",
            [
                new("min", new NumberShape("Lowest allowed rating."), Required: true),
                new("max", new NumberShape("Highest allowed rating."), Required: true),
            ])),
            BadRows(),
            Duplicates(),
            ClicksFromRatings(),
        ]);
    }

    private static ObjectShape Format(string description) => new(description,
    [
        new("delimiter", new StringShape("Field separator, e.g. \",\", \"\\t\", \";\", \"|\".", Default: ",", Whitespace: true)),
        new("header", new BooleanShape("The first line names the columns; without it, give \"columnNames\".", true)),
        new("columnNames", new ArrayShape("The column names in order, for files without a header line.", new StringShape("A column name."), MinItems: 1, UniqueItems: true)),
        new("quote", new StringShape("Quote character of quoted fields (which may hold delimiters and line breaks; a doubled quote is one quote), or \"none\".", FileFormat.Quotes, "\"")),
        new("encoding", new StringShape("Text encoding; bytes that are not valid UTF-8 are an error naming their line.", FileFormat.Encodings, "utf-8")),
    ]);

    private static PropertyShape BadRows() =>
        new("badRows", new StringShape("What to do with a malformed row: stop with an error, or skip it and count it.", ["fail", "skip"], "fail"));

    private static PropertyShape Duplicates() =>
        new("duplicates", new StringShape("What to do with rows that repeat an earlier row exactly.", ["keep", "drop", "fail"], "keep"));

    private static PropertyShape ClicksFromRatings() =>
        new("clicksFromRatings", new ObjectShape("Task 'classification' on an interaction table: a click log derived from it (ratings ≥ positiveRating are clicks; unrated items are sampled as non-clicks, seeded).",
        [
            new("positiveRating", new NumberShape("Lowest rating that counts as a click (ignored for implicit data, where every row is one).", Default: 4)),
            new("negativesPerPositive", new IntegerShape("Sampled non-clicks per click.", 1, 100, 1)),
        ]));

    private static ObjectShape Search(DefinitionVocabulary vocabulary) => new("Task 'search': which judgements, how many queries, and how ranked lists are scored.",
    [
        new("judgements", new StringShape("Where the judgements come from: a judgement table, a click log (judgements derived by the position-based click model) or 'catalogue-groups' (entries of a product group are relevant for each other); default: the data set's first.",
            vocabulary.Datasets.SelectMany(d => d.Search?.JudgementSources ?? []).Distinct().ToList())),
        new("maxQueries", new IntegerShape("Keep a seeded sample of at most this many queries (0: all).", 0, 10_000_000, 0)),
        new("gain", new StringShape("NDCG gain of a grade g: 'exponential' (2^g − 1) or 'linear' (g).", [SearchSpec.Exponential, SearchSpec.Linear], SearchSpec.Exponential)),
        new("relevanceThreshold", new NumberShape("Precision, recall and MRR count a product relevant when its grade is at least this. Default: any grade above 0.")),
        new("language", new StringShape("Analyser of product texts and queries for BM25 (and the re-ranker's term overlap): 'english' (stop words, Porter stemming), 'chinese' (SmartCn word segmentation) or 'standard' (Unicode words, lower-cased). Default: the data set's (english for your own files); a model's \"language\" parameter overrides it.", SearchSpec.Languages)),
    ]);

    private static ObjectShape Hybrid(DefinitionVocabulary vocabulary) => new("Task 'hybrid': what items' text and attributes are, the text embedder, and cold start. The stages are the models (docs/hybrid.md).",
    [
        new("textColumns", new ArrayShape("Columns of the item table joined into each item's text; default: its title, category, brand, description and attribute columns.", new StringShape("An item-table column."), UniqueItems: true)),
        new("attributes", new ArrayShape("Categorical item columns ('|' separates several values) whose match with the user's history is a re-ranker feature; default: category, brand and attribute columns.", new StringShape("An item-table column."), UniqueItems: true)),
        new("tags", new StringShape("A records table with user, item and text columns (e.g. MovieLens tags) whose texts join the item's text; only rows of training (user, item) pairs count.")),
        new("impressions", new StringShape("A records table of impressions (user, item, 0/1 label, timestamp) for click features; only impressions up to the user's last training interaction count.")),
        new("embedder", new StringShape("Item text vectors: 'tfidf' (ML.NET FeaturizeText word and character n-grams, projected to 'dimension' principal components) or 'encoder' (the transformer encoder, trained contrastively on items that training users had one after the other).", HybridSpec.Embedders, HybridSpec.Tfidf)),
        new("dimension", new IntegerShape("Embedder 'tfidf': principal components kept.", 2, 1024, 64)),
        new("checkpoint", new StringShape("Embedder 'encoder': a Hugging Face-layout BERT checkpoint to start from; default: from scratch.")),
        new("encoder", new ObjectShape("Embedder 'encoder': size and training of the encoder.", (vocabulary.EncoderParameters ?? []).Select(p => new PropertyShape(p.Name, ParameterShape(p))).ToList())),
        new("foldIn", new IntegerShape("Split 'cold-start-users': each test user's first this many interactions (in time) are given to every model as history and left out of the test.", 1, 1000, 5)),
        new("coldItemCandidates", new StringShape("Split 'cold-start-items': 'unseen' ranks only the items that have no training interaction (every model alike); 'all' ranks the whole catalogue.", HybridSpec.ColdItemCandidateRules, HybridSpec.Unseen)),
    ]);

    private static ObjectShape GeneratorOptions() => new("Size and seed of the generated shop.",
    [
        new("users", new IntegerShape("Number of shoppers.", 10, 1_000_000, 3000)),
        new("items", new IntegerShape("Number of products.", 10, 1_000_000, 1200)),
        new("sessionsPerUser", new NumberShape("Average search sessions per shopper.", 0.1, 1000, Default: 12)),
        new("seed", new IntegerShape("Seed of the generator (independent of the experiment seed).", 0, int.MaxValue, 7)),
        new("searchQueries", new IntegerShape("Distinct search queries of the search side (task 'search').", 10, 1_000_000, 800)),
        new("searchSessionsPerQuery", new NumberShape("Average sessions per search query in the search log.", 0.1, 1000, Default: 12)),
    ]);

    private static TaggedObjectShape Split()
    {
        PropertyShape Method() => new("method", new StringShape("How rows are split.", SplitMethods), Required: true);
        PropertyShape Test() => new("testFraction", new NumberShape("Share of rows held out for test.", 0, 1, true, true, 0.2));
        PropertyShape Validation() => new("validationFraction", new NumberShape("Share of rows held out for validation (taken from the non-test part).", 0, 1, ExclusiveMax: true, Default: 0));
        PropertyShape Unit() => new("unit", new StringShape("Ranking and rating: 'pairs' splits distinct (user, item) pairs, repeated rows collapsed into one (weight: event count, or mean rating), so no test pair is also a training pair; 'rows' splits every row on its own, and the share of relevant test pairs that are also training items (unreachable) is reported.", SplitSpec.Units, SplitSpec.Pairs));
        return new TaggedObjectShape("How the data is split into train, validation and test.", "method", new Dictionary<string, ObjectShape>
        {
            ["random"] = new("Random rows.", [Method(), Test(), Validation(), Unit()]),
            ["stratified"] = new("Per user: each user's rows are split with the same fractions.", [Method(), Test(), Validation(), Unit()]),
            ["temporal"] = new("Per user by time: each user's latest rows go to test.", [Method(), Test(), Validation(), Unit()]),
            ["leave-last-n"] = new("Per user: the last n rows in time go to test.",
                [Method(), new("n", new IntegerShape("Interactions per user held out (distinct items with unit 'pairs').", 1, 1000, 1)), Unit()]),
            ["k-fold"] = new("K folds of random rows; every model is fitted once per fold.",
                [Method(), new("folds", new IntegerShape("Number of folds.", 2, 20, 5)), Unit()]),
            ["cold-start-items"] = new("A share of items is held out entirely: test rows are those of unseen items.", [Method(), Test(), Unit()]),
            ["cold-start-users"] = new("A share of users is held out entirely: test rows are those of unseen users.", [Method(), Test(), Unit()]),
            ["predefined"] = new("Train and test files shipped with the data set (e.g. MovieLens 100K's u1.base/u1.test), or your own train and test files.",
            [
                Method(),
                new("name", new StringShape("Name of the data set's predefined split; \"files\" (or left out) for your own train and test files.")),
                new("validationFraction", new NumberShape("Share of the training rows held out for validation: per user (ranking, rating) or per label (classification), seeded.", 0, 1, ExclusiveMax: true, Default: 0)),
                Unit(),
            ]),
        });
    }

    private static ObjectShape Encoder(DefinitionVocabulary vocabulary) => new("A text encoder: from scratch or a checkpoint, trained with a contrastive or classification objective, or used as it is.",
    [
        new("name", new StringShape("Name that models' \"textEncoder\" parameter refers to. Must be unique."), Required: true),
        new("checkpoint", new StringShape("Folder of a Hugging Face-layout BERT checkpoint (config.json, vocab.txt, model.safetensors) to start from; default: from scratch, with a vocabulary learned from the training rows.")),
        new("objective", new StringShape("'contrastive': the two columns of each positive (clicked) training row are a pair, the batch's other pairs its negatives; 'classification': the column's text predicts labelColumn; 'none': the checkpoint as it is.", EncoderSpec.Objectives, EncoderSpec.Contrastive)),
        new("columns", new ArrayShape("Text columns of the table: two for 'contrastive', one for 'classification' (none for 'none').", new StringShape("A text column."), UniqueItems: true)),
        new("labelColumn", new StringShape("Objective 'classification': the categorical column to predict.")),
        new("parameters", new ObjectShape("Size and training of the encoder.", (vocabulary.EncoderParameters ?? []).Select(p => new PropertyShape(p.Name, ParameterShape(p))).ToList())),
    ]);

    private static TaggedObjectShape Model(DefinitionVocabulary vocabulary)
    {
        var types = vocabulary.Models.Select(m => m.Type).ToList();
        var variants = new Dictionary<string, ObjectShape>();
        foreach (var model in vocabulary.Models)
        {
            var parameters = model.Parameters.Select(p => new PropertyShape(p.Name, ParameterShape(p))).ToList();
            variants[model.Type] = new ObjectShape(model.Description,
            [
                new("type", new StringShape("Model type.", types), Required: true),
                new("name", new StringShape("Label in results; defaults to the type. Must be unique.")),
                new("parameters", new ObjectShape($"Parameters of {model.Type}.", parameters)),
            ]);
        }
        return new TaggedObjectShape("A model to fit.", "type", variants);
    }

    private static Shape ParameterShape(ParameterSpec p) => p.Kind switch
    {
        ParameterKind.Integer => new IntegerShape(p.Description, (long?)p.Min, (long?)p.Max, Convert.ToInt64(p.Default)),
        ParameterKind.Number => new NumberShape(p.Description, p.Min, p.Max, Default: Convert.ToDouble(p.Default)),
        ParameterKind.Boolean => new BooleanShape(p.Description, (bool)p.Default),
        _ => new StringShape(p.Description, p.Allowed, p.Default),
    };
}
