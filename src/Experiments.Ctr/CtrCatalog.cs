using Experiments.Core;
using Experiments.Core.Definitions;

namespace Experiments.Ctr;

/// <summary>The click-through models a definition can name (task "classification"), with their parameters.</summary>
public static class CtrCatalog
{
    private const string Classification = "classification";

    private static readonly (string Type, CtrAlgorithm Algorithm, string Description, int Iterations)[] Entries =
    [
        ("lightgbm", CtrAlgorithm.LightGbm, "LightGBM gradient-boosted trees (ML.NET's LightGbm trainer), Platt-calibrated.", 100),
        ("fasttree", CtrAlgorithm.FastTree, "ML.NET's FastTree gradient-boosted trees, Platt-calibrated.", 100),
        ("ffm", CtrAlgorithm.FieldAwareFactorizationMachine, "Field-aware factorisation machine: one field per source column (numeric columns share one).", 10),
        ("logistic-regression", CtrAlgorithm.LogisticRegression, "L-BFGS logistic regression on one-hot and normalised features.", 0),
        ("sdca", CtrAlgorithm.Sdca, "SDCA logistic regression (stochastic dual coordinate ascent).", 0),
    ];

    public static IReadOnlyList<ModelDescriptor> Models { get; } = Entries.Select(e => new ModelDescriptor(e.Type, [Classification], e.Description,
    [
        .. e.Iterations > 0 ? new ParameterSpec[] { new("iterations", ParameterKind.Integer, e.Iterations, "Trees (boosting) or passes (FFM).", 1, 100_000) } : [],
        .. e.Algorithm is CtrAlgorithm.LightGbm or CtrAlgorithm.FastTree
            ? new ParameterSpec[]
            {
                new("leaves", ParameterKind.Integer, 15, "Leaves per tree.", 2, 100_000),
                new("minLeaf", ParameterKind.Integer, 20, "Fewest training rows in a leaf.", 1, 1_000_000),
            }
            : [],
        .. e.Algorithm is CtrAlgorithm.LightGbm or CtrAlgorithm.FastTree ? new ParameterSpec[] { new("threads", ParameterKind.Integer, 0, "The trainer's threads (0: all cores); the trees do not depend on it.", 0, 256) } : [],
        .. e.Algorithm is CtrAlgorithm.LightGbm or CtrAlgorithm.FastTree or CtrAlgorithm.FieldAwareFactorizationMachine
            ? new ParameterSpec[] { new("learningRate", ParameterKind.Number, e.Algorithm == CtrAlgorithm.FieldAwareFactorizationMachine ? 0.1 : 0.05, "Step size.", 1e-6, 10) }
            : [],
        .. e.Algorithm is CtrAlgorithm.LogisticRegression or CtrAlgorithm.Sdca or CtrAlgorithm.FieldAwareFactorizationMachine
            ? new ParameterSpec[] { new("l2", ParameterKind.Number, 1.0, "L2 weight.", 0, 1e6) }
            : [],
        .. e.Algorithm == CtrAlgorithm.FieldAwareFactorizationMachine ? new ParameterSpec[] { new("latentDimension", ParameterKind.Integer, 8, "Latent factors per field.", 1, 256) } : [],
        new("minCategoryCount", ParameterKind.Integer, 3, "Categorical values seen fewer times in training go to an 'other' bucket.", 1, 1_000_000),
        new("hashBits", ParameterKind.Integer, 0, "0: one-hot categorical columns; n: hash each into 2^n slots.", 0, 24),
        new("crosses", ParameterKind.String, "", "Crossed categorical pairs, e.g. \"C1*C2,site_id*app_id\"."),
        new("logTransform", ParameterKind.Boolean, true, "Signed log(1 + |x|) of numeric columns before normalisation."),
        new("servingPosition", ParameterKind.Number, 1.0, "Display position assumed at serving (and test) time when the log has a position column.", 0, 1000),
        new("textEncoder", ParameterKind.String, "", "Name of an encoder in the definition's \"encoders\": text columns become its embedding vectors instead of TF-IDF n-grams."),
    ])).ToList();

    /// <summary>The options of a model entry; <paramref name="encoders"/> resolves its "textEncoder" parameter by name.</summary>
    public static CtrOptions Options(string type, IReadOnlyDictionary<string, object> parameters, int seed, Func<string, TextEmbedding>? encoders = null)
    {
        var entry = Entries.FirstOrDefault(e => e.Type == type);
        if (entry.Type is null) throw new ExperimentsException(DefinitionValidator.UnknownValue($"click model '{type}'", type, Entries.Select(e => e.Type).ToList()));
        var p = new ParameterValues(parameters);
        return new CtrOptions
        {
            Algorithm = entry.Algorithm,
            NumberOfIterations = p.Integer("iterations", entry.Iterations),
            NumberOfLeaves = p.Integer("leaves", 15),
            MinimumExampleCountPerLeaf = p.Integer("minLeaf", 20),
            LearningRate = p.Number("learningRate", entry.Algorithm == CtrAlgorithm.FieldAwareFactorizationMachine ? 0.1 : 0.05),
            L2Regularization = (float)p.Number("l2", 1),
            LatentDimension = p.Integer("latentDimension", 8),
            Seed = seed,
            NumberOfThreads = p.Threads(),
            Features = new CtrFeatureOptions
            {
                MinCategoryCount = p.Integer("minCategoryCount", 3),
                HashBits = p.Integer("hashBits", 0),
                LogTransform = p.Flag("logTransform", true),
                ServingPosition = (float)p.Number("servingPosition", 1),
                TextEmbedding = p.Text("textEncoder", "") is { Length: > 0 } name
                    ? (encoders ?? throw new ExperimentsException($"Model '{type}' names text encoder '{name}', but no encoders were given."))(name)
                    : null,
                Crosses = p.Text("crosses", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(pair =>
                {
                    var parts = pair.Split('*', StringSplitOptions.TrimEntries);
                    return parts.Length == 2 ? (parts[0], parts[1]) : throw new ExperimentsException($"Crossed pair '{pair}' must be written as A*B.");
                }).ToList(),
            },
        };
    }
}
