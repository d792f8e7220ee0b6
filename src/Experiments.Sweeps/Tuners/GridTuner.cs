using Experiments.Core;

namespace Experiments.Sweeps.Tuners;

/// <summary>
/// Every combination of a grid, in a seeded random order (so that a budget cut short still covers the space evenly,
/// as Optuna's GridSampler does); then nothing. Choices give all their values; integers and stepped reals all their
/// values when they have at most <see cref="PointsPerDimension"/>, else that many evenly spaced; reals that many
/// evenly spaced on their scale, ends included. Conditional parameters are enumerated only under their choice.
/// </summary>
public sealed class GridTuner : ITuner
{
    public const int MaxPoints = 1_000_000;
    private readonly List<ParameterSet> _points;
    private int _next;

    public GridTuner(SearchSpace space, int seed, int pointsPerDimension = 5)
    {
        if (pointsPerDimension < 2) throw new ExperimentsException($"A grid needs at least 2 points per dimension, not {pointsPerDimension}.");
        PointsPerDimension = pointsPerDimension;
        Seed = seed;
        _points = [];
        Enumerate(space, 0, [], new Dictionary<string, object>(StringComparer.Ordinal));
        new SweepRandom(seed).Shuffle(_points);
    }

    public int PointsPerDimension { get; }
    public int Seed { get; }
    public int Count => _points.Count;
    public string Description => $"grid(points={PointsPerDimension}, seed={Seed})";

    public ParameterSet? Propose(SweepHistory history) => _next < _points.Count ? _points[_next++] : null;

    public void Update(TrialResult result) { }

    private void Enumerate(SearchSpace space, int index, List<KeyValuePair<string, object>> entries, Dictionary<string, object> chosen)
    {
        if (index == space.Parameters.Count)
        {
            if (_points.Count >= MaxPoints)
                throw new ExperimentsException($"The grid has more than {MaxPoints:N0} points; use fewer points per dimension (now {PointsPerDimension}) or another tuner.");
            _points.Add(new ParameterSet(entries));
            return;
        }
        var parameter = space.Parameters[index];
        if (!SearchSpace.IsActive(parameter, chosen))
        {
            Enumerate(space, index + 1, entries, chosen);
            return;
        }
        foreach (var value in Values(space.Encoding, parameter))
        {
            entries.Add(new(parameter.Name, value));
            chosen[parameter.Name] = value;
            Enumerate(space, index + 1, entries, chosen);
            entries.RemoveAt(entries.Count - 1);
            chosen.Remove(parameter.Name);
        }
    }

    private IEnumerable<object> Values(SpaceEncoding encoding, SearchParameter parameter)
    {
        if (parameter is FixedParameter f) return [f.Value];
        var d = encoding.DimensionOf[parameter.Name];
        var n = PointsPerDimension;
        if (d.Kind == DimensionKind.Categorical || (d.Kind == DimensionKind.Ordinal && d.Levels <= n))
            return Enumerable.Range(0, d.Levels).Select(k => d.Decode((k + 0.5) / d.Levels)).Distinct().ToList();
        if (d.Kind == DimensionKind.Continuous)
            return Enumerable.Range(0, n).Select(k => d.Decode((double)k / (n - 1))).ToList();
        return Enumerable.Range(0, n).Select(k => d.Decode((Math.Round(k * (d.Levels - 1.0) / (n - 1)) + 0.5) / d.Levels)).Distinct().ToList();
    }
}
