namespace Experiments.Search.Retrieval;

/// <summary>Hybrid retrieval: ranked lists of one query (or one user's candidates) fused into one.</summary>
public static class Fusion
{
    public static readonly IReadOnlyList<string> Methods = ["rrf", "weighted"];

    /// <summary>
    /// Reciprocal-rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009): score(p) = Σ_lists w / (k + rank(p)), rank
    /// from 1; a product missing from a list adds nothing for it. Uses ranks only, so the lists' score scales do not matter.
    /// </summary>
    public static Ranked ReciprocalRank(Ranked lexical, Ranked dense, double lexicalWeight, double k, int depth) =>
        ReciprocalRank([(lexical, lexicalWeight), (dense, 1 - lexicalWeight)], k, depth);

    /// <summary>Reciprocal-rank fusion of any number of weighted lists (a hybrid recommender's retrievers).</summary>
    public static Ranked ReciprocalRank(IReadOnlyList<(Ranked List, double Weight)> lists, double k, int depth)
    {
        var scores = new Dictionary<int, double>();
        foreach (var (list, weight) in lists)
            for (var r = 0; r < list.Count; r++) scores[list.Products[r]] = scores.GetValueOrDefault(list.Products[r]) + weight / (k + r + 1);
        return Order(scores, depth);
    }

    /// <summary>
    /// Weighted score combination: each list's scores are min–max normalised to [0, 1] over that list, a product missing
    /// from a list counts as that list's minimum (0), and score = w·lexical + (1 − w)·dense.
    /// </summary>
    public static Ranked Weighted(Ranked lexical, Ranked dense, double lexicalWeight, int depth)
    {
        var scores = new Dictionary<int, double>();
        void Add(Ranked list, double weight)
        {
            if (list.Count == 0) return;
            var (min, max) = (list.Scores.Min(), list.Scores.Max());
            for (var r = 0; r < list.Count; r++)
                scores[list.Products[r]] = scores.GetValueOrDefault(list.Products[r]) + weight * (max > min ? (list.Scores[r] - min) / (max - min) : 1);
        }
        Add(lexical, lexicalWeight);
        Add(dense, 1 - lexicalWeight);
        return Order(scores, depth);
    }

    private static Ranked Order(Dictionary<int, double> scores, int depth)
    {
        var top = scores.OrderByDescending(s => s.Value).ThenBy(s => s.Key).Take(depth).ToArray();
        return new Ranked(top.Select(s => s.Key).ToArray(), top.Select(s => (float)s.Value).ToArray());
    }
}
