namespace Experiments.Datasets.DemoShop;

/// <summary>Size and seed of the generated demo shop. The same options always give the same shop, byte for byte.</summary>
public sealed record DemoShopOptions
{
    public int Users { get; init; } = 3000;
    public int Items { get; init; } = 1200;
    public double SessionsPerUser { get; init; } = 12;
    public int Seed { get; init; } = 7;
    /// <summary>Distinct search queries of the search side (products, search-queries, search-judgements, search-log).</summary>
    public int SearchQueries { get; init; } = 800;
    /// <summary>Average sessions per search query in the search log.</summary>
    public double SearchSessionsPerQuery { get; init; } = 12;

    /// <summary>Reads the options of a definition's <c>dataset.options</c>; names are checked by the definition's schema.</summary>
    public static DemoShopOptions From(IReadOnlyDictionary<string, double> options)
    {
        var result = new DemoShopOptions();
        if (options.TryGetValue("users", out var users)) result = result with { Users = (int)users };
        if (options.TryGetValue("items", out var items)) result = result with { Items = (int)items };
        if (options.TryGetValue("sessionsPerUser", out var sessions)) result = result with { SessionsPerUser = sessions };
        if (options.TryGetValue("seed", out var seed)) result = result with { Seed = (int)seed };
        if (options.TryGetValue("searchQueries", out var searchQueries)) result = result with { SearchQueries = (int)searchQueries };
        if (options.TryGetValue("searchSessionsPerQuery", out var searchSessions)) result = result with { SearchSessionsPerQuery = searchSessions };
        return result;
    }
}
