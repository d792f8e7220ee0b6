using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Runs;
using Experiments.Store;

namespace Experiments.Tests.Hybrid;

/// <summary>Task "hybrid" end to end on a small demo shop, from C# (the builder), and its definitions' checks.</summary>
[TestClass]
[DoNotParallelize]
public sealed class HybridRunTests
{
    private static readonly Dictionary<string, double> SmallShop = new() { ["users"] = 300, ["items"] = 150, ["seed"] = 3 };

    private static ExperimentBuilder Small(string split = "temporal") => ExperimentBuilder.Create("hybrid-small")
        .ForTask("hybrid")
        .OnDataset("demo-shop", d => d with { Table = "events", Options = SmallShop })
        .Split(split, testFraction: 0.2)
        .WithHybrid(h => h with { Impressions = "impressions", FoldIn = 2 })
        .AddModel("ease", p => p["lambda"] = 50.0)
        .AddModel("text-knn")
        .AddModel("two-stage", p => { p["retrievers"] = "ease"; p["reranker"] = "fusion"; p["depth"] = 20L; }, name: "ease-alone")
        .AddModel("two-stage", p => { p["retrievers"] = "ease,text-knn"; p["depth"] = 20L; p["trees"] = 20L; p["minLeaf"] = 5L; }, name: "hybrid")
        .WithMetrics("ndcg@10", "recall@10")
        .WithEvaluation(e => e with { BootstrapSamples = 100 });

    private static (RunOutcome Outcome, RunDetails Details, string Report) Run(ExperimentBuilder builder)
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var outcome = new ExperimentRunner(store).Run(builder.Build(Platform.Vocabulary), new RunOptions { ReportDirectory = folder.Path });
        return (outcome, store.GetRun(outcome.RunId), outcome.Reports.Count > 0 ? File.ReadAllText(outcome.Reports[0]) : "");
    }

    private static double Metric(RunDetails details, string model, string label) =>
        details.Trials.Single(t => t.ModelName == model).Metrics.Single(m => m.Label == label).Value;

    [TestMethod]
    public void Two_stage_models_run_beside_their_retrievers_with_stage_metrics_and_paired_tests()
    {
        var (outcome, details, report) = Run(Small());
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        // One retriever fused alone keeps its own order: the same list as EASE as a single stage, so the same metrics.
        Assert.AreEqual(Metric(details, "ease", "ndcg@10"), Metric(details, "ease-alone", "ndcg@10"), 1e-12);
        Assert.AreEqual(Metric(details, "ease", "recall@10"), Metric(details, "ease-alone", "recall@10"), 1e-12);
        // The merge holds every retriever's list, so its candidate recall is at least each retriever's.
        var merged = Metric(details, "hybrid", "candidate-recall.merged@20");
        Assert.IsGreaterThanOrEqualTo(Metric(details, "hybrid", "candidate-recall.ease@20"), merged);
        Assert.IsGreaterThanOrEqualTo(Metric(details, "hybrid", "candidate-recall.text-knn@20"), merged);
        var auc = Metric(details, "hybrid", "reranker-auc");
        Assert.IsTrue(auc is > 0 and <= 1, $"AUC {auc}");
        // Every model is paired-tested against the first (ease) on the same test users.
        var compared = details.Comparisons.Where(c => c.Metric == "ndcg@10").Select(c => c.Model).ToArray();
        CollectionAssert.AreEquivalent(new[] { "text-knn", "ease-alone", "hybrid" }, compared);
        StringAssert.Contains(report, "candidate-recall.merged@20");
    }

    [TestMethod]
    public void Cold_start_users_are_scored_from_their_first_interactions_and_those_are_not_tested()
    {
        var (outcome, details, _) = Run(Small("cold-start-users"));
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        var ease = details.Trials.Single(t => t.ModelName == "ease");
        StringAssert.Contains(ease.Protocol!, "cold-start users: their first 2 interactions");
        Assert.IsGreaterThan(0.0, Metric(details, "ease", "recall@10"), "EASE scores new users through their fold-in history");
    }

    [TestMethod]
    public void Cold_start_items_rank_only_unseen_items_and_text_beats_popularity_there()
    {
        var (outcome, details, _) = Run(Small("cold-start-items").AddModel("most-popular"));
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        StringAssert.Contains(details.Trials.Single(t => t.ModelName == "text-knn").Protocol!, "only the");
        // Popularity has no training rows to count for unseen items: every one scores 0.
        Assert.IsGreaterThan(Metric(details, "most-popular", "ndcg@10"), Metric(details, "text-knn", "ndcg@10"));
    }

    [TestMethod]
    public void A_retriever_must_be_another_single_stage_model_of_the_definition()
    {
        var builder = Small().AddModel("two-stage", p => p["retrievers"] = "ease,als,hybrid", name: "broken");
        var error = Assert.ThrowsExactly<DefinitionException>(() => builder.Build(Platform.Vocabulary));
        StringAssert.Contains(error.Message, "retriever 'als'");
        StringAssert.Contains(error.Message, "'hybrid' is a two-stage model");
    }

    [TestMethod]
    public void The_hybrid_block_belongs_to_task_hybrid()
    {
        var builder = ExperimentBuilder.Create("ranking").ForTask("ranking").OnDataset("demo-shop").AddModel("ease").WithMetrics("ndcg@10")
            .WithHybrid(h => h with { FoldIn = 3 });
        var error = Assert.ThrowsExactly<DefinitionException>(() => builder.Build(Platform.Vocabulary));
        StringAssert.Contains(error.Message, "\"hybrid\" belongs to task 'hybrid', not 'ranking'");
    }
}
