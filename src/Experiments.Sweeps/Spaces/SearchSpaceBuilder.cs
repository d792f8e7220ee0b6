namespace Experiments.Sweeps;

/// <summary>
/// A search space in C#:
/// <code>
/// var space = new SearchSpaceBuilder()
///     .Float("learningRate", 1e-3, 0.3, log: true, lowCost: 0.1)
///     .Integer("leaves", 4, 256, log: true)
///     .Choice("trainer", c => c
///         .Option("lightgbm", s => s.Integer("rounds", 10, 1000, lowCost: 10))
///         .Option("logistic-regression"))
///     .Fixed("seed", 42)
///     .Build();
/// </code>
/// Parameters under a choice's option are named <c>choice.value.name</c>, as in JSON. <see cref="Build"/> runs the same
/// checks as the JSON reader and throws a <see cref="SearchSpaceException"/> listing every problem.
/// </summary>
public sealed class SearchSpaceBuilder
{
    private readonly List<SearchParameter> _parameters;
    private readonly string _prefix;
    private readonly Condition? _branch;

    public SearchSpaceBuilder() : this([], "", null) { }

    private SearchSpaceBuilder(List<SearchParameter> parameters, string prefix, Condition? branch)
    {
        _parameters = parameters;
        _prefix = prefix;
        _branch = branch;
    }

    /// <summary>A real in [min, max]; <paramref name="when"/> makes it exist only under a choice's values (names in this sub-space).</summary>
    public SearchSpaceBuilder Float(string name, double min, double max, bool log = false, double? step = null, double? lowCost = null, Condition? when = null) =>
        Add(new FloatParameter(_prefix + name, min, max) { Log = log, Step = step, LowCost = lowCost, When = Scoped(when) });

    public SearchSpaceBuilder Integer(string name, long min, long max, bool log = false, long step = 1, long? lowCost = null, Condition? when = null) =>
        Add(new IntegerParameter(_prefix + name, min, max) { Log = log, Step = step, LowCost = lowCost, When = Scoped(when) });

    public SearchSpaceBuilder Choice(string name, params object[] values) => Choice(name, values, null);

    public SearchSpaceBuilder Choice(string name, IEnumerable<object> values, object? lowCost, Condition? when = null) =>
        Add(new ChoiceParameter(_prefix + name, values.Select(ParameterValue.Normalize).ToList()) { LowCost = lowCost is null ? null : ParameterValue.Normalize(lowCost), When = Scoped(when) });

    /// <summary>A choice whose options may carry their own sub-spaces.</summary>
    public SearchSpaceBuilder Choice(string name, Action<ChoiceOptions> options, object? lowCost = null, Condition? when = null)
    {
        var full = _prefix + name;
        var collected = new ChoiceOptions(_parameters, full);
        var choice = new ChoiceParameter(full, collected.Values) { LowCost = lowCost is null ? null : ParameterValue.Normalize(lowCost), When = Scoped(when) };
        var at = _parameters.Count;
        options(collected);
        _parameters.Insert(at, choice);
        return this;
    }

    public SearchSpaceBuilder Fixed(string name, object value, Condition? when = null) =>
        Add(new FixedParameter(_prefix + name, ParameterValue.Normalize(value)) { When = Scoped(when) });

    /// <summary>Adds a parameter as it is (its name and condition are taken literally).</summary>
    public SearchSpaceBuilder Add(SearchParameter parameter)
    {
        _parameters.Add(parameter);
        return this;
    }

    public SearchSpace Build() => SearchSpace.Create(_parameters);

    private Condition? Scoped(Condition? when) =>
        when is null ? _branch : when with { Parameter = _prefix + when.Parameter, Values = when.Values.Select(ParameterValue.Normalize).ToList() };

    /// <summary>The options of a choice, each with an optional sub-space.</summary>
    public sealed class ChoiceOptions
    {
        private readonly List<SearchParameter> _parameters;
        private readonly string _choice;

        internal ChoiceOptions(List<SearchParameter> parameters, string choice)
        {
            _parameters = parameters;
            _choice = choice;
        }

        internal List<object> Values { get; } = [];

        public ChoiceOptions Option(object value, Action<SearchSpaceBuilder>? subSpace = null)
        {
            value = ParameterValue.Normalize(value);
            Values.Add(value);
            if (subSpace is not null)
            {
                if (value is not string text || text.Contains('.'))
                    throw new ArgumentException($"An option with a sub-space needs a string value without '.', as it becomes part of parameter names; '{value}' is not.", nameof(value));
                subSpace(new SearchSpaceBuilder(_parameters, $"{_choice}.{text}.", new Condition(_choice, [value])));
            }
            return this;
        }
    }
}
