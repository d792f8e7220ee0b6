using System.Diagnostics;
using System.Text.Json;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Manifests;
using Experiments.Datasets.Splitting;
using Experiments.Search;
using Experiments.Search.Data;
using Experiments.Search.Evaluation;
using Experiments.Store;

namespace Experiments.Runs;

/// <summary>
/// Product search: the data set's search collection (catalogue, queries, judgements), split by query so that no query
/// is in both training and test; retrievers and re-rankers are scored on the test queries' ranked lists, intent
/// classifiers on their predicted classes; per-query values go to the runner's paired tests.
/// </summary>
internal sealed class SearchTask : IExperimentTask
{
    private readonly RunScope _run;
    private readonly SearchCollection _collection;
    private readonly SearchSpec _spec;
    private readonly string _language;

    public SearchTask(RunScope run, Dataset dataset)
    {
        _run = run;
        var definition = run.Definition;
        var manifest = dataset.Manifest.Search ?? throw new ExperimentsException($"Data set '{dataset.Name}' has no search collection (no \"search\" block in its manifest).");
        _spec = definition.Search ?? new SearchSpec();
        _language = LanguageOf(_spec, manifest);
        _collection = SearchCollection.Load(dataset, manifest, _spec.Judgements, _spec.MaxQueries, definition.Seed);
    }

    /// <summary>The analyser language: the definition's search.language, else the data set's.</summary>
    public static string LanguageOf(SearchSpec? spec, SearchManifest manifest) => spec?.Language ?? manifest.Language;

    /// <summary>What a definition may ask of a data set's search collection (null when it has none).</summary>
    public static SearchDescriptor? Describe(DatasetManifest manifest) => manifest.Search is not { } search ? null : new SearchDescriptor(
        search.Catalogue is not null,
        search.QueriesFromCatalogue ? manifest.FindTable(search.Catalogue ?? "")?.Columns.Any(c => c.Role is "category" or "label") == true
            : search.Queries is { } queries && manifest.FindTable(queries)?.ColumnWithRole("label") is not null,
        search.Catalogue is null ? [] : search.JudgementSources);

    /// <param name="Validation">The validation queries among <paramref name="Train"/> (a sweep scores its trials on them).</param>
    private sealed record Split(string Name, int[] Train, int[] Test, SearchComponents Components, int[] Validation) : TaskSplit(Name)
    {
        public override long TrainingRows => Train.Length;
    }

    public IEnumerable<TaskSplit> Splits()
    {
        var definition = _run.Definition;
        var spec = definition.Split;
        var count = _collection.Queries.Count;
        _run.Observer.Stage($"Splitting {count:N0} queries ({spec.Method})");
        _run.Store.RecordProfile(_run.RunId, DataProfiles.Search(_collection));
        var splits = spec.Method switch
        {
            "k-fold" => RowSplitter.KFold(count, spec.Folds, definition.Seed),
            "random" => [RowSplitter.Random(count, spec.TestFraction, spec.ValidationFraction, definition.Seed)],
            // Stratified by intent, so every class keeps its share of training and test queries.
            _ => [RowSplitter.Stratified(_collection.IntentCodes(), spec.TestFraction, spec.ValidationFraction, definition.Seed)],
        };
        foreach (var split in splits)
        {
            // Search models hold out what they need themselves (the re-ranker), so validation queries train too.
            var train = split.Train.Concat(split.Validation).Order().ToArray();
            if (train.Length == 0 || split.Test.Length == 0)
                throw new ExperimentsException($"Split '{split.Name}' left {train.Length} training and {split.Test.Length} test queries; both must be non-empty. Change the split fractions or use more queries.");
            _run.Store.RecordProfile(_run.RunId, DataProfiles.Split(split.Name, train.Length, split.Test.Length));
            using var components = new SearchComponents();
            yield return new Split(split.Name, train, split.Test, components, split.Validation);
        }
    }

    public TrialMeasurement Measure(ModelSpec model, TaskSplit taskSplit, TrialScope trial)
    {
        var split = (Split)taskSplit;
        var (definition, observer) = (trial.Run.Definition, trial.Run.Observer);
        var options = new SearchEvaluationOptions(SearchMetrics.ParseGain(_spec.Gain), _spec.RelevanceThreshold, definition.Evaluation.BootstrapSamples, definition.Evaluation.ConfidenceLevel);
        var clock = Stopwatch.StartNew();
        observer.Stage($"Fitting {model.Name} ({split.Name}, {split.Train.Length:N0} training queries)");
        // The model's parts stay alive through its evaluation (a parallel trial may otherwise let them go).
        using var parts = split.Components.Take();
        var context = new SearchFitContext(_collection, split.Train, parts, definition.Seed)
        {
            Gain = options.Gain, Language = _language, Notice = observer.Warning, Progress = (step, f) => observer.Progress($"{model.Name}: {step}", f), Cancel = trial.Run.Cancel,
        };
        if (trial.Report is { } report && SearchCatalog.IsRanker(model.Type) == SearchEvaluator.RankingMetrics.Contains(MetricName.Parse(report.Metric).Name))
        {
            // In a pruned sweep the models that train an encoder report after each epoch (or every reportEvery, and after
            // the last), and the re-ranker's boosting stage in rungs of trees: the model as it stands scored on the
            // queries the trial is scored on (the sweep's validation queries, this split's test part) as the trial's
            // evaluation scores its final model. Nothing is chosen on them but whether the trial goes on. A model that
            // cannot give the sweep's metric (an intent model under a ranking metric, or the reverse) reports nothing.
            var pruner = definition.Sweep?.Pruner ?? new PrunerSpec();
            double Scored(ISearchModel current) => Evaluate(current, split.Test, [MetricName.Parse(report.Metric)], options with { BootstrapSamples = 0 }, definition).Evaluation.Values[0].Value;
            context = context with
            {
                EpochFitted = epoch =>
                {
                    if (epoch.Epoch % pruner.ReportEvery == 0 || epoch.Epoch == epoch.Epochs) report.Trial.ReportOrStop(epoch.Epoch, Scored(epoch.Model()));
                },
                FitRounds = (trees, fit) => report.FitInRungs(pruner, trees, fit, Scored),
            };
        }
        var fitted = SearchCatalog.Fit(model.Type, model.Parameters, context);
        var fitSeconds = clock.Elapsed.TotalSeconds + parts.ReusedSeconds;
        clock.Restart();
        observer.Stage($"Evaluating {model.Name} ({split.Name}, {split.Test.Length:N0} test queries)");
        var (evaluation, details) = Evaluate(fitted, split.Test, definition.Metrics, options, definition);
        // Each test query's values and top results go beside the report, one file per trial (not for a sweep's trials).
        if (trial.TrialId is { } trialId)
        {
            var path = Path.Combine(_run.ReportFolder, $"trial-{trialId}-{RunArtifacts.FileName(model.Name)}.json");
            Directory.CreateDirectory(_run.ReportFolder);
            File.WriteAllText(path, JsonSerializer.Serialize(new { model = model.Name, split = split.Name, protocol = evaluation.Protocol, queries = details }, new JsonSerializerOptions { WriteIndented = true }));
            RunArtifacts.Record(_run.Store, _run.RunId, trialId, "search-details", path);
        }
        var units = evaluation.PerQuery.Count > 0 ? new UserValuesRecord(evaluation.Queries, evaluation.PerQuery) : null;
        return new TrialMeasurement(fitSeconds, clock.Elapsed.TotalSeconds, evaluation.Values, evaluation.Protocol, units, []);
    }

    /// <summary>Trials train on the training queries less the validation ones and are scored on those (or on folds); the refit trains on all of them.</summary>
    public (IReadOnlyList<TaskSplit> Tuning, TaskSplit Refit) ForSweep(TaskSplit taskSplit, SweepSpec sweep)
    {
        var split = (Split)taskSplit;
        if (sweep.Objective == SweepSpec.KFold)
            return (RowSplitter.KFold(split.Train.Length, sweep.Folds, _run.Definition.Seed)
                .Select(f => (TaskSplit)new Split($"{split.Name}/{f.Name}", f.Train.Select(i => split.Train[i]).ToArray(), f.Test.Select(i => split.Train[i]).ToArray(), split.Components, [])).ToList(), split);
        if (split.Validation.Length == 0)
            throw new ExperimentsException($"Split '{split.Name}' has no validation queries to score the sweep's trials on; set split.validationFraction or use sweep objective 'k-fold'.");
        return ([new Split($"{split.Name}/validation", split.Train.Except(split.Validation).ToArray(), split.Validation, split.Components, [])], split);
    }

    /// <summary>
    /// A model's evaluation on <paramref name="queries"/> — its ranked lists (as deep as the definition's deepest ranking
    /// metric) scored against the judgements, or its predicted intents against the queries' — and each query's details
    /// for the trial's file. The one home of a search trial's metrics: its final model's and its intermediate values.
    /// </summary>
    private (SearchEvaluation Evaluation, IEnumerable<object> Details) Evaluate(ISearchModel fitted, int[] queries, IReadOnlyList<MetricName> metrics, SearchEvaluationOptions options,
        ExperimentDefinition definition)
    {
        if (fitted is IRankingModel ranker)
        {
            var depth = definition.Metrics.Where(m => SearchEvaluator.RankingMetrics.Contains(m.Name)).Select(m => m.K!.Value).DefaultIfEmpty(10).Max();
            var lists = ranker.Rank(queries, depth);
            var ranking = SearchEvaluator.EvaluateRanking(_collection, queries, lists, metrics, options, definition.Seed);
            var catalogue = _collection.Catalogue!;
            return (ranking, queries.Select((q, i) => (object)new
            {
                query = _collection.Queries[q].Id, text = _collection.Queries[q].Text,
                values = ranking.PerQuery.ToDictionary(v => v.Key, v => v.Value[i]),
                top = lists[i].Products.Take(10).Select(p => new { product = catalogue.Ids[p], title = catalogue.Titles[p], grade = _collection.Judgements!.Grade(q, p) }),
            }));
        }
        var classifier = ((IIntentModel)fitted).Classifier;
        var probabilities = classifier.Predict(queries.Select(q => _collection.Queries[q].Text).ToList());
        var intent = SearchEvaluator.EvaluateIntent(_collection, queries, classifier.Classes, probabilities, metrics, options, definition.Seed);
        return (intent, queries.Select((q, i) => (object)new { query = _collection.Queries[q].Id, text = _collection.Queries[q].Text, intent = _collection.Queries[q].Intent, predicted = classifier.Classes[ArgMax(probabilities[i])] }));
    }

    private static int ArgMax(double[] values) => Array.IndexOf(values, values.Max());
}
