using Experiments.Core;
using Experiments.Core.Data;

namespace Experiments.Recommenders.Factorization;

/// <summary>Which model a diverging fit is, and what the user should change (the settings that cause divergence, with their values).</summary>
internal sealed record DivergenceAdvice(string Model, string Remedy);

/// <summary>Pieces shared by the factorisation trainers: seeded initialisation, input checks, RMSE on held-out rows.</summary>
internal static class FactorizationMath
{
    public static float[] Gaussian(int count, double scale, Random random)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++) values[i] = (float)(scale * Sampling.StandardNormal(random));
        return values;
    }

    /// <summary>
    /// FᵀF (k × k, row-major, in double) over the first <paramref name="count"/> rows of a factor table. Rows are summed
    /// in chunks fixed by <paramref name="count"/> alone, in parallel, and the chunks' sums are added in chunk order: the
    /// same bits whatever the number of threads or the order in which they finish.
    /// </summary>
    public static double[] Gram(float[] factors, int k, int count, int threads, CancellationToken cancel = default)
    {
        var chunks = Math.Clamp(count / 1024, 1, 64);
        var partial = new double[chunks][];
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads), CancellationToken = cancel }, c =>
        {
            var sum = new double[k * k];
            var row = new double[k];
            for (var r = (int)((long)count * c / chunks); r < (int)((long)count * (c + 1) / chunks); r++)
            {
                for (var f = 0; f < k; f++) row[f] = factors[r * k + f];
                for (var i = 0; i < k; i++) Linear.DenseMath.AddScaled(sum.AsSpan(i * k, k), row[i], row);
            }
            partial[c] = sum;
        });
        var gram = partial[0];
        for (var c = 1; c < chunks; c++)
            for (var i = 0; i < gram.Length; i++) gram[i] += partial[c][i];
        return gram;
    }

    public static void CheckRank(int rank, int iterations)
    {
        if (rank < 1) throw new ExperimentsException($"The rank must be at least 1; it is {rank}.");
        if (iterations < 1) throw new ExperimentsException($"The number of iterations must be at least 1; it is {iterations}.");
    }

    /// <summary>
    /// The training RMSE beyond which a rating fit has diverged: 100 × the largest |rating|, since predicting 0 everywhere
    /// has an RMSE of at most the largest |rating|; no converging fit comes near it.
    /// </summary>
    public static double RmseLimit(Interactions train) => 100 * Math.Max(1, train.Rating.Max(r => Math.Abs((double)r)));

    /// <summary>
    /// The error for a fit that diverged at <paramref name="epoch"/> (NaN or infinite losses, exploding factors): it
    /// names the model, the epoch and what was seen, and what to change; no model (and so no NaN metric) comes out.
    /// </summary>
    public static ExperimentsException Diverged(DivergenceAdvice advice, int epoch, string symptom) =>
        new($"{advice.Model} diverged at epoch {epoch}: {symptom}. {advice.Remedy}");

    public static double Rmse(LatentFactorModel model, Interactions data)
    {
        var sum = 0.0;
        for (var r = 0; r < data.Count; r++)
        {
            var e = model.PredictRating(data.User[r], data.Item[r]) - data.Rating[r];
            sum += e * e;
        }
        return Math.Sqrt(sum / data.Count);
    }
}
