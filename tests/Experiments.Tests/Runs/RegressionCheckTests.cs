using Experiments.Core.Definitions;
using Experiments.Runs;
using Experiments.Store;

namespace Experiments.Tests.Runs;

/// <summary>
/// A definition's regression rule: each run is checked against an earlier run of its experiment in the same store,
/// model by model, by the paired test or by the metric's values; the verdict is stored and the CLI exits with 4.
/// </summary>
[TestClass]
public sealed class RegressionCheckTests
{
    private static readonly Dictionary<string, double> SmallShop = new() { ["users"] = 300, ["items"] = 200, ["seed"] = 3 };

    /// <summary>One model named "recommender", of <paramref name="type"/>: swapping its type makes a run better or worse under the same name.</summary>
    private static ExperimentDefinition Definition(string type, Func<RegressionRule, RegressionRule>? rule = null) =>
        ExperimentBuilder.Create("nightly").ForTask("ranking")
            .OnDataset("demo-shop", d => d with { Options = SmallShop })
            .Split("stratified", 0.2)
            .AddModel(type, type == "item-knn" ? (Dictionary<string, object> p) => p["neighbours"] = 30 : null, name: "recommender")
            .WithMetrics("ndcg@10", "recall@5")
            .WithEvaluation(e => e with { BootstrapSamples = 99 })
            .WithRegressionRule("ndcg@10", rule)
            .Build(Platform.Vocabulary);

    private static RunOutcome Run(SqliteRunStore store, string folder, ExperimentDefinition definition)
    {
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = folder });
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        return outcome;
    }

    private static double Ndcg(SqliteRunStore store, long runId) =>
        store.GetRun(runId).Trials.Single().Metrics.Single(m => m.Name == "ndcg" && m.K == 10).Value;

    [TestMethod]
    public void A_worse_model_under_the_same_name_is_flagged_by_the_paired_test_and_stored()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var first = Run(store, folder.Path, Definition("item-knn"));
        Assert.IsNull(first.Regression!.Regressed, "the first run has nothing to be compared with");
        StringAssert.Contains(first.Regression.Summary, "no earlier finished run");

        var worse = Run(store, folder.Path, Definition("random"));
        var check = worse.Regression!;
        Assert.IsTrue(worse.Regressed, check.Summary);
        Assert.AreEqual(first.RunId, check.AgainstRunId);
        var test = check.Tests.Single();
        // Both runs evaluate the same test users, so the paired difference is the difference of the stored means.
        Assert.AreEqual(Ndcg(store, worse.RunId) - Ndcg(store, first.RunId), test.Difference, 1e-9);
        Assert.IsLessThan(-0.05, test.Difference, "random is far worse than item-knn on NDCG@10");
        Assert.AreEqual((99, "permutation"), (test.Resamples, test.Test));
        Assert.IsLessThan(0.05, test.HolmPValue!.Value);

        var stored = store.GetRun(worse.RunId);
        Assert.AreEqual(true, stored.Run.Regressed);
        Assert.AreEqual(check.Summary, stored.Regression!.Summary);
        Assert.AreEqual(test, stored.Regression.Tests.Single());
    }

    [TestMethod]
    public void The_same_run_again_is_not_regressed_and_last_good_skips_a_regressed_run()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        RegressionRule LastGood(RegressionRule r) => r with { Against = RegressionRule.LastGood };
        var good = Run(store, folder.Path, Definition("item-knn", LastGood));
        var bad = Run(store, folder.Path, Definition("random", LastGood));
        Assert.IsTrue(bad.Regressed);
        var again = Run(store, folder.Path, Definition("item-knn", LastGood));
        Assert.AreEqual(good.RunId, again.Regression!.AgainstRunId, "the regressed run in between is skipped");
        Assert.AreEqual(false, again.Regression.Regressed, again.Regression.Summary);
        // Same seed, same data, same model: every user's value is the same, so the difference is 0 and no permutation changes it (p = 1).
        Assert.AreEqual(0, again.Regression.Tests.Single().Difference, 1e-12);
        Assert.AreEqual(1, again.Regression.Tests.Single().PValue!.Value, 1e-12);

        var previous = Run(store, folder.Path, Definition("item-knn"));
        Assert.AreEqual(again.RunId, previous.Regression!.AgainstRunId, "'previous' takes the latest finished run");
    }

    [TestMethod]
    public void Rule_not_worse_compares_values_with_the_tolerance()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var good = Run(store, folder.Path, Definition("item-knn"));
        var bad = Run(store, folder.Path, Definition("random", r => r with { Rule = RegressionRule.NotWorse, Tolerance = 0.001 }));
        var drop = Ndcg(store, good.RunId) - Ndcg(store, bad.RunId);
        Assert.IsGreaterThan(0.001, drop);
        Assert.IsTrue(bad.Regressed, bad.Regression!.Summary);
        Assert.AreEqual(-drop, bad.Regression.Tests.Single().Difference, 1e-12);
        Assert.IsNull(bad.Regression.Tests.Single().PValue, "no test behind a comparison of values");

        // A tolerance above the drop lets the same change pass (compared with the last run, the bad one: improve by a wide margin).
        var lenient = Run(store, folder.Path, Definition("random", r => r with { Rule = RegressionRule.NotWorse, Tolerance = drop + 0.01, Against = RegressionRule.Previous }));
        Assert.AreEqual(false, lenient.Regression!.Regressed, lenient.Regression.Summary);
    }

    [TestMethod]
    public void Bad_rules_are_refused_with_their_field()
    {
        DefinitionError Error(string regression)
        {
            var json = $$"""
                {"name": "n", "task": "ranking", "dataset": {"name": "demo-shop"}, "split": {"method": "random"},
                 "models": [{"type": "random"}], "metrics": ["ndcg@10"], "evaluation": {"bootstrapSamples": 50},
                 "regression": {{regression}} }
                """;
            var e = Assert.ThrowsExactly<DefinitionException>(() => Platform.Reader.Read(json, "bad.json"));
            return e.Errors.Single();
        }
        var unknown = Error("""{"metric": "recall@10"}""");
        Assert.AreEqual("$.regression.metric", unknown.Path);
        StringAssert.Contains(unknown.Message, "which this definition does not compute");
        StringAssert.Contains(unknown.Message, "ndcg@10");
        Assert.AreEqual("$.regression.tolerance", Error("""{"metric": "ndcg@10", "tolerance": 0.01}""").Path);
        var floor = Error("""{"metric": "ndcg@10", "alpha": 0.01}""");
        Assert.AreEqual("$.regression.alpha", floor.Path);
        StringAssert.Contains(floor.Message, "1 / 51");
        Assert.AreEqual("$.regression.model", Error("""{"metric": "ndcg@10", "model": "als"}""").Path);
        StringAssert.Contains(Error("""{"metric": "ndcg@10", "against": "first"}""").Message, "last-good");
    }

    [TestMethod]
    public void The_cli_exits_with_4_on_a_regressed_run()
    {
        using var folder = new TempFolder();
        string Write(string name, string type) => folder.File(name, $$"""
            {"name": "nightly", "task": "ranking", "dataset": {"name": "demo-shop", "options": {"users": 300, "items": 200, "seed": 3} },
             "split": {"method": "stratified", "testFraction": 0.2},
             "models": [{"name": "recommender", "type": "{{type}}"}], "metrics": ["ndcg@10"], "evaluation": {"bootstrapSamples": 99},
             "regression": {"metric": "ndcg@10"}, "output": {"store": "runs.db", "reports": "reports"} } 
            """);
        var good = CliProcess.Run(folder.Path, "run", Write("good.json", "most-popular"), "--quiet");
        Assert.AreEqual(0, good.ExitCode, good.Error);
        var bad = CliProcess.Run(folder.Path, "run", Write("bad.json", "random"), "--quiet");
        Assert.AreEqual(4, bad.ExitCode, bad.Output + bad.Error);
        StringAssert.Contains(bad.Error, "regressed against run 1");
    }
}
