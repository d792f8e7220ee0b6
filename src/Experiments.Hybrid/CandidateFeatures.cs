using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;

namespace Experiments.Hybrid;

/// <summary>The re-ranker's feature groups; each can be left out (a sweep can turn them on and off).</summary>
[Flags]
public enum FeatureGroups
{
    None = 0,
    /// <summary>Per retriever: its score, the score's gap to its best candidate for the user, its rank and whether it listed the candidate; and the number of retrievers that did.</summary>
    Retrieval = 1,
    /// <summary>Cosine of the candidate's text vector with the user's history centroid, with the closest of the user's recent items, and with the latest one.</summary>
    Text = 2,
    /// <summary>The item's training count and recency-weighted count (log), its age and the time since its last interaction (shares of the training period).</summary>
    Popularity = 4,
    /// <summary>The user's history length (log), the mean log count of the history's items, and the time since the user's last interaction.</summary>
    User = 8,
    /// <summary>Per categorical attribute: the largest share of the user's history that carries one of the candidate's values (and, for click-through re-rankers, the value itself as a category).</summary>
    Attributes = 16,
    /// <summary>The item's impressions (log) and smoothed click-through rate in the impression log.</summary>
    Clicks = 32,
    All = Retrieval | Text | Popularity | User | Attributes | Clicks,
}

/// <summary>
/// What features are built from in one phase (the re-ranker's label phase, or test): the histories the users are
/// scored from, the training rows' item statistics, text vectors and item side, and the reference time (the latest
/// training interaction).
/// </summary>
public sealed class FeatureContext
{
    /// <summary>Recent items per user read by the closest-recent-item cosine.</summary>
    public const int RecentItems = 20;

    /// <summary>Pseudo-impressions of the click-through rate's prior (the log's overall rate).</summary>
    public const double ClickPrior = 20;

    private FeatureContext() { }

    public required UserItemMatrix History { get; init; }
    /// <summary>Each user's latest history items, latest first (at most <see cref="RecentItems"/>).</summary>
    public required int[][] Recent { get; init; }
    public required long[] UserLast { get; init; }
    public required float[] ItemCount { get; init; }
    public required float[] ItemRecent { get; init; }
    public required long[] ItemFirst { get; init; }
    public required long[] ItemLast { get; init; }
    public required long Reference { get; init; }
    public required double Span { get; init; }
    public required float[][] Vectors { get; init; }
    public required ItemSide Side { get; init; }
    public float[]? Shown { get; init; }
    public float[]? Clicks { get; init; }
    public double ClickRate { get; init; }

    /// <param name="train">The rows the retrievers were fitted on: item statistics come from them alone.</param>
    /// <param name="foldIn">New users' first interactions: part of their history, not of the item statistics.</param>
    public static FeatureContext Build(Interactions train, Interactions? foldIn, float[][] vectors, ItemSide side, double halfLife = 0.1)
    {
        var all = foldIn is null ? train : Interactions.Concatenate(train, foldIn);
        var (users, items) = (train.Users.Count, train.Items.Count);
        var itemFirst = Enumerable.Repeat(long.MaxValue, items).ToArray();
        var itemLast = Enumerable.Repeat(long.MinValue, items).ToArray();
        var count = new float[items];
        for (var r = 0; r < train.Count; r++)
        {
            var i = train.Item[r];
            count[i]++;
            itemFirst[i] = Math.Min(itemFirst[i], train.Timestamp[r]);
            itemLast[i] = Math.Max(itemLast[i], train.Timestamp[r]);
        }
        var userLast = Enumerable.Repeat(long.MinValue, users).ToArray();
        for (var r = 0; r < all.Count; r++) userLast[all.User[r]] = Math.Max(userLast[all.User[r]], all.Timestamp[r]);
        var recent = new int[users][];
        foreach (var group in Enumerable.Range(0, all.Count).GroupBy(r => all.User[r]))
            recent[group.Key] = group.OrderByDescending(r => all.Timestamp[r]).ThenByDescending(r => r).Select(r => all.Item[r]).Distinct().Take(RecentItems).ToArray();
        for (var u = 0; u < users; u++) recent[u] ??= [];
        var trainLast = Enumerable.Repeat(long.MinValue, users).ToArray();
        for (var r = 0; r < train.Count; r++) trainLast[train.User[r]] = Math.Max(trainLast[train.User[r]], train.Timestamp[r]);
        var (shown, clicks) = side.Impressions is { } log ? log.Counts(items, trainLast) : (null, null);
        var (first, last) = (train.Timestamp.Min(), train.Timestamp.Max());
        return new FeatureContext
        {
            History = UserItemMatrix.ByUser(all),
            Recent = recent,
            UserLast = userLast,
            ItemCount = count,
            ItemRecent = RecentPopularity.Scores(train, halfLife),
            ItemFirst = itemFirst,
            ItemLast = itemLast,
            Reference = last,
            Span = Math.Max(1, last - first),
            Vectors = vectors,
            Side = side,
            Shown = shown,
            Clicks = clicks,
            ClickRate = shown is null || shown.Sum() == 0 ? 0 : clicks!.Sum() / shown.Sum(),
        };
    }
}

/// <summary>
/// Candidate rows with their features, row-major: <see cref="Values"/>[row · Width + feature], named in
/// <see cref="Names"/>; the user (group) of each row, its item, and, for click-through re-rankers, each attribute's raw
/// value as a category.
/// </summary>
public sealed class FeatureTable(IReadOnlyList<string> names, float[] values, int[] groups, int[] users, int[] items, IReadOnlyList<string> categoricalNames, string[][] categorical)
{
    public IReadOnlyList<string> Names { get; } = names;
    public int Width => Names.Count;
    public float[] Values { get; } = values;
    /// <summary>The row's list (its user's position in the request), from 0; a list's rows are adjacent.</summary>
    public int[] Groups { get; } = groups;
    public int[] Users { get; } = users;
    public int[] Items { get; } = items;
    public IReadOnlyList<string> CategoricalNames { get; } = categoricalNames;
    /// <summary>Categorical[column][row].</summary>
    public string[][] Categorical { get; } = categorical;
    public int Rows => Groups.Length;

    public ReadOnlySpan<float> Row(int row) => Values.AsSpan(row * Width, Width);

    public float Value(int row, string name) => Values[row * Width + IndexOf(name)];

    public int IndexOf(string name) => Names.ToList().IndexOf(name) is var i and >= 0 ? i : throw new ArgumentException($"No feature '{name}'.");
}

/// <summary>Builds the re-ranker's features for merged candidates (<see cref="FeatureGroups"/> says which).</summary>
public static class CandidateFeatures
{
    /// <summary>The feature names for these retrievers and groups, in column order.</summary>
    public static List<string> Names(IReadOnlyList<string> retrievers, FeatureGroups groups, ItemSide side)
    {
        var names = new List<string>();
        if (groups.HasFlag(FeatureGroups.Retrieval))
        {
            foreach (var r in retrievers) names.AddRange([$"retrieval.{r}.score", $"retrieval.{r}.gap", $"retrieval.{r}.rank", $"retrieval.{r}.listed"]);
            names.Add("retrieval.sources");
        }
        if (groups.HasFlag(FeatureGroups.Text)) names.AddRange(["text.centroid-cosine", "text.closest-recent-cosine", "text.latest-cosine"]);
        if (groups.HasFlag(FeatureGroups.Popularity)) names.AddRange(["popularity.log-count", "popularity.log-recent", "popularity.age", "popularity.since-last"]);
        if (groups.HasFlag(FeatureGroups.User)) names.AddRange(["user.log-history", "user.mean-log-count", "user.since-last"]);
        if (groups.HasFlag(FeatureGroups.Attributes)) names.AddRange(side.AttributeNames.Select(a => $"attributes.{a}.share"));
        if (groups.HasFlag(FeatureGroups.Clicks) && side.Impressions is not null) names.AddRange(["clicks.log-impressions", "clicks.ctr"]);
        return names;
    }

    public static FeatureTable Build(IReadOnlyList<UserCandidates> candidates, IReadOnlyList<string> retrievers, FeatureGroups groups, FeatureContext context, CancellationToken cancel = default)
    {
        var names = Names(retrievers, groups, context.Side);
        var width = names.Count;
        var offsets = new int[candidates.Count + 1];
        for (var g = 0; g < candidates.Count; g++) offsets[g + 1] = offsets[g] + candidates[g].Count;
        var rows = offsets[^1];
        var values = new float[(long)rows * width];
        var (groupOf, users, items) = (new int[rows], new int[rows], new int[rows]);
        var attributes = groups.HasFlag(FeatureGroups.Attributes) ? context.Side.AttributeNames : [];
        var categorical = attributes.Select(_ => new string[rows]).ToArray();
        Parallelism.For(0, candidates.Count, new ParallelOptions { CancellationToken = cancel }, () => 0, (g, _, local) =>
        {
            var list = candidates[g];
            var user = list.User;
            var history = user < context.History.Rows ? context.History.RowIndices(user).ToArray() : [];
            var centroid = groups.HasFlag(FeatureGroups.Text) ? ItemVectors.Centroid(context.Vectors, history) : null;
            var recent = user < context.Recent.Length ? context.Recent[user] : [];
            var shares = attributes.Select((_, a) => Counts(history, context.Side.Attributes[a])).ToArray();
            var meanLogCount = history.Length == 0 ? 0 : history.Average(i => Math.Log(1 + context.ItemCount[i]));
            var best = list.Scores.Select(s => s.Length == 0 ? 0 : s.Max()).ToArray();
            for (var c = 0; c < list.Count; c++)
            {
                var row = offsets[g] + c;
                var item = list.Items[c];
                (groupOf[row], users[row], items[row]) = (g, user, item);
                var f = values.AsSpan(row * width, width);
                var at = 0;
                if (groups.HasFlag(FeatureGroups.Retrieval))
                {
                    for (var r = 0; r < retrievers.Count; r++)
                    {
                        f[at++] = list.Scores[r][c];
                        f[at++] = list.Scores[r][c] - best[r];
                        f[at++] = list.Ranks[r][c];
                        f[at++] = list.Listed(r, c) ? 1 : 0;
                    }
                    f[at++] = list.Sources(c);
                }
                if (groups.HasFlag(FeatureGroups.Text))
                {
                    var vector = context.Vectors[item];
                    f[at++] = Vectors.Dot(centroid!, vector);
                    f[at++] = recent.Length == 0 ? 0 : recent.Max(h => Vectors.Dot(context.Vectors[h], vector));
                    f[at++] = recent.Length == 0 ? 0 : Vectors.Dot(context.Vectors[recent[0]], vector);
                }
                if (groups.HasFlag(FeatureGroups.Popularity))
                {
                    var seen = context.ItemCount[item] > 0;
                    f[at++] = MathF.Log(1 + context.ItemCount[item]);
                    f[at++] = MathF.Log(1 + context.ItemRecent[item]);
                    f[at++] = seen ? (float)((context.Reference - context.ItemFirst[item]) / context.Span) : -1;
                    f[at++] = seen ? (float)((context.Reference - context.ItemLast[item]) / context.Span) : -1;
                }
                if (groups.HasFlag(FeatureGroups.User))
                {
                    f[at++] = MathF.Log(1 + history.Length);
                    f[at++] = (float)meanLogCount;
                    f[at++] = user < context.UserLast.Length && context.UserLast[user] != long.MinValue ? (float)((context.Reference - context.UserLast[user]) / context.Span) : -1;
                }
                for (var a = 0; a < attributes.Count; a++)
                {
                    var own = context.Side.Attributes[a][item];
                    f[at++] = history.Length == 0 || own.Length == 0 ? 0 : own.Max(v => shares[a].GetValueOrDefault(v)) / (float)history.Length;
                    categorical[a][row] = own.Length == 0 ? "" : string.Join('|', own);
                }
                if (groups.HasFlag(FeatureGroups.Clicks) && context.Shown is { } shown)
                {
                    f[at++] = MathF.Log(1 + shown[item]);
                    f[at++] = (float)((context.Clicks![item] + FeatureContext.ClickPrior * context.ClickRate) / (shown[item] + FeatureContext.ClickPrior));
                }
            }
            return local;
        }, _ => { });
        return new FeatureTable(names, values, groupOf, users, items, attributes.ToList(), categorical);
    }

    /// <summary>How many of the history's items carry each value of one attribute.</summary>
    private static Dictionary<string, int> Counts(ReadOnlySpan<int> history, string[][] values)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in history)
            foreach (var value in values[item]) counts[value] = counts.GetValueOrDefault(value) + 1;
        return counts;
    }
}
