namespace Experiments.Search.Retrieval;

/// <summary>A ranked list for one query: product indices best first and their scores.</summary>
public readonly record struct Ranked(int[] Products, float[] Scores)
{
    public static Ranked Empty { get; } = new([], []);

    public int Count => Products.Length;

    /// <summary>The first <paramref name="depth"/> entries of <paramref name="scores"/> by score (ties: lower index first), skipping <paramref name="excluded"/>.</summary>
    public static Ranked Top(ReadOnlySpan<float> scores, int depth, int excluded = -1)
    {
        var heap = new PriorityQueue<int, (float Score, int Index)>(depth + 1, Worst.Instance);
        for (var i = 0; i < scores.Length; i++)
        {
            if (i == excluded || float.IsNegativeInfinity(scores[i])) continue;
            if (heap.Count < depth) heap.Enqueue(i, (scores[i], i));
            else if (heap.TryPeek(out _, out var worst) && Worst.Instance.Compare((scores[i], i), worst) > 0) heap.EnqueueDequeue(i, (scores[i], i));
        }
        var products = new int[heap.Count];
        var values = new float[heap.Count];
        for (var k = heap.Count - 1; k >= 0; k--)
        {
            heap.TryDequeue(out var product, out var key);
            (products[k], values[k]) = (product, key.Score);
        }
        return new Ranked(products, values);
    }

    /// <summary>Orders heap keys so that the worst (lowest score; among equal scores the highest index) comes out first.</summary>
    private sealed class Worst : IComparer<(float Score, int Index)>
    {
        public static readonly Worst Instance = new();

        public int Compare((float Score, int Index) a, (float Score, int Index) b) =>
            a.Score != b.Score ? a.Score.CompareTo(b.Score) : b.Index.CompareTo(a.Index);
    }
}
