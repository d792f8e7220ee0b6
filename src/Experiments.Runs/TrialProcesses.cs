using Experiments.Datasets;
using Experiments.Store;
using Experiments.Sweeps;

namespace Experiments.Runs;

/// <summary>
/// How to start a program that runs one of a definition's sweep trials in a process of its own: it is started with
/// <see cref="Arguments"/> followed by two paths (the work, a scratch store) and must pass them to
/// <see cref="ExperimentRunner.RunTrialProcess"/>. <c>experiments sweep</c> starts itself (<c>experiments sweep-trial</c>).
/// </summary>
public sealed record TrialProcess(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>
    /// The .NET program <paramref name="assembly"/> (its .dll) with <paramref name="arguments"/> first: started through
    /// its apphost when that is what runs this process (a published <c>experiments</c>, where no dotnet need be on PATH),
    /// else run by the dotnet host.
    /// </summary>
    public static TrialProcess Dotnet(string assembly, params string[] arguments) => Dotnet(assembly, Environment.ProcessPath, arguments);

    internal static TrialProcess Dotnet(string assembly, string? processPath, string[] arguments)
    {
        if (processPath is not null && Path.GetFileNameWithoutExtension(processPath) != "dotnet"
            && Path.GetFullPath(processPath) == Path.ChangeExtension(Path.GetFullPath(assembly), OperatingSystem.IsWindows() ? ".exe" : null))
            return new TrialProcess(processPath, arguments);
        // The host that runs this process when it is dotnet itself; else the one the SDK names, else the one on PATH.
        var host = processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } named ? named : "dotnet";
        return new TrialProcess(host, [assembly, .. arguments]);
    }
}

/// <summary>
/// Runs each of a definition's sweep trials in a child process (<see cref="TrialProcess"/>) through
/// <see cref="ProcessTrialExecutor"/>: a per-trial memory limit is then the child's whole resident set, enforced by
/// killing it, whatever the parallelism; the peak recorded is the child's. Each child loads and splits the data
/// itself (the price of the isolation), scores the trial as a trial in this process would, and reports its
/// intermediate values back for the pruner. The work travels in a file; each child's scratch store (what the task
/// records on its way) and its report folder beside it (what the task saves: a classification task's encoder
/// checkpoints) are removed when the child ends, killed or not.
/// </summary>
internal sealed class ChildTrialExecutor : ITrialExecutor, IDisposable
{
    private readonly TrialProcess _process;
    private readonly string _work;

    public ChildTrialExecutor(TrialProcess process, RemoteWork work)
    {
        _process = process;
        _work = Path.Combine(Path.GetTempPath(), $"experiments-trial-work-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        File.WriteAllText(_work, work.ToJson());
    }

    public bool IsolatesMemory => true;

    public async Task<TrialExecution> ExecuteAsync(TrialRequest request, Func<long, double, bool> report, CancellationToken sweepCancellation)
    {
        var scratch = Path.Combine(Path.GetTempPath(), $"experiments-trial-{Environment.ProcessId}-{request.Number}-{Guid.NewGuid().ToString("N")[..8]}.db");
        try
        {
            return await new ProcessTrialExecutor(_process.FileName, [.. _process.Arguments, _work, scratch]).ExecuteAsync(request, report, sweepCancellation).ConfigureAwait(false);
        }
        finally
        {
            foreach (var file in new[] { scratch, scratch + "-wal", scratch + "-shm" }) File.Delete(file);
            if (Directory.Exists(ReportsOf(scratch))) Directory.Delete(ReportsOf(scratch), recursive: true);
        }
    }

    public void Dispose() => File.Delete(_work);

    /// <summary>The report folder of the child whose scratch store is <paramref name="scratchStore"/>.</summary>
    internal static string ReportsOf(string scratchStore) => scratchStore + "-reports";
}

public sealed partial class ExperimentRunner
{
    /// <summary>
    /// The child's side of a trial in its own process (<see cref="TrialProcess"/>): reads the work at
    /// <paramref name="workFile"/>, runs the trial given on standard input against the definition's tuning parts
    /// (the same scoring as in the sweep's own process, with intermediate values when the sweep has a pruner) and
    /// answers through <see cref="ChildTrial"/>; <paramref name="scratchStore"/> is a store to record the task's
    /// way in. Returns the process's exit code.
    /// </summary>
    public static int RunTrialProcess(string workFile, string scratchStore)
    {
        using var scratch = SqliteRunStore.Open(scratchStore);
        return ChildTrial.Run(context =>
        {
            // Inside the trial, so that missing data or a bad definition comes back as the trial's error.
            var sweep = Prepare(RemoteWork.FromJson(File.ReadAllText(workFile)), null, scratch, new DatasetLoader(), ChildTrialExecutor.ReportsOf(scratchStore));
            return Score(sweep.Run, sweep.Task, sweep.Tuning, SweepSpaces.ModelOf(sweep.Run.Definition, context.Parameters), context, sweep.Reported);
        });
    }
}
