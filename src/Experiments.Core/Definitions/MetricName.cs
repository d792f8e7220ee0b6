using System.Globalization;

namespace Experiments.Core.Definitions;

/// <summary>A metric as written in a definition: <c>ndcg@10</c> is name "ndcg" with K = 10; <c>rmse</c> has no K.</summary>
public readonly record struct MetricName(string Name, int? K)
{
    public override string ToString() => K is { } k ? $"{Name}@{k}" : Name;

    public static MetricName Parse(string text)
    {
        var at = text.IndexOf('@');
        if (at < 0) return new MetricName(text, null);
        return new MetricName(text[..at], int.Parse(text[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture));
    }

    /// <summary>Why <paramref name="text"/> is not a valid metric, or null when it is.</summary>
    public static string? Check(string text, IReadOnlyList<MetricDescriptor> metrics)
    {
        var at = text.IndexOf('@');
        var name = at < 0 ? text : text[..at];
        var metric = metrics.FirstOrDefault(m => m.Name == name);
        if (metric is null)
        {
            string Written(MetricDescriptor m) => m.RequiresK ? m.Name + "@K" : m.Name;
            var close = DefinitionValidator.Suggest(name, metrics.Select(m => m.Name));
            return $"unknown metric '{name}'{(close is null ? "" : $"; did you mean '{Written(metrics.First(m => m.Name == close))}'?")}; allowed: {string.Join(", ", metrics.Select(Written))}";
        }
        if (at < 0)
            return metric.RequiresK ? $"metric '{name}' needs a cut-off K, written as '{name}@10'" : null;
        if (!metric.RequiresK)
            return $"metric '{name}' takes no cut-off; write '{name}'";
        var k = text[(at + 1)..];
        return int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 && value <= 10_000
            ? null
            : $"the cut-off in '{text}' must be a whole number between 1 and 10000";
    }
}
