using Experiments.Core.Data;

namespace Experiments.Recommenders;

/// <summary>
/// The one rule every rating model (global mean, biases, matrix factorisation by ALS or SGD, SVD++, Bayesian MF)
/// applies to a (user, item) pair rated more than once in its training rows: the pair counts once, with the mean of
/// its ratings. A model therefore learns the same from "rated 2, then 4" as from "rated 3", whichever solver it uses.
/// </summary>
public static class DuplicateRatings
{
    /// <summary>
    /// One row per distinct pair with its mean rating, ordered by user, then item; <paramref name="train"/> itself (same
    /// rows, same order) when no pair repeats. The id maps are shared; timestamps are dropped.
    /// </summary>
    public static Interactions Averaged(Interactions train)
    {
        var byUser = UserItemMatrix.ByUser(train, average: true);
        if (byUser.NonZeros == train.Count) return train;
        var user = new int[byUser.NonZeros];
        for (var u = 0; u < byUser.Rows; u++) user.AsSpan(byUser.RowStart[u], byUser.RowLength(u)).Fill(u);
        return new Interactions(train.Users, train.Items, user, (int[])byUser.ColumnIndex.Clone(), (float[])byUser.Values.Clone(),
            new long[user.Length], train.HasRatings, hasTimestamps: false);
    }
}
