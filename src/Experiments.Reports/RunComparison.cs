using Experiments.Store;

namespace Experiments.Reports;

/// <summary>Paired tests between two runs: each model that both ran, on the same split and the same test users.</summary>
public static class RunComparison
{
    /// <summary>
    /// For each model name in both runs and each metric with per-user values: run B − run A, its bootstrap interval and
    /// a sign-flip permutation p-value (<paramref name="test"/> computes them from aligned per-user values). Pairs whose
    /// test users differ are skipped and named in <c>Skipped</c>, since they are not a paired design.
    /// </summary>
    public static (List<ComparisonRecord> Comparisons, List<string> Skipped) Paired(IRunStore store, RunDetails a, RunDetails b,
        Func<double[], double[], (double Difference, double Lower, double Upper, double PValue)> test)
    {
        var comparisons = new List<ComparisonRecord>();
        var skipped = new List<string>();
        foreach (var trialA in a.Trials.Where(t => t.Status == "finished"))
        {
            var trialB = b.Trials.FirstOrDefault(t => t.ModelName == trialA.ModelName && t.Split == trialA.Split && t.Status == "finished");
            if (trialB is null) continue;
            var valuesA = store.GetUserValues(trialA.Id);
            var valuesB = store.GetUserValues(trialB.Id);
            if (valuesA is null || valuesB is null) continue;
            if (!valuesA.Users.SequenceEqual(valuesB.Users))
            {
                skipped.Add($"{trialA.ModelName} ({trialA.Split}): the runs have different test users");
                continue;
            }
            foreach (var (metric, x) in valuesA.Values)
                if (valuesB.Values.TryGetValue(metric, out var y))
                {
                    var (difference, lower, upper, p) = test(x, y);
                    comparisons.Add(new ComparisonRecord(trialA.Split, metric, $"run {a.Run.Id}", $"{trialA.ModelName} (run {b.Run.Id})", difference, lower, upper, p, x.Length));
                }
        }
        return (comparisons, skipped);
    }
}
