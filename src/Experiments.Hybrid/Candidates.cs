using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;

namespace Experiments.Hybrid;

/// <summary>A first-stage model under its name in the definition.</summary>
public sealed record Retriever(string Name, IRecommenderModel Model);

/// <summary>
/// One user's merged candidates: the union of every retriever's top-N list, de-duplicated in the order first met
/// (the first retriever's list, then the new items of the second, …), and for each candidate and retriever its score
/// (every candidate is scored by every retriever, listed or not), its rank in that retriever's list (N + 1 when not
/// in it) and so whether that retriever proposed it: the candidate's sources.
/// </summary>
public sealed class UserCandidates(int user, int[] items, float[][] scores, int[][] ranks, int depth)
{
    /// <summary>Score kept for an item a retriever scores −∞ or NaN (e.g. outside its candidates).</summary>
    public const float Unscored = -1e9f;

    public int User { get; } = user;
    public int[] Items { get; } = items;
    /// <summary>Scores[retriever][candidate].</summary>
    public float[][] Scores { get; } = scores;
    /// <summary>Ranks[retriever][candidate], from 1; Depth + 1 when the retriever did not list the candidate.</summary>
    public int[][] Ranks { get; } = ranks;
    public int Depth { get; } = depth;
    public int Count => Items.Length;

    public bool Listed(int retriever, int candidate) => Ranks[retriever][candidate] <= Depth;

    /// <summary>How many retrievers listed the candidate.</summary>
    public int Sources(int candidate) => Enumerable.Range(0, Ranks.Length).Count(r => Listed(r, candidate));

    /// <summary>The retriever's own top list (candidate positions, best first).</summary>
    public IEnumerable<int> ListOf(int retriever) =>
        Enumerable.Range(0, Count).Where(c => Listed(retriever, c)).OrderBy(c => Ranks[retriever][c]);
}

/// <summary>
/// Candidate generation: each retriever scores the users' whole catalogue in blocks (<see cref="BatchTopK"/>, the
/// users' history items removed), its top <c>depth</c> are kept, and the lists are merged per user
/// (<see cref="UserCandidates"/>). Users go through in blocks, so the memory held is one block's score rows per retriever.
/// </summary>
public static class CandidateGeneration
{
    private const int UsersPerBlock = 256;

    public static UserCandidates[] Generate(IReadOnlyList<Retriever> retrievers, int[] users, int items, int depth, UserItemMatrix? exclude, CancellationToken cancel = default)
    {
        if (retrievers.Count == 0) throw new ExperimentsException("Two-stage ranking needs at least one retriever.");
        var result = new UserCandidates[users.Length];
        var rows = new float[retrievers.Count][];
        var lists = new int[retrievers.Count][][];
        for (var from = 0; from < users.Length; from += UsersPerBlock)
        {
            cancel.ThrowIfCancellationRequested();
            var block = users[from..Math.Min(users.Length, from + UsersPerBlock)];
            for (var r = 0; r < retrievers.Count; r++)
            {
                var scores = rows[r] = rows[r] is { } buffer && buffer.Length >= block.Length * items ? buffer : new float[block.Length * items];
                var top = lists[r] = new int[block.Length][];
                BatchTopK.ForUsers(retrievers[r].Model, block, items, depth, exclude, (index, _, ranked, all) =>
                {
                    all.CopyTo(scores.AsSpan(index * items, items));
                    top[index] = ranked.ToArray();
                }, cancel);
            }
            for (var b = 0; b < block.Length; b++) result[from + b] = Merge(block[b], b, items, depth, rows, lists);
        }
        return result;
    }

    /// <summary>Merges one user's lists (<paramref name="lists"/>[retriever][user in block]) and reads each candidate's scores.</summary>
    internal static UserCandidates Merge(int user, int b, int items, int depth, float[][] rows, int[][][] lists)
    {
        var merged = new List<int>();
        var position = new Dictionary<int, int>();
        foreach (var list in lists)
            foreach (var item in list[b])
                if (position.TryAdd(item, merged.Count)) merged.Add(item);
        var candidates = merged.ToArray();
        var scores = new float[lists.Length][];
        var ranks = new int[lists.Length][];
        for (var r = 0; r < lists.Length; r++)
        {
            scores[r] = candidates.Select(i => rows[r][b * items + i] is var s && float.IsFinite(s) ? s : UserCandidates.Unscored).ToArray();
            ranks[r] = Enumerable.Repeat(depth + 1, candidates.Length).ToArray();
            var list = lists[r][b];
            for (var k = 0; k < list.Length; k++) ranks[r][position[list[k]]] = k + 1;
        }
        return new UserCandidates(user, candidates, scores, ranks, depth);
    }
}
