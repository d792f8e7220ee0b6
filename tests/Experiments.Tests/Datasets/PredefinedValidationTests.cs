using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;

namespace Experiments.Tests.Datasets;

/// <summary>Predefined splits with a validation fraction carved from their training part, per user and seeded.</summary>
[TestClass]
public sealed class PredefinedValidationTests
{
    /// <summary>User a has 10 training rows, b 5, c 1; each has one test row.</summary>
    private static PredefinedSplit Fixed()
    {
        var builder = new InteractionsBuilder();
        foreach (var (user, rows) in new[] { ("a", 10), ("b", 5), ("c", 1) })
            for (var k = 0; k < rows; k++) builder.Add(user, $"item{k}", 1 + k % 5);
        foreach (var user in new[] { "a", "b", "c" }) builder.Add(user, "held", 3);
        var all = builder.Build();
        return new PredefinedSplit("u1", all, Enumerable.Range(0, 16).ToArray(), [], Enumerable.Range(16, 3).ToArray());
    }

    private static int Rows(Interactions data, int[] rows, string user) => rows.Count(r => data.Users[data.User[r]] == user);

    [TestMethod]
    public void Each_user_gives_the_fraction_of_its_training_rows_rounded_half_to_even()
    {
        var split = Fixed();
        var result = new PredefinedSplitter(split, validationFraction: 0.2).Split(split.All, seed: 1).Single();
        // a: 10 × 0.2 = 2; b: 5 × 0.2 = 1; c: 1 × 0.2 = 0.2 → 0 (it keeps its only row for training).
        Assert.AreEqual((2, 1, 0), (Rows(split.All, result.Validation, "a"), Rows(split.All, result.Validation, "b"), Rows(split.All, result.Validation, "c")));
        Assert.AreEqual((8, 4, 1), (Rows(split.All, result.Train, "a"), Rows(split.All, result.Train, "b"), Rows(split.All, result.Train, "c")));
        CollectionAssert.AreEquivalent(split.Train, result.Train.Concat(result.Validation).ToArray(), "validation rows come from the training part only");
        CollectionAssert.AreEqual(split.Test, result.Test, "the test rows never change");
        Assert.AreEqual("u1", result.Name);
    }

    [TestMethod]
    public void The_carve_is_seeded()
    {
        var split = Fixed();
        var splitter = new PredefinedSplitter(split, 0.5);
        CollectionAssert.AreEqual(splitter.Split(split.All, 7)[0].Validation, splitter.Split(split.All, 7)[0].Validation);
        var seeds = Enumerable.Range(0, 20).Select(seed => string.Join(",", splitter.Split(split.All, seed)[0].Validation)).Distinct().Count();
        Assert.IsGreaterThan(1, seeds, "other seeds carve other rows");
    }

    [TestMethod]
    public void Without_a_fraction_the_split_is_as_shipped()
    {
        var split = Fixed();
        var result = new PredefinedSplitter(split).Split(split.All, 1).Single();
        CollectionAssert.AreEqual(split.Train, result.Train);
        Assert.IsEmpty(result.Validation);
    }

    [TestMethod]
    public void The_factory_passes_the_definitions_fraction()
    {
        var split = Fixed();
        var splitter = SplitterFactory.Create(new SplitSpec { Method = "predefined", Name = "u1", ValidationFraction = 0.2 }, _ => split);
        Assert.HasCount(3, splitter.Split(split.All, 1)[0].Validation);
    }

    [TestMethod]
    public void MovieLens_fixed_80_20_split_with_a_tenth_of_each_users_training_rows_for_validation()
    {
        var split = RealData.Open("movielens-latest-small-80-20").PredefinedSplit("default");
        var result = new PredefinedSplitter(split, 0.1).Split(split.All, 42).Single();
        var trainRows = split.Train.GroupBy(r => split.All.User[r]).ToDictionary(g => g.Key, g => g.Count());
        var validationRows = result.Validation.GroupBy(r => split.All.User[r]).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (user, count) in trainRows)
            Assert.AreEqual((int)Math.Round(count * 0.1, MidpointRounding.ToEven), validationRows.GetValueOrDefault(user), $"user {split.All.Users[user]}");
        Assert.AreEqual(20_167, result.Test.Length);
        Assert.AreEqual(80_669, result.Train.Length + result.Validation.Length);
    }
}
