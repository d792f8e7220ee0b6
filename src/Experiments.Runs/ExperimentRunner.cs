using System.Diagnostics;
using System.Globalization;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Evaluation;
using Experiments.Evaluation.Statistics;
using Experiments.Reports;
using Experiments.Store;

namespace Experiments.Runs;

/// <summary>Options of one run that are not part of the definition (they change where, not what).</summary>
public sealed record RunOptions
{
    /// <summary>Data directory from the command line; the definition's own dataDirectory wins over it.</summary>
    public string? DataDirectory { get; init; }
    /// <summary>The definition file, recorded with the run.</summary>
    public string? Source { get; init; }
    /// <summary>Overrides the definition's report folder.</summary>
    public string? ReportDirectory { get; init; }
    public IRunObserver Observer { get; init; } = SilentObserver.Instance;
}

/// <summary>
/// How a run ended and what it produced. <paramref name="ReportError"/> says why a report could not be written at
/// the end (the results are stored all the same, and `experiments report` writes it later).
/// </summary>
public sealed record RunOutcome(long RunId, RunStatus Status, IReadOnlyList<TrialResult> Trials, IReadOnlyList<string> Reports, string? Error, string? ReportError = null,
    RegressionCheckRecord? Regression = null)
{
    /// <summary>The definition's regression rule found the run worse than its reference run.</summary>
    public bool Regressed => Regression?.Regressed == true;
}

/// <summary>
/// Runs an experiment: load the data (checked), split it, fit and evaluate every model on every split, record each
/// step in the store as it completes, and write the reports. Notebooks and the CLI call the same method.
/// </summary>
public sealed partial class ExperimentRunner(IRunStore store, IDatasetLoader loader)
{
    public ExperimentRunner(IRunStore store) : this(store, new DatasetLoader()) { }

    public RunOutcome Run(ExperimentDefinition definition, RunOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new RunOptions();
        return Execute(StartRun(definition, options, cancel), options, earlier: null);
    }

    /// <summary>
    /// Records the start of a run that another process carries out (<see cref="Continue"/>: a cluster's worker), with
    /// this process's commit, environment and report folder; returns its id.
    /// </summary>
    public long Prepare(ExperimentDefinition definition, RunOptions? options = null, CancellationToken cancel = default) =>
        StartRun(definition, options ?? new RunOptions(), cancel).RunId;

    /// <summary>
    /// Carries out stored run <paramref name="runId"/> in this process: one <see cref="Prepare"/>d elsewhere, or one an
    /// earlier attempt left unfinished when its process died. What that attempt finished (trials, comparisons, data
    /// checks) is kept and not done again; a trial it left running is marked killed and run again; the data must be
    /// what that attempt read. One run, however many attempts: a run an attempt already ended (its process died before
    /// it could say so) is returned as stored. Stopped, it writes neither the run's end nor its reports: whoever holds
    /// the run then (the next worker, or the submitter the user stopped) writes them.
    /// </summary>
    public RunOutcome Continue(long runId, ExperimentDefinition definition, RunOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new RunOptions();
        if (store.GetRunRecord(runId).Status != RunStatus.Running) return Recorded(store, runId);
        var run = ResumeRun(runId, definition, options, cancel, handedOver: true);
        var earlier = store.GetRun(runId);
        MarkKilled(earlier.Trials, "the process running it ended; the run went on in another");
        return Execute(run, options, earlier);
    }

    /// <summary>Marks the trials that a process which ended left running as killed, saying <paramref name="why"/>; they are done again.</summary>
    private void MarkKilled(IEnumerable<TrialRecord> trials, string why)
    {
        foreach (var stale in trials.Where(t => t.Status == "running")) store.FinishTrial(stale.Id, "killed", null, null, null, why);
    }

    /// <summary>The run's work: every model on every split (but what <paramref name="earlier"/> finished), then its end, regression check and reports.</summary>
    private RunOutcome Execute(RunScope run, RunOptions options, RunDetails? earlier)
    {
        var (definition, observer, cancel, runId) = (run.Definition, options.Observer, run.Cancel, run.RunId);
        var kept = (earlier?.Trials ?? []).Where(t => t.Status is "finished" or "failed").GroupBy(t => (t.ModelName, t.Split)).ToDictionary(g => g.Key, g => g.First());
        var trials = new List<TrialResult>();
        RunStatus status;
        string? error;
        try
        {
            var (task, _) = OpenTask(run, options, earlier?.Run.DataFingerprint is { } fingerprint
                ? (fingerprint, "an earlier attempt at this run read other data, and its finished trials were scored on that. Give every worker the same data (the shared data directory, worker --data-dir).")
                : null, checksRecorded: earlier?.DataIssues.Count > 0);
            foreach (var split in task.Splits())
            {
                var units = new Dictionary<string, UserValuesRecord>();
                foreach (var model in definition.Models)
                {
                    cancel.ThrowIfCancellationRequested();
                    var (result, values) = kept.TryGetValue((model.Name, split.Name), out var done)
                        ? (ResultOf(done), done.Status == "finished" ? store.GetUserValues(done.Id) : null)
                        : RunTrial(run, task, model, split);
                    trials.Add(result);
                    if (values is not null) units[model.Name] = values;
                    observer.TrialFinished(result);
                }
                if (earlier?.Comparisons.Any(c => c.Split == split.Name) != true) CompareWithBaseline(runId, definition, split.Name, units);
            }
            status = trials.Any(t => t.Status == "failed") ? RunStatus.Failed : RunStatus.Finished;
            error = status == RunStatus.Failed ? string.Join("; ", trials.Where(t => t.Error is not null).Select(t => $"{t.Model}: {t.Error}")) : null;
        }
        catch (Exception) when (cancel.IsCancellationRequested && earlier is not null)
        {
            // A continued run stopped here (its lease lost to another worker, or the submitter stopped): not this attempt's end to write.
            throw new OperationCanceledException(cancel);
        }
        catch (Exception) when (cancel.IsCancellationRequested)
        {
            // Whatever a stopped step threw (a cancellation, or one wrapped by a parallel loop), the user stopped the run.
            (status, error) = (RunStatus.Cancelled, "Stopped by the user; finished trials are kept.");
        }
        catch (Exception e)
        {
            // The run cannot go on (its data, its splits): recorded as failed, with a report of what it had.
            store.FinishRun(runId, RunStatus.Failed, Describe(e));
            RunReports.TryWrite(store, runId, observer.Warning);
            throw;
        }
        store.FinishRun(runId, status, error);
        var regression = definition.Regression is not null && status != RunStatus.Cancelled ? RegressionCheck.Record(store, runId, definition, observer.Warning) : null;
        var (reports, reportError) = RunReports.Write(store, runId);
        return new RunOutcome(runId, status, trials, reports, status == RunStatus.Cancelled ? "cancelled" : error, reportError, regression);
    }

    /// <summary>Records the run's start (after checking where its reports go) and marks runs of dead processes as killed.</summary>
    private RunScope StartRun(ExperimentDefinition definition, RunOptions options, CancellationToken cancel)
    {
        // Where results go is checked before anything is trained (the store was checked when it was opened).
        var reportsRoot = RunReports.PrepareFolder(options.ReportDirectory ?? definition.Output.Reports);
        RunReports.SettleAbandoned(store, options.Observer.Warning);
        // The commit is the definition's own repository's (a definition built in code: the working directory's).
        var (commit, dirty) = RunEnvironment.Git(options.Source is { } source ? Path.GetDirectoryName(Path.GetFullPath(source))! : Directory.GetCurrentDirectory(), options.Source);
        var runId = store.StartRun(new RunStart(definition.Name, definition.Description, DefinitionWriter.ToJson(definition), DefinitionWriter.Hash(definition),
            options.Source, definition.Dataset.Name, definition.Seed, commit, RunEnvironment.PackageVersions(), RunEnvironment.Machine, dirty, reportsRoot));
        return Scope(runId, definition, options, cancel);
    }

    /// <summary>
    /// Reopens stored run <paramref name="runId"/> (a resumed sweep's, a continued run's) in this process, its report
    /// folder kept (<see cref="IRunStore.ResumeRun"/> says what <paramref name="takeOver"/> and <paramref name="handedOver"/> allow).
    /// </summary>
    private RunScope ResumeRun(long runId, ExperimentDefinition definition, RunOptions options, CancellationToken cancel, bool takeOver = false, bool handedOver = false)
    {
        RunReports.SettleAbandoned(store, options.Observer.Warning);
        store.ResumeRun(runId, takeOver, handedOver);
        return Scope(runId, definition, options, cancel);
    }

    private RunScope Scope(long runId, ExperimentDefinition definition, RunOptions options, CancellationToken cancel)
    {
        options.Observer.RunStarted(runId);
        return new RunScope(runId, definition, store, store.GetRunRecord(runId).ReportFolder!, options.Observer, cancel);
    }

    /// <summary>
    /// Loads the data (checked, its fingerprint and problems recorded unless <paramref name="checksRecorded"/>) and the
    /// task that fits models on it. Data that must be what it was (a resumed run's, whose stored trials were scored on it;
    /// a cluster sweep's, which its submitter loaded) has its <paramref name="expected"/> fingerprint and what to do otherwise.
    /// Returns the task and the fingerprint of the data it read (as recorded).
    /// </summary>
    private (IExperimentTask Task, string Fingerprint) OpenTask(RunScope run, RunOptions options, (string Fingerprint, string Otherwise)? expected = null, bool checksRecorded = false) =>
        RecordData(run, LoadTask(run, options, expected), checksRecorded);

    /// <summary>
    /// The data and its task, read and compared with <paramref name="expected"/> but not recorded: nothing is written to
    /// the store (a resumed sweep checks its data before it reopens its run). The task records its profile as it splits.
    /// </summary>
    private (IExperimentTask Task, Dataset Data) LoadTask(RunScope run, RunOptions options, (string Fingerprint, string Otherwise)? expected)
    {
        var definition = run.Definition;
        run.Observer.Stage($"Loading {definition.Dataset.Name}");
        var dataset = loader.Open(DatasetRequest.From(definition.Dataset, options.DataDirectory));
        IExperimentTask task = definition.Task switch
        {
            MetricCatalog.Classification => new ClassificationTask(run, dataset),
            MetricCatalog.Search => new SearchTask(run, dataset),
            MetricCatalog.Hybrid => new HybridTask(run, dataset),
            _ => new RecommenderTask(run, dataset),
        };
        // The fingerprint is complete once the task has read its tables.
        if (expected is { } data && data.Fingerprint != dataset.Fingerprint)
            throw new ExperimentsException($"The data of {definition.Dataset.Name} on {Environment.MachineName} is not what it was (fingerprint {data.Fingerprint[..12]}…, here {dataset.Fingerprint[..12]}…): {data.Otherwise}");
        return (task, dataset);
    }

    /// <summary>Records loaded data's fingerprint and checks (the checks unless <paramref name="checksRecorded"/>) in the run; returns its task and that fingerprint.</summary>
    private (IExperimentTask Task, string Fingerprint) RecordData(RunScope run, (IExperimentTask Task, Dataset Data) loaded, bool checksRecorded = false)
    {
        var (task, dataset) = loaded;
        store.RecordDataset(run.RunId, dataset.Fingerprint, dataset.Origin, dataset.IsSynthetic);
        RecordChecks(run.RunId, dataset, run.Observer, record: !checksRecorded);
        return (task, dataset.Fingerprint);
    }

    /// <summary>
    /// One model on one split: started, measured and finished in the store. Any failure inside it — the platform's
    /// own errors, an undefined metric, a singular system, an ML.NET or native-library error — fails this trial only:
    /// it is recorded with its type and message and the run goes on. (A stack overflow or an access violation ends
    /// the process in .NET and cannot be caught; the next program to open the store marks the run killed.)
    /// </summary>
    private (TrialResult Result, UserValuesRecord? Units) RunTrial(RunScope run, IExperimentTask task, ModelSpec model, TaskSplit split)
    {
        var parameters = model.Parameters.ToDictionary(p => p.Key, p => Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? "");
        var trialId = store.StartTrial(run.RunId, model.Name, model.Type, split.Name, parameters);
        var clock = Stopwatch.StartNew();
        try
        {
            var measured = task.Measure(model, split, new TrialScope(run, trialId));
            store.RecordMetrics(run.RunId, trialId, measured.Values.Concat(measured.Extra).Select(v => new MetricRecord(v.Metric, v.K, v.Value, v.Lower, v.Upper, v.Users, split.Name)));
            if (measured.Units is { } units) store.RecordUserValues(trialId, units);
            if (measured.Curves is { Count: > 0 } curves) store.RecordCurves(run.RunId, curves);
            if (measured.Facts is { Count: > 0 } facts) store.RecordFacts(trialId, facts);
            store.FinishTrial(trialId, "finished", measured.FitSeconds, measured.EvaluateSeconds, measured.Protocol, null);
            return (new TrialResult(trialId, model.Name, model.Type, split.Name, "finished", measured.FitSeconds, measured.EvaluateSeconds, measured.Values, measured.Protocol, null), measured.Units);
        }
        catch (Exception) when (run.Cancel.IsCancellationRequested)
        {
            store.FinishTrial(trialId, "cancelled", clock.Elapsed.TotalSeconds, null, null, "stopped by the user");
            throw new OperationCanceledException(run.Cancel);
        }
        catch (Exception e)
        {
            var message = Describe(e);
            store.FinishTrial(trialId, "failed", clock.Elapsed.TotalSeconds, null, null, message);
            return (new TrialResult(trialId, model.Name, model.Type, split.Name, "failed", clock.Elapsed.TotalSeconds, 0, [], null, message), null);
        }
    }

    /// <summary>
    /// A failure in one line: the platform's own errors as they are (their messages are complete), anything else with
    /// its type (what a bug report needs); wrappers (parallel loops, reflection) are looked through.
    /// </summary>
    internal static string Describe(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException && e.InnerException is { } inner) e = inner;
        return e is ExperimentsException ? e.Message : $"{e.GetType().Name}: {e.Message}";
    }

    /// <summary>
    /// Paired tests of every model against the baseline (the first model unless named), metric by metric, on this
    /// split's units, with the definition's resamples, level and seed; Holm adjusts over the split's tests.
    /// </summary>
    private void CompareWithBaseline(long runId, ExperimentDefinition definition, string split, IReadOnlyDictionary<string, UserValuesRecord> units)
    {
        var spec = definition.Evaluation;
        var baseline = spec.Baseline ?? definition.Models[0].Name;
        if (!units.TryGetValue(baseline, out var reference)) return;
        var settings = new PairedSettings(spec.BootstrapSamples, spec.ConfidenceLevel, definition.Seed);
        var comparisons = new List<ComparisonRecord>();
        foreach (var model in definition.Models.Where(m => m.Name != baseline && units.ContainsKey(m.Name)))
        {
            var values = units[model.Name];
            if (!values.Users.SequenceEqual(reference.Users)) continue; // different test units: not a paired design
            comparisons.AddRange(RunComparison.Trials(definition.Metrics, settings, split, baseline, model.Name, reference, values));
        }
        if (comparisons.Count > 0) store.RecordComparisons(runId, RunComparison.WithHolm(comparisons));
    }

    private void RecordChecks(long runId, Dataset dataset, IRunObserver observer, bool record)
    {
        var examples = dataset.Checks.Examples;
        var issues = dataset.Checks.Counts.Select(c =>
        {
            var example = examples.FirstOrDefault(e => e.Kind == c.Key);
            return new DataIssueRecord(c.Key, c.Value, example?.File, example?.Line, example?.Message);
        }).ToList();
        if (record && issues.Count > 0) store.RecordDataIssues(runId, issues);
        foreach (var issue in issues.Where(i => i.Kind.StartsWith("skipped", StringComparison.Ordinal) || i.Kind.StartsWith("duplicate", StringComparison.Ordinal) || i.Kind == "warning"))
            observer.Warning($"{dataset.Name}: {issue.Kind}: {issue.Count:N0} (e.g. {issue.ExampleFile}{(issue.ExampleLine > 0 ? $" line {issue.ExampleLine}" : "")}: {issue.Example})");
    }
}
