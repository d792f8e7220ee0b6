using System.Diagnostics;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Evaluation;
using Experiments.Recommenders;

namespace Experiments.Runs;

public sealed record EvaluationBenchmarkOptions(int Users = 100_000, int Items = 50_000, int Rank = 64, int K = 10, int TrainPerUser = 20, int TestPerUser = 5, int Seed = 1);

public sealed record EvaluationBenchmarkResult(EvaluationBenchmarkOptions Options, double Seconds, double PairsPerSecond, long PeakWorkingSetBytes, int Threads, IReadOnlyList<MetricValue> Values);

/// <summary>
/// Times full-catalogue top-K evaluation at scale: a latent-factor model with random factors, random train and test
/// interactions, every user scored against every item. What the figures in docs/benchmarks.md come from
/// (`experiments bench evaluate`).
/// </summary>
public static class EvaluationBenchmark
{
    public static EvaluationBenchmarkResult Run(EvaluationBenchmarkOptions o, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var random = new Random(o.Seed);
        var users = new IdMap();
        var items = new IdMap();
        for (var u = 0; u < o.Users; u++) users.GetOrAdd($"u{u}");
        for (var i = 0; i < o.Items; i++) items.GetOrAdd($"i{i}");
        Interactions Sample(int perUser)
        {
            var builder = new InteractionsBuilder(users, items, hasRatings: false, hasTimestamps: false);
            for (var u = 0; u < o.Users; u++)
                for (var k = 0; k < perUser; k++) builder.Add(u, random.Next(o.Items));
            return builder.Build();
        }
        var train = Sample(o.TrainPerUser);
        var test = Sample(o.TestPerUser);
        float[] Factors(int rows) { var f = new float[rows * o.Rank]; for (var i = 0; i < f.Length; i++) f[i] = (float)(random.NextDouble() - 0.5); return f; }
        var model = new LatentFactorModel(o.Rank, Factors(o.Users), Factors(o.Items));
        var metrics = new[] { new MetricName("ndcg", o.K), new MetricName("recall", o.K), new MetricName("hit-rate", o.K) };
        GC.Collect();
        var clock = Stopwatch.StartNew();
        var result = RecommenderEvaluator.Evaluate(model, train, test, metrics, new EvaluationSpec { BootstrapSamples = 0 }, o.Seed, progress: progress, cancel: cancel);
        var seconds = clock.Elapsed.TotalSeconds;
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return new EvaluationBenchmarkResult(o, seconds, (double)result.Users * o.Items / seconds, process.PeakWorkingSet64, Environment.ProcessorCount, result.Values);
    }
}
