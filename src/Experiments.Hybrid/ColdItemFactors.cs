using Experiments.Core;
using Experiments.Core.Models;
using Experiments.Recommenders;
using Experiments.Recommenders.Linear;
using Experiments.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Hybrid;

/// <summary>How items without training rows get latent factors: not at all, or from their text vector.</summary>
public enum ColdItemMap { None, Linear, Mlp, Neighbours }

/// <summary>
/// A map's settings: the ridge weight (linear map; the MLP's weight decay), the known items averaged (neighbours),
/// the hidden width and full-batch Adam epochs of the MLP, and its seed.
/// </summary>
public sealed record ColdItemMapOptions(ColdItemMap Map, double Lambda = 1, int Neighbours = 20, int Hidden = 64, int Epochs = 300, int Seed = 42);

/// <summary>
/// Latent factors for cold items, mapped from their text vectors into the factor space of the known (warm) items: a
/// ridge regression from text vector to factors (and item bias, when the model has biases) fitted on the warm items,
/// a small MLP (one tanh hidden layer, full-batch Adam on the squared error of standardised targets), or the mean
/// factors of the k warm items whose text is most similar (cosine). Warm items keep their own factors.
/// </summary>
public static class ColdItemFactors
{
    public static LatentFactorModel Apply(LatentFactorModel model, float[][] text, bool[] warm, ColdItemMapOptions options)
    {
        if (options.Map == ColdItemMap.None) return model;
        var k = model.Rank;
        var known = Enumerable.Range(0, model.Items).Where(i => i < warm.Length && warm[i] && i < text.Length && Norm(text[i]) > 0).ToArray();
        var cold = Enumerable.Range(0, model.Items).Where(i => i >= warm.Length || !warm[i]).Where(i => i < text.Length && Norm(text[i]) > 0).ToArray();
        if (cold.Length == 0 || known.Length == 0) return model;
        var withBias = model.ItemBias is not null;
        // Targets: each known item's factors, then its bias.
        var targets = known.Select(i => withBias ? [.. model.ItemFactors.AsSpan(i * k, k), model.ItemBias![i]] : model.ItemFactors.AsSpan(i * k, k).ToArray()).ToArray();
        var inputs = known.Select(i => text[i]).ToArray();
        var mapped = options.Map switch
        {
            ColdItemMap.Linear => Predict(RidgeWeights(inputs, targets, options.Lambda), cold.Select(i => text[i]).ToArray()),
            ColdItemMap.Neighbours => Neighbours(inputs, targets, cold.Select(i => text[i]).ToArray(), options.Neighbours),
            _ => Mlp(inputs, targets, cold.Select(i => text[i]).ToArray(), options),
        };
        var factors = (float[])model.ItemFactors.Clone();
        var bias = (float[]?)model.ItemBias?.Clone();
        for (var c = 0; c < cold.Length; c++)
        {
            mapped[c].AsSpan(0, k).CopyTo(factors.AsSpan(cold[c] * k, k));
            if (bias is not null) bias[cold[c]] = mapped[c][k];
        }
        return new LatentFactorModel(k, model.UserFactors, factors, model.UserBias, bias, model.Mean) { IsReproducible = model.IsReproducible };
    }

    /// <summary>
    /// Ridge regression with an unpenalised intercept: W = (XᵀX + λ·diag(1, …, 1, 0))⁻¹ XᵀY with X = [x, 1]. Returns
    /// (d + 1) rows of t weights; the last row is the intercept.
    /// </summary>
    public static double[][] RidgeWeights(float[][] x, float[][] y, double lambda)
    {
        if (x.Length == 0 || x.Length != y.Length) throw new ArgumentException("Inputs and targets need the same, non-zero number of rows.");
        var d = x[0].Length + 1;
        var t = y[0].Length;
        var gram = new double[d * d];
        var right = new double[d * t];
        var row = new double[d];
        for (var n = 0; n < x.Length; n++)
        {
            for (var a = 0; a < d - 1; a++) row[a] = x[n][a];
            row[d - 1] = 1;
            for (var a = 0; a < d; a++)
            {
                for (var b = 0; b < d; b++) gram[a * d + b] += row[a] * row[b];
                for (var c = 0; c < t; c++) right[a * t + c] += row[a] * y[n][c];
            }
        }
        for (var a = 0; a < d - 1; a++) gram[a * d + a] += lambda;
        var weights = Enumerable.Range(0, d).Select(_ => new double[t]).ToArray();
        var column = new double[d];
        for (var c = 0; c < t; c++)
        {
            var a = (double[])gram.Clone();
            for (var r = 0; r < d; r++) column[r] = right[r * t + c];
            if (!DenseMath.CholeskySolve(a, column, d))
                throw new ExperimentsException("The text-to-factor map's normal equations are singular; raise mapLambda above 0.");
            for (var r = 0; r < d; r++) weights[r][c] = column[r];
        }
        return weights;
    }

    public static float[][] Predict(double[][] weights, float[][] x) => x.Select(v =>
    {
        var t = weights[0].Length;
        var result = new float[t];
        for (var c = 0; c < t; c++)
        {
            var sum = weights[^1][c];
            for (var a = 0; a < v.Length; a++) sum += weights[a][c] * v[a];
            result[c] = (float)sum;
        }
        return result;
    }).ToArray();

    private static float[][] Neighbours(float[][] known, float[][] targets, float[][] cold, int neighbours)
    {
        var result = new float[cold.Length][];
        var top = Math.Min(neighbours, known.Length);
        Parallelism.For(0, cold.Length, new ParallelOptions(), () => (Scores: new float[known.Length], Top: new int[top]), (c, _, buffers) =>
        {
            for (var i = 0; i < known.Length; i++) buffers.Scores[i] = Vectors.Dot(cold[c], known[i]);
            var count = TopK.Select(buffers.Scores, buffers.Top);
            var mean = new float[targets[0].Length];
            for (var n = 0; n < count; n++)
                for (var f = 0; f < mean.Length; f++) mean[f] += targets[buffers.Top[n]][f] / count;
            result[c] = mean;
            return buffers;
        }, _ => { });
        return result;
    }

    private static float[][] Mlp(float[][] known, float[][] targets, float[][] cold, ColdItemMapOptions options)
    {
        var t = targets[0].Length;
        var mean = Enumerable.Range(0, t).Select(c => targets.Average(y => y[c])).ToArray();
        var scale = Enumerable.Range(0, t).Select(c => Math.Sqrt(targets.Average(y => (y[c] - mean[c]) * (y[c] - mean[c]))) is var s and > 1e-12 ? s : 1).ToArray();
        // This may be the process's first TorchSharp call: load the native library the platform's way (docs/text.md).
        TorchNative.EnsureLoaded();
        using var scope = NewDisposeScope();
        manual_seed(options.Seed);
        var d = known[0].Length;
        var x = tensor(known.SelectMany(v => v).ToArray(), [known.Length, d]);
        var y = tensor(targets.SelectMany(v => v.Select((value, c) => (float)((value - mean[c]) / scale[c]))).ToArray(), [targets.Length, t]);
        var network = nn.Sequential(nn.Linear(d, options.Hidden), nn.Tanh(), nn.Linear(options.Hidden, t));
        var optimizer = optim.Adam(network.parameters(), lr: 0.01, weight_decay: options.Lambda * 1e-3);
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(network.forward(x), y);
            loss.backward();
            optimizer.step();
        }
        network.eval();
        using var noGrad = no_grad();
        var predicted = network.forward(tensor(cold.SelectMany(v => v).ToArray(), [cold.Length, d])).data<float>().ToArray();
        return Enumerable.Range(0, cold.Length).Select(r => Enumerable.Range(0, t).Select(c => (float)(predicted[r * t + c] * scale[c] + mean[c])).ToArray()).ToArray();
    }

    private static float Norm(float[] v) => Vectors.Dot(v, v);
}
