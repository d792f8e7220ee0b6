using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;

namespace Experiments.Hybrid;

/// <summary>
/// Text retrieval of a user's next items: score(u, i) = cos(c_u, e_i), where e_i is item i's text vector and c_u the
/// mean of the vectors of u's history (weighted by the history's values — ratings or event counts — when asked).
/// It needs no interactions of item i, so it ranks items never seen in training as well as any, and it serves a user
/// known only by a few interactions in the same way.
/// </summary>
public sealed class TextNeighboursModel(UserItemMatrix history, float[][] vectors, bool weighted) : IRecommenderModel
{
    public void ScoreItems(int user, Span<float> scores)
    {
        scores.Clear();
        if (user >= history.Rows || history.RowLength(user) == 0) return;
        var centroid = ItemVectors.Centroid(vectors, history.RowIndices(user), weighted ? history.RowValues(user) : default);
        for (var i = 0; i < Math.Min(scores.Length, vectors.Length); i++) scores[i] = Vectors.Dot(centroid, vectors[i]);
    }

    public bool PredictsRatings => false;
    public float PredictRating(int user, int item) => throw new NotSupportedException("text-knn ranks items; it does not predict ratings.");
}

/// <summary>
/// Recency-weighted popularity: score(i) = Σ over i's training rows of 2^(−(T − t) / h), where T is the latest
/// training time and h the half-life, a share of the training period (T minus the earliest time). The same list for
/// everyone, favouring what is popular now over what was popular once.
/// </summary>
public static class RecentPopularity
{
    public static float[] Scores(Interactions train, double halfLife)
    {
        if (train.Count == 0) throw new ExperimentsException("The training set is empty: there is nothing to count.");
        if (!(halfLife > 0)) throw new ExperimentsException($"halfLife must be above 0; it is {halfLife}.");
        var (first, last) = (train.Timestamp.Min(), train.Timestamp.Max());
        var scale = Math.Max(1, last - first) * halfLife;
        var scores = new float[train.Items.Count];
        for (var r = 0; r < train.Count; r++) scores[train.Item[r]] += (float)Math.Pow(2, -(last - train.Timestamp[r]) / scale);
        return scores;
    }
}
