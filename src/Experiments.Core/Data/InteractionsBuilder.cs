namespace Experiments.Core.Data;

/// <summary>Appends interactions row by row (streaming loaders, generators) and freezes them into a table.</summary>
public sealed class InteractionsBuilder
{
    private readonly List<int> _user = new();
    private readonly List<int> _item = new();
    private readonly List<float> _rating = new();
    private readonly List<long> _timestamp = new();

    public InteractionsBuilder(IdMap? users = null, IdMap? items = null, bool hasRatings = true, bool hasTimestamps = true)
    {
        Users = users ?? new IdMap();
        Items = items ?? new IdMap();
        HasRatings = hasRatings;
        HasTimestamps = hasTimestamps;
    }

    public IdMap Users { get; }
    public IdMap Items { get; }
    public bool HasRatings { get; }
    public bool HasTimestamps { get; }
    public int Count => _user.Count;

    public void Add(string user, string item, float rating = 1f, long timestamp = 0) =>
        Add(Users.GetOrAdd(user), Items.GetOrAdd(item), rating, timestamp);

    public void Add(int user, int item, float rating = 1f, long timestamp = 0)
    {
        _user.Add(user);
        _item.Add(item);
        _rating.Add(rating);
        _timestamp.Add(timestamp);
    }

    public Interactions Build() =>
        new(Users, Items, _user.ToArray(), _item.ToArray(), _rating.ToArray(), _timestamp.ToArray(), HasRatings, HasTimestamps);
}
