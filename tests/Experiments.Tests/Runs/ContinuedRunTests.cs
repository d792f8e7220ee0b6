using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Runs;
using Experiments.Store;

namespace Experiments.Tests.Runs;

/// <summary>
/// A run carried out by another process than the one that recorded it (<see cref="ExperimentRunner.Continue"/>: a
/// cluster's worker, or the next one after it died): one run, whatever happened to the attempts before.
/// </summary>
[TestClass]
public sealed class ContinuedRunTests
{
    private static ExperimentDefinition Definition() =>
        ExperimentBuilder.Create("continued").ForTask("ranking")
            .OnDataset("demo-shop", d => d with { Options = new Dictionary<string, double> { ["users"] = 200, ["items"] = 150, ["seed"] = 5 } })
            .Split("stratified", 0.2)
            .AddModel("most-popular")
            .WithMetrics("ndcg@10")
            .WithEvaluation(e => e with { BootstrapSamples = 0 })
            .WithRegressionRule("ndcg@10", r => r with { Rule = RegressionRule.NotWorse })
            .Build(Platform.Vocabulary);

    [TestMethod]
    public void A_run_an_earlier_attempt_finished_is_returned_as_stored_and_not_checked_twice()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var options = new RunOptions { ReportDirectory = folder.Path };
        // The first worker finished the run, but died before the coordinator heard: the next one is given it again.
        var first = new ExperimentRunner(store).Run(Definition(), options);
        Assert.AreEqual(RunStatus.Finished, first.Status, first.Error);

        var again = new ExperimentRunner(store).Continue(first.RunId, Definition(), options);

        Assert.AreEqual(RunStatus.Finished, again.Status, again.Error);
        CollectionAssert.AreEqual(first.Trials.Select(t => t.TrialId).ToList(), again.Trials.Select(t => t.TrialId).ToList(), "no trial is run again");
        var stored = store.GetRun(first.RunId);
        Assert.AreEqual((RunStatus.Finished, 1), (stored.Run.Status, stored.Trials.Count));
        Assert.AreEqual(first.Regression!.Summary, stored.Regression!.Summary, "the regression check is the first attempt's, recorded once");
    }

    [TestMethod]
    public void A_continued_run_stopped_here_leaves_the_runs_end_to_whoever_holds_it()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var options = new RunOptions { ReportDirectory = folder.Path };
        var runId = new ExperimentRunner(store).Prepare(Definition(), options);
        using var stopped = new CancellationTokenSource();
        stopped.Cancel();

        // This worker lost its lease (or the submitter stopped): the run is not marked cancelled "by the user" here.
        Assert.ThrowsExactly<OperationCanceledException>(() => new ExperimentRunner(store).Continue(runId, Definition(), options, stopped.Token));

        var run = store.GetRun(runId).Run;
        Assert.AreEqual((RunStatus.Running, null), (run.Status, run.Error));
        // The next attempt carries it out.
        var outcome = new ExperimentRunner(store).Continue(runId, Definition(), options);
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
    }

    [TestMethod]
    public void A_continued_run_refuses_data_other_than_what_its_earlier_attempt_read()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var options = new RunOptions { ReportDirectory = folder.Path };
        var runId = new ExperimentRunner(store).Prepare(Definition(), options);
        // The earlier attempt, on another worker, read a different copy of the data.
        store.RecordDataset(runId, "0123456789abcdef0123456789abcdef", "another worker's copy", synthetic: true);

        var e = Assert.ThrowsExactly<ExperimentsException>(() => new ExperimentRunner(store).Continue(runId, Definition(), options));

        StringAssert.Contains(e.Message, "is not what it was (fingerprint 0123456789ab…");
        StringAssert.Contains(e.Message, "an earlier attempt at this run read other data");
        var stored = store.GetRun(runId);
        Assert.AreEqual(RunStatus.Failed, stored.Run.Status);
        Assert.AreEqual("0123456789abcdef0123456789abcdef", stored.Run.DataFingerprint, "the fingerprint its finished trials were scored on is kept");
        Assert.IsEmpty(stored.Trials);
    }
}
