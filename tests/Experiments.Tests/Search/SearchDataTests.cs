using Experiments.Core;
using Experiments.Datasets;
using Experiments.Datasets.DemoShop;
using Experiments.Search.Data;
using Experiments.Search.Retrieval;

namespace Experiments.Tests.Search;

[TestClass]
public sealed class SearchDataTests
{
    private static Dataset Shop(int searchQueries) => new DatasetLoader().Open(new DatasetRequest("demo-shop")
    {
        Options = new Dictionary<string, double> { ["users"] = 200, ["items"] = 300, ["seed"] = 11, ["searchQueries"] = searchQueries },
    });

    [TestMethod]
    public void The_search_side_leaves_the_other_tables_as_they_were()
    {
        // The search side draws from its own stream: asking for more search queries changes none of the other tables.
        var a = (DemoShopDataset)Shop(50);
        var b = (DemoShopDataset)Shop(200);
        CollectionAssert.AreEqual(a.Shop.Events.Item, b.Shop.Events.Item);
        CollectionAssert.AreEqual(a.Table("impressions")["clicked"].Strings, b.Table("impressions")["clicked"].Strings);
        CollectionAssert.AreEqual(a.Table("queries")["query"].Strings, b.Table("queries")["query"].Strings);
        Assert.AreEqual(50, a.Table("search-queries").RowCount);
        // With the default search settings the origin (and so the fingerprint) reads as before the search side existed.
        var plain = new DatasetLoader().Open(new DatasetRequest("demo-shop") { Options = new Dictionary<string, double> { ["users"] = 200, ["items"] = 300, ["seed"] = 11 } });
        Assert.AreEqual("demo-shop (SYNTHETIC, generated: users=200, items=300, sessionsPerUser=12, seed=11)", plain.Origin);
        StringAssert.Contains(a.Origin, "searchQueries=50");
    }

    [TestMethod]
    public void Judgements_follow_the_documented_grades()
    {
        var dataset = Shop(300);
        var products = dataset.Table("products");
        var category = products["item"].Strings!.Zip(products["category"].Strings!).ToDictionary(p => p.First, p => p.Second);
        var titles = products["item"].Strings!.Zip(products["title"].Strings!).ToDictionary(p => p.First, p => p.Second);
        var queries = dataset.Table("search-queries");
        var intent = queries["query_id"].Strings!.Zip(queries["category"].Strings!).ToDictionary(q => q.First, q => q.Second);
        var text = queries["query_id"].Strings!.Zip(queries["query"].Strings!).ToDictionary(q => q.First, q => q.Second);
        var judgements = dataset.Table("search-judgements");
        var rows = Enumerable.Range(0, judgements.RowCount).Select(r => (Query: judgements["query_id"].Strings![r], Item: judgements["item"].Strings![r], Grade: judgements["grade"].Numbers![r])).ToList();
        Assert.IsTrue(rows.All(r => r.Grade is >= 1 and <= 3), "grades 1–3 are listed, 0 is not");
        Assert.IsTrue(rows.All(r => category[r.Item] == intent[r.Query]), "every judged product is of the query's category");
        // Paraphrase queries: some queries share no word with the title of any of their grade-3 products.
        var paraphrased = rows.Where(r => r.Grade == 3).GroupBy(r => r.Query)
            .Count(g => g.All(r => !text[g.Key].Split(' ').Any(w => titles[r.Item].Contains(w, StringComparison.OrdinalIgnoreCase))));
        Assert.IsGreaterThan(30, paraphrased);
        // Popularity grows with the hidden quality, and poor quality costs a grade: judged-3 products sell more than judged-2 products of the same type.
        var popularity = products["item"].Strings!.Zip(products["popularity"].Numbers!).ToDictionary(p => p.First, p => p.Second);
        Assert.IsGreaterThan(rows.Where(r => r.Grade == 2).Average(r => Math.Log(1 + popularity[r.Item])), rows.Where(r => r.Grade == 3).Average(r => Math.Log(1 + popularity[r.Item])));
    }

    /// <summary>A registered search collection: catalogue.csv (id, title), queries.csv (qid, text) and grades.csv (qid, id, grade) in folder <paramref name="name"/>.</summary>
    internal static Experiments.Datasets.Manifests.DatasetManifest Manifest(string name, string language = "english") => Experiments.Datasets.Manifests.DatasetRegistry.Parse($$"""
        {
          "name": "{{name}}", "title": "t", "description": "d", "licence": "l", "folder": "{{name}}",
          "tables": [
            { "name": "catalogue", "file": "catalogue.csv", "role": "records", "header": true,
              "columns": [ { "name": "id", "role": "item" }, { "name": "title", "role": "title" } ] },
            { "name": "queries", "file": "queries.csv", "role": "records", "header": true,
              "columns": [ { "name": "qid", "role": "id" }, { "name": "text", "role": "text" } ] },
            { "name": "grades", "file": "grades.csv", "role": "records", "header": true,
              "columns": [ { "name": "qid", "role": "query" }, { "name": "id", "role": "item" }, { "name": "grade", "type": "float", "role": "relevance" } ] }
          ],
          "search": { "catalogue": "catalogue", "queries": "queries", "judgements": ["grades"], "language": "{{language}}" }
        }
        """, $"{name}.json");

    [TestMethod]
    public void A_judgement_for_an_unknown_product_is_a_bad_row()
    {
        using var folder = new TempFolder();
        var manifest = Manifest("mine");
        folder.File("mine/catalogue.csv", "id,title\np1,red shoe\np2,blue hat\n");
        folder.File("mine/queries.csv", "qid,text\nq1,shoe\n");
        folder.File("mine/grades.csv", "qid,id,grade\nq1,p1,2\nq1,p9,1\n");
        Dataset Open(Experiments.Core.Definitions.BadRowPolicy policy) =>
            new DatasetLoader(new Experiments.Datasets.Manifests.DatasetRegistry([manifest])).Open(new DatasetRequest("mine") { DataDirectory = folder.Path, BadRows = policy });
        var error = Assert.ThrowsExactly<DataFileException>(() => SearchCollection.Load(Open(Experiments.Core.Definitions.BadRowPolicy.Fail), manifest.Search!, null, 0, 1));
        StringAssert.Contains(error.Message, "grades.csv");
        StringAssert.Contains(error.Message, "line 3");
        StringAssert.Contains(error.Message, "unknown product 'p9'");
        var skipping = Open(Experiments.Core.Definitions.BadRowPolicy.Skip);
        var collection = SearchCollection.Load(skipping, manifest.Search!, null, 0, 1);
        Assert.AreEqual(2, collection.Judgements!.Grade(0, 0));
        Assert.AreEqual(1, skipping.Checks.SkippedRows);
    }

    [TestMethod]
    public void PriceRunner_offers_are_queries_for_the_other_offers_of_their_cluster()
    {
        var dataset = RealData.Open("pricerunner-product-classification");
        var collection = SearchCollection.Load(dataset, dataset.Manifest.Search!, null, 0, 1);
        // 13,233 clusters, 5,374 of them with a single offer (counted with Python's csv module): 7,859 queries.
        Assert.AreEqual(7859, collection.Queries.Count);
        Assert.AreEqual(35311, collection.Catalogue!.Count);
        var catalogue = collection.Catalogue;
        var first = collection.Queries[0];
        Assert.AreEqual("apple iphone 8 plus 64gb silver", first.Text);
        Assert.AreEqual("Mobile Phones", first.Intent);
        Assert.AreEqual(0, collection.Judgements!.Grade(0, first.Excluded), "the query's own offer is not relevant to it");
        Assert.AreEqual(2, collection.Judgements.Grade(0, catalogue.IndexOf("2")!.Value)); // same cluster
        using var bm25 = new Bm25Index(catalogue, new Bm25Options());
        var hits = bm25.Search(first.Text, 10, first.Excluded);
        Assert.IsFalse(hits.Products.Contains(first.Excluded));
        Assert.IsTrue(hits.Products.Any(p => collection.Judgements.Grade(0, p) == 2), "an iPhone 8 Plus 64GB title finds the same phone among its first ten hits");
        Assert.IsGreaterThanOrEqualTo(8, hits.Products.Count(p => collection.Judgements.Grade(0, p) >= 1), "and mostly mobile phones");
    }
}
