using System.Security.Cryptography;
using System.Text;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Runs;
using Experiments.Search.Data;
using Experiments.Store;

namespace Experiments.Tests.Search;

/// <summary>
/// Search on a user's own catalogue and click log ("files": { "catalogue": …, "clicks": … }): judgements derived by the
/// position-based click model, checked against its fixed point worked out by hand; a full run; and the checks.
/// </summary>
/// <remarks>
/// The hand derivation. Position 1 starts at θ₁ = 1 and stays there (a skip at an examined position is never
/// attractive). For a pair shown n₁ times at position 1 with c₁ clicks and n₂ times at position 2 with c₂ clicks, the
/// EM fixed point has θ₂·α = c₂/n₂ (the examination update's term for the pair, (c₂ − n₂θ₂α)(1 − θ₂)/(1 − θ₂α), is
/// zero), and then the Beta(1, 1) attractiveness update reduces to α = (c₁ + 1)/(n₁ + 2). With every pair's
/// c₂/n₂ = θ₂·α for the same θ₂ = 1/2, each pair's term vanishes, so that is the fixed point:
/// a product clicked 2 of 2 times at the top and 3 of 8 at position 2 gets α = 3/4 (3/8 = ½ · ¾); one clicked 0 of 2
/// times at the top and 1 of 8 at position 2 gets α = 1/4 (1/8 = ½ · ¼) — not its raw click rate 1/10, since half its
/// position-2 impressions were never looked at.
/// </remarks>
[TestClass]
public sealed class OwnClickFilesTests
{
    private static readonly ColumnRoles Columns = new() { Item = "sku", Title = "name", Query = "q", Position = "pos", Clicked = "click" };

    /// <summary>Query <paramref name="query"/> showing <paramref name="liked"/> (α = 3/4) and <paramref name="other"/> (α = 1/4), as worked out above.</summary>
    private static IEnumerable<string> Impressions(string query, string liked, string other, char delimiter = ',') =>
        new[] { (liked, 1, 1), (liked, 1, 1), (other, 1, 0), (other, 1, 0) }
            .Concat(Enumerable.Range(0, 8).Select(k => (liked, 2, k < 3 ? 1 : 0)))
            .Concat(Enumerable.Range(0, 8).Select(k => (other, 2, k < 1 ? 1 : 0)))
            .Select(x => string.Join(delimiter, query, x.Item1, x.Item2, x.Item3));

    private static SearchCollection Load(TempFolder folder, BadRowPolicy badRows = BadRowPolicy.Fail)
    {
        var spec = new DatasetSpec
        {
            Name = "own", Files = DataFiles.SearchClicks("products.csv", "clicks.csv"), Columns = Columns, BaseDirectory = folder.Path, BadRows = badRows,
        };
        var dataset = new DatasetLoader().Open(DatasetRequest.From(spec));
        return SearchCollection.Load(dataset, dataset.Manifest.Search!, null, 0, 42);
    }

    private const string Products = "sku,name\nP1,red kettle\nP2,blue kettle\nP3,oak lamp\n";

    [TestMethod]
    public void Judgements_derived_from_an_own_click_log_are_the_hand_worked_click_model_grades()
    {
        using var folder = new TempFolder();
        folder.File("products.csv", Products);
        // "lamp" shows P3 once, unclicked: no product of it gets a grade, so the query is left out.
        folder.File("clicks.csv", string.Join("\n", ["q,sku,pos,click", .. Impressions("kettle", "P1", "P2"), "lamp,P3,1,0"]) + "\n");
        var collection = Load(folder);
        Assert.AreEqual("kettle", collection.Queries.Single().Text);
        var judgements = collection.Judgements!;
        Assert.AreEqual(0.75, judgements.Grade(0, 0), 1e-4);
        Assert.AreEqual(0.25, judgements.Grade(0, 1), 1e-4);
        Assert.AreEqual(0, judgements.Grade(0, 2));
        StringAssert.Contains(collection.Description, "judgements derived from the clicks of 'clicks' (its distinct query texts are the queries) by the position-based click model (examination θ_p/θ_1: 1.00, 0.50)");
    }

    private const string Dataset = """
        { "files": { "catalogue": "data/products.csv", "clicks": "data/clicks.tsv" }, "format": { "delimiter": "\t" },
          "columns": { "item": "sku", "title": "name", "query": "q", "position": "pos", "clicked": "click" } }
        """;

    private static string Definition(string dataset) => $$"""
        {
          "name": "own-clicks", "task": "search",
          "dataset": {{dataset}},
          "split": { "method": "random", "testFraction": 0.5 },
          "models": [ { "type": "bm25" } ],
          "metrics": ["ndcg@10", "mrr@10", "recall@10"],
          "evaluation": { "bootstrapSamples": 0 }
        }
        """;

    [TestMethod]
    public void A_search_run_on_an_own_click_log_scores_bm25_against_the_derived_grades_and_fingerprints_both_files()
    {
        using var folder = new TempFolder();
        // Six queries, each one word found in one product's title only (α = 3/4) and one more clicked product that
        // shares no word with it (α = 1/4). BM25 retrieves just the matching product, at rank 1, for every query:
        // NDCG@10 = (2^¾ − 1) / ((2^¾ − 1) + (2^¼ − 1) / log₂ 3); MRR@10 = 1; recall@10 = 1/2.
        string[] words = ["zebra", "quokka", "axolotl", "pangolin", "narwhal", "okapi"];
        string[] others = ["blanket", "teapot", "saucer", "doormat", "ladle", "stool"];
        folder.File("data/products.csv", string.Join("\n", ["sku\tname", .. words.Select((w, i) => $"W{i}\t{w} figurine"), .. others.Select((w, i) => $"O{i}\t{w}")]) + "\n");
        folder.File("data/clicks.tsv", string.Join("\n", ["q\tsku\tpos\tclick", .. words.SelectMany((w, i) => Impressions(w, $"W{i}", $"O{i}", '\t'))]) + "\n");
        var definition = Platform.Reader.Read(Definition(Dataset), "own.json", folder.Path);
        Assert.AreEqual(("data/clicks.tsv", null, "pos", "click"), (definition.Dataset.Files!.Clicks, definition.Dataset.Files.Judgements, definition.Dataset.Columns.Position, definition.Dataset.Columns.Clicked));
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = Path.Combine(folder.Path, "reports") });
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        var metrics = outcome.Trials.Single().Metrics.ToDictionary(m => $"{m.Metric}@{m.K}", m => m.Value);
        var (top, second) = (Math.Pow(2, 0.75) - 1, Math.Pow(2, 0.25) - 1);
        Assert.AreEqual(top / (top + second / Math.Log2(3)), metrics["ndcg@10"], 1e-4);
        Assert.AreEqual(1, metrics["mrr@10"], 1e-12);
        Assert.AreEqual(0.5, metrics["recall@10"], 1e-12);
        string Sha(string name) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder.Path, "data", name))));
        Assert.AreEqual(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"clicks.tsv:{Sha("clicks.tsv")}\nproducts.csv:{Sha("products.csv")}"))),
            store.GetRun(outcome.RunId).Run.DataFingerprint);
    }

    private const string Skip = " (to skip such rows and count them, set \"badRows\": \"skip\" in the definition's \"dataset\")";

    private static string Refused(TempFolder folder, params string[] rows)
    {
        folder.File("products.csv", Products);
        folder.File("clicks.csv", string.Join("\n", ["q,sku,pos,click", "kettle,P1,1,1", .. rows]) + "\n");
        return Assert.Throws<ExperimentsException>(() => Load(folder)).Message;
    }

    [TestMethod]
    public void Bad_click_rows_are_refused_naming_file_line_and_field()
    {
        using var folder = new TempFolder();
        Assert.AreEqual("clicks.csv, line 3, field 'sku': unknown product 'P9': it is not in the catalogue" + Skip, Refused(folder, "kettle,P9,2,0"));
        Assert.AreEqual("clicks.csv, line 3, field 'pos': a position must be a whole number ≥ 1, not '1.5'" + Skip, Refused(folder, "kettle,P2,1.5,0"));
        Assert.AreEqual("clicks.csv, line 3, field 'pos': out of range: 0 (allowed 1 to +inf)" + Skip, Refused(folder, "kettle,P2,0,0"));
        StringAssert.StartsWith(Refused(folder, "kettle,P2,top,0"), "clicks.csv, line 3, field 'pos': not a number: 'top'");
        Assert.AreEqual("clicks.csv, line 3, field 'click': not an allowed value: 'yes' (allowed: 0, 1)" + Skip, Refused(folder, "kettle,P2,2,yes"));
        folder.File("clicks.csv", "q,sku,position,click\nkettle,P1,1,1\n");
        Assert.AreEqual("clicks.csv, line 1: no column 'pos' (named by the data set's \"columns\".\"position\"); the file's columns are: q, sku, position, click",
            Assert.Throws<ExperimentsException>(() => Load(folder)).Message);

        // Skipped instead: the bad rows are counted and the rest derive the same grades.
        folder.File("clicks.csv", string.Join("\n", ["q,sku,pos,click", .. Impressions("kettle", "P1", "P2"), "kettle,P9,1,1", "kettle,P2,2.5,1"]) + "\n");
        var collection = Load(folder, BadRowPolicy.Skip);
        Assert.AreEqual((0.75, 0.25), (Math.Round(collection.Judgements!.Grade(0, 0), 4), Math.Round(collection.Judgements.Grade(0, 1), 4)));
    }

    [TestMethod]
    public void Definitions_give_judgements_or_clicks_with_the_click_log_columns()
    {
        using var folder = new TempFolder();
        folder.File("data/products.csv", "sku\tname\nP1\tx\n");
        folder.File("data/clicks.tsv", "q\tsku\tpos\tclick\nx\tP1\t1\t1\n");
        folder.File("data/judgements.tsv", "q\tsku\tgrade\nx\tP1\t1\n");
        CollectionAssert.AreEqual(new[] { "$.dataset.files.clicks: give \"judgements\" (graded: query, product, relevance) or \"clicks\" (a click log: query, product, position, clicked, from which judgements are derived), not both" },
            OwnSearchFilesTests.Errors(Definition(Dataset.Replace("\"clicks\": \"data/clicks.tsv\"", "\"judgements\": \"data/judgements.tsv\", \"clicks\": \"data/clicks.tsv\"")), folder));
        CollectionAssert.AreEqual(new[] { "$.dataset.files: task 'search' needs \"judgements\" (query, product, relevance) or \"clicks\" (query, product, position, clicked) beside \"catalogue\": neither is given" },
            OwnSearchFilesTests.Errors(Definition(Dataset.Replace(", \"clicks\": \"data/clicks.tsv\"", "")), folder));
        CollectionAssert.AreEqual(new[] { "$.dataset.columns: task 'search' on own files needs column \"clicked\": the click log's click, 0 or 1" },
            OwnSearchFilesTests.Errors(Definition(Dataset.Replace(", \"clicked\": \"click\"", "")), folder));
        CollectionAssert.AreEqual(new[] { "$.dataset.columns.relevance: \"relevance\" is a column of a judgements file, but the files give a click log; a click log has columns query, product, position, clicked" },
            OwnSearchFilesTests.Errors(Definition(Dataset.Replace("\"clicked\": \"click\"", "\"clicked\": \"click\", \"relevance\": \"grade\"")), folder));
        CollectionAssert.AreEqual(new[] { "$.dataset.columns.position: \"position\" is a column of a click log (\"files\": { \"clicks\": … }), but the files give judgements; a judgements file has columns query, product, relevance, intent" },
            OwnSearchFilesTests.Errors(Definition(Dataset.Replace("\"clicks\": \"data/clicks.tsv\"", "\"judgements\": \"data/judgements.tsv\"").Replace(", \"clicked\": \"click\"", ", \"relevance\": \"grade\"")), folder));
        var built = ExperimentBuilder.Create("own-clicks").ForTask("search")
            .OnFiles(DataFiles.SearchClicks("data/products.csv", "data/clicks.tsv"), Columns with { Position = "pos", Clicked = "click" }, new FileFormat { Delimiter = "\t" }, folder.Path)
            .Split("random", testFraction: 0.5).AddModel("bm25").WithMetrics("mrr@10").Build(Platform.Vocabulary);
        Assert.AreEqual("data/clicks.tsv", built.Dataset.Files!.Clicks);
    }
}
