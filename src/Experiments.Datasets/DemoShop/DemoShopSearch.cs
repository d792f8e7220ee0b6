using Experiments.Core;

namespace Experiments.Datasets.DemoShop;

/// <summary>
/// The demo shop's search side, generated from the shop's products with a separate seeded stream (so the events,
/// ratings, queries and impressions tables stay as they were). Model (docs/demo-shop.md):
/// <list type="bullet">
/// <item>Each product gets a colour, a material, a hidden quality N(0, 1), a popularity (sales) that grows with the
/// quality, and a description that names its type by another name half of the time.</item>
/// <item>A query asks for a product type of a category, by its catalogue name or a paraphrase no title contains
/// ("sneakers" for running shoes), optionally with a colour, an adjective or a brand.</item>
/// <item>Graded judgements from the intent: 0 another category; 1 the category but another type; 2 the type; 3 the type
/// with the requested colour, adjective or brand (or any, when none was asked); one grade less (not below 1) for
/// products of poor quality (below −1).</item>
/// <item>A query log: each query is searched in several sessions; the shop's engine shows ten products (lexical match
/// plus popularity plus noise); the shopper examines position p with probability 1/(1 + 0.3(p − 1)) and clicks an
/// examined product with probability 0.02, 0.08, 0.3 or 0.7 for grades 0–3.</item>
/// </list>
/// </summary>
public static class DemoShopSearch
{
    public sealed record Product(string Id, string Title, string Description, string Category, string Brand, string Colour, string Material, double Popularity, double Price);

    public sealed record Query(string Id, string Text, string Category);

    public sealed record Judgement(string QueryId, string Item, int Grade);

    public sealed record Shown(string QueryId, int Session, string Item, int Position, bool Clicked);

    public sealed record Search(IReadOnlyList<Product> Products, IReadOnlyList<Query> Queries, IReadOnlyList<Judgement> Judgements, IReadOnlyList<Shown> Log);

    private sealed record Intent(int Category, string Noun, string? Colour, string? Adjective, string? Brand);

    private static readonly double[] ClickRates = [0.02, 0.08, 0.3, 0.7];

    public static Search Generate(DemoShopGenerator.Shop shop)
    {
        var options = shop.Options;
        var random = new Random(Seeds.Mix(options.Seed, 0x5EA2C4));
        var categories = Catalogue.Categories;
        var count = shop.Products.Count;
        var category = new int[count];
        var noun = new string[count];
        var adjective = new string[count];
        var quality = new double[count];
        var products = new List<Product>(count);
        for (var i = 0; i < count; i++)
        {
            var p = shop.Products[i];
            category[i] = Array.FindIndex(categories, c => c.Name == p.Category);
            var kind = categories[category[i]];
            // The title is "brand adjective noun [variant]": its parts are read back from it.
            noun[i] = kind.Nouns.First(n => p.Title.Contains(" " + n, StringComparison.Ordinal));
            adjective[i] = kind.Adjectives.First(a => p.Title.Contains($" {a} ", StringComparison.Ordinal));
            quality[i] = Gaussian(random);
            var colour = SearchVocabulary.Colours[random.Next(SearchVocabulary.Colours.Length)];
            var material = SearchVocabulary.Materials[random.Next(SearchVocabulary.Materials.Length)];
            var popularity = Math.Round(20 * Math.Exp(0.8 * quality[i] + 0.6 * Gaussian(random)));
            var named = random.NextDouble() < 0.5 ? SearchVocabulary.Paraphrases[noun[i]][random.Next(2)] : noun[i];
            var description = string.Join(" ",
                string.Format(Pick(random, SearchVocabulary.DescriptionOpenings), adjective[i], noun[i], p.Brand),
                string.Format(Pick(random, SearchVocabulary.DescriptionMiddles), material, colour),
                string.Format(Pick(random, SearchVocabulary.DescriptionEndings), named));
            products.Add(new Product(p.Id, p.Title, description, p.Category, p.Brand, colour, material, popularity, p.Price));
        }

        // Distinct query texts, each with the intent that produced it.
        var queries = new List<Query>();
        var intents = new List<Intent>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var attempt = 0; queries.Count < options.SearchQueries && attempt < options.SearchQueries * 50; attempt++)
        {
            var product = random.Next(count);
            var c = category[product];
            var n = noun[product];
            var name = random.NextDouble() < 0.45 ? n : SearchVocabulary.Paraphrases[n][random.Next(2)];
            var kind = random.NextDouble();
            var intent = kind < 0.4 ? new Intent(c, n, null, null, null)
                : kind < 0.65 ? new Intent(c, n, products[product].Colour, null, null)
                : kind < 0.85 ? new Intent(c, n, null, adjective[product], null)
                : new Intent(c, n, null, null, products[product].Brand);
            var text = intent switch
            {
                { Colour: { } colour } => random.NextDouble() < 0.7 ? $"{colour} {name}" : $"{name} in {colour}",
                { Adjective: { } a } => $"{a} {name}",
                { Brand: { } b } => $"{b.ToLowerInvariant()} {name}",
                _ => name,
            };
            if (!seen.Add(text)) continue;
            queries.Add(new Query($"S{queries.Count + 1:D5}", text, categories[c].Name));
            intents.Add(intent);
        }

        var judgements = new List<Judgement>();
        var log = new List<Shown>();
        var grades = new int[count];
        var engine = new List<(int Item, double Score)>(count);
        var baseScore = new double[count];
        for (var q = 0; q < queries.Count; q++)
        {
            var intent = intents[q];
            for (var i = 0; i < count; i++)
            {
                grades[i] = Grade(intent, category[i], noun[i], adjective[i], products[i], quality[i]);
                if (grades[i] > 0) judgements.Add(new Judgement(queries[q].Id, products[i].Id, grades[i]));
            }
            // The shop's engine: the words of the query in the product's title or attributes, the category, popularity; noise per session.
            var words = queries[q].Text.Split(' ');
            for (var i = 0; i < count; i++)
            {
                var p = products[i];
                var match = words.Count(w => p.Title.Contains(w, StringComparison.OrdinalIgnoreCase) || w == p.Colour || w == p.Brand.ToLowerInvariant());
                baseScore[i] = match + (category[i] == intent.Category ? 1.5 : 0) + 0.4 * Math.Log(1 + p.Popularity);
            }
            var sessions = Math.Max(1, (int)Math.Round(options.SearchSessionsPerQuery * (0.5 + random.NextDouble())));
            for (var s = 1; s <= sessions; s++)
            {
                engine.Clear();
                for (var i = 0; i < count; i++) engine.Add((i, baseScore[i] + Gaussian(random)));
                engine.Sort((a, b) => b.Score.CompareTo(a.Score));
                for (var position = 1; position <= 10; position++)
                {
                    var item = engine[position - 1].Item;
                    var examined = random.NextDouble() < 1.0 / (1 + 0.3 * (position - 1));
                    var clicked = examined && random.NextDouble() < ClickRates[grades[item]];
                    log.Add(new Shown(queries[q].Id, s, products[item].Id, position, clicked));
                }
            }
        }
        return new Search(products, queries, judgements, log);
    }

    private static int Grade(Intent intent, int category, string noun, string adjective, Product product, double quality)
    {
        if (category != intent.Category) return 0;
        if (noun != intent.Noun) return 1;
        var satisfied = intent switch
        {
            { Colour: { } c } => product.Colour == c,
            { Adjective: { } a } => adjective == a,
            { Brand: { } b } => product.Brand == b,
            _ => true,
        };
        return Math.Max(1, 2 + (satisfied ? 1 : 0) - (quality < -1 ? 1 : 0));
    }

    private static string Pick(Random random, string[] values) => values[random.Next(values.Length)];

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
