using System.CommandLine;
using Experiments.Runs;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>`bench store`: committed writes per second into a SQLite file or a PostgreSQL server.</summary>
internal static class BenchStoreCommands
{
    public static void Add(Command bench)
    {
        var store = new Option<string[]>("--store") { Description = "Stores to measure (SQLite files, postgres://…), each in turn.", Required = true, AllowMultipleArgumentsPerToken = true };
        var writers = new Option<int[]>("--writers") { Description = "Concurrent writers (each its own connection).", DefaultValueFactory = _ => [1, 4], AllowMultipleArgumentsPerToken = true };
        var runs = new Option<int>("--runs") { Description = "Runs each writer records.", DefaultValueFactory = _ => 200 };
        var trials = new Option<int>("--trials") { Description = "Sweep trials each writer records.", DefaultValueFactory = _ => 500 };
        var repeats = new Option<int>("--repeats") { Description = "Rounds over the stores (A B A B …); the median is reported.", DefaultValueFactory = _ => 3 };
        var command = new Command("store", "Store writes per second: runs (6 transactions each) and sweep trials (2 each), one and several writers, stores interleaved.");
        command.With(store, writers, runs, trials, repeats, CommonOptions.Json, CommonOptions.Quiet);
        command.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var results = new List<StoreBenchmarkResult>();
            for (var round = 0; round < parse.GetValue(repeats); round++)
                foreach (var w in parse.GetValue(writers)!)
                    foreach (var s in parse.GetValue(store)!)
                    {
                        results.Add(StoreBenchmark.Run(s, w, parse.GetValue(runs), parse.GetValue(trials)));
                        output.Line($"[grey]round {round + 1}: {Markup.Escape(results[^1].Store)}, {w} writers: {results[^1].RunWritesPerSecond:F0} / {results[^1].TrialWritesPerSecond:F0} writes/s[/]");
                    }
            var medians = results.GroupBy(r => (r.Store, r.Writers)).Select(g => new
            {
                g.Key.Store, g.Key.Writers,
                RunWritesPerSecond = Median(g.Select(r => r.RunWritesPerSecond)), TrialWritesPerSecond = Median(g.Select(r => r.TrialWritesPerSecond)),
            }).ToList();
            output.JsonResult(new { results, medians });
            var table = new Table().Border(TableBorder.Rounded).AddColumns("store", "writers", "run writes/s (median)", "sweep-trial writes/s (median)");
            foreach (var m in medians) table.AddRow(Markup.Escape(m.Store), m.Writers.ToString(), $"{m.RunWritesPerSecond:F0}", $"{m.TrialWritesPerSecond:F0}");
            output.Write(table);
            return Task.FromResult(ExitCodes.Success);
        }));
        bench.Subcommands.Add(command);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
