using System.Globalization;
using Experiments.Core;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Experiments.Ctr;

/// <summary>
/// Text to vectors inside the click model's ML.NET pipeline, e.g. a trained transformer encoder through
/// Experiments.Text's <c>EmbedText</c>: <see cref="Estimator"/> maps a text column (the second argument) to a vector
/// column (the first). The fitted transformer is part of the saved pipeline, so a saveable embedder travels with the model.
/// </summary>
public sealed record TextEmbedding(string Name, Func<string, string, IEstimator<ITransformer>> Estimator);

/// <summary>How raw click-log columns become model inputs.</summary>
public sealed record CtrFeatureOptions
{
    /// <summary>null: text columns go through ML.NET's FeaturizeText (TF-IDF n-grams); else each becomes this embedding's vector.</summary>
    public TextEmbedding? TextEmbedding { get; init; }
    /// <summary>A categorical value seen fewer times than this in training goes to its column's "other" bucket.</summary>
    public int MinCategoryCount { get; init; } = 3;
    /// <summary>Pairs of categorical columns whose values are also crossed into one feature ("x|y").</summary>
    public IReadOnlyList<(string A, string B)> Crosses { get; init; } = [];
    /// <summary>Numeric values go through sign(x)·log(1 + |x|) before normalisation (counts and prices are heavy-tailed).</summary>
    public bool LogTransform { get; init; } = true;
    /// <summary>0: one-hot encode categorical columns; n &gt; 0: hash each column's values into 2^n slots instead (no vocabulary to keep).</summary>
    public int HashBits { get; init; }
    /// <summary>Serving-time value of the display position: trained with the real position, scored as if every item were here.</summary>
    public float ServingPosition { get; init; } = 1;
}

/// <summary>
/// The click model's input and its featurisation, all of it as ML.NET estimators so that the fitted pipeline saves
/// with <c>mlContext.Model.Save</c> and scores raw rows after <c>mlContext.Model.Load</c>. The input view of a click log
/// has the columns Label, N.* (numeric, NaN = missing), Position, C.* (categorical) and T.* (text), values as logged.
/// </summary>
public static class ClickFeatures
{
    public const string Other = RareValuesTransformer.Other;
    public const string Position = "Position";

    /// <summary>The raw rows of <paramref name="log"/> as the pipeline's input view.</summary>
    public static IDataView Input(ClickLog log, CancellationToken cancel = default) => InputView(log, cancel);

    internal static ColumnarDataView InputView(ClickLog log, CancellationToken cancel = default)
    {
        var columns = new List<(string, Array)> { ("Label", log.Labels) };
        for (var c = 0; c < log.Schema.Numeric.Count; c++) columns.Add(("N." + log.Schema.Numeric[c], log.Numeric[c]));
        if (log.Position is { } position) columns.Add((Position, position));
        for (var c = 0; c < log.Schema.Categorical.Count; c++) columns.Add(("C." + log.Schema.Categorical[c], log.Categorical[c]));
        for (var c = 0; c < log.Schema.Text.Count; c++) columns.Add(("T." + log.Schema.Text[c], log.Text[c]));
        return new ColumnarDataView(columns, cancel);
    }

    /// <summary>
    /// The featurising estimators for <paramref name="schema"/>, and the columns they leave for the trainer (one per
    /// field: the numeric block, each categorical or crossed column, each text column), each in ML.NET's own transforms:
    /// <list type="bullet">
    /// <item>numeric: the signed log as an <c>Expression</c> per column, the position beside them, then
    /// <c>IndicateMissingValues</c>, mean <c>ReplaceMissingValues</c> and <c>NormalizeMeanVariance</c>;</item>
    /// <item>crossed pairs: an <c>Expression</c> joining the raw values ("x|y");</item>
    /// <item>categorical: rare and unseen values to the column's "other" bucket (<see cref="RareValuesEstimator"/>: ML.NET's
    /// encoders cap a vocabulary by size and leave unseen values all-zero, but pool nothing), then <c>OneHotEncoding</c>
    /// or <c>OneHotHashEncoding</c>;</item>
    /// <item>text: <c>FeaturizeText</c>, or the options' text embedding.</item>
    /// </list>
    /// </summary>
    public static (IEstimator<ITransformer> Estimator, IReadOnlyList<string> Fields) Estimator(MLContext ml, ClickLogSchema schema, CtrFeatureOptions options, bool hasPosition)
    {
        foreach (var (a, b) in options.Crosses)
            if (!schema.Categorical.Contains(a) || !schema.Categorical.Contains(b))
                throw new ExperimentsException($"Cannot cross '{a}' with '{b}': both must be categorical columns; they are: {string.Join(", ", schema.Categorical)}.");
        IEstimator<ITransformer> pipeline = new EstimatorChain<ITransformer>();
        var fields = new List<string>();
        var numeric = schema.Numeric.Select(c => "N." + c).ToList();
        if (options.LogTransform)
            foreach (var column in numeric)
                // sign() keeps NaN (missing), which the indicator and the imputation below see.
                pipeline = pipeline.Append(ml.Transforms.Expression(column, "x => sign(x) * log(1 + abs(x))", column));
        if (hasPosition) numeric.Add(Position);
        if (numeric.Count > 0)
        {
            pipeline = pipeline
                .Append(ml.Transforms.Concatenate("Numeric", numeric.ToArray()))
                .Append(ml.Transforms.IndicateMissingValues("NumericMissing", "Numeric"))
                .Append(ml.Transforms.Conversion.ConvertType("NumericMissing", outputKind: Microsoft.ML.Data.DataKind.Single))
                .Append(ml.Transforms.ReplaceMissingValues("Numeric", replacementMode: Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean))
                .Append(ml.Transforms.NormalizeMeanVariance("Numeric"))
                .Append(ml.Transforms.Concatenate("NumericField", "Numeric", "NumericMissing"));
            fields.Add("NumericField");
        }
        foreach (var (a, b) in options.Crosses)
            pipeline = pipeline.Append(ml.Transforms.Expression(CrossColumn(a, b), "(a, b) => concat(a, \"|\", b)", "C." + a, "C." + b));
        foreach (var column in schema.Categorical.Select(c => "C." + c).Concat(options.Crosses.Select(p => CrossColumn(p.A, p.B))))
        {
            pipeline = pipeline.Append(new RareValuesEstimator(column, options.MinCategoryCount));
            pipeline = options.HashBits > 0
                ? pipeline.Append(ml.Transforms.Categorical.OneHotHashEncoding(column, numberOfBits: options.HashBits))
                : pipeline.Append(ml.Transforms.Categorical.OneHotEncoding(column));
            fields.Add(column);
        }
        foreach (var column in schema.Text.Select(c => "T." + c))
        {
            pipeline = pipeline.Append(options.TextEmbedding is { } embedding ? embedding.Estimator(column, column) : ml.Transforms.Text.FeaturizeText(column));
            fields.Add(column);
        }
        if (fields.Count == 0) throw new ExperimentsException("The click log has no feature columns.");
        return (pipeline, fields);
    }

    /// <summary>The position fixed at <paramref name="value"/> (serving): the first step of a saved click model whose log has positions.</summary>
    internal static IEstimator<ITransformer> FixPosition(MLContext ml, float value) =>
        ml.Transforms.Expression(Position, $"p => float({value.ToString("R", CultureInfo.InvariantCulture)})", Position);

    private static string CrossColumn(string a, string b) => $"C.{a}x{b}";
}
