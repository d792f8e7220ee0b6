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

/// <summary>How a run ended and what it produced.</summary>
public sealed record RunOutcome(long RunId, RunStatus Status, IReadOnlyList<TrialResult> Trials, IReadOnlyList<string> Reports, string? Error);

/// <summary>
/// Runs an experiment: load the data (checked), split it, fit and evaluate every model on every split, record each
/// step in the store as it completes, and write the reports. Notebooks and the CLI call the same method.
/// </summary>
public sealed class ExperimentRunner(IRunStore store, IDatasetLoader loader)
{
    public ExperimentRunner(IRunStore store) : this(store, new DatasetLoader()) { }

    public RunOutcome Run(ExperimentDefinition definition, RunOptions? options = null, CancellationToken cancel = default)
    {
        options ??= new RunOptions();
        var observer = options.Observer;
        var abandoned = store.MarkAbandonedRuns();
        if (abandoned > 0) observer.Warning($"{abandoned} earlier run(s) in {store.Location} had been killed mid-way; they are marked 'killed' and keep what they finished.");

        var runId = store.StartRun(new RunStart(definition.Name, definition.Description, DefinitionWriter.ToJson(definition), DefinitionWriter.Hash(definition),
            options.Source, definition.Dataset.Name, definition.Seed, RunEnvironment.GitCommit(Directory.GetCurrentDirectory()),
            RunEnvironment.PackageVersions(), RunEnvironment.Machine));
        var run = new RunScope(runId, definition, store, Path.Combine(options.ReportDirectory ?? definition.Output.Reports, $"run-{runId}"), observer, cancel);
        var trials = new List<TrialResult>();
        try
        {
            observer.Stage($"Loading {definition.Dataset.Name}");
            var dataset = loader.Open(DatasetRequest.From(definition.Dataset, options.DataDirectory));
            IExperimentTask task = definition.Task == MetricCatalog.Classification ? new ClassificationTask(run, dataset) : definition.Task == MetricCatalog.Search ? new SearchTask(run, dataset) : new RecommenderTask(run, dataset);
            store.RecordDataset(runId, dataset.Fingerprint, dataset.Origin, dataset.IsSynthetic);
            RecordChecks(runId, dataset, observer);
            foreach (var split in task.Splits())
            {
                var units = new Dictionary<string, UserValuesRecord>();
                foreach (var model in definition.Models)
                {
                    cancel.ThrowIfCancellationRequested();
                    var (result, values) = RunTrial(run, task, model, split);
                    trials.Add(result);
                    if (values is not null) units[model.Name] = values;
                    observer.TrialFinished(result);
                }
                CompareWithBaseline(runId, definition, split.Name, units);
            }
            var status = trials.Any(t => t.Status == "failed") ? RunStatus.Failed : RunStatus.Finished;
            var error = status == RunStatus.Failed ? string.Join("; ", trials.Where(t => t.Error is not null).Select(t => $"{t.Model}: {t.Error}")) : null;
            store.FinishRun(runId, status, error);
            var reports = WriteReports(run);
            return new RunOutcome(runId, status, trials, reports, error);
        }
        catch (OperationCanceledException)
        {
            store.FinishRun(runId, RunStatus.Cancelled, "Stopped by the user; finished trials are kept.");
            return new RunOutcome(runId, RunStatus.Cancelled, trials, WriteReports(run), "cancelled");
        }
        catch (ExperimentsException e)
        {
            store.FinishRun(runId, RunStatus.Failed, e.Message);
            throw;
        }
        catch (Exception e)
        {
            store.FinishRun(runId, RunStatus.Failed, $"{e.GetType().Name}: {e.Message}");
            throw;
        }
    }

    /// <summary>One model on one split: started, measured and finished in the store; a failure is recorded and the run goes on.</summary>
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
            store.FinishTrial(trialId, "finished", measured.FitSeconds, measured.EvaluateSeconds, measured.Protocol, null);
            return (new TrialResult(trialId, model.Name, model.Type, split.Name, "finished", measured.FitSeconds, measured.EvaluateSeconds, measured.Values, measured.Protocol, null), measured.Units);
        }
        catch (OperationCanceledException)
        {
            store.FinishTrial(trialId, "cancelled", clock.Elapsed.TotalSeconds, null, null, "stopped by the user");
            throw;
        }
        catch (ExperimentsException e)
        {
            // One model's failure does not lose the others: record it and go on.
            store.FinishTrial(trialId, "failed", clock.Elapsed.TotalSeconds, null, null, e.Message);
            run.Observer.Warning($"{model.Name} failed: {e.Message}");
            return (new TrialResult(trialId, model.Name, model.Type, split.Name, "failed", clock.Elapsed.TotalSeconds, 0, [], null, e.Message), null);
        }
    }

    /// <summary>Paired tests of every model against the baseline (the first model unless named), metric by metric, on this split.</summary>
    private void CompareWithBaseline(long runId, ExperimentDefinition definition, string split, IReadOnlyDictionary<string, UserValuesRecord> units)
    {
        var spec = definition.Evaluation;
        var baseline = spec.Baseline ?? definition.Models[0].Name;
        if (spec.BootstrapSamples == 0 || !units.TryGetValue(baseline, out var reference)) return;
        var comparisons = new List<ComparisonRecord>();
        foreach (var model in definition.Models.Where(m => m.Name != baseline && units.ContainsKey(m.Name)))
        {
            var values = units[model.Name];
            if (!values.Users.SequenceEqual(reference.Users)) continue; // different test users: not a paired design
            foreach (var (metric, baselineValues) in reference.Values)
            {
                if (!values.Values.TryGetValue(metric, out var modelValues)) continue;
                var test = PairedTest.Compare(baselineValues, modelValues, spec.BootstrapSamples, spec.ConfidenceLevel, definition.Seed);
                comparisons.Add(new ComparisonRecord(split, metric, baseline, model.Name, test.Difference, test.Lower, test.Upper, test.PValue, test.Users));
            }
        }
        if (comparisons.Count > 0) store.RecordComparisons(runId, comparisons);
    }

    private void RecordChecks(long runId, Dataset dataset, IRunObserver observer)
    {
        var examples = dataset.Checks.Examples;
        var issues = dataset.Checks.Counts.Select(c =>
        {
            var example = examples.FirstOrDefault(e => e.Kind == c.Key);
            return new DataIssueRecord(c.Key, c.Value, example?.File, example?.Line, example?.Message);
        }).ToList();
        if (issues.Count > 0) store.RecordDataIssues(runId, issues);
        foreach (var issue in issues.Where(i => i.Kind.StartsWith("skipped", StringComparison.Ordinal) || i.Kind.StartsWith("duplicate", StringComparison.Ordinal) || i.Kind == "warning"))
            observer.Warning($"{dataset.Name}: {issue.Kind}: {issue.Count:N0} (e.g. {issue.ExampleFile}{(issue.ExampleLine > 0 ? $" line {issue.ExampleLine}" : "")}: {issue.Example})");
    }

    private List<string> WriteReports(RunScope run)
    {
        var written = new List<string>();
        var details = store.GetRun(run.RunId);
        foreach (var format in run.Definition.Output.Formats)
        {
            var path = ReportWriter.Write(details, format, run.ReportFolder);
            RunArtifacts.Record(store, run.RunId, null, $"report-{format}", path);
            written.Add(path);
        }
        return written;
    }
}
