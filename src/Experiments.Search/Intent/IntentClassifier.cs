using Experiments.Core;
using Experiments.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

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
        var ml = new MLContext(seed);
        var view = LoadText(ml, texts, Keys(labels, classes), classes.Count);
        var model = ml.Transforms.Text.FeaturizeText("Features", "Text")
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options { L2Regularization = (float)l2, NumberOfThreads = 1 }))
            .Fit(view);
        return new MLNetIntent(classes, queries => Scores(ml, model.Transform(LoadText(ml, queries, new uint[queries.Count], classes.Count)), queries.Count));
    }

    public static IIntentClassifier FitEncoder(IReadOnlyList<string> texts, IReadOnlyList<string> labels, IReadOnlyList<string> classes, IReadOnlyDictionary<string, object> parameters,
        double l2, int seed, Action<string>? notice = null, Action<double>? progress = null, CancellationToken cancel = default)
    {
        var keys = Keys(labels, classes);
        var encoder = EncoderCatalog.Fit(null, new EncoderTask.Labelled(texts, keys.Select(k => (int)k - 1).ToArray(), classes.Count, null), parameters, seed, null, notice, cancel, progress);
        var embedder = encoder.Embedder("intent");
        var ml = new MLContext(seed);
        var model = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options { L2Regularization = (float)l2, NumberOfThreads = 1 })
            .Fit(LoadVectors(ml, embedder.Embed(texts), keys, classes.Count));
        return new MLNetIntent(classes, queries => Scores(ml, model.Transform(LoadVectors(ml, embedder.Embed(queries), new uint[queries.Count], classes.Count)), queries.Count));
    }

    private static uint[] Keys(IReadOnlyList<string> labels, IReadOnlyList<string> classes)
    {
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => (uint)x.i + 1, StringComparer.Ordinal);
        if (labels.Select(l => l).Distinct().Count() < 2) throw new ExperimentsException($"An intent classifier needs training queries of at least two classes; these have {labels.Distinct().Count()}.");
        return labels.Select(l => index.TryGetValue(l, out var k) ? k : throw new ArgumentException($"'{l}' is not one of the classes.")).ToArray();
    }

    // The label is a key over every class, so the probability vector has one slot per class even for classes absent from training.
    private static SchemaDefinition Schema(Type row, int classes, int? dimension = null)
    {
        var schema = SchemaDefinition.Create(row);
        schema["Label"].ColumnType = new KeyDataViewType(typeof(uint), classes);
        if (dimension is { } d) schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, d);
        return schema;
    }

    private static IDataView LoadText(MLContext ml, IReadOnlyList<string> texts, uint[] keys, int classes) =>
        ml.Data.LoadFromEnumerable(texts.Select((t, i) => new TextRow { Text = t, Label = keys[i] }), Schema(typeof(TextRow), classes));

    private static IDataView LoadVectors(MLContext ml, float[][] vectors, uint[] keys, int classes) =>
        ml.Data.LoadFromEnumerable(vectors.Select((v, i) => new VectorRow { Features = v, Label = keys[i] }), Schema(typeof(VectorRow), classes, vectors.Length == 0 ? 1 : vectors[0].Length));

    private static double[][] Scores(MLContext ml, IDataView scored, int count)
    {
        var rows = ml.Data.CreateEnumerable<ScoreRow>(scored, reuseRowObject: false).Select(r => r.Score.Select(s => (double)s).ToArray()).ToArray();
        return rows.Length == count ? rows : throw new InvalidOperationException("The classifier scored a different number of rows.");
    }

    private sealed class MLNetIntent(IReadOnlyList<string> classes, Func<IReadOnlyList<string>, double[][]> predict) : IIntentClassifier
    {
        public IReadOnlyList<string> Classes => classes;
        public double[][] Predict(IReadOnlyList<string> queries) => queries.Count == 0 ? [] : predict(queries);
    }

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
        public uint Label { get; set; }
    }

    private sealed class VectorRow
    {
        public float[] Features { get; set; } = [];
        public uint Label { get; set; }
    }

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }
}
