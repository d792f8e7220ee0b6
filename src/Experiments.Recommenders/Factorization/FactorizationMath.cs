using Experiments.Core;
using Experiments.Core.Data;

namespace Experiments.Recommenders.Factorization;

/// <summary>Pieces shared by the factorisation trainers: seeded initialisation, input checks, RMSE on held-out rows.</summary>
internal static class FactorizationMath
{
    public static float[] Gaussian(int count, double scale, Random random)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
            values[i] = (float)(scale * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        return values;
    }

    public static void CheckRank(int rank, int iterations)
    {
        if (rank < 1) throw new ExperimentsException($"The rank must be at least 1; it is {rank}.");
        if (iterations < 1) throw new ExperimentsException($"The number of iterations must be at least 1; it is {iterations}.");
    }

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
