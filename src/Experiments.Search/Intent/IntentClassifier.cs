using Experiments.Core;
using Experiments.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Transforms;

namespace Experiments.Search.Intent;

/// <summary>A fitted query-intent classifier: class probabilities for query texts, over <see cref="Classes"/>.</summary>
public interface IIntentClassifier
{
    IReadOnlyList<string> Classes { get; }
    double[][] Predict(IReadOnlyList<string> queries);
}

/// <summary>
/// Query intent classifiers, from query text to a product category or query class: (a) TF-IDF word and character
/// n-grams (ML.NET FeaturizeText) into an L-BFGS multinomial logistic regression; (b) the platform's transformer
/// encoder fine-tuned on the same labels (cross-entropy through a classification head), then an L-BFGS multinomial
/// logistic regression on its sentence vectors.
/// </summary>
public static class IntentClassifiers
{
    public static IIntentClassifier FitTfidf(IReadOnlyList<string> texts, IReadOnlyList<string> labels, IReadOnlyList<string> classes, double l2, int seed)
    {
        Check(labels, classes);
        var ml = new MLContext(seed);
        var model = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(ml.Transforms.Text.FeaturizeText("Features", "Text"))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options { L2Regularization = (float)l2, NumberOfThreads = 1 }))
            .Fit(LoadText(ml, texts, labels));
        return new MLNetIntent(classes, queries => Scores(model.Transform(LoadText(ml, queries, queries.Select(_ => labels[0]).ToList())), classes));
    }

    /// <param name="epochFitted">The encoder after each epoch (<see cref="EncoderCatalog.Fit"/>), for <see cref="OnEncoder"/>.</param>
    public static IIntentClassifier FitEncoder(IReadOnlyList<string> texts, IReadOnlyList<string> labels, IReadOnlyList<string> classes, IReadOnlyDictionary<string, object> parameters,
        double l2, int seed, Action<string>? notice = null, Action<double>? progress = null, CancellationToken cancel = default, Action<int, FittedEncoder>? epochFitted = null)
    {
        Check(labels, classes);
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var encoder = EncoderCatalog.Fit(null, new EncoderTask.Labelled(texts, labels.Select(l => index[l]).ToArray(), classes.Count, null), parameters, seed, null, notice, cancel, progress, epochFitted);
        return OnEncoder(encoder, texts, labels, classes, l2, seed);
    }

    /// <summary>The logistic regression of <see cref="FitEncoder"/> on the vectors of an encoder as it is.</summary>
    public static IIntentClassifier OnEncoder(FittedEncoder encoder, IReadOnlyList<string> texts, IReadOnlyList<string> labels, IReadOnlyList<string> classes, double l2, int seed)
    {
        Check(labels, classes);
        var embedder = encoder.Embedder("intent");
        var ml = new MLContext(seed);
        var model = ml.Transforms.Conversion.MapValueToKey("Label", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options { L2Regularization = (float)l2, NumberOfThreads = 1 }))
            .Fit(LoadVectors(ml, embedder.Embed(texts), labels));
        return new MLNetIntent(classes, queries => Scores(model.Transform(LoadVectors(ml, embedder.Embed(queries), queries.Select(_ => labels[0]).ToList())), classes));
    }

    private static void Check(IReadOnlyList<string> labels, IReadOnlyList<string> classes)
    {
        if (labels.Distinct().Count() < 2) throw new ExperimentsException($"An intent classifier needs training queries of at least two classes; these have {labels.Distinct().Count()}.");
        var known = classes.ToHashSet(StringComparer.Ordinal);
        if (labels.FirstOrDefault(l => !known.Contains(l)) is { } unknown) throw new ArgumentException($"'{unknown}' is not one of the classes.");
    }

    private static IDataView LoadText(MLContext ml, IReadOnlyList<string> texts, IReadOnlyList<string> labels) =>
        ml.Data.LoadFromEnumerable(texts.Select((t, i) => new TextRow { Text = t, Label = labels[i] }));

    private static IDataView LoadVectors(MLContext ml, float[][] vectors, IReadOnlyList<string> labels)
    {
        var schema = SchemaDefinition.Create(typeof(VectorRow));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, vectors.Length == 0 ? 1 : vectors[0].Length);
        return ml.Data.LoadFromEnumerable(vectors.Select((v, i) => new VectorRow { Features = v, Label = labels[i] }), schema);
    }

    /// <summary>
    /// Probabilities over every class: the model's slots are the classes seen in training (its label key's values, read
    /// from the schema); a class never seen in training gets probability 0.
    /// </summary>
    private static double[][] Scores(IDataView scored, IReadOnlyList<string> classes)
    {
        var keys = default(VBuffer<ReadOnlyMemory<char>>);
        scored.Schema["Label"].GetKeyValues(ref keys);
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var slots = keys.DenseValues().Select(k => index[k.ToString()]).ToArray();
        var result = new List<double[]>();
        var column = scored.Schema["Score"];
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var buffer = default(VBuffer<float>);
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            var probabilities = new double[classes.Count];
            var values = buffer.DenseValues().ToArray();
            for (var s = 0; s < slots.Length; s++) probabilities[slots[s]] = values[s];
            result.Add(probabilities);
        }
        return result.ToArray();
    }

    private sealed class MLNetIntent(IReadOnlyList<string> classes, Func<IReadOnlyList<string>, double[][]> predict) : IIntentClassifier
    {
        public IReadOnlyList<string> Classes => classes;
        public double[][] Predict(IReadOnlyList<string> queries) => queries.Count == 0 ? [] : predict(queries);
    }

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private sealed class VectorRow
    {
        public float[] Features { get; set; } = [];
        public string Label { get; set; } = "";
    }
}
