using System.Globalization;

namespace Experiments.Core.Definitions;

/// <summary>
/// Reads the parameters of a model or encoder entry (already checked against their <see cref="ParameterSpec"/>s): each
/// value as given, else the fallback passed in, else the default of the matching spec.
/// </summary>
public sealed class ParameterValues(IReadOnlyDictionary<string, object> values, IReadOnlyList<ParameterSpec>? specs = null)
{
    public double Number(string name, double? fallback = null) => Convert.ToDouble(Value(name, fallback), CultureInfo.InvariantCulture);

    public int Integer(string name, int? fallback = null) => Convert.ToInt32(Value(name, fallback), CultureInfo.InvariantCulture);

    public bool Flag(string name, bool? fallback = null) => (bool)Value(name, fallback);

    public string Text(string name, string? fallback = null) => (string)Value(name, fallback);

    /// <summary>A trainer's "threads": 0 (the default) means every core.</summary>
    public int Threads() => Integer("threads", 0) is > 0 and var n ? n : Environment.ProcessorCount;

    private object Value(string name, object? fallback) =>
        values.TryGetValue(name, out var value) ? value
        : fallback ?? specs?.FirstOrDefault(s => s.Name == name)?.Default ?? throw new ArgumentException($"Parameter '{name}' has no value and no default.", nameof(name));
}
