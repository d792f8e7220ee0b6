using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;

namespace Experiments.Recommenders.Baselines;

public sealed record ItemKnnOptions
{
    public static readonly ItemKnnOptions Defaults = new();

    /// <summary>Most similar items kept per item.</summary>
    public int Neighbours { get; init; } = 100;
    /// <summary>sim(i,j) = |U_i ∩ U_j| / (√(|U_i|·|U_j|) + shrinkage).</summary>
    public double Shrinkage { get; init; } = 10;
}

/// <summary>
/// Item-based kNN on implicit feedback: cosine similarity between items' sets of users, shrunk towards 0 when the
/// overlap is small, keeping the top neighbours of each item. score(u,i) = Σ_{j ∈ items of u} sim(j,i) over the
/// kept neighbours of j.
/// </summary>
public sealed class ItemKnnTrainer(ItemKnnOptions options) : IRecommenderTrainer
{
    public ItemKnnOptions Options { get; } = options;

    public IRecommenderModel Fit(Interactions train, CancellationToken cancel = default)
    {
        Guard.NotEmpty(train);
        var byUser = UserItemMatrix.ByUser(train);
        var byItem = UserItemMatrix.ByItem(train);
        var items = train.Items.Count;
        var neighbours = new (int Item, float Similarity)[items][];
        Parallelism.For(0, items, new ParallelOptions { CancellationToken = cancel },
            () => new float[items],
            (i, _, overlap) =>
            {
                // Count common users with every other item by walking i's users' histories.
                var touched = new List<int>();
                foreach (var user in byItem.RowIndices(i))
                    foreach (var j in byUser.RowIndices(user))
                    {
                        if (j == i) continue;
                        if (overlap[j] == 0) touched.Add(j);
                        overlap[j]++;
                    }
                var scored = new List<(int Item, float Similarity)>(touched.Count);
                var sizeI = byItem.RowLength(i);
                foreach (var j in touched)
                {
                    scored.Add((j, (float)(overlap[j] / (Math.Sqrt((double)sizeI * byItem.RowLength(j)) + Options.Shrinkage))));
                    overlap[j] = 0;
                }
                scored.Sort((a, b) => b.Similarity != a.Similarity ? b.Similarity.CompareTo(a.Similarity) : a.Item.CompareTo(b.Item));
                neighbours[i] = scored.Take(Options.Neighbours).ToArray();
                return overlap;
            },
            _ => { });
        return new ItemKnnModel(byUser, neighbours);
    }
}

public sealed class ItemKnnModel(UserItemMatrix history, (int Item, float Similarity)[][] neighbours) : IRecommenderModel
{
    /// <summary>The kept neighbours of <paramref name="item"/> with their similarity, most similar first.</summary>
    public IReadOnlyList<(int Item, float Similarity)> Neighbours(int item) => item < neighbours.Length ? neighbours[item] : [];

    public void ScoreItems(int user, Span<float> scores)
    {
        scores.Clear();
        if (user >= history.Rows) return;
        foreach (var j in history.RowIndices(user))
            foreach (var (item, similarity) in neighbours[j])
                scores[item] += similarity;
    }

    public bool PredictsRatings => false;
    public float PredictRating(int user, int item) => throw new NotSupportedException("item-knn ranks items; it does not predict ratings.");

    /// <summary>Writes the neighbour lists (<see cref="FittedRecommender.Save"/>; the histories are saved there).</summary>
    internal void Write(BinaryWriter writer)
    {
        writer.WriteArray(neighbours.Select(n => n.Length).ToArray());
        writer.WriteArray(neighbours.SelectMany(n => n.Select(e => e.Item)).ToArray());
        writer.WriteArray(neighbours.SelectMany(n => n.Select(e => e.Similarity)).ToArray());
    }

    internal static ItemKnnModel Read(BinaryReader reader, UserItemMatrix history)
    {
        var lengths = reader.ReadArray<int>();
        var items = reader.ReadArray<int>();
        var similarities = reader.ReadArray<float>();
        if (lengths.Any(l => l < 0) || lengths.Sum(l => (long)l) != items.Length || items.Length != similarities.Length || items.Any(i => i < 0 || i >= lengths.Length))
            throw new ExperimentsException("The saved item-knn model is damaged: its neighbour lists do not fit together.");
        var neighbours = new (int Item, float Similarity)[lengths.Length][];
        for (int i = 0, at = 0; i < lengths.Length; at += lengths[i], i++)
            neighbours[i] = Enumerable.Range(at, lengths[i]).Select(e => (items[e], similarities[e])).ToArray();
        return new ItemKnnModel(history, neighbours);
    }
}
