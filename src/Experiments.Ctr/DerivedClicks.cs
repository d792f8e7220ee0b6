using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Datasets.Loading;

namespace Experiments.Ctr;

/// <summary>
/// A click log derived from ratings, as in implicit-feedback studies: a rating ≥ the threshold is a positive; for each
/// positive, items the user never rated are sampled (seeded) as negatives. Features: the user, the item, and the
/// item's category and title when the data set has an item table.
/// </summary>
public static class DerivedClicks
{
    public static ClickLog FromRatings(Interactions data, Table? items, double positiveRating, int negativesPerPositive, int seed)
    {
        if (negativesPerPositive < 1) throw new ExperimentsException($"negativesPerPositive must be at least 1; it is {negativesPerPositive}.");
        var rated = UserItemMatrix.ByUser(data);
        var random = new Random(seed);
        var users = new List<string>();
        var itemIds = new List<string>();
        var labels = new List<bool>();
        for (var r = 0; r < data.Count; r++)
        {
            if (data.HasRatings && data.Rating[r] < positiveRating) continue;
            var user = data.User[r];
            var seen = rated.RowIndices(user);
            if (seen.Length >= data.Items.Count) continue;
            users.Add(data.Users[user]);
            itemIds.Add(data.Items[data.Item[r]]);
            labels.Add(true);
            for (var n = 0; n < negativesPerPositive; n++)
            {
                int candidate;
                do candidate = random.Next(data.Items.Count); while (seen.BinarySearch(candidate) >= 0);
                users.Add(data.Users[user]);
                itemIds.Add(data.Items[candidate]);
                labels.Add(false);
            }
        }
        if (labels.Count == 0) throw new ExperimentsException($"No rating reaches {positiveRating}: the derived click log would have no positives.");
        var categorical = new List<(string Name, string[] Values)> { ("user", users.ToArray()), ("item", itemIds.ToArray()) };
        var text = new List<(string Name, string[] Values)>();
        if (items is not null && items.WithRole("item")?.Strings is { } ids)
        {
            var row = ids.Select((id, i) => (id, i)).GroupBy(x => x.id).ToDictionary(g => g.Key, g => g.First().i);
            string[] Lookup(TableColumn column) => itemIds.Select(id => row.TryGetValue(id, out var i) ? column.Strings![i] : "").ToArray();
            if (items.WithRole("category") is { Strings: not null } category) categorical.Add(("category", Lookup(category)));
            if (items.WithRole("title") is { Strings: not null } title) text.Add(("title", Lookup(title)));
        }
        var schema = new ClickLogSchema("click", [], categorical.Select(c => c.Name).ToList(), text.Select(t => t.Name).ToList());
        return new ClickLog(schema, labels.ToArray(), [], categorical.Select(c => c.Values).ToArray(), text.Select(t => t.Values).ToArray(), null);
    }
}
