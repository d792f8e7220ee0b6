using System.Diagnostics;
using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Core.Models;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation;
using Experiments.Evaluation.Ranking;
using Experiments.Recommenders;
using Experiments.Store;

namespace Experiments.Runs;

/// <summary>Ranking and rating: recommenders fitted on interactions, user-aware splits, per-user values for paired tests.</summary>
internal sealed class RecommenderTask : IExperimentTask
{
    private readonly RunScope _run;
    private readonly Dataset _dataset;
    private readonly Interactions _data;
    private readonly IItemSimilarity? _similarity;

    public RecommenderTask(RunScope run, Dataset dataset)
    {
        _run = run;
        _dataset = dataset;
        var definition = run.Definition;
        _data = definition.Split.Method == "predefined"
            ? dataset.PredefinedSplit(definition.Split.Name!).All
            : dataset.Interactions(definition.Dataset.Table);
        if (definition.Task == MetricCatalog.Rating && !_data.HasRatings)
            throw new ExperimentsException($"Task 'rating' needs ratings, but table '{definition.Dataset.Table ?? dataset.Manifest.DefaultTable}' of '{dataset.Name}' has none; use task 'ranking' or a table with ratings.");
        _similarity = definition.Metrics.Any(m => m.Name == "diversity") ? CategorySimilarityOf(dataset, _data) : null;
    }

    private sealed record Split(InteractionSplit Data) : TaskSplit(Data.Name)
    {
        public override long TrainingRows => Data.Train.Count;
        public override long TrainingItems => Data.Train.Items.Count;
    }

    public IEnumerable<TaskSplit> Splits()
    {
        var definition = _run.Definition;
        _run.Observer.Stage($"Splitting {_data.Count:N0} interactions ({definition.Split.Method}, by {definition.Split.Unit})");
        _run.Store.RecordProfile(_run.RunId, DataProfiles.Interactions(_data));
        foreach (var split in InteractionSplits.Split(_data, definition.Split, definition.Seed, _dataset.PredefinedSplit))
        {
            _run.Store.RecordProfile(_run.RunId, DataProfiles.Split(split.Name, split.Train, split.Validation, split.Test));
            yield return new Split(split);
        }
    }

    public (IReadOnlyList<TaskSplit> Tuning, TaskSplit Refit) ForSweep(TaskSplit taskSplit, SweepSpec sweep)
    {
        var (tuning, refit) = InteractionSplits.ForSweep(((Split)taskSplit).Data, sweep, _run.Definition.Seed, _dataset.PredefinedSplit);
        return (tuning.Select(t => (TaskSplit)new Split(t)).ToList(), new Split(refit));
    }

    public TrialMeasurement Measure(ModelSpec model, TaskSplit taskSplit, TrialScope trial)
    {
        var split = ((Split)taskSplit).Data;
        var (definition, observer, cancel) = (trial.Run.Definition, trial.Run.Observer, trial.Run.Cancel);
        var clock = Stopwatch.StartNew();
        observer.Stage($"Fitting {model.Name} ({split.Name})");
        var trainer = RecommenderCatalog.Create(model.Type, model.Parameters, definition.Seed);
        var training = TrainingCurves.Listen(trainer);
        // Validation rows, when the split has them, go to trainers that can use them (early stopping). In a pruned
        // sweep on RMSE, the iterative rating trainers report a validation RMSE after each iteration, which the pruner
        // may stop. One that stops early does so as in an unpruned trial, on its own seeded share of the training pairs,
        // and reports that share's RMSE (its refit on every training pair reports none): choosing the iteration on the
        // rows the trial is scored on (this split's test part) would flatter the trial. With early stopping off
        // nothing is chosen, so it watches those rows.
        var watched = split.Validation;
        if (trial.Report is { Metric: "rmse" } report && split.Validation is null && trainer is IValidatedTrainer validatedTrainer and IIterationReporter reporter)
        {
            if (!validatedTrainer.StopsEarly) watched = split.Test;
            reporter.IterationFinished += (iteration, _, validationRmse) =>
            {
                if (double.IsFinite(validationRmse)) report.Trial.ReportOrStop(iteration, validationRmse);
            };
        }
        else if (trial.Report is { } ranked && MetricName.Parse(ranked.Metric) is { K: not null } metric && trainer is IIterationModels iterative)
        {
            // Implicit ALS, BPR, matrix factorisation and SVD++ in a pruned sweep on a ranking metric: after each iteration
            // (or every reportEvery) their model is scored on the sweep's validation users (this split's test part) as the
            // trial's evaluation scores the last one. A rating trainer that stops early reports its refit's iterations only.
            var pointOnly = definition.Evaluation with { BootstrapSamples = 0 };
            var every = definition.Sweep?.Pruner.ReportEvery ?? 1;
            iterative.IterationFitted += (iteration, current) =>
            {
                if (iteration % every != 0 && iteration != iterative.Iterations) return;
                ranked.Trial.ReportOrStop(iteration,
                    RecommenderEvaluator.Evaluate(current, split.Train, split.Test, [metric], pointOnly, definition.Seed, _similarity, cancel: cancel, validation: split.Validation).Values[0].Value);
            };
        }
        var fitted = trainer is IValidatedTrainer validated && watched is not null
            ? validated.Fit(split.Train, watched, cancel)
            : trainer.Fit(split.Train, cancel);
        var fitSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        observer.Stage($"Evaluating {model.Name} ({split.Name})");
        var evaluation = RecommenderEvaluator.Evaluate(fitted, split.Train, split.Test, definition.Metrics, definition.Evaluation, definition.Seed,
            _similarity, new Progress<double>(f => observer.Progress(model.Name, f)), cancel, split.Validation);
        var units = evaluation.PerUser.Values.Count > 0
            ? new UserValuesRecord(evaluation.PerUser.Users.Select(u => split.Test.Users[u]).ToList(), evaluation.PerUser.Values)
            : null;
        // A share of unreachable test pairs (row splits) is kept beside the metrics, so tables and reports show it.
        IReadOnlyList<MetricValue> extra = evaluation.Unreachable is { } unreachable && unreachable > 0
            ? [new MetricValue(RecommenderEvaluator.Unreachable, null, unreachable, null, null, evaluation.Users)]
            : [];
        return new TrialMeasurement(fitSeconds, clock.Elapsed.TotalSeconds, evaluation.Values, $"{evaluation.Protocol}; {split.Unit}", units, extra,
            // Curves are for the report of a run's trials; a sweep's trials (no trial id) draw none.
            trial.TrialId is { } trialId ? [.. training?.Records(trialId, split.Name) ?? [], .. Curves(evaluation, trialId, split.Name)] : null,
            Facts(fitted));
    }

    /// <summary>What the fitted model reports of its fit (EASE: items modelled, the cap asked for), and whether it is reproducible bit for bit.</summary>
    private static Dictionary<string, string> Facts(IRecommenderModel model) =>
        new((model as IFitFacts)?.Facts ?? new Dictionary<string, string>()) { ["reproducible"] = model.IsReproducible ? "true" : "false" };

    /// <summary>The evaluation's metric@K curves and popularity deciles, as the store keeps them for reports.</summary>
    private static IEnumerable<CurveRecord> Curves(EvaluationResult evaluation, long trialId, string split)
    {
        foreach (var curve in evaluation.Curves ?? [])
            yield return new CurveRecord(trialId, split, CurveKinds.MetricAtK, curve.Metric, Enumerable.Range(1, curve.Values.Length).Select(k => (double)k).ToList(), curve.Values);
        if (evaluation.Popularity is not { } popularity) yield break;
        var deciles = Enumerable.Range(1, 10).Select(d => (double)d).ToList();
        yield return new CurveRecord(trialId, split, CurveKinds.Popularity, $"recommended (top {popularity.K})", deciles, popularity.Recommended);
        yield return new CurveRecord(trialId, split, CurveKinds.Popularity, "training interactions", deciles, popularity.Training);
    }


    /// <summary>Item similarity by category, from the data set's item table, indexed like the interactions' items.</summary>
    private static CategorySimilarity CategorySimilarityOf(Dataset dataset, Interactions data)
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
}
