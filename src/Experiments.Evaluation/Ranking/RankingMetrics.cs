namespace Experiments.Evaluation.Ranking;

/// <summary>
/// Per-user ranking metrics on a ranked list and a set of relevant items, with binary relevance. Definitions follow
/// Microsoft Recommenders' python_evaluation module; docs/metrics.md writes them out with their edge cases.
/// A list shorter than K (fewer candidates than K) is scored as it is: missing positions count as misses.
/// </summary>
public static class RankingMetrics
{
    public static int Hits(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        var hits = 0;
        for (var i = 0; i < Math.Min(k, ranked.Length); i++)
            if (relevant.Contains(ranked[i])) hits++;
        return hits;
    }

    public static double Precision(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k) => (double)Hits(ranked, relevant, k) / k;

    public static double Recall(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k) =>
        relevant.Count == 0 ? 0 : (double)Hits(ranked, relevant, k) / relevant.Count;

    public static double HitRate(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k) => Hits(ranked, relevant, k) > 0 ? 1 : 0;

    public static double Ndcg(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        var dcg = 0.0;
        for (var i = 0; i < Math.Min(k, ranked.Length); i++)
            if (relevant.Contains(ranked[i])) dcg += 1 / Math.Log2(i + 2);
        var ideal = IdealDcg(relevant.Count, k);
        return ideal == 0 ? 0 : dcg / ideal;
    }

    /// <summary>The DCG of a perfect top K with <paramref name="relevant"/> relevant items (binary gains).</summary>
    public static double IdealDcg(int relevant, int k)
    {
        var ideal = 0.0;
        for (var i = 0; i < Math.Min(k, relevant); i++) ideal += 1 / Math.Log2(i + 2);
        return ideal;
    }

    /// <summary>The DCG of a perfect top K with the user's grades sorted from best (gains 2^g − 1).</summary>
    public static double IdealGradedDcg(IReadOnlyDictionary<int, double> grades, int k)
    {
        var ideal = 0.0;
        var position = 0;
        foreach (var g in grades.Values.OrderDescending())
        {
            if (position >= k) break;
            ideal += (Math.Pow(2, g) - 1) / Math.Log2(position + 2);
            position++;
        }
        return ideal;
    }

    /// <summary>
    /// NDCG with graded relevance: gain 2^g − 1 for an item of grade g (0 = not relevant), the ideal DCG from the
    /// user's grades sorted from best. With grades of 1 it equals <see cref="Ndcg"/>.
    /// </summary>
    public static double GradedNdcg(ReadOnlySpan<int> ranked, IReadOnlyDictionary<int, double> grades, int k)
    {
        var dcg = 0.0;
        for (var i = 0; i < Math.Min(k, ranked.Length); i++)
            if (grades.TryGetValue(ranked[i], out var g)) dcg += (Math.Pow(2, g) - 1) / Math.Log2(i + 2);
        var ideal = IdealGradedDcg(grades, k);
        return ideal == 0 ? 0 : dcg / ideal;
    }

    /// <summary>Average precision at K: the precision at each relevant position of the top K, summed, over min(K, |R|) (<c>map@K</c>).</summary>
    public static double AveragePrecision(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k) =>
        relevant.Count == 0 ? 0 : PrecisionSum(ranked, relevant, k) / Math.Min(k, relevant.Count);

    /// <summary>
    /// The same sum over all |R| relevant items (<c>map-relevant@K</c>): the older MAP of Microsoft Recommenders'
    /// <c>map</c> function and its published tables, which cannot reach 1 for a user with more than K relevant items.
    /// </summary>
    public static double AveragePrecisionOverRelevant(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k) =>
        relevant.Count == 0 ? 0 : PrecisionSum(ranked, relevant, k) / relevant.Count;

    private static double PrecisionSum(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        var hits = 0;
        var sum = 0.0;
        for (var i = 0; i < Math.Min(k, ranked.Length); i++)
            if (relevant.Contains(ranked[i]))
            {
                hits++;
                sum += (double)hits / (i + 1);
            }
        return sum;
    }

    public static double ReciprocalRank(ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k)
    {
        for (var i = 0; i < Math.Min(k, ranked.Length); i++)
            if (relevant.Contains(ranked[i])) return 1.0 / (i + 1);
        return 0;
    }

    public static double Compute(string metric, ReadOnlySpan<int> ranked, IReadOnlySet<int> relevant, int k) => metric switch
    {
        "precision" => Precision(ranked, relevant, k),
        "recall" => Recall(ranked, relevant, k),
        "ndcg" => Ndcg(ranked, relevant, k),
        "map" => AveragePrecision(ranked, relevant, k),
        "map-relevant" => AveragePrecisionOverRelevant(ranked, relevant, k),
        "hit-rate" => HitRate(ranked, relevant, k),
        "mrr" => ReciprocalRank(ranked, relevant, k),
        _ => throw new ArgumentException($"'{metric}' is not a ranking metric."),
    };
}
