namespace Experiments.Evaluation.Statistics;

/// <summary>A paired comparison of two models on the same users: B − A, its interval and a two-sided p-value.</summary>
public sealed record PairedComparison(double Difference, double Lower, double Upper, double PValue, int Users);

/// <summary>
/// Paired tests on per-user metric values of two models evaluated on the same split: a percentile bootstrap of the
/// mean difference (users resampled with replacement) for the interval, and a sign-flip permutation test (under
/// the null each user's difference is as likely negative as positive) for the p-value.
/// </summary>
public static class PairedTest
{
    public static PairedComparison Compare(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int samples, double level, int seed)
    {
        if (a.Length != b.Length) throw new ArgumentException("Paired values must come from the same users.");
        if (a.Length == 0) throw new ArgumentException("No users to compare.");
        var differences = new double[a.Length];
        for (var i = 0; i < a.Length; i++) differences[i] = b[i] - a[i];
        var observed = differences.Average();
        var (lower, upper) = Bootstrap.Interval(differences.Length, draw => draw.Average(i => differences[i]), samples, level, seed);
        var random = new Random(seed ^ 0x5EED);
        var extreme = 0;
        for (var s = 0; s < samples; s++)
        {
            var sum = 0.0;
            foreach (var d in differences) sum += random.Next(2) == 0 ? d : -d;
            if (Math.Abs(sum / differences.Length) >= Math.Abs(observed) - 1e-15) extreme++;
        }
        // The +1s count the observed assignment itself, so p is never 0 from a finite number of permutations.
        return new PairedComparison(observed, lower, upper, (extreme + 1.0) / (samples + 1.0), differences.Length);
    }
}
