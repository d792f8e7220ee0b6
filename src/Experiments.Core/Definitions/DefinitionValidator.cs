using System.Globalization;

namespace Experiments.Core.Definitions;

/// <summary>
/// Checks a parsed definition against a <see cref="Shape"/> and collects every problem (not just the first), each
/// with its JSON path, line and column, and the allowed values where there is a list of them.
/// </summary>
public static class DefinitionValidator
{
    public static List<DefinitionError> Validate(JsonTree node, Shape shape, string path = "$")
    {
        var errors = new List<DefinitionError>();
        Check(node, shape, path, errors);
        return errors;
    }

    private static void Check(JsonTree node, Shape shape, string path, List<DefinitionError> errors)
    {
        void Fail(string message) => errors.Add(new DefinitionError(path, node.Line, node.Column, message));

        switch (shape)
        {
            case StringShape s:
                if (node.Kind != JsonKind.String) { Fail(Expected("a string", node)); return; }
                if (s.Allowed is { } allowed && !allowed.Contains(node.Text!))
                    Fail(UnknownValue($"value '{node.Text}'", node.Text!, allowed));
                else if (s.Allowed is null && (s.Whitespace ? string.IsNullOrEmpty(node.Text) : string.IsNullOrWhiteSpace(node.Text)))
                    Fail("must not be empty");
                return;
            case IntegerShape i:
                if (node.Kind != JsonKind.Number || !node.IsIntegerLiteral) { Fail(Expected("an integer", node)); return; }
                if ((i.Min is { } imin && node.Number < imin) || (i.Max is { } imax && node.Number > imax))
                    Fail($"{node.Text} is out of range: {Range(i.Min, i.Max, false, false)}");
                return;
            case NumberShape n:
                if (node.Kind != JsonKind.Number) { Fail(Expected("a number", node)); return; }
                var below = n.Min is { } min && (n.ExclusiveMin ? node.Number <= min : node.Number < min);
                var above = n.Max is { } max && (n.ExclusiveMax ? node.Number >= max : node.Number > max);
                if (below || above) Fail($"{node.Text} is out of range: {Range(n.Min, n.Max, n.ExclusiveMin, n.ExclusiveMax)}");
                return;
            case BooleanShape:
                if (node.Kind is not (JsonKind.True or JsonKind.False)) Fail(Expected("true or false", node));
                return;
            case ArrayShape a:
                if (node.Kind != JsonKind.Array) { Fail(Expected("an array", node)); return; }
                if (node.Items.Count < a.MinItems) Fail($"needs at least {a.MinItems} item{(a.MinItems == 1 ? "" : "s")}");
                var seen = new HashSet<string>();
                for (var k = 0; k < node.Items.Count; k++)
                {
                    var item = node.Items[k];
                    Check(item, a.Items, $"{path}[{k}]", errors);
                    if (a.UniqueItems && item.Kind == JsonKind.String && !seen.Add(item.Text!))
                        errors.Add(new DefinitionError($"{path}[{k}]", item.Line, item.Column, $"'{item.Text}' is listed twice"));
                }
                return;
            case MetricShape m:
                if (node.Kind != JsonKind.String) { Fail(Expected("a metric name such as \"ndcg@10\"", node)); return; }
                if (MetricName.Check(node.Text!, m.Metrics) is { } problem) Fail(problem);
                return;
            case ObjectShape o:
                CheckObject(node, o, path, errors, Fail);
                return;
            case TaggedObjectShape t:
                if (node.Kind != JsonKind.Object) { Fail(Expected("an object", node)); return; }
                var tag = node[t.Tag];
                if (tag is null) { Fail($"missing required property '{t.Tag}'; allowed values: {string.Join(", ", t.Variants.Keys)}"); return; }
                if (tag.Kind != JsonKind.String)
                {
                    errors.Add(new DefinitionError($"{path}.{t.Tag}", tag.Line, tag.Column, Expected("a string", tag)));
                    return;
                }
                if (!t.Variants.TryGetValue(tag.Text!, out var variant))
                {
                    errors.Add(new DefinitionError($"{path}.{t.Tag}", tag.Line, tag.Column,
                        UnknownValue($"{t.Tag} '{tag.Text}'", tag.Text!, t.Variants.Keys.ToList())));
                    return;
                }
                CheckObject(node, variant, path, errors, Fail);
                return;
            case EitherShape e:
                if (node.Kind != JsonKind.Object) { Fail(Expected("an object", node)); return; }
                if (node[e.Key] is not null) CheckObject(node, e.WithKey, path, errors, Fail);
                else if (e.Otherwise is TaggedObjectShape other && node[other.Tag] is null)
                    Fail($"missing required property '{other.Tag}' or '{e.Key}': '{other.Tag}' names a registered data set (allowed: {string.Join(", ", other.Variants.Keys)}), '{e.Key}' names your own files");
                else Check(node, e.Otherwise, path, errors);
                return;
            case StringOrObjectShape either:
                if (node.Kind == JsonKind.String) Check(node, either.Text, path, errors);
                else if (node.Kind == JsonKind.Object) CheckObject(node, either.Object, path, errors, Fail);
                else Fail(Expected($"a string or an object ({string.Join(", ", either.Object.Properties.Select(p => p.Name))})", node));
                return;
            case MapShape map:
                if (node.Kind != JsonKind.Object) { Fail(Expected("an object", node)); return; }
                var keys = new HashSet<string>();
                foreach (var property in node.Properties)
                    if (!keys.Add(property.Name))
                        errors.Add(new DefinitionError($"{path}.{property.Name}", property.Line, property.Column, $"property '{property.Name}' is given twice"));
                    else Check(property.Value, map.Values, $"{path}.{property.Name}", errors);
                return;
            case AnyShape:
                return;
            default:
                throw new InvalidOperationException($"No check for {shape.GetType().Name}.");
        }
    }

    private static void CheckObject(JsonTree node, ObjectShape shape, string path, List<DefinitionError> errors, Action<string> fail)
    {
        if (node.Kind != JsonKind.Object) { fail(Expected("an object", node)); return; }
        var seen = new HashSet<string>();
        foreach (var property in node.Properties)
        {
            var propertyPath = $"{path}.{property.Name}";
            if (!seen.Add(property.Name))
            {
                errors.Add(new DefinitionError(propertyPath, property.Line, property.Column, $"property '{property.Name}' is given twice"));
                continue;
            }
            var known = shape.Find(property.Name);
            if (known is null)
            {
                var names = shape.Properties.Select(p => p.Name).ToList();
                errors.Add(new DefinitionError(propertyPath, property.Line, property.Column,
                    names.Count == 0
                        ? $"unknown property '{property.Name}'; this object takes no properties"
                        : UnknownValue($"property '{property.Name}'", property.Name, names)));
                continue;
            }
            Check(property.Value, known.Shape, propertyPath, errors);
        }
        foreach (var required in shape.Properties.Where(p => p.Required && !seen.Contains(p.Name)))
            fail($"missing required property '{required.Name}' ({required.Shape.Description})");
    }

    private static string Expected(string what, JsonTree node) =>
        $"expected {what}, got {node.KindName}{(node.Kind is JsonKind.String or JsonKind.Number ? $" ({Quote(node)})" : "")}";

    private static string Quote(JsonTree node) => node.Kind == JsonKind.String ? $"\"{node.Text}\"" : node.Text!;

    private static string Range(double? min, double? max, bool exclusiveMin, bool exclusiveMax)
    {
        static string F(double v) => v.ToString(CultureInfo.InvariantCulture);
        return (min, max) switch
        {
            ({ } lo, { } hi) => $"must be {(exclusiveMin ? "greater than" : "at least")} {F(lo)} and {(exclusiveMax ? "less than" : "at most")} {F(hi)}",
            ({ } lo, null) => $"must be {(exclusiveMin ? "greater than" : "at least")} {F(lo)}",
            (null, { } hi) => $"must be {(exclusiveMax ? "less than" : "at most")} {F(hi)}",
            _ => "any value",
        };
    }

    /// <summary>"unknown X 'y'; did you mean 'z'? Allowed: a, b, c" — the suggestion only when one is close.</summary>
    public static string UnknownValue(string what, string given, IReadOnlyList<string> allowed)
    {
        var suggestion = Suggest(given, allowed);
        return $"unknown {what}{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}; allowed: {string.Join(", ", allowed)}";
    }

    public static string? Suggest(string given, IEnumerable<string> allowed)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in allowed)
        {
            var d = Levenshtein(given.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (d < bestDistance) { bestDistance = d; best = candidate; }
        }
        return best is not null && bestDistance <= Math.Max(2, best.Length / 3) ? best : null;
    }

    private static int Levenshtein(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
