using System.Globalization;
using Experiments.Core.Data;

namespace Experiments.Datasets.DemoShop;

/// <summary>
/// Generates the synthetic demo shop. The model behind it (documented in docs/demo-shop.md):
/// <list type="bullet">
/// <item>Products belong to one of 12 categories and one brand; each has a latent vector (its category's centre
/// plus noise), a quality and a price. Titles are brand + adjective + noun (+ variant).</item>
/// <item>Shoppers like two categories; their latent taste is the mean of those centres plus noise.</item>
/// <item>A session is one search query in a liked category (80%) or a random one. The shop's search engine ranks
/// the category's products by text match and popularity and shows ten; a shopper examines position p with
/// probability 1/(1 + 0.3(p−1)) (position bias) and clicks an examined product with a probability that grows
/// with taste·product + quality; some clicks become purchases, and most purchases get a 1–5 star rating.</item>
/// </list>
/// Clicks follow taste, not only popularity, so personalised models can beat most-popular on it.
/// </summary>
public static class DemoShopGenerator
{
    private const int Dimensions = 8;
    private const int Shown = 10;
    // A fixed start keeps timestamps identical across machines and years: 2026-01-01T00:00:00Z.
    private const long Epoch = 1767225600;

    public sealed record Product(string Id, string Title, string Category, string Brand, double Price);

    public sealed record Shopper(string Id, string Segment);

    public sealed record Query(string Id, string User, string Text, string Category, long Timestamp);

    public sealed record Impression(string QueryId, string User, string Item, int Position, bool Clicked, bool Purchased, long Timestamp);

    public sealed record Shop(
        DemoShopOptions Options,
        IReadOnlyList<Product> Products,
        IReadOnlyList<Shopper> Shoppers,
        IReadOnlyList<Query> Queries,
        IReadOnlyList<Impression> Impressions,
        Interactions Events,
        Interactions Ratings);

    public static Shop Generate(DemoShopOptions options)
    {
        var random = new Random(options.Seed);
        var categories = Catalogue.Categories;
        var centres = categories.Select(_ => Gaussian(random, Dimensions, 1.0)).ToArray();

        // Products.
        var products = new List<Product>(options.Items);
        var itemVectors = new double[options.Items][];
        var quality = new double[options.Items];
        var popularity = new double[options.Items];
        var itemCategory = new int[options.Items];
        var byCategory = categories.Select(_ => new List<int>()).ToArray();
        var brandCategories = Catalogue.Brands.Select(_ => Enumerable.Range(0, 3).Select(_ => random.Next(categories.Length)).ToArray()).ToArray();
        for (var i = 0; i < options.Items; i++)
        {
            var c = i < categories.Length ? i : Zipf(random, categories.Length, 0.6);
            var brands = Enumerable.Range(0, Catalogue.Brands.Length).Where(b => brandCategories[b].Contains(c)).ToList();
            var brand = brands.Count > 0 ? brands[random.Next(brands.Count)] : random.Next(Catalogue.Brands.Length);
            var category = categories[c];
            var noun = category.Nouns[random.Next(category.Nouns.Length)];
            var adjective = category.Adjectives[random.Next(category.Adjectives.Length)];
            var variant = Catalogue.Variants[random.Next(Catalogue.Variants.Length)];
            var title = $"{Catalogue.Brands[brand]} {adjective} {noun}{(variant.Length > 0 ? " " + variant : "")}";
            var price = Math.Round(category.BasePrice * Math.Exp(0.4 * NextGaussian(random)), 2);
            var id = $"P{i + 1:D5}";
            products.Add(new Product(id, title, category.Name, Catalogue.Brands[brand], price));
            itemVectors[i] = Add(centres[c], Gaussian(random, Dimensions, 0.6));
            quality[i] = 0.5 * NextGaussian(random);
            popularity[i] = Math.Exp(NextGaussian(random));
            itemCategory[i] = c;
            byCategory[c].Add(i);
        }

        // Shoppers and their sessions.
        var shoppers = new List<Shopper>(options.Users);
        var queries = new List<Query>();
        var impressions = new List<Impression>();
        var events = new InteractionsBuilder(hasRatings: false);
        var ratings = new InteractionsBuilder();
        foreach (var p in products) { events.Items.GetOrAdd(p.Id); ratings.Items.GetOrAdd(p.Id); }
        var shown = new List<(int Item, double Score)>();
        for (var u = 0; u < options.Users; u++)
        {
            var liked = new[] { Zipf(random, categories.Length, 0.6), random.Next(categories.Length) };
            var taste = Add(Scale(Add(centres[liked[0]], centres[liked[1]]), 0.5), Gaussian(random, Dimensions, 0.5));
            var userId = $"U{u + 1:D5}";
            shoppers.Add(new Shopper(userId, string.Join("+", liked.Distinct().Select(c => categories[c].Name))));
            var sessions = (int)Math.Floor(options.SessionsPerUser * (0.5 + random.NextDouble()));
            var time = Epoch + (long)(random.NextDouble() * 30 * 86400);
            for (var s = 0; s < Math.Max(1, sessions); s++)
            {
                time += 3600 + (long)(random.NextDouble() * 10 * 86400);
                var c = random.NextDouble() < 0.8 ? liked[random.Next(2)] : random.Next(categories.Length);
                var category = categories[c];
                var noun = category.Nouns[random.Next(category.Nouns.Length)];
                var adjective = random.NextDouble() < 0.5 ? category.Adjectives[random.Next(category.Adjectives.Length)] + " " : "";
                var queryId = $"Q{queries.Count + 1:D7}";
                queries.Add(new Query(queryId, userId, adjective + noun, category.Name, time));

                // The shop's search engine: text match and popularity, with some noise; it knows nothing of the shopper.
                shown.Clear();
                foreach (var i in byCategory[c])
                {
                    var title = products[i].Title;
                    var match = (title.Contains(noun, StringComparison.Ordinal) ? 2.0 : 0) + (adjective.Length > 0 && title.Contains(adjective.TrimEnd(), StringComparison.Ordinal) ? 1.0 : 0);
                    shown.Add((i, match + 0.7 * Math.Log(popularity[i]) + 0.8 * NextGaussian(random)));
                }
                shown.Sort((a, b) => b.Score.CompareTo(a.Score));
                for (var position = 1; position <= Math.Min(Shown, shown.Count); position++)
                {
                    var item = shown[position - 1].Item;
                    var affinity = Dot(taste, itemVectors[item]) / Math.Sqrt(Dimensions) + quality[item];
                    var examined = random.NextDouble() < 1.0 / (1 + 0.3 * (position - 1));
                    var clicked = examined && random.NextDouble() < Sigmoid(1.6 * affinity - 2.0);
                    var purchased = clicked && random.NextDouble() < 0.5 * Sigmoid(1.5 * affinity - 1.0);
                    var at = time + position * 17;
                    impressions.Add(new Impression(queryId, userId, products[item].Id, position, clicked, purchased, at));
                    if (clicked) events.Add(userId, products[item].Id, 1f, at);
                    if (purchased)
                    {
                        events.Add(userId, products[item].Id, 1f, at + 60);
                        if (random.NextDouble() < 0.8)
                        {
                            var stars = Math.Clamp(Math.Round(3.2 + 1.1 * affinity + 0.6 * NextGaussian(random)), 1, 5);
                            ratings.Add(userId, products[item].Id, (float)stars, at + 86400);
                        }
                    }
                }
            }
        }
        return new Shop(options, products, shoppers, queries, impressions, events.Build(), ratings.Build());
    }

    // The search side's settings are named only when they differ from the defaults, so earlier runs keep their fingerprint.
    public static string Describe(DemoShopOptions o) =>
        string.Create(CultureInfo.InvariantCulture, $"demo-shop (SYNTHETIC, generated: users={o.Users}, items={o.Items}, sessionsPerUser={o.SessionsPerUser}, seed={o.Seed}")
        + (o.SearchQueries == new DemoShopOptions().SearchQueries && o.SearchSessionsPerQuery == new DemoShopOptions().SearchSessionsPerQuery ? ""
            : string.Create(CultureInfo.InvariantCulture, $", searchQueries={o.SearchQueries}, searchSessionsPerQuery={o.SearchSessionsPerQuery}")) + ")";

    private static int Zipf(Random random, int n, double exponent)
    {
        var total = 0.0;
        for (var k = 1; k <= n; k++) total += Math.Pow(k, -exponent);
        var target = random.NextDouble() * total;
        for (var k = 1; k <= n; k++)
        {
            target -= Math.Pow(k, -exponent);
            if (target <= 0) return k - 1;
        }
        return n - 1;
    }

    private static double NextGaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static double[] Gaussian(Random random, int n, double scale) => Enumerable.Range(0, n).Select(_ => scale * NextGaussian(random)).ToArray();

    private static double[] Add(double[] a, double[] b) => a.Select((x, k) => x + b[k]).ToArray();

    private static double[] Scale(double[] a, double s) => a.Select(x => x * s).ToArray();

    private static double Dot(double[] a, double[] b)
    {
        var sum = 0.0;
        for (var k = 0; k < a.Length; k++) sum += a[k] * b[k];
        return sum;
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
