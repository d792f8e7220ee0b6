using System.Diagnostics;
using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Core.Models;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation;
using Experiments.Evaluation.Classification;
using Experiments.Hybrid;
using Experiments.Store;

namespace Experiments.Runs;

/// <summary>
/// Two-stage ranking (task "hybrid"): the interactions split as for ranking; single stages (recommenders, text-knn,
/// recent-popular) fitted and scored like ranking models; a two-stage model's retrievers — the definition's other
/// models — fitted once per phase and shared, its re-ranker learned on a label part carved out of the training rows,
/// and its ranking scored end to end, with each stage's candidate recall, the re-ranker's AUC on the candidates and
/// the cost of each step beside the metrics. Cold-start splits: new users' first interactions are their history
/// (fold-in), new items are ranked among themselves (or in the whole catalogue) from their text.
/// </summary>
internal sealed class HybridTask : IExperimentTask
{
    private readonly RunScope _run;
    private readonly Dataset _dataset;
    private readonly Interactions _data;
    private readonly HybridSpec _spec;
    private readonly ItemSide _side;
    private EmbeddedTexts? _tfidf;

    public HybridTask(RunScope run, Dataset dataset)
    {
        _run = run;
        _dataset = dataset;
        var definition = run.Definition;
        _spec = definition.Hybrid ?? new HybridSpec();
        _data = definition.Split.Method == "predefined"
            ? dataset.PredefinedSplit(definition.Split.Name!).All
            : dataset.Interactions(definition.Dataset.Table);
        _side = ItemSide.Load(dataset, _spec, _data.Users, _data.Items);
    }

    /// <summary>One split: the split's parts, its test phase, the rows scored, and the stages fitted so far (shared by the trials of the split).</summary>
    private sealed record Split(InteractionSplit Data, Phase Phase, Interactions Test, StageCache Fitted) : TaskSplit(Data.Name)
    {
        public string Unit => Data.Unit;
        public Interactions? Validation => Data.Validation;
        public override long TrainingRows => Phase.Train.Count;
    }

    public IEnumerable<TaskSplit> Splits()
    {
        var definition = _run.Definition;
        _run.Observer.Stage($"Splitting {_data.Count:N0} interactions ({definition.Split.Method}, by {definition.Split.Unit})");
        foreach (var split in InteractionSplits.Split(_data, definition.Split, definition.Seed, _dataset.PredefinedSplit))
            yield return Prepare(split);
    }

    /// <summary>
    /// The test phase of a split's parts, as the split method reads them: cold-start users' first interactions become
    /// their history, cold-start items are the only candidates, and the item texts are embedded from the training rows.
    /// </summary>
    private Split Prepare(InteractionSplit split)
    {
        var method = _run.Definition.Split.Method;
        var (test, foldIn) = (split.Test, (Interactions?)null);
        if (method == "cold-start-users")
        {
            (foldIn, test) = LabelPart.FoldInRows(split.Test, _spec.FoldIn);
            if (test.Count == 0) throw new ExperimentsException($"Every test user of split '{split.Name}' has at most foldIn = {_spec.FoldIn} interactions, so none is left to test; lower hybrid.foldIn.");
        }
        bool[]? candidates = null;
        if (method == "cold-start-items" && _spec.ColdItemCandidates == HybridSpec.Unseen)
        {
            candidates = Enumerable.Repeat(true, _data.Items.Count).ToArray();
            foreach (var item in split.Train.Item) candidates[item] = false;
        }
        var vectors = Embed(split.Train, split.Name);
        return new Split(split, new Phase("test", split.Train, foldIn, candidates, vectors, _side), test, new StageCache());
    }

    /// <summary>
    /// A sweep tunes the two-stage models on the validation part (or on folds of training + validation) with the
    /// retrievers fixed: each tuning part fits its retrievers and label phase once, and every trial shares them, so a
    /// trial costs its re-ranker and ranking only. The best configuration is refitted on training + validation.
    /// </summary>
    public (IReadOnlyList<TaskSplit> Tuning, TaskSplit Refit) ForSweep(TaskSplit taskSplit, SweepSpec sweep)
    {
        var split = ((Split)taskSplit).Data;
        var (tuning, refit) = InteractionSplits.ForSweep(split, sweep, _run.Definition.Seed, _dataset.PredefinedSplit);
        // A split without a validation part is its own refit, already prepared.
        return (tuning.Select(t => (TaskSplit)Prepare(t)).ToList(), ReferenceEquals(refit, split) ? taskSplit : Prepare(refit));
    }

    public TrialMeasurement Measure(ModelSpec model, TaskSplit taskSplit, TrialScope trial)
    {
        var split = (Split)taskSplit;
        // A sweep's trial brings its own seed (the re-ranker's), silent observer and token; the retrievers keep the run's.
        var (definition, observer, cancel) = (trial.Run.Definition, trial.Run.Observer, trial.Run.Cancel);
        var clock = Stopwatch.StartNew();
        observer.Stage($"Fitting {model.Name} ({split.Name})");
        IRecommenderModel served;
        var extra = new List<MetricValue>();
        var seen = split.Validation is null && split.Phase.FoldIn is null ? null : Interactions.Concatenate([split.Phase.Train, .. Present(split.Validation, split.Phase.FoldIn)]);
        if (HybridCatalog.IsTwoStage(model.Type))
        {
            var options = HybridCatalog.Options(model.Parameters, definition.Seed);
            var (reranker, labels) = Learn(split, model, options, trial);
            extra.AddRange([Value("label-users", labels.Users), Value("label-rows", labels.Rows), Value("label-positives", labels.Positives), Value("label-candidate-recall", labels.CandidateRecall, options.Depth),
                Value("label-seconds.candidates", labels.CandidateSeconds), Value("label-seconds.features", labels.FeatureSeconds), Value("label-seconds.fit", labels.FitSeconds)]);
            observer.Stage($"Ranking with {model.Name} ({split.Name})");
            var retrievers = options.Retrievers.Select(name => Retriever(split, split.Phase, name, options.ColdItems, split.Validation)).ToList();
            var relevant = RecommenderEvaluator.RelevantItems(split.Test, definition.Evaluation);
            var users = Enumerable.Range(0, relevant.Length).Where(u => relevant[u] is { Count: > 0 }).ToArray();
            var exclude = UserItemMatrix.ByUser(seen ?? split.Phase.Train);
            var ranking = TwoStage.Rank(reranker, retrievers, split.Phase, users, options, exclude, cancel);
            served = ranking;
            extra.AddRange(StageValues(ranking, relevant, options));
        }
        else served = Stages.Serve(SingleStage(split, split.Phase, model, split.Validation), model, split.Phase);
        var fitSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        observer.Stage($"Evaluating {model.Name} ({split.Name})");
        // Fold-in rows are history, like validation rows: removed from the candidates, never relevant.
        var history = split.Validation is null && split.Phase.FoldIn is null ? null : Interactions.Concatenate([.. Present(split.Validation, split.Phase.FoldIn)]);
        var evaluation = RecommenderEvaluator.Evaluate(served, split.Phase.Train, split.Test, definition.Metrics, definition.Evaluation, definition.Seed,
            null, new Progress<double>(f => observer.Progress(model.Name, f)), cancel, history);
        var units = evaluation.PerUser.Values.Count > 0
            ? new UserValuesRecord(evaluation.PerUser.Users.Select(u => split.Test.Users[u]).ToList(), evaluation.PerUser.Values)
            : null;
        var protocol = $"{evaluation.Protocol}; {split.Unit}{Describe(split.Phase)}";
        return new TrialMeasurement(fitSeconds, clock.Elapsed.TotalSeconds, evaluation.Values, protocol, units, extra);
    }

    private static Interactions[] Present(params Interactions?[] parts) => parts.Where(p => p is not null).Select(p => p!).ToArray();

    private string Describe(Phase phase) =>
        (phase.FoldIn is { } foldIn ? $"; cold-start users: their first {_spec.FoldIn} interactions ({foldIn.Count:N0} rows) are history, not test" : "")
        + (phase.Candidates is { } allowed ? $"; cold-start items: only the {allowed.Count(a => a):N0} items without training rows are candidates" : "");

    /// <summary>
    /// The re-ranker of a two-stage model, learned in a label phase: the training rows cut into fit and label parts
    /// the way the split cuts train from test; the retrievers are fitted on the fit part only (shared by two-stage
    /// models with the same label fraction).
    /// </summary>
    private (HybridReranker, LabelStatistics) Learn(Split split, ModelSpec model, TwoStageOptions options, TrialScope trial)
    {
        var definition = _run.Definition;
        var key = $"labels:{options.LabelFraction.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        var (phase, labels) = split.Fitted.Get(key, () =>
        {
            var part = LabelPart.Carve(split.Phase.Train, definition.Split.Method, options.LabelFraction, _spec.FoldIn, definition.Seed);
            return (new Phase(key, part.Fit, part.FoldIn, part.Candidates, Embed(part.Fit, $"{split.Name}, label part"), _side), part.Labels);
        });
        trial.Run.Observer.Stage($"Learning the re-ranker of {model.Name} ({split.Name}: {phase.Train.Count:N0} fit rows, {labels.Count:N0} label rows)");
        var retrievers = options.Retrievers.Select(name => Retriever(split, phase, name, options.ColdItems, null)).ToList();
        return TwoStage.Learn(retrievers, phase, RecommenderEvaluator.RelevantItems(labels, definition.Evaluation), options, trial.Run.Definition.Seed, trial.Run.Cancel);
    }

    private Retriever Retriever(Split split, Phase phase, string name, ColdItemMapOptions coldItems, Interactions? validation)
    {
        var spec = _run.Definition.Models.First(m => m.Name == name);
        return new Retriever(name, Stages.Serve(SingleStage(split, phase, spec, validation), spec, phase, coldItems));
    }

    /// <summary>A single stage fitted on the phase's training rows, once per split and phase (with the run's seed, whichever trial asks first).</summary>
    private IRecommenderModel SingleStage(Split split, Phase phase, ModelSpec model, Interactions? validation) =>
        split.Fitted.Get($"{phase.Name}:{model.Name}", () =>
        {
            _run.Observer.Stage($"Fitting stage {model.Name} ({split.Name}, {phase.Name})");
            return Stages.Fit(model, phase, validation, _run.Definition.Seed, _run.Cancel);
        });

    private float[][] Embed(Interactions train, string what)
    {
        var texts = _side.Texts(train);
        // TF-IDF vectors depend on the texts alone (the encoder's also on the training pairs): a phase whose texts are
        // the same (no tags of its own training pairs to add) reuses them rather than fitting the pipeline again.
        if (_spec.Embedder == HybridSpec.Tfidf && _tfidf is { } known && ReferenceEquals(known.Texts, texts)) return known.Vectors;
        _run.Observer.Stage($"Embedding item texts ({_spec.Embedder}, {what})");
        var vectors = ItemVectors.Embed(texts, train, _spec, _run.Definition.Seed, _run.Observer.Warning, f => _run.Observer.Progress("item encoder", f), _run.Cancel);
        if (_spec.Embedder == HybridSpec.Tfidf) _tfidf = new EmbeddedTexts(texts, vectors);
        return vectors;
    }

    private sealed record EmbeddedTexts(string[] Texts, float[][] Vectors);

    /// <summary>Per stage on the test users: each retriever's and the merge's candidate recall@N, the re-ranker's AUC on the candidates, and each step's seconds per 1,000 users.</summary>
    private static IEnumerable<MetricValue> StageValues(TwoStageRanking ranking, Dictionary<int, double>?[] relevant, TwoStageOptions options)
    {
        var users = ranking.Candidates.Length;
        var (per, merged) = TwoStage.CandidateRecall(ranking.Candidates, relevant);
        for (var r = 0; r < per.Length; r++) yield return new MetricValue($"candidate-recall.{options.Retrievers[r]}", options.Depth, per[r], null, null, users);
        yield return new MetricValue("candidate-recall.merged", options.Depth, merged, null, null, users);
        var labels = Enumerable.Range(0, ranking.Table.Rows).Select(r => relevant[ranking.Table.Users[r]]!.ContainsKey(ranking.Table.Items[r])).ToArray();
        if (labels.Any(l => l) && labels.Any(l => !l) && options.Reranker.Kind != RerankerKind.Fusion)
            yield return new MetricValue("reranker-auc", null, BinaryMetrics.RocAuc(labels, ranking.Scores.Select(s => (double)s).ToArray()), null, null, users);
        var per1000 = 1000.0 / Math.Max(1, users);
        yield return new MetricValue("seconds-per-1000-users.candidates", null, ranking.CandidateSeconds * per1000, null, null, users);
        yield return new MetricValue("seconds-per-1000-users.features", null, ranking.FeatureSeconds * per1000, null, null, users);
        yield return new MetricValue("seconds-per-1000-users.rerank", null, ranking.RerankSeconds * per1000, null, null, users);
    }

    private static MetricValue Value(string name, double value, int? k = null) => new(name, k, value, null, null, 0);

    /// <summary>
    /// The stages fitted in one split, by key: each built once even when a sweep's trials ask at the same time (the
    /// others wait for it); a build that fails or is cancelled is not kept, so the next trial builds it again.
    /// </summary>
    private sealed class StageCache
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<object>> _built = new();

        public T Get<T>(string key, Func<T> build) where T : notnull
        {
            var entry = _built.GetOrAdd(key, _ => new Lazy<object>(() => build(), LazyThreadSafetyMode.ExecutionAndPublication));
            try { return (T)entry.Value; }
            catch
            {
                _built.TryRemove(new KeyValuePair<string, Lazy<object>>(key, entry));
                throw;
            }
        }
    }
}
