namespace Experiments.Evaluation.Statistics;

/// <summary>Percentile bootstrap over users: resample users with replacement, recompute the statistic, take quantiles.</summary>
public static class Bootstrap
{
    /// <summary>
    /// Interval for a statistic of per-user values. <paramref name="statistic"/> receives the resampled user indices
    /// and returns the statistic on them (a mean for ranking metrics, a pooled RMSE for ratings).
    /// </summary>
    public static (double Lower, double Upper) Interval(int users, Func<int[], double> statistic, int samples, double level, int seed)
    {
        var random = new Random(seed);
        var values = new double[samples];
        var draw = new int[users];
        for (var b = 0; b < samples; b++)
        {
            for (var i = 0; i < users; i++) draw[i] = random.Next(users);
            values[b] = statistic(draw);
        }
        Array.Sort(values);
        var alpha = (1 - level) / 2;
        return (Quantile(values, alpha), Quantile(values, 1 - alpha));
    }

    /// <summary>Linear interpolation between order statistics (numpy's default "linear" method).</summary>
    public static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + (position - lower) * (sorted[upper] - sorted[lower]);
    }
}
