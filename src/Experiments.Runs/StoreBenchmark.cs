using System.Diagnostics;
using Experiments.Core;
using Experiments.Store;
using Experiments.Sweeps;

namespace Experiments.Runs;

/// <summary>Committed writes per second into one store, from <see cref="Writers"/> concurrent writers (each its own connection).</summary>
public sealed record StoreBenchmarkResult(string Store, int Writers, int Runs, int SweepTrials, double RunWritesPerSecond, double TrialWritesPerSecond);

/// <summary>
/// `experiments bench store`: what a store sustains. Run writes: each run is what a one-model experiment records —
/// start, data set, a trial with 3 parameters, 4 metrics, its end, the run's end: 6 committed transactions. Sweep
/// writes: a trial started and finished with 2 parameters and one metric (what a sweep writes per trial): 2
/// transactions. Every write commits before the next (as runs do), so the figure is the commit rate the store
/// sustains for a writer, times the writers.
/// </summary>
public static class StoreBenchmark
{
    public static StoreBenchmarkResult Run(string store, int writers, int runsPerWriter, int trialsPerWriter)
    {
        if (writers < 1 || runsPerWriter < 1 || trialsPerWriter < 1) throw new ExperimentsException("The store benchmark needs at least 1 writer, 1 run and 1 trial each.");
        var stores = Enumerable.Range(0, writers).Select(_ => RunStores.Open(store)).ToList();
        try
        {
            var runClock = Stopwatch.StartNew();
            Parallel.ForEach(stores, new ParallelOptions { MaxDegreeOfParallelism = writers }, (s, _, writer) =>
            {
                for (var i = 0; i < runsPerWriter; i++)
                {
                    var run = s.StartRun(new RunStart("bench-store", null, "{}", "hash", null, "bench", i, null, "{}", "bench"));
                    s.RecordDataset(run, "fp", "bench", synthetic: true);
                    var trial = s.StartTrial(run, "m", "most-popular", "s", new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" });
                    s.RecordMetrics(run, trial, Enumerable.Range(0, 4).Select(k => new MetricRecord("ndcg", k + 1, 0.1 * k, 0, 1, 100, "s")).ToList());
                    s.FinishTrial(trial, "finished", 1, 1, null, null);
                    s.FinishRun(run, RunStatus.Finished, null);
                }
            });
            var runSeconds = runClock.Elapsed.TotalSeconds;
            var sweeps = stores.Select(s => s.CreateSweep(new SweepStart("bench-store", "{}", "random", null, new SweepObjective("loss"), 1, writers))).ToList();
            var trialClock = Stopwatch.StartNew();
            Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
            {
                var s = stores[w];
                for (var n = 0; n < trialsPerWriter; n++)
                {
                    var parameters = new ParameterSet([new("x", 0.5 * n), new("y", (long)n)]);
                    s.TrialStarted(sweeps[w], n, n, parameters);
                    s.TrialFinished(sweeps[w], new Sweeps.TrialResult
                    {
                        Number = n, Parameters = parameters, Seed = n, Status = TrialStatus.Completed, Value = n, Loss = n, StartedAt = DateTime.UtcNow, EndedAt = DateTime.UtcNow,
                        Metrics = new Dictionary<string, TrialMetric> { ["loss"] = new(n) },
                    });
                }
            });
            var trialSeconds = trialClock.Elapsed.TotalSeconds;
            foreach (var (s, id) in stores.Zip(sweeps)) s.FinishSweep(id, "finished", null);
            return new StoreBenchmarkResult(stores[0].Location, writers, writers * runsPerWriter, writers * trialsPerWriter,
                writers * runsPerWriter * 6 / runSeconds, writers * trialsPerWriter * 2 / trialSeconds);
        }
        finally
        {
            foreach (var s in stores) s.Dispose();
        }
    }
}
