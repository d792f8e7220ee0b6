using System.Diagnostics;
using System.Text.Json;
using Experiments.Core.Definitions;
using Experiments.Ctr;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation;
using Experiments.Evaluation.Classification;
using Experiments.Text;

namespace Experiments.Runs;

/// <summary>Click-through classification: the labelled table as a click log, row splits, text encoders trained per split, click models.</summary>
internal sealed class ClassificationTask : IExperimentTask
{
    private readonly RunScope _run;
    private readonly ClickLog _log;

    public ClassificationTask(RunScope run, Dataset dataset)
    {
        _run = run;
        var definition = run.Definition;
        _log = definition.Dataset.ClicksFromRatings is { } derive
            ? DerivedClicks.FromRatings(dataset.Interactions(definition.Dataset.Table), dataset.Items(), derive.PositiveRating, derive.NegativesPerPositive, definition.Seed)
            : ClickLog.From(dataset.Table(definition.Dataset.Table ?? Platform.Vocabulary.Datasets.First(d => d.Name == dataset.Name).LabelledTables.First()));
    }

    private sealed record Split(string Name, ClickLog Train, ClickLog? Validation, ClickLog Test, IReadOnlyDictionary<string, TextEmbedding> Encoders) : TaskSplit(Name);

    public IEnumerable<TaskSplit> Splits()
    {
        var definition = _run.Definition;
        var spec = definition.Split;
        _run.Observer.Stage($"Splitting {_log.Count:N0} rows ({spec.Method})");
        var splits = spec.Method switch
        {
            "k-fold" => RowSplitter.KFold(_log.Count, spec.Folds, definition.Seed),
            "random" => [RowSplitter.Random(_log.Count, spec.TestFraction, spec.ValidationFraction, definition.Seed)],
            _ => [RowSplitter.Stratified(_log.Labels.Select(l => l ? 1 : 0).ToArray(), spec.TestFraction, spec.ValidationFraction, definition.Seed)],
        };
        foreach (var split in splits)
        {
            var train = _log.Subset(split.Train);
            var validation = split.Validation.Length > 0 ? _log.Subset(split.Validation) : null;
            var encoders = RunEncoders.Fit(_run.Store, _run.RunId, definition, train, validation, split.Name, _run.ReportFolder, _run.Observer, _run.Cancel);
            yield return new Split(split.Name, train, validation, _log.Subset(split.Test), encoders);
        }
    }

    public TrialMeasurement Measure(ModelSpec model, TaskSplit taskSplit, TrialScope trial)
    {
        var split = (Split)taskSplit;
        var (definition, observer, cancel) = (_run.Definition, _run.Observer, _run.Cancel);
        var (train, validation, test) = (split.Train, split.Validation, split.Test);
        var clock = Stopwatch.StartNew();
        observer.Stage($"Fitting {model.Name} ({split.Name})");
        var fitted = CtrTrainer.Fit(train, CtrCatalog.Options(model.Type, model.Parameters, definition.Seed, name => split.Encoders[name]), cancel);
        var fitSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        observer.Stage($"Evaluating {model.Name} ({split.Name})");
        var probabilities = fitted.Predict(test);
        var result = ClassificationEvaluator.EvaluateBinary(test.Labels, probabilities, definition.Metrics, definition.Evaluation, definition.Seed,
            validation is null ? null : (validation.Labels, fitted.Predict(validation)));
        cancel.ThrowIfCancellationRequested();
        var importance = PermutationImportance.Compute(fitted, test, repeats: 3, definition.Seed, cancel);
        var mlnetImportance = fitted.MLNetPermutationImportance(test, permutations: 1, definition.Seed, cancel);
        var evaluateSeconds = clock.Elapsed.TotalSeconds;
        // Curves and importances go beside the report, one file per trial, recorded as artifacts.
        var details = Path.Combine(_run.ReportFolder, $"trial-{trial.TrialId}-{RunArtifacts.FileName(model.Name)}.json");
        Directory.CreateDirectory(_run.ReportFolder);
        File.WriteAllText(details, JsonSerializer.Serialize(new
        {
            model = model.Name, split = split.Name, threshold = result.Threshold, protocol = result.Protocol,
            confusion = new[] { new[] { result.Confusion[0, 0], result.Confusion[0, 1] }, new[] { result.Confusion[1, 0], result.Confusion[1, 1] } },
            featureImportance = importance.Select(i => new { i.Column, i.AucDrop, i.StandardDeviation }),
            mlnetPermutationImportance = mlnetImportance is { } pfi
                ? new { bySourceColumn = pfi.Columns.Select(c => new { c.Column, c.AucDrop }), topSlots = pfi.Slots.Select(x => new { x.Slot, x.AucDrop }) }
                : null,
            roc = Curves.Roc(test.Labels, probabilities).Select(p => new[] { p.Fpr, p.Tpr }),
            precisionRecall = Curves.PrecisionRecall(test.Labels, probabilities).Select(p => new[] { p.Recall, p.Precision }),
            calibration = Curves.Calibration(test.Labels, probabilities).Select(b => new { b.MeanPredicted, b.ObservedRate, b.Count }),
        }, new JsonSerializerOptions { WriteIndented = true }));
        RunArtifacts.Record(_run.Store, _run.RunId, trial.TrialId, "classification-details", details);
        // The chosen decision threshold is kept beside the metrics, so tables and reports show it per model.
        return new TrialMeasurement(fitSeconds, evaluateSeconds, result.Values, result.Protocol, null,
            [new MetricValue("threshold", null, result.Threshold!.Value, null, null, test.Count)]);
    }
}
