using Experiments.Core.Definitions;
using Experiments.Hybrid;
using Experiments.Sweeps;
using Experiments.Sweeps.Tuners;

namespace Experiments.Runs;

/// <summary>
/// The default search space of every model kind, in one place, and how a definition's sweep block turns into the space
/// a sweep searches. Each default starts at a low-cost point (few rounds, small ranks, FLAML's
/// low_cost_partial_config; the other parameters at the model's defaults) and is checked against its model's parameters
/// like a space written in a definition.
/// </summary>
public static class SweepSpaces
{
    /// <summary>The parameter a sweep over several models chooses them by: its values are the models' names.</summary>
    public const string ModelChoice = "model";

    // Text encoders (the search task's dense retriever, hybrid and intent encoder): size, epochs and optimiser.
    private const string Encoder =
        "\"hiddenSize\":{ \"choice\":[64, 128, 256] }, \"layers\":{ \"int\":[1, 4] }, \"epochs\":{ \"int\":[1, 10], \"lowCost\":2 }, " +
        "\"learningRate\":{ \"float\":[1e-4, 3e-3], \"log\":true }, \"dropout\":{ \"float\":[0, 0.3] }, \"batchSize\":{ \"choice\":[32, 64, 128] }";
    private const string Contrastive = "\"temperature\":{ \"float\":[0.02, 0.2], \"log\":true }";
    private const string Bm25 = "\"k1\":{ \"float\":[0.3, 2.5] }, \"b\":{ \"float\":[0, 1] }, \"titleBoost\":{ \"float\":[0, 5] }, " +
        "\"descriptionBoost\":{ \"float\":[0, 3] }, \"attributesBoost\":{ \"float\":[0, 3] }, \"categoryBoost\":{ \"float\":[0, 3] }";
    // Only parameters a fit's time grows with carry a lowCost; the others start at the model's default (StartingWhereTheModelDoes).
    // Leaves (FLAML starts LightGBM at 4) and hard negatives (a retrieval pass per epoch) cost time the work estimate leaves out.
    // Click models: the featuriser's choices come with every trainer.
    private const string Featuriser = "\"minCategoryCount\":{ \"int\":[1, 100], \"log\":true }, \"hashBits\":{ \"choice\":[0, 16, 20] }, \"logTransform\":{ \"choice\":[true, false] }";
    private const string Boosting = "\"iterations\":{ \"int\":[10, 1000], \"log\":true, \"lowCost\":20 }, \"leaves\":{ \"int\":[4, 256], \"log\":true, \"lowCost\":4 }, " +
        "\"minLeaf\":{ \"int\":[1, 200], \"log\":true }, \"learningRate\":{ \"float\":[0.01, 0.5], \"log\":true }, " + Featuriser;
    private const string Linear = "\"l2\":{ \"float\":[1e-4, 100], \"log\":true }, " + Featuriser;

    private static readonly Dictionary<string, string> Defaults = new(StringComparer.Ordinal)
    {
        // Recommenders. Popularity, random and the global mean have nothing to tune: their space is empty (one trial).
        ["most-popular"] = "",
        ["random"] = "",
        ["global-mean"] = "",
        ["bias"] = "\"userRegularization\":{ \"float\":[0.1, 100], \"log\":true }, \"itemRegularization\":{ \"float\":[0.1, 100], \"log\":true }, \"iterations\":{ \"int\":[1, 30], \"lowCost\":5 }",
        ["item-knn"] = "\"neighbours\":{ \"int\":[5, 2000], \"log\":true, \"lowCost\":50 }, \"shrinkage\":{ \"float\":[0, 500] }",
        ["ease"] = "\"lambda\":{ \"float\":[1, 100000], \"log\":true }",
        ["matrix-factorization"] = "\"solver\":{ \"choice\":[\"als\", \"sgd\"] }, \"rank\":{ \"int\":[4, 256], \"log\":true, \"lowCost\":8 }, \"iterations\":{ \"int\":[5, 100], \"log\":true, \"lowCost\":10 }, " +
            "\"lambda\":{ \"float\":[1e-3, 1], \"log\":true }, \"biasLambda\":{ \"float\":[1e-3, 10], \"log\":true }, " +
            "\"learningRate\":{ \"float\":[1e-3, 0.1], \"log\":true, \"when\":{ \"solver\":[\"sgd\"] } }",
        ["svd++"] = "\"rank\":{ \"int\":[4, 256], \"log\":true, \"lowCost\":8 }, \"iterations\":{ \"int\":[5, 100], \"log\":true, \"lowCost\":10 }, " +
            "\"learningRate\":{ \"float\":[1e-3, 0.05], \"log\":true }, \"learningRateDecay\":{ \"float\":[0.8, 1] }, " +
            "\"lambda\":{ \"float\":[1e-3, 0.5], \"log\":true }, \"biasLambda\":{ \"float\":[1e-3, 0.5], \"log\":true }",
        ["bayesian-mf"] = "\"rank\":{ \"int\":[4, 64], \"log\":true, \"lowCost\":8 }, \"burnIn\":{ \"int\":[5, 100], \"log\":true, \"lowCost\":10 }, " +
            "\"samples\":{ \"int\":[10, 200], \"log\":true, \"lowCost\":20 }, \"alpha\":{ \"float\":[0.5, 10], \"log\":true }",
        ["implicit-als"] = "\"rank\":{ \"int\":[8, 256], \"log\":true, \"lowCost\":16 }, \"iterations\":{ \"int\":[3, 50], \"log\":true, \"lowCost\":5 }, " +
            "\"lambda\":{ \"float\":[1e-3, 100], \"log\":true }, \"alpha\":{ \"float\":[0.1, 100], \"log\":true }, \"cgSteps\":{ \"int\":[2, 10], \"lowCost\":3 }",
        ["bpr"] = "\"rank\":{ \"int\":[8, 256], \"log\":true, \"lowCost\":16 }, \"iterations\":{ \"int\":[10, 500], \"log\":true, \"lowCost\":20 }, " +
            "\"learningRate\":{ \"float\":[1e-3, 0.5], \"log\":true }, \"lambda\":{ \"float\":[1e-4, 0.1], \"log\":true }",
        // Click-through: a definition with several of these sweeps the choice of trainer too.
        ["lightgbm"] = Boosting,
        ["fasttree"] = Boosting,
        ["ffm"] = "\"iterations\":{ \"int\":[2, 50], \"log\":true, \"lowCost\":5 }, \"learningRate\":{ \"float\":[0.01, 1], \"log\":true }, " +
            "\"l2\":{ \"float\":[1e-6, 1], \"log\":true }, \"latentDimension\":{ \"int\":[2, 32], \"log\":true, \"lowCost\":4 }, " + Featuriser,
        ["logistic-regression"] = Linear,
        ["sdca"] = Linear,
        // Search.
        ["bm25"] = Bm25,
        ["dense"] = Encoder + ", " + Contrastive + ", \"positivesPerQuery\":{ \"int\":[1, 8], \"lowCost\":2 }, \"hardNegatives\":{ \"choice\":[false, true], \"lowCost\":false }",
        ["hybrid"] = Encoder + ", " + Contrastive + ", \"k1\":{ \"float\":[0.3, 2.5] }, \"b\":{ \"float\":[0, 1] }, " +
            "\"fusion\":{ \"choice\":[\"rrf\", \"weighted\"] }, \"rrfK\":{ \"float\":[1, 200], \"log\":true, \"when\":{ \"fusion\":[\"rrf\"] } }, \"bm25Weight\":{ \"float\":[0, 1] }",
        ["reranker"] = "\"trees\":{ \"int\":[20, 500], \"log\":true, \"lowCost\":50 }, \"leaves\":{ \"int\":[4, 64], \"log\":true, \"lowCost\":8 }, " +
            "\"minLeaf\":{ \"int\":[1, 100], \"log\":true }, \"shrinkage\":{ \"float\":[0.01, 0.3], \"log\":true }, " +
            "\"depth\":{ \"int\":[20, 200], \"log\":true, \"lowCost\":50 }, \"dense\":{ \"choice\":[false, true] }",
        ["text-knn"] = "\"weighted\":{ \"choice\":[false, true] }",
        ["recent-popular"] = "\"halfLife\":{ \"float\":[0.01, 10], \"log\":true }",
        // Two-stage: retriever depth, the re-ranker's boosting and the feature groups. The label fraction is not searched:
        // each value is a label phase whose retrievers are fitted anew, where every other choice reuses the fitted stages.
        ["two-stage"] = "\"depth\":{ \"int\":[20, 500], \"log\":true, \"lowCost\":50 }, \"trees\":{ \"int\":[20, 500], \"log\":true, \"lowCost\":50 }, " +
                        "\"leaves\":{ \"int\":[4, 64], \"log\":true, \"lowCost\":8 }, \"minLeaf\":{ \"int\":[5, 500], \"log\":true }, " +
                        "\"learningRate\":{ \"float\":[0.01, 0.3], \"log\":true }, " +
                        "\"textFeatures\":{ \"choice\":[true, false] }, \"popularityFeatures\":{ \"choice\":[true, false] }, \"userFeatures\":{ \"choice\":[true, false] }, " +
                        "\"attributeFeatures\":{ \"choice\":[true, false] }, \"clickFeatures\":{ \"choice\":[true, false] }",
        ["intent-tfidf"] = "\"l2\":{ \"float\":[1e-4, 100], \"log\":true }",
        ["intent-encoder"] = Encoder + ", \"l2\":{ \"float\":[1e-4, 100], \"log\":true }",
    };

    /// <summary>
    /// Zero-shot starts: configurations known to be good for a model kind, tried first when a sweep asks for them
    /// (<c>"zeroShot": true</c>, <see cref="TunerOptions.Portfolio"/>). Gradient-boosted trees: the library's own defaults (LightGBM:
    /// 100 rounds, 31 leaves, 20 rows per leaf, rate 0.1; ML.NET's FastTree: 100, 20, 10, 0.2), and for LightGBM the one
    /// configuration of FLAML's zero-shot binary-classification portfolio (flaml/default/lgbm/binary.json, learned on
    /// OpenML data sets) of moderate cost — its others take thousands of rounds or leaves at rates tied to those.
    /// </summary>
    private static readonly Dictionary<string, IReadOnlyList<IReadOnlyDictionary<string, object>>> Portfolios = new(StringComparer.Ordinal)
    {
        ["lightgbm"] =
        [
            new Dictionary<string, object> { ["iterations"] = 100L, ["leaves"] = 31L, ["minLeaf"] = 20L, ["learningRate"] = 0.1 },
            new Dictionary<string, object> { ["iterations"] = 141L, ["leaves"] = 139L, ["minLeaf"] = 8L, ["learningRate"] = 0.048 },
        ],
        ["fasttree"] = [new Dictionary<string, object> { ["iterations"] = 100L, ["leaves"] = 20L, ["minLeaf"] = 10L, ["learningRate"] = 0.2 }],
    };

    /// <summary>
    /// The zero-shot portfolio of a sweep of one model: its kind's configurations moved into the sweep's space (the
    /// parameters the definition fixes keep their values, ranges it narrows clamp the entries), without repeats and
    /// without the start point itself. Empty for kinds without one and for a sweep over several models.
    /// </summary>
    public static IReadOnlyList<IReadOnlyDictionary<string, object>> PortfolioOf(ExperimentDefinition definition, SearchSpace space) =>
        Swept(definition) is [var model] && Portfolios.TryGetValue(model.Type, out var entries)
            ? entries.Select(space.Nearest).Distinct().Where(p => !p.Equals(space.StartPoint)).ToList()
            : [];

    /// <summary>
    /// The work a fit of <paramref name="model"/> on one tuning part does, as ECI's cost (the sweep's
    /// <see cref="SweepSettings.Cost"/> sums it over the parts): the part's training rows times the parameters a fit's
    /// time grows with for its type, each the entry's value or else its catalogue default; EASE's items². Deterministic where measured seconds are not, so a sweep over several
    /// models proposes the same trials for the same seed. An estimate in row-operations: close within a model kind,
    /// comparable only roughly across kinds; types with nothing that scales a fit count rows × 1.
    /// </summary>
    public static double WorkOf(ModelSpec model, long trainingRows, long trainingItems = 0)
    {
        var descriptor = Platform.Vocabulary.Models.FirstOrDefault(m => m.Type == model.Type);
        if (descriptor is null || !Defaults.ContainsKey(model.Type))
            throw new Core.ExperimentsException($"Model type '{model.Type}' has no work estimate; known types: {string.Join(", ", Types)}.");
        var p = new ParameterValues(model.Parameters, descriptor.Parameters);
        double N(string name) => p.Number(name);
        // Text encoders: per example, layers of hidden-size-wide blocks, once per epoch.
        double Encoder() => N("hiddenSize") * N("layers") * N("epochs");
        // EASE's fit is dense items × items work, not per row: items³ multiply-adds (the inverse) at BLAS speed, which is
        // about items² of this estimate's row-operations (on MovieLens small, 9.7k items, a trial takes 7–17 s against
        // implicit ALS's 0.6–2.7 s at its start point). The items it models: all, or its maxItems.
        if (model.Type == "ease" && trainingItems > 0)
            return Math.Pow(p.Integer("maxItems", 0) is > 0 and var cap ? Math.Min(trainingItems, cap) : trainingItems, 2);
        double perRow = model.Type switch
        {
            "most-popular" or "random" or "global-mean" or "ease" or "logistic-regression" or "sdca" or "bm25" or "intent-tfidf" or "text-knn" or "recent-popular" => 1,
            "bias" => N("iterations"),
            "item-knn" => N("neighbours"),
            // ALS solves a rank × rank system built from every row; SGD touches rank factors per row.
            "matrix-factorization" => (p.Text("solver") == "als" ? N("rank") * N("rank") : N("rank")) * N("iterations"),
            "svd++" or "bpr" => N("rank") * N("iterations"),
            // Gibbs sampling draws each factor from a rank × rank posterior built from its rows.
            "bayesian-mf" => N("rank") * N("rank") * (N("burnIn") + N("samples")),
            // Conjugate gradient instead of the exact solve: rank per step per row.
            "implicit-als" => N("rank") * N("cgSteps") * N("iterations"),
            // Histogram GBDTs: a round's time is the rows' pass, not the leaves.
            "lightgbm" or "fasttree" => N("iterations"),
            "ffm" => N("iterations") * N("latentDimension"),
            "dense" or "hybrid" => Encoder() * N("positivesPerQuery"),
            "intent-encoder" => Encoder(),
            // Each query's candidates (depth) are the trees' rows; the dense retriever, when asked for, trains first.
            "reranker" => N("depth") * N("trees") + (p.Flag("dense") ? Encoder() * N("positivesPerQuery") : 0),
            "two-stage" => N("depth") * N("trees"),
            _ => throw new Core.ExperimentsException($"Model type '{model.Type}' has no work estimate; add one to SweepSpaces.WorkOf."),
        };
        return trainingRows * perRow;
    }

    /// <summary>The model types with a default space (every type of the catalogues).</summary>
    public static IReadOnlyCollection<string> Types => Defaults.Keys;

    /// <summary>The default space of a model type as JSON.</summary>
    public static string DefaultJson(string type) =>
        Defaults.TryGetValue(type, out var body) ? "{ " + body + " }" : throw new Core.ExperimentsException($"Model type '{type}' has no default search space.");

    /// <summary>The default space of <paramref name="model"/>, checked against its parameters, with the start values of <see cref="StartingWhereTheModelDoes"/>.</summary>
    public static SearchSpace Default(ModelDescriptor model) =>
        SearchSpace.Create(StartingWhereTheModelDoes(SpaceJson.Parse(DefaultJson(model.Type), $"the default space of '{model.Type}'", CatalogOf(model)).Parameters, model));

    /// <summary>
    /// FLAML's start point: a parameter a fit's work grows with (<see cref="WorkOf"/> differs across its range) starts at
    /// its low-cost end, every other one where the model does by default (FLAML's init_value, the library's defaults) —
    /// e.g. a regularisation weight at its tuned default rather than at the bottom of its range. A <c>lowCost</c> a
    /// space gives is kept; so is a parameter whose default the space does not offer.
    /// </summary>
    private static IEnumerable<SearchParameter> StartingWhereTheModelDoes(IEnumerable<SearchParameter> parameters, ModelDescriptor model, IReadOnlyDictionary<string, object>? entry = null)
    {
        double Work(string name, object value) =>
            WorkOf(new ModelSpec { Name = model.Type, Type = model.Type, Parameters = new Dictionary<string, object>(entry ?? new Dictionary<string, object>()) { [name] = value } }, 1000, 100);
        bool DrivesWork(SearchParameter p, IEnumerable<object> values) => values.Select(v => Work(p.Name, v)).Distinct().Count() > 1;
        foreach (var p in parameters)
        {
            var spec = model.Parameters.FirstOrDefault(s => s.Name == p.Name);
            var start = spec is null ? null : SearchSpace.NearestValue(p, spec.Default);
            yield return (p, start) switch
            {
                (FloatParameter { LowCost: null } f, double v) when !DrivesWork(f, [f.Min, f.Max]) => f with { LowCost = v },
                (IntegerParameter { LowCost: null } i, long v) when !DrivesWork(i, [i.Min, i.Max]) => i with { LowCost = v },
                (ChoiceParameter { LowCost: null } c, { } v) when !DrivesWork(c, c.Values) => c with { LowCost = v },
                _ => p,
            };
        }
    }

    public static SpaceCatalog CatalogOf(ModelDescriptor model) => new($"model '{model.Type}'", model.Parameters);

    /// <summary>The check definitions run on a model's space (<see cref="SweepVocabulary.CheckSpace"/>).</summary>
    public static IReadOnlyList<DefinitionError> Check(JsonTree space, string path, ModelDescriptor model) => SpaceJson.Check(space, path, CatalogOf(model), out _);

    /// <summary>
    /// One model's space: its default (unless the sweep turns defaults off) less the parameters its entry fixes, with
    /// the sweep block's parameters replacing those of the same name and adding the others.
    /// </summary>
    public static SearchSpace ForModel(ModelSpec model, ModelDescriptor descriptor, SweepSpec sweep)
    {
        var given = sweep.Spaces.TryGetValue(model.Name, out var json) ? SpaceJson.Parse(json, $"sweep.space.{model.Name}", CatalogOf(descriptor)).Parameters : [];
        var defaults = sweep.DefaultSpaces ? Default(descriptor).Parameters : [];
        var parameters = new List<SearchParameter>();
        foreach (var p in defaults.Where(d => given.All(g => g.Name != d.Name) && !model.Parameters.ContainsKey(d.Name)))
        {
            // A condition on a parameter the entry fixes holds or not once and for all.
            if (p.When is { } when && model.Parameters.TryGetValue(when.Parameter, out var fixedValue))
            {
                if (when.Holds(ParameterValue.Normalize(fixedValue))) parameters.Add(p with { When = null });
            }
            else parameters.Add(p);
        }
        parameters.AddRange(StartingWhereTheModelDoes(given, descriptor, model.Parameters));
        return SearchSpace.Create(parameters);
    }

    /// <summary>
    /// The models a sweep tunes: in task hybrid its two-stage models, each one pipeline of fixed retrievers (the
    /// definition's other models, shared by every trial) and a re-ranker; in the other tasks every model.
    /// </summary>
    public static IReadOnlyList<ModelSpec> Swept(ExperimentDefinition definition) =>
        definition.Task == HybridCatalog.Task && definition.Models.Where(m => HybridCatalog.IsTwoStage(m.Type)).ToList() is { Count: > 0 } twoStage
            ? twoStage
            : definition.Models;

    /// <summary>The sweep's space: the one swept model's, or a choice among the swept models (by name) with each model's space under its value.</summary>
    public static SearchSpace For(ExperimentDefinition definition, IReadOnlyList<ModelDescriptor> catalog)
    {
        var sweep = definition.Sweep ?? throw new Core.ExperimentsException($"Experiment '{definition.Name}' has no \"sweep\" block.");
        ModelDescriptor Descriptor(ModelSpec m) => catalog.First(d => d.Type == m.Type);
        var swept = Swept(definition);
        if (swept.Count == 1) return ForModel(swept[0], Descriptor(swept[0]), sweep);
        var parameters = new List<SearchParameter> { new ChoiceParameter(ModelChoice, swept.Select(m => (object)m.Name).ToList()) };
        foreach (var model in swept)
        {
            var prefix = $"{ModelChoice}.{model.Name}.";
            parameters.AddRange(ForModel(model, Descriptor(model), sweep).Parameters.Select(p => p with
            {
                Name = prefix + p.Name,
                When = p.When is { } w ? new Condition(prefix + w.Parameter, w.Values) : new Condition(ModelChoice, [model.Name]),
            }));
        }
        return SearchSpace.Create(parameters);
    }

    /// <summary>The model entry a trial's parameters stand for: the entry's fixed parameters and the trial's.</summary>
    public static ModelSpec ModelOf(ExperimentDefinition definition, ParameterSet parameters)
    {
        var swept = Swept(definition);
        var (model, own) = swept.Count == 1
            ? (swept[0], parameters)
            : (swept.First(m => m.Name == parameters.Text(ModelChoice)) is var chosen ? (chosen, parameters.Within($"{ModelChoice}.{chosen.Name}")) : default);
        var merged = new Dictionary<string, object>(model.Parameters);
        foreach (var (name, value) in own) merged[name] = value;
        return model with { Parameters = merged };
    }
}
