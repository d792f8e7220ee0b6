namespace Experiments.Core;

/// <summary>The rows a boosted-tree model needs for its minLeaf setting.</summary>
public static class LeafSize
{
    /// <summary>
    /// A leaf splits only when both sides keep minLeaf rows: with fewer than twice that no tree grows a split, and the
    /// model (LightGBM or FastTree, binary or ranking) scores every row alike — or ML.NET's LightGBM wrapper fails
    /// converting the split-less trees. Either way the settings cannot fit these rows, so say so up front.
    /// </summary>
    /// <param name="model">The model as the message names it, e.g. "this ranking model".</param>
    public static void EnsureSplittable(int rows, int minLeaf, string model)
    {
        if (rows >= 2 * minLeaf) return;
        throw new ExperimentsException($"minLeaf {minLeaf} is too large for {model}'s {rows} training rows: a tree splits a leaf only when both sides keep " +
                                       (rows >= 2 ? $"at least minLeaf rows, so here minLeaf must be at most {rows / 2}." : "at least minLeaf rows, and one row cannot be split.") +
                                       " Lower minLeaf or train on more rows.");
    }
}
