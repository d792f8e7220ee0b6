using Experiments.Core;

namespace Experiments.Sweeps.Tuners;

/// <summary>What a named tuner needs besides the space and the seed.</summary>
public sealed record TunerOptions
{
    /// <summary>Configurations tried first (a zero-shot portfolio for the model kind).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, object>> Portfolio { get; init; } = [];
    /// <summary>A top-level choice among trainers: chosen by estimated cost for improvement, each value searched by the named tuner.</summary>
    public string? TrainerChoice { get; init; }
    /// <summary>Per trainer, the relative cost of a first trial (orders untried trainers).</summary>
    public IReadOnlyDictionary<string, double>? TrainerRelativeCost { get; init; }
    /// <summary>
    /// The sweep's trial budget (none: a wall-time budget). SMAC on its own sizes its random start by it; as BlendSearch's
    /// global search, which proposes only some of the trials, it keeps its 10.
    /// </summary>
    public int? TrialBudget { get; init; }
    public int GridPoints { get; init; } = 5;
    public TpeSettings Tpe { get; init; } = new();
    public SmacSettings Smac { get; init; } = new();
    public BlendSearchSettings BlendSearch { get; init; } = new();

    /// <summary>These options with the model-based tuners' (TPE's and SMAC's) random start-up trials set; null keeps their defaults.</summary>
    public TunerOptions WithStartupTrials(int? startupTrials) => startupTrials is { } n
        ? this with { Tpe = Tpe with { StartupTrials = n }, Smac = Smac with { StartupTrials = n } }
        : this;
}

/// <summary>The tuners by name, as definitions and the CLI give them.</summary>
public static class TunerCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["random", "grid", "cfo", "tpe", "smac", "blendsearch", "blendsearch-smac"];

    public static ITuner Create(string name, SearchSpace space, int seed, TunerOptions? options = null)
    {
        options ??= new TunerOptions();
        ITuner Single(SearchSpace s, int seed) => name switch
        {
            "random" => new RandomTuner(s, seed),
            "grid" => new GridTuner(s, seed, options.GridPoints),
            "cfo" => new CfoTuner(s, seed),
            "tpe" => new TpeTuner(s, seed, options.Tpe),
            "smac" => new SmacTuner(s, seed, options.Smac, options.TrialBudget),
            "blendsearch" => new BlendSearchTuner(s, seed, new TpeTuner(s, Seeds.Mix(seed, 1), options.Tpe), options.BlendSearch),
            "blendsearch-smac" => new BlendSearchTuner(s, seed, new SmacTuner(s, Seeds.Mix(seed, 1), options.Smac), options.BlendSearch),
            _ => throw new ExperimentsException(Core.Definitions.DefinitionValidator.UnknownValue($"tuner '{name}'", name, Names) + "."),
        };
        var tuner = options.TrainerChoice is { } choice
            ? new EciTuner(space, choice, seed, Single, options.TrainerRelativeCost)
            : Single(space, seed);
        return options.Portfolio.Count > 0 ? new PortfolioTuner(space, options.Portfolio, tuner) : tuner;
    }
}
