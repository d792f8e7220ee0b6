using Experiments.Core;
using Experiments.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Experiments.Ctr;

public enum CtrAlgorithm { LightGbm, FastTree, FieldAwareFactorizationMachine, LogisticRegression, Sdca }

/// <summary>A click-through classifier: the feature building and the ML.NET trainer with its options.</summary>
public sealed record CtrOptions
{
    public CtrAlgorithm Algorithm { get; init; } = CtrAlgorithm.LightGbm;
    public CtrFeatureOptions Features { get; init; } = new();
    /// <summary>Boosted trees: number of trees. FFM: passes over the data.</summary>
    public int NumberOfIterations { get; init; } = 100;
    public int NumberOfLeaves { get; init; } = 15;
    public int MinimumExampleCountPerLeaf { get; init; } = 20;
    public double LearningRate { get; init; } = 0.05;
    /// <summary>L2 weight of logistic regression, SDCA and FFM's linear part.</summary>
    public float L2Regularization { get; init; } = 1f;
    public int LatentDimension { get; init; } = 8;
    public int Seed { get; init; } = 42;
    /// <summary>LightGBM's threads; its trees do not depend on the count (deterministic, row-wise histograms).</summary>
    public int NumberOfThreads { get; init; } = Environment.ProcessorCount;
}

/// <summary>
/// Trains click-through classifiers as ML.NET pipelines: numeric columns get missing-value indicators, mean
/// imputation and mean–variance normalisation (after a signed log); each categorical column (and each crossed pair)
/// is one-hot encoded (or hashed) with rare values in an "other" bucket; text columns go through FeaturizeText, or arrive
/// as embedding vectors when the options carry a text embedding (e.g. a trained transformer encoder). Trees and linear
/// models read the concatenated vector; the field-aware factorisation machine gets one field per source column.
/// Every trainer outputs a calibrated probability (boosted trees are calibrated by ML.NET's Platt calibrator).
/// Training is reproducible: the same rows, options and seed give the same model bit for bit, in any process.
/// </summary>
public static class CtrTrainer
{
    /// <param name="cancel">Stops training soon after it fires (within a boosting round, an SDCA/L-BFGS iteration, or 1,024 rows of an FFM pass).</param>
    public static CtrModel Fit(ClickLog train, CtrOptions options, CancellationToken cancel = default)
    {
        if (train.Count == 0) throw new ExperimentsException("The training set is empty: there is nothing to fit.");
        if (train.Labels.All(l => l) || train.Labels.All(l => !l))
            throw new ExperimentsException($"The training set has only {(train.Labels[0] ? "clicks" : "non-clicks")}: a click model needs both.");
        if (options.Algorithm is CtrAlgorithm.LightGbm or CtrAlgorithm.FastTree)
            LeafSize.EnsureSplittable(train.Count, options.MinimumExampleCountPerLeaf, "this click model");
        var ml = new MLContext(options.Seed);
        var data = ClickFeatures.InputView(train, cancel);
        var fitted = Cancellable(ml, cancel, () => Pipeline(ml, train.Schema, options, train.Position is not null, train.Count).Fit(data));
        return CtrModel.Create(ml, fitted, data, train.Position is null ? null : options.Features.ServingPosition);
    }

    /// <summary>
    /// Runs ML.NET work that <paramref name="cancel"/> can stop: the token cancels the MLContext, whose trainers
    /// (LightGBM between boosting rounds, FastTree, SDCA, L-BFGS) check it as they go. Whatever ML.NET throws once
    /// the token has fired — its own OperationCanceledException or a wrapper — comes out as a cancellation.
    /// </summary>
    internal static T Cancellable<T>(MLContext ml, CancellationToken cancel, Func<T> work)
    {
        using var registration = cancel.Register(() => MLNetInternals.CancelExecution(ml));
        try
        {
            return work();
        }
        catch (Exception e) when (cancel.IsCancellationRequested && e is not OperationCanceledException { CancellationToken.IsCancellationRequested: true })
        {
            throw new OperationCanceledException("Training was stopped.", e, cancel);
        }
    }

    private static IEstimator<ITransformer> Pipeline(MLContext ml, ClickLogSchema schema, CtrOptions options, bool hasPosition, int rows)
    {
        var (pipeline, fields) = ClickFeatures.Estimator(ml, schema, options.Features, hasPosition);
        if (options.Algorithm == CtrAlgorithm.FieldAwareFactorizationMachine)
            return pipeline.Append(ml.BinaryClassification.Trainers.FieldAwareFactorizationMachine(new FieldAwareFactorizationMachineTrainer.Options
            {
                FeatureColumnName = fields[0],
                ExtraFeatureColumns = fields.Skip(1).ToArray(),
                LabelColumnName = "Label",
                LatentDimension = options.LatentDimension,
                NumberOfIterations = options.NumberOfIterations,
                LearningRate = (float)options.LearningRate,
                LambdaLinear = options.L2Regularization * 1e-4f,
                LambdaLatent = options.L2Regularization * 1e-4f,
                Shuffle = true,
            }));
        pipeline = pipeline.Append(ml.Transforms.Concatenate("Features", fields.ToArray()));
        return options.Algorithm switch
        {
            CtrAlgorithm.LightGbm => pipeline.Append(ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
            {
                NumberOfLeaves = options.NumberOfLeaves, NumberOfIterations = options.NumberOfIterations, LearningRate = options.LearningRate,
                MinimumExampleCountPerLeaf = options.MinimumExampleCountPerLeaf, Seed = options.Seed, NumberOfThreads = options.NumberOfThreads,
                // Without these LightGBM picks row- or column-wise histograms by timing a test, and its sums depend on the
                // thread count: the same seed could give other trees in another process or on another machine.
                Deterministic = true, ForceRowWise = true,
                Verbose = false, Silent = true,
            })),
            CtrAlgorithm.FastTree => pipeline.Append(ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                NumberOfLeaves = options.NumberOfLeaves, NumberOfTrees = options.NumberOfIterations, LearningRate = options.LearningRate,
                MinimumExampleCountPerLeaf = options.MinimumExampleCountPerLeaf, Seed = options.Seed, NumberOfThreads = options.NumberOfThreads,
            })),
            CtrAlgorithm.LogisticRegression => pipeline.Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
            {
                L2Regularization = options.L2Regularization,
            })),
            // SDCA averages the loss over rows where L-BFGS sums it: the same penalty is λ / n there.
            _ => pipeline.Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
            {
                L2Regularization = options.L2Regularization / rows, NumberOfThreads = 1,
            })),
        };
    }
}

/// <summary>
/// A fitted click model: one ML.NET transformer chain from raw click-log rows (<see cref="ClickFeatures.Input"/>) to
/// the click probability, featurisation included. When the log has display positions, the chain starts by fixing the
/// position at the serving value; <see cref="Predict"/> with <c>serving: false</c> scores the rows at their own positions.
/// Saves as ML.NET's own model zip (<c>mlContext.Model.Save</c>), which <c>mlContext.Model.Load</c> reads back in any
/// MLContext and scores identically.
/// </summary>
public sealed class CtrModel
{
    private readonly MLContext _ml;
    private readonly DataViewSchema _inputSchema;
    private readonly ITransformer[] _steps;
    private readonly bool _fixesPosition;

    private CtrModel(MLContext ml, ITransformer[] steps, DataViewSchema inputSchema, bool fixesPosition)
    {
        _ml = ml;
        _steps = steps;
        _inputSchema = inputSchema;
        _fixesPosition = fixesPosition;
    }

    /// <summary>A model of the fitted featurising-and-training chain; with <paramref name="servingPosition"/> the saved chain fixes the position first.</summary>
    internal static CtrModel Create(MLContext ml, ITransformer fitted, IDataView input, float? servingPosition)
    {
        // ML.NET's Append nests chains; flat steps let the serving chain drop its first step and importance its last.
        static IEnumerable<ITransformer> Flat(ITransformer t) => t is IEnumerable<ITransformer> chain ? chain.SelectMany(Flat) : [t];
        var steps = Flat(fitted).ToList();
        if (servingPosition is { } position) steps.Insert(0, ClickFeatures.FixPosition(ml, position).Fit(input));
        return new CtrModel(ml, steps.ToArray(), input.Schema, servingPosition is not null);
    }

    /// <summary>The whole chain, raw rows to probability at serving time: what <see cref="Save"/> writes.</summary>
    public ITransformer Pipeline => new TransformerChain<ITransformer>(_steps);

    /// <summary>The input columns the model reads (those of <see cref="ClickFeatures.Input"/> for the training log).</summary>
    public DataViewSchema InputSchema => _inputSchema;

    /// <summary>Feature vectors wider than this get no per-slot importance (each slot costs one scoring of every row).</summary>
    public const int MaxImportanceSlots = 2000;

    /// <summary>Rows × slots scored by ML.NET's per-slot importance at most; beyond it a seeded sample of rows is used.</summary>
    public const long MaxImportanceScorings = 1_000_000;

    /// <summary>Click probabilities; by default at serving time (position fixed at the serving value).</summary>
    public double[] Predict(ClickLog log, bool serving = true)
    {
        var steps = serving || !_fixesPosition ? _steps : _steps[1..];
        var scored = new TransformerChain<ITransformer>(steps).Transform(Input(log));
        var probability = scored.Schema["Probability"];
        var result = new double[log.Count];
        using var cursor = scored.GetRowCursor([probability]);
        var getter = cursor.GetGetter<float>(probability);
        float value = 0;
        for (var r = 0; cursor.MoveNext(); r++)
        {
            getter(ref value);
            result[r] = value;
        }
        return result;
    }

    /// <summary>The input view of <paramref name="log"/>; a clear error naming a column the model reads that the log lacks or holds as another type.</summary>
    private IDataView Input(ClickLog log)
    {
        var view = ClickFeatures.Input(log);
        foreach (var column in _inputSchema)
        {
            if (column.IsHidden || column.Name == "Label") continue;
            var found = view.Schema.GetColumnOrNull(column.Name);
            if (found is null || !found.Value.Type.Equals(column.Type))
                throw new ExperimentsException($"The click model reads column '{column.Name[(column.Name.IndexOf('.') + 1)..]}' ({column.Type}), " +
                                               $"which these rows {(found is null ? "lack" : $"hold as {found.Value.Type}")}; the rows have: {string.Join(", ", view.Schema.Select(c => c.Name))}.");
        }
        return view;
    }

    /// <summary>
    /// ML.NET's own permutation feature importance (AUC drop per slot of the Features vector, on <paramref name="log"/>),
    /// for the trainers that read one Features column (not FFM, whose fields are separate columns): the slots are
    /// named "source column.value", so the result also sums the drops per source column. It scores the rows once per slot,
    /// so it is skipped (null) beyond <see cref="MaxImportanceSlots"/> slots (TF-IDF text gives thousands), and runs on a
    /// seeded sample of the rows when rows × slots exceeds <see cref="MaxImportanceScorings"/>; the per-column
    /// <see cref="PermutationImportance"/> covers every model and every row.
    /// </summary>
    public (IReadOnlyList<(string Slot, double AucDrop)> Slots, IReadOnlyList<(string Column, double AucDrop)> Columns)? MLNetPermutationImportance(ClickLog log, int permutations, int seed,
        CancellationToken cancel = default)
    {
        if (_steps[^1] is not ISingleFeaturePredictionTransformer<object> predictor) return null;
        var featurize = new TransformerChain<ITransformer>(_steps[..^1]);
        var slotCount = (featurize.GetOutputSchema(_inputSchema)[predictor.FeatureColumnName].Type as VectorDataViewType)?.Size ?? 0;
        if (slotCount > MaxImportanceSlots) return null;
        var rows = (int)Math.Min(log.Count, Math.Max(500, MaxImportanceScorings / Math.Max(1, slotCount)));
        var order = Enumerable.Range(0, log.Count).ToArray();
        new Random(seed).Shuffle(order);
        var sample = rows >= log.Count ? log : log.Subset(order[..rows]);
        var ml = new MLContext(seed);
        // Featurised once into memory: ML.NET's importance re-reads the rows once per slot and permutation.
        var features = ml.Data.Cache(featurize.Transform(Input(sample)));
        var importance = CtrTrainer.Cancellable(ml, cancel, () => ml.BinaryClassification.PermutationFeatureImportance(predictor, features, permutationCount: permutations));
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        var column = features.Schema[predictor.FeatureColumnName];
        if (column.Annotations.Schema.GetColumnOrNull("SlotNames") is null) return null;
        column.GetSlotNames(ref names);
        var slotNames = names.DenseValues().Select(n => n.ToString()).ToArray();
        var slots = importance.Select((m, i) => (Slot: i < slotNames.Length && slotNames[i].Length > 0 ? slotNames[i] : $"slot {i}", AucDrop: -m.AreaUnderRocCurve.Mean)).ToList();
        // "NumericField.Numeric.N.I11" and "NumericField.NumericMissing.N.I11" → I11; "C.C17.e5ba7672" → C17; "T.title.…" → title.
        static string Source(string slot)
        {
            if (slot.StartsWith("NumericField.", StringComparison.Ordinal))
            {
                var at = slot.IndexOf(".N.", StringComparison.Ordinal);
                return at >= 0 ? slot[(at + 3)..] : "position";
            }
            var parts = slot.Split('.');
            return parts.Length >= 2 && parts[0] is "C" or "T" ? parts[1] : parts[0];
        }
        var columns = slots.GroupBy(s => Source(s.Slot)).Select(g => (Column: g.Key, AucDrop: g.Sum(s => s.AucDrop))).OrderByDescending(c => c.AucDrop).ToList();
        return (slots.OrderByDescending(s => s.AucDrop).Take(25).ToList(), columns);
    }

    /// <summary>Saves <see cref="Pipeline"/> as ML.NET's model zip; an existing file is an error unless <paramref name="overwrite"/>.</summary>
    public void Save(string path, bool overwrite = false) => _ml.Model.SaveFile(Pipeline, _inputSchema, path, overwrite);

    /// <summary>Loads a saved click model in a fresh MLContext (a text embedding travels inside the file).</summary>
    public static CtrModel Load(string path)
    {
        var ml = new MLContext();
        var model = ml.Model.LoadFile(path, out var schema);
        if (model is not IEnumerable<ITransformer> chain || chain.LastOrDefault() is not IPredictionTransformer<object>)
            throw new ExperimentsException($"{path} is an ML.NET model but not a click model (it does not end in a binary classifier).");
        var steps = chain.ToArray();
        return new CtrModel(ml, steps, schema, schema.GetColumnOrNull(ClickFeatures.Position) is not null);
    }
}

/// <summary>How much a model's test AUC drops when one source column's values are shuffled across rows.</summary>
public sealed record ColumnImportance(string Column, double AucDrop, double StandardDeviation);

public static class PermutationImportance
{
    /// <summary>
    /// Permutation feature importance per source column (numeric, categorical, text, position): each column is shuffled
    /// <paramref name="repeats"/> times with a seeded generator, the model re-scores the rows, and the mean drop of AUC
    /// is the column's importance. (ML.NET's PermutationFeatureImportance works per one-hot slot; this groups by column.)
    /// </summary>
    public static IReadOnlyList<ColumnImportance> Compute(CtrModel model, ClickLog test, int repeats, int seed, CancellationToken cancel = default)
    {
        var baseline = Experiments.Evaluation.Classification.BinaryMetrics.RocAuc(test.Labels, model.Predict(test));
        var random = new Random(seed);
        var results = new List<ColumnImportance>();
        void Measure(string name, Func<int[], ClickLog> permuted)
        {
            var drops = Enumerable.Range(0, repeats).Select(_ =>
            {
                cancel.ThrowIfCancellationRequested();
                var order = Enumerable.Range(0, test.Count).OrderBy(_ => random.Next()).ToArray();
                return baseline - Experiments.Evaluation.Classification.BinaryMetrics.RocAuc(test.Labels, model.Predict(permuted(order)));
            }).ToList();
            var mean = drops.Average();
            results.Add(new ColumnImportance(name, mean, drops.Count > 1 ? Math.Sqrt(drops.Sum(d => (d - mean) * (d - mean)) / (drops.Count - 1)) : 0));
        }
        T[][] Replace<T>(T[][] columns, int index, int[] order) => columns.Select((c, i) => i == index ? order.Select(r => c[r]).ToArray() : c).ToArray();
        for (var c = 0; c < test.Schema.Numeric.Count; c++)
        {
            var index = c;
            Measure(test.Schema.Numeric[c], order => new ClickLog(test.Schema, test.Labels, Replace(test.Numeric, index, order), test.Categorical, test.Text, test.Position));
        }
        for (var c = 0; c < test.Schema.Categorical.Count; c++)
        {
            var index = c;
            Measure(test.Schema.Categorical[c], order => new ClickLog(test.Schema, test.Labels, test.Numeric, Replace(test.Categorical, index, order), test.Text, test.Position));
        }
        for (var c = 0; c < test.Schema.Text.Count; c++)
        {
            var index = c;
            Measure(test.Schema.Text[c], order => new ClickLog(test.Schema, test.Labels, test.Numeric, test.Categorical, Replace(test.Text, index, order), test.Position));
        }
        return results.OrderByDescending(r => r.AucDrop).ToList();
    }
}
