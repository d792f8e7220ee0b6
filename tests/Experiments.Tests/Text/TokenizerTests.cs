using System.Text.Json;
using Experiments.Text;

namespace Experiments.Tests.Text;

/// <summary>
/// TextTokenizer against an independent reference: Reference/bert_tokenizer.py, written from Google's published
/// algorithm (BERT's tokenization.py) with Hugging Face's tokenizer_config.json switches, run by /usr/bin/python3.
/// </summary>
[TestClass]
public sealed class TokenizerTests
{
    /// <summary>Messy e-commerce titles: sizes, prices, model numbers, accents, CJK, emoji, ®/™, fractions, control characters.</summary>
    private static readonly string[] Titles =
    [
        "Samsung 55\" QLED 4K Smart TV QE55Q60B",
        "LG 65'' OLED evo C3 (OLED65C36LC)",
        "Apple iPhone 15 Pro Max 256GB – Natural Titanium",
        "£1,299.00 inc. VAT",
        "$19.99 + $4.99 shipping | 20% off",
        "Bose QuietComfort® 45 Wireless Headphones",
        "Microsoft® Windows™ 11 Home",
        "Philips Hue × IKEA bundle ★★★★☆ (4.5/5)",
        "½\" drill bit set – 13-piece",
        "1/2\" x 3/4\" copper pipe, 6×124g",
        "Crème brûlée torch — Kitchen Craft",
        "Nestlé Nescafé Gold Blend 200g",
        "Straße Ölfilter für BMW",
        "Cafe\u0301 de\u0301cor (decomposed accents)",
        "Dyson V15 Detect™ Absolute 🧹✨",
        "Nike Air Max 90 👟🔥 Size 9½ UK",
        "👩🏽‍💻 developer kit ❤️ 🇬🇧 UK plug",
        "华为 HUAWEI Mate 60 Pro 12GB+512GB 雅川青",
        "小米 Redmi Note 13 5G（国行）",
        "ソニー Sony WH-1000XM5 ワイヤレス",
        "삼성 갤럭시 S24 Ultra",
        "𠀀𠀁 rare ideographs and 豈 compatibility",
        "Canon EOS R6\u0000 Mark II\u0007 Body\u001b",
        "Tab\tseparated\ttitle\r\nwith CRLF",
        "Non\u00A0breaking\u2009thin\u3000ideographic spaces",
        "Lo\u200Bgitech\u200D MX Master 3S",
        "Ultra\u00ADwide monitor 34\"",
        "\uFEFFSeagate 2TB",
        "new\u2028line and\u2029paragraph separators",
        "Broken \ud800 surrogate and � replacement",
        "İstanbul İPEK halı",
        "ΚΑΦΕΣ ΕΛΛΗΝΙΚΟΣ 500γρ. ΟΔΟΣ",
        "Ǆemal ǅ ǆ titlecase",
        "ﬁnance ﬂat ligatures",
        "Ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ１２３",
        "km² m³ H₂O 10⁻³",
        "①②③ Ⅳ ⅷ",
        "3.5mm jack / USB-C → Lightning",
        "50°C ±2 ‰ µm Ω Å",
        "“Smart” ‘quotes’ «guillemets» „low“",
        "C++ & C# for Dummies, 3rd ed.",
        "Model: XPS-13-9310 / SKU#A1B2C3",
        "www.example.com/product?id=42&ref=abc email@shop.co.uk",
        "Greek question mark ; and ano teleia ·",
        "سامسونج تلفاز שָׁלוֹם हिन्दी ทีวี ซัมซุง",
        "Pack of 12 (12 x 330ml) ^_^ `tick` ~tilde~",
        "ROG Strix G16 (2024) — i9-14900HX/RTX4070/16GB/1TB",
        "Lenovo ThinkPad X1 Carbon Gen 11 14\" WUXGA i7-1365U 32GB/1TB W11P",
        "Supercalifragilisticexpialidocious" + new string('x', 80) + " long",
        "",
        "   \u0000\u0007  ",
        "[CLS] literal [SEP] [UNK] markers",
    ];

    private static readonly TokenizerOptions[] Configurations =
    [
        new(),
        new() { LowerCase = false },
        new() { LowerCase = true, StripAccents = false },
        new() { LowerCase = false, StripAccents = true },
        new() { TokenizeChineseChars = false },
        new() { MaxInputCharsPerWord = 8 },
    ];

    /// <summary>The reference's tokens for each text, with the same vocabulary and options.</summary>
    private static List<List<string>> Reference(IReadOnlyList<string> vocabulary, TokenizerOptions options, IReadOnlyList<string> texts)
    {
        var result = ReferencePython.Run("bert_tokenizer.py", new
        {
            vocabulary,
            options = new Dictionary<string, object?>
            {
                ["do_lower_case"] = options.LowerCase, ["strip_accents"] = options.StripAccents, ["tokenize_chinese_chars"] = options.TokenizeChineseChars,
                ["max_input_chars_per_word"] = options.MaxInputCharsPerWord, ["unk_token"] = options.UnknownToken,
            },
            texts,
        }, "unicodedata");
        return result.GetProperty("tokens").EnumerateArray().Select(t => t.EnumerateArray().Select(x => x.GetString()!).ToList()).ToList();
    }

    private static void AssertSameAsReference(IReadOnlyList<string> vocabulary, TokenizerOptions options, IReadOnlyList<string> texts)
    {
        var expected = Reference(vocabulary, options, texts);
        var tokenizer = new TextTokenizer(vocabulary, options);
        var unknowns = 0;
        for (var i = 0; i < texts.Count; i++)
        {
            var actual = tokenizer.Tokenize(texts[i]);
            Assert.AreEqual(string.Join(" ", expected[i]), string.Join(" ", actual), $"{options}: text {i} {JsonSerializer.Serialize(texts[i])}");
            unknowns += actual.Count(t => t == "[UNK]");
        }
        // A comparison that never reaches WordPiece's [UNK] branch or its "##" pieces would prove little.
        Assert.IsGreaterThan(0, unknowns, $"{options}: some words are unknown");
        Assert.IsTrue(texts.Any(t => tokenizer.Tokenize(t).Any(x => x.StartsWith("##", StringComparison.Ordinal))), $"{options}: some words are split into pieces");
    }

    /// <summary>
    /// A vocabulary learned from every other title (so the rest have words only pieces cover, and characters nothing
    /// covers), plus a few hand-written BERT-style tokens; under each option set the learned part follows that set.
    /// </summary>
    private static List<string> Vocabulary(TokenizerOptions options) =>
        [.. TextTokenizer.LearnVocabulary(Titles.Where((_, i) => i % 2 == 0), 400, options), "samsung", "##ung", "tv", "oled", "®", "™", "£", "½", "×", "★", "'", "\""];

    [TestMethod]
    public void Tokens_equal_the_BERT_reference_on_messy_titles_under_every_tokenizer_configuration()
    {
        foreach (var options in Configurations) AssertSameAsReference(Vocabulary(options), options, Titles);
    }

    [TestMethod]
    public void Tokens_equal_the_BERT_reference_on_real_PriceRunner_titles()
    {
        var table = RealData.Open("pricerunner-product-classification").Table("offers");
        var titles = table["Product Title"].Strings!;
        var random = new Random(11);
        var picked = Enumerable.Range(0, titles.Length).OrderBy(_ => random.Next()).Take(3000).Select(i => titles[i]).ToList();
        // Learned on a third of them, so the rest meet unseen words (split into pieces); without any token holding a
        // "q", so words with one are [UNK].
        var vocabulary = TextTokenizer.LearnVocabulary(picked.Take(1000), 2000).Where(t => !t.Contains('q', StringComparison.Ordinal)).ToList();
        AssertSameAsReference(vocabulary, new TokenizerOptions(), picked);
        AssertSameAsReference(vocabulary, new TokenizerOptions { LowerCase = false }, picked.Skip(1000).Take(500).ToList());
    }

    [TestMethod]
    public void Symbols_and_punctuation_are_split_off_or_unknown_never_deleted()
    {
        // Worked by hand from the reference algorithm: ASCII punctuation ($ + % | " ') is split off; symbols (® ™ × ★ ½ £)
        // are not punctuation, so they stay inside their word, which WordPiece covers or makes one [UNK].
        string[] vocabulary = [.. TextTokenizer.SpecialTokens, "sony", "wh", "-", "1000", "##xm", "##4", "##®", "$", "19", ".", "99", "+", "%", "|", "20", "off",
            "★", "½", "×", "2", "\"", "'", "55", "65", "tv", "cafe", "华", "为", "™", "apple"];
        var tokenizer = new TextTokenizer(vocabulary);
        CollectionAssert.AreEqual(new[] { "sony", "wh", "-", "1000", "##xm", "##4", "##®" }, tokenizer.Tokenize("Sony WH-1000XM4®"));
        CollectionAssert.AreEqual(new[] { "$", "19", ".", "99", "+", "20", "%", "off", "|", "★", "½", "×", "2" }, tokenizer.Tokenize("$19.99 + 20% off | ★ ½ × 2"));
        CollectionAssert.AreEqual(new[] { "55", "\"", "tv", "65", "'", "'", "tv" }, tokenizer.Tokenize("55\" TV 65'' TV"));
        CollectionAssert.AreEqual(new[] { "[UNK]", "™", "[UNK]", "cafe", "华", "为" }, tokenizer.Tokenize("Apple™ ™ £5 Café 华为"));
        CollectionAssert.AreEqual(new[] { "[UNK]" }, tokenizer.Tokenize("🔥"), "an emoji without a vocabulary entry is [UNK], not dropped");
        CollectionAssert.AreEqual(new[] { "tv" }, tokenizer.Tokenize("\u0000T\u200BV\u0007"), "control and format characters are removed, not words");
        Assert.AreEqual("[CLS] sony wh [SEP]", string.Join(" ", tokenizer.Encode("Sony WH-1000XM4®", 4).Select(i => vocabulary[i])), "truncation keeps [SEP]");
    }

    [TestMethod]
    public void A_checkpoint_tokenizes_as_its_tokenizer_config_says()
    {
        using var folder = new TempFolder();
        string[] vocabulary = [.. TextTokenizer.SpecialTokens, "Café", "café", "cafe", "Cafe", "华", "为", "华为"];
        var encoder = new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Length, HiddenSize = 8, Layers = 1, AttentionHeads = 2, IntermediateSize = 16, MaxPositions = 8 });
        EncoderCheckpoint.Save(encoder, new TextTokenizer(vocabulary, new TokenizerOptions { LowerCase = false }), folder.Path);
        var config = File.ReadAllText(Path.Combine(folder.Path, "tokenizer_config.json"));
        StringAssert.Contains(config, "\"do_lower_case\": false");
        CollectionAssert.AreEqual(new[] { "Café" }, EncoderCheckpoint.Load(folder.Path).Tokenizer.Tokenize("Café"), "cased, accents kept (strip_accents follows do_lower_case)");

        void Expect(string settings, string text, params string[] tokens)
        {
            File.WriteAllText(Path.Combine(folder.Path, "tokenizer_config.json"), "{ \"tokenizer_class\": \"BertTokenizer\", " + settings + " }");
            CollectionAssert.AreEqual(tokens, EncoderCheckpoint.Load(folder.Path).Tokenizer.Tokenize(text), settings);
        }
        Expect("\"do_lower_case\": true", "Café", "cafe");
        Expect("\"do_lower_case\": true, \"strip_accents\": false", "Café", "café");
        Expect("\"do_lower_case\": false, \"strip_accents\": true", "Café", "Cafe");
        Expect("\"tokenize_chinese_chars\": false", "华为", "华为");
        Expect("\"tokenize_chinese_chars\": true", "华为", "华", "为");
        Expect("\"unk_token\": { \"content\": \"[UNK]\", \"lstrip\": false }", "zz", "[UNK]");
        File.WriteAllText(Path.Combine(folder.Path, "tokenizer_config.json"), "{ \"tokenizer_class\": \"XLMRobertaTokenizer\" }");
        StringAssert.Contains(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => EncoderCheckpoint.Load(folder.Path)).Message, "tokenizer_class 'XLMRobertaTokenizer' is not BERT's WordPiece tokenizer");
        File.Delete(Path.Combine(folder.Path, "tokenizer_config.json"));
        File.WriteAllText(Path.Combine(folder.Path, "tokenizer.json"), """{ "normalizer": { "type": "BertNormalizer", "lowercase": false, "strip_accents": null, "handle_chinese_chars": true } }""");
        CollectionAssert.AreEqual(new[] { "Café" }, EncoderCheckpoint.Load(folder.Path).Tokenizer.Tokenize("Café"), "without tokenizer_config.json, tokenizer.json's normalizer decides");
    }
}
