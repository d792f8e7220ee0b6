using Experiments.Core.Data;

namespace Experiments.Core.Models;

/// <summary>Receives one user's top list: its position in the request, the user, the ranked items (best first) and all item scores.</summary>
public delegate void TopListVisitor(int index, int user, ReadOnlySpan<int> ranked, ReadOnlySpan<float> scores);

/// <summary>
/// Top-K lists for many users without the user × item matrix: users are scored in blocks (one call for models that
/// score batches), each user's excluded items are removed, and a partial top-K selection picks the list. Blocks run in
/// parallel, each with its own score buffer. The evaluator and <c>FittedRecommender</c> both use it.
/// </summary>
public static class BatchTopK
{
    private const int Block = 32;

    /// <param name="exclude">Items per user to leave out (their training history), or null.</param>
    /// <param name="finished">Called with the number of users of each finished block (for progress).</param>
    public static void ForUsers(IRecommenderModel model, int[] users, int itemCount, int k, UserItemMatrix? exclude, TopListVisitor visit,
        CancellationToken cancel = default, Action<int>? finished = null)
    {
        var batch = model as IBatchScorer;
        var blocks = (users.Length + Block - 1) / Block;
        Parallelism.For(0, blocks, new ParallelOptions { CancellationToken = cancel },
            () => (Scores: new float[Block * itemCount], Top: new int[k]),
            (block, _, buffers) =>
            {
                var from = block * Block;
                var part = users.AsSpan(from, Math.Min(Block, users.Length - from));
                var scores = buffers.Scores.AsSpan(0, part.Length * itemCount);
                if (batch is not null) batch.ScoreItems(part, scores);
                else
                    for (var b = 0; b < part.Length; b++) model.ScoreItems(part[b], scores.Slice(b * itemCount, itemCount));
                for (var b = 0; b < part.Length; b++)
                {
                    var user = part[b];
                    var row = scores.Slice(b * itemCount, itemCount);
                    if (exclude is not null && user < exclude.Rows)
                        foreach (var item in exclude.RowIndices(user)) row[item] = float.NegativeInfinity;
                    var count = TopK.Select(row, buffers.Top);
                    visit(from + b, user, buffers.Top.AsSpan(0, count), row);
                }
                finished?.Invoke(part.Length);
                return buffers;
            },
            _ => { });
    }
}
