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

    /// <summary>Number of distinct users and items that actually occur in these rows.</summary>
    public (int Users, int Items) CountDistinct()
    {
        var users = new HashSet<int>(User);
        var items = new HashSet<int>(Item);
        return (users.Count, items.Count);
    }
}
