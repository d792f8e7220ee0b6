using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.DemoShop;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation;
using Experiments.Recommenders.Baselines;

namespace Experiments.Tests.Datasets;

[TestClass]
public sealed class DemoShopTests
{
    private static readonly DemoShopOptions Small = new() { Users = 400, Items = 300, Seed = 11 };

    [TestMethod]
    public void Same_seed_same_shop_other_seed_other_shop()
    {
        var a = DemoShopGenerator.Generate(Small);
        var b = DemoShopGenerator.Generate(Small);
        var c = DemoShopGenerator.Generate(Small with { Seed = 12 });
        CollectionAssert.AreEqual(a.Events.Item, b.Events.Item);
        CollectionAssert.AreEqual(a.Ratings.Rating, b.Ratings.Rating);
        Assert.AreEqual(a.Products[17], b.Products[17]);
        CollectionAssert.AreNotEqual(a.Events.Item, c.Events.Item);
    }

    [TestMethod]
    public void Shop_has_every_table_with_consistent_contents()
    {
        var dataset = new DatasetLoader().Open(new DatasetRequest("demo-shop") { Options = new Dictionary<string, double> { ["users"] = 400, ["items"] = 300, ["seed"] = 11 } });
        Assert.IsTrue(dataset.IsSynthetic);
        StringAssert.Contains(dataset.Origin, "SYNTHETIC");
        StringAssert.Contains(dataset.Manifest.Description, "SYNTHETIC");
        var items = dataset.Items()!;
        Assert.AreEqual(300, items.RowCount);
        Assert.IsTrue(items["price"].Numbers!.All(p => p > 0));
        Assert.AreEqual(12, items["category"].Strings!.Distinct().Count());
        var impressions = dataset.Table("impressions");
        var positions = impressions["position"].Numbers!;
        Assert.IsTrue(positions.All(p => p >= 1 && p <= 10));
        // Position bias: the click rate falls from the first to the last position.
        var clicked = impressions["clicked"].Strings!;
        double Rate(int position) => Enumerable.Range(0, positions.Length).Where(i => positions[i] == position).Average(i => clicked[i] == "1" ? 1.0 : 0.0);
        Assert.IsGreaterThan(Rate(10) * 1.5, Rate(1));
        // Every click is an event; every rating is of a purchase.
        var events = dataset.Interactions("events");
        var purchases = impressions["purchased"].Strings!.Count(p => p == "1");
        Assert.AreEqual(clicked.Count(x => x == "1") + purchases, events.Count);
        var ratings = dataset.Interactions("ratings");
        Assert.IsTrue(ratings.Count <= purchases && ratings.Count > 0);
        Assert.IsTrue(ratings.Rating.All(r => r is >= 1 and <= 5));
        Assert.AreEqual(dataset.Fingerprint, new DatasetLoader().Open(new DatasetRequest("demo-shop") { Options = new Dictionary<string, double> { ["users"] = 400, ["items"] = 300, ["seed"] = 11 } }).Fingerprint);
    }

    [TestMethod]
    public void Tastes_are_learnable_item_knn_beats_popularity()
    {
        var dataset = new DatasetLoader().Open(new DatasetRequest("demo-shop") { Options = new Dictionary<string, double> { ["users"] = 1500, ["items"] = 600, ["seed"] = 5 } });
        var data = dataset.Interactions();
        var split = new StratifiedSplitter(0.2).Split(data, 1)[0];
        var train = data.Subset(split.Train);
        var test = data.Subset(split.Test);
        var metrics = new[] { MetricName.Parse("ndcg@10") };
        var spec = new EvaluationSpec { BootstrapSamples = 200 };
        var popular = RecommenderEvaluator.Evaluate(new MostPopularTrainer().Fit(train), train, test, metrics, spec, 1).Values[0];
        var knn = RecommenderEvaluator.Evaluate(new ItemKnnTrainer(new ItemKnnOptions()).Fit(train), train, test, metrics, spec, 1).Values[0];
        Assert.IsGreaterThan(popular.Upper!.Value, knn.Lower!.Value, $"item-knn {knn} vs most-popular {popular}");
    }
}
