using System.Collections.Concurrent;
using System.Text.Json;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Store;
using Experiments.Sweeps;

namespace Experiments.Runs;

/// <summary>
/// What a worker on another machine needs to run a definition's sweep trial or a whole run: the definition (as its
/// canonical JSON), where it came from, the submitter's data directory and, for a run, the store, the run the submitter
/// recorded there (which every attempt continues) and the report folder; for a sweep, the fingerprint of the data the
/// submitter loaded, which its workers must read too.
/// It travels as the payload of a cluster objective (<see cref="SweepTrialObjective"/>, <see cref="RunObjective"/>).
/// </summary>
public sealed record RemoteWork(string Definition, string? Source, string? DataDirectory, string? Store = null, string? ReportDirectory = null, long? Run = null, string? Fingerprint = null)
{
    /// <summary>The cluster objective that scores one of a definition's sweep trials.</summary>
    public const string SweepTrialObjective = "experiment-trial";
    /// <summary>The cluster objective that runs a definition as an ordinary run (its metric "run" is the run's id in the store).</summary>
    public const string RunObjective = "experiment-run";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static RemoteWork Of(ExperimentDefinition definition, RunOptions options, string? store = null) =>
        new(DefinitionWriter.ToJson(definition), options.Source is { } source ? Path.GetFullPath(source) : null, options.DataDirectory is { } data ? Path.GetFullPath(data) : null, store,
            options.ReportDirectory is { } reports ? Path.GetFullPath(reports) : null);

    /// <summary>
    /// Whether the work needs a GPU: some encoder of the definition asks for a CUDA device (<c>"device": "cuda"</c> or
    /// <c>"cuda:N"</c>; "auto" runs anywhere). The cluster then gives it only to workers that have one.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool NeedsGpu
    {
        get
        {
            static bool AsksForCuda(JsonElement e) => e.ValueKind switch
            {
                JsonValueKind.Object => e.EnumerateObject().Any(p => p.NameEquals("device") && p.Value.ValueKind == JsonValueKind.String
                    ? p.Value.GetString()!.StartsWith("cuda", StringComparison.OrdinalIgnoreCase) : AsksForCuda(p.Value)),
                JsonValueKind.Array => e.EnumerateArray().Any(AsksForCuda),
                _ => false,
            };
            using var document = JsonDocument.Parse(Definition);
            return AsksForCuda(document.RootElement);
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static RemoteWork FromJson(string payload) =>
        JsonSerializer.Deserialize<RemoteWork>(payload, Json) ?? throw new ExperimentsException("The cluster sent an empty work item.");

    /// <summary>The definition as the submitter read it (own files resolve against its file's folder, which the workers share).</summary>
    public ExperimentDefinition Read() =>
        Platform.Reader.Read(Definition, Source ?? "cluster definition", Source is { } source ? Path.GetDirectoryName(source) : null);

    /// <summary>The worker's own view of the shared data directory wins over the submitter's path (the same share may be mounted elsewhere).</summary>
    public RunOptions Options(string? workerDataDirectory) => new() { DataDirectory = workerDataDirectory ?? DataDirectory, Source = Source, ReportDirectory = ReportDirectory };
}

public sealed partial class ExperimentRunner
{
    /// <summary>
    /// A definition's sweep made ready on a worker: its data loaded and split once, shared by every trial the worker runs
    /// of it; with a pruner, the metric its trials report after each step (null without).
    /// </summary>
    private sealed record PreparedSweep(RunScope Run, IExperimentTask Task, IReadOnlyList<TaskSplit> Tuning, string? Reported)
    {
        public long LastUsed = Environment.TickCount64;
    }

    private static readonly ConcurrentDictionary<string, Lazy<PreparedSweep>> Prepared = new(StringComparer.Ordinal);
    private static readonly Lazy<SqliteRunStore> Scratch = new(OpenScratch);

    /// <summary>A worker fetches a data set it lacks by its checksums, or fails the trial saying which and where.</summary>
    private static readonly IDatasetLoader WorkerLoader = new Datasets.Download.FetchingDatasetLoader(new DatasetLoader(), new HttpClient { Timeout = TimeSpan.FromMinutes(30) });

    /// <summary>
    /// The objective a worker runs for a definition's sweep trial (<see cref="RemoteWork.SweepTrialObjective"/>): the
    /// same scoring as a local sweep's trial (<see cref="Score"/>) on the same tuning parts, so a trial gives the same
    /// metrics wherever it runs. The worker loads and splits the data once per sweep; what the task records on the way
    /// (profiles) goes to a scratch store of the worker's — the submitter's run keeps its own.
    /// </summary>
    public static TrialObjective SweepTrialObjective(string payload, string? workerDataDirectory)
    {
        var work = RemoteWork.FromJson(payload);
        var key = $"{workerDataDirectory}\n{payload}";
        var prepared = Prepared.GetOrAdd(key, _ => new Lazy<PreparedSweep>(() => Prepare(work, workerDataDirectory, Scratch.Value, WorkerLoader)));
        PreparedSweep sweep;
        try
        {
            sweep = prepared.Value;
        }
        catch
        {
            // A failed preparation (the data missing) is tried again by the next trial, once the data may be there.
            Prepared.TryRemove(new KeyValuePair<string, Lazy<PreparedSweep>>(key, prepared));
            throw;
        }
        sweep.LastUsed = Environment.TickCount64;
        // Intermediate values go to the coordinator and on to the submitter's pruner, whose verdict comes back (ClusterTrialExecutor).
        return context => Score(sweep.Run, sweep.Task, sweep.Tuning, SweepSpaces.ModelOf(sweep.Run.Definition, context.Parameters), context, sweep.Reported);
    }

    /// <summary>
    /// The work's definition loaded and split for its sweep's trials, the task's records going to <paramref name="scratch"/>
    /// and what it saves (encoder checkpoints) to <paramref name="reports"/> (default: a worker's folder in the temporary one).
    /// </summary>
    private static PreparedSweep Prepare(RemoteWork work, string? workerDataDirectory, SqliteRunStore scratch, IDatasetLoader loader, string? reports = null)
    {
        // A worker keeps the data of the two sweeps it served last; older ones are let go (a trial still running on
        // one keeps it alive until it ends).
        foreach (var (old, _) in Prepared.Where(p => p.Value.IsValueCreated).OrderByDescending(p => p.Value.Value.LastUsed).Skip(1).ToList())
            Prepared.TryRemove(old, out _);
        var definition = work.Read();
        var spec = definition.Sweep ?? throw new ExperimentsException($"Experiment '{definition.Name}' has no \"sweep\" block; the cluster was sent a sweep trial of it.");
        var options = work.Options(workerDataDirectory) with { ReportDirectory = reports ?? Path.Combine(Path.GetTempPath(), "experiments-worker-reports") };
        var runner = new ExperimentRunner(scratch, loader);
        var run = runner.StartRun(definition, options, CancellationToken.None);
        var (task, _) = runner.OpenTask(run, options, work.Fingerprint is { } fingerprint
            ? (fingerprint, "the sweep's submitter loaded other data. Give the workers the data it reads (the shared data directory, worker --data-dir).")
            : null);
        var splits = task.Splits().GetEnumerator();
        if (!splits.MoveNext()) throw new ExperimentsException($"Experiment '{definition.Name}' has no split to sweep on.");
        var (tuning, _) = task.ForSweep(splits.Current, spec);
        scratch.FinishRun(run.RunId, RunStatus.Finished, null);
        return new PreparedSweep(run, task, tuning, PrunerOf(spec.Pruner, definition.Seed) is null ? null : spec.MetricOf(definition.Metrics).ToString());
    }

    /// <summary>
    /// The objective a worker runs for a whole run (<see cref="RemoteWork.RunObjective"/>): the run the submitter
    /// recorded in the shared store, carried out here with its reports (<see cref="Continue"/>: a worker that takes it
    /// over from one that died goes on in the same run); the outcome's metric <c>run</c> is the run's id there.
    /// </summary>
    public static TrialObjective RunObjective(string payload, string? workerDataDirectory) => context =>
    {
        var work = RemoteWork.FromJson(payload);
        using var store = RunStores.Open(work.Store ?? throw new ExperimentsException("The cluster sent a run without the store to record it in."));
        var runner = new ExperimentRunner(store, WorkerLoader);
        var outcome = work.Run is { } run
            ? runner.Continue(run, work.Read(), work.Options(workerDataDirectory), context.Cancellation)
            : runner.Run(work.Read(), work.Options(workerDataDirectory), context.Cancellation);
        return TrialOutcome.Of("run", outcome.RunId);
    };

    /// <summary>
    /// Runs the definition on another machine (a cluster's worker, through <paramref name="executor"/>) into
    /// <paramref name="store"/> — a store the worker reaches, a PostgreSQL connection string — and returns the outcome
    /// as <see cref="Run"/> would, read back from the store, its reports written here too.
    /// </summary>
    public static async Task<RunOutcome> RunElsewhereAsync(ExperimentDefinition definition, RunOptions options, string store, Func<string, ITrialExecutor> executor, CancellationToken cancel = default)
    {
        if (!PostgresConnection.IsConnectionString(store))
            throw new ExperimentsException($"A run on the cluster records into a store its workers reach: give --store postgres://… (or leave it out for the cluster's own), not the file {store}.");
        using var runs = RunStores.Open(store);
        // The run is recorded here, once: whichever worker carries it out (a second one if the first dies) continues it.
        var runId = new ExperimentRunner(runs).Prepare(definition, options, cancel);
        var work = (RemoteWork.Of(definition, options, store) with { Run = runId }).ToJson();
        options.Observer.Stage($"Submitting {definition.Name} to the cluster");
        var execution = await executor(work).ExecuteAsync(new TrialRequest(0, ParameterSet.Empty, definition.Seed, new TrialLimits(null, TimeSpan.FromSeconds(30), null)), (_, _) => false, cancel)
            .ConfigureAwait(false);
        if (!execution.Metrics.ContainsKey("run"))
        {
            // No worker finished it: a run still marked running (never taken up, or its worker stopped) ends here.
            if (runs.GetRun(runId).Run.Status == RunStatus.Running)
                runs.FinishRun(runId, cancel.IsCancellationRequested ? RunStatus.Cancelled : RunStatus.Failed, execution.Error ?? $"the cluster's trial {execution.Status.Name()}");
            if (cancel.IsCancellationRequested) throw new OperationCanceledException(cancel);
            throw new ExperimentsException($"The run of {definition.Name} on the cluster {execution.Status.Name()}: {execution.Error ?? "no run was recorded"}.");
        }
        return Recorded(runs, runId);
    }

    /// <summary>A run another process recorded, as <see cref="Run"/> returns it; its reports are written (again) here.</summary>
    private static RunOutcome Recorded(IRunStore store, long runId)
    {
        var details = store.GetRun(runId);
        var trials = details.Trials.Select(ResultOf).ToList();
        var (reports, reportError) = RunReports.Write(store, runId);
        return new RunOutcome(runId, details.Run.Status, trials, reports, details.Run.Error, reportError, details.Regression);
    }

    /// <summary>A stored trial as a run's result.</summary>
    private static TrialResult ResultOf(TrialRecord t) =>
        new(t.Id, t.ModelName, t.ModelType, t.Split, t.Status, t.FitSeconds ?? 0, t.EvaluateSeconds ?? 0,
            t.Metrics.Select(m => new Evaluation.MetricValue(m.Name, m.K, m.Value, m.Lower, m.Upper, m.Users ?? 0)).ToList(), t.Protocol, t.Error);

    /// <summary>The worker's scratch store, one per process, removed when the process ends.</summary>
    private static SqliteRunStore OpenScratch()
    {
        var path = Path.Combine(Path.GetTempPath(), $"experiments-worker-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}.db");
        var store = SqliteRunStore.Open(path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            store.Dispose();
            foreach (var file in new[] { path, path + "-wal", path + "-shm" }) File.Delete(file);
        };
        return store;
    }
}
