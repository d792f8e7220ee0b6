using Experiments.Core.Data;
using Experiments.Recommenders.Factorization;

namespace Experiments.Tests.Recommenders;

/// <summary>
/// The Gibbs sampler's two conditionals checked against their closed forms (Salakhutdinov &amp; Mnih 2008, eq. 12–14),
/// computed here by hand for d = 2, through the moments of many draws.
/// </summary>
[TestClass]
public sealed class BayesianMatrixFactorizationTests
{
    private const int Draws = 20_000;

    /// <summary>The inverse of a symmetric 2 × 2 matrix [a b; b c].</summary>
    private static double[] Inverse(double a, double b, double c)
    {
        var det = a * c - b * b;
        return [c / det, -b / det, -b / det, a / det];
    }

    [TestMethod]
    public void A_row_is_drawn_from_its_gaussian_posterior()
    {
        // The other side's factors (items 0..2, d = 2), the row's ratings of items 0 and 2, μ = 3, α = 2.
        float[] other = [0.5f, -1f, 2f, 0.3f, -0.7f, 1.2f];
        int[] columns = [0, 2];
        float[] values = [4.5f, 2f];
        const float mean = 3;
        const double alpha = 2;
        (double[] Mean, double[] Precision) prior = ([0.2, -0.1], [1.5, 0.4, 0.4, 0.8]);
        // Λ* = Λ + α Σ v vᵀ; μ* = Λ*⁻¹ (α Σ (r − μ) v + Λ μ₀).
        double a = 1.5 + alpha * (0.25 + 0.49), b = 0.4 + alpha * (0.5 * -1 + -0.7 * 1.2), c = 0.8 + alpha * (1 + 1.44);
        double r0 = alpha * (1.5 * 0.5 + -1 * -0.7) + 1.5 * 0.2 + 0.4 * -0.1;
        double r1 = alpha * (1.5 * -1 + -1 * 1.2) + 0.4 * 0.2 + 0.8 * -0.1;
        var covariance = Inverse(a, b, c);
        double m0 = covariance[0] * r0 + covariance[1] * r1, m1 = covariance[2] * r0 + covariance[3] * r1;

        var draws = new double[Draws, 2];
        var precision = new double[4];
        var draw = new double[2];
        var y = new double[2];
        for (var s = 0; s < Draws; s++)
        {
            BayesianMatrixFactorizationTrainer.ConditionalDraw(columns, values, other, mean, prior, alpha, 2, precision, draw, y, new Random(s));
            draws[s, 0] = draw[0];
            draws[s, 1] = draw[1];
        }
        AssertMoments(draws, [m0, m1], covariance);
    }

    [TestMethod]
    public void Hyperparameters_are_drawn_from_their_normal_wishart_posterior()
    {
        // n = 4 rows of d = 2; β₀ = 2, μ₀ = 0, W₀ = I, ν₀ = 2.
        float[] rows = [1f, 0.5f, -0.5f, 1.5f, 0.3f, -0.2f, 1.2f, 0.8f];
        const int n = 4;
        const double beta0 = 2;
        double xm = (1 - 0.5 + 0.3 + 1.2) / 4, ym = (0.5 + 1.5 - 0.2 + 0.8) / 4;
        double sxx = 1 + 0.25 + 0.09 + 1.44 - n * xm * xm, sxy = 0.5 - 0.75 - 0.06 + 0.96 - n * xm * ym, syy = 0.25 + 2.25 + 0.04 + 0.64 - n * ym * ym;
        var shrink = beta0 * n / (beta0 + n);
        var w = Inverse(1 + sxx + shrink * xm * xm, sxy + shrink * xm * ym, 1 + syy + shrink * ym * ym);
        const double nu = 2 + n;
        double[] meanStar = [n * xm / (beta0 + n), n * ym / (beta0 + n)];

        var random = new Random(11);
        var precisions = new double[Draws, 3];
        var means = new double[Draws, 2];
        for (var s = 0; s < Draws; s++)
        {
            var (mu, lambda) = BayesianMatrixFactorizationTrainer.NormalWishartPosterior(rows, n, 2, beta0, random);
            precisions[s, 0] = lambda[0];
            precisions[s, 1] = lambda[1];
            precisions[s, 2] = lambda[3];
            means[s, 0] = mu[0];
            means[s, 1] = mu[1];
            Assert.AreEqual(lambda[1], lambda[2], "Λ is symmetric");
        }
        // Wishart(W, ν): E[Λ_ij] = ν W_ij, Var(Λ_ij) = ν (W_ij² + W_ii W_jj).
        double[] expected = [nu * w[0], nu * w[1], nu * w[3]];
        double[] variance = [2 * nu * w[0] * w[0], nu * (w[1] * w[1] + w[0] * w[3]), 2 * nu * w[3] * w[3]];
        for (var e = 0; e < 3; e++)
        {
            var values = Enumerable.Range(0, Draws).Select(s => precisions[s, e]).ToArray();
            var average = values.Average();
            Assert.AreEqual(expected[e], average, 5 * Math.Sqrt(variance[e] / Draws), $"E[Λ] entry {e}");
            Assert.AreEqual(variance[e], values.Select(v => (v - average) * (v - average)).Average(), 0.1 * variance[e], $"Var[Λ] entry {e}");
        }
        // μ | Λ ~ N(μ*, (β*Λ)⁻¹): its mean is μ* whatever Λ.
        for (var f = 0; f < 2; f++)
        {
            var values = Enumerable.Range(0, Draws).Select(s => means[s, f]).ToArray();
            var sd = Math.Sqrt(values.Select(v => (v - values.Average()) * (v - values.Average())).Average());
            Assert.AreEqual(meanStar[f], values.Average(), 5 * sd / Math.Sqrt(Draws), $"E[μ] entry {f}");
        }
    }

    /// <summary>Sample mean within 5 standard errors, sample covariance within 5%.</summary>
    private static void AssertMoments(double[,] draws, double[] mean, double[] covariance)
    {
        var n = draws.GetLength(0);
        var m = new double[2];
        for (var s = 0; s < n; s++) { m[0] += draws[s, 0] / n; m[1] += draws[s, 1] / n; }
        for (var f = 0; f < 2; f++) Assert.AreEqual(mean[f], m[f], 5 * Math.Sqrt(covariance[f * 3] / n), $"mean {f}");
        var c = new double[4];
        for (var s = 0; s < n; s++)
            for (var i = 0; i < 2; i++)
                for (var j = 0; j < 2; j++) c[i * 2 + j] += (draws[s, i] - m[i]) * (draws[s, j] - m[j]) / n;
        for (var e = 0; e < 4; e++) Assert.AreEqual(covariance[e], c[e], 0.05 * Math.Sqrt(covariance[0] * covariance[3]), $"covariance {e}");
    }

    [TestMethod]
    public void On_low_rank_ratings_the_posterior_mean_beats_the_biases_and_threads_do_not_change_it()
    {
        // Ratings 3 + uᵀv with 2-dimensional user and item vectors, plus noise; 60% of the pairs observed.
        var random = new Random(5);
        var builder = new InteractionsBuilder();
        var test = new List<(string U, string I, double R)>();
        var uv = Enumerable.Range(0, 80).Select(_ => new[] { random.NextDouble() * 2 - 1, random.NextDouble() * 2 - 1 }).ToArray();
        var iv = Enumerable.Range(0, 60).Select(_ => new[] { random.NextDouble() * 2 - 1, random.NextDouble() * 2 - 1 }).ToArray();
        for (var u = 0; u < 80; u++)
            for (var i = 0; i < 60; i++)
            {
                var r = 3 + 1.5 * (uv[u][0] * iv[i][0] + uv[u][1] * iv[i][1]);
                if (random.NextDouble() < 0.6) builder.Add($"u{u}", $"i{i}", (float)(r + 0.1 * (random.NextDouble() - 0.5)));
                else test.Add(($"u{u}", $"i{i}", r));
            }
        var train = builder.Build();
        var options = new BayesianMatrixFactorizationOptions { ApproximationRank = 4, BurnIn = 10, Samples = 20, Alpha = 20 };
        var model = new BayesianMatrixFactorizationTrainer(options with { NumberOfThreads = 1 }).FitFactors(train);
        var bias = new Experiments.Recommenders.Baselines.BiasTrainer(new()).Fit(train);
        double Rmse(Func<int, int, float> predict) =>
            Math.Sqrt(test.Average(t => Math.Pow(predict(train.Users.Ids.ToList().IndexOf(t.U), train.Items.Ids.ToList().IndexOf(t.I)) - t.R, 2)));
        var bmf = Rmse(model.PredictRating);
        Assert.IsLessThan(0.5 * Rmse(bias.PredictRating), bmf);
        CollectionAssert.AreEqual(model.ItemFactors, new BayesianMatrixFactorizationTrainer(options with { NumberOfThreads = 3 }).FitFactors(train).ItemFactors);
    }
}
