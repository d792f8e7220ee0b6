using System.Reflection;

namespace Experiments.Sweeps;

/// <summary>Sweeps the property over a range: an int or long property gives integers, a double or float property reals.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SearchRangeAttribute(double min, double max) : Attribute
{
    public double Min { get; } = min;
    public double Max { get; } = max;
    public bool Log { get; init; }
    /// <summary>The grid step (NaN: none).</summary>
    public double Step { get; init; } = double.NaN;
    /// <summary>The low-cost start value (NaN: the minimum).</summary>
    public double LowCost { get; init; } = double.NaN;
}

/// <summary>Sweeps the property over a list of values; on a bool property with no values, false and true; on an enum property with none, its names.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SearchChoiceAttribute(params object[] values) : Attribute
{
    public IReadOnlyList<object> Values { get; } = values;
    public object? LowCost { get; init; }
}

/// <summary>The swept property exists only while another swept property (a choice) has one of these values.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SearchWhenAttribute(string property, params object[] values) : Attribute
{
    public string Property { get; } = property;
    public IReadOnlyList<object> Values { get; } = values;
}

/// <summary>
/// A search space from the attributes on an Options record (like ML.NET AutoML's <c>SearchSpace&lt;T&gt;</c>), and
/// back: <see cref="Bind{T}"/> makes the record a trial's parameters describe. Parameter names are the property names
/// in camelCase, as definitions write them.
/// </summary>
public static class OptionsSpace
{
    public static SearchSpace For<T>() => SearchSpace.Create(Parameters(typeof(T)));

    public static string NameOf(PropertyInfo property) => char.ToLowerInvariant(property.Name[0]) + property.Name[1..];

    private static IEnumerable<SearchParameter> Parameters(Type type)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var range = property.GetCustomAttribute<SearchRangeAttribute>();
            var choice = property.GetCustomAttribute<SearchChoiceAttribute>();
            if (range is null && choice is null) continue;
            if (range is not null && choice is not null)
                throw new SearchSpaceException([new SpaceProblem(NameOf(property), "name", "has both [SearchRange] and [SearchChoice]; give it one")]);
            var when = property.GetCustomAttribute<SearchWhenAttribute>() is { } w
                ? new Condition(NameOf(type.GetProperty(w.Property) ?? throw new SearchSpaceException([new SpaceProblem(NameOf(property), "when", $"[SearchWhen] names '{w.Property}', which is not a property of {type.Name}")])),
                    w.Values.Select(ParameterValue.Normalize).ToList())
                : null;
            var name = NameOf(property);
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (range is not null)
            {
                if (propertyType == typeof(int) || propertyType == typeof(long))
                    yield return new IntegerParameter(name, (long)range.Min, (long)range.Max)
                    {
                        Log = range.Log, Step = double.IsNaN(range.Step) ? 1 : (long)range.Step, LowCost = double.IsNaN(range.LowCost) ? null : (long)range.LowCost, When = when,
                    };
                else if (propertyType == typeof(double) || propertyType == typeof(float))
                    yield return new FloatParameter(name, range.Min, range.Max)
                    {
                        Log = range.Log, Step = double.IsNaN(range.Step) ? null : range.Step, LowCost = double.IsNaN(range.LowCost) ? null : range.LowCost, When = when,
                    };
                else throw new SearchSpaceException([new SpaceProblem(name, "range", $"[SearchRange] needs an int, long, float or double property, not {propertyType.Name}")]);
            }
            else
            {
                var values = choice!.Values.Count > 0 ? choice.Values.Select(ParameterValue.Normalize).ToList()
                    : propertyType == typeof(bool) ? [false, true]
                    : propertyType.IsEnum ? Enum.GetNames(propertyType).Cast<object>().ToList()
                    : [];
                yield return new ChoiceParameter(name, values) { LowCost = choice.LowCost is null ? null : ParameterValue.Normalize(choice.LowCost), When = when };
            }
        }
    }

    /// <summary>
    /// <paramref name="defaults"/> (else a new T) with every property that <paramref name="parameters"/> names set to its value.
    /// Works on records with init-only properties.
    /// </summary>
    public static T Bind<T>(ParameterSet parameters, T? defaults = null) where T : class
    {
        var type = typeof(T);
        var result = defaults is null ? Activator.CreateInstance<T>() : Clone(defaults);
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            if (!parameters.TryGetValue(NameOf(property), out var value)) continue;
            var target = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var converted = target.IsEnum ? Enum.Parse(target, (string)value) : Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture);
            property.SetValue(result, converted);
        }
        return result;
    }

    private static T Clone<T>(T value) where T : class
    {
        // A record's copy constructor is what `with` calls; MemberwiseClone does the same for a plain class.
        var clone = typeof(object).GetMethod("MemberwiseClone", BindingFlags.Instance | BindingFlags.NonPublic)!;
        return (T)clone.Invoke(value, null)!;
    }
}
