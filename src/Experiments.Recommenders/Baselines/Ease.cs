using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;
using Experiments.Recommenders.Linear;

namespace Experiments.Recommenders.Baselines;

public sealed record EaseOptions
{
    public static readonly EaseOptions Defaults = new();

    /// <summary>L2 weight λ added to the diagonal of the item Gram matrix.</summary>
    public double Lambda { get; init; } = 500;
    /// <summary>The model is fitted on the most popular items up to this many (the closed form costs O(items³)); other items score 0.</summary>
    public int MaxItems { get; init; } = 3000;
}

/// <summary>
/// EASE (Steck 2019): an item–item weight matrix B with zero diagonal minimising ‖X − XB‖² + λ‖B‖², in closed form:
/// P = (XᵀX + λI)⁻¹, B = I − P · diag(1 / diag(P)). X is the binary user–item matrix; score(u) = X_u B.
/// </summary>
public sealed class EaseTrainer(EaseOptions options) : IRecommenderTrainer
{
    public EaseOptions Options { get; } = options;

    public IRecommenderModel Fit(Interactions train, CancellationToken cancel = default)
    {
        Guard.NotEmpty(train);
        if (Options.Lambda <= 0) throw new ExperimentsException($"EASE needs lambda > 0; it is {Options.Lambda}.");
        var byItem = UserItemMatrix.ByItem(train);
        var byUser = UserItemMatrix.ByUser(train);
        var kept = Enumerable.Range(0, byItem.Rows).Where(i => byItem.RowLength(i) > 0)
            .OrderByDescending(i => byItem.RowLength(i)).ThenBy(i => i).Take(Options.MaxItems).ToArray();
        var n = kept.Length;
        var position = new int[train.Items.Count];
        Array.Fill(position, -1);
        for (var c = 0; c < n; c++) position[kept[c]] = c;
        // G = XᵀX over the kept items, accumulated user by user.
        var g = new double[(long)n * n];
        var lockObject = new object();
        Parallel.For(0, Environment.ProcessorCount, () => new List<int>(), (t, _, local) =>
        {
            for (var u = t; u < byUser.Rows; u += Environment.ProcessorCount)
            {
                if (cancel.IsCancellationRequested) break; // thrown below, outside the parallel loop
                local.Clear();
                foreach (var item in byUser.RowIndices(u)) if (position[item] >= 0) local.Add(position[item]);
                lock (lockObject)
                    foreach (var a in local)
                        foreach (var b in local) g[(long)a * n + b] += 1;
            }
            return local;
        }, _ => { });
        cancel.ThrowIfCancellationRequested();
        for (var i = 0; i < n; i++) g[(long)i * n + i] += Options.Lambda;
        DenseMath.InvertSpd(g, n, cancel);
        var weights = new float[(long)n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                weights[(long)i * n + j] = i == j ? 0 : (float)(-g[(long)i * n + j] / g[(long)j * n + j]);
        return new EaseModel(byUser, position, n, weights);
    }
}

public sealed class EaseModel(UserItemMatrix history, int[] position, int kept, float[] weights) : IRecommenderModel
{
    public void ScoreItems(int user, Span<float> scores)
    {
        scores.Clear();
        if (user >= history.Rows) return;
        var sums = new float[kept];
        foreach (var item in history.RowIndices(user))
        {
            var a = position[item];
            if (a < 0) continue;
            Linear.DenseMath.AddScaled(sums, 1, weights.AsSpan((int)((long)a * kept), kept));
        }
        for (var i = 0; i < position.Length && i < scores.Length; i++)
            if (position[i] >= 0) scores[i] = sums[position[i]];
    }

    public bool PredictsRatings => false;
    public float PredictRating(int user, int item) => throw new NotSupportedException("EASE ranks items; it does not predict ratings.");
}
