namespace Experiments.Store;

/// <summary>
/// Where runs are recorded. Every call commits before it returns, so whatever a run finished survives the process
/// being killed.
/// </summary>
public interface IRunStore : IDisposable
{
    /// <summary>The store's location, for messages.</summary>
    string Location { get; }

    /// <summary>Opened for reading only: every recording call fails, and killed runs are not marked.</summary>
    bool IsReadOnly { get; }

    long StartRun(RunStart start);
    /// <summary>What data the run saw: its fingerprint, where it came from, and whether it is synthetic.</summary>
    void RecordDataset(long runId, string fingerprint, string origin, bool synthetic);
    void RecordDataIssues(long runId, IEnumerable<DataIssueRecord> issues);
    long StartTrial(long runId, string modelName, string modelType, string split, IReadOnlyDictionary<string, string> parameters);
    void RecordMetrics(long runId, long? trialId, IEnumerable<MetricRecord> metrics);
    /// <summary>Facts of the trial's fitted model beside its parameters (e.g. EASE's item cap, whether an MF fit is reproducible).</summary>
    void RecordFacts(long trialId, IReadOnlyDictionary<string, string> facts);
    /// <summary>Per-user metric values of a trial, kept for paired tests between models and runs.</summary>
    void RecordUserValues(long trialId, UserValuesRecord values);
    UserValuesRecord? GetUserValues(long trialId);
    void RecordComparisons(long runId, IEnumerable<ComparisonRecord> comparisons);
    /// <summary>Curves reports draw (metric@K, ROC, training curves…), of a trial or of the run.</summary>
    void RecordCurves(long runId, IEnumerable<CurveRecord> curves);
    /// <summary>The data's profile: sizes and sparsity of the data set and of each split's parts.</summary>
    /// <summary>Recording a split's (or the data set's) value of a name again replaces it (a run continued after its process died).</summary>
    void RecordProfile(long runId, IEnumerable<ProfileRecord> profile);
    void FinishTrial(long trialId, string status, double? fitSeconds, double? evaluateSeconds, string? protocol, string? error);
    long RecordArtifact(long runId, long? trialId, string kind, string path, string? sha256, long? bytes);
    void FinishRun(long runId, RunStatus status, string? error);
    /// <summary>
    /// Reopens a stopped or killed run in this process (a resumed sweep's run, which then holds its refit): running
    /// again, its end and error cleared. A run still running in another live process on this machine is an error, and
    /// so is one marked running on another machine unless <paramref name="takeOver"/> (this machine cannot see that
    /// process) — unless the process that holds it handed it over (<paramref name="handedOver"/>: a cluster's submitter,
    /// which records the run and waits while a worker carries it out, its data checks recorded). Otherwise its data
    /// checks and profile are cleared: the resumed session records them when it loads the data.
    /// </summary>
    void ResumeRun(long runId, bool takeOver = false, bool handedOver = false);
    /// <summary>The verdict of the definition's regression rule on a run (recorded once, after the run ends).</summary>
    void RecordRegression(long runId, RegressionCheckRecord check);

    /// <summary>
    /// Marks runs whose process died without finishing them as <see cref="RunStatus.Killed"/> and returns their ids
    /// (none when the store is read-only: it is not changed).
    /// </summary>
    IReadOnlyList<long> MarkAbandonedRuns();

    IReadOnlyList<RunRecord> ListRuns(int limit = 50, string? experiment = null);
    /// <summary>The run's own row (status, report folder, data fingerprint, …), without its trials and results.</summary>
    RunRecord GetRunRecord(long runId);
    RunDetails GetRun(long runId);
}
