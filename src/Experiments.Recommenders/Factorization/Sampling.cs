using Experiments.Core;
using Experiments.Recommenders.Linear;

namespace Experiments.Recommenders.Factorization;

/// <summary>The random draws of the Gibbs sampler: normal, gamma, multivariate normal from a precision, Wishart.</summary>
internal static class Sampling
{
    /// <summary>N(0, 1) by the Box–Muller transform (its cosine half).</summary>
    public static double StandardNormal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>Gamma(shape, 1) by Marsaglia &amp; Tsang (2000); a shape below 1 is boosted by U^(1/shape).</summary>
    public static double Gamma(double shape, Random random)
    {
        if (shape < 1) return Gamma(shape + 1, random) * Math.Pow(1 - random.NextDouble(), 1 / shape);
        var d = shape - 1.0 / 3;
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = StandardNormal(random);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            var u = 1 - random.NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v)) return d * v;
        }
    }

    /// <summary>
    /// Draws x ~ N(Λ⁻¹ b, Λ⁻¹) for a symmetric positive-definite precision Λ (n × n, row-major; overwritten by its
    /// Cholesky factor L, Λ = L Lᵀ); <paramref name="b"/> is overwritten by the draw: the mean plus L⁻ᵀ z, z ~ N(0, I).
    /// </summary>
    public static void GaussianFromPrecision(Span<double> precision, Span<double> b, int n, Random random)
    {
        if (!DenseMath.CholeskySolve(precision, b, n))
            throw new ExperimentsException("A posterior precision matrix is not positive definite (non-finite factors?); lower the observation precision alpha.");
        Span<double> w = stackalloc double[n];
        for (var i = 0; i < n; i++) w[i] = StandardNormal(random);
        SolveTransposed(precision, w, n);
        for (var i = 0; i < n; i++) b[i] += w[i];
    }

    /// <summary>
    /// Draws Λ ~ Wishart(W, ν) (mean ν W) given W⁻¹ (n × n, row-major; overwritten), by Bartlett's decomposition: with
    /// W⁻¹ = R Rᵀ and A lower triangular (A_ii² ~ χ²(ν − i), A_ij ~ N(0, 1) below the diagonal), Λ = (R⁻ᵀ A)(R⁻ᵀ A)ᵀ.
    /// </summary>
    public static double[] Wishart(Span<double> inverseScale, double nu, int n, Random random)
    {
        Span<double> none = stackalloc double[n];
        none.Clear();
        if (!DenseMath.CholeskySolve(inverseScale, none, n))
            throw new ExperimentsException("The Wishart scale matrix is not positive definite.");
        var a = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            a[i * n + i] = Math.Sqrt(2 * Gamma((nu - i) / 2, random));
            for (var j = 0; j < i; j++) a[i * n + j] = StandardNormal(random);
        }
        // B = R⁻ᵀ A, column by column.
        var b = new double[n * n];
        Span<double> column = stackalloc double[n];
        for (var j = 0; j < n; j++)
        {
            for (var i = 0; i < n; i++) column[i] = a[i * n + j];
            SolveTransposed(inverseScale, column, n);
            for (var i = 0; i < n; i++) b[i * n + j] = column[i];
        }
        var lambda = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j <= i; j++)
                lambda[i * n + j] = lambda[j * n + i] = DenseMath.Dot(b.AsSpan(i * n, n), b.AsSpan(j * n, n));
        return lambda;
    }

    /// <summary>Solves Lᵀ x = v in place for the lower Cholesky factor L stored in the lower triangle of <paramref name="factor"/>.</summary>
    private static void SolveTransposed(ReadOnlySpan<double> factor, Span<double> v, int n)
    {
        for (var i = n - 1; i >= 0; i--)
        {
            var s = v[i];
            for (var k = i + 1; k < n; k++) s -= factor[k * n + i] * v[k];
            v[i] = s / factor[i * n + i];
        }
    }
}
