using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders.Linear;

namespace Experiments.Recommenders.Factorization;

public sealed record ImplicitAlsOptions : SeededOptions
{
    public static readonly ImplicitAlsOptions Defaults = new();

    public int ApproximationRank { get; init; } = 64;
    public int NumberOfIterations { get; init; } = 15;
    /// <summary>L2 on the factors.</summary>
    public double Lambda { get; init; } = 0.1;
    /// <summary>Confidence of an observed interaction: c = 1 + Alpha · r (r = event count or rating).</summary>
    public double Alpha { get; init; } = 10;
    /// <summary>Conjugate-gradient steps per row and half-iteration (warm-started from the previous factors).</summary>
    public int ConjugateGradientSteps { get; init; } = 3;
    public double InitialScale { get; init; } = 0.01;
    public int NumberOfThreads { get; init; } = Environment.ProcessorCount;
}

/// <summary>
/// Weighted ALS for implicit feedback (Hu, Koren &amp; Volinsky 2008): minimise Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ(‖X‖² + ‖Y‖²)
/// over all pairs, with p_ui = 1 for observed pairs (0 otherwise) and c_ui = 1 + α r_ui. Each row's normal equations
/// (YᵀY + Yᵀ(C_u − I)Y + λI) x_u = Yᵀ C_u p_u are solved approximately by a few conjugate-gradient steps
/// (Takács et al. 2011), using YᵀY once per half-iteration, so the cost grows with the interactions, not users × items.
/// </summary>
public sealed class ImplicitAlsTrainer(ImplicitAlsOptions options) : IRecommenderTrainer, IIterationModels
{
    public ImplicitAlsOptions Options { get; } = options;

    public int Iterations => Options.NumberOfIterations;

    public event Action<int, IRecommenderModel>? IterationFitted;

    public IRecommenderModel Fit(Interactions train, CancellationToken cancel = default) => FitFactors(train, cancel);

    public LatentFactorModel FitFactors(Interactions train, CancellationToken cancel = default)
    {
        Guard.NotEmpty(train);
        Guard.FiniteRatings(train);
        FactorizationMath.CheckRank(Options.ApproximationRank, Options.NumberOfIterations);
        if (Options.Alpha < 0) throw new ExperimentsException($"alpha must be at least 0; it is {Options.Alpha}.");
        var k = Options.ApproximationRank;
        var random = new Random(Options.Seed);
        var x = FactorizationMath.Gaussian(train.Users.Count * k, Options.InitialScale, random);
        var y = FactorizationMath.Gaussian(train.Items.Count * k, Options.InitialScale, random);
        var byUser = UserItemMatrix.ByUser(train);
        var byItem = UserItemMatrix.ByItem(train);
        for (var iteration = 1; iteration <= Options.NumberOfIterations; iteration++)
        {
            Solve(byUser, x, y, cancel);
            Solve(byItem, y, x, cancel);
            IterationFitted?.Invoke(iteration, new LatentFactorModel(k, x, y));
        }
        return new LatentFactorModel(k, x, y);
    }

    private void Solve(UserItemMatrix rows, float[] target, float[] fixedFactors, CancellationToken cancel)
    {
        var k = Options.ApproximationRank;
        var gram = Array.ConvertAll(FactorizationMath.Gram(fixedFactors, k, rows.Columns, Options.NumberOfThreads, cancel), v => (float)v);
        var lambda = (float)Options.Lambda;
        var alpha = (float)Options.Alpha;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Options.NumberOfThreads), CancellationToken = cancel };
        Parallelism.For(0, rows.Rows, parallel, () => (R: new float[k], P: new float[k], Ap: new float[k]), (row, _, b) =>
        {
            var xu = target.AsSpan(row * k, k);
            var columns = rows.RowIndices(row);
            var values = rows.RowValues(row);
            // r = b − A x with b = Σ c_i y_i and A x = YᵀY x + Σ (c_i − 1)(y_i·x) y_i + λ x.
            MultiplyGram(gram, xu, b.R, k);
            for (var f = 0; f < k; f++) b.R[f] = -b.R[f] - lambda * xu[f];
            for (var c = 0; c < columns.Length; c++)
            {
                var yi = fixedFactors.AsSpan(columns[c] * k, k);
                var confidence = 1 + alpha * values[c];
                DenseMath.AddScaled(b.R, confidence - (confidence - 1) * DenseMath.Dot(yi, xu), yi);
            }
            b.R.CopyTo(b.P, 0);
            var rsOld = DenseMath.Dot(b.R, b.R);
            for (var step = 0; step < Options.ConjugateGradientSteps && rsOld > 1e-20f; step++)
            {
                MultiplyGram(gram, b.P, b.Ap, k);
                for (var f = 0; f < k; f++) b.Ap[f] += lambda * b.P[f];
                for (var c = 0; c < columns.Length; c++)
                {
                    var yi = fixedFactors.AsSpan(columns[c] * k, k);
                    DenseMath.AddScaled(b.Ap, alpha * values[c] * DenseMath.Dot(yi, b.P), yi);
                }
                var stepSize = rsOld / DenseMath.Dot(b.P, b.Ap);
                DenseMath.AddScaled(xu, stepSize, b.P);
                DenseMath.AddScaled(b.R, -stepSize, b.Ap);
                var rsNew = DenseMath.Dot(b.R, b.R);
                for (var f = 0; f < k; f++) b.P[f] = b.R[f] + rsNew / rsOld * b.P[f];
                rsOld = rsNew;
            }
            return b;
        }, _ => { });
    }

    private static void MultiplyGram(float[] gram, ReadOnlySpan<float> v, Span<float> result, int k)
    {
        for (var i = 0; i < k; i++) result[i] = DenseMath.Dot(gram.AsSpan(i * k, k), v);
    }
}
