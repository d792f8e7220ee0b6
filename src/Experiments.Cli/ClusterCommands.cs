using System.CommandLine;
using System.Net;
using Experiments.Cluster;
using Experiments.Runs;
using Experiments.Store;
using Experiments.Sweeps;
using Experiments.Sweeps.Benchmarks;
using Experiments.Sweeps.Tuners;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>`worker` (a silo that runs trials), `cluster status`, and `cluster sweep` (a test-function sweep on the cluster).</summary>
internal static class ClusterCommands
{
    private static readonly Option<string> ClusterOption = new("--cluster")
    {
        Description = "The cluster's PostgreSQL (postgres://user@host/database): its membership, and the default run store.", Required = true,
    };

    /// <summary>`run` and `sweep` with --cluster: the work goes to the cluster's workers.</summary>
    public static readonly Option<string?> SubmitOption = new("--cluster")
    {
        Description = "Run the work on this cluster's workers (postgres://user@host/database; `experiments worker --cluster …`); its PostgreSQL is then the default run store.",
    };

    /// <summary>What a worker can run besides test functions: a definition's sweep trials, and whole runs.</summary>
    private static void RegisterObjectives(string? dataDirectory)
    {
        ClusterObjectives.Register(RemoteWork.SweepTrialObjective, payload => ExperimentRunner.SweepTrialObjective(payload, dataDirectory));
        ClusterObjectives.Register(RemoteWork.RunObjective, payload => ExperimentRunner.RunObjective(payload, dataDirectory));
    }

    public static void Add(RootCommand root)
    {
        var slots = new Option<int>("--slots") { Description = "Trials this worker runs at once (default: its cores).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var address = new Option<string?>("--address") { Description = "The address other machines reach this worker at (default: its first non-loopback IPv4 address)." };
        var port = new Option<int?>("--port") { Description = "The silo port (default: a free one); the gateway port is the next free one." };
        var worker = new Command("worker", "Join the cluster as a worker and run the trials it is given, until Ctrl+C.");
        var gpus = new Option<int?>("--gpus") { Description = "GPUs this worker offers to trials that use one (default: those nvidia-smi reports, none without it)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "This worker's view of the shared data directory (default: the submitter's path, else the usual data directories)." };
        worker.With(ClusterOption, slots, address, port, gpus, dataDir, CommonOptions.Quiet);
        worker.SetAction((parse, cancel) => CommonOptions.Guarded(parse, async output =>
        {
            RegisterObjectives(parse.GetValue(dataDir));
            var given = parse.GetValue(address);
            IPAddress? ip = null;
            if (given is not null && !IPAddress.TryParse(given, out ip)) throw new Core.ExperimentsException($"--address '{given}' is not an IP address.");
            var options = new WorkerOptions(parse.GetValue(ClusterOption)!, parse.GetValue(slots)) 
            {
                Address = ip, SiloPort = parse.GetValue(port), Log = line => output.Line(Markup.Escape(line)),
                Gpus = parse.GetValue(gpus) is { } count ? new GpuCapacity(count, null) : null,
            };
            using var host = await Cluster.Cluster.StartWorkerAsync(options, cancel);
            output.Line($"Worker {Environment.ProcessId} on {Markup.Escape(Environment.MachineName)} joined the cluster at {Markup.Escape(PostgresConnection.Hide(options.Cluster))} with {options.Slots} slots.");
            try { await Task.Delay(Timeout.Infinite, cancel); } catch (OperationCanceledException) { }
            await host.StopAsync(CancellationToken.None);
            return ExitCodes.Success;
        }));
        root.Subcommands.Add(worker);

        var status = new Command("status", "Show the cluster's workers, their load and running trials.");
        status.With(ClusterOption, CommonOptions.Json, CommonOptions.Quiet);
        status.SetAction((parse, cancel) => CommonOptions.Guarded(parse, async output =>
        {
            using var client = await Cluster.Cluster.ConnectAsync(parse.GetValue(ClusterOption)!, cancel);
            var state = await Cluster.Cluster.CoordinatorOf(client).Status();
            output.JsonResult(state);
            var table = new Table().Border(TableBorder.Rounded).AddColumns("worker", "host", "pid", "slots", "running", "free memory", "GPUs", "last heartbeat");
            foreach (var w in state.Workers)
                table.AddRow(Markup.Escape(w.Report.Worker), Markup.Escape(w.Report.Host), w.Report.Pid.ToString(), w.Report.Slots.ToString(),
                    Markup.Escape(string.Join(", ", w.Running.Select(r => r[(r.LastIndexOf('#') + 1)..]))), w.Report.AvailableMemoryBytes is { } m ? $"{m / 1048576.0:N0} MiB" : "—",
                    new GpuCapacity(w.Report.Gpus, w.Report.GpuMemoryBytes).ToString(),
                    $"{(DateTime.UtcNow - w.LastSeen).TotalSeconds:F1} s ago");
            output.Write(table);
            output.Line($"{state.Workers.Count} workers, {state.Workers.Sum(w => w.Report.Slots)} slots, {state.Workers.Sum(w => w.Report.Gpus)} GPUs; {state.Running.Count} trials running, {state.Queued} waiting, {state.Finished} finished, {state.Reassigned} re-run after a worker was lost; the coordinator lives in process {state.CoordinatorPid}.");
            return ExitCodes.Success;
        }));

        var function = new Option<string>("--function") { Description = "The test function: branin, hartmann6, rosenbrock4, conditional.", DefaultValueFactory = _ => "branin" };
        var trials = new Option<int>("--trials") { DefaultValueFactory = _ => 30 };
        var tuner = new Option<string>("--tuner") { DefaultValueFactory = _ => "random" };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var parallelism = new Option<int?>("--parallelism") { Description = "Trials at once (default: the cluster's slots)." };
        var sleep = new Option<int>("--sleep-ms") { Description = "How long each trial takes (it sleeps), to stand for real work.", DefaultValueFactory = _ => 0 };
        var store = new Option<string?>("--store") { Description = "The run store (default: the cluster's PostgreSQL)." };
        var gpu = new Option<bool>("--gpu") { Description = "Each trial needs a GPU: it goes only to workers that have one." };
        var sweep = new Command("sweep", "Run a sweep of a test function on the cluster's workers (the engine's sweep, its trials leased to workers).");
        sweep.With(ClusterOption, function, trials, tuner, seed, parallelism, sleep, store, gpu, CommonOptions.Json, CommonOptions.Quiet);
        sweep.SetAction((parse, cancel) => CommonOptions.Guarded(parse, async output =>
        {
            var cluster = parse.GetValue(ClusterOption)!;
            var f = TestFunctions.Get(parse.GetValue(function)!);
            using var runs = RunStores.Open(parse.GetValue(store) ?? cluster);
            using var client = await Cluster.Cluster.ConnectAsync(cluster, cancel);
            var settings = new SweepSettings
            {
                Name = $"cluster-{f.Name}", Space = f.Space, Objective = new SweepObjective("loss"), Seed = parse.GetValue(seed), MaxTrials = parse.GetValue(trials), Parallelism = parse.GetValue(parallelism),
            };
            var payload = System.Text.Json.JsonSerializer.Serialize(new { function = f.Name, sleepMs = parse.GetValue(sleep) });
            var result = await ClusterSweeps.RunAsync(client, runs, settings, TunerCatalog.Create(parse.GetValue(tuner)!, f.Space, parse.GetValue(seed)), "test-function", payload, parse.GetValue(gpu) ? Core.GpuUse.Required : Core.GpuUse.None, cancel);
            var minutes = result.Elapsed.TotalMinutes;
            output.JsonResult(new { sweep = result.SweepId, trials = result.Trials.Count, best = result.Best?.Value, seconds = result.Elapsed.TotalSeconds, trialsPerMinute = result.Trials.Count / minutes });
            output.Line($"Sweep {result.SweepId}: {result.Trials.Count} trials in {result.Elapsed.TotalSeconds:F1} s ({result.Trials.Count / minutes:F0} per minute); best {result.Best?.Value:G6} with {Markup.Escape(result.Best?.Parameters.ToString() ?? "—")}.");
            return ExitCodes.Success;
        }));
        root.Subcommands.Add(new Command("cluster", "The cluster of workers (Orleans, membership in PostgreSQL).") { status, sweep });
    }
}
