using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Ctr;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation;
using Experiments.Evaluation.Classification;
using Experiments.Evaluation.Statistics;
using Experiments.Store;
using Experiments.Text;

namespace Experiments.Runs;

/// <summary>Click-through classification: the labelled table as a click log, row splits, text encoders trained per split, click models.</summary>
internal sealed class ClassificationTask : IExperimentTask
{
    private readonly RunScope _run;
    private readonly ClickLog? _log;
    private readonly (ClickLog Train, ClickLog? Validation, ClickLog Test)? _predefined;

    public ClassificationTask(RunScope run, Dataset dataset)
    {
        _run = run;
        var spec = run.Definition.Dataset;
        ClickLog Log(string table) => ClickLog.From(dataset.Table(table), SchemaOf(spec));
        if (run.Definition.Split.Method == "predefined")
        {
            var split = dataset.PredefinedSplitManifest(run.Definition.Split.Name!);
            _predefined = (Log(split.Train), split.Validation is null ? null : Log(split.Validation), Log(split.Test));
        }
        else
            _log = spec.ClicksFromRatings is { } derive
                ? DerivedClicks.FromRatings(dataset.Interactions(spec.Table), dataset.Items(), derive.PositiveRating, derive.NegativesPerPositive, run.Definition.Seed)
                : Log(spec.Table ?? dataset.Manifest.LabelledTables.First().Name);
    }

    /// <summary>
    /// Own files: exactly the columns the definition maps are features (user and item ids as categorical ones);
    /// registered tables infer theirs from the manifest (null).
    /// </summary>
    private static ClickLogSchema? SchemaOf(DatasetSpec spec) => spec.Files is null ? null : new ClickLogSchema(spec.Columns.Label!, spec.Columns.Numeric,
        [.. new[] { spec.Columns.User, spec.Columns.Item }.OfType<string>(), .. spec.Columns.Categorical], spec.Columns.Text);

    /// <summary>
    /// One split. <paramref name="TestRows"/>: the test rows' positions in their labelled table, which name them in paired
    /// tests. The decision threshold is chosen on <see cref="Validation"/>'s predictions; with <see cref="ThresholdTrain"/>
    /// (a sweep's refit, whose training rows include the validation rows), by a model of the same options fitted on those
    /// rows only, so the threshold is never chosen on rows the evaluated model was trained on.
    /// </summary>
    private sealed record Split(string Name, ClickLog Train, ClickLog? Validation, ClickLog Test, int[] TestRows, IReadOnlyDictionary<string, TextEmbedding> Encoders,
        ClickLog? ThresholdTrain = null) : TaskSplit(Name)
    {
        public override long TrainingRows => Train.Count;
    }

    public IEnumerable<TaskSplit> Splits()
    {
        var definition = _run.Definition;
        if (_log is not null) _run.Store.RecordProfile(_run.RunId, DataProfiles.Clicks(_log));
        foreach (var (name, train, validation, test, testRows) in _predefined is { } fixedSplit ? [Predefined(fixedSplit)] : Cut(_log!))
        {
            _run.Store.RecordProfile(_run.RunId, DataProfiles.Split(name, train, validation, test));
            var encoders = RunEncoders.Fit(_run.Store, _run.RunId, definition, train, validation, name, _run.ReportFolder, _run.Observer, _run.Cancel);
            yield return new Split(name, train, validation, test, testRows, encoders);
        }
    }

    /// <summary>The definition's split of one click log: k folds, random rows, or stratified by label.</summary>
    private IEnumerable<(string, ClickLog, ClickLog?, ClickLog, int[])> Cut(ClickLog log)
    {
        var (spec, seed) = (_run.Definition.Split, _run.Definition.Seed);
        _run.Observer.Stage($"Splitting {log.Count:N0} rows ({spec.Method})");
        var splits = spec.Method switch
        {
            "k-fold" => RowSplitter.KFold(log.Count, spec.Folds, seed),
            "random" => [RowSplitter.Random(log.Count, spec.TestFraction, spec.ValidationFraction, seed)],
            _ => [RowSplitter.Stratified(Classes(log), spec.TestFraction, spec.ValidationFraction, seed)],
        };
        return splits.Select(s => (s.Name, log.Subset(s.Train), s.Validation.Length > 0 ? log.Subset(s.Validation) : null, log.Subset(s.Test), s.Test));
    }

    /// <summary>Fixed train and test logs; without a validation log, a validation fraction is carved from training, stratified by label, seeded.</summary>
    private (string, ClickLog, ClickLog?, ClickLog, int[]) Predefined((ClickLog Train, ClickLog? Validation, ClickLog Test) split)
    {
        var spec = _run.Definition.Split;
        var testRows = Enumerable.Range(0, split.Test.Count).ToArray();
        if (split.Validation is not null || spec.ValidationFraction == 0) return (spec.Name!, split.Train, split.Validation, split.Test, testRows);
        var carved = RowSplitter.Stratified(Classes(split.Train), 0, spec.ValidationFraction, _run.Definition.Seed);
        return (spec.Name!, split.Train.Subset(carved.Train), carved.Validation.Length > 0 ? split.Train.Subset(carved.Validation) : null, split.Test, testRows);
    }

    private static int[] Classes(ClickLog log) => log.Labels.Select(l => l ? 1 : 0).ToArray();

    public TrialMeasurement Measure(ModelSpec model, TaskSplit taskSplit, TrialScope trial)
    {
        var split = (Split)taskSplit;
        var (definition, observer, cancel) = (trial.Run.Definition, trial.Run.Observer, trial.Run.Cancel);
        var (train, validation, test) = (split.Train, split.Validation, split.Test);
        var clock = Stopwatch.StartNew();
        observer.Stage($"Fitting {model.Name} ({split.Name})");
        var options = CtrCatalog.Options(model.Type, model.Parameters, definition.Seed, name => split.Encoders[name]);
        var fitted = trial.Report is { } report && options.Algorithm is CtrAlgorithm.LightGbm or CtrAlgorithm.FastTree
            ? FitInRungs(train, validation, test, options, report, definition, cancel)
            : CtrTrainer.Fit(train, options, cancel);
        var fitSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        observer.Stage($"Evaluating {model.Name} ({split.Name})");
        var probabilities = fitted.Predict(test);
        var chooser = split.ThresholdTrain is { } rows && validation is not null && definition.Evaluation.ThresholdRule != "fixed" ? CtrTrainer.Fit(rows, options, cancel) : fitted;
        var result = ClassificationEvaluator.EvaluateBinary(test.Labels, probabilities, definition.Metrics, definition.Evaluation, definition.Seed,
            validation is null ? null : (validation.Labels, chooser.Predict(validation)));
        cancel.ThrowIfCancellationRequested();
        // What the report draws goes to the store, and ML.NET's per-slot importance beside the report (not for a sweep's trials).
        var curves = trial.TrialId is { } trialId ? WriteDetails(model, split, fitted, result, probabilities, trialId, cancel) : null;
        var evaluateSeconds = clock.Elapsed.TotalSeconds;
        // Each test row's label, score and decision, named by its row, for paired tests against the other models.
        var units = new UserValuesRecord(split.TestRows.Select(r => r.ToString(CultureInfo.InvariantCulture)).ToList(), result.PerRow!);
        // The chosen decision threshold is kept beside the metrics, so tables and reports show it per model.
        return new TrialMeasurement(fitSeconds, evaluateSeconds, result.Values, result.Protocol, units,
            [new MetricValue("threshold", null, result.Threshold!.Value, null, null, test.Count)], curves);
    }

    /// <summary>
    /// Boosted trees in a pruned sweep: ML.NET offers no per-round callback and no continued training, so the trees
    /// are fitted in rungs (<see cref="IntermediateReport.FitInRungs"/>), each scored on the rows the trial is scored on
    /// (the sweep's validation rows; threshold from <paramref name="validation"/>, the trial's held-out threshold rows,
    /// or fixed without them, as the trial's evaluation does).
    /// </summary>
    private static CtrModel FitInRungs(ClickLog train, ClickLog? validation, ClickLog scored, CtrOptions options, IntermediateReport report, ExperimentDefinition definition, CancellationToken cancel)
    {
        var metric = MetricName.Parse(report.Metric);
        var pointOnly = definition.Evaluation with { BootstrapSamples = 0 };
        return report.FitInRungs(definition.Sweep?.Pruner ?? new PrunerSpec(), options.NumberOfIterations,
            rounds => CtrTrainer.Fit(train, options with { NumberOfIterations = rounds }, cancel),
            fitted => ClassificationEvaluator.EvaluateBinary(scored.Labels, fitted.Predict(scored), [metric], pointOnly, definition.Seed,
                validation is null ? null : (validation.Labels, fitted.Predict(validation))).Values[0].Value);
    }

    private List<CurveRecord> WriteDetails(ModelSpec model, Split split, CtrModel fitted, ClassificationResult result, double[] probabilities, long trialId, CancellationToken cancel)
    {
        var test = split.Test;
        var importance = PermutationImportance.Compute(fitted, test, repeats: 3, _run.Definition.Seed, cancel);
        var mlnetImportance = fitted.MLNetPermutationImportance(test, permutations: 1, _run.Definition.Seed, cancel);
        var details = Path.Combine(_run.ReportFolder, $"trial-{trialId}-{RunArtifacts.FileName(model.Name)}.json");
        Directory.CreateDirectory(_run.ReportFolder);
        File.WriteAllText(details, JsonSerializer.Serialize(new
        {
            model = model.Name, split = split.Name, threshold = result.Threshold, protocol = result.Protocol,
            mlnetPermutationImportance = mlnetImportance is { } pfi
                ? new { bySourceColumn = pfi.Columns.Select(c => new { c.Column, c.AucDrop }), topSlots = pfi.Slots.Select(x => new { x.Slot, x.AucDrop }) }
                : null,
        }, new JsonSerializerOptions { WriteIndented = true }));
        RunArtifacts.Record(_run.Store, _run.RunId, trialId, "classification-details", details);
        return ReportCurves(trialId, split.Name, test.Labels, probabilities, result.Confusion, importance);
    }

    /// <summary>ROC and precision–recall curves (thinned), calibration bins, the confusion counts and the permutation importances, for the report.</summary>
    private static List<CurveRecord> ReportCurves(long trialId, string split, bool[] labels, double[] probabilities, long[,] confusion, IReadOnlyList<ColumnImportance> importance)
    {
        CurveRecord Curve(string kind, IReadOnlyList<(double X, double Y)> points) =>
            new(trialId, split, kind, kind, points.Select(p => p.X).ToList(), points.Select(p => p.Y).ToList());
        var calibration = Curves.Calibration(labels, probabilities);
        return
        [
            Curve(CurveKinds.Roc, Curves.Thin(Curves.Roc(labels, probabilities))),
            Curve(CurveKinds.PrecisionRecall, Curves.Thin(Curves.PrecisionRecall(labels, probabilities))),
            new(trialId, split, CurveKinds.Calibration, CurveKinds.Calibration, calibration.Select(b => b.MeanPredicted).ToList(), calibration.Select(b => b.ObservedRate).ToList(),
                calibration.Select(b => (double)b.Count).ToList()),
            new(trialId, split, CurveKinds.Confusion, CurveKinds.Confusion, [0, 0, 1, 1], [0, 1, 0, 1], [confusion[0, 0], confusion[0, 1], confusion[1, 0], confusion[1, 1]]),
            new(trialId, split, CurveKinds.FeatureImportance, CurveKinds.FeatureImportance, importance.Select((_, i) => (double)(i + 1)).ToList(), importance.Select(i => i.AucDrop).ToList(),
                importance.Select(i => i.StandardDeviation).ToList(), importance.Select(i => i.Column).ToList()),
        ];
    }

    public (IReadOnlyList<TaskSplit> Tuning, TaskSplit Refit) ForSweep(TaskSplit taskSplit, SweepSpec sweep)
    {
        var split = (Split)taskSplit;
        var known = split.Validation is null ? split.Train : ClickLog.Concatenate(split.Train, split.Validation);
        // The refit trains on the validation rows too: its threshold comes from a model fitted on the training rows alone.
        var refit = split with { Train = known, ThresholdTrain = split.Train };
        // A trial chooses its threshold as the refit does, on rows it was not trained on and is not scored on: a share of
        // its training rows held out, the share the validation rows are of training + validation. Nothing is held out
        // when no metric depends on the threshold, with rule "fixed", or without validation rows (the refit then keeps
        // the fixed threshold).
        var definition = _run.Definition;
        var thresholdMatters = definition.Metrics.Any(m => UnitStatistics.For(m)?.Inputs.Contains(UnitStatistics.Decision) == true);
        var heldOut = split.Validation is null || definition.Evaluation.ThresholdRule == "fixed" || !thresholdMatters ? 0 : (double)split.Validation.Count / known.Count;
        Split Trial(string name, ClickLog rows, ClickLog scored, int[] scoredRows)
        {
            var (fit, threshold) = ThresholdRows(rows, heldOut);
            return new Split(name, fit, threshold, scored, scoredRows, split.Encoders);
        }
        if (sweep.Objective == SweepSpec.KFold)
            return (RowSplitter.KFold(known.Count, sweep.Folds, _run.Definition.Seed)
                .Select(f => (TaskSplit)Trial($"{split.Name}/{f.Name}", known.Subset(f.Train), known.Subset(f.Test), f.Test)).ToList(), refit);
        var validation = split.Validation ?? throw new ExperimentsException($"Split '{split.Name}' has no validation rows to score the sweep's trials on; set split.validationFraction or use sweep objective 'k-fold'.");
        return ([Trial($"{split.Name}/validation", split.Train, validation, Enumerable.Range(0, validation.Count).ToArray())], refit);
    }

    /// <summary>A trial's training rows less a seeded share stratified by label (null when the share holds no row), on which it chooses its threshold.</summary>
    private (ClickLog Fit, ClickLog? Threshold) ThresholdRows(ClickLog rows, double share)
    {
        if (share == 0) return (rows, null);
        var cut = RowSplitter.Stratified(Classes(rows), 0, share, _run.Definition.Seed);
        return cut.Validation.Length == 0 ? (rows, null) : (rows.Subset(cut.Train), rows.Subset(cut.Validation));
    }
}
