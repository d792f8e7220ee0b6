using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Experiments.Core.Definitions;
using Experiments.Runs;
using Experiments.Store;

namespace Experiments.Tests.Runs;

/// <summary>Full runs of each task on users' own files, written by the tests, with values worked out by hand.</summary>
[TestClass]
public sealed class OwnFilesRunTests
{
    private static RunOutcome Run(TempFolder folder, string json, out RunDetails details)
    {
        var path = folder.File("experiment.json", json);
        var definition = Platform.Reader.ReadFile(path);
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = Path.Combine(folder.Path, "reports") });
        details = store.GetRun(outcome.RunId);
        return outcome;
    }

    private static string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [TestMethod]
    public void Ranking_on_one_semicolon_separated_windows_1252_table()
    {
        using var folder = new TempFolder();
        // Leave-last-1 by time: each user's last row is the test row. Training popularity: Crème 4, Büch 3, Café€ 1, Dose 0.
        // Most-popular without the user's training items: u1 → Café€ (hit), u2 → Büch (hit), u3 → Café€ (test Dose: miss),
        // u4 → Café€ (hit): hit-rate@1 = 3/4.
        var rows = new[]
        {
            "u1;Crème;1", "u1;Büch;2", "u1;Café€;3",
            "u2;Crème;1", "u2;Café€;2", "u2;Büch;3",
            "u3;Crème;1", "u3;Büch;2", "u3;Dose;3",
            "u4;Büch;1", "u4;Crème;2", "u4;Café€;3",
        };
        var file = Path.Combine(folder.Path, "data", "events.csv");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, CodePagesEncodingProvider.Instance.GetEncoding(1252)!.GetBytes("visitor;product;time\n" + string.Join("\n", rows) + "\n"));
        var outcome = Run(folder, """
            {
              "name": "own-ranking", "task": "ranking",
              "dataset": { "files": { "table": "data/events.csv" }, "format": { "delimiter": ";", "encoding": "windows-1252" },
                           "columns": { "user": "visitor", "item": "product", "timestamp": "time" } },
              "split": { "method": "leave-last-n", "n": 1 },
              "models": [ { "type": "most-popular" } ],
              "metrics": ["hit-rate@1"],
              "evaluation": { "bootstrapSamples": 0 }
            }
            """, out var details);
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        Assert.AreEqual(0.75, outcome.Trials.Single().Metrics.Single().Value, 1e-12);
        Assert.AreEqual("events", details.Run.Dataset);
        Assert.AreEqual(file, details.Run.DatasetOrigin);
        Assert.AreEqual(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"events.csv:{Sha(file)}"))), details.Run.DataFingerprint);
        Assert.IsFalse(details.Run.DatasetSynthetic);
    }

    [TestMethod]
    public void Rating_on_headerless_tab_separated_latin1_train_validation_and_test_files()
    {
        using var folder = new TempFolder();
        var latin1 = Encoding.Latin1;
        void Write(string name, params string[] lines) => File.WriteAllBytes(Path.Combine(folder.Path, name), latin1.GetBytes(string.Join("\n", lines) + "\n"));
        Write("train.tsv", "José\tá\t1", "José\tb\t2", "Zoé\tá\t3", "Zoé\tb\t4", "Zoé\tc\t5");
        Write("validation.tsv", "José\tc\t4");
        Write("test.tsv", "José\tá\t5", "Zoé\tá\t1", "José\tb\t3", "Zoé\tc\t4");
        // Global mean of the training ratings: 3. Test errors 2, −2, 0, 1: RMSE = √((4 + 4 + 0 + 1) / 4) = 1.5.
        var outcome = Run(folder, """
            {
              "name": "own-rating", "task": "rating",
              "dataset": { "name": "tiny ratings", "files": { "train": "train.tsv", "validation": "validation.tsv", "test": "test.tsv" },
                           "format": { "delimiter": "\t", "header": false, "columnNames": ["user", "item", "rating"], "encoding": "latin1" },
                           "columns": { "user": "user", "item": "item", "rating": "rating" }, "ratingScale": { "min": 1, "max": 5 } },
              "models": [ { "type": "global-mean" } ],
              "metrics": ["rmse"],
              "evaluation": { "bootstrapSamples": 0 }
            }
            """, out var details);
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        var trial = outcome.Trials.Single();
        Assert.AreEqual("files", trial.Split);
        Assert.AreEqual(1.5, trial.Metrics.Single().Value, 1e-6);
        Assert.AreEqual("tiny ratings", details.Run.Dataset);
        StringAssert.Contains(details.Run.DatasetOrigin, Path.Combine(folder.Path, "validation.tsv"));
    }

    [TestMethod]
    public void Rating_with_validation_rows_carved_from_the_training_file_for_early_stopping()
    {
        using var folder = new TempFolder();
        var random = new Random(5);
        var train = new StringBuilder("user,item,rating\n");
        var test = new StringBuilder("user,item,rating\n");
        for (var u = 0; u < 60; u++)
            foreach (var i in Enumerable.Range(0, 40).OrderBy(_ => random.Next()).Take(12).Select((item, k) => (item, k)))
                (i.k < 10 ? train : test).Append(CultureInfo.InvariantCulture, $"u{u},i{i.item},{1 + (u + i.item) % 5}\n");
        folder.File("train.csv", train.ToString());
        folder.File("test.csv", test.ToString());
        var outcome = Run(folder, """
            {
              "name": "own-mf", "task": "rating",
              "dataset": { "files": { "train": "train.csv", "test": "test.csv" }, "columns": { "user": "user", "item": "item", "rating": "rating" } },
              "split": { "method": "predefined", "validationFraction": 0.2 },
              "models": [ { "type": "matrix-factorization", "parameters": { "rank": 4, "iterations": 20, "earlyStoppingRounds": 2 } } ],
              "metrics": ["rmse"],
              "evaluation": { "bootstrapSamples": 0 }
            }
            """, out _);
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        Assert.AreEqual("files", outcome.Trials.Single().Split);
    }

    [TestMethod]
    public void Classification_on_a_headerless_pipe_separated_table_with_quoted_text()
    {
        using var folder = new TempFolder();
        // Price alone separates the classes (clicked rows cost more than 50, the others less) and the title is the same
        // on every row, so a logistic regression ranks every clicked test row above every other: AUC 1.
        var lines = Enumerable.Range(0, 120).Select(k =>
        {
            var clicked = k % 2;
            var price = clicked == 1 ? 60 + k % 30 : 10 + k % 30;
            return $"{k}|\"Lamp | shade\nwarm white\"|{price}.5|{clicked}";
        });
        folder.File("clicks.txt", string.Join("\n", lines) + "\n");
        var outcome = Run(folder, """
            {
              "name": "own-clicks", "task": "classification",
              "dataset": { "files": { "table": "clicks.txt" }, "format": { "delimiter": "|", "header": false, "columnNames": ["id", "title", "price", "clicked"] },
                           "columns": { "label": "clicked", "numeric": ["price"], "text": ["title"] } },
              "split": { "method": "stratified", "testFraction": 0.25, "validationFraction": 0.2 },
              "models": [ { "type": "logistic-regression" } ],
              "metrics": ["auc"],
              "evaluation": { "bootstrapSamples": 0 }
            }
            """, out var details);
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        Assert.AreEqual(1.0, outcome.Trials.Single().Metrics.Single(m => m.Metric == "auc").Value, 1e-12);
        Assert.AreEqual(0, details.DataIssues.Count(i => i.Kind.StartsWith("skipped", StringComparison.Ordinal)), "the quoted line breaks and pipes parse as fields");
    }

    [TestMethod]
    public void Classification_on_train_and_test_files_with_validation_carved_by_label()
    {
        using var folder = new TempFolder();
        string Rows(int from, int count) => "sku,price,clicked\n" + string.Concat(Enumerable.Range(from, count).Select(k => $"s{k % 7},{(k % 2 == 1 ? 70 + k % 20 : 20 + k % 20)},{k % 2}\n"));
        folder.File("train.csv", Rows(0, 80));
        folder.File("test.csv", Rows(80, 40));
        var outcome = Run(folder, """
            {
              "name": "own-clicks-fixed", "task": "classification",
              "dataset": { "files": { "train": "train.csv", "test": "test.csv" }, "columns": { "label": "clicked", "numeric": ["price"], "categorical": ["sku"] } },
              "split": { "method": "predefined", "validationFraction": 0.25 },
              "models": [ { "type": "logistic-regression" } ],
              "metrics": ["auc"],
              "evaluation": { "bootstrapSamples": 0 }
            }
            """, out _);
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        var trial = outcome.Trials.Single();
        Assert.AreEqual("files", trial.Split);
        StringAssert.Contains(trial.Protocol, "by max F1 on validation", "the threshold is chosen on the carved validation rows");
        Assert.AreEqual(1.0, trial.Metrics.Single(m => m.Metric == "auc").Value, 1e-12);
    }

    [TestMethod]
    public void A_bad_row_in_a_users_file_fails_the_run_with_file_line_and_field()
    {
        using var folder = new TempFolder();
        folder.File("r.csv", "user,item,rating\na,x,4\nb,y,four\n");
        var path = folder.File("experiment.json", """
            { "name": "bad", "task": "rating", "dataset": { "files": { "table": "r.csv" }, "columns": { "user": "user", "item": "item", "rating": "rating" } },
              "models": [ { "type": "global-mean" } ], "metrics": ["rmse"] }
            """);
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var e = Assert.ThrowsExactly<Experiments.Core.DataFileException>(() => new ExperimentRunner(store).Run(Platform.Reader.ReadFile(path), new RunOptions { ReportDirectory = folder.Path }));
        StringAssert.StartsWith(e.Message, "r.csv, line 3, field 'rating': not a number: 'four'");
        Assert.AreEqual(RunStatus.Failed, store.GetRun(1).Run.Status);
    }
}
