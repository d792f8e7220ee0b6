using Experiments.Core;

namespace Experiments.Evaluation.Statistics;

/// <summary>
/// A percentile bootstrap interval, and how many resamples were drawn again because the statistic was undefined on
/// them (a PR-AUC resample without a positive row). NaN bounds: too few resamples were defined to give an interval.
/// </summary>
public sealed record BootstrapInterval(double Lower, double Upper, int Redrawn);

/// <summary>Percentile bootstrap over units (users or rows): resample with replacement, recompute the statistic, take quantiles.</summary>
public static class Bootstrap
{
    /// <summary>Resamples given up on, per requested resample, before the interval is declared unavailable.</summary>
    private const int MaxRedrawsPerSample = 100;

    /// <summary>
    /// Interval for a statistic of per-unit values. <paramref name="statistic"/> receives the resampled unit indices
    /// and returns the statistic on them (a mean for ranking metrics, a pooled RMSE for ratings), or NaN where the draw
    /// does not define it: such a draw is replaced by a fresh one and counted, so the interval is the one conditional on
    /// the statistic being defined, never one narrowed by a stand-in value.
    /// </summary>
    public static BootstrapInterval Interval(int units, Func<int[], double> statistic, int samples, double level, int seed)
    {
        var random = new Random(seed);
        var values = new double[samples];
        var draw = new int[units];
        var redrawn = 0;
        for (var b = 0; b < samples; b++)
        {
            while (true)
            {
                for (var i = 0; i < units; i++) draw[i] = random.Next(units);
                values[b] = statistic(draw);
                if (!double.IsNaN(values[b])) break;
                if (++redrawn > MaxRedrawsPerSample * samples) return new BootstrapInterval(double.NaN, double.NaN, redrawn);
            }
        }
        Array.Sort(values);
        var alpha = (1 - level) / 2;
        return new BootstrapInterval(Quantiles.OfSorted(values, alpha), Quantiles.OfSorted(values, 1 - alpha), redrawn);
    }
}
