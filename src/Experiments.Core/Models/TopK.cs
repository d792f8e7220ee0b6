namespace Experiments.Core.Models;

/// <summary>Partial top-K selection over a score vector without sorting it: O(n log K).</summary>
public static class TopK
{
    /// <summary>
    /// Writes the indices of the K highest finite scores into <paramref name="result"/>, best first, and returns how many
    /// were written (fewer than K when fewer items are candidates). Items scored negative infinity are not candidates.
    /// Ties go in <see cref="TieOrder"/>: deterministic, and unrelated to where an item first appears in the data.
    /// </summary>
    public static int Select(ReadOnlySpan<float> scores, Span<int> result)
    {
        var k = result.Length;
        if (k == 0) return 0;
        // A min-heap of the best K seen so far; the root is the worst of them.
        var heap = result;
        var size = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            var s = scores[i];
            if (float.IsNegativeInfinity(s) || float.IsNaN(s)) continue;
            if (size < k)
            {
                heap[size] = i;
                SiftUp(heap, size++, scores);
            }
            else if (Better(i, heap[0], scores))
            {
                heap[0] = i;
                SiftDown(heap, size, 0, scores);
            }
        }
        // Pop worst-first into the tail to leave the list sorted best-first.
        for (var end = size - 1; end > 0; end--)
        {
            (heap[0], heap[end]) = (heap[end], heap[0]);
            SiftDown(heap, end, 0, scores);
        }
        return size;
    }

    /// <summary>
    /// The rank of an index among tied scores (lower first): a fixed bijective 32-bit hash of the index (its XOR with
    /// 0x9E3779B9 through MurmurHash3's finaliser), so every index has its own key and the order is a fixed
    /// pseudo-random permutation. Item indices follow first appearance in the data (in MovieLens ratings.csv, sorted by
    /// user, the first user's famous films come first); breaking ties by index handed a model that cannot tell items
    /// apart — popularity among items without training rows — that file order as if it were a ranking.
    /// </summary>
    public static uint TieOrder(int index)
    {
        var x = (uint)index ^ 0x9E3779B9u;
        x ^= x >> 16;
        x *= 0x85EBCA6Bu;
        x ^= x >> 13;
        x *= 0xC2B2AE35u;
        x ^= x >> 16;
        return x;
    }

    private static bool Better(int a, int b, ReadOnlySpan<float> scores) =>
        scores[a] > scores[b] || (scores[a] == scores[b] && TieOrder(a) < TieOrder(b));

    private static void SiftUp(Span<int> heap, int i, ReadOnlySpan<float> scores)
    {
        while (i > 0)
        {
            var parent = (i - 1) / 2;
            if (!Better(heap[parent], heap[i], scores)) break;
            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(Span<int> heap, int size, int i, ReadOnlySpan<float> scores)
    {
        while (true)
        {
            var left = 2 * i + 1;
            if (left >= size) return;
            var worst = left;
            if (left + 1 < size && Better(heap[left], heap[left + 1], scores)) worst = left + 1;
            if (!Better(heap[i], heap[worst], scores)) return;
            (heap[i], heap[worst]) = (heap[worst], heap[i]);
            i = worst;
        }
    }
}
