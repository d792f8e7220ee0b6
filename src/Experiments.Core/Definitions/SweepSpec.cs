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

    public string Tuner { get; init; } = "blendsearch";
    /// <summary>The metric optimised; null: the definition's first metric.</summary>
    public MetricName? Metric { get; init; }
    /// <summary><see cref="Minimize"/> or <see cref="Maximize"/>; null: from the metric (<see cref="MetricName.LowerIsBetter"/>).</summary>
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
    /// <summary>Try the swept model kind's known-good configurations first (its zero-shot portfolio), then tune.</summary>
    public bool ZeroShot { get; init; }
    /// <summary>Random trials before a model-based tuner (tpe, smac, blendsearch's global search) proposes; null: the tuner's default.</summary>
    public int? StartupTrials { get; init; }
    /// <summary>Model name → its space as JSON (parameters that override or extend the default space).</summary>
    public IReadOnlyDictionary<string, string> Spaces { get; init; } = new Dictionary<string, string>();
    /// <summary>How trials of iterative trainers are stopped early from the values they report per epoch or round.</summary>
    public PrunerSpec Pruner { get; init; } = new();

    /// <summary>The metric optimised in a definition with <paramref name="metrics"/>.</summary>
    public MetricName MetricOf(IReadOnlyList<MetricName> metrics) => Metric ?? metrics[0];

    public bool Maximizes(IReadOnlyList<MetricName> metrics) => (Direction ?? (MetricName.LowerIsBetter(MetricOf(metrics).Name) ? Minimize : Maximize)) == Maximize;
}

/// <summary>
/// The sweep block's "pruner": Optuna's median rule, successive halving (ASHA) or Hyperband over the intermediate
/// values iterative trainers report (the objective metric on the validation part after each epoch or round range).
/// Options a pruner does not take are null.
/// </summary>
public sealed record PrunerSpec
{
    public const string None = "none";
    public const string Median = "median";
    public const string Asha = "asha";
    public const string Hyperband = "hyperband";
    public static readonly IReadOnlyList<string> Types = [None, Median, Asha, Hyperband];

    public string Type { get; init; } = None;
    public int StartupTrials { get; init; } = 5;
    public long WarmupSteps { get; init; }
    public long IntervalSteps { get; init; } = 1;
    public int MinTrials { get; init; } = 1;
    /// <summary>ASHA and Hyperband: the first rung's step (ASHA's default: the completed trials' largest step / 100).</summary>
    public long? MinResource { get; init; }
    /// <summary>Hyperband: the largest step a trial reaches (its epochs or rounds).</summary>
    public long? MaxResource { get; init; }
    public int? ReductionFactor { get; init; }
    public int MinEarlyStoppingRate { get; init; }
    /// <summary>Trainers whose value costs an evaluation of the validation part (implicit ALS, BPR) report every this many iterations, and after their last.</summary>
    public int ReportEvery { get; init; } = 1;
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
        new("direction", new StringShape("Whether the metric is minimised or maximised. Default: minimise rmse, mae, log-loss and popularity, maximise the others.", SweepSpec.Directions)),
        new("trials", new IntegerShape("Trials in all (a resumed sweep counts the stored ones).", 1, 1_000_000, 20)),
        new("wallTimeSeconds", new NumberShape("Stop starting trials after this long (trials still running are cancelled and run again on resume).", 0, ExclusiveMin: true)),
        new("trialTimeoutSeconds", new NumberShape("A trial running longer is stopped and recorded as timed-out.", 0, ExclusiveMin: true)),
        new("trialMemoryMb", new IntegerShape("A trial whose memory passes this many MiB is killed and recorded as out-of-memory: each trial then runs in a child process of its own (the whole process's resident set is limited), at any parallelism. See docs/sweeps.md.", 1, 10_000_000)),
        new("parallelism", new IntegerShape("Trials at once. Default: the cores divided by the threads one trial of the models uses (LightGBM and the factorisation models use every core, so 1).", 1, 1024)),
        new("seed", new IntegerShape("Seeds the tuner and the trials. Default: the definition's seed.", 0, int.MaxValue)),
        new("objective", new StringShape("Where trials are scored: the split's validation part, or k-fold cross-validation over training + validation. The test part is used once, by the refit of the best configuration.", SweepSpec.Objectives, SweepSpec.Validation)),
        new("folds", new IntegerShape("Objective 'k-fold': the number of folds.", 2, 20, 3)),
        new("defaultSpaces", new BooleanShape("Start from each model's default search space; false searches only the parameters given under \"space\".", true)),
        new("zeroShot", new BooleanShape("Try the model kind's known-good configurations first (its zero-shot portfolio: for LightGBM and FastTree the libraries' defaults, for LightGBM also FLAML's), then tune. Off by default: on small data sets these costlier configurations can do worse than the low-cost start.", false)),
        new("startupTrials", new IntegerShape("Model-based tuners (tpe, smac, and the global search of blendsearch and blendsearch-smac): random trials before the model proposes. Default: 10 (Optuna's); smac alone takes 10, at most a quarter of the trial budget (SMAC3's cap). Other tuners ignore it.", 0, 1_000_000)),
        new("space", new MapShape("Per model (by name): parameters to search, overriding or extending its default space, e.g. { \"mf\":{ \"rank\":{ \"int\":[8, 256], \"log\":true } } }.",
            new MapShape("A model's search space: parameter → { \"float\":[min, max] } | { \"int\":[min, max] } | { \"choice\":[...] } | a fixed value, with optional \"log\", \"step\", \"lowCost\" and \"when\".",
                new AnyShape("A search-space entry.")))),
        new("pruner", Pruner()),
    ]);

    private static TaggedObjectShape Pruner()
    {
        PropertyShape Type() => new("type", new StringShape("How trials are stopped early from the values iterative trainers report per epoch or round (matrix factorisation and SVD++ report validation RMSE per iteration, implicit ALS and BPR the ranking objective per iteration, LightGBM and FastTree the objective at rungs of rounds).", PrunerSpec.Types, PrunerSpec.None), Required: true);
        PropertyShape Eta(int fallback) => new("reductionFactor", new IntegerShape("Successive halving's η: a rung keeps the best 1/η of the trials that reached it.", 2, 100, fallback));
        PropertyShape MinResource(string text) => new("minResource", new IntegerShape(text, 1, int.MaxValue));
        PropertyShape ReportEvery() => new("reportEvery", new IntegerShape("Implicit ALS and BPR, whose value costs an evaluation of the validation users: report every this many iterations (and after the last).", 1, int.MaxValue, 1));
        return new TaggedObjectShape("Pruning of unpromising trials (Optuna's pruners).", "type", new Dictionary<string, ObjectShape>
        {
            [PrunerSpec.None] = new("No pruning: every trial runs to its end.", [Type()]),
            [PrunerSpec.Median] = new("Median rule: stop a trial whose best value so far is worse than the median of the completed trials' values at the same step.",
            [
                Type(),
                new("startupTrials", new IntegerShape("No pruning until this many trials have completed.", 0, 1_000_000, 5)),
                new("warmupSteps", new IntegerShape("No pruning before this step of a trial.", 0, int.MaxValue, 0)),
                new("intervalSteps", new IntegerShape("Check every this many steps.", 1, int.MaxValue, 1)),
                new("minTrials", new IntegerShape("Prune only when at least this many completed trials reported at the step.", 1, 1_000_000, 1)),
                ReportEvery(),
            ]),
            [PrunerSpec.Asha] = new("Asynchronous successive halving: rung k at step minResource·η^(rate+k); a trial goes on past a rung only among the best 1/η there.",
            [
                Type(),
                MinResource("The first rung's step. Default: the completed trials' largest step / 100."),
                Eta(4),
                new("minEarlyStoppingRate", new IntegerShape("Skips the first rungs: the first is at minResource·η^rate.", 0, 100, 0)),
                ReportEvery(),
            ]),
            [PrunerSpec.Hyperband] = new("Hyperband: successive-halving brackets of different aggressiveness, each trial in one (seeded).",
            [
                Type(),
                MinResource("The first rung's step (default 1)."),
                new("maxResource", new IntegerShape("The largest step a trial reaches (its iterations or rounds).", 1, int.MaxValue), Required: true),
                Eta(3),
                ReportEvery(),
            ]),
        });
    }

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
        // A cold-start split has no validation part of new users or items, and random folds would not hold them out.
        if (method is "cold-start-items" or "cold-start-users")
            Error("$.split.method", split!["method"]!, $"a sweep cannot tune on split '{method}': it has no validation part of new {(method == "cold-start-items" ? "items" : "users")}, and k-fold folds would not hold them out; tune on a random or temporal split of the same data, then run the tuned parameters on this split with `experiments run`");
        var objective = sweep["objective"]?.Text ?? SweepSpec.Validation;
        var hasValidation = split?["validationFraction"] is { Number: > 0 } || root["dataset"]!["files"]?["validation"] is not null
            || (method == "predefined" && root["dataset"]!["files"] is null);
        if (objective == SweepSpec.Validation && !hasValidation && method is not ("k-fold" or "cold-start-items" or "cold-start-users"))
            Error("$.sweep", sweep, method is "leave-last-n"
                ? $"split method '{method}' has no validation part; score trials by \"objective\": \"k-fold\""
                : "sweep objective 'validation' needs a validation part: set split.validationFraction (e.g. 0.1), or score trials by \"objective\": \"k-fold\"");
        if (sweep["folds"] is { } folds && objective != SweepSpec.KFold)
            Error("$.sweep.folds", folds, "\"folds\" belongs to objective 'k-fold'");
        // Folds would each repeat the steps, so trials report none under k-fold: a pruner there would never act.
        if (objective == SweepSpec.KFold && sweep["pruner"]?["type"] is { Text: not PrunerSpec.None } prunerType)
            Error("$.sweep.pruner.type", prunerType, $"pruner '{prunerType.Text}' needs objective 'validation': under k-fold, trials report no intermediate values (each fold would repeat the steps), so nothing could be pruned; remove the pruner or score on a validation part");
        if (sweep["pruner"] is { } pruner && pruner["type"]?.Text == PrunerSpec.Hyperband && pruner["maxResource"] is { } max && max.Number < (pruner["minResource"]?.Number ?? 1))
            Error("$.sweep.pruner.maxResource", max, $"Hyperband's maxResource ({max.Number}) must be at least its minResource ({pruner["minResource"]?.Number ?? 1})");

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
        ZeroShot = sweep["zeroShot"]?.Kind == JsonKind.True,
        StartupTrials = sweep["startupTrials"] is { } startup ? (int)startup.Number : null,
        Spaces = sweep["space"]?.Properties.ToDictionary(p => p.Name, p => p.Value.ToJson()) ?? new Dictionary<string, string>(),
        Pruner = sweep["pruner"] is { } pruner ? BindPruner(pruner) : new PrunerSpec(),
    };

    private static PrunerSpec BindPruner(JsonTree p)
    {
        var type = p["type"]!.Text!;
        return new PrunerSpec
        {
            Type = type,
            StartupTrials = (int)(p["startupTrials"]?.Number ?? 5),
            WarmupSteps = (long)(p["warmupSteps"]?.Number ?? 0),
            IntervalSteps = (long)(p["intervalSteps"]?.Number ?? 1),
            MinTrials = (int)(p["minTrials"]?.Number ?? 1),
            MinResource = p["minResource"] is { } min ? (long)min.Number : type == PrunerSpec.Hyperband ? 1 : null,
            MaxResource = p["maxResource"] is { } max ? (long)max.Number : null,
            ReductionFactor = p["reductionFactor"] is { } eta ? (int)eta.Number : type switch { PrunerSpec.Asha => 4, PrunerSpec.Hyperband => 3, _ => null },
            MinEarlyStoppingRate = (int)(p["minEarlyStoppingRate"]?.Number ?? 0),
            ReportEvery = (int)(p["reportEvery"]?.Number ?? 1),
        };
    }

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
        // Written only when on, so the canonical form (and hash) of definitions without it is unchanged.
        if (s.ZeroShot) w.WriteBoolean("zeroShot", true);
        if (s.StartupTrials is { } startup) w.WriteNumber("startupTrials", startup);
        w.WriteStartObject("space");
        foreach (var (model, space) in s.Spaces.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            w.WritePropertyName(model);
            w.WriteRawValue(space);
        }
        w.WriteEndObject();
        // No "pruner" written when there is none, so the canonical form (and hash) of definitions without one is unchanged.
        if (s.Pruner is { Type: not PrunerSpec.None } p) WritePruner(w, p);
        w.WriteEndObject();
    }

    private static void WritePruner(Utf8JsonWriter w, PrunerSpec p)
    {
        w.WriteStartObject("pruner");
        w.WriteString("type", p.Type);
        if (p.Type == PrunerSpec.Median)
        {
            w.WriteNumber("startupTrials", p.StartupTrials);
            w.WriteNumber("warmupSteps", p.WarmupSteps);
            w.WriteNumber("intervalSteps", p.IntervalSteps);
            w.WriteNumber("minTrials", p.MinTrials);
        }
        if (p.MinResource is { } minResource) w.WriteNumber("minResource", minResource);
        if (p.MaxResource is { } maxResource) w.WriteNumber("maxResource", maxResource);
        if (p.ReductionFactor is { } eta) w.WriteNumber("reductionFactor", eta);
        if (p.Type == PrunerSpec.Asha) w.WriteNumber("minEarlyStoppingRate", p.MinEarlyStoppingRate);
        // Written only when set, so the canonical form (and hash) of earlier pruned definitions is unchanged.
        if (p.ReportEvery != 1) w.WriteNumber("reportEvery", p.ReportEvery);
        w.WriteEndObject();
    }
}
