using System.Diagnostics;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation;
using Experiments.Evaluation.Statistics;
using Experiments.Recommenders.Baselines;

namespace Experiments.Runs;

public sealed record EaseBenchmarkOptions
{
    public string Dataset { get; init; } = "movielens-latest-small";
    public double Lambda { get; init; } = 500;
    /// <summary>The caps to fit, 0 meaning the whole catalogue; the first setting is the reference of the paired differences.</summary>
    public IReadOnlyList<int> MaxItems { get; init; } = [0, 3000];
    /// <summary>Fit each cap in float64 and in float32 (the default precision); false: float32 only.</summary>
    public bool BothPrecisions { get; init; } = true;
    public double TestFraction { get; init; } = 0.2;
    public int Seed { get; init; } = 42;
}

/// <param name="PeakResidentBytes">The process's peak resident set during the fit (VmHWM, reset before it).</param>
/// <param name="ResidentBeforeBytes">The resident set when the fit started.</param>
/// <param name="Difference">NDCG@10 of this setting minus the first setting's, paired over users, with its 95% bootstrap interval.</param>
/// <param name="FitCpuSeconds">Processor time of the fit, all threads: less distorted by other load on the machine than <paramref name="FitSeconds"/>.</param>
public sealed record EaseBenchmarkRow(string Precision, int? MaxItems, int ModelledItems, double FitSeconds, double FitCpuSeconds, long PeakResidentBytes, long ResidentBeforeBytes,
    double Ndcg10, double Difference, double DifferenceLower, double DifferenceUpper, double Residual);

/// <summary>
/// `experiments bench ease`: EASE on the whole catalogue against capped fits, on one seeded stratified split (training
/// items removed, every test interaction relevant): fit time, peak memory and NDCG@10 per setting, in both precisions.
/// </summary>
public static class EaseBenchmark
{
    public static (int Users, int Items, int TrainRows, IReadOnlyList<EaseBenchmarkRow> Rows) Run(EaseBenchmarkOptions o, IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        var data = new DatasetLoader().Open(new DatasetRequest(o.Dataset)).Interactions();
        var split = new StratifiedSplitter(o.TestFraction).Split(data, o.Seed)[0];
        var train = data.Subset(split.Train);
        var test = data.Subset(split.Test);
        progress?.Report($"{o.Dataset}: {train.Count:N0} training and {test.Count:N0} test rows, {data.Users.Count:N0} users, {data.Items.Count:N0} items");
        var metric = new MetricName("ndcg", 10);
        var rows = new List<EaseBenchmarkRow>();
        IReadOnlyDictionary<string, double[]>? reference = null;
        foreach (var cap in o.MaxItems)
            foreach (var wide in o.BothPrecisions ? [true, false] : new[] { false })
            {
                cancel.ThrowIfCancellationRequested();
                // Aggressive: the previous fit's matrices go back to the system, so the next peak is this fit's own.
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                var before = ResetPeakResident();
                using var process = Process.GetCurrentProcess();
                var cpu = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                var model = (EaseModel)new EaseTrainer(new EaseOptions { Lambda = o.Lambda, MaxItems = cap > 0 ? cap : null, DoublePrecision = wide }).Fit(train, cancel);
                var seconds = clock.Elapsed.TotalSeconds;
                process.Refresh();
                var cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
                var peak = PeakResident();
                var evaluation = RecommenderEvaluator.Evaluate(model, train, test, [metric], new EvaluationSpec { BootstrapSamples = 0 }, o.Seed, cancel: cancel);
                var perUser = evaluation.PerUser.Values;
                reference ??= perUser;
                var difference = PairedComparison.Compare([metric], reference, perUser, new PairedSettings(1000, 0.95, o.Seed)).Single();
                rows.Add(new EaseBenchmarkRow(model.Precision, model.MaxItems, model.ModelledItems.Count, seconds, cpuSeconds, peak, before, evaluation.Values[0].Value,
                    difference.Difference, difference.Lower, difference.Upper, model.Residual));
                progress?.Report($"{model.Precision}, {model.ModelledItems.Count:N0} items: fit {seconds:F1} s ({cpuSeconds:F1} s CPU), peak {peak / 1048576.0:F0} MiB (from {before / 1048576.0:F0}), NDCG@10 {rows[^1].Ndcg10:F4}");
            }
        return (data.Users.Count, data.Items.Count, train.Count, rows);
    }

    /// <summary>Resets the kernel's peak resident set (VmHWM) to the current one and returns it; Linux only.</summary>
    private static long ResetPeakResident()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return StatusBytes("VmRSS");
    }

    private static long PeakResident()
    {
        var peak = StatusBytes("VmHWM");
        if (peak > 0) return peak;
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    /// <summary>A "Name: N kB" line of /proc/self/status in bytes, or 0 where there is none.</summary>
    private static long StatusBytes(string name)
    {
        if (!File.Exists("/proc/self/status")) return 0;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[(name.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
