using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Search.Intent;
using Experiments.Search.Ranking;
using Experiments.Search.Retrieval;
using Experiments.Text;

namespace Experiments.Search;

/// <summary>
/// The search models a definition can name (task "search"): retrievers (bm25, dense, hybrid), the learning-to-rank
/// re-ranker, and query-intent classifiers; their parameters with ranges and defaults, and how each is fitted on a
/// split's training queries. Every parameter is an ordinary model parameter, so a sweep can vary it.
/// </summary>
public static class SearchCatalog
{
    private const string Task = Experiments.Evaluation.MetricCatalog.Search;
    public const string Bm25 = "bm25";
    public const string Dense = "dense";
    public const string Hybrid = "hybrid";
    public const string Reranker = "reranker";
    public const string IntentTfidf = "intent-tfidf";
    public const string IntentEncoder = "intent-encoder";

    /// <summary>Model types that rank the catalogue (they need a catalogue and judgements); the others predict intents.</summary>
    public static readonly IReadOnlyList<string> Rankers = [Bm25, Dense, Hybrid, Reranker];

    private static readonly ParameterSpec[] Bm25Parameters =
    [
        new("language", ParameterKind.String, "english", "Analyser of titles, descriptions, attributes and queries: english (stop words, Porter stemming), chinese (SmartCn word segmentation) or standard. Default: the definition's search.language, else the data set's.", Allowed: Bm25Index.Languages),
        new("k1", ParameterKind.Number, 1.2, "BM25 term-frequency saturation (Lucene's BM25Similarity k1).", 0, 3),
        new("b", ParameterKind.Number, 0.75, "BM25 length normalisation (0: none, 1: full).", 0, 1),
        new("titleBoost", ParameterKind.Number, 2.0, "Weight of a match in the title (0 leaves the field out).", 0, 20),
        new("descriptionBoost", ParameterKind.Number, 1.0, "Weight of a match in the description.", 0, 20),
        new("attributesBoost", ParameterKind.Number, 1.0, "Weight of a match in the attributes.", 0, 20),
        new("categoryBoost", ParameterKind.Number, 0.5, "Weight of a match in the category name.", 0, 20),
    ];

    private static readonly ParameterSpec[] DenseParameters =
    [
        .. EncoderCatalog.Parameters.Select(p => p.Name switch
        {
            "epochs" => p with { Default = 4L },
            "maxLength" => p with { Default = 40L },
            _ => p,
        }),
        new("positivesPerQuery", ParameterKind.Integer, 4, "Training pairs per query: its best-graded products.", 1, 1000),
        new("hardNegatives", ParameterKind.Boolean, true, "Add one BM25 hard negative per pair (a top BM25 result graded below the positive) to the in-batch negatives."),
        new("hardNegativeDepth", ParameterKind.Integer, 30, "BM25 results a hard negative is drawn from.", 1, 10_000),
    ];

    private static readonly ParameterSpec Depth = new("depth", ParameterKind.Integer, 100, "Candidates taken from each retriever for fusion or re-ranking.", 1, 100_000);

    private static readonly ParameterSpec[] FusionParameters =
    [
        new("fusion", ParameterKind.String, "rrf", "rrf (reciprocal-rank fusion) or weighted (min–max normalised scores, weighted sum).", Allowed: Fusion.Methods),
        new("rrfK", ParameterKind.Number, 60.0, "RRF's constant k in w / (k + rank).", 0, 100_000),
        new("bm25Weight", ParameterKind.Number, 0.5, "Weight of BM25 (the dense retriever gets 1 − it), in either fusion.", 0, 1),
        Depth,
    ];

    private static readonly ParameterSpec[] RerankerParameters =
    [
        new("ranker", ParameterKind.String, "lightgbm", "ML.NET ranking trainer, both LambdaRank: lightgbm or fasttree.", Allowed: ["lightgbm", "fasttree"]),
        new("trees", ParameterKind.Integer, 200, "Boosting iterations.", 1, 100_000),
        new("leaves", ParameterKind.Integer, 15, "Leaves per tree.", 2, 100_000),
        new("minLeaf", ParameterKind.Integer, 20, "Fewest training rows in a leaf.", 1, 1_000_000),
        new("shrinkage", ParameterKind.Number, 0.1, "Boosting learning rate.", 1e-4, 1),
        Depth,
        new("holdoutFraction", ParameterKind.Number, 0.3, "Share of the training queries the ranking model learns from; the encoder and intent classifier are fitted on the rest, so their features on the held-out queries behave as on new ones.", 0.05, 0.9),
        new("dense", ParameterKind.Boolean, true, "Use a dense retriever (an encoder trained on the non-held-out queries) for candidates and the cosine feature."),
        new("intent", ParameterKind.String, "tfidf", "Intent classifier for the category-match features: tfidf, encoder or none.", Allowed: ["tfidf", "encoder", "none"]),
    ];

    private static readonly ParameterSpec L2 = new("l2", ParameterKind.Number, 1.0, "L2 weight of the multinomial logistic regression.", 0, 1e6);

    public static IReadOnlyList<ModelDescriptor> Models { get; } =
    [
        new(Bm25, [Task], "BM25 over title, description, attributes and category (Lucene.NET), with field boosts and a language's analyser.", Bm25Parameters),
        new(Dense, [Task], "Dense retrieval: the transformer encoder as a bi-encoder (shared weights), trained contrastively on the training queries' relevant products with in-batch and BM25 hard negatives; exact cosine search over the catalogue.",
            [.. DenseParameters, .. Bm25Parameters]),
        new(Hybrid, [Task], "Hybrid retrieval: BM25 and the dense retriever fused by reciprocal rank or a weighted score combination.", [.. Bm25Parameters, .. DenseParameters, .. FusionParameters]),
        new(Reranker, [Task], "Learning to rank: BM25 and dense candidates re-ordered by LightGBM or FastTree LambdaRank (ML.NET) over BM25 per field, encoder cosine, title overlap, popularity and intent match.",
            [.. Bm25Parameters, .. DenseParameters, .. RerankerParameters]),
        new(IntentTfidf, [Task], "Query intent: TF-IDF word and character n-grams into L-BFGS multinomial logistic regression (ML.NET).", [L2]),
        new(IntentEncoder, [Task], "Query intent: the transformer encoder fine-tuned on the training queries' classes, then L-BFGS multinomial logistic regression on its vectors.",
            [.. EncoderCatalog.Parameters, L2]),
    ];

    public static bool IsRanker(string type) => Rankers.Contains(type);

    /// <summary>Fits model <paramref name="type"/> with <paramref name="parameters"/> on the context's training queries.</summary>
    public static ISearchModel Fit(string type, IReadOnlyDictionary<string, object> parameters, SearchFitContext context)
    {
        var descriptor = Models.FirstOrDefault(m => m.Type == type) ?? throw new ExperimentsException(DefinitionValidator.UnknownValue($"search model '{type}'", type, Models.Select(m => m.Type).ToList()));
        var p = new ParameterValues(parameters, descriptor.Parameters);
        if (IsRanker(type) && (context.Collection.Catalogue is null || context.Collection.Judgements is null))
            throw new ExperimentsException($"Model '{type}' ranks a catalogue by judged queries; this collection has {(context.Collection.Catalogue is null ? "no catalogue" : "no judgements")}. Use intent-tfidf or intent-encoder.");
        switch (type)
        {
            case Bm25: return Lexical(p, parameters, context);
            case Dense: return new DenseModel(DenseRetriever(p, parameters, context, context.Train, dense => new DenseModel(dense, context.Collection)), context.Collection);
            case Hybrid:
            {
                var lexical = Lexical(p, parameters, context);
                HybridModel Fused(DenseRetriever dense) =>
                    new(lexical, new DenseModel(dense, context.Collection), p.Text("fusion"), p.Number("bm25Weight"), p.Number("rrfK"), p.Integer("depth"));
                return Fused(DenseRetriever(p, parameters, context, context.Train, Fused));
            }
            case Reranker:
            {
                var (fit, learn) = Holdout(context.Train, p.Number("holdoutFraction"), context.Seed);
                var intent = p.Text("intent") == "none" ? null : IntentClassifier(p.Text("intent") == "encoder" ? IntentEncoder : IntentTfidf, parameters, context, fit, optional: true);
                var inputs = new RerankerInputs(context.Collection, Index(p, parameters, context), p.Flag("dense") ? DenseRetriever(p, parameters, context, fit) : null, intent);
                var training = Ranking.Reranker.Prepare(inputs, learn, p.Integer("depth"));
                var model = new RankingModelOptions
                {
                    Trainer = p.Text("ranker") == "fasttree" ? RankingTrainer.FastTree : RankingTrainer.LightGbm,
                    Trees = p.Integer("trees"), Leaves = p.Integer("leaves"), MinLeaf = p.Integer("minLeaf"), Shrinkage = p.Number("shrinkage"),
                    Gain = context.Gain, Seed = context.Seed,
                };
                ISearchModel WithTrees(int trees) => new RerankerModel(training.Fit(model with { Trees = trees }));
                return context.FitRounds is { } rounds ? rounds(model.Trees, WithTrees) : WithTrees(model.Trees);
            }
            default: return new IntentModel(IntentClassifier(type, parameters, context, context.Train, optional: false, shown: true)!);
        }
    }

    /// <summary>The context's <see cref="SearchFitContext.EpochFitted"/> as an encoder's epoch handler, the model built by <paramref name="model"/>; null when nothing watches.</summary>
    private static Action<int, FittedEncoder>? Shown(SearchFitContext context, Func<FittedEncoder, ISearchModel> model) =>
        context.EpochFitted is { } fitted ? (epoch, encoder) => fitted(new EncoderEpoch(epoch, encoder.Training.Epochs, () => model(encoder))) : null;

    private static Bm25Model Lexical(ParameterValues p, IReadOnlyDictionary<string, object> parameters, SearchFitContext context) => new(Index(p, parameters, context), context.Collection);

    private static Bm25Index Index(ParameterValues p, IReadOnlyDictionary<string, object> parameters, SearchFitContext context)
    {
        var options = new Bm25Options
        {
            Language = p.Text("language", parameters.ContainsKey("language") ? null : context.Language),
            K1 = p.Number("k1"), B = p.Number("b"),
            TitleBoost = p.Number("titleBoost"), DescriptionBoost = p.Number("descriptionBoost"), AttributesBoost = p.Number("attributesBoost"), CategoryBoost = p.Number("categoryBoost"),
        };
        return context.Components.Get($"bm25|{options}", () => new Bm25Index(context.Collection.Catalogue!, options));
    }

    /// <param name="shown">The model an epoch's retriever makes, when the epochs are shown (<see cref="SearchFitContext.EpochFitted"/>); null for a re-ranker's input.</param>
    private static DenseRetriever DenseRetriever(ParameterValues p, IReadOnlyDictionary<string, object> parameters, SearchFitContext context, int[] queries,
        Func<DenseRetriever, ISearchModel>? shown = null)
    {
        var hard = p.Flag("hardNegatives");
        var names = DenseParameters.Select(s => s.Name).Concat(hard ? Bm25Parameters.Select(s => s.Name) : []);
        // Defaults spelled out so that the encoder sees this model's defaults (e.g. more epochs), not the encoders' own.
        var settings = DenseParameters.ToDictionary(s => s.Name, s => parameters.TryGetValue(s.Name, out var v) ? v : s.Default);
        return context.Components.Get(SearchComponents.Key("dense", parameters, names, queries, context.Seed), () =>
        {
            var pairs = DenseTrainingPairs.Mine(context.Collection, queries, p.Integer("positivesPerQuery"), hard ? Index(p, parameters, context) : null, p.Integer("hardNegativeDepth"), context.Seed);
            return Retrieval.DenseRetriever.Fit(context.Collection.Catalogue!, pairs, settings, context.Seed, context.Notice, f => context.Progress?.Invoke("dense encoder", f), context.Cancel,
                shown is null ? null : Shown(context, encoder => shown(Retrieval.DenseRetriever.Of(encoder, context.Collection.Catalogue!))));
        });
    }

    /// <summary>
    /// An intent classifier fitted on the queries that have an intent; null (when optional) if fewer than two classes occur.
    /// <paramref name="shown"/>: the encoder's epochs are shown (the model's own classifier, not a re-ranker's input).
    /// </summary>
    private static IIntentClassifier? IntentClassifier(string type, IReadOnlyDictionary<string, object> parameters, SearchFitContext context, int[] queries, bool optional, bool shown = false)
    {
        var collection = context.Collection;
        var labelled = queries.Where(q => collection.Queries[q].Intent is not null).ToArray();
        if (labelled.Select(q => collection.Queries[q].Intent).Distinct().Count() < 2)
            return optional ? null : throw new ExperimentsException($"Model '{type}' learns query intents, but the training queries have {(labelled.Length == 0 ? "none" : "only one class")}; the data set's queries need a column with role 'label'.");
        var p = new ParameterValues(parameters, Models.First(m => m.Type == type).Parameters);
        var texts = labelled.Select(q => collection.Queries[q].Text).ToList();
        var labels = labelled.Select(q => collection.Queries[q].Intent!).ToList();
        var names = type == IntentEncoder ? EncoderCatalog.Parameters.Select(s => s.Name).Append("l2") : ["l2"];
        return context.Components.Get(SearchComponents.Key(type, parameters, names, labelled, context.Seed), () => type == IntentEncoder
            ? IntentClassifiers.FitEncoder(texts, labels, collection.Intents, parameters, p.Number("l2", 1.0), context.Seed, context.Notice, f => context.Progress?.Invoke("intent encoder", f), context.Cancel,
                shown ? Shown(context, encoder => new IntentModel(IntentClassifiers.OnEncoder(encoder, texts, labels, collection.Intents, p.Number("l2", 1.0), context.Seed))) : null)
            : IntentClassifiers.FitTfidf(texts, labels, collection.Intents, p.Number("l2", 1.0), context.Seed));
    }

    /// <summary>A seeded share of the training queries to learn the ranking model from; the rest fit its inputs.</summary>
    private static (int[] Fit, int[] Learn) Holdout(int[] train, double fraction, int seed)
    {
        var shuffled = train.ToArray();
        new Random(seed ^ 0x3F1).Shuffle(shuffled);
        var learn = Math.Clamp((int)Math.Round(train.Length * fraction), 1, Math.Max(1, train.Length - 2));
        return (shuffled.Skip(learn).Order().ToArray(), shuffled.Take(learn).Order().ToArray());
    }
}
