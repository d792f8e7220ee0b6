using System.Diagnostics;
using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Datasets;
using Experiments.Recommenders.Factorization;

namespace Experiments.Runs;

public sealed record TrainingBenchmarkOptions
{
    /// <summary>"implicit-als", "als" (explicit ALS) or "sgd" (explicit SGD).</summary>
    public string Model { get; init; } = "implicit-als";
    /// <summary>A registered data set, or null to generate a matrix of <see cref="Users"/> × <see cref="Items"/> with <see cref="Interactions"/> entries.</summary>
    public string? Dataset { get; init; }
    public int Users { get; init; } = 1_000_000;
    public int Items { get; init; } = 100_000;
    public long Interactions { get; init; } = 50_000_000;
    public int Rank { get; init; } = 64;
    public int Iterations { get; init; } = 3;
    public int Seed { get; init; } = 1;
}

public sealed record TrainingBenchmarkResult(TrainingBenchmarkOptions Options, int Users, int Items, int Interactions, double LoadSeconds,
    IReadOnlyList<double> IterationSeconds, double SecondsPerIteration, long PeakWorkingSetBytes, int Threads);

/// <summary>
/// Times training per iteration (`experiments bench train`): on a registered data set (Amazon Beauty) or on a generated
/// matrix whose item popularity follows a power law, for the scaling runs in docs/benchmarks.md. Implicit data sets
/// get rating 1 everywhere when an explicit solver is timed: the figures are about speed, not quality.
/// </summary>
public static class TrainingBenchmark
{
    public static TrainingBenchmarkResult Run(TrainingBenchmarkOptions o, IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var data = o.Dataset is { } name ? Ratings(new DatasetLoader().Open(new DatasetRequest(name)).Interactions()) : Generate(o);
        var loadSeconds = clock.Elapsed.TotalSeconds;
        progress?.Report($"{data.Count:N0} interactions, {data.Users.Count:N0} users, {data.Items.Count:N0} items ready in {loadSeconds:F1} s");
        var times = new List<double>();
        var last = Stopwatch.StartNew();
        void Tick()
        {
            times.Add(last.Elapsed.TotalSeconds);
            progress?.Report($"iteration {times.Count}: {times[^1]:F2} s");
            last.Restart();
        }
        switch (o.Model)
        {
            case "implicit-als":
                var implicitTrainer = new ImplicitAlsTrainer(new ImplicitAlsOptions { ApproximationRank = o.Rank, NumberOfIterations = o.Iterations, Seed = o.Seed });
                implicitTrainer.IterationFitted += (_, _) => Tick();
                last.Restart();
                implicitTrainer.FitFactors(data, cancel);
                break;
            case "als" or "sgd":
                var trainer = new MatrixFactorizationTrainer(new MatrixFactorizationOptions
                {
                    Solver = o.Model == "als" ? MatrixFactorizationSolver.Als : MatrixFactorizationSolver.Sgd,
                    ApproximationRank = o.Rank, NumberOfIterations = o.Iterations, Seed = o.Seed,
                });
                trainer.IterationFinished += (_, _, _) => Tick();
                last.Restart();
                trainer.Fit(data, null, cancel);
                break;
            default:
                throw new ExperimentsException($"bench train: unknown model '{o.Model}'; allowed: implicit-als, als, sgd.");
        }
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        // The first iteration includes JIT compilation; the per-iteration figure is the median of the rest when there are any.
        var steady = times.Count > 1 ? times.Skip(1).Order().ToList() : times;
        return new TrainingBenchmarkResult(o, data.Users.Count, data.Items.Count, data.Count, loadSeconds, times, steady[steady.Count / 2], process.PeakWorkingSet64, Environment.ProcessorCount);
    }

    private static Interactions Ratings(Interactions data) =>
        data.HasRatings ? data : new Interactions(data.Users, data.Items, data.User, data.Item, data.Rating, data.Timestamp, hasRatings: true, data.HasTimestamps);

    /// <summary>Uniform users; items drawn from a power law (item i has weight 1/(i+10)^0.8), as in real catalogues.</summary>
    private static Interactions Generate(TrainingBenchmarkOptions o)
    {
        if (o.Interactions > int.MaxValue) throw new ExperimentsException($"At most {int.MaxValue:N0} interactions can be generated.");
        var n = (int)o.Interactions;
        var cumulative = new double[o.Items];
        var total = 0.0;
        for (var i = 0; i < o.Items; i++) cumulative[i] = total += Math.Pow(i + 10, -0.8);
        var user = new int[n];
        var item = new int[n];
        Parallel.For(0, Environment.ProcessorCount, t =>
        {
            var random = new Random(Seeds.Mix(o.Seed, t));
            for (var r = t; r < n; r += Environment.ProcessorCount)
            {
                user[r] = random.Next(o.Users);
                var at = Array.BinarySearch(cumulative, random.NextDouble() * total);
                item[r] = Math.Min(at < 0 ? ~at : at, o.Items - 1);
            }
        });
        var users = new IdMap();
        var items = new IdMap();
        for (var u = 0; u < o.Users; u++) users.GetOrAdd(u.ToString(System.Globalization.CultureInfo.InvariantCulture));
        for (var i = 0; i < o.Items; i++) items.GetOrAdd(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var ratings = new float[n];
        Array.Fill(ratings, 1f);
        return new Interactions(users, items, user, item, ratings, new long[n], hasRatings: true, hasTimestamps: false);
    }
}
