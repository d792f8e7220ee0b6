using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Runs;
using Experiments.Store;
using Quartz;

namespace Experiments.Scheduling;

/// <summary>
/// One firing of a schedule: read the definition again (it may have changed since it was scheduled), run it as an
/// ordinary run — the run store, the reports, the regression rule — and tell Quartz's execution history what happened.
/// Never two at once for one schedule, on any node: <see cref="DisallowConcurrentExecutionAttribute"/> blocks the
/// schedule's trigger while its run goes on (in the job store, so across a cluster too); a firing that came due
/// meanwhile starts when the run ends, or — later than the misfire threshold — follows the schedule's misfire policy.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class ScheduledRunJob(SchedulerLog log) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var schedule = ScheduleEntry.Read(context.JobDetail);
        var name = context.JobDetail.Key.Name;
        ExperimentDefinition definition;
        try
        {
            definition = Platform.Reader.ReadFile(schedule.Definition);
        }
        catch (ExperimentsException e)
        {
            // A definition that no longer validates fails this firing with the reason in the history; the schedule stays.
            var message = $"the definition no longer validates: {e.Message}";
            log.Line($"{name}: {message}");
            context.Result = JobRunReport.Failed(message);
            return;
        }
        var named = schedule.Store ?? definition.Output.Store;
        var store = RunStores.Resolve(named, schedule.WorkingDirectory);
        var reports = Path.GetFullPath(schedule.Reports ?? definition.Output.Reports, schedule.WorkingDirectory);
        var shown = PostgresConnection.Hide(store);
        log.Line($"{name}: firing for {context.ScheduledFireTimeUtc:u} — running {definition.Name} into {shown}");
        RunOutcome outcome;
        try
        {
            using var runs = RunStores.Open(store);
            var options = new RunOptions
            {
                Source = schedule.Definition,
                ReportDirectory = reports,
                DataDirectory = schedule.DataDirectory,
                Observer = new Observer(log, name, context),
            };
            outcome = await Task.Run(() => new ExperimentRunner(runs).Run(definition, options, cancellationToken), CancellationToken.None);
        }
        catch (ExperimentsException e)
        {
            var message = $"the run could not start: {e.Message}";
            log.Line($"{name}: {message}");
            context.Result = JobRunReport.Failed(message);
            return;
        }
        var summary = $"run {outcome.RunId} {outcome.Status.ToString().ToLowerInvariant()}" +
                      (outcome.Error is { } error ? $": {error}" : "") +
                      (outcome.Regression is { } check ? $"; {check.Summary}" : "") +
                      (outcome.ReportError is { } reportError ? $"; {reportError}" : "");
        log.Line($"{name}: {summary}");
        var succeeded = outcome.Status == RunStatus.Finished && !outcome.Regressed && outcome.ReportError is null;
        context.Result = (succeeded ? JobRunReport.Succeeded(summary) : JobRunReport.Failed(summary))
            .With("run", outcome.RunId).With("status", outcome.Status.ToString().ToLowerInvariant()).With("regressed", outcome.Regressed).With("store", shown);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Stages go to the scheduler's log; progress goes to Quartz (the dashboard's "currently executing").</summary>
    private sealed class Observer(SchedulerLog log, string schedule, IJobExecutionContext context) : IRunObserver
    {
        public void RunStarted(long runId) => log.Line($"{schedule}: run {runId} started");
        public void Stage(string message) => context.ReportProgress(0, message);
        public void Progress(string step, double fraction) => context.ReportProgress((int)Math.Round(100 * fraction), step);
        public void TrialFinished(TrialResult result)
        {
            if (result.Status == "failed") log.Line($"{schedule}: model {result.Model} ({result.Split}) failed: {result.Error}");
        }
        public void Warning(string message) => log.Line($"{schedule}: warning: {message}");
    }
}

/// <summary>Where the scheduler writes one line per event (standard output for `experiments scheduler`).</summary>
public sealed class SchedulerLog(Action<string> write)
{
    public void Line(string message) => write($"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}Z {message}");
}
