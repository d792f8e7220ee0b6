using Experiments.Reports;
using Experiments.Store;

namespace Experiments.Runs;

/// <summary>Files a run writes beside its report: names safe for the file system, and their record in the store.</summary>
public static class RunArtifacts
{
    /// <summary>A model or encoder name as part of a file name: letters, digits, '-' and '_' kept, anything else '_'.</summary>
    public static string FileName(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_'));

    /// <summary>Records a written file as an artifact of the run (or of one trial), with its SHA-256 and size.</summary>
    public static void Record(IRunStore store, long runId, long? trialId, string kind, string path) =>
        store.RecordArtifact(runId, trialId, kind, path, ReportWriter.Sha256(path), new FileInfo(path).Length);
}
