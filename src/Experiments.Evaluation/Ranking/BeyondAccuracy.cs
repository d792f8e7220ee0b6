namespace Experiments.Evaluation.Ranking;

/// <summary>How alike two items are, in [0, 1]: by category, by embedding, or anything else.</summary>
public interface IItemSimilarity
{
    double Similarity(int a, int b);
}

/// <summary>
/// Jaccard similarity of items' category sets; a category string may hold several categories separated by '|'
/// (MovieLens genres). Items without a category are similar to nothing.
/// </summary>
public sealed class CategorySimilarity : IItemSimilarity
{
    private readonly int[][] _categories;

    /// <param name="categoryOfItem">The category string of each item index (null when unknown).</param>
    public CategorySimilarity(IReadOnlyList<string?> categoryOfItem)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        _categories = categoryOfItem.Select(c => c is null
            ? Array.Empty<int>()
            : c.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(x => ids.TryGetValue(x, out var id) ? id : ids[x] = ids.Count).Distinct().Order().ToArray()).ToArray();
    }

    public double Similarity(int a, int b)
    {
        if (a >= _categories.Length || b >= _categories.Length) return 0;
        var x = _categories[a];
        var y = _categories[b];
        if (x.Length == 0 || y.Length == 0) return 0;
        var common = x.Intersect(y).Count();
        return (double)common / (x.Length + y.Length - common);
    }
}

/// <summary>Cosine similarity of item embeddings (e.g. text-encoder vectors of titles), clipped to [0, 1].</summary>
public sealed class EmbeddingSimilarity(IReadOnlyList<float[]?> vectors) : IItemSimilarity
{
    public double Similarity(int a, int b)
    {
        if (a >= vectors.Count || b >= vectors.Count || vectors[a] is not { } x || vectors[b] is not { } y) return 0;
        double dot = 0, nx = 0, ny = 0;
        for (var i = 0; i < x.Length; i++)
        {
            dot += x[i] * y[i];
            nx += x[i] * x[i];
            ny += y[i] * y[i];
        }
        return nx == 0 || ny == 0 ? 0 : Math.Clamp(dot / Math.Sqrt(nx * ny), 0, 1);
    }
}

/// <summary>
/// Metrics of what is recommended rather than whether it is relevant. Popularity is the share of training users
/// who interacted with an item (p_i). docs/metrics.md gives the formulas.
/// </summary>
public static class BeyondAccuracy
{
    /// <summary>1 − mean pairwise similarity of the list (0 for lists of one item).</summary>
    public static double IntraListDiversity(ReadOnlySpan<int> list, IItemSimilarity similarity)
    {
        if (list.Length < 2) return 0;
        var sum = 0.0;
        var pairs = 0;
        for (var i = 0; i < list.Length; i++)
            for (var j = i + 1; j < list.Length; j++)
            {
                sum += 1 - similarity.Similarity(list[i], list[j]);
                pairs++;
            }
        return sum / pairs;
    }

    /// <summary>Mean self-information −log2(p_i) of the listed items; items no training user saw count as seen by one user.</summary>
    public static double Novelty(ReadOnlySpan<int> list, ReadOnlySpan<double> popularity, int users)
    {
        if (list.Length == 0) return 0;
        var floor = 1.0 / Math.Max(users, 1);
        var sum = 0.0;
        foreach (var item in list) sum -= Math.Log2(Math.Max(popularity[item], floor));
        return sum / list.Length;
    }

    /// <summary>Mean popularity p_i of the listed items (average recommendation popularity): higher = more popularity-biased.</summary>
    public static double AveragePopularity(ReadOnlySpan<int> list, ReadOnlySpan<double> popularity)
    {
        if (list.Length == 0) return 0;
        var sum = 0.0;
        foreach (var item in list) sum += popularity[item];
        return sum / list.Length;
    }
}
