using System.CommandLine;
using Experiments.Runs;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>`bench tuners`: our tuners beside Optuna's on the standard test functions.</summary>
internal static class BenchSweepCommands
{
    public static void Add(Command bench)
    {
        var defaults = new TunerBenchmarkOptions();
        var tuners = new Command("tuners", "Tuner quality on Branin, Hartmann-6, Rosenbrock-4D and a conditional space: median and quartiles of the final regret, beside Optuna 3.1's TPE and random search (experiments/benchmarks/peers/optuna_peer.py).");
        var functions = new Option<string[]>("--functions") { DefaultValueFactory = _ => defaults.Functions.ToArray(), AllowMultipleArgumentsPerToken = true };
        var names = new Option<string[]>("--tuners") { DefaultValueFactory = _ => defaults.Tuners.ToArray(), AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<int>("--seeds") { DefaultValueFactory = _ => defaults.Seeds };
        var checkpoints = new Option<int[]>("--trials") { Description = "Checkpoints (trial counts) at which the regret is read.", DefaultValueFactory = _ => defaults.Checkpoints.ToArray(), AllowMultipleArgumentsPerToken = true };
        var peer = new Option<string?>("--peer") { Description = "The Optuna peer script (default experiments/benchmarks/peers/optuna_peer.py; 'none' to skip). Its interpreter: EXPERIMENTS_PYTHON, else /usr/bin/python3." };
        var startup = new Option<int?>("--startup-trials") { Description = "Random trials before our model-based tuners (tpe, smac, blendsearch's global search) propose; default: theirs (10; smac alone at most a quarter of the budget, so it runs once per budget that changes it). The Optuna peer keeps its own 10." };
        tuners.With(functions, names, seeds, checkpoints, peer, startup, CommonOptions.Json, CommonOptions.Quiet);
        tuners.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var options = defaults with
            {
                Functions = parse.GetValue(functions)!, Tuners = parse.GetValue(names)!, Seeds = parse.GetValue(seeds), Checkpoints = parse.GetValue(checkpoints)!,
                StartupTrials = parse.GetValue(startup),
                PeerScript = parse.GetValue(peer) switch { "none" => null, { } given => given, null => Path.Combine("experiments", "benchmarks", "peers", "optuna_peer.py") },
            };
            var (rows, summary, version) = TunerBenchmark.Run(options, new Progress<string>(m => output.Line($"[grey]{Markup.Escape(m)}[/]")));
            output.JsonResult(new { options, optuna = version, summary, rows });
            foreach (var function in summary.GroupBy(s => s.Function))
            {
                var table = new Table().Border(TableBorder.Rounded).AddColumn("tuner");
                foreach (var c in options.Checkpoints) table.AddColumn($"{c} trials: median (q1 – q3)");
                foreach (var tuner in function.GroupBy(s => s.Tuner))
                    table.AddRow([Markup.Escape(tuner.Key), .. tuner.OrderBy(s => s.Trials).Select(s => $"{s.Median:G4} ({s.Q1:G4} – {s.Q3:G4})")]);
                table.Title = new TableTitle($"{function.Key}: regret over {options.Seeds} seeds");
                output.Write(table);
            }
            return Task.FromResult(ExitCodes.Success);
        }));
        bench.Subcommands.Add(tuners);
    }
}
