namespace Experiments.Store;

public enum RunStatus { Running, Finished, Failed, Cancelled, Killed }

/// <summary>What is known when a run starts.</summary>
public sealed record RunStart(
    string Experiment,
    string? Description,
    string Definition,
    string DefinitionHash,
    string? Source,
    string Dataset,
    int Seed,
    string? GitCommit,
    string PackageVersions,
    string Machine,
    bool? GitDirty = null,
    /// <summary>The folder (absolute) under which the run's report folder <see cref="RunRecord.ReportFolderName"/> goes.</summary>
    string? ReportsRoot = null);

public sealed record MetricRecord(string Name, int? K, double Value, double? Lower, double? Upper, int? Users, string Split)
{
    public string Label => K is { } k ? $"{Name}@{k}" : Name;
}

public sealed record ArtifactRecord(long Id, long? TrialId, string Kind, string Path, string? Sha256, long? Bytes, DateTime CreatedAt);

public sealed record DataIssueRecord(string Kind, long Count, string? ExampleFile, long? ExampleLine, string? Example);

public sealed record TrialRecord(
    long Id,
    string ModelName,
    string ModelType,
    string Split,
    string Status,
    DateTime StartedAt,
    DateTime? EndedAt,
    double? FitSeconds,
    double? EvaluateSeconds,
    string? Protocol,
    string? Error,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyList<MetricRecord> Metrics)
{
    /// <summary>Facts of the fitted model (name → value) that its parameters do not say; empty when it reported none.</summary>
    public IReadOnlyDictionary<string, string> Facts { get; init; } = new Dictionary<string, string>();
}

public sealed record RunRecord(
    long Id,
    string Experiment,
    RunStatus Status,
    string Dataset,
    string? DataFingerprint,
    string? DatasetOrigin,
    bool DatasetSynthetic,
    int Seed,
    DateTime StartedAt,
    DateTime? EndedAt,
    string DefinitionHash,
    string Definition,
    string? Source,
    string? GitCommit,
    string PackageVersions,
    string Machine,
    string? Error,
    int Trials,
    /// <summary>A random id of the run, unique across stores in practice; null for runs recorded before it existed.</summary>
    string? Uid = null,
    string? ReportsRoot = null,
    /// <summary>Whether the work tree of <see cref="GitCommit"/> had uncommitted changes; null when unknown.</summary>
    bool? GitDirty = null,
    /// <summary>The verdict of the definition's regression rule: true when the run regressed; null when not checked.</summary>
    bool? Regressed = null)
{
    /// <summary>
    /// The run's report folder name: run-N-uid, so that stores sharing a reports folder never overwrite each other's
    /// reports (run-N for runs recorded before runs had a uid).
    /// </summary>
    public string ReportFolderName => Uid is null ? $"run-{Id}" : $"run-{Id}-{Uid}";

    /// <summary>Where the run writes its reports, or null when it was recorded before that was stored.</summary>
    public string? ReportFolder => ReportsRoot is null ? null : Path.Combine(ReportsRoot, ReportFolderName);

    /// <summary>The commit with its state, for reports: "abc… (uncommitted changes)".</summary>
    public string? GitDescription => GitCommit is null ? null : GitCommit + GitDirty switch { true => " (uncommitted changes)", false => " (clean)", null => "" };
}

/// <summary>
/// A paired test of one model against the run's baseline on one split and metric: model − baseline, on
/// <paramref name="Users"/> units (test users, or test rows for classification). <paramref name="Test"/> names the
/// test; <paramref name="HolmPValue"/> is p adjusted by Holm over the split's tests, and <paramref name="HolmBound"/> says
/// it is only an upper bound (set by p-values at their resampling floor); <paramref name="Resamples"/> the permutations
/// behind p (null for an analytic test). Records stored before these existed have them null.
/// </summary>
public sealed record ComparisonRecord(string Split, string Metric, string Baseline, string Model, double Difference, double Lower, double Upper, double PValue, int Users,
    string? Test = null, double? HolmPValue = null, int? Resamples = null, bool? HolmBound = null);

/// <summary>
/// Each test unit's values in one trial, for paired tests: per test user (ids are the data set's own) each ranking
/// metric's value or a rating user's error sums, or per test row (ids are row positions) a classifier's label, score
/// and decision.
/// </summary>
public sealed record UserValuesRecord(IReadOnlyList<string> Users, IReadOnlyDictionary<string, double[]> Values);

/// <summary>
/// A curve a report draws, kept in the store so the report can be written again from it alone: points (X, Y), with
/// Z and Labels where the kind has them. <paramref name="TrialId"/> is null for a curve of the run (an encoder trained
/// for a split). What X, Y and Z are depends on <paramref name="Kind"/> (<see cref="CurveKinds"/>).
/// </summary>
public sealed record CurveRecord(long? TrialId, string Split, string Kind, string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y,
    IReadOnlyList<double>? Z = null, IReadOnlyList<string>? Labels = null);

/// <summary>The kinds of <see cref="CurveRecord"/> and what their points mean.</summary>
public static class CurveKinds
{
    /// <summary>Name: a metric ("ndcg", "hit-rate", "recall", "coverage"); X: K = 1, 2, …; Y: the metric@K over the test users.</summary>
    public const string MetricAtK = "metric-at-k";
    /// <summary>X: false positive rate; Y: true positive rate, at every distinct threshold (thinned to a bounded number of points).</summary>
    public const string Roc = "roc";
    /// <summary>X: recall; Y: precision, at every distinct threshold (thinned).</summary>
    public const string PrecisionRecall = "precision-recall";
    /// <summary>X: mean predicted probability of a bin; Y: observed positive rate; Z: rows in the bin.</summary>
    public const string Calibration = "calibration";
    /// <summary>X: actual class (0: negative, 1: positive); Y: predicted class at the chosen threshold; Z: rows.</summary>
    public const string Confusion = "confusion";
    /// <summary>Labels: feature columns; Y: drop in AUC when the column is permuted; Z: its standard deviation over repeats; X: rank.</summary>
    public const string FeatureImportance = "feature-importance";
    /// <summary>Name: what is tracked ("training RMSE", "validation RMSE", "training loss"…); X: iteration or epoch; Y: its value.</summary>
    public const string Training = "training";
    /// <summary>Name: "recommended" or "training interactions"; X: popularity decile of the catalogue (1 = most popular tenth); Y: share in that decile.</summary>
    public const string Popularity = "popularity";
}

/// <summary>A fact of the data a run saw: for the whole data set (<paramref name="Split"/> null) or one split's part ("train interactions").</summary>
public sealed record ProfileRecord(string? Split, string Name, double Value);

/// <summary>A run with everything recorded under it.</summary>
public sealed record RunDetails(
    RunRecord Run,
    IReadOnlyList<TrialRecord> Trials,
    IReadOnlyList<DataIssueRecord> DataIssues,
    IReadOnlyList<ArtifactRecord> Artifacts,
    IReadOnlyList<ComparisonRecord> Comparisons,
    IReadOnlyList<CurveRecord> Curves,
    IReadOnlyList<ProfileRecord> Profile,
    RegressionCheckRecord? Regression = null);

/// <summary>
/// A run checked by its definition's regression rule against an earlier run (<paramref name="AgainstRunId"/>) of its
/// experiment: <paramref name="Regressed"/> (null when it could not be checked: <paramref name="Summary"/> says why),
/// and each test behind the verdict.
/// </summary>
public sealed record RegressionCheckRecord(string Rule, string Metric, long? AgainstRunId, bool? Regressed, string Summary, IReadOnlyList<RegressionTestRecord> Tests);

/// <summary>
/// One model on one split against the same model of the reference run: this run − the reference run. The interval,
/// p (and Holm's p over the check's tests), test, resamples and units are those of the paired test, null for a
/// comparison of values.
/// </summary>
public sealed record RegressionTestRecord(string Model, string Split, double Difference, double? Lower, double? Upper, double? PValue, double? HolmPValue,
    string? Test, int? Resamples, int? Units, bool Regressed);
