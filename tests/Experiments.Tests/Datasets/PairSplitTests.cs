using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Core.Models;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation;
using Experiments.Runs;

namespace Experiments.Tests.Datasets;

/// <summary>Ranking and rating split distinct (user, item) pairs by default; row splits keep the overlap, and say how large it is.</summary>
[TestClass]
public sealed class PairSplitTests
{
    [TestMethod]
    public void Repeated_pairs_collapse_into_one_with_their_count_or_mean_rating_and_first_time()
    {
        var events = new InteractionsBuilder(hasRatings: false);
        events.Add("u", "a", 1, 30); events.Add("u", "b", 1, 20); events.Add("u", "a", 1, 10); events.Add("v", "a", 1, 5); events.Add("u", "a", 1, 40);
        var pairs = events.Build().UniquePairs();
        // Pairs in order of first appearance: (u, a) 3 events, first at 10; (u, b) 1 at 20; (v, a) 1 at 5.
        CollectionAssert.AreEqual(new[] { 0, 0, 1 }, pairs.User);
        CollectionAssert.AreEqual(new[] { 0, 1, 0 }, pairs.Item);
        CollectionAssert.AreEqual(new[] { 3f, 1f, 1f }, pairs.Rating);
        CollectionAssert.AreEqual(new[] { 10L, 20L, 5L }, pairs.Timestamp);

        var ratings = new InteractionsBuilder();
        ratings.Add("u", "a", 2, 7); ratings.Add("u", "a", 5, 3); ratings.Add("u", "b", 4, 1);
        var rated = ratings.Build().UniquePairs();
        CollectionAssert.AreEqual(new[] { 3.5f, 4f }, rated.Rating, "a pair rated twice keeps the mean of its ratings");
        CollectionAssert.AreEqual(new[] { 3L, 1L }, rated.Timestamp);
        var unique = rated.UniquePairs();
        Assert.AreSame(rated, unique, "a table without repeats is returned as it is");
    }

    [TestMethod]
    public void A_sweep_tunes_on_validation_or_on_folds_of_training_and_validation_and_refits_on_both()
    {
        // 12 distinct pairs: 8 training, 2 validation, 2 test (u0…u3 × i0…i2, rated 1…12).
        var builder = new InteractionsBuilder();
        for (var r = 0; r < 12; r++) builder.Add($"u{r / 3}", $"i{r % 3}", r + 1, r);
        var all = builder.Build();
        var split = new InteractionSplit("s", all.Subset([.. Enumerable.Range(0, 8)]), all.Subset([8, 9]), all.Subset([10, 11]), SplitSpec.Pairs);
        static HashSet<float> Ratings(Interactions rows) => [.. rows.Rating!];
        PredefinedSplit None(string _) => throw new InvalidOperationException();

        var (tuning, refit) = InteractionSplits.ForSweep(split, new SweepSpec(), 1, None);
        var part = tuning.Single();
        Assert.AreEqual(("s/validation", 8, 2, (Interactions?)null), (part.Name, part.Train.Count, part.Test.Count, part.Validation));
        CollectionAssert.AreEquivalent(new[] { 9f, 10f }, Ratings(part.Test).ToList());
        CollectionAssert.AreEquivalent(Enumerable.Range(1, 10).Select(r => (float)r).ToList(), Ratings(refit.Train).ToList(), "the refit trains on training + validation");
        CollectionAssert.AreEquivalent(new[] { 11f, 12f }, Ratings(refit.Test).ToList());
        Assert.IsNull(refit.Validation);

        // k folds of the 10 known pairs: each tests on its own share, trains on the rest, and the folds' tests cover them once.
        var (folds, kRefit) = InteractionSplits.ForSweep(split, new SweepSpec { Objective = SweepSpec.KFold, Folds = 5 }, 1, None);
        CollectionAssert.AreEqual(Enumerable.Range(1, 5).Select(k => $"s/fold-{k}-of-5").ToList(), folds.Select(f => f.Name).ToList());
        foreach (var fold in folds)
        {
            Assert.AreEqual((8, 2), (fold.Train.Count, fold.Test.Count));
            Assert.IsFalse(Ratings(fold.Train).Overlaps(Ratings(fold.Test)));
        }
        CollectionAssert.AreEquivalent(Enumerable.Range(1, 10).Select(r => (float)r).ToList(), folds.SelectMany(f => f.Test.Rating!).ToList());
        Assert.AreEqual(10, kRefit.Train.Count);

        // Without a validation part: the split is its own refit; objective validation says what to change.
        var noValidation = split with { Validation = null };
        Assert.AreSame(noValidation, InteractionSplits.ForSweep(noValidation, new SweepSpec { Objective = SweepSpec.KFold, Folds = 2 }, 1, None).Refit);
        var e = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => InteractionSplits.ForSweep(noValidation, new SweepSpec(), 1, None));
        StringAssert.Contains(e.Message, "set split.validationFraction or use sweep objective 'k-fold'");
    }

    [TestMethod]
    public void A_predefined_split_carves_its_validation_fraction_from_each_users_training_rows()
    {
        // Two users with 10 training ratings each and 2 test ratings; a tenth of each user's training rows is validation.
        var builder = new InteractionsBuilder();
        for (var u = 0; u < 2; u++)
            for (var i = 0; i < 12; i++) builder.Add($"u{u}", $"i{i}", 1 + i % 5, i);
        var all = builder.Build();
        int[] Rows(Func<int, bool> keep) => Enumerable.Range(0, all.Count).Where(keep).ToArray();
        var files = new PredefinedSplit("files", all, Rows(r => r % 12 < 10), [], Rows(r => r % 12 >= 10));
        var spec = new SplitSpec { Method = "predefined", Name = "files", ValidationFraction = 0.1 };
        var split = InteractionSplits.Split(all, spec, 7, _ => files).Single();
        Assert.IsNotNull(split.Validation, "validationFraction is honoured for predefined splits");
        Assert.AreEqual((18, 2, 4), (split.Train.Count, split.Validation.Count, split.Test.Count));
        CollectionAssert.AreEquivalent(new[] { 0, 1 }, split.Validation.User.Distinct().ToArray(), "one validation row per user");
        var trainPairs = Enumerable.Range(0, split.Train.Count).Select(r => (split.Train.User[r], split.Train.Item[r])).ToHashSet();
        Assert.IsFalse(Enumerable.Range(0, split.Validation.Count).Any(r => trainPairs.Contains((split.Validation.User[r], split.Validation.Item[r]))), "validation rows leave training");
        Assert.IsNull(InteractionSplits.Split(all, spec with { ValidationFraction = 0 }, 7, _ => files).Single().Validation, "none asked for, none made");
    }

    /// <summary>Scores each user's test items 1 and every other item 0: the best any model can do.</summary>
    private sealed class Oracle(Interactions test) : IRecommenderModel
    {
        private readonly UserItemMatrix _test = UserItemMatrix.ByUser(test);
        public void ScoreItems(int user, Span<float> scores)
        {
            scores.Clear();
            foreach (var item in _test.RowIndices(user)) scores[item] = 1;
        }
        public bool PredictsRatings => false;
        public float PredictRating(int user, int item) => 0;
    }

    [TestMethod]
    public void An_oracle_reaches_recall_one_on_the_quickstart_and_row_splits_report_what_it_cannot_reach()
    {
        // The shipped quickstart: the demo shop's events (repeated clicks and purchases of the same items).
        var definition = Platform.Reader.ReadFile(Path.Combine(CliProcess.RepositoryRoot, "experiments", "quickstart.json"));
        var dataset = new DatasetLoader().Open(DatasetRequest.From(definition.Dataset, null));
        var data = dataset.Interactions(definition.Dataset.Table);
        (double Recall, double? Unreachable, InteractionSplit Split) Oracle(SplitSpec spec)
        {
            var split = InteractionSplits.Split(data, spec, definition.Seed, dataset.PredefinedSplit).Single();
            var k = Enumerable.Range(0, split.Test.Count).GroupBy(r => split.Test.User[r]).Max(g => g.Select(r => split.Test.Item[r]).Distinct().Count());
            var result = RecommenderEvaluator.Evaluate(new Oracle(split.Test), split.Train, split.Test, [MetricName.Parse($"recall@{k}")],
                definition.Evaluation with { BootstrapSamples = 0 }, definition.Seed, validation: split.Validation);
            return (result.Values[0].Value, result.Unreachable, split);
        }

        var (recall, unreachable, pairs) = Oracle(definition.Split);
        Assert.AreEqual(1.0, recall, 1e-12, "under the default protocol every relevant test item can be recommended");
        Assert.AreEqual(0.0, unreachable);
        StringAssert.Contains(pairs.Unit, "split by distinct (user, item) pairs");

        // Rows, as every split was cut before: a test pair the user also has in training is removed from the candidates.
        var (rowRecall, rowUnreachable, rows) = Oracle(definition.Split with { Unit = SplitSpec.Rows });
        var trained = Enumerable.Range(0, rows.Train.Count).Select(r => (rows.Train.User[r], rows.Train.Item[r])).ToHashSet();
        var relevant = Enumerable.Range(0, rows.Test.Count).Select(r => (User: rows.Test.User[r], Item: rows.Test.Item[r])).Distinct().ToList();
        var expectedRecall = relevant.GroupBy(p => p.User).Average(g => g.Count(p => !trained.Contains(p)) / (double)g.Count());
        Assert.AreEqual(expectedRecall, rowRecall, 1e-12);
        Assert.AreEqual(relevant.Count(trained.Contains) / (double)relevant.Count, rowUnreachable!.Value, 1e-12);
        Assert.IsLessThan(0.5, rowRecall, "about 0.44 on the quickstart: the figure the issue found");
    }

    [TestMethod]
    public void Every_split_method_keeps_a_pair_on_one_side()
    {
        var builder = new InteractionsBuilder();
        var random = new Random(3);
        for (var r = 0; r < 600; r++) builder.Add($"u{random.Next(30)}", $"i{random.Next(20)}", 1 + random.Next(5), random.Next(1000));
        var data = builder.Build();
        foreach (var method in new[] { "random", "stratified", "temporal", "leave-last-n", "k-fold", "cold-start-items", "cold-start-users" })
            foreach (var split in InteractionSplits.Split(data, new SplitSpec { Method = method, TestFraction = 0.2, ValidationFraction = 0.2, N = 2, Folds = 3 }, 1, _ => throw new InvalidOperationException()))
            {
                var train = Pairs(split.Train);
                var test = Pairs(split.Test);
                Assert.IsFalse(train.Overlaps(test), method);
                if (split.Validation is { } validation) Assert.IsFalse(Pairs(validation).Overlaps(test) || Pairs(validation).Overlaps(train), method);
                Assert.AreEqual(split.Train.Count + split.Test.Count + (split.Validation?.Count ?? 0), Pairs(data).Count, $"{method}: every pair on exactly one side");
            }
    }

    private static HashSet<(int, int)> Pairs(Interactions data) => Enumerable.Range(0, data.Count).Select(r => (data.User[r], data.Item[r])).ToHashSet();
}
