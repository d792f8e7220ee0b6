using System.Globalization;

namespace Experiments.Sweeps;

/// <summary>
/// One dimension of a search space. Values are <see cref="string"/>, <see cref="long"/>, <see cref="double"/> or
/// <see cref="bool"/> (see <see cref="ParameterValue"/>). A parameter with a <see cref="When"/> condition exists only
/// while the named choice has one of the listed values (a trainer's own parameters, a solver's step size).
/// </summary>
public abstract record SearchParameter(string Name)
{
    public Condition? When { get; init; }

    /// <summary>"float", "int", "choice" or "fixed", as written in JSON.</summary>
    public abstract string Kind { get; }

    /// <summary>The value the low-cost start point takes: the given one, else the cheap end (the minimum, the first choice).</summary>
    public abstract object StartValue { get; }

    /// <summary>Whether the space gives the start value (a <c>lowCost</c>) rather than defaulting to the cheap end.</summary>
    public abstract bool StartGiven { get; }
}

/// <summary>The parameter exists only while the choice <paramref name="Parameter"/> takes one of <paramref name="Values"/>.</summary>
public sealed record Condition(string Parameter, IReadOnlyList<object> Values)
{
    public bool Holds(object value) => Values.Any(v => ParameterValue.Same(v, value));

    public override string ToString() => $"{Parameter} in [{string.Join(", ", Values.Select(ParameterValue.Format))}]";
}

/// <summary>A real number in [Min, Max], uniform or log-uniform, optionally on a grid of Step.</summary>
public sealed record FloatParameter(string Name, double Min, double Max) : SearchParameter(Name)
{
    public bool Log { get; init; }
    public double? Step { get; init; }
    public double? LowCost { get; init; }
    public override string Kind => "float";
    public override object StartValue => LowCost ?? Min;
    public override bool StartGiven => LowCost is not null;
}

/// <summary>An integer in [Min, Max], uniform or log-uniform (on a log scale each integer gets the share of its cell), with Step.</summary>
public sealed record IntegerParameter(string Name, long Min, long Max) : SearchParameter(Name)
{
    public bool Log { get; init; }
    public long Step { get; init; } = 1;
    public long? LowCost { get; init; }
    public override string Kind => "int";
    public override object StartValue => LowCost ?? Min;
    public override bool StartGiven => LowCost is not null;
}

/// <summary>One of a list of values (strings, numbers, booleans), unordered.</summary>
public sealed record ChoiceParameter(string Name, IReadOnlyList<object> Values) : SearchParameter(Name)
{
    public object? LowCost { get; init; }
    public override string Kind => "choice";
    public override object StartValue => LowCost ?? Values[0];
    public override bool StartGiven => LowCost is not null;

    public int IndexOf(object value)
    {
        for (var i = 0; i < Values.Count; i++)
            if (ParameterValue.Same(Values[i], value)) return i;
        return -1;
    }
}

/// <summary>A value every trial gets (kept in the space so that trials record it).</summary>
public sealed record FixedParameter(string Name, object Value) : SearchParameter(Name)
{
    public override string Kind => "fixed";
    public override object StartValue => Value;
    public override bool StartGiven => true;
}

/// <summary>The four kinds of parameter value, normalised, compared and written one way everywhere.</summary>
public static class ParameterValue
{
    /// <summary>Integers become <see cref="long"/>, reals <see cref="double"/>; strings and booleans stay.</summary>
    public static object Normalize(object value) => value switch
    {
        string or bool or long or double => value,
        int or short or byte or sbyte or ushort or uint => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        float f => (double)f,
        decimal d => (double)d,
        Enum e => e.ToString(),
        _ => throw new ArgumentException($"A parameter value must be a string, a number or a boolean, not {value.GetType().Name}."),
    };

    public static bool IsNumber(object value) => value is long or double;

    public static double ToDouble(object value) => value switch
    {
        long l => l,
        double d => d,
        _ => throw new InvalidCastException($"{Format(value)} is not a number."),
    };

    /// <summary>Equal values; a long and a double are equal when they are the same number.</summary>
    public static bool Same(object a, object b) =>
        IsNumber(a) && IsNumber(b) ? ToDouble(a) == ToDouble(b) : a.Equals(b);

    /// <summary>A value from JSON: integers become longs, other numbers doubles.</summary>
    public static object Read(System.Text.Json.JsonElement element, string name) => element.ValueKind switch
    {
        System.Text.Json.JsonValueKind.String => element.GetString()!,
        System.Text.Json.JsonValueKind.True => true,
        System.Text.Json.JsonValueKind.False => false,
        System.Text.Json.JsonValueKind.Number when element.TryGetInt64(out var l) => l,
        System.Text.Json.JsonValueKind.Number => element.GetDouble(),
        _ => throw new FormatException($"Parameter '{name}' has a {element.ValueKind} value; parameters are strings, numbers or booleans."),
    };

    /// <summary>The value written by <see cref="Format"/>.</summary>
    public static object Parse(string json, string name)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return Read(document.RootElement, name);
    }

    /// <summary>JSON text of the value (doubles round-trip exactly).</summary>
    public static string Format(object value) => value switch
    {
        string s => System.Text.Json.JsonSerializer.Serialize(s),
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d when double.IsFinite(d) => d.ToString("R", CultureInfo.InvariantCulture),
        double d => System.Text.Json.JsonSerializer.Serialize(d.ToString(CultureInfo.InvariantCulture)),
        _ => Format(Normalize(value)),
    };
}
