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
/// <paramref name="BaseDirectory"/>: the folder the definition's own files resolve against on the submitter (its file's
/// folder, or for a definition built in C# the folder it was built with), which the workers share. <paramref name="Gpu"/>:
/// what it does with a GPU (<see cref="GpuUseOf"/>).
/// </summary>
public sealed record RemoteWork(string Definition, string? Source, string? DataDirectory, string? Store = null, string? ReportDirectory = null, long? Run = null, string? Fingerprint = null,
    string? BaseDirectory = null, GpuUse Gpu = GpuUse.None)
{
    /// <summary>The cluster objective that scores one of a definition's sweep trials.</summary>
    public const string SweepTrialObjective = "experiment-trial";
    /// <summary>The cluster objective that runs a definition as an ordinary run (its metric "run" is the run's id in the store).</summary>
    public const string RunObjective = "experiment-run";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static RemoteWork Of(ExperimentDefinition definition, RunOptions options, string? store = null) =>
        new(DefinitionWriter.ToJson(definition), options.Source is { } source ? Path.GetFullPath(source) : null, options.DataDirectory is { } data ? Path.GetFullPath(data) : null, store,
            options.ReportDirectory is { } reports ? Path.GetFullPath(reports) : null, BaseDirectory: definition.Dataset.BaseDirectory is { } folder ? Path.GetFullPath(folder) : null,
            Gpu: GpuUseOf(definition));

    /// <summary>
    /// What the work does with a GPU, from its encoders — the definition's text encoders, a hybrid's item encoder and the
    /// models that train one (dense retrievers, intent encoders) — each on its "device" ("auto" unless set): one on a
    /// CUDA device (<c>"cuda"</c>, <c>"cuda:N"</c>) needs a GPU, and goes only to workers with one free; one on "auto"
    /// uses the GPU of a worker that has one, which the cluster then counts as taken.
    /// </summary>
    public static GpuUse GpuUseOf(ExperimentDefinition definition)
    {
        var encoders = definition.Encoders.Select(e => e.Parameters)
            .Concat(definition.Hybrid is { Embedder: HybridSpec.Encoder } hybrid ? [hybrid.EncoderParameters] : [])
            .Concat(definition.Models.Where(m => Platform.Vocabulary.Models.Any(v => v.Type == m.Type && v.Parameters.Any(p => p.Name == Device.Name))).Select(m => m.Parameters));
        var devices = encoders.Select(p => Convert.ToString(p.TryGetValue(Device.Name, out var device) ? device : Device.Default, System.Globalization.CultureInfo.InvariantCulture)!).ToList();
        return devices.Any(d => d.StartsWith("cuda", StringComparison.OrdinalIgnoreCase)) ? GpuUse.Required
            : devices.Any(d => !d.Equals("cpu", StringComparison.OrdinalIgnoreCase)) ? GpuUse.WhenPresent
            : GpuUse.None;
    }

    private static readonly ParameterSpec Device = Text.EncoderCatalog.Parameters.Single(p => p.Name == "device");

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static RemoteWork FromJson(string payload) =>
        JsonSerializer.Deserialize<RemoteWork>(payload, Json) ?? throw new ExperimentsException("The cluster sent an empty work item.");

    /// <summary>The definition as the submitter read it: its own files resolve against the submitter's folder for them, never the worker's working directory.</summary>
    public ExperimentDefinition Read() =>
        Platform.Reader.Read(Definition, Source ?? "cluster definition", BaseDirectory ?? (Source is { } source ? Path.GetDirectoryName(source) : null));

    /// <summary>The worker's own view of the shared data directory wins over the submitter's path (the same share may be mounted elsewhere).</summary>
    public RunOptions Options(string? workerDataDirectory) => new() { DataDirectory = workerDataDirectory ?? DataDirectory, Source = Source, ReportDirectory = ReportDirectory };
}

public sealed partial class ExperimentRunner
{
    /// <summary>
    /// A definition's sweep made ready on a worker: its data loaded and split once, shared by every trial the worker runs
    /// of it; with a pruner, the metric its trials report after each step (null without). Disposing it closes the
    /// task's open split (a search split's cached components).
    /// </summary>
    private sealed record PreparedSweep(RunScope Run, IExperimentTask Task, IReadOnlyList<TaskSplit> Tuning, string? Reported, IDisposable Split) : IDisposable
    {
        public void Dispose() => Split.Dispose();
    }

    /// <summary>A worker keeps the sweeps it served last; older ones are let go and disposed (a trial still running on one keeps it until it ends).</summary>
    private static readonly HeldCache<PreparedSweep> Prepared = new(capacity: 2);
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
        PreparedSweep Build() => Prepare(work, workerDataDirectory, Scratch.Value, WorkerLoader);
        // Made ready now, outside the trial's time limit; a failed preparation (the data missing) is tried again by the next trial.
        using (Prepared.Hold(key, Build)) { }
        return context =>
        {
            // Held while the trial runs; let go meanwhile (the worker served two other sweeps since), it is made ready again.
            using var held = Prepared.Hold(key, Build);
            var sweep = held.Value;
            // Intermediate values go to the coordinator and on to the submitter's pruner, whose verdict comes back (ClusterTrialExecutor).
            return Score(sweep.Run, sweep.Task, sweep.Tuning, SweepSpaces.ModelOf(sweep.Run.Definition, context.Parameters), context, sweep.Reported);
        };
    }

    /// <summary>
    /// The work's definition loaded and split for its sweep's trials, the task's records going to <paramref name="scratch"/>
    /// and what it saves (encoder checkpoints) to <paramref name="reports"/> (default: a worker's folder in the temporary one).
    /// </summary>
    private static PreparedSweep Prepare(RemoteWork work, string? workerDataDirectory, SqliteRunStore scratch, IDatasetLoader loader, string? reports = null)
    {
        var definition = work.Read();
        var spec = definition.Sweep ?? throw new ExperimentsException($"Experiment '{definition.Name}' has no \"sweep\" block; the cluster was sent a sweep trial of it.");
        var options = work.Options(workerDataDirectory) with { ReportDirectory = reports ?? Path.Combine(Path.GetTempPath(), "experiments-worker-reports") };
        var runner = new ExperimentRunner(scratch, loader);
        var run = runner.StartRun(definition, options, CancellationToken.None);
        var (task, _) = runner.OpenTask(run, options, work.Fingerprint is { } fingerprint
            ? (fingerprint, "the sweep's submitter loaded other data. Give the workers the data it reads (the shared data directory, worker --data-dir).")
            : null);
        // The split stays open (a search split's cached components) until the worker lets the sweep go.
        var splits = task.Splits().GetEnumerator();
        try
        {
            if (!splits.MoveNext()) throw new ExperimentsException($"Experiment '{definition.Name}' has no split to sweep on.");
            var (tuning, _) = task.ForSweep(splits.Current, spec);
            scratch.FinishRun(run.RunId, RunStatus.Finished, null);
            return new PreparedSweep(run, task, tuning, PrunerOf(spec.Pruner, definition.Seed, null) is null ? null : spec.MetricOf(definition.Metrics).ToString(), splits);
        }
        catch
        {
            splits.Dispose();
            throw;
        }
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
            if (runs.GetRunRecord(runId).Status == RunStatus.Running)
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
