using System.Text.Json;

namespace Experiments.Ctr;

/// <summary>Text to vectors (one L2-normalised vector per text), e.g. a trained transformer encoder; named so a saved model can say which.</summary>
public sealed record TextEmbedding(string Name, Func<IReadOnlyList<string>, float[][]> Embed);

/// <summary>How raw click-log columns become model inputs.</summary>
public sealed record CtrFeatureOptions
{
    /// <summary>null: text columns go through ML.NET's FeaturizeText (TF-IDF n-grams); else each becomes this embedding's vector.</summary>
    public TextEmbedding? TextEmbedding { get; init; }
    /// <summary>A categorical value seen fewer times than this in training goes to its column's "other" bucket.</summary>
    public int MinCategoryCount { get; init; } = 3;
    /// <summary>Pairs of categorical columns whose values are also crossed into one feature ("a=x|b=y").</summary>
    public IReadOnlyList<(string A, string B)> Crosses { get; init; } = [];
    /// <summary>Numeric values go through sign(x)·log(1 + |x|) before normalisation (counts and prices are heavy-tailed).</summary>
    public bool LogTransform { get; init; } = true;
    /// <summary>0: one-hot encode categorical columns; n &gt; 0: hash each column's values into 2^n slots instead (no vocabulary to keep).</summary>
    public int HashBits { get; init; }
    /// <summary>Serving-time value of the display position: trained with the real position, scored as if every item were here.</summary>
    public float ServingPosition { get; init; } = 1;
}

/// <summary>
/// The fitted, data-dependent part of feature building: each categorical column's frequent values (from training
/// data only). Rows become a columnar view: Label, N.* (numeric, NaN = missing), Position, C.* (categorical and
/// crossed, rare values as "__other__"), T.* (text, or its embedding vector when <see cref="CtrFeatureOptions.TextEmbedding"/> is set).
/// </summary>
public sealed class CtrFeaturizer
{
    public const string Other = "__other__";

    private CtrFeaturizer(CtrFeatureOptions options, ClickLogSchema schema, Dictionary<string, HashSet<string>> vocabulary)
    {
        Options = options;
        Schema = schema;
        Vocabulary = vocabulary;
    }

    public CtrFeatureOptions Options { get; }
    public ClickLogSchema Schema { get; }
    /// <summary>Kept values per categorical (and crossed) column.</summary>
    public IReadOnlyDictionary<string, HashSet<string>> Vocabulary { get; }

    public IReadOnlyList<string> CategoricalColumns => Schema.Categorical.Concat(Options.Crosses.Select(CrossName)).Select(c => "C." + c).ToList();
    public IReadOnlyList<string> NumericColumns => Schema.Numeric.Select(c => "N." + c).ToList();
    public IReadOnlyList<string> TextColumns => Schema.Text.Select(c => "T." + c).ToList();

    public static CtrFeaturizer Fit(ClickLog train, CtrFeatureOptions options)
    {
        foreach (var (a, b) in options.Crosses)
            if (!train.Schema.Categorical.Contains(a) || !train.Schema.Categorical.Contains(b))
                throw new Core.ExperimentsException($"Cannot cross '{a}' with '{b}': both must be categorical columns; they are: {string.Join(", ", train.Schema.Categorical)}.");
        var featurizer = new CtrFeaturizer(options, train.Schema, []);
        var vocabulary = new Dictionary<string, HashSet<string>>();
        foreach (var (name, values) in featurizer.RawCategorical(train))
            vocabulary[name] = values.GroupBy(v => v).Where(g => g.Count() >= options.MinCategoryCount).Select(g => g.Key).ToHashSet();
        return new CtrFeaturizer(options, train.Schema, vocabulary);
    }

    /// <summary>The model input for <paramref name="log"/>; with <paramref name="serving"/> the position is fixed at the serving value.</summary>
    internal ColumnarDataView Transform(ClickLog log, bool serving, CancellationToken cancel = default)
    {
        var columns = new List<(string, Array)> { ("Label", log.Labels) };
        for (var c = 0; c < Schema.Numeric.Count; c++)
            columns.Add(("N." + Schema.Numeric[c], Options.LogTransform ? log.Numeric[c].Select(Log).ToArray() : log.Numeric[c]));
        if (log.Position is { } position)
            columns.Add(("Position", serving ? Enumerable.Repeat(Options.ServingPosition, log.Count).ToArray() : position));
        foreach (var (name, values) in RawCategorical(log))
        {
            var kept = Vocabulary[name];
            columns.Add(("C." + name, values.Select(v => kept.Contains(v) ? v : Other).ToArray()));
        }
        for (var c = 0; c < Schema.Text.Count; c++)
            columns.Add(("T." + Schema.Text[c], Options.TextEmbedding is { } embedding ? Embed(embedding, log.Text[c]) : log.Text[c]));
        return new ColumnarDataView(columns, cancel);
    }

    private IEnumerable<(string Name, string[] Values)> RawCategorical(ClickLog log)
    {
        for (var c = 0; c < Schema.Categorical.Count; c++) yield return (Schema.Categorical[c], log.Categorical[c]);
        foreach (var (a, b) in Options.Crosses)
        {
            var x = log.Categorical[Schema.Categorical.ToList().IndexOf(a)];
            var y = log.Categorical[Schema.Categorical.ToList().IndexOf(b)];
            yield return (CrossName((a, b)), x.Select((v, r) => $"{v}|{y[r]}").ToArray());
        }
    }

    private static string CrossName((string A, string B) pair) => $"{pair.A}x{pair.B}";

    private static float[][] Embed(TextEmbedding embedding, string[] texts)
    {
        var vectors = embedding.Embed(texts);
        if (vectors.Length != texts.Length || vectors.Select(v => v.Length).Distinct().Count() > 1)
            throw new Core.ExperimentsException($"Text embedding '{embedding.Name}' returned {vectors.Length} vectors of uneven or wrong count for {texts.Length} texts.");
        return vectors;
    }

    private static float Log(float x) => float.IsNaN(x) ? x : MathF.Sign(x) * MathF.Log(1 + MathF.Abs(x));

    public string ToJson() => JsonSerializer.Serialize(new Saved(Options.MinCategoryCount, Options.Crosses.Select(c => new[] { c.A, c.B }).ToList(), Options.LogTransform, Options.ServingPosition, Options.HashBits,
        Schema, Vocabulary.ToDictionary(v => v.Key, v => v.Value.Order(StringComparer.Ordinal).ToList()), Options.TextEmbedding?.Name));

    /// <summary>A saved featurizer; one whose text was embedded needs that embedding again (the vectors are not saved).</summary>
    public static CtrFeaturizer FromJson(string json, TextEmbedding? textEmbedding = null)
    {
        var saved = JsonSerializer.Deserialize<Saved>(json) ?? throw new Core.ExperimentsException("The saved featurizer is empty.");
        if (saved.TextEmbedding is { } name && textEmbedding?.Name != name)
            throw new Core.ExperimentsException(textEmbedding is null
                ? $"This click model embeds its text columns with '{name}'; load that encoder and pass it as the text embedding."
                : $"This click model embeds its text columns with '{name}', not '{textEmbedding.Name}'.");
        var options = new CtrFeatureOptions
        {
            MinCategoryCount = saved.MinCategoryCount, Crosses = saved.Crosses.Select(c => (c[0], c[1])).ToList(), LogTransform = saved.LogTransform,
            ServingPosition = saved.ServingPosition, HashBits = saved.HashBits, TextEmbedding = saved.TextEmbedding is null ? null : textEmbedding,
        };
        return new CtrFeaturizer(options, saved.Schema, saved.Vocabulary.ToDictionary(v => v.Key, v => v.Value.ToHashSet()));
    }

    private sealed record Saved(int MinCategoryCount, List<string[]> Crosses, bool LogTransform, float ServingPosition, int HashBits, ClickLogSchema Schema, Dictionary<string, List<string>> Vocabulary,
        string? TextEmbedding);
}
