using Experiments.Core;
using Experiments.Core.Models;
using static Experiments.Recommenders.Linear.DenseMath;

namespace Experiments.Recommenders;

/// <summary>
/// score(u, i) = p_u · q_i (+ b_u + b_i + μ when biases are given): the fitted form of every matrix-factorisation
/// model. Factors are stored row-major, <see cref="Rank"/> floats per user or item. Scores a block of users against all
/// items tile by tile, so the item factors stream through the cache once per block instead of once per user.
/// </summary>
public sealed class LatentFactorModel : IRecommenderModel, IBatchScorer
{
    private const int ItemTile = 256;

    public LatentFactorModel(int rank, float[] userFactors, float[] itemFactors, float[]? userBias = null, float[]? itemBias = null, float mean = 0)
    {
        if (rank <= 0 || userFactors.Length % rank != 0 || itemFactors.Length % rank != 0)
            throw new ArgumentException("Factor arrays must hold a whole number of rows of length rank.");
        Rank = rank;
        UserFactors = userFactors;
        ItemFactors = itemFactors;
        UserBias = userBias;
        ItemBias = itemBias;
        Mean = mean;
    }

    public int Rank { get; }
    public float[] UserFactors { get; }
    public float[] ItemFactors { get; }
    public float[]? UserBias { get; }
    public float[]? ItemBias { get; }
    public float Mean { get; }
    public int Users => UserFactors.Length / Rank;
    public int Items => ItemFactors.Length / Rank;

    /// <inheritdoc />
    public bool IsReproducible { get; init; } = true;

    /// <summary>A copy with its own arrays (early stopping keeps the best iteration while training goes on).</summary>
    public LatentFactorModel Clone() =>
        new(Rank, (float[])UserFactors.Clone(), (float[])ItemFactors.Clone(), (float[]?)UserBias?.Clone(), (float[]?)ItemBias?.Clone(), Mean) { IsReproducible = IsReproducible };

    /// <summary>Writes the factors, biases and mean (<see cref="FittedRecommender.Save"/>).</summary>
    internal void Write(BinaryWriter writer)
    {
        writer.Write(Rank);
        writer.Write(Mean);
        writer.WriteArray(UserFactors);
        writer.WriteArray(ItemFactors);
        writer.WriteArray(UserBias);
        writer.WriteArray(ItemBias);
        writer.Write(IsReproducible);
    }

    /// <summary>Reads what <see cref="Write"/> wrote (format version 1 had no reproducibility flag).</summary>
    internal static LatentFactorModel Read(BinaryReader reader, int version)
    {
        var rank = reader.ReadInt32();
        var mean = reader.ReadSingle();
        return new LatentFactorModel(rank, reader.ReadArray<float>(), reader.ReadArray<float>(), reader.ReadArrayOrNull<float>(), reader.ReadArrayOrNull<float>(), mean)
        {
            IsReproducible = version < 2 || reader.ReadBoolean(),
        };
    }

    public bool PredictsRatings => UserBias is not null || ItemBias is not null || Mean != 0;

    public float PredictRating(int user, int item)
    {
        var score = Mean + (item < Items && ItemBias is not null ? ItemBias[item] : 0) + (user < Users && UserBias is not null ? UserBias[user] : 0);
        if (user < Users && item < Items) score += Dot(UserFactors.AsSpan(user * Rank, Rank), ItemFactors.AsSpan(item * Rank, Rank));
        return score;
    }

    public void ScoreItems(int user, Span<float> scores) => ScoreItems([user], scores);

    public void ScoreItems(ReadOnlySpan<int> users, Span<float> scores)
    {
        var items = scores.Length / users.Length;
        var known = Math.Min(items, Items);
        for (var tile = 0; tile < known; tile += ItemTile)
        {
            var end = Math.Min(tile + ItemTile, known);
            for (var b = 0; b < users.Length; b++)
            {
                var row = scores.Slice(b * items, items);
                var user = users[b];
                if (user >= Users)
                {
                    // A user unseen in training has no factors: items are ranked by their bias alone.
                    for (var i = tile; i < end; i++) row[i] = ItemBias?[i] ?? 0;
                    continue;
                }
                var p = UserFactors.AsSpan(user * Rank, Rank);
                for (var i = tile; i < end; i++) row[i] = Dot(p, ItemFactors.AsSpan(i * Rank, Rank)) + (ItemBias?[i] ?? 0);
            }
        }
        for (var b = 0; b < users.Length; b++) scores.Slice(b * items + known, items - known).Clear();
    }
}
