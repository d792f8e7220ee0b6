using Experiments.Search.Data;
using Experiments.Search.Retrieval;

namespace Experiments.Tests.Search;

[TestClass]
public sealed class Bm25Tests
{
    private static ProductCatalogue Catalogue(string[] titles, string[]? descriptions = null, string[]? attributes = null, string[]? categories = null) => new(
        titles.Select((_, i) => $"p{i}").ToArray(), titles, descriptions, categories ?? titles.Select(_ => "").ToArray(), attributes ?? titles.Select(_ => "").ToArray(),
        titles.Select(_ => 0.0).ToArray(), null, "test");

    [TestMethod]
    public void Scores_follow_the_bm25_formula_with_the_field_boost()
    {
        // Field lengths 1 and 4 are stored exactly by Lucene's one-byte length norm, so the formula can be checked to float precision.
        var catalogue = Catalogue(["shoe", "red shoe blue sky", "hat", "cap cap cap cap"]);
        var options = new Bm25Options { Language = "standard", K1 = 1.2, B = 0.75, TitleBoost = 2, AttributesBoost = 0, CategoryBoost = 0 };
        using var index = new Bm25Index(catalogue, options);
        var hits = index.Search("shoe", 10);
        CollectionAssert.AreEqual(new[] { 0, 1 }, hits.Products);
        var idf = Math.Log(1 + (4 - 2 + 0.5) / (2 + 0.5));
        var average = (1 + 4 + 1 + 4) / 4.0;
        double Score(int tf, int length) => 2 * idf * (1.2 + 1) * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * length / average));
        Assert.AreEqual(Score(1, 1), hits.Scores[0], 1e-5);
        Assert.AreEqual(Score(1, 4), hits.Scores[1], 1e-5);
        // k1 = 0 ignores term frequency and b = 0 ignores length: both matches score 2 · idf.
        using var flat = new Bm25Index(catalogue, options with { K1 = 0, B = 0 });
        Assert.AreEqual(2 * idf, flat.Search("shoe", 10).Scores[1], 1e-5);
        // The per-field scores of chosen products are unboosted; a non-matching product scores 0.
        var fields = index.FieldScores("shoe", [1, 2]);
        Assert.AreEqual(Score(1, 4) / 2, fields[0][0], 1e-5);
        Assert.AreEqual(0, fields[0][1]);
    }

    [TestMethod]
    public void Field_boosts_decide_between_a_title_and_a_description_match()
    {
        var catalogue = Catalogue(["trail runner", "mountain boot"], ["light and fast", "sturdy trail companion"]);
        using var title = new Bm25Index(catalogue, new Bm25Options { TitleBoost = 5, DescriptionBoost = 0.1 });
        using var description = new Bm25Index(catalogue, new Bm25Options { TitleBoost = 0.1, DescriptionBoost = 5 });
        Assert.AreEqual(0, title.Search("trail", 2).Products[0]);
        Assert.AreEqual(1, description.Search("trail", 2).Products[0]);
    }

    [TestMethod]
    public void English_stems_and_drops_stop_words_and_operators_are_plain_text()
    {
        using var index = new Bm25Index(Catalogue(["running shoes for the road", "hat"]), new Bm25Options());
        CollectionAssert.AreEqual(new[] { "run", "shoe", "road" }, index.Terms("Running shoes for the road").ToArray());
        Assert.AreEqual(0, index.Search("the shoe", 5).Products.Single());
        // Query syntax is escaped: these are words, not a field query or operators.
        Assert.AreEqual(0, index.Search("title:shoe AND (road", 5).Products[0]);
        Assert.AreEqual(0, index.Search("the of", 5).Count);
        // The query's own product can be left out.
        Assert.AreEqual(0, index.Search("shoe", 5, excluded: 0).Count);
    }

    [TestMethod]
    public void Chinese_text_is_segmented_into_words()
    {
        var catalogue = Catalogue(["无线蓝牙耳机", "蓝牙音箱", "运动鞋"]);
        using var index = new Bm25Index(catalogue, new Bm25Options { Language = "chinese" });
        // SmartCn finds the two-character words; the standard analyser would give single characters.
        CollectionAssert.Contains(index.Terms("我是中国人").ToList(), "中国");
        using var standard = new Bm25Index(catalogue, new Bm25Options { Language = "standard" });
        CollectionAssert.DoesNotContain(standard.Terms("我是中国人").ToList(), "中国");
        Assert.AreEqual(0, index.Search("蓝牙耳机", 3).Products[0]);
        Assert.AreEqual(2, index.Search("运动鞋", 3).Products[0]);
    }
}
