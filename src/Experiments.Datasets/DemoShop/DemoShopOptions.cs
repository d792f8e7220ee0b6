namespace Experiments.Datasets.DemoShop;

/// <summary>Size and seed of the generated demo shop. The same options always give the same shop, byte for byte.</summary>
public sealed record DemoShopOptions
{
    public int Users { get; init; } = 3000;
    public int Items { get; init; } = 1200;
    public double SessionsPerUser { get; init; } = 12;
    public int Seed { get; init; } = 7;

    /// <summary>Reads the options of a definition's <c>dataset.options</c>; names are checked by the definition's schema.</summary>
    public static DemoShopOptions From(IReadOnlyDictionary<string, double> options)
    {
        var result = new DemoShopOptions();
        if (options.TryGetValue("users", out var users)) result = result with { Users = (int)users };
        if (options.TryGetValue("items", out var items)) result = result with { Items = (int)items };
        if (options.TryGetValue("sessionsPerUser", out var sessions)) result = result with { SessionsPerUser = sessions };
        if (options.TryGetValue("seed", out var seed)) result = result with { Seed = (int)seed };
        return result;
    }
}
