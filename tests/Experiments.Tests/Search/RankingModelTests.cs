using Experiments.Core;
using Experiments.Search.Ranking;

namespace Experiments.Tests.Search;

/// <summary>RankingModel: the LambdaRank learner behind the search and hybrid re-rankers.</summary>
[TestClass]
public sealed class RankingModelTests
{
    /// <summary>Four groups of five rows; in each, the row with the largest first feature is the relevant one.</summary>
    private static (List<float[]> Features, List<float> Labels, List<int> Groups) Lists()
    {
        var features = new List<float[]>();
        var labels = new List<float>();
        var groups = new List<int>();
        for (var g = 0; g < 4; g++)
            for (var r = 0; r < 5; r++)
            {
                features.Add([r + g * 0.1f, (r * 7 + g) % 5]);
                labels.Add(r == 4 ? 1 : 0);
                groups.Add(g);
            }
        return (features, labels, groups);
    }

    [TestMethod]
    [DataRow(RankingTrainer.LightGbm)]
    [DataRow(RankingTrainer.FastTree)]
    public void A_minimum_leaf_size_above_the_training_rows_is_refused_naming_the_field_and_the_rows(RankingTrainer trainer)
    {
        var (features, labels, groups) = Lists();
        var e = Assert.ThrowsExactly<ExperimentsException>(() => RankingModel.Fit(features, labels, groups, new RankingModelOptions { Trainer = trainer, MinLeaf = 21, Trees = 5 }));
        // 20 rows: a split leaves both sides at least minLeaf rows only up to minLeaf 10.
        StringAssert.Contains(e.Message, "minLeaf 21 is too large for this ranking model's 20 training rows");
        StringAssert.Contains(e.Message, "minLeaf must be at most 10");
    }

    [TestMethod]
    [DataRow(RankingTrainer.LightGbm)]
    [DataRow(RankingTrainer.FastTree)]
    public void The_largest_minimum_leaf_size_that_still_splits_fits_and_ranks_the_relevant_row_first(RankingTrainer trainer)
    {
        var (features, labels, groups) = Lists();
        var scores = RankingModel.Fit(features, labels, groups, new RankingModelOptions { Trainer = trainer, MinLeaf = 10, Trees = 5 }).Score(features, groups);
        // The one split minLeaf 10 allows (first feature at ≥ 2, 10 rows each side) already puts each group's relevant row above its first rows.
        for (var g = 0; g < 4; g++)
            Assert.IsGreaterThan(scores[g * 5], scores[g * 5 + 4], $"group {g}: {string.Join(", ", scores.Skip(g * 5).Take(5))}");
    }
}

