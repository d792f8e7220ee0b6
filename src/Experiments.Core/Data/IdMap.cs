namespace Experiments.Core.Data;

/// <summary>Maps external string ids (user ids, item ids) to dense indices 0..Count-1 and back.</summary>
public sealed class IdMap
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly List<string> _ids = new();

    public int Count => _ids.Count;

    public string this[int index] => _ids[index];

    public IReadOnlyList<string> Ids => _ids;

    public int GetOrAdd(string id)
    {
        if (_index.TryGetValue(id, out var index)) return index;
        index = _ids.Count;
        _index.Add(id, index);
        _ids.Add(id);
        return index;
    }

    public bool TryGetIndex(string id, out int index) => _index.TryGetValue(id, out index);
}
