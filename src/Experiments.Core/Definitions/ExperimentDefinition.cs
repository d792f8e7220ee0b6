namespace Experiments.Core.Definitions;

/// <summary>
/// What an experiment is: which data, how it is split, which models are fitted with which parameters, how they
/// are scored, and where results go. Read from <c>experiments/*.json</c> by <see cref="DefinitionReader"/> or built in
/// C# with <see cref="ExperimentBuilder"/>; both go through the same validation.
/// </summary>
public sealed record ExperimentDefinition
{
    public required string Name { get; init; }
    public string? Description { get; init; }
    /// <summary>"ranking" (top-K recommendation) or "rating" (rating prediction).</summary>
    public required string Task { get; init; }
    public required DatasetSpec Dataset { get; init; }
    public SplitSpec Split { get; init; } = new();
    /// <summary>Text encoders trained (or loaded) on each split's training rows before the models; models use them by name.</summary>
    public IReadOnlyList<EncoderSpec> Encoders { get; init; } = [];
    public required IReadOnlyList<ModelSpec> Models { get; init; }
    public required IReadOnlyList<MetricName> Metrics { get; init; }
    public EvaluationSpec Evaluation { get; init; } = new();
    /// <summary>Task "search": which judgements, how many queries, and how results are scored; null = the defaults.</summary>
    public SearchSpec? Search { get; init; }
    /// <summary>Task "hybrid": where items' text and attributes come from, the text embedder and the cold-start settings; null = the defaults.</summary>
    public HybridSpec? Hybrid { get; init; }
    public int Seed { get; init; } = 42;
    /// <summary>How `experiments sweep` tunes the models; null for a definition that only runs.</summary>
    public SweepSpec? Sweep { get; init; }
    public OutputSpec Output { get; init; } = new();
    /// <summary>When a run counts as regressed against an earlier run of the experiment; null = never checked.</summary>
    public RegressionRule? Regression { get; init; }
}

public enum BadRowPolicy { Fail, Skip }

public enum DuplicatePolicy { Keep, Drop, Fail }

public sealed record DatasetSpec
{
    /// <summary>A registered data set's name; for own <see cref="Files"/>, a label in results (default: the file's name).</summary>
    public required string Name { get; init; }
    /// <summary>The interaction table to use; null for the data set's default.</summary>
    public string? Table { get; init; }
    /// <summary>Overrides the data directory for this experiment.</summary>
    public string? DataDirectory { get; init; }
    public BadRowPolicy BadRows { get; init; } = BadRowPolicy.Fail;
    public DuplicatePolicy Duplicates { get; init; } = DuplicatePolicy.Keep;
    /// <summary>Classification on an interaction table: derive a click log (ratings ≥ threshold positive, sampled negatives).</summary>
    public ClicksFromRatings? ClicksFromRatings { get; init; }
    /// <summary>Options of a generated data set (demo-shop): name → integer or number.</summary>
    public IReadOnlyDictionary<string, double> Options { get; init; } = new Dictionary<string, double>();
    /// <summary>The user's own files instead of a registered data set; null for a registered one.</summary>
    public DataFiles? Files { get; init; }
    /// <summary>Own files: how they are written (each file that has no format of its own in <see cref="DataFiles.Formats"/>).</summary>
    public FileFormat Format { get; init; } = new();
    /// <summary>Own files: which column plays which role.</summary>
    public ColumnRoles Columns { get; init; } = new();
    /// <summary>Own files: the allowed ratings; null accepts any finite number.</summary>
    public RatingScale? RatingScale { get; init; }
    /// <summary>
    /// Where relative file paths resolve: the definition file's folder, or the working directory for definitions built
    /// in code. Not part of the definition's text, so the same definition hashes the same wherever it lies.
    /// </summary>
    public string? BaseDirectory { get; init; }

    /// <summary>How the own file under <paramref name="key"/> (table, train, …, catalogue, judgements) is written: its own format, else the shared one.</summary>
    public FileFormat FormatOf(string key) => Files?.Formats.GetValueOrDefault(key) ?? Format;

    /// <summary>The absolute path of an own file as written in the definition.</summary>
    public string ResolvePath(string path) => Path.GetFullPath(path, BaseDirectory ?? Directory.GetCurrentDirectory());
}

/// <summary>
/// The user's own files: one <see cref="Table"/> that the definition's split cuts, or <see cref="Train"/> and
/// <see cref="Test"/> (and optionally <see cref="Validation"/>) that fix the split themselves; for task "search", a
/// product <see cref="Catalogue"/> and the <see cref="Judgements"/> of queries (split by query).
/// </summary>
public sealed record DataFiles
{
    /// <summary>The predefined split that train and test files form (split method "predefined").</summary>
    public const string SplitName = "files";

    public string? Table { get; init; }
    public string? Train { get; init; }
    public string? Validation { get; init; }
    public string? Test { get; init; }
    /// <summary>Task "search": the products (id, title, optional description, category, attributes, popularity).</summary>
    public string? Catalogue { get; init; }
    /// <summary>Task "search": graded judgements, one row per (query, product, relevance).</summary>
    public string? Judgements { get; init; }
    /// <summary>Task "search", instead of <see cref="Judgements"/>: a click log (query, product, position, clicked) from which judgements are derived.</summary>
    public string? Clicks { get; init; }
    /// <summary>Files written differently from the others, by key (e.g. a Windows-1252 catalogue beside UTF-8 judgements); the rest use the data set's format.</summary>
    public IReadOnlyDictionary<string, FileFormat> Formats { get; init; } = new Dictionary<string, FileFormat>();

    /// <summary>These files with the one under <paramref name="key"/> written in <paramref name="format"/>.</summary>
    public DataFiles WithFormat(string key, FileFormat format) => Named().Any(f => f.Key == key)
        ? this with { Formats = new Dictionary<string, FileFormat>(Formats) { [key] = format } }
        : throw new ArgumentException($"No file '{key}' among these files ({string.Join(", ", Named().Select(f => f.Key))}).", nameof(key));

    public static DataFiles Single(string table) => new() { Table = table };

    public static DataFiles Split(string train, string test, string? validation = null) => new() { Train = train, Validation = validation, Test = test };

    public static DataFiles Search(string catalogue, string judgements) => new() { Catalogue = catalogue, Judgements = judgements };

    /// <summary>A catalogue and a click log whose judgements the position-based click model derives.</summary>
    public static DataFiles SearchClicks(string catalogue, string clicks) => new() { Catalogue = catalogue, Clicks = clicks };

    /// <summary>True for a search collection's files (catalogue, and judgements or clicks).</summary>
    public bool IsSearch => Catalogue is not null || Judgements is not null || Clicks is not null;

    /// <summary>True when train and test files fix the split.</summary>
    public bool FixSplit => Train is not null || Test is not null;

    /// <summary>Each file given, under its key: table, train, validation, test.</summary>
    public IEnumerable<(string Key, string Path)> Named()
    {
        if (Table is not null) yield return ("table", Table);
        if (Train is not null) yield return ("train", Train);
        if (Validation is not null) yield return ("validation", Validation);
        if (Test is not null) yield return ("test", Test);
        if (Catalogue is not null) yield return (CatalogueKey, Catalogue);
        if (Judgements is not null) yield return (JudgementsKey, Judgements);
        if (Clicks is not null) yield return (ClicksKey, Clicks);
    }

    public const string CatalogueKey = "catalogue";
    public const string JudgementsKey = "judgements";
    public const string ClicksKey = "clicks";
}

/// <summary>How own files are written: delimiter, header (or the column names), quoting and encoding.</summary>
public sealed record FileFormat
{
    public const string NoQuote = "none";
    public static readonly IReadOnlyList<string> Quotes = ["\"", "'", NoQuote];
    public static readonly IReadOnlyList<string> Encodings = ["utf-8", "latin1", "windows-1252"];

    public string Delimiter { get; init; } = ",";
    public bool Header { get; init; } = true;
    /// <summary>The column names in order, for files without a header line.</summary>
    public IReadOnlyList<string>? ColumnNames { get; init; }
    /// <summary>The quote character of quoted fields, or <see cref="NoQuote"/>.</summary>
    public string Quote { get; init; } = "\"";
    /// <summary>"utf-8" (default), "latin1" or "windows-1252".</summary>
    public string Encoding { get; init; } = "utf-8";

    /// <summary>The quote character, or null for <see cref="NoQuote"/>.</summary>
    public char? QuoteCharacter => Quote == NoQuote ? null : Quote[0];
}

/// <summary>Which column of own files plays which role, by name; columns not named are ignored.</summary>
public sealed record ColumnRoles
{
    public string? User { get; init; }
    public string? Item { get; init; }
    public string? Rating { get; init; }
    /// <summary>Unix seconds or an ISO 8601 date or date-time.</summary>
    public string? Timestamp { get; init; }
    /// <summary>Classification: the click label, 0 or 1.</summary>
    public string? Label { get; init; }
    public IReadOnlyList<string> Numeric { get; init; } = [];
    public IReadOnlyList<string> Categorical { get; init; } = [];
    public IReadOnlyList<string> Text { get; init; } = [];
    /// <summary>Search catalogue: the product title.</summary>
    public string? Title { get; init; }
    /// <summary>Search catalogue: an optional product description.</summary>
    public string? Description { get; init; }
    /// <summary>Search catalogue: an optional product category (what query intents predict).</summary>
    public string? Category { get; init; }
    /// <summary>Search catalogue: an optional popularity, a number ≥ 0.</summary>
    public string? Popularity { get; init; }
    /// <summary>Search catalogue: attribute columns (brand, colour, …), joined into each product's attribute text.</summary>
    public IReadOnlyList<string> Attributes { get; init; } = [];
    /// <summary>Search judgements: the query text.</summary>
    public string? Query { get; init; }
    /// <summary>Search judgements: the product id; null = the column that <see cref="Item"/> names.</summary>
    public string? Product { get; init; }
    /// <summary>Search judgements: the graded relevance, a number ≥ 0 (0 = not relevant).</summary>
    public string? Relevance { get; init; }
    /// <summary>Search judgements: an optional query intent (a product category).</summary>
    public string? Intent { get; init; }
    /// <summary>Search click log: the position the product was shown at, a whole number ≥ 1 (1 = top).</summary>
    public string? Position { get; init; }
    /// <summary>Search click log: whether the shown product was clicked, 0 or 1.</summary>
    public string? Clicked { get; init; }

    /// <summary>The roles of a search catalogue file, of a judgements file and of a click log (which stands in for the judgements).</summary>
    public static readonly IReadOnlySet<string> CatalogueRoles = new HashSet<string> { "item", "title", "description", "category", "popularity", "attributes" };
    public static readonly IReadOnlySet<string> JudgementRoles = new HashSet<string> { "query", "product", "relevance", "intent" };
    public static readonly IReadOnlySet<string> ClickRoles = new HashSet<string> { "query", "product", "position", "clicked" };

    /// <summary>Every named column with its role and its key in the definition ("user", "numeric[1]").</summary>
    public IEnumerable<(string Role, string Column, string Key)> Mapped()
    {
        foreach (var (role, column) in new[]
                 {
                     ("user", User), ("item", Item), ("rating", Rating), ("timestamp", Timestamp), ("label", Label), ("title", Title), ("description", Description),
                     ("category", Category), ("popularity", Popularity), ("query", Query), ("product", Product), ("relevance", Relevance), ("intent", Intent),
                     ("position", Position), ("clicked", Clicked),
                 })
            if (column is not null) yield return (role, column, role);
        foreach (var (role, columns) in Lists())
            for (var k = 0; k < columns.Count; k++) yield return (role, columns[k], $"{role}[{k}]");
    }

    /// <summary>The roles that name several columns, with their columns.</summary>
    public IEnumerable<(string Role, IReadOnlyList<string> Columns)> Lists() =>
        [("numeric", Numeric), ("categorical", Categorical), ("text", Text), ("attributes", Attributes)];

    /// <summary>
    /// The columns of one own file: a search catalogue's or judgements file's own roles (the judgements' product column
    /// defaults to the catalogue's item column), every role for the other files.
    /// </summary>
    public IEnumerable<(string Role, string Column, string Key)> MappedIn(string file) => file switch
    {
        DataFiles.CatalogueKey => Mapped().Where(m => CatalogueRoles.Contains(m.Role)),
        DataFiles.JudgementsKey or DataFiles.ClicksKey => Mapped().Where(m => (file == DataFiles.ClicksKey ? ClickRoles : JudgementRoles).Contains(m.Role))
            .Concat(Product is null && Item is not null ? [("product", Item, "item")] : []),
        _ => Mapped(),
    };
}

/// <summary>The allowed ratings of own files, both ends included.</summary>
public sealed record RatingScale(double Min, double Max);

/// <summary>How a click log is derived from ratings: rating ≥ <see cref="PositiveRating"/> is a click; unrated items sampled as non-clicks.</summary>
public sealed record ClicksFromRatings(double PositiveRating = 4, int NegativesPerPositive = 1);

public sealed record SplitSpec
{
    /// <summary>Ranking and rating: repeated (user, item) rows collapse into one interaction before splitting (the default).</summary>
    public const string Pairs = "pairs";
    /// <summary>Ranking and rating: every row is split on its own, so a pair can be both in training and in test.</summary>
    public const string Rows = "rows";
    public static readonly IReadOnlyList<string> Units = [Pairs, Rows];

    /// <summary>random, stratified, temporal, leave-last-n, k-fold, cold-start-items, cold-start-users or predefined.</summary>
    public string Method { get; init; } = "stratified";
    public double TestFraction { get; init; } = 0.2;
    /// <summary>Share of the non-test rows held out for validation; for "predefined", carved from the training part (per user, or by label).</summary>
    public double ValidationFraction { get; init; }
    /// <summary>Rows per user held out by leave-last-n.</summary>
    public int N { get; init; } = 1;
    public int Folds { get; init; } = 5;
    /// <summary>The data set's predefined split (e.g. "u1" for MovieLens 100K) for method "predefined"; "files" for own train and test files.</summary>
    public string? Name { get; init; }
    /// <summary>What is split, for ranking and rating: <see cref="Pairs"/> or <see cref="Rows"/>.</summary>
    public string Unit { get; init; } = Pairs;
}

public sealed record ModelSpec
{
    /// <summary>Label of this entry in results; defaults to the type. Unique within a definition.</summary>
    public required string Name { get; init; }
    public required string Type { get; init; }
    /// <summary>Parameter name → value (long, double, bool or string).</summary>
    public IReadOnlyDictionary<string, object> Parameters { get; init; } = new Dictionary<string, object>();
}

/// <summary>
/// A transformer text encoder of an experiment. From scratch (a WordPiece vocabulary learned from the training rows) or
/// from a Hugging Face-layout <see cref="Checkpoint"/>; trained on the training rows with a contrastive objective (the
/// two <see cref="Columns"/> of each positive row are a pair; the batch's other pairs are negatives), a classification
/// objective (the text column → <see cref="LabelColumn"/>), or not at all ("none": the checkpoint as it is).
/// </summary>
public sealed record EncoderSpec
{
    public const string Contrastive = "contrastive";
    public const string Classification = "classification";
    public const string None = "none";
    public static readonly IReadOnlyList<string> Objectives = [Contrastive, Classification, None];

    public required string Name { get; init; }
    public string? Checkpoint { get; init; }
    public string Objective { get; init; } = Contrastive;
    /// <summary>Text columns: two for "contrastive", one for "classification"; "none" and the embedding use every text column.</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];
    public string? LabelColumn { get; init; }
    /// <summary>Size and training parameters (hiddenSize, layers, epochs, device, precision, …) → value.</summary>
    public IReadOnlyDictionary<string, object> Parameters { get; init; } = new Dictionary<string, object>();
}

public sealed record EvaluationSpec
{
    /// <summary>Ranking: a test interaction is relevant when its rating is at least this; null = every one is.</summary>
    public double? RelevanceThreshold { get; init; }
    /// <summary>Ranking: remove the user's training items from candidates (the usual full-catalogue protocol).</summary>
    public bool ExcludeTrainItems { get; init; } = true;
    /// <summary>Bootstrap resamples over users for confidence intervals; 0 turns intervals off.</summary>
    public int BootstrapSamples { get; init; } = 200;
    public double ConfidenceLevel { get; init; } = 0.95;
    /// <summary>Ranking: NDCG uses the rating as a relevance grade (gain 2^rating − 1) instead of binary relevance.</summary>
    public bool GradedRelevance { get; init; }
    /// <summary>Ranking: "full-catalogue" (every item is a candidate) or "sampled" (each positive against <see cref="Negatives"/> sampled items).</summary>
    public string Protocol { get; init; } = "full-catalogue";
    public int Negatives { get; init; } = 100;
    /// <summary>The model every other one is compared with in paired tests; null = the first model.</summary>
    public string? Baseline { get; init; }
    /// <summary>Classification: how the decision threshold is chosen on validation data: "max-f1", "target-precision" or "fixed".</summary>
    public string ThresholdRule { get; init; } = "max-f1";
    public double Threshold { get; init; } = 0.5;
    public double TargetPrecision { get; init; } = 0.9;
}

/// <summary>
/// Task "search": the judgement source (a judgement table, a click log, or the catalogue's groups; default: the data
/// set's first), a seeded cap on the number of queries, the NDCG gain, the grade from which a product counts as
/// relevant for precision, recall and MRR, and the text analyser's language.
/// </summary>
public sealed record SearchSpec
{
    public const string Exponential = "exponential";
    public const string Linear = "linear";
    public const string English = "english";
    /// <summary>The analysers BM25 has: english (stop words, Porter stemming), chinese (SmartCn word segmentation), standard (Unicode words).</summary>
    public static readonly IReadOnlyList<string> Languages = [English, "chinese", "standard"];

    public string? Judgements { get; init; }
    /// <summary>Keep a seeded sample of at most this many queries; 0 keeps all.</summary>
    public int MaxQueries { get; init; }
    /// <summary>"exponential" (2^grade − 1) or "linear" (grade).</summary>
    public string Gain { get; init; } = Exponential;
    /// <summary>Null: any grade above 0 is relevant.</summary>
    public double? RelevanceThreshold { get; init; }
    /// <summary>The analyser of product texts and queries (one of <see cref="Languages"/>); null: the data set's (english for own files). A model's "language" parameter overrides it.</summary>
    public string? Language { get; init; }
}

/// <summary>
/// Task "hybrid" (two-stage ranking): what each item's text is made of (item-table columns, and a tag table's texts
/// of training pairs only), which categorical item columns become re-ranker features, an impression log for click
/// features, the text embedder (TF-IDF reduced by PCA, or the transformer encoder trained on co-interacted items), and
/// the cold-start settings. The stages themselves are the definition's models (docs/hybrid.md).
/// </summary>
public sealed record HybridSpec
{
    public const string Tfidf = "tfidf";
    public const string Encoder = "encoder";
    public static readonly IReadOnlyList<string> Embedders = [Tfidf, Encoder];
    public const string Unseen = "unseen";
    public const string All = "all";
    public static readonly IReadOnlyList<string> ColdItemCandidateRules = [Unseen, All];

    /// <summary>Columns of the item table joined into each item's text; empty: its title, category, brand, description and attribute columns.</summary>
    public IReadOnlyList<string> TextColumns { get; init; } = [];
    /// <summary>Categorical item columns ('|' separates several values) whose match with a user's history becomes a feature; empty: category, brand and attribute columns.</summary>
    public IReadOnlyList<string> Attributes { get; init; } = [];
    /// <summary>A records table with user, item and text columns (e.g. MovieLens tags) whose texts join the item's text; only rows whose (user, item) pair is a training pair count.</summary>
    public string? Tags { get; init; }
    /// <summary>A records table of impressions (user, item, 0/1 label, timestamp) for click features; only impressions up to each user's last training interaction count.</summary>
    public string? Impressions { get; init; }
    /// <summary>"tfidf" (ML.NET's FeaturizeText, projected to <see cref="Dimension"/> principal components) or "encoder" (the transformer encoder).</summary>
    public string Embedder { get; init; } = Tfidf;
    /// <summary>tfidf: principal components kept.</summary>
    public int Dimension { get; init; } = 64;
    /// <summary>encoder: a Hugging Face-layout checkpoint to start from; null trains one from scratch.</summary>
    public string? Checkpoint { get; init; }
    /// <summary>encoder: size and training parameters (the encoders' own: hiddenSize, layers, epochs, …).</summary>
    public IReadOnlyDictionary<string, object> EncoderParameters { get; init; } = new Dictionary<string, object>();
    /// <summary>cold-start-users: each test user's first this many interactions (in time) are the history the models are given.</summary>
    public int FoldIn { get; init; } = 5;
    /// <summary>cold-start-items: "unseen" ranks only the items without a training interaction; "all" ranks every item.</summary>
    public string ColdItemCandidates { get; init; } = Unseen;
}

public sealed record OutputSpec
{
    /// <summary>The SQLite run store, relative to the working directory.</summary>
    public string Store { get; init; } = "experiments.db";
    /// <summary>Where reports are written, one folder per run.</summary>
    public string Reports { get; init; } = "reports";
    public IReadOnlyList<string> Formats { get; init; } = ["html", "markdown", "json"];
}

/// <summary>
/// When a run of the experiment counts as regressed: its <see cref="Metric"/> got worse than in a reference run of the
/// same experiment in the same store (<see cref="Against"/>: the previous finished run, or the last one not marked
/// regressed). <see cref="NotSignificantlyWorse"/> asks the paired test on the test units both runs share (the
/// definition's resamples and seed; Holm over the models and splits tested) for a worse difference at level
/// <see cref="Alpha"/>; <see cref="NotWorse"/> compares the metric's values and allows <see cref="Tolerance"/>.
/// </summary>
public sealed record RegressionRule
{
    public const string NotSignificantlyWorse = "not-significantly-worse";
    public const string NotWorse = "not-worse";
    public static readonly IReadOnlyList<string> Rules = [NotSignificantlyWorse, NotWorse];
    public const string Previous = "previous";
    public const string LastGood = "last-good";
    public static readonly IReadOnlyList<string> References = [Previous, LastGood];

    public required MetricName Metric { get; init; }
    public string Rule { get; init; } = NotSignificantlyWorse;
    public string Against { get; init; } = Previous;
    /// <summary>The model watched, by name; null watches every model (each against the same model of the reference run).</summary>
    public string? Model { get; init; }
    /// <summary>Rule <see cref="NotSignificantlyWorse"/>: level of the two-sided paired test.</summary>
    public double Alpha { get; init; } = 0.05;
    /// <summary>Rule <see cref="NotWorse"/>: how much worse the metric may get, in its own units.</summary>
    public double Tolerance { get; init; }
}
