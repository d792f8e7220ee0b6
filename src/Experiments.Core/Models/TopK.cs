namespace Experiments.Core.Models;

/// <summary>Partial top-K selection over a score vector without sorting it: O(n log K).</summary>
public static class TopK
{
    /// <summary>
    /// Writes the indices of the K highest finite scores into <paramref name="result"/>, best first, and returns how many
    /// were written (fewer than K when fewer items are candidates). Ties go to the lower index, so results are deterministic.
    /// Items scored negative infinity are not candidates.
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

    private static bool Better(int a, int b, ReadOnlySpan<float> scores) => scores[a] > scores[b] || (scores[a] == scores[b] && a < b);

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
