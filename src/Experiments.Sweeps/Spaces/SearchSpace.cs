using System.Globalization;
using Experiments.Core;
using Experiments.Core.Definitions;

namespace Experiments.Sweeps;

/// <summary>One thing wrong with a search space: the parameter, the field of it (range, log, step, lowCost, values, when, name) and what.</summary>
public sealed record SpaceProblem(string Parameter, string Field, string Message)
{
    public override string ToString() => $"{Parameter} ({Field}): {Message}";
}

/// <summary>A search space declared in C# (builder or attributes) that cannot be searched, with every problem found.</summary>
public sealed class SearchSpaceException(IReadOnlyList<SpaceProblem> problems)
    : ExperimentsException($"The search space is not valid ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):" + string.Concat(problems.Select(p => $"{Environment.NewLine}  {p}")))
{
    public IReadOnlyList<SpaceProblem> Problems { get; } = problems;
}

/// <summary>
/// A checked search space: parameters in an order where every condition's choice comes before the parameters it
/// governs. Built by <see cref="Create"/>, <see cref="SearchSpaceBuilder"/>, <see cref="SpaceJson"/> or
/// <see cref="OptionsSpace"/>; all go through the same checks.
/// </summary>
public sealed class SearchSpace
{
    private readonly Dictionary<string, SearchParameter> _byName;
    private SpaceEncoding? _encoding;

    private SearchSpace(IReadOnlyList<SearchParameter> ordered)
    {
        Parameters = ordered;
        _byName = ordered.ToDictionary(p => p.Name, StringComparer.Ordinal);
        StartPoint = Complete(new Dictionary<string, object>(), "the start point");
    }

    public IReadOnlyList<SearchParameter> Parameters { get; }

    /// <summary>The low-cost start point: each parameter's <c>lowCost</c>, else its cheap end.</summary>
    public ParameterSet StartPoint { get; }

    /// <summary>The normalised [0, 1]^d view the tuners work in.</summary>
    public SpaceEncoding Encoding => _encoding ??= new SpaceEncoding(this);

    public SearchParameter? Find(string name) => _byName.GetValueOrDefault(name);

    public static SearchSpace Create(IEnumerable<SearchParameter> parameters)
    {
        var list = parameters.ToList();
        var problems = Check(list);
        if (problems.Count > 0) throw new SearchSpaceException(problems);
        return new SearchSpace(Order(list));
    }

    /// <summary>Whether <paramref name="parameter"/> exists given the values chosen so far (parents come first).</summary>
    public static bool IsActive(SearchParameter parameter, IReadOnlyDictionary<string, object> chosen) =>
        parameter.When is not { } condition || (chosen.TryGetValue(condition.Parameter, out var value) && condition.Holds(value));

    /// <summary>
    /// A full parameter set from some given values (a portfolio entry, a user's point): the active parameters not
    /// given take their start value. Unknown names, inactive names and values outside the space are errors.
    /// </summary>
    public ParameterSet Complete(IReadOnlyDictionary<string, object> given, string what)
    {
        foreach (var name in given.Keys.Where(n => !_byName.ContainsKey(n)))
            throw new ExperimentsException($"{what}: {DefinitionValidator.UnknownValue($"parameter '{name}'", name, Parameters.Select(p => p.Name).ToList())}.");
        var chosen = new Dictionary<string, object>(StringComparer.Ordinal);
        var entries = new List<KeyValuePair<string, object>>();
        foreach (var parameter in Parameters)
        {
            var active = IsActive(parameter, chosen);
            if (!given.TryGetValue(parameter.Name, out var value))
            {
                if (!active) continue;
                value = parameter.StartValue;
            }
            else if (!active)
                throw new ExperimentsException($"{what}: parameter '{parameter.Name}' is given, but it exists only when {parameter.When}.");
            value = ParameterValue.Normalize(value);
            if (Canonical(parameter, value) is not { } canonical)
                throw new ExperimentsException($"{what}: {ParameterValue.Format(value)} is not a value of '{parameter.Name}' ({Describe(parameter)}).");
            chosen[parameter.Name] = canonical;
            entries.Add(new(parameter.Name, canonical));
        }
        return new ParameterSet(entries);
    }

    /// <summary>
    /// The point of the space nearest to <paramref name="given"/> (a model kind's known-good configuration, written
    /// without knowing the space a sweep narrows it to): numbers clamped into their range and onto their grid, a
    /// choice's value the space does not offer, a fixed or inactive parameter and unknown names left to the start
    /// point. Unlike <see cref="Complete"/>, nothing is an error.
    /// </summary>
    public ParameterSet Nearest(IReadOnlyDictionary<string, object> given)
    {
        var moved = new Dictionary<string, object>(StringComparer.Ordinal);
        var chosen = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var parameter in Parameters)
        {
            if (!IsActive(parameter, chosen)) continue;
            var value = given.TryGetValue(parameter.Name, out var v) ? NearestValue(parameter, v) ?? parameter.StartValue : parameter.StartValue;
            chosen[parameter.Name] = value;
            moved[parameter.Name] = value;
        }
        return Complete(moved, "the nearest point");
    }

    /// <summary>The value of <paramref name="parameter"/> nearest to <paramref name="value"/>: a number clamped into its range and onto its grid, a choice's value if it offers it; else null.</summary>
    public static object? NearestValue(SearchParameter parameter, object value)
    {
        value = ParameterValue.Normalize(value);
        var number = ParameterValue.IsNumber(value) ? ParameterValue.ToDouble(value) : double.NaN;
        return parameter switch
        {
            FloatParameter f when !double.IsNaN(number) => f.Step is { } step
                ? Math.Min(f.Min + Math.Round((Math.Clamp(number, f.Min, f.Max) - f.Min) / step) * step, f.Max)
                : Math.Clamp(number, f.Min, f.Max),
            IntegerParameter i when !double.IsNaN(number) =>
                Math.Min(i.Min + (long)Math.Round((Math.Clamp(number, i.Min, i.Max) - i.Min) / i.Step) * i.Step, i.Max - (i.Max - i.Min) % i.Step),
            ChoiceParameter or FixedParameter => Canonical(parameter, value),
            _ => null,
        };
    }

    /// <summary>The space's own form of <paramref name="value"/> if the parameter can take it (a choice's value, an integer as long), else null.</summary>
    public static object? Canonical(SearchParameter parameter, object value)
    {
        value = ParameterValue.Normalize(value);
        switch (parameter)
        {
            case FloatParameter f when ParameterValue.IsNumber(value):
            {
                var x = ParameterValue.ToDouble(value);
                if (!(x >= f.Min && x <= f.Max)) return null; // NaN too
                if (f.Step is { } step && !OnGrid(x - f.Min, step)) return null;
                return x;
            }
            case IntegerParameter i when ParameterValue.IsNumber(value):
            {
                var x = ParameterValue.ToDouble(value);
                if (x != Math.Floor(x) || !(x >= i.Min && x <= i.Max) || ((long)x - i.Min) % i.Step != 0) return null;
                return (long)x;
            }
            case ChoiceParameter c:
                var index = c.IndexOf(value);
                return index < 0 ? null : c.Values[index];
            case FixedParameter x:
                return ParameterValue.Same(x.Value, value) ? x.Value : null;
            default:
                return null;
        }
    }

    private static bool OnGrid(double offset, double step)
    {
        var k = offset / step;
        return Math.Abs(k - Math.Round(k)) <= 1e-9 * Math.Max(1, Math.Abs(k));
    }

    /// <summary>
    /// The parameters in the space's own form and order (a stored 1 for a float becomes 1.0, a choice's value its own
    /// object); null when they do not fit the space exactly (a value outside it, a missing or extra parameter).
    /// </summary>
    public ParameterSet? Conform(ParameterSet parameters)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, value) in parameters)
        {
            if (Find(name) is not { } parameter || Canonical(parameter, value) is not { } canonical) return null;
            values[name] = canonical;
        }
        try
        {
            var completed = Complete(values, "stored trial");
            return completed.Count == values.Count ? completed : null;
        }
        catch (ExperimentsException)
        {
            return null;
        }
    }

    /// <summary>The same space with choice <paramref name="choice"/> fixed to <paramref name="value"/> and the parameters that then cannot exist removed.</summary>
    public SearchSpace Fix(string choice, object value)
    {
        if (Find(choice) is not ChoiceParameter parameter || Canonical(parameter, value) is not { } canonical)
            throw new ArgumentException($"'{choice}' is not a choice of this space with value {ParameterValue.Format(value)}.");
        var kept = new List<SearchParameter>();
        var removed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in Parameters)
        {
            if (p.When is { } c && (removed.Contains(c.Parameter) || (c.Parameter == choice && !c.Holds(canonical))))
            {
                removed.Add(p.Name);
                continue;
            }
            kept.Add(p.Name == choice ? new FixedParameter(p.Name, canonical) { When = p.When } : p);
        }
        return new SearchSpace(kept);
    }

    /// <summary>"float in [0.001, 0.3], log", for messages.</summary>
    public static string Describe(SearchParameter parameter) => parameter switch
    {
        FloatParameter f => $"float in [{F(f.Min)}, {F(f.Max)}]{(f.Log ? ", log" : "")}{(f.Step is { } s ? $", step {F(s)}" : "")}",
        IntegerParameter i => $"int in [{i.Min}, {i.Max}]{(i.Log ? ", log" : "")}{(i.Step != 1 ? $", step {i.Step}" : "")}",
        ChoiceParameter c => $"one of {string.Join(", ", c.Values.Select(ParameterValue.Format))}",
        FixedParameter x => $"fixed at {ParameterValue.Format(x.Value)}",
        _ => parameter.Kind,
    };

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Every problem of a list of parameters; empty when it makes a space.</summary>
    public static List<SpaceProblem> Check(IReadOnlyList<SearchParameter> parameters)
    {
        var problems = new List<SpaceProblem>();
        void Add(SearchParameter p, string field, string message) => problems.Add(new SpaceProblem(p.Name, field, message));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            if (string.IsNullOrWhiteSpace(p.Name)) Add(p, "name", "a parameter needs a name");
            else if (!names.Add(p.Name)) Add(p, "name", $"'{p.Name}' is declared twice");
            switch (p)
            {
                case FloatParameter f:
                    if (!double.IsFinite(f.Min) || !double.IsFinite(f.Max)) { Add(p, "range", "the bounds must be finite numbers"); break; }
                    if (f.Min > f.Max) { Add(p, "range", $"min {F(f.Min)} is greater than max {F(f.Max)}"); break; }
                    if (f.Min == f.Max) { Add(p, "range", $"the range [{F(f.Min)}, {F(f.Max)}] is empty; write the value itself to fix it"); break; }
                    if (f.Log && f.Min <= 0) { Add(p, "log", $"a log scale needs positive bounds, and min is {F(f.Min)}"); break; }
                    if (f.Step is { } step)
                    {
                        if (!(step > 0)) Add(p, "step", $"the step must be positive, not {F(step)}");
                        else if (f.Log) Add(p, "step", "a step cannot be combined with a log scale");
                        else if (!OnGrid(f.Max - f.Min, step)) Add(p, "step", $"the range [{F(f.Min)}, {F(f.Max)}] is not a whole number of steps of {F(step)}");
                    }
                    if (f.LowCost is { } lowCost && Canonical(f, lowCost) is null)
                        Add(p, "lowCost", $"{F(lowCost)} is outside the range [{F(f.Min)}, {F(f.Max)}]{(f.Step is null ? "" : " or off its steps")}");
                    break;
                case IntegerParameter i:
                    if (i.Min > i.Max) { Add(p, "range", $"min {i.Min} is greater than max {i.Max}"); break; }
                    if (i.Min == i.Max) { Add(p, "range", $"the range [{i.Min}, {i.Max}] is empty; write the value itself to fix it"); break; }
                    if (i.Log && i.Min <= 0) { Add(p, "log", $"a log scale needs positive bounds, and min is {i.Min}"); break; }
                    if (i.Step <= 0) Add(p, "step", $"the step must be positive, not {i.Step}");
                    else if (i.Log && i.Step != 1) Add(p, "step", "a step cannot be combined with a log scale");
                    else if ((i.Max - i.Min) % i.Step != 0) Add(p, "step", $"the range [{i.Min}, {i.Max}] is not a whole number of steps of {i.Step}");
                    if (i.LowCost is { } low && i.Step > 0 && Canonical(i, low) is null)
                        Add(p, "lowCost", $"{low} is outside the range [{i.Min}, {i.Max}]{(i.Step == 1 ? "" : " or off its steps")}");
                    break;
                case ChoiceParameter c:
                    if (c.Values.Count == 0) { Add(p, "values", "a choice needs at least one value"); break; }
                    for (var k = 0; k < c.Values.Count; k++)
                        if (c.IndexOf(c.Values[k]) != k) Add(p, "values", $"{ParameterValue.Format(c.Values[k])} is listed twice");
                    if (c.LowCost is { } start && c.IndexOf(start) < 0)
                        Add(p, "lowCost", $"{ParameterValue.Format(start)} is not one of the values ({string.Join(", ", c.Values.Select(ParameterValue.Format))})");
                    break;
            }
        }
        CheckConditions(parameters, Add);
        return problems;
    }

    private static void CheckConditions(IReadOnlyList<SearchParameter> parameters, Action<SearchParameter, string, string> add)
    {
        var byName = new Dictionary<string, SearchParameter>(StringComparer.Ordinal);
        foreach (var p in parameters) byName.TryAdd(p.Name, p);
        foreach (var p in parameters)
        {
            if (p.When is not { } condition) continue;
            if (!byName.TryGetValue(condition.Parameter, out var target))
            {
                var suggestion = DefinitionValidator.Suggest(condition.Parameter, byName.Keys.Where(n => n != p.Name));
                add(p, "when", $"the condition names '{condition.Parameter}', which is not a parameter of this space{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")}");
                continue;
            }
            if (target is not ChoiceParameter choice) { add(p, "when", $"the condition names '{condition.Parameter}', which is a {target.Kind}; a condition names a choice"); continue; }
            if (condition.Values.Count == 0) add(p, "when", $"the condition on '{condition.Parameter}' lists no values");
            foreach (var value in condition.Values.Where(v => choice.IndexOf(v) < 0))
                add(p, "when", $"{ParameterValue.Format(value)} is not a value of '{condition.Parameter}' ({string.Join(", ", choice.Values.Select(ParameterValue.Format))})");
            // A chain of conditions that comes back to its start can never be satisfied.
            var seen = new HashSet<string>(StringComparer.Ordinal) { p.Name };
            for (var next = target; next.When is { } c; )
            {
                if (!seen.Add(next.Name) || c.Parameter == p.Name) { add(p, "when", "the conditions form a cycle"); break; }
                if (!byName.TryGetValue(c.Parameter, out next!)) break;
            }
        }
    }

    /// <summary>Declaration order, except that a parameter comes after the choice its condition names.</summary>
    private static List<SearchParameter> Order(List<SearchParameter> parameters)
    {
        var placed = new HashSet<string>(StringComparer.Ordinal);
        var ordered = new List<SearchParameter>();
        var remaining = new List<SearchParameter>(parameters);
        while (remaining.Count > 0)
        {
            var next = remaining.First(p => p.When is null || placed.Contains(p.When.Parameter));
            remaining.Remove(next);
            ordered.Add(next);
            placed.Add(next.Name);
        }
        return ordered;
    }
}
