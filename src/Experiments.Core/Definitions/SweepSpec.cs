using System.Text.Json;

namespace Experiments.Core.Definitions;

/// <summary>
/// A definition's <c>"sweep"</c> block: `experiments sweep` tunes the definition's models instead of fitting them once.
/// Trials fit on the training part and are scored on the validation part (or by k-fold cross-validation over training
/// and validation); the best configuration is refitted on training + validation and evaluated once on the test part.
/// </summary>
public sealed record SweepSpec
{
    public const string Validation = "validation";
    public const string KFold = "k-fold";
    public const string Minimize = "minimize";
    public const string Maximize = "maximize";
    public static readonly IReadOnlyList<string> Objectives = [Validation, KFold];
    public static readonly IReadOnlyList<string> Directions = [Minimize, Maximize];
    /// <summary>The metrics where lower is better; every other metric is maximised unless the block says otherwise.</summary>
    public static readonly IReadOnlyList<string> LowerIsBetter = ["rmse", "mae", "log-loss"];

    public string Tuner { get; init; } = "blendsearch";
    /// <summary>The metric optimised; null: the definition's first metric.</summary>
    public MetricName? Metric { get; init; }
    /// <summary><see cref="Minimize"/> or <see cref="Maximize"/>; null: from the metric (<see cref="LowerIsBetter"/>).</summary>
    public string? Direction { get; init; }
    public int Trials { get; init; } = 20;
    public double? WallTimeSeconds { get; init; }
    public double? TrialTimeoutSeconds { get; init; }
    public long? TrialMemoryMegabytes { get; init; }
    /// <summary>Trials at once; null: the cores divided by the threads one trial of the models uses.</summary>
    public int? Parallelism { get; init; }
    /// <summary>Seeds the tuner and the trials; null: the definition's seed.</summary>
    public int? Seed { get; init; }
    /// <summary><see cref="Validation"/> (the split's validation part) or <see cref="KFold"/> (folds of training + validation).</summary>
    public string Objective { get; init; } = Validation;
    public int Folds { get; init; } = 3;
    /// <summary>Start from each model's default space (the catalogue's); false: only the spaces given here.</summary>
    public bool DefaultSpaces { get; init; } = true;
    /// <summary>Model name → its space as JSON (parameters that override or extend the default space).</summary>
    public IReadOnlyDictionary<string, string> Spaces { get; init; } = new Dictionary<string, string>();

    /// <summary>The metric optimised in a definition with <paramref name="metrics"/>.</summary>
    public MetricName MetricOf(IReadOnlyList<MetricName> metrics) => Metric ?? metrics[0];

    public bool Maximizes(IReadOnlyList<MetricName> metrics) => (Direction ?? (LowerIsBetter.Contains(MetricOf(metrics).Name) ? Minimize : Maximize)) == Maximize;
}

/// <summary>What the composition root lends definitions for sweeps: the tuner names and the check of a model's search space.</summary>
/// <param name="CheckSpace">The problems of the space at the node (at the JSON path) for the model; empty when it is valid.</param>
public sealed record SweepVocabulary(IReadOnlyList<string> Tuners, Func<JsonTree, string, ModelDescriptor, IReadOnlyList<DefinitionError>> CheckSpace);

/// <summary>The sweep block's shape, cross-checks, binding and canonical JSON (one home for all four).</summary>
public static class SweepDefinition
{
    public static ObjectShape Shape(SweepVocabulary sweeps, DefinitionVocabulary vocabulary) => new("`experiments sweep`: tune the models on validation data (or k folds of it), then refit the best configuration on training + validation and test it once.",
    [
        new("tuner", new StringShape("How configurations are proposed.", sweeps.Tuners, "blendsearch")),
        new("metric", new MetricShape("The metric optimised; one of the definition's \"metrics\". Default: the first.", vocabulary.Metrics)),
        new("direction", new StringShape("Whether the metric is minimised or maximised. Default: minimise rmse, mae and log-loss, maximise the others.", SweepSpec.Directions)),
        new("trials", new IntegerShape("Trials in all (a resumed sweep counts the stored ones).", 1, 1_000_000, 20)),
        new("wallTimeSeconds", new NumberShape("Stop starting trials after this long (trials still running are cancelled and run again on resume).", 0, ExclusiveMin: true)),
        new("trialTimeoutSeconds", new NumberShape("A trial running longer is stopped and recorded as timed-out.", 0, ExclusiveMin: true)),
        new("trialMemoryMb", new IntegerShape("A trial whose growth of the process's resident memory passes this many MiB is stopped and recorded as out-of-memory (needs parallelism 1).", 1, 10_000_000)),
        new("parallelism", new IntegerShape("Trials at once. Default: the cores divided by the threads one trial of the models uses (LightGBM and the factorisation models use every core, so 1).", 1, 1024)),
        new("seed", new IntegerShape("Seeds the tuner and the trials. Default: the definition's seed.", 0, int.MaxValue)),
        new("objective", new StringShape("Where trials are scored: the split's validation part, or k-fold cross-validation over training + validation. The test part is used once, by the refit of the best configuration.", SweepSpec.Objectives, SweepSpec.Validation)),
        new("folds", new IntegerShape("Objective 'k-fold': the number of folds.", 2, 20, 3)),
        new("defaultSpaces", new BooleanShape("Start from each model's default search space; false searches only the parameters given under \"space\".", true)),
        new("space", new MapShape("Per model (by name): parameters to search, overriding or extending its default space, e.g. { \"mf\":{ \"rank\":{ \"int\":[8, 256], \"log\":true } } }.",
            new MapShape("A model's search space: parameter → { \"float\":[min, max] } | { \"int\":[min, max] } | { \"choice\":[...] } | a fixed value, with optional \"log\", \"step\", \"lowCost\" and \"when\".",
                new AnyShape("A search-space entry.")))),
    ]);

    /// <summary>Rules that span the sweep block and the rest of the definition.</summary>
    public static void CrossCheck(JsonTree root, DefinitionVocabulary vocabulary, List<DefinitionError> errors)
    {
        var sweep = root["sweep"];
        if (sweep is null || vocabulary.Sweeps is not { } sweeps) return;
        void Error(string path, JsonTree at, string message) => errors.Add(new(path, at.Line, at.Column, message));
        if (sweep["metric"] is { } metric && root["metrics"]!.Items.All(m => m.Text != metric.Text))
            Error("$.sweep.metric", metric, $"the sweep optimises '{metric.Text}', which is not among the definition's metrics ({string.Join(", ", root["metrics"]!.Items.Select(m => m.Text))}); add it to \"metrics\"");
        var split = root["split"];
        var method = split?["method"]?.Text ?? (root["dataset"]!["files"]?["train"] is not null ? "predefined" : "stratified");
        if (method == "k-fold")
            Error("$.split.method", split!["method"]!, "a sweep tests its best configuration once, on a test part: choose a split with one (for cross-validated tuning, keep the split and set \"sweep\": { \"objective\": \"k-fold\" })");
        var objective = sweep["objective"]?.Text ?? SweepSpec.Validation;
        var hasValidation = split?["validationFraction"] is { Number: > 0 } || root["dataset"]!["files"]?["validation"] is not null
            || (method == "predefined" && root["dataset"]!["files"] is null);
        if (objective == SweepSpec.Validation && !hasValidation && method != "k-fold")
            Error("$.sweep", sweep, method is "leave-last-n" or "cold-start-items" or "cold-start-users"
                ? $"split method '{method}' has no validation part; score trials by \"objective\": \"k-fold\""
                : "sweep objective 'validation' needs a validation part: set split.validationFraction (e.g. 0.1), or score trials by \"objective\": \"k-fold\"");
        if (sweep["folds"] is { } folds && objective != SweepSpec.KFold)
            Error("$.sweep.folds", folds, "\"folds\" belongs to objective 'k-fold'");
        if (sweep["trialMemoryMb"] is { } memory && sweep["parallelism"] is { Number: > 1 })
            Error("$.sweep.trialMemoryMb", memory, "a per-trial memory limit needs \"parallelism\": 1: trials run in this process and share its memory");

        var models = root["models"]!.Items;
        var byName = models.Select((m, i) => (Name: (m["name"] ?? m["type"]!).Text!, Index: i)).GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.First().Index);
        // Task hybrid sweeps its two-stage models only (SweepSpaces.Swept): their retrievers are fixed stages.
        var twoStage = root["task"]?.Text == "hybrid"
            ? models.Where(m => m["type"]!.Text == "two-stage").Select(m => (m["name"] ?? m["type"]!).Text!).ToList()
            : [];
        if (sweep["space"] is not { } spaces) return;
        foreach (var entry in spaces.Properties)
        {
            var path = $"$.sweep.space.{entry.Name}";
            if (!byName.TryGetValue(entry.Name, out var index))
            {
                errors.Add(new(path, entry.Line, entry.Column, DefinitionValidator.UnknownValue($"model '{entry.Name}'", entry.Name, byName.Keys.ToList())));
                continue;
            }
            var model = models[index];
            if (twoStage.Count > 0 && !twoStage.Contains(entry.Name))
            {
                errors.Add(new(path, entry.Line, entry.Column, $"'{entry.Name}' is a retriever: a hybrid sweep tunes the two-stage models ({string.Join(", ", twoStage)}) with their retrievers fixed; fix its parameters in models[{index}], or tune it in a ranking definition"));
                continue;
            }
            var descriptor = vocabulary.Models.First(m => m.Type == model["type"]!.Text);
            errors.AddRange(sweeps.CheckSpace(entry.Value, path, descriptor));
            foreach (var parameter in entry.Value.Properties)
                if (model["parameters"]?[parameter.Name] is not null)
                    errors.Add(new($"{path}.{parameter.Name}", parameter.Line, parameter.Column,
                        $"'{parameter.Name}' is fixed in models[{index}].parameters; a parameter is either fixed there or searched here, not both"));
        }
    }

    public static SweepSpec? Bind(JsonTree? sweep) => sweep is null ? null : new SweepSpec
    {
        Tuner = sweep["tuner"]?.Text ?? "blendsearch",
        Metric = sweep["metric"] is { } metric ? MetricName.Parse(metric.Text!) : null,
        Direction = sweep["direction"]?.Text,
        Trials = (int)(sweep["trials"]?.Number ?? 20),
        WallTimeSeconds = sweep["wallTimeSeconds"]?.Number,
        TrialTimeoutSeconds = sweep["trialTimeoutSeconds"]?.Number,
        TrialMemoryMegabytes = sweep["trialMemoryMb"] is { } memory ? (long)memory.Number : null,
        Parallelism = sweep["parallelism"] is { } parallelism ? (int)parallelism.Number : null,
        Seed = sweep["seed"] is { } seed ? (int)seed.Number : null,
        Objective = sweep["objective"]?.Text ?? SweepSpec.Validation,
        Folds = (int)(sweep["folds"]?.Number ?? 3),
        DefaultSpaces = sweep["defaultSpaces"]?.Kind != JsonKind.False,
        Spaces = sweep["space"]?.Properties.ToDictionary(p => p.Name, p => p.Value.ToJson()) ?? new Dictionary<string, string>(),
    };

    /// <summary>The block in canonical form (every default spelled out, spaces as given).</summary>
    public static void Write(Utf8JsonWriter w, SweepSpec s)
    {
        w.WriteStartObject("sweep");
        w.WriteString("tuner", s.Tuner);
        if (s.Metric is { } metric) w.WriteString("metric", metric.ToString());
        if (s.Direction is not null) w.WriteString("direction", s.Direction);
        w.WriteNumber("trials", s.Trials);
        if (s.WallTimeSeconds is { } wall) w.WriteNumber("wallTimeSeconds", wall);
        if (s.TrialTimeoutSeconds is { } timeout) w.WriteNumber("trialTimeoutSeconds", timeout);
        if (s.TrialMemoryMegabytes is { } memory) w.WriteNumber("trialMemoryMb", memory);
        if (s.Parallelism is { } parallelism) w.WriteNumber("parallelism", parallelism);
        if (s.Seed is { } seed) w.WriteNumber("seed", seed);
        w.WriteString("objective", s.Objective);
        if (s.Objective == SweepSpec.KFold) w.WriteNumber("folds", s.Folds);
        w.WriteBoolean("defaultSpaces", s.DefaultSpaces);
        w.WriteStartObject("space");
        foreach (var (model, space) in s.Spaces.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WritePropertyName(model);
            w.WriteRawValue(space);
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
