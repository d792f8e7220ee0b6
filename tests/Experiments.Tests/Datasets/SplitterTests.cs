using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Datasets.Splitting;

namespace Experiments.Tests.Datasets;

[TestClass]
public sealed class SplitterTests
{
    // 10 users with 10 rows each; user u's row k has timestamp 100·u + k, stored in reverse time order.
    private static Interactions Data()
    {
        var builder = new InteractionsBuilder();
        for (var u = 0; u < 10; u++)
            for (var k = 9; k >= 0; k--)
                builder.Add($"u{u}", $"i{(u * 3 + k) % 25}", 1 + k % 5, 100 * u + k);
        return builder.Build();
    }

    private static void AssertPartition(SplitResult split, int count)
    {
        var all = split.Train.Concat(split.Validation).Concat(split.Test).ToList();
        Assert.AreEqual(count, all.Count);
        Assert.AreEqual(count, all.Distinct().Count(), "no row in two parts");
    }

    [TestMethod]
    public void Random_split_is_seeded_and_sized()
    {
        var data = Data();
        var a = new RandomSplitter(0.2, 0.25).Split(data, 7)[0];
        var b = new RandomSplitter(0.2, 0.25).Split(data, 7)[0];
        var c = new RandomSplitter(0.2, 0.25).Split(data, 8)[0];
        CollectionAssert.AreEqual(a.Test, b.Test);
        CollectionAssert.AreNotEqual(a.Test, c.Test);
        Assert.AreEqual(20, a.Test.Length);
        Assert.AreEqual(20, a.Validation.Length); // round(0.25 · 80)
        AssertPartition(a, 100);
    }

    [TestMethod]
    public void Stratified_split_takes_the_fraction_from_every_user()
    {
        var data = Data();
        var split = new StratifiedSplitter(0.25).Split(data, 3)[0];
        AssertPartition(split, 100);
        // round(0.25 · 10) = round(2.5) = 2: halves round to even, as in numpy.
        foreach (var group in split.Test.GroupBy(r => data.User[r])) Assert.AreEqual(2, group.Count());
        Assert.AreEqual(10, split.Test.Select(r => data.User[r]).Distinct().Count());
    }

    [TestMethod]
    public void Temporal_split_puts_each_users_latest_rows_in_test()
    {
        var data = Data();
        var split = new TemporalSplitter(0.3, 0.0).Split(data, 0)[0];
        AssertPartition(split, 100);
        foreach (var user in Enumerable.Range(0, 10))
        {
            var trainTimes = split.Train.Where(r => data.User[r] == user).Select(r => data.Timestamp[r]).ToList();
            var testTimes = split.Test.Where(r => data.User[r] == user).Select(r => data.Timestamp[r]).ToList();
            Assert.HasCount(3, testTimes);
            Assert.IsLessThan(testTimes.Min(), trainTimes.Max());
        }
    }

    [TestMethod]
    public void Leave_last_n_out()
    {
        var data = Data();
        var split = new LeaveLastNSplitter(2).Split(data, 0)[0];
        AssertPartition(split, 100);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 10).SelectMany(u => new long[] { 100 * u + 8, 100 * u + 9 }).ToList(),
            split.Test.Select(r => data.Timestamp[r]).ToList());
    }

    [TestMethod]
    public void K_fold_covers_every_row_once_as_test()
    {
        var data = Data();
        var folds = new KFoldSplitter(4).Split(data, 1);
        Assert.HasCount(4, folds);
        foreach (var fold in folds) AssertPartition(fold, 100);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 100).ToList(), folds.SelectMany(f => f.Test).ToList());
    }

    [TestMethod]
    public void Cold_start_items_never_appear_in_train()
    {
        var data = Data();
        var split = new ColdStartSplitter(byItem: true, 0.2).Split(data, 5)[0];
        AssertPartition(split, 100);
        var trainItems = split.Train.Select(r => data.Item[r]).ToHashSet();
        var testItems = split.Test.Select(r => data.Item[r]).ToHashSet();
        Assert.AreEqual(5, testItems.Count); // 20% of 25 items
        Assert.IsFalse(testItems.Overlaps(trainItems));
    }

    [TestMethod]
    public void Cold_start_users_never_appear_in_train()
    {
        var data = Data();
        var split = new ColdStartSplitter(byItem: false, 0.3).Split(data, 5)[0];
        Assert.AreEqual(30, split.Test.Length);
        Assert.IsFalse(split.Test.Select(r => data.User[r]).ToHashSet().Overlaps(split.Train.Select(r => data.User[r])));
    }

    [TestMethod]
    public void Time_based_splits_need_timestamps()
    {
        var builder = new InteractionsBuilder(hasTimestamps: false);
        builder.Add("u", "i");
        var e = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => new TemporalSplitter(0.2).Split(builder.Build(), 0));
        StringAssert.Contains(e.Message, "has no timestamp column");
    }

    [TestMethod]
    public void Factory_builds_every_method()
    {
        foreach (var method in DefinitionShape.SplitMethods.Where(m => m != "predefined"))
            Assert.IsNotNull(SplitterFactory.Create(new SplitSpec { Method = method }, _ => throw new InvalidOperationException()));
    }
}
