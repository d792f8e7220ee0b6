using System.Collections.Concurrent;
using System.Globalization;
using Experiments.Core;
using Experiments.Sweeps;
using Microsoft.Extensions.Hosting;

namespace Experiments.Cluster;

/// <summary>
/// A worker's trial loop: every heartbeat it tells the coordinator its free slots, memory, GPUs and running trials, starts
/// the trials it is leased (each through the sweep engine's <see cref="InProcessExecutor"/>, so time limits and
/// pruning behave as in a local sweep), stops the ones the coordinator says to stop, and reports each outcome. A trial
/// whose lease it lost (the coordinator answers <see cref="ReportAnswer.Lost"/>), or that it cannot report on, is
/// abandoned unreported: the coordinator leases it again.
/// </summary>
internal sealed class TrialWorker(Func<ICoordinatorGrain> coordinatorOf, WorkerOptions options) : BackgroundService
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _running = new(StringComparer.Ordinal);

    /// <summary>The worker's name at the coordinator: host, process and a random suffix (a restarted process is another worker).</summary>
    public string Name { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var coordinator = coordinatorOf();
        var gpus = options.Gpus ?? GpuCapacity.Detect();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var lease = await coordinator.Heartbeat(new WorkerReport(Name, Environment.MachineName, Environment.ProcessId, options.Slots, Environment.ProcessorCount,
                    AvailableMemory(), _running.Keys.ToList(), gpus.Count, gpus.MemoryBytes)).ConfigureAwait(false);
                foreach (var key in lease.Stop)
                    if (_running.TryGetValue(key, out var stop)) await stop.CancelAsync().ConfigureAwait(false);
                foreach (var job in lease.Start) Start(coordinator, job, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The coordinator is moving (its silo died) or busy: the next heartbeat tries again.
                options.Log?.Invoke($"heartbeat failed: {e.GetType().Name}: {e.Message}");
            }
            try
            {
                await Task.Delay(Cluster.HeartbeatInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        foreach (var cancel in _running.Values) await cancel.CancelAsync().ConfigureAwait(false);
    }

    private void Start(ICoordinatorGrain coordinator, TrialJob job, CancellationToken stopping)
    {
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        if (!_running.TryAdd(job.Key, cancel)) return;
        options.Log?.Invoke($"trial {job.Key} started");
        _ = Task.Run(async () =>
        {
            // Why this worker gives the trial up without reporting its outcome; null while it holds it.
            string? abandoned = null;
            bool Report(long step, double value)
            {
                try
                {
                    var answer = CoordinatorCalls.Report.CallAsync(() => coordinator.Report(Name, job.Sweep, job.Number, step, value), cancel.Token).GetAwaiter().GetResult();
                    if (answer != ReportAnswer.Lost) return answer == ReportAnswer.Stop;
                    abandoned = "the coordinator no longer leases it to this worker (cancelled, or given to another worker)";
                }
                catch (Exception e) when (!cancel.IsCancellationRequested)
                {
                    abandoned = $"error: its value at step {step} could not be reported after {CoordinatorCalls.Report.Attempts} attempts ({e.GetType().Name}: {e.Message})";
                }
                catch (Exception)
                {
                    return true; // stopping anyway
                }
                cancel.Cancel();
                return true;
            }

            TrialJobOutcome outcome;
            try
            {
                var objective = ClusterObjectives.Resolve(job.Objective, job.Payload);
                var request = new TrialRequest(job.Number, ParameterSet.FromJson(job.ParametersJson), job.Seed,
                    new TrialLimits(job.TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : null, TimeSpan.FromSeconds(job.GraceSeconds), job.MemoryBytes));
                var execution = await new InProcessExecutor(objective).ExecuteAsync(request, (step, value) => abandoned is not null || Report(step, value), cancel.Token).ConfigureAwait(false);
                outcome = TrialJobOutcome.From(execution, Name);
            }
            catch (Exception e)
            {
                outcome = new TrialJobOutcome(TrialStatus.Failed.Name(), [], null, null, e.GetType().Name, e.Message, Name);
            }
            if (abandoned is not null) options.Log?.Invoke($"trial {job.Key} abandoned: {abandoned}; the coordinator leases it again");
            // A trial stopped because this worker is shutting down is not reported either: its lease lapses and another worker runs it.
            else if (!(stopping.IsCancellationRequested && outcome.Status == TrialStatus.Cancelled.Name()))
            {
                try
                {
                    var taken = await CoordinatorCalls.Complete.CallAsync(() => coordinator.Complete(Name, job.Sweep, job.Number, outcome), stopping).ConfigureAwait(false);
                    options.Log?.Invoke(taken ? $"trial {job.Key} {outcome.Status}"
                        : $"trial {job.Key} {outcome.Status}, refused: the coordinator no longer leases it to this worker (it ran elsewhere, or was cancelled)");
                }
                catch (Exception e)
                {
                    options.Log?.Invoke(stopping.IsCancellationRequested
                        ? $"trial {job.Key} {outcome.Status}, not reported: the worker is shutting down; the coordinator leases it again"
                        : $"error: trial {job.Key} {outcome.Status}, but its outcome could not be reported after {CoordinatorCalls.Complete.Attempts} attempts ({e.GetType().Name}: {e.Message}); the coordinator leases it again");
                }
            }
            _running.TryRemove(job.Key, out _);
            cancel.Dispose();
        }, CancellationToken.None);
    }

    /// <summary>MemAvailable from /proc/meminfo (Linux), else null (no memory-based placement).</summary>
    private static long? AvailableMemory()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

/// <summary>
/// The objectives a worker can run, by name: the payload (JSON) says what exactly (a data set and model, a test
/// function). Built in: <c>test-function</c> (payload <c>{"function": "branin", "sleepMs": 200}</c>: the sweep
/// engine's benchmark functions, each trial sleeping that long, with the worker's process id as metric <c>worker</c>).
/// Programs that host workers register their own.
/// </summary>
public static class ClusterObjectives
{
    private static readonly ConcurrentDictionary<string, Func<string, TrialObjective>> Registered = new(StringComparer.Ordinal)
    {
        ["test-function"] = TestFunction,
    };

    public static void Register(string name, Func<string, TrialObjective> create) => Registered[name] = create;

    public static TrialObjective Resolve(string name, string payload) =>
        Registered.TryGetValue(name, out var create) ? create(payload)
            : throw new ExperimentsException(Core.Definitions.DefinitionValidator.UnknownValue($"cluster objective '{name}'", name, Registered.Keys.Order().ToList()) + ".");

    private static TrialObjective TestFunction(string payload)
    {
        using var document = System.Text.Json.JsonDocument.Parse(payload);
        var function = Sweeps.Benchmarks.TestFunctions.Get(document.RootElement.GetProperty("function").GetString()!);
        var sleep = document.RootElement.TryGetProperty("sleepMs", out var s) ? s.GetInt32() : 0;
        return context =>
        {
            if (sleep > 0) Task.Delay(sleep, context.Cancellation).Wait(context.Cancellation);
            var value = function.Evaluate(context.Parameters);
            return new TrialOutcome(new Dictionary<string, TrialMetric> { ["loss"] = new(value), ["worker"] = new(Environment.ProcessId) });
        };
    }
}
