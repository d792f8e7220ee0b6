using Experiments.Core;

namespace Experiments.Sweeps.Tuners;

/// <summary>Settings of <see cref="BlendSearchTuner"/>.</summary>
public sealed record BlendSearchSettings
{
    /// <summary>At most this many local searches at once.</summary>
    public int MaxLocalThreads { get; init; } = 4;
    /// <summary>
    /// The global search gets at least this share of the proposals (after the first). FLAML gives it a turn only when no
    /// local search may propose, which on smooth problems can starve it for long stretches.
    /// </summary>
    public double MinGlobalShare { get; init; } = 0.2;
}

/// <summary>
/// BlendSearch (FLAML): a global model-based search and cost-frugal local searches (CFO) side by side. The first local
/// search starts at the low-cost point; a global proposal that beats the median of the local searches' bests starts a
/// new local search there. Each proposal goes to the search with the highest priority — FLAML's estimated cost for
/// improvement times its speed of improvement, minus its best loss — with cost counted in trials (not seconds) so that
/// the choice does not depend on timings; the global search gets the turn whenever no local search may propose.
/// Global proposals are kept inside the region explored so far widened by the largest local step (FLAML's admissible
/// region), which keeps the cost low early on. Local searches that converge are retired; two that meet, merged.
/// </summary>
public sealed class BlendSearchTuner : ITuner
{
    private readonly SearchSpace _space;
    private readonly SpaceEncoding _encoding;
    private readonly ITuner _global;
    private readonly int _seed;
    private readonly Thread _globalThread = new(null);
    private readonly List<Thread> _locals = [];
    private readonly Dictionary<int, Thread> _owner = [];
    private readonly double[] _exploredLow, _exploredHigh;
    private int _threadsCreated;
    private int _proposals;
    private int _globalProposals;
    private double _bestLoss = double.PositiveInfinity;

    public BlendSearchTuner(SearchSpace space, int seed, ITuner? global = null, BlendSearchSettings? settings = null)
    {
        _space = space;
        _encoding = space.Encoding;
        _seed = seed;
        _global = global ?? new TpeTuner(space, Seeds.Mix(seed, 1));
        Settings = settings ?? new BlendSearchSettings();
        _exploredLow = Enumerable.Repeat(double.PositiveInfinity, _encoding.Count).ToArray();
        _exploredHigh = Enumerable.Repeat(double.NegativeInfinity, _encoding.Count).ToArray();
        AddLocal(null, null);
    }

    public BlendSearchSettings Settings { get; }
    public string Description => $"blendsearch(global={_global.Description}, locals={Settings.MaxLocalThreads}, globalShare={Settings.MinGlobalShare:0.###}, seed={_seed})";
    public int LocalSearches => _locals.Count;

    private void AddLocal(ParameterSet? start, double? loss)
    {
        var cfo = new CfoTuner(_space, Seeds.Mix(_seed, 1000 + _threadsCreated++), start, loss, restart: false);
        var thread = new Thread(cfo);
        if (loss is { } l) thread.Improved(l);
        _locals.Add(thread);
    }

    public ParameterSet? Propose(SweepHistory history)
    {
        _locals.RemoveAll(t => t.Local!.Converged && t.Running == 0);
        if (_locals.Count == 0) AddLocal(null, null);
        var thread = _proposals > 0 && _globalProposals < Settings.MinGlobalShare * _proposals ? _globalThread : Select();
        ParameterSet? parameters;
        if (thread.Local is { } local) parameters = local.Propose(history);
        else
        {
            parameters = _global.Propose(history);
            if (parameters is not null) parameters = Admissible(parameters);
        }
        if (parameters is null) return null;
        _proposals++;
        if (thread == _globalThread) _globalProposals++;
        thread.Running++;
        _owner[history.Number] = thread;
        return parameters;
    }

    /// <summary>FLAML's thread selection: highest priority among the local searches that may propose, else the global one.</summary>
    private Thread Select()
    {
        var all = _locals.Append(_globalThread).ToList();
        var maxSpeed = all.Max(t => t.Speed);
        foreach (var t in all) t.UpdateEci(_bestLoss, maxSpeed);
        var minEci = all.Min(t => t.Eci);
        Thread? top = null;
        foreach (var t in _locals.Where(t => t.Local!.CanPropose))
            if (top is null || t.Priority(minEci) > top.Priority(minEci)) top = t;
        if (top is null) return _globalThread;
        return _globalThread.Trials > 0 && _globalThread.Priority(minEci) > top.Priority(minEci) ? _globalThread : top;
    }

    /// <summary>Clamps a global proposal into the explored box widened by the largest local step.</summary>
    private ParameterSet Admissible(ParameterSet parameters)
    {
        var margin = _locals.Count == 0 ? 0.1 : _locals.Max(t => t.Local!.Step);
        var u = _encoding.Encode(parameters);
        foreach (var d in _encoding.Dimensions.Where(d => d.Kind != DimensionKind.Categorical))
            if (!double.IsNaN(u[d.Index]) && _exploredLow[d.Index] <= _exploredHigh[d.Index])
                u[d.Index] = Math.Clamp(u[d.Index], Math.Max(0, _exploredLow[d.Index] - margin), Math.Min(1, _exploredHigh[d.Index] + margin));
        return _encoding.Decode(u);
    }

    public void Update(TrialResult result)
    {
        _global.Update(result);
        var u = _encoding.Encode(result.Parameters);
        for (var k = 0; k < u.Length; k++)
            if (!double.IsNaN(u[k]))
            {
                _exploredLow[k] = Math.Min(_exploredLow[k], u[k]);
                _exploredHigh[k] = Math.Max(_exploredHigh[k], u[k]);
            }
        var ok = result.Status == TrialStatus.Completed && result.HasLoss;
        if (ok) _bestLoss = Math.Min(_bestLoss, result.Loss!.Value);
        if (!_owner.Remove(result.Number, out var thread))
        {
            // A trial proposed by someone else (a portfolio entry) counts like a global proposal: it may start a local
            // search there, which makes a local search still waiting at the low-cost point pointless (CFO alone skips
            // its start point likewise).
            if (ok && CreatesThread(result.Loss!.Value))
            {
                _locals.RemoveAll(t => t.Running == 0 && t.Local!.BestLoss is null);
                AddLocal(result.Parameters, result.Loss!.Value);
            }
            return;
        }
        thread.Running--;
        thread.Trials++;
        thread.Local?.Update(result);
        if (ok) thread.Improved(result.Loss!.Value);
        if (thread.Local is null && ok && CreatesThread(result.Loss!.Value)) AddLocal(result.Parameters, result.Loss!.Value);
        Merge();
    }

    /// <summary>FLAML's create condition: no local search yet, or better than the median of their bests (and room for one more).</summary>
    private bool CreatesThread(double loss)
    {
        if (_locals.Count == 0) return true;
        if (_locals.Count >= Settings.MaxLocalThreads) return false;
        var bests = _locals.Select(t => t.Local!.BestLoss ?? double.PositiveInfinity).Order().ToList();
        var median = bests.Count % 2 == 1 ? bests[bests.Count / 2] : (bests[bests.Count / 2 - 1] + bests[bests.Count / 2]) / 2;
        return loss < median;
    }

    /// <summary>Retires a local search whose incumbent lies within another's step of a better one.</summary>
    private void Merge()
    {
        for (var i = 0; i < _locals.Count; i++)
            for (var j = 0; j < _locals.Count; j++)
            {
                if (i == j || _locals[i].Local!.BestLoss is not { } a || _locals[j].Local!.BestLoss is not { } b || a < b) continue;
                var distance = Math.Sqrt(_locals[i].Local!.Incumbent.Zip(_locals[j].Local!.Incumbent).Sum(p => (p.First - p.Second) * (p.First - p.Second)));
                if (distance > _locals[j].Local!.Step || _locals[i].Running > 0) continue;
                _locals.RemoveAt(i);
                return;
            }
    }

    /// <summary>A search thread's progress in FLAML's terms (costs in trials).</summary>
    private sealed class Thread(CfoTuner? local)
    {
        public CfoTuner? Local { get; } = local;
        public int Running { get; set; }
        public int Trials { get; set; }
        public double Speed { get; private set; }
        public double Eci { get; private set; }
        private double _best1 = double.PositiveInfinity, _best2 = double.PositiveInfinity;
        private double _costBest1, _costBest2;

        public void Improved(double loss)
        {
            if (loss >= _best1) { UpdateSpeed(); return; }
            _best2 = double.IsPositiveInfinity(_best1) ? loss : _best1;
            _best1 = loss;
            _costBest2 = _costBest1;
            _costBest1 = Trials;
            UpdateSpeed();
        }

        private void UpdateSpeed() =>
            Speed = _best2 > _best1 && !double.IsPositiveInfinity(_best2) ? (_best2 - _best1) / Math.Max(Trials - _costBest2, 1) : 0;

        public void UpdateEci(double globalBest, double maxSpeed)
        {
            var speed = Speed > 0 ? Speed : maxSpeed;
            Eci = Math.Max(Trials - _costBest1, _costBest1 - _costBest2);
            if (_best1 > globalBest && speed > 0 && !double.IsPositiveInfinity(_best1)) Eci = Math.Max(Eci, 2 * (_best1 - globalBest) / speed);
            Eci = Math.Max(Eci, 1);
        }

        public double Priority(double minEci) => double.IsPositiveInfinity(_best1) ? double.NegativeInfinity : minEci * Speed - _best1;
    }
}
