namespace Experiments.Sweeps;

/// <summary>One point of the best-so-far curve: after trial <see cref="Number"/>, the best objective value yet.</summary>
public sealed record BestSoFar(int Number, TrialStatus Status, double? Value, double? Best);

/// <summary>A parameter's value and the objective of a trial where it was active: the data of a "parameter vs metric" plot.</summary>
public sealed record ParameterPoint(int Number, object Value, double Metric);

/// <summary>A finished (or stopped) sweep: its trials and what reports need from them.</summary>
public sealed record SweepResult(long SweepId, SweepStop Stop, SearchSpace Space, SweepObjective Objective, IReadOnlyList<TrialResult> Trials, TimeSpan Elapsed)
{
    /// <summary>
    /// How many trials ran to an end: a stop's count. Trials cancelled in flight are not among them (a resume runs them again).
    /// </summary>
    public int FinishedCount => Trials.Count(t => t.Status.IsFinal());

    /// <summary>The completed trial with the best objective (the earliest among equals); null when none completed.</summary>
    public TrialResult? Best => Leaderboard(1).FirstOrDefault();

    /// <summary>Completed trials, best first.</summary>
    public IReadOnlyList<TrialResult> Leaderboard(int count = 10) =>
        Trials.Where(t => t.Status == TrialStatus.Completed && t.HasLoss).OrderBy(t => t.Loss).ThenBy(t => t.Number).Take(count).ToList();

    /// <summary>Each trial in order with the best completed value up to it.</summary>
    public IReadOnlyList<BestSoFar> History()
    {
        var curve = new List<BestSoFar>();
        double? best = null;
        foreach (var t in Trials.OrderBy(t => t.Number))
        {
            if (t.Status == TrialStatus.Completed && t.HasLoss && (best is null || Objective.Loss(t.Value!.Value) < Objective.Loss(best.Value))) best = t.Value;
            curve.Add(new BestSoFar(t.Number, t.Status, t.Value, best));
        }
        return curve;
    }

    /// <summary>The values <paramref name="parameter"/> took in completed trials, with the objective (or another metric).</summary>
    public IReadOnlyList<ParameterPoint> ParameterVsMetric(string parameter, string? metric = null) =>
        Trials.Where(t => t.Status == TrialStatus.Completed && t.Parameters.ContainsKey(parameter))
            .Select(t => (t, m: metric is null ? t.Value : t.Metrics.TryGetValue(metric, out var v) ? v.Value : (double?)null))
            .Where(p => p.m is not null)
            .Select(p => new ParameterPoint(p.t.Number, p.t.Parameters[parameter], p.m!.Value))
            .ToList();

    /// <summary>Parameter importance by fANOVA over a random forest of the completed trials (see <see cref="Fanova"/>).</summary>
    public IReadOnlyList<ParameterImportance> Importance(int seed = 0) =>
        Fanova.Importance(Space, Trials.Where(t => t.Status == TrialStatus.Completed && t.HasLoss).ToList(), seed);
}
