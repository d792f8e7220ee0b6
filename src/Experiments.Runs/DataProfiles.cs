using Experiments.Core.Data;
using Experiments.Ctr;
using Experiments.Search.Data;
using Experiments.Store;

namespace Experiments.Runs;

/// <summary>
/// The sizes a report shows of the data a run saw, recorded in the store: the whole table (null split) and each
/// split's parts. Sparsity is 1 − rows / (users × items), rows counted as loaded (repeats included).
/// </summary>
internal static class DataProfiles
{
    public static IEnumerable<ProfileRecord> Interactions(Interactions data)
    {
        var (users, items) = (Distinct(data.User), Distinct(data.Item));
        yield return new(null, "users", users);
        yield return new(null, "items", items);
        yield return new(null, "interactions", data.Count);
        if (users > 0 && items > 0) yield return new(null, "sparsity", 1 - data.Count / ((double)users * items));
    }

    public static IEnumerable<ProfileRecord> Split(string split, Interactions train, Interactions? validation, Interactions test)
    {
        yield return new(split, "train interactions", train.Count);
        yield return new(split, "train users", Distinct(train.User));
        yield return new(split, "train items", Distinct(train.Item));
        if (validation is not null) yield return new(split, "validation interactions", validation.Count);
        yield return new(split, "test interactions", test.Count);
        yield return new(split, "test users", Distinct(test.User));
    }

    public static IEnumerable<ProfileRecord> Clicks(ClickLog log) => Clicks(null, "rows", log);

    public static IEnumerable<ProfileRecord> Split(string split, ClickLog train, ClickLog? validation, ClickLog test) =>
        [.. Clicks(split, "train rows", train), .. validation is null ? [] : Clicks(split, "validation rows", validation), .. Clicks(split, "test rows", test)];

    private static IEnumerable<ProfileRecord> Clicks(string? split, string rows, ClickLog log)
    {
        yield return new(split, rows, log.Count);
        if (log.Count > 0) yield return new(split, $"{rows}: positive share", log.Labels.Count(l => l) / (double)log.Count);
        if (split is null) yield return new(null, "features", log.Schema.Numeric.Count + log.Schema.Categorical.Count + log.Schema.Text.Count);
    }

    public static IEnumerable<ProfileRecord> Search(SearchCollection collection)
    {
        yield return new(null, "queries", collection.Queries.Count);
        if (collection.Catalogue is { } catalogue) yield return new(null, "products", catalogue.Count);
        if (collection.Intents.Count > 0) yield return new(null, "intents", collection.Intents.Count);
    }

    public static IEnumerable<ProfileRecord> Split(string split, int trainQueries, int testQueries) =>
        [new(split, "train queries", trainQueries), new(split, "test queries", testQueries)];

    private static int Distinct(int[] ids) => ids.Distinct().Count();
}
