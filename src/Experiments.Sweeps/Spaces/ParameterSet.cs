using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Experiments.Sweeps;

/// <summary>
/// The parameters of one trial, in the space's order: only the active ones (a trainer's parameters appear only with
/// that trainer). Parameters of a choice's sub-space are named <c>choice.value.name</c>; <see cref="Within"/> strips
/// the prefix so a model can read its own names.
/// </summary>
public sealed class ParameterSet : IReadOnlyDictionary<string, object>, IEquatable<ParameterSet>
{
    private readonly List<KeyValuePair<string, object>> _entries;
    private readonly Dictionary<string, object> _byName;

    public ParameterSet(IEnumerable<KeyValuePair<string, object>> entries)
    {
        _entries = entries.Select(e => new KeyValuePair<string, object>(e.Key, ParameterValue.Normalize(e.Value))).ToList();
        _byName = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, value) in _entries)
            if (!_byName.TryAdd(name, value)) throw new ArgumentException($"Parameter '{name}' is given twice.");
    }

    public static ParameterSet Empty { get; } = new([]);

    public object this[string key] => _byName.TryGetValue(key, out var value) ? value
        : throw new KeyNotFoundException($"The trial has no parameter '{key}'; it has: {string.Join(", ", Keys)}.");

    public IEnumerable<string> Keys => _entries.Select(e => e.Key);
    public IEnumerable<object> Values => _entries.Select(e => e.Value);
    public int Count => _entries.Count;
    public bool ContainsKey(string key) => _byName.ContainsKey(key);
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object value) => _byName.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => _entries.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public double Number(string name) => ParameterValue.ToDouble(this[name]);
    public long Integer(string name) => this[name] is long l ? l : throw new InvalidCastException($"Parameter '{name}' is {ParameterValue.Format(this[name])}, not an integer.");
    public string Text(string name) => this[name] as string ?? throw new InvalidCastException($"Parameter '{name}' is {ParameterValue.Format(this[name])}, not a string.");

    /// <summary>The parameters named <c>prefix.x</c>, as <c>x</c> (e.g. <c>Within("trainer.lightgbm")</c>).</summary>
    public ParameterSet Within(string prefix) =>
        new(_entries.Where(e => e.Key.StartsWith(prefix + ".", StringComparison.Ordinal))
            .Select(e => new KeyValuePair<string, object>(e.Key[(prefix.Length + 1)..], e.Value)));

    /// <summary>A JSON object of the parameters, in order.</summary>
    public string ToJson()
    {
        var text = new StringBuilder("{");
        foreach (var (name, value) in _entries)
        {
            if (text.Length > 1) text.Append(',');
            text.Append(System.Text.Json.JsonSerializer.Serialize(name)).Append(':').Append(ParameterValue.Format(value));
        }
        return text.Append('}').ToString();
    }

    /// <summary>Reads <see cref="ToJson"/>'s output: integers become longs, other numbers doubles (a space's <see cref="SearchSpace.Conform"/> settles the types).</summary>
    public static ParameterSet FromJson(string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return new ParameterSet(document.RootElement.EnumerateObject().Select(p => new KeyValuePair<string, object>(p.Name, ParameterValue.Read(p.Value, p.Name))));
    }

    public override string ToString() => string.Join(", ", _entries.Select(e => $"{e.Key}={ParameterValue.Format(e.Value)}"));

    public bool Equals(ParameterSet? other) =>
        other is not null && other.Count == Count && _entries.All(e => other.TryGetValue(e.Key, out var v) && ParameterValue.Same(v, e.Value));

    public override bool Equals(object? obj) => obj is ParameterSet other && Equals(other);

    public override int GetHashCode()
    {
        var hash = Count;
        foreach (var name in _byName.Keys.Order(StringComparer.Ordinal)) hash = hash * 31 + name.GetHashCode(StringComparison.Ordinal);
        return hash;
    }
}
