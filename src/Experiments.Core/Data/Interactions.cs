namespace Experiments.Core.Data;

/// <summary>
/// User–item interactions in columnar form: one row per event (a rating, a click, a purchase).
/// Users and items are dense indices into <see cref="Users"/> and <see cref="Items"/>, which every subset
/// (train, test, fold) shares, so indices mean the same thing across a split.
/// </summary>
public sealed class Interactions
{
    public Interactions(IdMap users, IdMap items, int[] user, int[] item, float[] rating, long[] timestamp,
        bool hasRatings, bool hasTimestamps)
    {
        if (user.Length != item.Length || user.Length != rating.Length || user.Length != timestamp.Length)
            throw new ArgumentException("All interaction columns must have the same length.");
        Users = users;
        Items = items;
        User = user;
        Item = item;
        Rating = rating;
        Timestamp = timestamp;
        HasRatings = hasRatings;
        HasTimestamps = hasTimestamps;
    }

    public IdMap Users { get; }
    public IdMap Items { get; }
    public int[] User { get; }
    public int[] Item { get; }
    /// <summary>The rating of each row; 1 for implicit data without ratings.</summary>
    public float[] Rating { get; }
    /// <summary>The time of each row (Unix seconds, or the position in the user's sequence); 0 when unknown.</summary>
    public long[] Timestamp { get; }
    public bool HasRatings { get; }
    public bool HasTimestamps { get; }
    public int Count => User.Length;

    /// <summary>The rows at <paramref name="rows"/>, in that order, sharing this table's id maps.</summary>
    public Interactions Subset(IReadOnlyList<int> rows)
    {
        var user = new int[rows.Count];
        var item = new int[rows.Count];
        var rating = new float[rows.Count];
        var timestamp = new long[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            user[i] = User[r];
            item[i] = Item[r];
            rating[i] = Rating[r];
            timestamp[i] = Timestamp[r];
        }
        return new Interactions(Users, Items, user, item, rating, timestamp, HasRatings, HasTimestamps);
    }

    /// <summary>
    /// One row per distinct (user, item) pair, in the order the pairs first occur, so that no pair can be on both sides
    /// of a split. A pair's value: with ratings, the mean of its ratings (the rating trainers average a pair rated
    /// twice); without, its number of events (what the implicit trainers count as confidence). Its timestamp: the
    /// earliest, when the user first met the item, so time-ordered splits hold out the items a user met last.
    /// Returns this table when no pair repeats.
    /// </summary>
    public Interactions UniquePairs()
    {
        var index = new Dictionary<long, int>(Count);
        var first = new List<int>(Count);
        var sums = new List<double>(Count);
        var counts = new List<int>(Count);
        var earliest = new List<long>(Count);
        for (var r = 0; r < Count; r++)
        {
            var key = (long)User[r] << 32 | (uint)Item[r];
            if (index.TryGetValue(key, out var pair))
            {
                sums[pair] += Rating[r];
                counts[pair]++;
                earliest[pair] = Math.Min(earliest[pair], Timestamp[r]);
                continue;
            }
            index[key] = first.Count;
            first.Add(r);
            sums.Add(Rating[r]);
            counts.Add(1);
            earliest.Add(Timestamp[r]);
        }
        if (first.Count == Count) return this;
        var user = new int[first.Count];
        var item = new int[first.Count];
        var rating = new float[first.Count];
        for (var p = 0; p < first.Count; p++)
        {
            user[p] = User[first[p]];
            item[p] = Item[first[p]];
            rating[p] = (float)(HasRatings ? sums[p] / counts[p] : counts[p]);
        }
        return new Interactions(Users, Items, user, item, rating, earliest.ToArray(), HasRatings, HasTimestamps);
    }

    /// <summary>The rows of each part in turn (tables of one data set, sharing id maps).</summary>
    public static Interactions Concatenate(params Interactions[] parts)
    {
        if (parts.Any(p => p.Users != parts[0].Users || p.Items != parts[0].Items)) throw new ArgumentException("Only tables that share their id maps can be concatenated.");
        return new(parts[0].Users, parts[0].Items, [.. parts.SelectMany(p => p.User)], [.. parts.SelectMany(p => p.Item)], [.. parts.SelectMany(p => p.Rating)],
            [.. parts.SelectMany(p => p.Timestamp)], parts.All(p => p.HasRatings), parts.All(p => p.HasTimestamps));
    }

    /// <summary>Number of distinct users and items that actually occur in these rows.</summary>
    public (int Users, int Items) CountDistinct()
    {
        var users = new HashSet<int>(User);
        var items = new HashSet<int>(Item);
        return (users.Count, items.Count);
    }
}
