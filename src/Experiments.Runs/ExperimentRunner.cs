using System.Diagnostics;
using System.Globalization;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation;
using Experiments.Evaluation.Ranking;
using Experiments.Evaluation.Statistics;
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
            if (definition.Task == MetricCatalog.Classification)
                RunClassification(runId, definition, dataset, options, observer, trials, cancel);
            else
                RunRecommenders(runId, definition, dataset, observer, trials, cancel);
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

    /// <summary>Recommendation (ranking or rating): interactions, user-aware splits, one trial per model and split, paired tests per split.</summary>
    private void RunRecommenders(long runId, ExperimentDefinition definition, Dataset dataset, IRunObserver observer, List<TrialResult> trials, CancellationToken cancel)
    {
        var data = definition.Split.Method == "predefined"
            ? dataset.PredefinedSplit(definition.Split.Name!).All
            : dataset.Interactions(definition.Dataset.Table);
        store.RecordDataset(runId, dataset.Fingerprint, dataset.Origin, dataset.IsSynthetic);
        RecordChecks(runId, dataset, observer);
        if (definition.Task == MetricCatalog.Rating && !data.HasRatings)
            throw new ExperimentsException($"Task 'rating' needs ratings, but table '{definition.Dataset.Table ?? dataset.Manifest.DefaultTable}' of '{dataset.Name}' has none; use task 'ranking' or a table with ratings.");

        var similarity = definition.Metrics.Any(m => m.Name == "diversity") ? CategorySimilarityOf(dataset, data) : null;
        observer.Stage($"Splitting {data.Count:N0} interactions ({definition.Split.Method})");
        var splits = SplitterFactory.Create(definition.Split, dataset.PredefinedSplit).Split(data, definition.Seed);
        foreach (var split in splits)
        {
            if (split.Train.Length == 0 || split.Test.Length == 0)
                throw new ExperimentsException($"Split '{split.Name}' left {split.Train.Length} training and {split.Test.Length} test rows; both must be non-empty. Change the split fractions.");
            var train = data.Subset(split.Train);
            var test = data.Subset(split.Test);
            var validation = split.Validation.Length > 0 ? data.Subset(split.Validation) : null;
            var perUser = new Dictionary<string, PerUserValues>();
            foreach (var model in definition.Models)
            {
                cancel.ThrowIfCancellationRequested();
                var (result, values) = RunTrial(runId, definition, model, split.Name, train, validation, test, similarity, observer, cancel);
                trials.Add(result);
                if (values is not null) perUser[model.Name] = values;
                observer.TrialFinished(result);
            }
            CompareWithBaseline(runId, definition, split.Name, perUser);
        }
    }

    /// <summary>Click-through classification: the labelled table as a click log, row splits, one trial per model and split.</summary>
    private void RunClassification(long runId, ExperimentDefinition definition, Dataset dataset, RunOptions options, IRunObserver observer, List<TrialResult> trials, CancellationToken cancel)
    {
        var log = definition.Dataset.ClicksFromRatings is { } derive
            ? Experiments.Ctr.DerivedClicks.FromRatings(dataset.Interactions(definition.Dataset.Table), dataset.Items(), derive.PositiveRating, derive.NegativesPerPositive, definition.Seed)
            : Experiments.Ctr.ClickLog.From(dataset.Table(definition.Dataset.Table ?? Platform.Vocabulary.Datasets.First(d => d.Name == dataset.Name).LabelledTables.First()));
        store.RecordDataset(runId, dataset.Fingerprint, dataset.Origin, dataset.IsSynthetic);
        RecordChecks(runId, dataset, observer);
        observer.Stage($"Splitting {log.Count:N0} rows ({definition.Split.Method})");
        var spec = definition.Split;
        var splits = spec.Method switch
        {
            "k-fold" => RowSplitter.KFold(log.Count, spec.Folds, definition.Seed),
            "random" => [RowSplitter.Random(log.Count, spec.TestFraction, spec.ValidationFraction, definition.Seed)],
            _ => [RowSplitter.Stratified(log.Labels.Select(l => l ? 1 : 0).ToArray(), spec.TestFraction, spec.ValidationFraction, definition.Seed)],
        };
        var folder = ReportFolder(runId, definition, options);
        foreach (var split in splits)
        {
            var train = log.Subset(split.Train);
            var test = log.Subset(split.Test);
            var validation = split.Validation.Length > 0 ? log.Subset(split.Validation) : null;
            var encoders = RunEncoders.Fit(store, runId, definition, train, validation, split.Name, folder, observer, cancel);
            foreach (var model in definition.Models)
            {
                cancel.ThrowIfCancellationRequested();
                var parameters = model.Parameters.ToDictionary(p => p.Key, p => Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? "");
                var trialId = store.StartTrial(runId, model.Name, model.Type, split.Name, parameters);
                var clock = Stopwatch.StartNew();
                try
                {
                    observer.Stage($"Fitting {model.Name} ({split.Name})");
                    var fitted = Experiments.Ctr.CtrTrainer.Fit(train, Experiments.Ctr.CtrCatalog.Options(model.Type, model.Parameters, definition.Seed, name => encoders[name]));
                    var fitSeconds = clock.Elapsed.TotalSeconds;
                    clock.Restart();
                    observer.Stage($"Evaluating {model.Name} ({split.Name})");
                    var probabilities = fitted.Predict(test);
                    var result = Experiments.Evaluation.Classification.ClassificationEvaluator.EvaluateBinary(test.Labels, probabilities, definition.Metrics, definition.Evaluation, definition.Seed,
                        validation is null ? null : (validation.Labels, fitted.Predict(validation)));
                    var importance = Experiments.Ctr.PermutationImportance.Compute(fitted, test, repeats: 3, definition.Seed);
                    var mlnetImportance = fitted.MLNetPermutationImportance(test, permutations: 1, definition.Seed);
                    var evaluateSeconds = clock.Elapsed.TotalSeconds;
                    // The chosen decision threshold is kept beside the metrics, so tables and reports show it per model.
                    store.RecordMetrics(runId, trialId, result.Values.Select(v => new MetricRecord(v.Metric, v.K, v.Value, v.Lower, v.Upper, v.Users, split.Name))
                        .Append(new MetricRecord("threshold", null, result.Threshold!.Value, null, null, test.Count, split.Name)));
                    // Curves and importances go beside the report, one file per trial, recorded as artifacts.
                    var details = Path.Combine(folder, $"trial-{trialId}-{RunArtifacts.FileName(model.Name)}.json");
                    Directory.CreateDirectory(folder);
                    File.WriteAllText(details, System.Text.Json.JsonSerializer.Serialize(new
                    {
                        model = model.Name, split = split.Name, threshold = result.Threshold, protocol = result.Protocol,
                        confusion = new[] { new[] { result.Confusion[0, 0], result.Confusion[0, 1] }, new[] { result.Confusion[1, 0], result.Confusion[1, 1] } },
                        featureImportance = importance.Select(i => new { i.Column, i.AucDrop, i.StandardDeviation }),
                        mlnetPermutationImportance = mlnetImportance is { } pfi
                            ? new { bySourceColumn = pfi.Columns.Select(c => new { c.Column, c.AucDrop }), topSlots = pfi.Slots.Select(x => new { x.Slot, x.AucDrop }) }
                            : null,
                        roc = Experiments.Evaluation.Classification.Curves.Roc(test.Labels, probabilities).Select(p => new[] { p.Fpr, p.Tpr }),
                        precisionRecall = Experiments.Evaluation.Classification.Curves.PrecisionRecall(test.Labels, probabilities).Select(p => new[] { p.Recall, p.Precision }),
                        calibration = Experiments.Evaluation.Classification.Curves.Calibration(test.Labels, probabilities).Select(b => new { b.MeanPredicted, b.ObservedRate, b.Count }),
                    }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
                    RunArtifacts.Record(store, runId, trialId, "classification-details", details);
                    store.FinishTrial(trialId, "finished", fitSeconds, evaluateSeconds, result.Protocol, null);
                    var trial = new TrialResult(trialId, model.Name, model.Type, split.Name, "finished", fitSeconds, evaluateSeconds, result.Values, result.Protocol, null);
                    trials.Add(trial);
                    observer.TrialFinished(trial);
                }
                catch (OperationCanceledException)
                {
                    store.FinishTrial(trialId, "cancelled", null, null, null, "stopped by the user");
                    throw;
                }
                catch (ExperimentsException e)
                {
                    store.FinishTrial(trialId, "failed", clock.Elapsed.TotalSeconds, null, null, e.Message);
                    observer.Warning($"{model.Name} failed: {e.Message}");
                    trials.Add(new TrialResult(trialId, model.Name, model.Type, split.Name, "failed", 0, 0, [], null, e.Message));
                }
            }
        }
    }

    private static string ReportFolder(long runId, ExperimentDefinition definition, RunOptions options) =>
        Path.Combine(options.ReportDirectory ?? definition.Output.Reports, $"run-{runId}");

    private (TrialResult, PerUserValues?) RunTrial(long runId, ExperimentDefinition definition, ModelSpec model, string split,
        Core.Data.Interactions train, Core.Data.Interactions? validation, Core.Data.Interactions test, IItemSimilarity? similarity, IRunObserver observer, CancellationToken cancel)
    {
        var parameters = model.Parameters.ToDictionary(p => p.Key, p => Convert.ToString(p.Value, CultureInfo.InvariantCulture) ?? "");
        var trialId = store.StartTrial(runId, model.Name, model.Type, split, parameters);
        var clock = Stopwatch.StartNew();
        double fitSeconds = 0;
        try
        {
            observer.Stage($"Fitting {model.Name} ({split})");
            var trainer = RecommenderCatalog.Create(model.Type, model.Parameters, definition.Seed);
            // Validation rows, when the split has them, go to trainers that can use them (early stopping).
            var fitted = trainer is IValidatedTrainer validated && validation is not null ? validated.Fit(train, validation, cancel) : trainer.Fit(train, cancel);
            fitSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            observer.Stage($"Evaluating {model.Name} ({split})");
            var evaluation = RecommenderEvaluator.Evaluate(fitted, train, test, definition.Metrics, definition.Evaluation, definition.Seed,
                similarity, new Progress<double>(f => observer.Progress(model.Name, f)), cancel);
            var evaluateSeconds = clock.Elapsed.TotalSeconds;
            store.RecordMetrics(runId, trialId, evaluation.Values.Select(v => new MetricRecord(v.Metric, v.K, v.Value, v.Lower, v.Upper, v.Users, split)));
            if (evaluation.PerUser.Values.Count > 0)
                store.RecordUserValues(trialId, new UserValuesRecord(evaluation.PerUser.Users.Select(u => test.Users[u]).ToList(), evaluation.PerUser.Values));
            store.FinishTrial(trialId, "finished", fitSeconds, evaluateSeconds, evaluation.Protocol, null);
            return (new TrialResult(trialId, model.Name, model.Type, split, "finished", fitSeconds, evaluateSeconds, evaluation.Values, evaluation.Protocol, null), evaluation.PerUser);
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
            return (new TrialResult(trialId, model.Name, model.Type, split, "failed", fitSeconds, 0, [], null, e.Message), null);
        }
    }

    /// <summary>Paired tests of every model against the baseline (the first model unless named), metric by metric, on this split.</summary>
    private void CompareWithBaseline(long runId, ExperimentDefinition definition, string split, IReadOnlyDictionary<string, PerUserValues> perUser)
    {
        var spec = definition.Evaluation;
        var baseline = spec.Baseline ?? definition.Models[0].Name;
        if (spec.BootstrapSamples == 0 || !perUser.TryGetValue(baseline, out var reference)) return;
        var comparisons = new List<ComparisonRecord>();
        foreach (var model in definition.Models.Where(m => m.Name != baseline && perUser.ContainsKey(m.Name)))
        {
            var values = perUser[model.Name];
            if (!values.Users.AsSpan().SequenceEqual(reference.Users)) continue; // different test users: not a paired design
            foreach (var (metric, baselineValues) in reference.Values)
            {
                if (!values.Values.TryGetValue(metric, out var modelValues)) continue;
                var test = PairedTest.Compare(baselineValues, modelValues, spec.BootstrapSamples, spec.ConfidenceLevel, definition.Seed);
                comparisons.Add(new ComparisonRecord(split, metric, baseline, model.Name, test.Difference, test.Lower, test.Upper, test.PValue, test.Users));
            }
        }
        if (comparisons.Count > 0) store.RecordComparisons(runId, comparisons);
    }

    /// <summary>Item similarity by category, from the data set's item table, indexed like the interactions' items.</summary>
    private static CategorySimilarity CategorySimilarityOf(Dataset dataset, Core.Data.Interactions data)
    {
        var items = dataset.Items() ?? throw new ExperimentsException($"Metric 'diversity' needs item categories; data set '{dataset.Name}' has no item table.");
        var ids = items.WithRole("item")?.Strings;
        var categories = items.WithRole("category")?.Strings;
        if (ids is null || categories is null)
            throw new ExperimentsException($"Metric 'diversity' needs item categories; the item table of '{dataset.Name}' has no category column.");
        var byIndex = new string?[data.Items.Count];
        for (var row = 0; row < ids.Length; row++)
            if (data.Items.TryGetIndex(ids[row], out var index)) byIndex[index] = categories[row];
        return new CategorySimilarity(byIndex);
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
        var folder = ReportFolder(runId, definition, options);
        var written = new List<string>();
        var details = store.GetRun(runId);
        foreach (var format in definition.Output.Formats)
        {
            var path = ReportWriter.Write(details, format, folder);
            RunArtifacts.Record(store, runId, null, $"report-{format}", path);
            written.Add(path);
        }
        return written;
    }
}
