using System.Text.Json;
using Experiments.Evaluation.Classification;
using Experiments.Evaluation.Ranking;

namespace Experiments.Tests.Cli;

/// <summary>`experiments evaluate` on prediction files, checked against values computed directly.</summary>
[TestClass]
public sealed class EvaluateCommandTests
{
    private static JsonElement Metrics(TempFolder work, params string[] args)
    {
        var result = CliProcess.Run(work.Path, ["evaluate", .. args, "--json", "--bootstrap", "100"]);
        Assert.AreEqual(0, result.ExitCode, result.Error);
        return JsonDocument.Parse(result.Output).RootElement;
    }

    private static double Value(JsonElement result, string label) =>
        result.GetProperty("values").EnumerateArray().Single(v => v.GetProperty("label").GetString() == label).GetProperty("value").GetDouble();

    [TestMethod]
    public void Ranking_predictions_from_another_tool()
    {
        using var work = new TempFolder();
        work.File("truth.csv", "user,item,relevance\nu1,a,1\nu1,c,1\nu2,b,2\nu3,z,1\n");
        work.File("predictions.csv", "user,item,score\nu1,a,0.9\nu1,b,0.8\nu1,c,0.1\nu2,a,0.5\nu2,b,0.7\nu2,c,0.6\n");
        var result = Metrics(work, "--truth", "truth.csv", "--predictions", "predictions.csv", "--metrics", "ndcg@2,recall@2", "hit-rate@1");
        // u1: a, b → 1 hit of 2 relevant; u2: b first → perfect; u3 has no predictions → 0.
        var u1 = (1.0) / (1 + 1 / Math.Log2(3));
        Assert.AreEqual((u1 + 1 + 0) / 3, Value(result, "ndcg@2"), 1e-12);
        Assert.AreEqual((0.5 + 1 + 0) / 3, Value(result, "recall@2"), 1e-12);
        Assert.AreEqual(2 / 3.0, Value(result, "hit-rate@1"), 1e-12);
        StringAssert.Contains(result.GetProperty("protocol").GetString(), "1 of them without predictions");

        var graded = Metrics(work, "--truth", "truth.csv", "--predictions", "predictions.csv", "--metrics", "ndcg@3", "--graded");
        var grades = new Dictionary<int, double> { [0] = 1, [2] = 1 };
        var expected = (RankingMetrics.GradedNdcg([0, 1, 2], grades, 3) + 1 + 0) / 3;
        Assert.AreEqual(expected, Value(graded, "ndcg@3"), 1e-12);
    }

    [TestMethod]
    public void Binary_classification_predictions_with_a_threshold_from_validation()
    {
        using var work = new TempFolder();
        var random = new Random(1);
        var labels = Enumerable.Range(0, 200).Select(_ => random.NextDouble() < 0.3).ToArray();
        var scores = labels.Select(l => Math.Round(Math.Clamp((l ? 0.6 : 0.4) + (random.NextDouble() - 0.5) * 0.6, 0.01, 0.99), 3)).ToArray();
        work.File("truth.csv", "id,label\n" + string.Concat(labels.Select((l, i) => $"r{i},{(l ? 1 : 0)}\n")));
        work.File("scores.csv", "id,score\n" + string.Concat(scores.Select((s, i) => $"r{i},{s.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n")));
        var result = Metrics(work, "--truth", "truth.csv", "--predictions", "scores.csv", "--metrics", "auc,pr-auc,log-loss,f1",
            "--threshold-rule", "max-f1", "--validation-truth", "truth.csv", "--validation-predictions", "scores.csv");
        Assert.AreEqual(BinaryMetrics.RocAuc(labels, scores), Value(result, "auc"), 1e-12);
        Assert.AreEqual(BinaryMetrics.AveragePrecision(labels, scores), Value(result, "pr-auc"), 1e-12);
        Assert.AreEqual(BinaryMetrics.LogLoss(labels, scores), Value(result, "log-loss"), 1e-12);
        var threshold = BinaryMetrics.MaxF1Threshold(labels, scores);
        Assert.AreEqual(threshold, result.GetProperty("threshold").GetDouble(), 1e-12);
        Assert.AreEqual(BinaryMetrics.Confusion(labels, scores, threshold).F1, Value(result, "f1"), 1e-12);
    }

    [TestMethod]
    public void Multiclass_probabilities_and_rating_predictions()
    {
        using var work = new TempFolder();
        work.File("truth.csv", "id,label\n1,cat\n2,dog\n3,dog\n4,fox\n");
        work.File("probs.csv", "id,cat,dog,fox\n1,0.7,0.2,0.1\n2,0.1,0.6,0.3\n3,0.5,0.4,0.1\n4,0.2,0.2,0.6\n");
        var multi = Metrics(work, "--truth", "truth.csv", "--predictions", "probs.csv", "--metrics", "accuracy,macro-f1,log-loss");
        Assert.AreEqual(0.75, Value(multi, "accuracy"), 1e-12);
        // Per class F1: cat 2/3 (1 TP, 1 FP), dog 2/3 (1 TP, 1 FN), fox 1.
        Assert.AreEqual((2 / 3.0 + 2 / 3.0 + 1) / 3, Value(multi, "macro-f1"), 1e-12);
        Assert.AreEqual(-(Math.Log(0.7) + Math.Log(0.6) + Math.Log(0.4) + Math.Log(0.6)) / 4, Value(multi, "log-loss"), 1e-12);

        work.File("ratings.csv", "user,item,rating\nu,a,4\nu,b,2\nv,a,5\n");
        work.File("predicted.csv", "user,item,score\nu,a,3.5\nu,b,2.5\nv,a,4\n");
        var rating = Metrics(work, "--truth", "ratings.csv", "--predictions", "predicted.csv", "--metrics", "rmse,mae");
        Assert.AreEqual(Math.Sqrt((0.25 + 0.25 + 1) / 3), Value(rating, "rmse"), 1e-12);
        Assert.AreEqual((0.5 + 0.5 + 1) / 3, Value(rating, "mae"), 1e-12);
    }

    [TestMethod]
    public void Bad_prediction_files_name_the_file_line_and_problem()
    {
        using var work = new TempFolder();
        work.File("truth.csv", "id,label\n1,1\n2,0\n3,2\n");
        work.File("scores.csv", "id,score\n1,0.9\n2,high\n");
        var notNumber = CliProcess.Run(work.Path, "evaluate", "--truth", "truth.csv", "--predictions", "scores.csv", "--metrics", "auc");
        Assert.AreEqual(2, notNumber.ExitCode);
        StringAssert.Contains(notNumber.Error, "scores.csv, line 3, field 'score': not a number: 'high'");
        work.File("scores.csv", "id,score\n1,0.9\n2,0.1\n3,0.5\n");
        var badLabel = CliProcess.Run(work.Path, "evaluate", "--truth", "truth.csv", "--predictions", "scores.csv", "--metrics", "auc");
        StringAssert.Contains(badLabel.Error, "truth.csv, line 4, field 'label': not an allowed value: '2' (allowed: 0, 1)");
        var mixed = CliProcess.Run(work.Path, "evaluate", "--truth", "truth.csv", "--predictions", "scores.csv", "--metrics", "auc,ndcg@10");
        StringAssert.Contains(mixed.Error, "--metrics mixes tasks");
        var unknown = CliProcess.Run(work.Path, "evaluate", "--truth", "truth.csv", "--predictions", "scores.csv", "--metrics", "acuracy");
        StringAssert.Contains(unknown.Error, "did you mean 'accuracy'?");
    }

    [TestMethod]
    public void Paired_comparison_of_two_runs_and_of_models_within_a_run()
    {
        using var work = new TempFolder();
        work.File("a.json", """
            { "name": "p", "task": "ranking", "dataset": { "name": "demo-shop", "options": { "users": 400, "items": 200 } },
              "models": [ { "type": "most-popular" }, { "type": "item-knn" }, { "type": "random" } ], "metrics": ["ndcg@10", "diversity@10", "coverage@10"],
              "evaluation": { "bootstrapSamples": 200 }, "output": { "store": "runs.db", "formats": ["markdown"] } }
            """);
        Assert.AreEqual(0, CliProcess.Run(work.Path, "run", "a.json", "--quiet").ExitCode);
        Assert.AreEqual(0, CliProcess.Run(work.Path, "run", "a.json", "--quiet").ExitCode);
        var show = CliProcess.Run(work.Path, "show", "1", "--store", "runs.db", "--json");
        var comparisons = JsonDocument.Parse(show.Output).RootElement.GetProperty("comparisons");
        var ndcg = comparisons.EnumerateArray().Single(c => c.GetProperty("metric").GetString() == "ndcg@10" && c.GetProperty("model").GetString() == "item-knn");
        Assert.AreEqual("most-popular", ndcg.GetProperty("baseline").GetString());
        Assert.AreEqual("item-knn", ndcg.GetProperty("model").GetString());
        Assert.IsTrue(ndcg.GetProperty("difference").GetDouble() > 0 && ndcg.GetProperty("pValue").GetDouble() < 0.05);
        Assert.IsFalse(comparisons.EnumerateArray().Any(c => c.GetProperty("metric").GetString() == "coverage@10"), "coverage has no per-user values");
        StringAssert.Contains(File.ReadAllText(Path.Combine(CliProcess.ReportFolder(Path.Combine(work.Path, "reports"), 1), "report.md")), "## Paired tests against most-popular");

        var compare = CliProcess.Run(work.Path, "compare", "1", "2", "--store", "runs.db", "--json");
        Assert.AreEqual(0, compare.ExitCode, compare.Error);
        var paired = JsonDocument.Parse(compare.Output).RootElement.GetProperty("paired");
        Assert.AreEqual(6, paired.GetArrayLength(), "3 models × 2 per-user metrics");
        foreach (var c in paired.EnumerateArray())
        {
            Assert.AreEqual(0.0, c.GetProperty("difference").GetDouble(), "same definition and seed: identical per-user values");
            Assert.AreEqual(1.0, c.GetProperty("pValue").GetDouble());
        }
    }
}
