using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Datasets.Splitting;

namespace Experiments.Hybrid;

/// <summary>
/// What the stages see in one phase: the rows the retrievers are fitted on, new users' first interactions (histories
/// that are scored from but never fitted on), the items that may be candidates (null: every item), and the item
/// texts' vectors and side information (texts from this phase's training pairs only).
/// </summary>
public sealed record Phase(string Name, Interactions Train, Interactions? FoldIn, bool[]? Candidates, float[][] Vectors, ItemSide Side)
{
    /// <summary>Training rows and fold-in histories, per user: what candidates are scored from and leave out.</summary>
    public UserItemMatrix History() => UserItemMatrix.ByUser(FoldIn is null ? Train : Interactions.Concatenate(Train, FoldIn));

    /// <summary>Whether each item has a training row in this phase.</summary>
    public bool[] WarmItems()
    {
        var warm = new bool[Train.Items.Count];
        foreach (var item in Train.Item) warm[item] = true;
        return warm;
    }
}

/// <summary>
/// The training rows cut into a fit part (the retrievers of the label phase are fitted on it) and a label part (the
/// re-ranker's positives), the way the experiment's own split cuts train from test, so the re-ranker learns on the
/// situation it will be tested in: per user in time (temporal and leave-last-n splits), per user at random (the
/// others), by item (cold-start-items: the label items have no fit rows, and only such items are candidates), or by
/// user (cold-start-users: the label users have no fit rows; their first <c>foldIn</c> rows are their history, the
/// rest their labels). Test rows are never read: only the training part of the split comes here.
/// </summary>
public sealed record LabelPart(Interactions Fit, Interactions Labels, Interactions? FoldIn, bool[]? Candidates)
{
    public static LabelPart Carve(Interactions train, string method, double fraction, int foldIn, int seed)
    {
        if (train.Count == 0) throw new ExperimentsException("The training part is empty: there is nothing to carve labels from.");
        var labelSeed = Seeds.Mix(seed, "hybrid-labels");
        ISplitter splitter = method switch
        {
            "cold-start-items" => new ColdStartSplitter(true, fraction),
            "cold-start-users" => new ColdStartSplitter(false, fraction),
            "temporal" or "leave-last-n" when train.HasTimestamps => new TemporalSplitter(fraction),
            _ => new StratifiedSplitter(fraction),
        };
        var cut = splitter.Split(train, labelSeed)[0];
        var (fit, labels) = (train.Subset(cut.Train), train.Subset(cut.Test));
        if (fit.Count == 0 || labels.Count == 0)
            throw new ExperimentsException($"Carving {fraction:P0} of the {train.Count:N0} training rows for the re-ranker's labels left {fit.Count:N0} fit and {labels.Count:N0} label rows; both must be non-empty. Change labelFraction.");
        switch (method)
        {
            case "cold-start-items":
            {
                var candidates = new bool[train.Items.Count];
                Array.Fill(candidates, true);
                foreach (var item in fit.Item) candidates[item] = false;
                return new LabelPart(fit, labels, null, candidates);
            }
            case "cold-start-users":
            {
                var (history, rest) = FoldInRows(labels, foldIn);
                return new LabelPart(fit, rest, history, null);
            }
            default:
                return new LabelPart(fit, labels, null, null);
        }
    }

    /// <summary>
    /// Each user's first <paramref name="n"/> rows in time (ties: in row order) as a history, the others apart; a user
    /// with n rows or fewer gives them all to the history.
    /// </summary>
    public static (Interactions History, Interactions Remaining) FoldInRows(Interactions rows, int n)
    {
        var (history, rest) = (new List<int>(), new List<int>());
        foreach (var user in Enumerable.Range(0, rows.Count).GroupBy(r => rows.User[r]))
        {
            var ordered = user.OrderBy(r => rows.Timestamp[r]).ThenBy(r => r).ToArray();
            history.AddRange(ordered.Take(n));
            rest.AddRange(ordered.Skip(n));
        }
        history.Sort();
        rest.Sort();
        return (rows.Subset(history), rows.Subset(rest));
    }
}
