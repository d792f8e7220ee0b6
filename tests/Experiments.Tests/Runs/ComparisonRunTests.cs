using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation.Statistics;
using Experiments.Reports;
using Experiments.Runs;
using Experiments.Store;

namespace Experiments.Tests.Runs;

/// <summary>Every task's runs compare each model with the baseline by paired tests, stored with Holm's p; runs report what no model can reach.</summary>
[TestClass]
public sealed class ComparisonRunTests
{
    private static readonly Dictionary<string, double> SmallShop = new() { ["users"] = 300, ["items"] = 200, ["seed"] = 3 };

    private static ExperimentBuilder Ranking(string name = "ranking") => ExperimentBuilder.Create(name).ForTask("ranking")
        .OnDataset("demo-shop", d => d with { Options = SmallShop })
        .Split("stratified", 0.2)
        .AddModel("random").AddModel("item-knn", p => p["neighbours"] = 30)
        .WithMetrics("ndcg@10", "recall@5")
        .WithEvaluation(e => e with { BootstrapSamples = 50 });

    private static RunDetails Run(SqliteRunStore store, string folder, ExperimentDefinition definition)
    {
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = folder });
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        return store.GetRun(outcome.RunId);
    }

    [TestMethod]
    public void Rating_runs_compare_models_on_each_users_errors()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = ExperimentBuilder.Create("ratings").ForTask("rating")
            .OnDataset("demo-shop", d => d with { Table = "ratings", Options = new Dictionary<string, double> { ["users"] = 500, ["items"] = 200 } })
            .Split("random", 0.2).AddModel("global-mean").AddModel("bias").WithMetrics("rmse", "mae")
            .WithEvaluation(e => e with { BootstrapSamples = 60 }).Build(Platform.Vocabulary);
        var details = Run(store, folder.Path, definition);
        Assert.HasCount(2, details.Comparisons);
        foreach (var metric in new[] { "rmse", "mae" })
        {
            var c = details.Comparisons.Single(x => x.Metric == metric);
            double Value(int trial) => details.Trials[trial].Metrics.Single(m => m.Name == metric).Value;
            Assert.AreEqual(Value(1) - Value(0), c.Difference, 1e-12, "bias − global mean on the same users");
            Assert.AreEqual(("global-mean", "bias", 60, PairedComparison.Resampled), (c.Baseline, c.Model, c.Resamples, c.Test));
            Assert.IsNotNull(c.HolmPValue);
            Assert.IsTrue(c.HolmPValue >= c.PValue);
        }
        StringAssert.Contains(details.Trials[0].Protocol!, "split by distinct (user, item) pairs");
    }

    [TestMethod]
    public void Ranking_runs_split_pairs_and_row_splits_report_the_unreachable_share()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var pairs = Run(store, folder.Path, Ranking().Build(Platform.Vocabulary));
        Assert.IsTrue(pairs.Trials.All(t => t.Metrics.All(m => m.Name != Experiments.Evaluation.RecommenderEvaluator.Unreachable)), "nothing is unreachable when pairs are split");
        StringAssert.Contains(pairs.Trials[0].Protocol!, "every relevant test item is a candidate");
        StringAssert.Contains(pairs.Trials[0].Protocol!, "split by distinct (user, item) pairs");

        var rows = Run(store, folder.Path, Ranking().Split("stratified", 0.2, unit: SplitSpec.Rows).Build(Platform.Vocabulary));
        // Independently: the same row split, and the share of distinct test pairs that are also training pairs.
        var data = new DatasetLoader().Open(new DatasetRequest("demo-shop") { Options = SmallShop }).Interactions();
        var split = new StratifiedSplitter(0.2).Split(data, 42)[0];
        var trained = split.Train.Select(r => (data.User[r], data.Item[r])).ToHashSet();
        var relevant = split.Test.Select(r => (data.User[r], data.Item[r])).Distinct().ToList();
        var expected = relevant.Count(trained.Contains) / (double)relevant.Count;
        Assert.IsGreaterThan(0.2, expected);
        foreach (var trial in rows.Trials)
            Assert.AreEqual(expected, trial.Metrics.Single(m => m.Name == Experiments.Evaluation.RecommenderEvaluator.Unreachable).Value, 1e-12);
        StringAssert.Contains(rows.Trials[0].Protocol!, "UNREACHABLE");
        var table = ResultTable.From(rows);
        CollectionAssert.Contains(table.Metrics.ToList(), Experiments.Evaluation.RecommenderEvaluator.Unreachable, "shown as a column of the results");
    }

    [TestMethod]
    public void Compare_uses_the_definitions_settings_and_refuses_what_is_not_comparable()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = Ranking().WithEvaluation(e => e with { ConfidenceLevel = 0.9 }).WithSeed(5).Build(Platform.Vocabulary);
        var a = Run(store, folder.Path, definition);
        var b = Run(store, folder.Path, Ranking().WithEvaluation(e => e with { ConfidenceLevel = 0.9 }).WithSeed(5)
            .Build(Platform.Vocabulary) with { Models = [definition.Models[0], definition.Models[1] with { Parameters = new Dictionary<string, object> { ["neighbours"] = 10L } }] });
        var (comparisons, skipped) = RunComparison.Paired(store, a, b);
        Assert.IsEmpty(skipped);
        Assert.HasCount(4, comparisons, "2 models × 2 metrics");
        var knn = comparisons.Single(c => c.Metric == "ndcg@10" && c.Model.StartsWith("item-knn", StringComparison.Ordinal));
        var expected = PairedComparison.Compare([MetricName.Parse("ndcg@10")], store.GetUserValues(a.Trials[1].Id)!.Values, store.GetUserValues(b.Trials[1].Id)!.Values,
            new PairedSettings(50, 0.9, 5)).Single();
        Assert.AreEqual((expected.Difference, expected.Lower, expected.Upper, expected.PValue, 50), (knn.Difference, knn.Lower, knn.Upper, knn.PValue, knn.Resamples!.Value));
        Assert.AreEqual(0.0, comparisons.Single(c => c.Metric == "ndcg@10" && c.Model.StartsWith("random", StringComparison.Ordinal)).Difference, "the same random model twice");

        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => RunComparison.RequireComparable([a, a])).Message, $"Run {a.Run.Id} is named twice");
        var rating = Run(store, folder.Path, ExperimentBuilder.Create("ratings").ForTask("rating")
            .OnDataset("demo-shop", d => d with { Table = "ratings", Options = SmallShop })
            .Split("random", 0.2).AddModel("global-mean").WithMetrics("rmse").Build(Platform.Vocabulary));
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => RunComparison.RequireComparable([a, rating])).Message,
            $"Run {a.Run.Id} is a ranking run and run {rating.Run.Id} a rating run");
    }

    [TestMethod]
    public void Reports_print_p_at_the_resampling_floor_as_a_bound_and_holms_p_beside_it()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var details = Run(store, folder.Path, Ranking().Build(Platform.Vocabulary));
        var floor = details.Comparisons.First(c => c.Metric == "ndcg@10");
        Assert.AreEqual(PValues.Floor(50), floor.PValue, 1e-15, "item-kNN beats random in every sign flip");
        var markdown = ReportWriter.Markdown(details);
        StringAssert.Contains(markdown, "| p-value | Holm p | test |");
        StringAssert.Contains(markdown, "| < 0.02 (50 resamples) | ≤ 0.039 (50 resamples) | permutation |", "Holm: 2 × 1/51, a bound set by a p-value at its floor");
    }
}
