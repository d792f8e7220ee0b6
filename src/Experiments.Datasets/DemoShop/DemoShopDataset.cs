using System.Globalization;
using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Datasets.Loading;
using Experiments.Datasets.Manifests;

namespace Experiments.Datasets.DemoShop;

/// <summary>The demo shop as a <see cref="Dataset"/>: generated in memory on first use, never read from disk.</summary>
public sealed class DemoShopDataset : Dataset
{
    private readonly Lazy<DemoShopGenerator.Shop> _shop;
    private readonly Lazy<DemoShopSearch.Search> _search;

    public DemoShopDataset(DatasetManifest manifest, DemoShopOptions options, DataCheckReport checks) : base(manifest, checks)
    {
        Options = options;
        _shop = new Lazy<DemoShopGenerator.Shop>(() => DemoShopGenerator.Generate(options));
        _search = new Lazy<DemoShopSearch.Search>(() => DemoShopSearch.Generate(Shop));
    }

    public DemoShopOptions Options { get; }

    public DemoShopGenerator.Shop Shop => _shop.Value;

    public override string Origin => DemoShopGenerator.Describe(Options);

    protected override IEnumerable<KeyValuePair<string, string>> FingerprintParts() =>
        [new("generator", "demo-shop/1"), new("options", Origin)];

    protected override Interactions LoadInteractions(TableManifest table, InteractionsBuilder builder)
    {
        foreach (var product in Shop.Products) builder.Items.GetOrAdd(product.Id);
        var source = table.Name switch
        {
            "events" => Shop.Events,
            "ratings" => Shop.Ratings,
            _ => throw new ExperimentsException($"demo-shop has no generated interaction table '{table.Name}'."),
        };
        for (var r = 0; r < source.Count; r++)
            builder.Add(source.Users[source.User[r]], source.Items[source.Item[r]], source.Rating[r], source.Timestamp[r]);
        return builder.Build();
    }

    private static List<string[]> Clicks(DemoShopGenerator.Shop shop, Func<double, string> f)
    {
        var products = shop.Products.ToDictionary(p => p.Id);
        var queries = shop.Queries.ToDictionary(q => q.Id);
        return shop.Impressions.Select(i =>
        {
            var p = products[i.Item];
            var q = queries[i.QueryId];
            return new[] { i.QueryId, i.User, i.Item, f(i.Position), q.Text, p.Title, p.Category, p.Brand, f(p.Price), q.Category, i.Clicked ? "1" : "0", f(i.Timestamp) };
        }).ToList();
    }

    protected override Table LoadTable(TableManifest table)
    {
        var shop = Shop;
        string F(double v) => v.ToString(CultureInfo.InvariantCulture);
        IReadOnlyList<string[]> rows = table.Name switch
        {
            "items" => shop.Products.Select(p => new[] { p.Id, p.Title, p.Category, p.Brand, F(p.Price) }).ToList(),
            "users" => shop.Shoppers.Select(s => new[] { s.Id, s.Segment }).ToList(),
            "queries" => shop.Queries.Select(q => new[] { q.Id, q.User, q.Text, q.Category, F(q.Timestamp) }).ToList(),
            "impressions" => shop.Impressions.Select(i => new[] { i.QueryId, i.User, i.Item, F(i.Position), i.Clicked ? "1" : "0", i.Purchased ? "1" : "0", F(i.Timestamp) }).ToList(),
            "clicks" => Clicks(shop, F),
            "products" => _search.Value.Products.Select(p => new[] { p.Id, p.Title, p.Description, p.Category, p.Brand, p.Colour, p.Material, F(p.Popularity), F(p.Price) }).ToList(),
            "search-queries" => _search.Value.Queries.Select(q => new[] { q.Id, q.Text, q.Category }).ToList(),
            "search-judgements" => _search.Value.Judgements.Select(j => new[] { j.QueryId, j.Item, F(j.Grade) }).ToList(),
            "search-log" => _search.Value.Log.Select(l => new[] { l.QueryId, F(l.Session), l.Item, F(l.Position), l.Clicked ? "1" : "0" }).ToList(),
            _ => throw new ExperimentsException($"demo-shop has no generated table '{table.Name}'."),
        };
        var columns = table.Columns.Select((c, k) => c.Type == ColumnType.String
            ? new TableColumn(c, rows.Select(r => r[k]).ToArray(), null)
            : new TableColumn(c, null, rows.Select(r => double.Parse(r[k], CultureInfo.InvariantCulture)).ToArray())).ToList();
        return new Table(table.Name, "generated", columns, Enumerable.Range(1, rows.Count).Select(i => (long)i).ToArray());
    }
}
