using System.Text.Json;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.DemoShop;
using Experiments.Runs;
using Experiments.Store;

namespace Experiments.Tests.Search;

/// <summary>Search experiments run end to end on a small demo shop, from C# (the builder) as a notebook would.</summary>
[TestClass]
[DoNotParallelize]
public sealed class SearchRunTests
{
    private static readonly Dictionary<string, double> SmallShop = new() { ["users"] = 100, ["items"] = 300, ["searchQueries"] = 150, ["seed"] = 4 };

    private static ExperimentBuilder Small(string split = "random") => ExperimentBuilder.Create("search-small")
        .ForTask("search")
        .OnDataset("demo-shop", d => d with { Options = SmallShop })
        .Split(split, testFraction: 0.3, folds: 3)
        .WithSearch(s => s with { Judgements = "search-judgements", RelevanceThreshold = 2 })
        .AddModel("bm25", p => p["titleBoost"] = 2.0)
        .AddModel("reranker", p => { p["dense"] = false; p["trees"] = 50L; p["minLeaf"] = 5L; })
        .AddModel("intent-tfidf")
        .WithMetrics("ndcg@10", "mrr@10", "recall@10", "precision@10", "accuracy", "macro-f1")
        .WithEvaluation(e => e with { BootstrapSamples = 100 });

    [TestMethod]
    public void Retrievers_re_ranker_and_intent_run_side_by_side_with_paired_tests_over_queries()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var outcome = new ExperimentRunner(store).Run(Small().Build(Platform.Vocabulary), new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        var details = store.GetRun(outcome.RunId);
        var bm25 = details.Trials.Single(t => t.ModelName == "bm25");
        var intent = details.Trials.Single(t => t.ModelName == "intent-tfidf");
        CollectionAssert.AreEquivalent(new[] { "ndcg@10", "mrr@10", "recall@10", "precision@10" }, bm25.Metrics.Select(m => m.Label).ToArray());
        CollectionAssert.AreEquivalent(new[] { "accuracy", "macro-f1" }, intent.Metrics.Select(m => m.Label).ToArray());
        Assert.IsTrue(details.Trials.SelectMany(t => t.Metrics).All(m => m.Lower <= m.Value && m.Value <= m.Upper));
        // 30% of 150 queries are tested, and every per-query value is keyed by the query's id.
        var units = store.GetUserValues(bm25.Id)!;
        Assert.HasCount(45, units.Users);
        Assert.IsTrue(units.Users.All(u => u.StartsWith('S')));
        // The re-ranker is compared with BM25 (the baseline) on the same queries, metric by metric.
        var comparisons = details.Comparisons.Where(c => c.Model == "reranker").ToList();
        CollectionAssert.AreEquivalent(new[] { "ndcg@10", "mrr@10", "recall@10", "precision@10" }, comparisons.Select(c => c.Metric).ToArray());
        Assert.IsTrue(comparisons.All(c => c.Baseline == "bm25" && c.Users == 45));
        // The per-query value of ndcg@10 in the trial's details file averages to the reported value.
        var file = details.Artifacts.Single(a => a.Kind == "search-details" && a.TrialId == bm25.Id).Path;
        var queries = JsonDocument.Parse(File.ReadAllText(file)).RootElement.GetProperty("queries").EnumerateArray().ToList();
        Assert.AreEqual(bm25.Metrics.Single(m => m.Label == "ndcg@10").Value, queries.Average(q => q.GetProperty("values").GetProperty("ndcg@10").GetDouble()), 1e-12);
        var report = File.ReadAllText(outcome.Reports.Single(p => p.EndsWith(".md", StringComparison.Ordinal)));
        StringAssert.Contains(report, "| reranker | reranker | random |");
        StringAssert.Contains(report, "## Paired tests against bm25");
    }

    [TestMethod]
    public void K_fold_tests_every_query_exactly_once()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = ExperimentBuilder.Create("folds").ForTask("search").OnDataset("demo-shop", d => d with { Options = SmallShop }).Split("k-fold", folds: 3)
            .AddModel("bm25").WithMetrics("ndcg@5").WithEvaluation(e => e with { BootstrapSamples = 0 }).Build(Platform.Vocabulary);
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = folder.Path });
        Assert.HasCount(3, outcome.Trials);
        var tested = outcome.Trials.SelectMany(t => store.GetUserValues(t.TrialId)!.Users).ToList();
        var shop = (DemoShopDataset)new DatasetLoader().Open(new DatasetRequest("demo-shop") { Options = SmallShop });
        var judged = shop.Table("search-judgements")["query_id"].Strings!.Distinct().Count();
        Assert.AreEqual(judged, tested.Count);
        Assert.AreEqual(tested.Count, tested.Distinct().Count(), "a query tested in two folds would also have trained in one");
    }

    [TestMethod]
    public void Judgements_derived_from_clicks_drive_the_same_models()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = ExperimentBuilder.Create("clicks").ForTask("search").OnDataset("demo-shop", d => d with { Options = SmallShop }).Split("random", 0.3)
            .WithSearch(s => s with { Judgements = "search-log" }).AddModel("bm25").WithMetrics("ndcg@10").WithEvaluation(e => e with { BootstrapSamples = 0 }).Build(Platform.Vocabulary);
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        StringAssert.Contains(outcome.Trials[0].Protocol, "position-based click model");
        Assert.IsGreaterThan(0.0, outcome.Trials[0].Metrics[0].Value);
    }
}
