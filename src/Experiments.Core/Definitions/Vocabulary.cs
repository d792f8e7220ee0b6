namespace Experiments.Core.Definitions;

public enum ParameterKind { Integer, Number, Boolean, String }

/// <summary>One tunable parameter of a model: its type, range, default and meaning.</summary>
public sealed record ParameterSpec(
    string Name,
    ParameterKind Kind,
    object Default,
    string Description,
    double? Min = null,
    double? Max = null,
    IReadOnlyList<string>? Allowed = null);

/// <summary>What a definition may say about one model type.</summary>
public sealed record ModelDescriptor(string Type, IReadOnlyList<string> Tasks, string Description, IReadOnlyList<ParameterSpec> Parameters);

/// <summary>A metric name as written in definitions (<c>ndcg@10</c> has name <c>ndcg</c> and needs K).</summary>
public sealed record MetricDescriptor(string Name, bool RequiresK, IReadOnlyList<string> Tasks, string Description);

/// <summary>
/// A data set a definition may name. <paramref name="TimedTables"/> and <paramref name="RatedTables"/> are the
/// interaction tables whose rows have a time order or a rating, and <paramref name="DefaultTable"/> the one used when
/// a definition names none; null when unknown (then the rules that need them are left to the run).
/// </summary>
public sealed record DatasetDescriptor(string Name, string Description, bool IsSynthetic, IReadOnlyList<string> InteractionTables, IReadOnlyList<string> PredefinedSplits, bool HasItemCategories,
    IReadOnlyList<string> LabelledTables, IReadOnlyList<string>? TimedTables = null, IReadOnlyList<string>? RatedTables = null, string? DefaultTable = null,
    SearchDescriptor? Search = null);

/// <summary>A data set's product search collection: whether it has a catalogue and query intents, and its judgement sources (the default first).</summary>
public sealed record SearchDescriptor(bool HasCatalogue, bool HasIntents, IReadOnlyList<string> JudgementSources);

/// <summary>
/// The names a definition may use. The composition root (the Run API) fills it from the dataset registry,
/// the model catalog and the metric catalog, so validation and the published schema never drift from the code.
/// </summary>
public sealed record DefinitionVocabulary(
    IReadOnlyList<string> Tasks,
    IReadOnlyList<DatasetDescriptor> Datasets,
    IReadOnlyList<ModelDescriptor> Models,
    IReadOnlyList<MetricDescriptor> Metrics,
    IReadOnlyList<ParameterSpec>? EncoderParameters = null,
    SweepVocabulary? Sweeps = null);
