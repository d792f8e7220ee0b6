using System.Diagnostics;
using Experiments.Core;
using Experiments.Ctr;

namespace Experiments.Runs;

public sealed record CtrThroughputResult(string Model, int Rows, double TrainSeconds, double TrainRowsPerSecond, double ScoreSeconds, double ScoreRowsPerSecond, long PeakWorkingSetBytes);

/// <summary>
/// Training and scoring throughput on a generated click log (`experiments bench ctr-throughput`): 8 numeric columns
/// (10% missing) and 12 categorical columns of 1,000 values each drawn by a power law; clicks from a logistic model of
/// a few of them (about 20% positive).
/// </summary>
public static class CtrThroughput
{
    public static CtrThroughputResult Run(string model, int rows, int seed)
    {
        var log = Generate(rows, seed);
        var options = CtrCatalog.Options(model, new Dictionary<string, object>(), seed) with { Features = new CtrFeatureOptions { MinCategoryCount = 5 } };
        var clock = Stopwatch.StartNew();
        var fitted = CtrTrainer.Fit(log, options);
        var train = clock.Elapsed.TotalSeconds;
        clock.Restart();
        fitted.Predict(log);
        var score = clock.Elapsed.TotalSeconds;
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return new CtrThroughputResult(model, rows, train, rows / train, score, rows / score, process.PeakWorkingSet64);
    }

    public static ClickLog Generate(int rows, int seed)
    {
        const int numeric = 8, categorical = 12, cardinality = 1000;
        var random = new Random(seed);
        var weights = Enumerable.Range(0, categorical).Select(_ => Enumerable.Range(0, cardinality).Select(_ => random.NextDouble() - 0.5).ToArray()).ToArray();
        var cumulative = new double[cardinality];
        var total = 0.0;
        for (var v = 0; v < cardinality; v++) cumulative[v] = total += 1.0 / (v + 1);
        var numbers = Enumerable.Range(0, numeric).Select(_ => new float[rows]).ToArray();
        var categories = Enumerable.Range(0, categorical).Select(_ => new string[rows]).ToArray();
        var labels = new bool[rows];
        var names = Enumerable.Range(0, cardinality).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        for (var r = 0; r < rows; r++)
        {
            var logit = -1.6;
            for (var c = 0; c < numeric; c++)
            {
                var x = (float)Math.Exp(random.NextDouble() * 4);
                numbers[c][r] = random.NextDouble() < 0.1 ? float.NaN : x;
                if (c < 2 && !float.IsNaN(numbers[c][r])) logit += 0.2 * Math.Log(x);
            }
            for (var c = 0; c < categorical; c++)
            {
                var at = Array.BinarySearch(cumulative, random.NextDouble() * total);
                var v = Math.Min(at < 0 ? ~at : at, cardinality - 1);
                categories[c][r] = names[v];
                if (c < 4) logit += 2 * weights[c][v];
            }
            labels[r] = random.NextDouble() < 1 / (1 + Math.Exp(-logit));
        }
        var schema = new ClickLogSchema("click", Enumerable.Range(0, numeric).Select(c => $"I{c}").ToList(), Enumerable.Range(0, categorical).Select(c => $"C{c}").ToList(), []);
        return new ClickLog(schema, labels, numbers, categories, [], null);
    }
}
