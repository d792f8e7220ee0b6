using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Core;

namespace Experiments.Sweeps;

/// <summary>
/// Runs each trial in a child process (any program whose objective runs through <see cref="ChildTrial.Run"/>), so that
/// limits are enforced for real: the child's resident set (VmRSS in /proc/PID/status) is sampled every 100 ms and the
/// child is killed when it exceeds the memory limit; past the time limit, or when the sweep stops, it gets SIGTERM,
/// which cancels its objective's token, then SIGKILL after the grace period. The peak memory recorded is the larger of
/// the sampled VmHWM and the child's own final VmHWM: the whole process's peak resident set, runtime included.
/// The protocol is JSON lines: the trial on the child's standard input; lines starting <c>@@sweep </c> on its output
/// carry reports (answered with whether to prune), the result or the error; other output is ignored. Numbers that JSON
/// cannot hold (NaN, ±∞: a diverged fit, an empty evaluation) travel as the strings "NaN", "Infinity" and "-Infinity".
/// </summary>
public sealed class ProcessTrialExecutor(string fileName, IReadOnlyList<string> arguments, string? workingDirectory = null,
    IReadOnlyDictionary<string, string>? environment = null) : ITrialExecutor
{
    internal const string Marker = "@@sweep ";
    private static readonly TimeSpan Sampling = TimeSpan.FromMilliseconds(100);

    public bool IsolatesMemory => true;

    public async Task<TrialExecution> ExecuteAsync(TrialRequest request, Func<long, double, bool> report, CancellationToken sweepCancellation)
    {
        var limits = request.Limits;
        var watch = new TrialWatch(sweepCancellation);
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        if (environment is not null)
            foreach (var (key, value) in environment) info.Environment[key] = value;
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ExperimentsException($"Cannot start the trial process '{fileName}': {e.Message}", e);
        }
        var pid = process.Id;
        var stderr = new Queue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr)
            {
                stderr.Enqueue(e.Data);
                if (stderr.Count > 20) stderr.Dequeue();
            }
        };
        process.BeginErrorReadLine();

        var stopping = 0;
        void Stop()
        {
            if (Interlocked.Exchange(ref stopping, 1) == 1) return;
            Signal(process, terminate: true);
            _ = Task.Delay(limits.Grace).ContinueWith(_ => Signal(process, terminate: false), TaskScheduler.Default);
        }
        using var timeout = new CancellationTokenSource();
        using var onTimeout = timeout.Token.Register(() => { watch.TimedOut = true; Stop(); });
        using var onCancel = sweepCancellation.Register(Stop);
        if (limits.Timeout is { } t) timeout.CancelAfter(t);
        using var sampler = new Timer(_ =>
        {
            var rss = MemoryProbe.Resident(pid);
            watch.SawMemory(MemoryProbe.PeakResident(pid) ?? rss);
            if (limits.MemoryBytes is { } limit && rss > limit && !watch.OverMemory)
            {
                watch.OverMemory = true;
                Signal(process, terminate: false); // memory does not wait for a grace period
            }
        }, null, TimeSpan.Zero, Sampling);

        JsonNode? result = null, error = null;
        string? malformed = null;
        try
        {
            await process.StandardInput.WriteLineAsync(new JsonObject
            {
                ["number"] = request.Number,
                ["seed"] = request.Seed,
                ["parameters"] = JsonNode.Parse(request.Parameters.ToJson()),
            }.ToJsonString()).ConfigureAwait(false);
            await process.StandardInput.FlushAsync().ConfigureAwait(false);
            while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (!line.StartsWith(Marker, StringComparison.Ordinal)) continue;
                if (Check(line[Marker.Length..], out var message) is { } problem)
                {
                    // A child that breaks the protocol cannot be trusted to finish: stop it now rather than wait on it.
                    malformed = $"The trial process wrote a malformed {Marker.Trim()} line ({problem}): {Shorten(line)}";
                    Signal(process, terminate: false);
                    break;
                }
                if (message["report"] is { } r)
                {
                    var prune = report(r["step"]!.GetValue<long>(), Wire.Read(r["value"])!.Value);
                    if (prune) watch.Pruned = true;
                    await process.StandardInput.WriteLineAsync(prune ? "{\"prune\":true}" : "{\"prune\":false}").ConfigureAwait(false);
                    await process.StandardInput.FlushAsync().ConfigureAwait(false);
                }
                else if (message["result"] is { } done) result = done;
                else error = message["error"];
            }
        }
        catch (IOException)
        {
            // The child went away mid-conversation (killed, or crashed): its exit decides below.
        }
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        await sampler.DisposeAsync().ConfigureAwait(false);
        if (result?["peakMemoryBytes"] is { } reported) watch.SawMemory(reported.GetValue<long>());

        string Tail()
        {
            lock (stderr) return stderr.Count == 0 ? "" : $": {string.Join(" | ", stderr.TakeLast(3))}";
        }
        if (malformed is not null && !watch.OverMemory && !watch.TimedOut)
            return new TrialExecution(TrialStatus.Failed, TrialExecution.NoMetrics, null, watch.PeakMemory, "TrialProtocol", malformed);
        if (result is not null && !watch.OverMemory && !watch.TimedOut)
        {
            var pruned = watch.Pruned || result["pruned"]?.GetValue<bool>() == true;
            return new TrialExecution(pruned ? TrialStatus.Pruned : TrialStatus.Completed, Metrics(result["metrics"]), Wire.Read(result["cost"]), watch.PeakMemory, null, null);
        }
        var status = watch.Decide(true, false, error?["message"]?.GetValue<string>() ?? "");
        if (status == TrialStatus.Failed)
            return error is not null
                ? new TrialExecution(status, TrialExecution.NoMetrics, null, watch.PeakMemory, error["type"]?.GetValue<string>(), error["message"]?.GetValue<string>())
                : new TrialExecution(status, TrialExecution.NoMetrics, null, watch.PeakMemory, "ProcessExit",
                    $"The trial process exited with code {process.ExitCode} without a result{Tail()}");
        return new TrialExecution(status, TrialExecution.NoMetrics, null, watch.PeakMemory, null,
            status is TrialStatus.TimedOut or TrialStatus.OutOfMemory ? $"The trial {TrialWatch.Limit(limits, watch, stopped: true)}; its process was stopped." : null);
    }

    /// <summary>
    /// What is wrong with a message's JSON (null when it is well formed): the fields each kind needs, of the types the
    /// parent reads. <paramref name="message"/> is the parsed message when it is well formed.
    /// </summary>
    internal static string? Check(string json, out JsonObject message)
    {
        message = null!;
        JsonNode? parsed;
        try
        {
            parsed = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            return $"not JSON: {e.Message}";
        }
        if (parsed is not JsonObject o) return "not a JSON object";
        try
        {
            if (o["report"] is { } r)
            {
                if (r is not JsonObject || r["step"] is not JsonValue step || step.GetValueKind() != JsonValueKind.Number || !step.TryGetValue<long>(out _))
                    return "a report needs a whole-number \"step\"";
                if (Wire.Read(r["value"]) is null) return "a report needs a numeric \"value\"";
            }
            else if (o["result"] is { } done)
            {
                if (done is not JsonObject || done["metrics"] is not JsonObject) return "a result needs an object of \"metrics\"";
                Metrics(done["metrics"]);
                Wire.Read(done["cost"]);
                done["pruned"]?.GetValue<bool>();
                done["peakMemoryBytes"]?.GetValue<long>();
            }
            else if (o["error"] is { } failure)
            {
                if (failure is not JsonObject) return "an error needs an object with \"type\" and \"message\"";
                failure["type"]?.GetValue<string>();
                failure["message"]?.GetValue<string>();
            }
            else return "none of \"report\", \"result\" or \"error\"";
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException)
        {
            return $"a field of the wrong type: {e.Message}";
        }
        message = o;
        return null;
    }

    private static string Shorten(string line) => line.Length <= 200 ? line : line[..200] + "…";

    private static IReadOnlyDictionary<string, TrialMetric> Metrics(JsonNode? node)
    {
        var metrics = new Dictionary<string, TrialMetric>();
        if (node is JsonObject o)
            foreach (var (name, value) in o)
                if (value is not null)
                    metrics[name] = new TrialMetric(Wire.Read(value["value"])!.Value, Wire.Read(value["lower"]), Wire.Read(value["upper"]));
        return metrics;
    }

    /// <summary>Doubles on the wire: finite ones as JSON numbers, NaN and ±∞ as their names (JSON has no literal for them).</summary>
    internal static class Wire
    {
        public static JsonNode? Write(double? value) => value switch
        {
            null => null,
            { } v when double.IsFinite(v) => JsonValue.Create(v),
            { } v => JsonValue.Create(v.ToString(CultureInfo.InvariantCulture)),
        };

        public static double? Read(JsonNode? node) => node switch
        {
            null => null,
            _ when node.GetValueKind() == JsonValueKind.String => double.Parse(node.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture),
            _ => node.GetValue<double>(),
        };
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private static void Signal(Process process, bool terminate)
    {
        try
        {
            if (process.HasExited) return;
            if (terminate && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) SendSignal(process.Id, 15);
            else process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }
    }
}

/// <summary>The child's side of <see cref="ProcessTrialExecutor"/>: reads its trial, runs the objective, writes the outcome.</summary>
public static class ChildTrial
{
    /// <summary>Runs the trial given on standard input; returns the process exit code (0 when the objective returned or was pruned).</summary>
    public static int Run(TrialObjective objective)
    {
        var request = JsonNode.Parse(Console.In.ReadLine() ?? throw new ExperimentsException("No trial was given on standard input."))!;
        using var cancel = new CancellationTokenSource();
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            cancel.Cancel();
        });
        var output = Console.Out;
        var gate = new object();
        void Send(JsonObject message)
        {
            lock (gate)
            {
                output.WriteLine(ProcessTrialExecutor.Marker + message.ToJsonString());
                output.Flush();
            }
        }
        var parameters = ParameterSet.FromJson(request["parameters"]!.ToJsonString());
        var context = new TrialContext(request["number"]!.GetValue<int>(), parameters, request["seed"]!.GetValue<int>(), cancel.Token, (step, value) =>
        {
            lock (gate)
            {
                Send(new JsonObject { ["report"] = new JsonObject { ["step"] = step, ["value"] = ProcessTrialExecutor.Wire.Write(value) } });
                var answer = Console.In.ReadLine();
                return answer is not null && JsonNode.Parse(answer)?["prune"]?.GetValue<bool>() == true;
            }
        });
        try
        {
            var outcome = objective(context);
            var metrics = new JsonObject();
            foreach (var (name, m) in outcome.Metrics)
                metrics[name] = new JsonObject { ["value"] = ProcessTrialExecutor.Wire.Write(m.Value), ["lower"] = ProcessTrialExecutor.Wire.Write(m.Lower), ["upper"] = ProcessTrialExecutor.Wire.Write(m.Upper) };
            Send(new JsonObject { ["result"] = new JsonObject { ["metrics"] = metrics, ["cost"] = ProcessTrialExecutor.Wire.Write(outcome.Cost), ["peakMemoryBytes"] = MemoryProbe.PeakResident(Environment.ProcessId) } });
            return 0;
        }
        catch (TrialPrunedException)
        {
            Send(new JsonObject { ["result"] = new JsonObject { ["metrics"] = new JsonObject(), ["pruned"] = true } });
            return 0;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return 143;
        }
        catch (Exception e)
        {
            Send(new JsonObject { ["error"] = new JsonObject { ["type"] = e.GetType().Name, ["message"] = e.Message } });
            return 1;
        }
    }
}
