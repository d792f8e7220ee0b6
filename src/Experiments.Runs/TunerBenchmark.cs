using System.Diagnostics;
using System.Text.Json;
using Experiments.Core;
using Experiments.Sweeps;
using Experiments.Sweeps.Benchmarks;
using Experiments.Sweeps.Tuners;

namespace Experiments.Runs;

public sealed record TunerBenchmarkOptions
{
    public IReadOnlyList<string> Functions { get; init; } = TestFunctions.All.Select(f => f.Name).ToList();
    public IReadOnlyList<string> Tuners { get; init; } = ["random", "cfo", "tpe", "smac", "blendsearch"];
    public int Seeds { get; init; } = 20;
    public IReadOnlyList<int> Checkpoints { get; init; } = [20, 50, 100];
    /// <summary>experiments/benchmarks/peers/optuna_peer.py, or null to run ours only.</summary>
    public string? PeerScript { get; init; }
    public IReadOnlyList<string> PeerSamplers { get; init; } = ["tpe", "random"];
    /// <summary>Random start-up trials of our model-based tuners; null: their defaults (the peer's are Optuna's own, 10).</summary>
    public int? StartupTrials { get; init; }
}

/// <summary>One run: a tuner on a function with a seed, its regret (best found − minimum) after each checkpoint.</summary>
public sealed record TunerBenchmarkRow(string Function, string Tuner, int Seed, IReadOnlyList<double> Regret, double Seconds);

public sealed record TunerBenchmarkSummary(string Function, string Tuner, int Trials, double Median, double Q1, double Q3, int Runs);

/// <summary>
/// `experiments bench tuners`: tuner quality on the standard test functions, each of our tuners through the real sweep
/// driver (one trial at a time, in memory), beside Optuna 3.1's TPE and random samplers run by the peer script on the
/// same functions in the same command. Every run goes to the largest checkpoint; the regret at a smaller one is that
/// run's best after that many trials (no tuner here looks at the budget).
/// </summary>
public static class TunerBenchmark
{
    public static (List<TunerBenchmarkRow> Rows, List<TunerBenchmarkSummary> Summary, string? PeerVersion) Run(TunerBenchmarkOptions options, IProgress<string>? progress = null)
    {
        var functions = options.Functions.Select(TestFunctions.Get).ToList();
        foreach (var tuner in options.Tuners.Where(t => !TunerCatalog.Names.Contains(t)))
            throw new ExperimentsException(Core.Definitions.DefinitionValidator.UnknownValue($"tuner '{tuner}'", tuner, TunerCatalog.Names) + ".");
        if (options.StartupTrials is < 0)
            throw new ExperimentsException($"--startup-trials {options.StartupTrials} is negative: give 0 or more random trials before the model-based tuners propose.");
        var trials = options.Checkpoints.Max();
        // The peer runs meanwhile in its own process: both sides finish in one command.
        var peer = options.PeerScript is { } script
            ? Task.Run(() => PythonPeers.Run(script, JsonSerializer.Serialize(new
            {
                functions = functions.Select(f => f.Name), samplers = options.PeerSamplers, seeds = options.Seeds, trials, checkpoints = options.Checkpoints,
            })))
            : null;
        var jobs = (from f in functions from t in options.Tuners from seed in Enumerable.Range(0, options.Seeds) select (f, t, seed)).ToList();
        var rows = new TunerBenchmarkRow[jobs.Count];
        var done = 0;
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var (f, name, seed) = jobs[i];
            var clock = Stopwatch.StartNew();
            ITuner Tuner(int budget) => TunerCatalog.Create(name, f.Space, seed, new TunerOptions { TrialBudget = budget }.WithStartupTrials(options.StartupTrials));
            var regrets = new double[options.Checkpoints.Count];
            // One run per tuner the budgets make (SMAC sizes its start by the budget), read at each of its checkpoints.
            foreach (var same in options.Checkpoints.Select((c, k) => (Checkpoint: c, Index: k)).GroupBy(p => Tuner(p.Checkpoint).Description))
            {
                var budget = same.Max(p => p.Checkpoint);
                var result = new SweepRunner(new InMemorySweepStorage()).Run(
                    new SweepSettings { Name = $"{f.Name}/{name}/{seed}", Space = f.Space, Objective = new SweepObjective("value"), Seed = seed, MaxTrials = budget, Parallelism = 1 },
                    Tuner(budget), c => TrialOutcome.Of("value", f.Evaluate(c.Parameters)));
                var curve = result.History();
                foreach (var (checkpoint, index) in same) regrets[index] = curve[Math.Min(checkpoint, curve.Count) - 1].Best!.Value - f.Minimum;
            }
            rows[i] = new TunerBenchmarkRow(f.Name, name, seed, regrets, clock.Elapsed.TotalSeconds);
            if (Interlocked.Increment(ref done) % 20 == 0) progress?.Report($"{done} of {jobs.Count} runs of ours done");
        });
        var all = rows.ToList();
        string? version = null;
        if (peer is not null)
        {
            progress?.Report("waiting for the Optuna peer");
            var output = peer.GetAwaiter().GetResult();
            version = output.GetProperty("optuna").GetString();
            var minimum = functions.ToDictionary(f => f.Name, f => f.Minimum);
            foreach (var row in output.GetProperty("rows").EnumerateArray())
            {
                var function = row.GetProperty("function").GetString()!;
                all.Add(new TunerBenchmarkRow(function, row.GetProperty("tuner").GetString()!, row.GetProperty("seed").GetInt32(),
                    row.GetProperty("best").EnumerateArray().Select(b => b.GetDouble() - minimum[function]).ToList(), row.GetProperty("seconds").GetDouble()));
            }
        }
        var summary = new List<TunerBenchmarkSummary>();
        foreach (var group in all.GroupBy(r => (r.Function, r.Tuner)))
            for (var c = 0; c < options.Checkpoints.Count; c++)
            {
                var regrets = group.Select(r => r.Regret[c]).Order().ToArray();
                summary.Add(new TunerBenchmarkSummary(group.Key.Function, group.Key.Tuner, options.Checkpoints[c],
                    Quantiles.OfSorted(regrets, 0.5), Quantiles.OfSorted(regrets, 0.25), Quantiles.OfSorted(regrets, 0.75), regrets.Length));
            }
        return (all, summary, version);
    }
}
