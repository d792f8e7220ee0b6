using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Core.Models;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Recommenders;
using Experiments.Runs;
using Experiments.Store;
using Experiments.Sweeps;

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

    private static string SweepDefinition(string space) => $$"""
        {
          "name": "hybrid-sweep",
          "task": "hybrid",
          "dataset": { "name": "demo-shop", "table": "events", "options": { "users": 300, "items": 150, "seed": 3 } },
          "split": { "method": "temporal", "testFraction": 0.2, "validationFraction": 0.2 },
          "models": [
            { "name": "ease", "type": "ease", "parameters": { "lambda": 50 } },
            { "type": "text-knn" },
            { "name": "ease-alone", "type": "two-stage", "parameters": { "retrievers": "ease", "reranker": "fusion" } },
            { "name": "hybrid", "type": "two-stage", "parameters": { "retrievers": "ease,text-knn", "trees": 20, "minLeaf": 5 } }
          ],
          "metrics": ["ndcg@10", "recall@10"],
          "evaluation": { "bootstrapSamples": 20 },
          "sweep": { "tuner": "random", "trials": 5, "defaultSpaces": false, "space": {{space}} },
          "seed": 5
        }
        """;

    /// <summary>NDCG@10 of EASE (λ 50) fitted on <paramref name="train"/>, computed here: each test user's top 10 unseen items by score (ties in TopK's tie order), binary gains.</summary>
    private static double EaseNdcg(Interactions train, Interactions test)
    {
        var model = RecommenderCatalog.Create("ease", new Dictionary<string, object> { ["lambda"] = 50.0 }, 0).Fit(train);
        var seen = UserItemMatrix.ByUser(train);
        var scores = new float[train.Items.Count];
        var values = new List<double>();
        foreach (var user in Enumerable.Range(0, test.Count).GroupBy(r => test.User[r]))
        {
            var relevant = user.Select(r => test.Item[r]).ToHashSet();
            model.ScoreItems(user.Key, scores);
            var history = seen.RowIndices(user.Key).ToArray().ToHashSet();
            var top = Enumerable.Range(0, scores.Length).Where(i => !history.Contains(i)).OrderByDescending(i => scores[i]).ThenBy(TopK.TieOrder).Take(10).ToArray();
            var dcg = top.Select((item, rank) => relevant.Contains(item) ? 1 / Math.Log2(rank + 2) : 0).Sum();
            var ideal = Enumerable.Range(0, Math.Min(10, relevant.Count)).Sum(rank => 1 / Math.Log2(rank + 2));
            values.Add(dcg / ideal);
        }
        return values.Average();
    }

    [TestMethod]
    public void A_hybrid_sweep_tunes_its_two_stage_models_on_validation_with_fixed_retrievers_and_stores_its_trials()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Platform.Reader.Read(SweepDefinition("""
            { "ease-alone": { "depth": { "choice": [10, 20] } },
              "hybrid": { "depth": { "choice": [10, 30] }, "textFeatures": { "choice": [true, false] }, "leaves": { "int": [4, 16] } } }
            """), "sweep.json");
        var outcome = new ExperimentRunner(store).Sweep(definition, new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Refit?.Error);
        var trials = ((ISweepStorage)store).GetTrials(outcome.Sweep.SweepId);
        Assert.HasCount(5, trials);
        Assert.IsTrue(trials.All(t => t.Status == TrialStatus.Completed), string.Join("; ", trials.Select(t => t.Error)));
        // Only the two-stage models are chosen between; the retrievers are fixed stages, never a trial's model.
        var chosen = trials.Select(t => t.Parameters.Text(SweepSpaces.ModelChoice)).ToList();
        Assert.IsTrue(chosen.All(c => c is "ease-alone" or "hybrid"), string.Join(", ", chosen));
        Assert.IsTrue(chosen.Contains("ease-alone") && chosen.Contains("hybrid"), $"the seeded random tuner tries both: {string.Join(", ", chosen)}");

        // Independently: EASE fused alone keeps EASE's order, so its trials score EASE's NDCG@10 on the validation part.
        var dataset = new DatasetLoader().Open(DatasetRequest.From(definition.Dataset));
        var split = InteractionSplits.Split(dataset.Interactions("events"), definition.Split, definition.Seed, dataset.PredefinedSplit).Single();
        var expected = EaseNdcg(split.Train, split.Validation!);
        foreach (var trial in trials.Where(t => t.Parameters.Text(SweepSpaces.ModelChoice) == "ease-alone"))
            Assert.AreEqual(expected, trial.Metrics["ndcg@10"].Value, 1e-9, $"trial {trial.Number}");

        // The best configuration is refitted on training + validation and tested once: the run's one trial.
        var refit = store.GetRun(outcome.RunId).Trials.Single();
        Assert.AreEqual(outcome.Sweep.Best!.Parameters.Text(SweepSpaces.ModelChoice), refit.ModelName);
        Assert.IsTrue(refit.Metrics.Any(m => m.Label.StartsWith("candidate-recall.merged@", StringComparison.Ordinal)), "the refit records its stages");
    }

    [TestMethod]
    public void A_hybrid_sweep_space_for_a_retriever_is_refused()
    {
        var error = Assert.ThrowsExactly<DefinitionException>(() => Platform.Reader.Read(SweepDefinition("""{ "ease": { "lambda": { "float": [1, 100] } } }"""), "sweep.json"));
        StringAssert.Contains(error.Message, "'ease' is a retriever: a hybrid sweep tunes the two-stage models (ease-alone, hybrid)");
    }
}
