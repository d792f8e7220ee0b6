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
    public int Seed { get; init; } = 42;
    public OutputSpec Output { get; init; } = new();
}

public enum BadRowPolicy { Fail, Skip }

public enum DuplicatePolicy { Keep, Drop, Fail }

public sealed record DatasetSpec
{
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
}

/// <summary>How a click log is derived from ratings: rating ≥ <see cref="PositiveRating"/> is a click; unrated items sampled as non-clicks.</summary>
public sealed record ClicksFromRatings(double PositiveRating = 4, int NegativesPerPositive = 1);

public sealed record SplitSpec
{
    /// <summary>random, stratified, temporal, leave-last-n, k-fold, cold-start-items, cold-start-users or predefined.</summary>
    public string Method { get; init; } = "stratified";
    public double TestFraction { get; init; } = 0.2;
    public double ValidationFraction { get; init; }
    /// <summary>Rows per user held out by leave-last-n.</summary>
    public int N { get; init; } = 1;
    public int Folds { get; init; } = 5;
    /// <summary>The data set's predefined split (e.g. "u1" for MovieLens 100K) for method "predefined".</summary>
    public string? Name { get; init; }
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
/// set's first), a seeded cap on the number of queries, the NDCG gain and the grade from which a product counts as
/// relevant for precision, recall and MRR.
/// </summary>
public sealed record SearchSpec
{
    public const string Exponential = "exponential";
    public const string Linear = "linear";

    public string? Judgements { get; init; }
    /// <summary>Keep a seeded sample of at most this many queries; 0 keeps all.</summary>
    public int MaxQueries { get; init; }
    /// <summary>"exponential" (2^grade − 1) or "linear" (grade).</summary>
    public string Gain { get; init; } = Exponential;
    /// <summary>Null: any grade above 0 is relevant.</summary>
    public double? RelevanceThreshold { get; init; }
}

public sealed record OutputSpec
{
    /// <summary>The SQLite run store, relative to the working directory.</summary>
    public string Store { get; init; } = "experiments.db";
    /// <summary>Where reports are written, one folder per run.</summary>
    public string Reports { get; init; } = "reports";
    public IReadOnlyList<string> Formats { get; init; } = ["markdown"];
}
