using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders.Linear;

namespace Experiments.Recommenders.Factorization;

public sealed record BayesianMatrixFactorizationOptions : SeededOptions
{
    public static readonly BayesianMatrixFactorizationOptions Defaults = new();

    /// <summary>Rank D of the factors of each sample.</summary>
    public int ApproximationRank { get; init; } = 10;
    /// <summary>Gibbs sweeps discarded before samples are kept.</summary>
    public int BurnIn { get; init; } = 20;
    /// <summary>Sweeps after the burn-in, each kept: predictions average this many samples.</summary>
    public int Samples { get; init; } = 60;
    /// <summary>Observation precision α: ratings are N(μ + U_iᵀV_j, 1/α) (the paper uses 2).</summary>
    public double Alpha { get; init; } = 2;
    /// <summary>β₀ of the Normal–Wishart hyper-prior (μ₀ = 0, W₀ = I, ν₀ = D).</summary>
    public double Beta0 { get; init; } = 2;
    public double InitialScale { get; init; } = 0.1;
    /// <summary>Threads over users/items; the result does not depend on it (each row draws from its own seeded generator).</summary>
    public int NumberOfThreads { get; init; } = Environment.ProcessorCount;
}

/// <summary>
/// Bayesian probabilistic matrix factorisation by Gibbs sampling (Salakhutdinov &amp; Mnih, ICML 2008):
/// R_ij ~ N(μ + U_iᵀV_j, α⁻¹), U_i ~ N(μ_U, Λ_U⁻¹), V_j ~ N(μ_V, Λ_V⁻¹), with Normal–Wishart hyper-priors
/// (μ_U, Λ_U) ~ N(μ₀, (β₀Λ_U)⁻¹) W(Λ_U | W₀, ν₀), and μ the mean training rating. Each sweep draws the hyperparameters
/// of the users from their conditional (eq. 14 of the paper), then every user from
/// U_i | V, R, Θ_U ~ N(μ*, Λ*⁻¹) with Λ* = Λ_U + α Σ_j V_j V_jᵀ and μ* = Λ*⁻¹(α Σ_j (R_ij − μ) V_j + Λ_U μ_U) (eq. 12–13),
/// then the same for the items. Predictions average U_iᵀV_j over the kept samples (eq. 10): the fitted model is a
/// <see cref="LatentFactorModel"/> whose factors are the samples side by side (rank D · samples). Users or items
/// without training ratings carry no information: they stay out of the hyperparameter statistics and take the sampled
/// population mean μ_U (μ_V), which is their posterior predictive mean. Rows draw in parallel, each from a generator
/// seeded by (seed, sweep, side, row): identical results under a seed with any number of threads.
/// </summary>
public sealed class BayesianMatrixFactorizationTrainer(BayesianMatrixFactorizationOptions options) : IRecommenderTrainer
{
    public BayesianMatrixFactorizationOptions Options { get; } = options;

    /// <summary>Progress: the sweep just finished (burn-in included).</summary>
    public event Action<int>? IterationFinished;

    public IRecommenderModel Fit(Interactions train, CancellationToken cancel = default) => FitFactors(train, cancel);

    public LatentFactorModel FitFactors(Interactions train, CancellationToken cancel = default)
    {
        train = Guard.TrainingRatings(train, "bayesian-mf");
        FactorizationMath.CheckRank(Options.ApproximationRank, Options.Samples);
        if (Options.BurnIn < 0) throw new ExperimentsException($"The burn-in must be at least 0 sweeps; it is {Options.BurnIn}.");
        if (!(Options.Alpha > 0) || !(Options.Beta0 > 0))
            throw new ExperimentsException($"alpha and beta0 must be above 0; they are {Options.Alpha} and {Options.Beta0}.");
        var d = Options.ApproximationRank;
        var random = new Random(Options.Seed);
        var mean = (float)train.Rating.Average(r => (double)r);
        var byUser = UserItemMatrix.ByUser(train);
        var byItem = UserItemMatrix.ByItem(train);
        var u = FactorizationMath.Gaussian(byUser.Rows * d, Options.InitialScale, random);
        var v = FactorizationMath.Gaussian(byItem.Rows * d, Options.InitialScale, random);
        var kept = Options.Samples;
        var userSamples = new float[byUser.Rows * d * kept];
        var itemSamples = new float[byItem.Rows * d * kept];
        var sweeps = Options.BurnIn + kept;
        for (var sweep = 1; sweep <= sweeps; sweep++)
        {
            cancel.ThrowIfCancellationRequested();
            SampleSide(byUser, u, v, mean, Hyperparameters(u, byUser, random, cancel), Seeds.Mix(Seeds.Mix(Options.Seed, sweep), 0), cancel);
            SampleSide(byItem, v, u, mean, Hyperparameters(v, byItem, random, cancel), Seeds.Mix(Seeds.Mix(Options.Seed, sweep), 1), cancel);
            var sample = sweep - Options.BurnIn - 1;
            if (sample >= 0)
            {
                // Sample s occupies columns [s·D, (s+1)·D) of each row; user factors carry the 1/samples of the average.
                Place(u, userSamples, byUser.Rows, sample, 1f / kept);
                Place(v, itemSamples, byItem.Rows, sample, 1f);
            }
            IterationFinished?.Invoke(sweep);
        }
        return new LatentFactorModel(d * kept, userSamples, itemSamples, new float[byUser.Rows], new float[byItem.Rows], mean);
    }

    private void Place(float[] factors, float[] samples, int rows, int sample, float scale)
    {
        var d = Options.ApproximationRank;
        var width = d * Options.Samples;
        for (var r = 0; r < rows; r++)
            for (var f = 0; f < d; f++) samples[r * width + sample * d + f] = scale * factors[r * d + f];
    }

    /// <summary>A draw of (μ, Λ) for one side from its Normal–Wishart conditional, given the rows that have ratings.</summary>
    internal (double[] Mean, double[] Precision) Hyperparameters(float[] factors, UserItemMatrix rows, Random random, CancellationToken cancel)
    {
        var d = Options.ApproximationRank;
        var observed = Enumerable.Range(0, rows.Rows).Where(r => rows.RowLength(r) > 0).ToArray();
        var present = new float[observed.Length * d];
        for (var o = 0; o < observed.Length; o++) factors.AsSpan(observed[o] * d, d).CopyTo(present.AsSpan(o * d, d));
        return NormalWishartPosterior(present, observed.Length, d, Options.Beta0, random, cancel);
    }

    /// <summary>
    /// (μ, Λ) ~ N(μ*, (β*Λ)⁻¹) W(Λ | W*, ν*) given n rows X of dimension d, with μ₀ = 0, W₀ = I, ν₀ = d:
    /// β* = β₀ + n, ν* = ν₀ + n, μ* = n x̄ / β*, W*⁻¹ = I + n S̄ + (β₀ n / β*) x̄ x̄ᵀ, S̄ the rows' covariance (eq. 14).
    /// </summary>
    internal static (double[] Mean, double[] Precision) NormalWishartPosterior(float[] rows, int n, int d, double beta0, Random random, CancellationToken cancel = default)
    {
        var mean = new double[d];
        for (var r = 0; r < n; r++)
            for (var f = 0; f < d; f++) mean[f] += rows[r * d + f];
        for (var f = 0; f < d; f++) mean[f] /= Math.Max(1, n);
        // n S̄ = Σ x xᵀ − n x̄ x̄ᵀ.
        var scatter = FactorizationMath.Gram(rows, d, n, 1, cancel);
        var betaStar = beta0 + n;
        var inverseScale = new double[d * d];
        for (var i = 0; i < d; i++)
            for (var j = 0; j < d; j++)
                inverseScale[i * d + j] = (i == j ? 1 : 0) + scatter[i * d + j] - n * mean[i] * mean[j] + beta0 * n / betaStar * mean[i] * mean[j];
        var precision = Sampling.Wishart(inverseScale, d + n, d, random);
        var scaled = new double[d * d];
        var draw = new double[d];
        for (var i = 0; i < d * d; i++) scaled[i] = betaStar * precision[i];
        // N(μ*, (β*Λ)⁻¹) drawn from its precision: b = (β*Λ) μ*.
        for (var i = 0; i < d; i++)
            for (var j = 0; j < d; j++) draw[i] += scaled[i * d + j] * (n * mean[j] / betaStar);
        Sampling.GaussianFromPrecision(scaled, draw, d, random);
        return (draw, precision);
    }

    /// <summary>Draws every row of one side from its conditional given the other side; rows without ratings take μ.</summary>
    private void SampleSide(UserItemMatrix rows, float[] target, float[] other, float mean, (double[] Mean, double[] Precision) prior, int sideSeed, CancellationToken cancel)
    {
        var d = Options.ApproximationRank;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Options.NumberOfThreads), CancellationToken = cancel };
        Parallelism.For(0, rows.Rows, parallel, () => (Precision: new double[d * d], B: new double[d], Y: new double[d]), (row, _, buffers) =>
        {
            var x = target.AsSpan(row * d, d);
            if (rows.RowLength(row) == 0)
            {
                for (var f = 0; f < d; f++) x[f] = (float)prior.Mean[f];
                return buffers;
            }
            ConditionalDraw(rows.RowIndices(row), rows.RowValues(row), other, mean, prior, Options.Alpha, d, buffers.Precision, buffers.B, buffers.Y, new Random(Seeds.Mix(sideSeed, row)));
            for (var f = 0; f < d; f++) x[f] = (float)buffers.B[f];
            return buffers;
        }, _ => { });
    }

    /// <summary>
    /// One row's draw from N(μ*, Λ*⁻¹), Λ* = Λ + α Σ_c y_c y_cᵀ, μ* = Λ*⁻¹(α Σ_c (r_c − μ) y_c + Λ μ_prior), into <paramref name="b"/>.
    /// </summary>
    internal static void ConditionalDraw(ReadOnlySpan<int> columns, ReadOnlySpan<float> values, float[] other, float mean, (double[] Mean, double[] Precision) prior,
        double alpha, int d, double[] precision, double[] b, double[] y, Random random)
    {
        prior.Precision.CopyTo(precision, 0);
        for (var i = 0; i < d; i++) b[i] = DenseMath.Dot(prior.Precision.AsSpan(i * d, d), prior.Mean);
        for (var c = 0; c < columns.Length; c++)
        {
            for (var f = 0; f < d; f++) y[f] = other[columns[c] * d + f];
            var residual = alpha * (values[c] - mean);
            for (var i = 0; i < d; i++)
            {
                DenseMath.AddScaled(precision.AsSpan(i * d, d), alpha * y[i], y);
                b[i] += residual * y[i];
            }
        }
        Sampling.GaussianFromPrecision(precision, b, d, random);
    }
}
