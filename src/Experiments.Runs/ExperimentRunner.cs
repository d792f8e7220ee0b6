using System.Diagnostics;
using System.Globalization;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation;
using Experiments.Recommenders;
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
        var trials = new List<TrialResult>();
        try
        {
            observer.Stage($"Loading {definition.Dataset.Name}");
            var dataset = loader.Open(DatasetRequest.From(definition.Dataset, options.DataDirectory));
            var data = definition.Split.Method == "predefined"
                ? dataset.PredefinedSplit(definition.Split.Name!).All
                : dataset.Interactions(definition.Dataset.Table);
            store.RecordDataset(runId, dataset.Fingerprint, dataset.Origin, dataset.IsSynthetic);
            RecordChecks(runId, dataset, observer);
            if (definition.Task == MetricCatalog.Rating && !data.HasRatings)
                throw new ExperimentsException($"Task 'rating' needs ratings, but table '{definition.Dataset.Table ?? dataset.Manifest.DefaultTable}' of '{dataset.Name}' has none; use task 'ranking' or a table with ratings.");

            observer.Stage($"Splitting {data.Count:N0} interactions ({definition.Split.Method})");
            var splits = SplitterFactory.Create(definition.Split, dataset.PredefinedSplit).Split(data, definition.Seed);
            foreach (var split in splits)
            {
                if (split.Train.Length == 0 || split.Test.Length == 0)
                    throw new ExperimentsException($"Split '{split.Name}' left {split.Train.Length} training and {split.Test.Length} test rows; both must be non-empty. Change the split fractions.");
                var train = data.Subset(split.Train);
                var test = data.Subset(split.Test);
                foreach (var model in definition.Models)
                {
                    cancel.ThrowIfCancellationRequested();
                    var result = RunTrial(runId, definition, model, split.Name, train, test, observer, cancel);
                    trials.Add(result);
                    observer.TrialFinished(result);
                }
            }
            var status = trials.Any(t => t.Status == "failed") ? RunStatus.Failed : RunStatus.Finished;
            var error = status == RunStatus.Failed ? string.Join("; ", trials.Where(t => t.Error is not null).Select(t => $"{t.Model}: {t.Error}")) : null;
            store.FinishRun(runId, status, error);
            var reports = WriteReports(runId, definition, options);
            return new RunOutcome(runId, status, trials, reports, error);
        }
        catch (OperationCanceledException)
        {
            store.FinishRun(runId, RunStatus.Cancelled, "Stopped by the user; finished trials are kept.");
            return new RunOutcome(runId, RunStatus.Cancelled, trials, WriteReports(runId, definition, options), "cancelled");
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

    private TrialResult RunTrial(long runId, ExperimentDefinition definition, ModelSpec model, string split,
        Core.Data.Interactions train, Core.Data.Interactions test, IRunObserver observer, CancellationToken cancel)
    {
        var parameters = model.Parameters.ToDictionary(p => p.Key, p => Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? "");
        var trialId = store.StartTrial(runId, model.Name, model.Type, split, parameters);
        var clock = Stopwatch.StartNew();
        double fitSeconds = 0;
        try
        {
            observer.Stage($"Fitting {model.Name} ({split})");
            var fitted = RecommenderCatalog.Create(model.Type, model.Parameters, definition.Seed).Fit(train, cancel);
            fitSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            observer.Stage($"Evaluating {model.Name} ({split})");
            var evaluation = RecommenderEvaluator.Evaluate(fitted, train, test, definition.Metrics, definition.Evaluation, definition.Seed,
                new Progress<double>(f => observer.Progress(model.Name, f)), cancel);
            var evaluateSeconds = clock.Elapsed.TotalSeconds;
            store.RecordMetrics(runId, trialId, evaluation.Values.Select(v => new MetricRecord(v.Metric, v.K, v.Value, v.Lower, v.Upper, v.Users, split)));
            store.FinishTrial(trialId, "finished", fitSeconds, evaluateSeconds, evaluation.Protocol, null);
            return new TrialResult(trialId, model.Name, model.Type, split, "finished", fitSeconds, evaluateSeconds, evaluation.Values, evaluation.Protocol, null);
        }
        catch (OperationCanceledException)
        {
            store.FinishTrial(trialId, "cancelled", fitSeconds, null, null, "stopped by the user");
            throw;
        }
        catch (ExperimentsException e)
        {
            // One model's failure does not lose the others: record it and go on.
            store.FinishTrial(trialId, "failed", fitSeconds, null, null, e.Message);
            observer.Warning($"{model.Name} failed: {e.Message}");
            return new TrialResult(trialId, model.Name, model.Type, split, "failed", fitSeconds, 0, [], null, e.Message);
        }
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

    private List<string> WriteReports(long runId, ExperimentDefinition definition, RunOptions options)
    {
        var folder = Path.Combine(options.ReportDirectory ?? definition.Output.Reports, $"run-{runId}");
        var written = new List<string>();
        var details = store.GetRun(runId);
        foreach (var format in definition.Output.Formats)
        {
            var path = ReportWriter.Write(details, format, folder);
            var info = new FileInfo(path);
            store.RecordArtifact(runId, null, $"report-{format}", path, ReportWriter.Sha256(path), info.Length);
            written.Add(path);
        }
        return written;
    }
}
