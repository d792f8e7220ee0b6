namespace Experiments.Sweeps.Tuners;

/// <summary>
/// Cost-frugal optimisation (FLAML's CFO, after its FLOW2 local search): start at the space's low-cost point and
/// move by randomised direct search — try incumbent + s·z for a random unit direction z, then incumbent − s·z — moving
/// whenever a trial improves. After 2^min(d, 9) proposals without improvement the step shrinks (by √(K_old/K), as in
/// FLOW2; it grows back the same way after an improvement); once it falls below the finest step the discrete
/// parameters can resolve, the search has converged and restarts near the start point, a little wider each time.
/// A choice moves to a random other value when its coordinate crosses its cell; d and the moves are those of the
/// subspace the incumbent's choices leave on (<see cref="EnterSubspace"/>). Trials it did not propose (a
/// portfolio's, another thread's) move the incumbent too when they are better.
/// </summary>
public sealed class CfoTuner : ITuner
{
    private const double InitialStep = 0.1;
    private const double ContinuousStepLowerBound = 1e-4;
    private readonly SpaceEncoding _encoding;
    private readonly SweepRandom _random;
    private readonly int _seed;
    private int _dimensions;
    /// <summary>Which coordinates the incumbent's choices leave on (set with the subspace, <see cref="EnterSubspace"/>).</summary>
    private bool[] _on = [];
    private double _stepUpper;
    private int _stuckAfter;
    private readonly double[] _start;
    private readonly Dictionary<int, (double[] Point, double Step, int Epoch)> _proposed = [];

    private double[] _incumbent;
    private double? _bestLoss;
    private ParameterSet? _incumbentParameters;
    private double _step;
    private double[]? _directionTried;
    private int _proposedByIncumbent;
    private int _proposalCount;
    private int _completedCount;
    private int _bestAt = 1;
    private int _k;
    private int _oldK;
    private bool _initialPhase = true;
    private bool _startProposed;
    private int _epoch;
    private int _allowed;
    private int _completedByIncumbent;

    private readonly bool _restart;

    /// <param name="start">Where to start (default: the space's low-cost point).</param>
    /// <param name="startLoss">The start's loss when it was already evaluated.</param>
    /// <param name="restart">Restart on convergence (standalone); BlendSearch retires converged threads instead.</param>
    public CfoTuner(SearchSpace space, int seed, ParameterSet? start = null, double? startLoss = null, bool restart = true)
    {
        _restart = restart;
        _encoding = space.Encoding;
        _seed = seed;
        _random = new SweepRandom(seed);
        _start = CompletedStart(_encoding.Encode(start ?? space.StartPoint));
        _incumbent = (double[])_start.Clone();
        EnterSubspace();
        _step = Math.Min(Math.Max(InitialStep * _stepUpper, 2 * StepLowerBound), _stepUpper);
        _allowed = 2 * _dimensions;
        if (startLoss is { } loss)
        {
            // Started at a point already evaluated (a BlendSearch thread): search from it straight away.
            _bestLoss = loss;
            _incumbentParameters = _encoding.Decode(_incumbent);
            _startProposed = true;
        }
    }

    public string Description => $"cfo(seed={_seed})";

    /// <summary>The loss of the incumbent (null before any result).</summary>
    public double? BestLoss => _bestLoss;
    public IReadOnlyList<double> Incumbent => _incumbent;
    public double Step => _step;
    public int Restarts { get; private set; }

    /// <summary>
    /// FLOW2's pacing inside BlendSearch: 2d proposals per incumbent, then two more each time enough results arrive
    /// without improvement (a standalone CFO ignores it).
    /// </summary>
    public bool CanPropose => _allowed > 0 || !_startProposed;

    /// <summary>The step has fallen below the finest one the parameters resolve: nothing more to find locally.</summary>
    public bool Converged => _step < StepLowerBound;

    /// <summary>FLOW2's lower bound: the smallest cell of an ordinal coordinate at the incumbent, times √d.</summary>
    private double StepLowerBound
    {
        get
        {
            var smallest = double.PositiveInfinity;
            foreach (var d in _encoding.Dimensions.Where(d => d.Kind == DimensionKind.Ordinal && _on[d.Index]))
            {
                var (low, high) = d.Cell(_incumbent[d.Index]);
                smallest = Math.Min(smallest, high - low);
            }
            return double.IsPositiveInfinity(smallest) ? ContinuousStepLowerBound : smallest * _stepUpper;
        }
    }

    /// <summary>
    /// The start with a coordinate for each parameter it leaves out (switched off by its choices), where the parameter
    /// enters when a choice switches it on: its given start (a cost driver's cheap value, the model's default), else a
    /// random point of its range, as FLAML completes a partial start — the bottom of a range nobody chose can be far
    /// from anything good.
    /// </summary>
    private double[] CompletedStart(double[] start)
    {
        foreach (var d in _encoding.Dimensions.Where(d => double.IsNaN(start[d.Index])))
            start[d.Index] = d.Parameter.StartGiven ? d.Encode(d.Parameter.StartValue) : _random.NextDouble();
        return start;
    }

    private static double[] Filled(double[] u, double[] fallback)
    {
        var filled = (double[])u.Clone();
        for (var k = 0; k < filled.Length; k++)
            if (double.IsNaN(filled[k])) filled[k] = fallback[k];
        return filled;
    }

    public ParameterSet? Propose(SweepHistory history)
    {
        if (!_startProposed)
        {
            _startProposed = true;
            // A better point already reported (a portfolio's) makes the start point pointless.
            if (_bestLoss is null)
            {
                _proposed[history.Number] = ((double[])_incumbent.Clone(), _step, _epoch);
                return _encoding.Decode(_incumbent);
            }
        }
        _proposalCount++;
        _allowed--;
        double[] move = [];
        ParameterSet parameters = ParameterSet.Empty;
        // A move that lands on the incumbent's own values (inside the same discrete cells) teaches nothing: try again.
        for (var attempt = 0; attempt < 10; attempt++)
        {
            move = (double[])_incumbent.Clone();
            if (_directionTried is { } tried)
            {
                for (var k = 0; k < move.Length; k++) move[k] -= tried[k];
                _directionTried = null;
            }
            else
            {
                _directionTried = UnitDirection();
                for (var k = 0; k < move.Length; k++)
                {
                    _directionTried[k] *= _step;
                    move[k] += _directionTried[k];
                }
            }
            for (var k = 0; k < move.Length; k++) move[k] = Math.Clamp(move[k], 0, 1);
            MoveChoices(move);
            parameters = _encoding.Decode(move);
            if (_incumbentParameters is null || !parameters.Equals(_incumbentParameters)) break;
            // FLOW2 lets the incumbent drift within its cells (the same values, so the same subspace) and, early on, widens the step.
            _incumbent = move;
            if (_initialPhase) _step = Math.Min(_step + InitialStep, _stepUpper);
        }
        _proposed[history.Number] = (move, _step, _epoch);
        _proposedByIncumbent++;
        if (_proposedByIncumbent == _stuckAfter)
        {
            _proposedByIncumbent -= 2;
            _initialPhase = false;
            if (Converged && _restart) Restart();
            else if (!Converged)
            {
                _oldK = _k > 0 ? _k : _bestAt;
                _k = _proposalCount + 1;
                _step *= Math.Sqrt((double)_oldK / _k);
            }
        }
        return parameters;
    }

    public void Update(TrialResult result)
    {
        _completedCount++;
        var mine = _proposed.TryGetValue(result.Number, out var proposal);
        // Results of trials proposed before a restart belong to the abandoned search.
        if (mine && proposal.Epoch != _epoch) return;
        // A pruned trial's loss is a partial value: it does not move the search.
        var better = result.Status == TrialStatus.Completed && result.HasLoss && (_bestLoss is not { } best || result.Loss!.Value < best);
        if (!better)
        {
            if (!mine) return;
            _completedByIncumbent++;
            if (_completedByIncumbent >= 2 * _dimensions && _allowed <= 0) _allowed = 2;
            if (_completedByIncumbent == _stuckAfter)
            {
                _completedByIncumbent -= 2;
                _allowed = Math.Max(_allowed, 2);
            }
            return;
        }
        _bestLoss = result.Loss!.Value;
        if (mine)
        {
            _incumbent = proposal.Point;
            _step = proposal.Step;
        }
        else _incumbent = Filled(_encoding.Encode(result.Parameters), _incumbent);
        _incumbentParameters = result.Parameters;
        EnterSubspace();
        _proposedByIncumbent = 0;
        _completedByIncumbent = 0;
        _allowed = 2 * _dimensions;
        _directionTried = null;
        if (_k > 0) _step *= Math.Sqrt((double)_k / _oldK);
        _step = Math.Min(_step, _stepUpper);
        _bestAt = _completedCount;
    }

    /// <summary>
    /// FLAML's local search works in the subspace its start lies in: its dimension d (the parameters the incumbent's
    /// choices leave on) sets the step's scale (0.1·√d at first, at most √d) and patience (2^d proposals). When the
    /// incumbent moves to a subspace of another dimension the step is rescaled to keep its size per coordinate.
    /// </summary>
    private void EnterSubspace()
    {
        _on = _encoding.Encode(_encoding.Decode(_incumbent)).Select(v => !double.IsNaN(v)).ToArray();
        var d = Math.Max(1, _on.Count(on => on));
        if (d == _dimensions) return;
        if (_dimensions > 0) _step *= Math.Sqrt((double)d / _dimensions);
        _dimensions = d;
        _stepUpper = Math.Sqrt(d);
        _stuckAfter = 1 << Math.Min(9, d);
    }

    /// <summary>A random unit direction in the coordinates the incumbent uses (a parameter its choices switch off does not move, as FLAML's local search keeps to its subspace).</summary>
    private double[] UnitDirection()
    {
        var z = new double[_encoding.Count];
        double norm;
        do
        {
            for (var k = 0; k < z.Length; k++) z[k] = _on[k] ? _random.NextGaussian() : 0;
            norm = Math.Sqrt(z.Sum(v => v * v));
        } while (norm == 0 && z.Length > 0);
        for (var k = 0; k < z.Length; k++) z[k] /= norm;
        return z;
    }

    /// <summary>A choice whose coordinate left the incumbent's cell takes a random other value (its order means nothing).</summary>
    private void MoveChoices(double[] move)
    {
        foreach (var d in _encoding.Dimensions.Where(d => d.Kind == DimensionKind.Categorical && d.Levels > 1))
        {
            var from = d.CellOf(_incumbent[d.Index]);
            if (d.CellOf(move[d.Index]) == from) continue;
            var other = _random.Next(d.Levels - 1);
            if (other >= from) other++;
            move[d.Index] = (other + 0.5) / d.Levels;
        }
    }

    /// <summary>Starts over near the start point, Gaussian-perturbed with a spread that doubles per restart; the best so far is forgotten locally.</summary>
    private void Restart()
    {
        Restarts++;
        _epoch++;
        var spread = Math.Min(0.1 * Math.Pow(2, Restarts - 1), 1);
        _incumbent = _start.Select(v => Math.Clamp(v + spread * _random.NextGaussian(), 0, 1)).ToArray();
        MoveChoices(_incumbent);
        EnterSubspace();
        _incumbentParameters = null;
        _bestLoss = null;
        _step = Math.Min(Math.Max(InitialStep * _stepUpper, 2 * StepLowerBound), _stepUpper);
        _directionTried = null;
        _proposedByIncumbent = 0;
        _completedByIncumbent = 0;
        _allowed = 2 * _dimensions;
        _k = _oldK = 0;
        _initialPhase = true;
        _startProposed = false;
    }
}
