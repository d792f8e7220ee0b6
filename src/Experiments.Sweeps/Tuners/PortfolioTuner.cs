namespace Experiments.Sweeps.Tuners;

/// <summary>
/// A zero-shot start: configurations known to be good for the model kind (given by the caller) are tried first, in
/// order; then <paramref name="then"/> proposes, having been told their results like any others. Each entry may give
/// only some parameters; the rest take their low-cost start values.
/// </summary>
public sealed class PortfolioTuner(SearchSpace space, IReadOnlyList<IReadOnlyDictionary<string, object>> portfolio, ITuner then) : ITuner
{
    private readonly IReadOnlyList<ParameterSet> _points = portfolio.Select((entry, i) => space.Complete(entry, $"portfolio entry {i + 1}")).ToList();
    private int _next;

    public IReadOnlyList<ParameterSet> Points => _points;

    public string Description => $"portfolio({string.Join("; ", _points)}) then {then.Description}";

    public ParameterSet? Propose(SweepHistory history) => _next < _points.Count ? _points[_next++] : then.Propose(history);

    public void Update(TrialResult result) => then.Update(result);
}
