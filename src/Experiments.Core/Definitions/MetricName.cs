using System.Globalization;

namespace Experiments.Core.Definitions;

/// <summary>A metric as written in a definition: <c>ndcg@10</c> is name "ndcg" with K = 10; <c>rmse</c> has no K.</summary>
public readonly record struct MetricName(string Name, int? K)
{
    public override string ToString() => K is { } k ? $"{Name}@{k}" : Name;

    /// <summary>
    /// Metrics that are better when lower: the errors, log-loss, and popularity (recommending the already popular);
    /// every other metric is better when higher.
    /// </summary>
    public static bool LowerIsBetter(string name) => name is "rmse" or "mae" or "log-loss" or "popularity";

    public static MetricName Parse(string text)
    {
        var at = text.IndexOf('@');
        if (at < 0) return new MetricName(text, null);
        return new MetricName(text[..at], int.Parse(text[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture));
    }

    /// <summary>The descriptor of <paramref name="metric"/>: same name, and a cut-off exactly when the descriptor needs one.</summary>
    public static MetricDescriptor? Find(IReadOnlyList<MetricDescriptor> metrics, MetricName metric) =>
        metrics.FirstOrDefault(m => m.Name == metric.Name && m.RequiresK == metric.K is not null);

    /// <summary>Why <paramref name="text"/> is not a valid metric, or null when it is.</summary>
    public static string? Check(string text, IReadOnlyList<MetricDescriptor> metrics)
    {
        static string Written(MetricDescriptor m) => m.RequiresK ? m.Name + "@K" : m.Name;
        var at = text.IndexOf('@');
        var name = at < 0 ? text : text[..at];
        var named = metrics.Where(m => m.Name == name).ToList();
        if (named.Count == 0)
        {
            var close = DefinitionValidator.Suggest(name, metrics.Select(m => m.Name).Distinct());
            return $"unknown metric '{name}'{(close is null ? "" : $"; did you mean '{string.Join("' or '", metrics.Where(m => m.Name == close).Select(Written))}'?")}; allowed: {string.Join(", ", metrics.Select(Written))}";
        }
        if (at < 0)
            return named.Any(m => !m.RequiresK) ? null : $"metric '{name}' needs a cut-off K, written as '{name}@10'";
        if (named.All(m => !m.RequiresK))
            return $"metric '{name}' takes no cut-off; write '{name}'";
        var k = text[(at + 1)..];
        return int.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1 && value <= 10_000
            ? null
            : $"the cut-off in '{text}' must be a whole number between 1 and 10000";
    }
}
