using Experiments.Core;
using Experiments.Store;
using Experiments.Sweeps;
using Experiments.Sweeps.Benchmarks;
using Experiments.Sweeps.Tuners;

// trial MODE: one trial for ProcessTrialExecutor.
//   report   — reports x at steps 1..5 (stops when pruned), returns loss = x
//   allocate — touches `megabytes` MiB (holding more than 100 for 5 s)
//   nonfinite — reports NaN at step 1 and −∞ at step 2, returns loss = +∞ and other = NaN in [−∞, +∞]
//   sleep    — sleeps `seconds` (SIGTERM cancels it), returns 1
//   fail     — throws InvalidOperationException("broken on purpose")
//   crash    — exits with code 3 without a result
//   malformed — writes "@@sweep " + the `line` parameter, then exits if it is a well-formed result, else sleeps 120 s (the parent should kill it)
// write STORE RUNS: records RUNS runs of one trial and one metric each (a concurrent writer).
// sweep STORE SEED TRIALS: a sweep of random search on Branin into a SQLite store, each trial taking 150 ms (the test kills it).
switch (args.FirstOrDefault())
{
    case "trial":
        return ChildTrial.Run(context =>
        {
            var p = context.Parameters;
            switch (args[1])
            {
                case "report":
                    var x = p.Number("x");
                    for (var step = 1; step <= 5; step++) context.ReportOrStop(step, x * step);
                    return TrialOutcome.Of("loss", x);
                case "allocate":
                    var blocks = new List<byte[]>();
                    for (var i = 0; i < p.Integer("megabytes"); i++)
                    {
                        var block = new byte[1 << 20];
                        for (var k = 0; k < block.Length; k += 4096) block[k] = 1;
                        blocks.Add(block);
                    }
                    if (blocks.Count > 100) Thread.Sleep(5000); // hold it long enough to be seen
                    return TrialOutcome.Of("loss", blocks.Count);
                case "nonfinite":
                    context.ReportOrStop(1, double.NaN);
                    context.ReportOrStop(2, double.NegativeInfinity);
                    return new TrialOutcome(new Dictionary<string, TrialMetric>
                    {
                        ["loss"] = new(double.PositiveInfinity),
                        ["other"] = new(double.NaN, double.NegativeInfinity, double.PositiveInfinity),
                    });
                case "sleep":
                    Task.Delay(TimeSpan.FromSeconds(p.Number("seconds")), context.Cancellation).Wait(context.Cancellation);
                    return TrialOutcome.Of("loss", 1);
                case "malformed":
                    Console.Out.WriteLine("@@sweep " + p.Text("line"));
                    Console.Out.Flush();
                    if (p.Text("line").StartsWith("{\"result\":{\"metrics\":{\"loss\":{\"value\":2.5", StringComparison.Ordinal)) Environment.Exit(0);
                    Thread.Sleep(TimeSpan.FromSeconds(120));
                    return TrialOutcome.Of("loss", 0);
                case "fail":
                    throw new InvalidOperationException("broken on purpose");
                default:
                    Environment.Exit(3);
                    return TrialOutcome.Of("loss", 0);
            }
        });
    case "sweep":
    {
        using var store = SqliteRunStore.Open(args[1]);
        var function = TestFunctions.Branin();
        var settings = new SweepSettings { Name = "killed", Space = function.Space, Objective = new SweepObjective("loss"), Seed = int.Parse(args[2]), MaxTrials = int.Parse(args[3]), Parallelism = 2 };
        var tuner = new TpeTuner(function.Space, int.Parse(args[2]));
        var runner = new SweepRunner(store);
        TrialOutcome Objective(TrialContext c)
        {
            Thread.Sleep(150);
            return TrialOutcome.Of("loss", function.Evaluate(c.Parameters));
        }
        if (args.Length > 4) runner.Resume(long.Parse(args[4]), settings, tuner, Objective);
        else runner.Run(settings, tuner, Objective);
        return 0;
    }
    case "write":
    {
        using var store = RunStores.Open(args[1]);
        for (var i = 0; i < int.Parse(args[2]); i++)
        {
            var run = store.StartRun(new RunStart($"writer-{Environment.ProcessId}", null, "{}", "hash", null, "demo", i, null, "{}", "test"));
            var trial = store.StartTrial(run, "pop", "most-popular", "s", new Dictionary<string, string> { ["i"] = i.ToString() });
            store.RecordMetrics(run, trial, [new MetricRecord("ndcg", 10, i, null, null, 1, "s")]);
            store.FinishTrial(trial, "finished", 0, 0, null, null);
            store.FinishRun(run, RunStatus.Finished, null);
        }
        return 0;
    }
    default:
        Console.Error.WriteLine("usage: trial MODE | write STORE RUNS | sweep STORE SEED TRIALS [RESUME-ID]");
        return 2;
}
