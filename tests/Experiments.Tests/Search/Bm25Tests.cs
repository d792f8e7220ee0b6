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

    [TestMethod]
    public void SmartCn_words_are_scored_by_the_bm25_formula_and_english_characters_mislead()
    {
        // Wireless Bluetooth earphones; wood-ear-fungus phone case; earphones; sports shoes.
        var catalogue = Catalogue(["无线蓝牙耳机", "木耳手机壳", "耳机", "运动鞋"]);
        var options = new Bm25Options { Language = "chinese", K1 = 1.2, B = 0.75, TitleBoost = 1, AttributesBoost = 0, CategoryBoost = 0 };
        using var chinese = new Bm25Index(catalogue, options);
        // The words the scores below are computed from: SmartCn's, which differ from a reader's in two places that leave
        // 耳机 where it is: its dictionary predates 蓝牙 (Bluetooth) and gives the two characters, and it reads the
        // phone case as 木耳 / 手 / 机壳 (casing) rather than 木耳 / 手机 / 壳.
        string[][] words = [["无线", "蓝", "牙", "耳机"], ["木耳", "手", "机壳"], ["耳机"], ["运动鞋"]];
        for (var p = 0; p < words.Length; p++) Assert.AreEqual(string.Join(" / ", words[p]), string.Join(" / ", chinese.Terms(catalogue.Titles[p])), catalogue.Titles[p]);
        string[] query = ["蓝", "牙", "耳机"];
        CollectionAssert.AreEqual(query, chinese.Terms("蓝牙耳机").ToArray());

        // BM25 over those words (Lucene: idf = ln(1 + (N − n + 0.5) / (n + 0.5)), average length over all products;
        // the matching products' lengths 4 and 1 are stored exactly by the one-byte length norm).
        var average = words.Average(w => w.Length);
        double Idf(string term) => Math.Log(1 + (words.Length - words.Count(w => w.Contains(term)) + 0.5) / (words.Count(w => w.Contains(term)) + 0.5));
        double Score(string[] terms, int product) => terms.Sum(t => words[product].Count(w => w == t) is var tf and > 0
            ? Idf(t) * (1.2 + 1) * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * words[product].Length / average)) : 0);
        var hits = chinese.Search("蓝牙耳机", 10);
        CollectionAssert.AreEqual(new[] { 0, 2 }, hits.Products, "the earphones, then the shorter title with 耳机 alone; the phone case shares no word");
        Assert.AreEqual(Score(query, 0), hits.Scores[0], 1e-5);
        Assert.AreEqual(Score(query, 2), hits.Scores[1], 1e-5);
        CollectionAssert.AreEqual(new[] { 2, 0 }, chinese.Search("耳机", 10).Products);

        // The English analyser cuts Chinese into single characters: 耳机 (earphones) becomes 耳 OR 机, which the phone
        // case (木耳 + 手机) has too; with the same term frequencies the shorter title (5 characters against 6) scores
        // higher, so the phone case outranks the wireless earphones.
        using var english = new Bm25Index(catalogue, options with { Language = "english" });
        CollectionAssert.AreEqual(new[] { "耳", "机" }, english.Terms("耳机").ToArray());
        CollectionAssert.AreEqual(new[] { 2, 1, 0 }, english.Search("耳机", 10).Products);
    }
}
