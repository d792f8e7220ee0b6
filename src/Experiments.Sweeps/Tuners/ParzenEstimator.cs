using Experiments.Sweeps.Numerics;

namespace Experiments.Sweeps.Tuners;

/// <summary>
/// Optuna 3.1's Parzen estimator over a group of coordinates of the encoding: one truncated-normal (or categorical)
/// kernel per observation plus a prior kernel, weighted by Optuna's default weights. Coordinates live in [0, 1],
/// which is Optuna's internal range (log applied, discrete values widened by half a step) up to an affine map, so the
/// bandwidth rules carry over unchanged. Discrete coordinates are scored by the kernel's mass on the value's cell.
/// </summary>
internal sealed class ParzenEstimator
{
    private const double Sigma0Magnitude = 0.2;
    private readonly IReadOnlyList<Dimension> _dimensions;
    private readonly double[] _weights;
    private readonly double[] _logWeights;
    private readonly double[][] _mus;       // per dimension, per kernel (numeric dimensions)
    private readonly double[][] _sigmas;
    private readonly double[][] _logNormalisers; // log mass of [0, 1] under each kernel
    private readonly double[][][] _categorical; // per dimension, per kernel, per category

    /// <param name="observations">Each observation's coordinates for <paramref name="dimensions"/> (in that order).</param>
    public ParzenEstimator(IReadOnlyList<Dimension> dimensions, IReadOnlyList<double[]> observations, TpeSettings settings)
    {
        _dimensions = dimensions;
        var n = observations.Count;
        var kernels = n + 1; // the prior kernel is always considered (Optuna's consider_prior = True)
        _weights = new double[kernels];
        var w = DefaultWeights(n);
        Array.Copy(w, _weights, n);
        _weights[n] = settings.PriorWeight;
        var total = _weights.Sum();
        for (var k = 0; k < kernels; k++) _weights[k] /= total;
        _logWeights = _weights.Select(w => Math.Log(w)).ToArray();

        _mus = new double[dimensions.Count][];
        _sigmas = new double[dimensions.Count][];
        _logNormalisers = new double[dimensions.Count][];
        _categorical = new double[dimensions.Count][][];
        var sigma0 = Sigma0Magnitude * Math.Pow(Math.Max(n, 1), -1.0 / (dimensions.Count + 4));
        for (var j = 0; j < dimensions.Count; j++)
        {
            var d = dimensions[j];
            if (d.Kind == DimensionKind.Categorical)
            {
                var table = new double[kernels][];
                var fill = settings.PriorWeight / kernels;
                for (var k = 0; k < kernels; k++)
                {
                    var row = new double[d.Levels];
                    Array.Fill(row, fill);
                    if (k < n) row[d.CellOf(observations[k][j])] += 1;
                    var sum = row.Sum();
                    for (var c = 0; c < row.Length; c++) row[c] /= sum;
                    table[k] = row;
                }
                _categorical[j] = table;
                continue;
            }
            var mus = new double[kernels];
            for (var k = 0; k < n; k++) mus[k] = observations[k][j];
            mus[n] = 0.5;
            var sigmas = settings.Multivariate ? Enumerable.Repeat(sigma0, kernels).ToArray() : NeighbourSigmas(mus, settings.ConsiderEndpoints);
            // Optuna's "magic clip": no kernel narrower than the range over min(100, kernels).
            var minSigma = 1.0 / Math.Min(100.0, 1.0 + kernels);
            for (var k = 0; k < kernels; k++) sigmas[k] = Math.Clamp(sigmas[k], minSigma, 1.0);
            sigmas[n] = 1.0;
            _mus[j] = mus;
            _sigmas[j] = sigmas;
            _logNormalisers[j] = mus.Select((mu, k) => Normal.LogMass(-mu / sigmas[k], (1 - mu) / sigmas[k])).ToArray();
        }
    }

    /// <summary>Optuna's default_weights: flat up to 25 observations, then a ramp that discounts the oldest.</summary>
    internal static double[] DefaultWeights(int n)
    {
        if (n < 25) return Enumerable.Repeat(1.0, n).ToArray();
        var weights = new double[n];
        var rampLength = n - 25;
        for (var i = 0; i < rampLength; i++)
            weights[i] = rampLength == 1 ? 1.0 / n : 1.0 / n + (1.0 - 1.0 / n) * i / (rampLength - 1);
        for (var i = rampLength; i < n; i++) weights[i] = 1;
        return weights;
    }

    /// <summary>Univariate bandwidths: the larger gap to a neighbour among the sorted kernels and the range's ends.</summary>
    private static double[] NeighbourSigmas(double[] mus, bool considerEndpoints)
    {
        var order = Enumerable.Range(0, mus.Length).OrderBy(k => mus[k]).ToArray();
        var sorted = new double[mus.Length + 2];
        sorted[0] = 0;
        for (var i = 0; i < order.Length; i++) sorted[i + 1] = mus[order[i]];
        sorted[^1] = 1;
        var sortedSigmas = new double[mus.Length];
        for (var i = 0; i < mus.Length; i++)
            sortedSigmas[i] = Math.Max(sorted[i + 1] - sorted[i], sorted[i + 2] - sorted[i + 1]);
        if (!considerEndpoints && sorted.Length >= 4)
        {
            sortedSigmas[0] = sorted[2] - sorted[1];
            sortedSigmas[^1] = sorted[^2] - sorted[^3];
        }
        var sigmas = new double[mus.Length];
        for (var i = 0; i < order.Length; i++) sigmas[order[i]] = sortedSigmas[i];
        return sigmas;
    }

    /// <summary>Draws <paramref name="count"/> points; discrete coordinates land on their cell's centre.</summary>
    public double[][] Sample(SweepRandom random, int count)
    {
        var samples = new double[count][];
        for (var s = 0; s < count; s++)
        {
            var kernel = random.Choose(_weights);
            var point = new double[_dimensions.Count];
            for (var j = 0; j < _dimensions.Count; j++)
            {
                var d = _dimensions[j];
                if (d.Kind == DimensionKind.Categorical)
                {
                    var category = random.Choose(_categorical[j][kernel]);
                    point[j] = (category + 0.5) / d.Levels;
                    continue;
                }
                var mu = _mus[j][kernel];
                var sigma = _sigmas[j][kernel];
                var z = Normal.TruncatedQuantile(-mu / sigma, (1 - mu) / sigma, Math.Max(random.NextDouble(), double.Epsilon));
                var u = Math.Clamp(mu + sigma * z, 0, 1);
                point[j] = d.Kind == DimensionKind.Continuous ? u : d.Encode(d.Decode(u));
            }
            samples[s] = point;
        }
        return samples;
    }

    /// <summary>log density of the mixture at each point (log mass on the cell for discrete coordinates).</summary>
    public double[] LogPdf(IReadOnlyList<double[]> points)
    {
        var result = new double[points.Count];
        var kernels = _weights.Length;
        var terms = new double[kernels];
        for (var s = 0; s < points.Count; s++)
        {
            var x = points[s];
            for (var k = 0; k < kernels; k++)
            {
                var sum = _logWeights[k];
                for (var j = 0; j < _dimensions.Count; j++)
                {
                    var d = _dimensions[j];
                    if (d.Kind == DimensionKind.Categorical)
                    {
                        sum += Math.Log(_categorical[j][k][d.CellOf(x[j])]);
                        continue;
                    }
                    var mu = _mus[j][k];
                    var sigma = _sigmas[j][k];
                    if (d.Kind == DimensionKind.Continuous)
                        sum += Normal.LogPdf((x[j] - mu) / sigma) - Math.Log(sigma) - _logNormalisers[j][k];
                    else
                    {
                        var (low, high) = d.Cell(x[j]);
                        sum += Normal.LogMass((Math.Max(low, 0) - mu) / sigma, (Math.Min(high, 1) - mu) / sigma) - _logNormalisers[j][k];
                    }
                }
                terms[k] = sum;
            }
            var max = terms.Max();
            result[s] = double.IsNegativeInfinity(max) ? max : max + Math.Log(terms.Sum(t => Math.Exp(t - max)));
        }
        return result;
    }
}
