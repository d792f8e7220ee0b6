namespace Experiments.Sweeps;

public enum DimensionKind
{
    /// <summary>A real number without a step.</summary>
    Continuous,
    /// <summary>An ordered set of values (integers, stepped reals): each owns a cell of [0, 1].</summary>
    Ordinal,
    /// <summary>Unordered values (a choice): each owns a cell of [0, 1] of width 1/levels, but their order means nothing.</summary>
    Categorical,
}

/// <summary>One coordinate of the encoding: which parameter, how its values map into [0, 1], and how many it has.</summary>
public sealed class Dimension
{
    private readonly double _low, _high;

    internal Dimension(int index, SearchParameter parameter)
    {
        Index = index;
        Parameter = parameter;
        switch (parameter)
        {
            case FloatParameter f:
                Kind = f.Step is null ? DimensionKind.Continuous : DimensionKind.Ordinal;
                Levels = f.Step is { } step ? (int)Math.Round((f.Max - f.Min) / step) + 1 : 0;
                (_low, _high) = f.Log ? (Math.Log(f.Min), Math.Log(f.Max)) : (f.Min, f.Max);
                break;
            case IntegerParameter i:
                Kind = DimensionKind.Ordinal;
                Levels = checked((int)Math.Min((i.Max - i.Min) / i.Step + 1, int.MaxValue));
                // On a log scale integer x owns [ln(x − ½), ln(x + ½)], as in Optuna.
                (_low, _high) = i.Log ? (Math.Log(i.Min - 0.5), Math.Log(i.Max + 0.5)) : (0, Levels);
                break;
            case ChoiceParameter c:
                Kind = DimensionKind.Categorical;
                Levels = c.Values.Count;
                break;
            default:
                throw new ArgumentException($"'{parameter.Name}' is fixed and has no dimension.");
        }
    }

    public int Index { get; }
    public SearchParameter Parameter { get; }
    public DimensionKind Kind { get; }
    /// <summary>How many values (0 for a continuous dimension).</summary>
    public int Levels { get; }
    public bool IsLogInteger => Parameter is IntegerParameter { Log: true };

    /// <summary>The coordinate of a value of the parameter (the centre of its cell when it has one).</summary>
    public double Encode(object value)
    {
        switch (Parameter)
        {
            case FloatParameter f when f.Step is { } step:
                return (Math.Round((ParameterValue.ToDouble(value) - f.Min) / step) + 0.5) / Levels;
            case FloatParameter f:
                var x = f.Log ? Math.Log(ParameterValue.ToDouble(value)) : ParameterValue.ToDouble(value);
                return Math.Clamp((x - _low) / (_high - _low), 0, 1);
            case IntegerParameter { Log: true }:
                var v = ParameterValue.ToDouble(value);
                return ((Math.Log(v - 0.5) + Math.Log(v + 0.5)) / 2 - _low) / (_high - _low);
            case IntegerParameter i:
                return (((long)value - i.Min) / i.Step + 0.5) / Levels;
            case ChoiceParameter c:
                return (c.IndexOf(value) + 0.5) / Levels;
            default:
                throw new InvalidOperationException();
        }
    }

    /// <summary>The value at coordinate <paramref name="u"/> (clamped into [0, 1]).</summary>
    public object Decode(double u)
    {
        u = Math.Clamp(u, 0, 1);
        switch (Parameter)
        {
            case FloatParameter f when f.Step is { } step:
                return Math.Min(OnStep(f.Min, CellOf(u), step), f.Max);
            case FloatParameter f:
                var x = _low + u * (_high - _low);
                return Math.Clamp(f.Log ? Math.Exp(x) : x, f.Min, f.Max);
            case IntegerParameter { Log: true } i:
                return Math.Clamp((long)Math.Round(Math.Exp(_low + u * (_high - _low))), i.Min, i.Max);
            case IntegerParameter i:
                return i.Min + CellOf(u) * i.Step;
            case ChoiceParameter c:
                return c.Values[CellOf(u)];
            default:
                throw new InvalidOperationException();
        }
    }

    /// <summary>min + k·step without the binary noise (0.1 × 3 is 0.3, not 0.30000000000000004) where decimals can hold it.</summary>
    private static double OnStep(double min, int k, double step)
    {
        try
        {
            return (double)((decimal)min + k * (decimal)step);
        }
        catch (OverflowException)
        {
            return min + k * step;
        }
    }

    /// <summary>The index of the cell holding <paramref name="u"/> (ordinal and categorical dimensions).</summary>
    public int CellOf(double u) => Math.Clamp((int)Math.Floor(Math.Clamp(u, 0, 1) * Levels), 0, Levels - 1);

    /// <summary>The cell [lo, hi) of the value at <paramref name="u"/> in coordinates; a point (u, u) for a continuous dimension.</summary>
    public (double Low, double High) Cell(double u)
    {
        if (Kind == DimensionKind.Continuous) return (u, u);
        if (IsLogInteger)
        {
            var v = ParameterValue.ToDouble(Decode(u));
            return ((Math.Log(v - 0.5) - _low) / (_high - _low), (Math.Log(v + 0.5) - _low) / (_high - _low));
        }
        var k = CellOf(u);
        return ((double)k / Levels, (k + 1.0) / Levels);
    }
}

/// <summary>
/// The normalised view of a space the tuners work in: one coordinate in [0, 1] per parameter that is not fixed, log
/// scales already applied, discrete values owning equal cells. A parameter that is inactive in a trial (its choice took
/// another value) is NaN there.
/// </summary>
public sealed class SpaceEncoding
{
    internal SpaceEncoding(SearchSpace space)
    {
        Space = space;
        var dimensions = new List<Dimension>();
        foreach (var p in space.Parameters.Where(p => p is not FixedParameter))
            dimensions.Add(new Dimension(dimensions.Count, p));
        Dimensions = dimensions;
        DimensionOf = dimensions.ToDictionary(d => d.Parameter.Name, StringComparer.Ordinal);
    }

    public SearchSpace Space { get; }
    public IReadOnlyList<Dimension> Dimensions { get; }
    public IReadOnlyDictionary<string, Dimension> DimensionOf { get; }
    public int Count => Dimensions.Count;

    public double[] Encode(ParameterSet parameters)
    {
        var u = new double[Count];
        foreach (var d in Dimensions)
            u[d.Index] = parameters.TryGetValue(d.Parameter.Name, out var value) ? d.Encode(value) : double.NaN;
        return u;
    }

    /// <summary>
    /// The parameters at <paramref name="u"/>: conditions decided in order, inactive coordinates ignored. An active
    /// coordinate that is NaN (a point recorded before its parameter mattered) takes the parameter's start value.
    /// </summary>
    public ParameterSet Decode(ReadOnlySpan<double> u)
    {
        var chosen = new Dictionary<string, object>(StringComparer.Ordinal);
        var entries = new List<KeyValuePair<string, object>>();
        foreach (var p in Space.Parameters)
        {
            if (!SearchSpace.IsActive(p, chosen)) continue;
            var value = DimensionOf.TryGetValue(p.Name, out var d)
                ? double.IsNaN(u[d.Index]) ? p.StartValue : d.Decode(u[d.Index])
                : p.StartValue;
            chosen[p.Name] = value;
            entries.Add(new(p.Name, value));
        }
        return new ParameterSet(entries);
    }

    /// <summary>Which coordinates are active at <paramref name="u"/>.</summary>
    public bool[] ActiveAt(ReadOnlySpan<double> u)
    {
        var parameters = Decode(u);
        var active = new bool[Count];
        foreach (var d in Dimensions) active[d.Index] = parameters.ContainsKey(d.Parameter.Name);
        return active;
    }
}
