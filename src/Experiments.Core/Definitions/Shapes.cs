namespace Experiments.Core.Definitions;

/// <summary>
/// A small description of what a JSON value may look like. The validator checks definitions against it and the
/// schema writer turns it into <c>experiment.schema.json</c>: one description, two uses.
/// </summary>
public abstract record Shape(string Description);

/// <param name="Whitespace">A value of only whitespace (a tab delimiter) is allowed; otherwise free text must not be blank.</param>
public sealed record StringShape(string Description, IReadOnlyList<string>? Allowed = null, object? Default = null, bool Whitespace = false) : Shape(Description);

public sealed record IntegerShape(string Description, long? Min = null, long? Max = null, long? Default = null) : Shape(Description);

public sealed record NumberShape(string Description, double? Min = null, double? Max = null, bool ExclusiveMin = false, bool ExclusiveMax = false, double? Default = null) : Shape(Description);

public sealed record BooleanShape(string Description, bool? Default = null) : Shape(Description);

public sealed record ArrayShape(string Description, Shape Items, int MinItems = 0, bool UniqueItems = false) : Shape(Description);

public sealed record PropertyShape(string Name, Shape Shape, bool Required = false);

/// <summary>An object with known properties; any other key is an error.</summary>
public sealed record ObjectShape(string Description, IReadOnlyList<PropertyShape> Properties) : Shape(Description)
{
    public PropertyShape? Find(string name) => Properties.FirstOrDefault(p => p.Name == name);
}

/// <summary>An object whose keys are free (model names, parameter names) and whose values all take <see cref="Values"/>.</summary>
public sealed record MapShape(string Description, Shape Values) : Shape(Description);

/// <summary>Any JSON value: one that another reader checks with its own rules (a search-space entry).</summary>
public sealed record AnyShape(string Description) : Shape(Description);

/// <summary>An object whose allowed properties depend on the value of one string property (a model's <c>type</c>).</summary>
public sealed record TaggedObjectShape(string Description, string Tag, IReadOnlyDictionary<string, ObjectShape> Variants) : Shape(Description);

/// <summary>
/// An object that takes shape <see cref="WithKey"/> when it has property <see cref="Key"/>, and <see cref="Otherwise"/>
/// when not: a data set is either the user's own "files" or a registered one by "name".
/// </summary>
public sealed record EitherShape(string Description, string Key, ObjectShape WithKey, Shape Otherwise) : Shape(Description);

/// <summary>A string, or an object for when more than the string is needed: a file is its path, or its path with a format of its own.</summary>
public sealed record StringOrObjectShape(string Description, StringShape Text, ObjectShape Object) : Shape(Description);

/// <summary>A metric written as <c>name</c> or <c>name@K</c>.</summary>
public sealed record MetricShape(string Description, IReadOnlyList<MetricDescriptor> Metrics) : Shape(Description)
{
    public string Pattern
    {
        get
        {
            var withK = Metrics.Where(m => m.RequiresK).Select(m => m.Name).ToList();
            var withoutK = Metrics.Where(m => !m.RequiresK).Select(m => m.Name).ToList();
            var parts = new List<string>();
            if (withK.Count > 0) parts.Add($"^({string.Join('|', withK)})@[1-9][0-9]*$");
            if (withoutK.Count > 0) parts.Add($"^({string.Join('|', withoutK)})$");
            return string.Join('|', parts);
        }
    }
}
