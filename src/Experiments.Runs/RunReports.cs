using System.Text.Json;
using Experiments.Core;
using Experiments.Reports;
using Experiments.Store;
using Experiments.Sweeps;

namespace Experiments.Runs;

/// <summary>
/// A run's reports: its folder (run-N-uid under the reports folder the run recorded), checked before a run trains,
/// written when it ends — finished, failed, cancelled, or killed (then by the next program that opens the store).
/// </summary>
public static class RunReports
{
    /// <summary>Makes the reports folder and proves it writable, so that a run never trains for results it cannot report.</summary>
    public static string PrepareFolder(string folder)
    {
        var full = Path.GetFullPath(folder);
        try
        {
            Directory.CreateDirectory(full);
            var probe = Path.Combine(full, $".write-test-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExperimentsException($"The reports folder {full} cannot be written ({e.Message}); nothing was run. Pass --reports DIR (or set output.reports) to a writable folder.");
        }
        return full;
    }

    /// <summary>
    /// Writes the run's reports in the formats of its definition and records them as artifacts. A failure to write
    /// loses nothing: the results stay in the store, and the error says how to write the report later.
    /// </summary>
    public static (IReadOnlyList<string> Written, string? Error) Write(IRunStore store, long runId)
    {
        var run = store.GetRunRecord(runId);
        var folder = run.ReportFolder ?? Path.GetFullPath(Path.Combine("reports", run.ReportFolderName));
        var formats = Formats(run.Definition);
        var written = new List<string>();
        var failed = new List<(string Format, string Error)>();
        void Each(string kind, Func<string, string> write)
        {
            // Each format on its own: a PDF without Chromium still leaves the HTML, Markdown and JSON reports.
            foreach (var format in formats)
            {
                try
                {
                    var path = write(format);
                    written.Add(path);
                    if (!store.IsReadOnly) RunArtifacts.Record(store, runId, null, $"{kind}-{format}", path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ExperimentsException)
                {
                    failed.Add((format, e.Message));
                }
            }
        }
        // A sweep's run (the refit) gets the sweep's report beside its own, written first so that the run's report lists it among the artifacts.
        if (store is ISweepStorage sweeps && sweeps.ListSweeps(int.MaxValue).FirstOrDefault(s => s.RunId == runId) is { } sweep)
        {
            SweepReport? content = null;
            Each("sweep-report", format => ReportWriter.WriteSweep(content ??= SweepReport.From(sweeps, sweep.Id, store), format, folder));
        }
        var details = store.GetRun(runId);
        Each("report", format => ReportWriter.Write(details, format, folder));
        if (failed.Count == 0) return (written, null);
        var failedFormats = string.Join(", ", failed.Select(f => f.Format).Distinct());
        return (written, $"The {failedFormats} report of run {runId} could not be written to {folder} ({string.Join("; ", failed.Select(f => f.Error).Distinct())}). " +
                         $"Its results are stored in {store.Location}; write the report with `experiments report {runId} --store {store.Location} --out DIR --format FORMAT` ({failedFormats}).");
    }

    /// <summary>Writes the reports, telling <paramref name="warn"/> when they cannot be written.</summary>
    public static void TryWrite(IRunStore store, long runId, Action<string> warn)
    {
        if (Write(store, runId).Error is { } error) warn(error);
    }

    /// <summary>
    /// Marks the runs whose process died (killed, crashed) as killed and writes their reports, as the run itself
    /// would have; a read-only store is left as it is.
    /// </summary>
    public static void SettleAbandoned(IRunStore store, Action<string> warn)
    {
        var killed = store.MarkAbandonedRuns();
        if (killed.Count == 0) return;
        warn($"{killed.Count} earlier run(s) in {store.Location} had been killed mid-way ({string.Join(", ", killed)}); they are marked 'killed', keep what they finished, and get their report now.");
        foreach (var runId in killed) TryWrite(store, runId, warn);
    }

    /// <summary>The report formats a stored (canonical) definition asks for.</summary>
    private static IEnumerable<string> Formats(string definition)
    {
        using var json = JsonDocument.Parse(definition);
        return json.RootElement.TryGetProperty("output", out var output) && output.TryGetProperty("formats", out var formats)
            ? formats.EnumerateArray().Select(f => f.GetString()!).ToList()
            : ["html", "markdown", "json"];
    }
}
