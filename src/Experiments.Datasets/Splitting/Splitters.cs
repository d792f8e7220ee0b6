using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Definitions;

namespace Experiments.Datasets.Splitting;

/// <summary>Row indices of one split of an interaction table. Validation is empty when none was asked for.</summary>
public sealed record SplitResult(string Name, int[] Train, int[] Validation, int[] Test);

/// <summary>Data in, (train, validation, test) out; the same seed gives the same rows.</summary>
public interface ISplitter
{
    /// <summary>One split, or one per fold for k-fold.</summary>
    IReadOnlyList<SplitResult> Split(Interactions data, int seed);
}

/// <summary>Shuffles all rows and cuts them by fraction.</summary>
public sealed class RandomSplitter(double testFraction, double validationFraction = 0) : ISplitter
{
    public IReadOnlyList<SplitResult> Split(Interactions data, int seed)
    {
        var rows = SplitMath.Shuffled(Enumerable.Range(0, data.Count).ToArray(), new Random(seed));
        var (train, validation, test) = SplitMath.Cut(rows, testFraction, validationFraction);
        return [new SplitResult("random", train.ToArray(), validation.ToArray(), test.ToArray())];
    }
}

/// <summary>
/// Per user: each user's rows are shuffled and cut by the same fractions (rounded half to even, as numpy does), so
/// every user appears in train and test in proportion — the Microsoft Recommenders "stratified" splitter.
/// </summary>
public sealed class StratifiedSplitter(double testFraction, double validationFraction = 0) : ISplitter
{
    public IReadOnlyList<SplitResult> Split(Interactions data, int seed)
    {
        var random = new Random(seed);
        var parts = SplitMath.NewParts();
        foreach (var rows in SplitMath.RowsByUser(data))
            SplitMath.AddCut(parts, SplitMath.Shuffled(rows, random), testFraction, validationFraction);
        return [SplitMath.Result("stratified", parts)];
    }
}

/// <summary>Per user by time: each user's latest rows go to test, the ones before them to validation. Ties keep file order.</summary>
public sealed class TemporalSplitter(double testFraction, double validationFraction = 0) : ISplitter
{
    public IReadOnlyList<SplitResult> Split(Interactions data, int seed)
    {
        SplitMath.RequireTimestamps(data, "temporal");
        var parts = SplitMath.NewParts();
        foreach (var rows in SplitMath.RowsByUser(data))
            SplitMath.AddCut(parts, SplitMath.ByTime(rows, data), testFraction, validationFraction);
        return [SplitMath.Result("temporal", parts)];
    }
}

/// <summary>Per user: the last <c>n</c> rows in time go to test; users with n rows or fewer stay wholly in train.</summary>
public sealed class LeaveLastNSplitter(int n) : ISplitter
{
    public IReadOnlyList<SplitResult> Split(Interactions data, int seed)
    {
        SplitMath.RequireTimestamps(data, "leave-last-n");
        var parts = SplitMath.NewParts();
        foreach (var rows in SplitMath.RowsByUser(data))
        {
            var ordered = SplitMath.ByTime(rows, data);
            var held = ordered.Length > n ? n : 0;
            parts.Train.AddRange(ordered[..^held]);
            parts.Test.AddRange(ordered[^held..]);
        }
        return [SplitMath.Result($"leave-last-{n}", parts)];
    }
}

/// <summary>K folds of shuffled rows: fold k is the test set of split k, the rest its train set.</summary>
public sealed class KFoldSplitter(int folds) : ISplitter
{
    public IReadOnlyList<SplitResult> Split(Interactions data, int seed)
    {
        if (data.Count < folds) throw new ExperimentsException($"k-fold with {folds} folds needs at least {folds} rows; the data has {data.Count}.");
        var rows = SplitMath.Shuffled(Enumerable.Range(0, data.Count).ToArray(), new Random(seed));
        return Enumerable.Range(0, folds).Select(k =>
        {
            var test = rows.Where((_, i) => i % folds == k).ToArray();
            var train = rows.Where((_, i) => i % folds != k).ToArray();
            Array.Sort(test);
            Array.Sort(train);
            return new SplitResult($"fold-{k + 1}-of-{folds}", train, [], test);
        }).ToList();
    }
}

/// <summary>Cold start: a share of the items (or users) is held out entirely, so test rows are about ones never seen in training.</summary>
public sealed class ColdStartSplitter(bool byItem, double testFraction) : ISplitter
{
    public IReadOnlyList<SplitResult> Split(Interactions data, int seed)
    {
        var keys = byItem ? data.Item : data.User;
        var distinct = keys.Distinct().Order().ToArray();
        var held = new HashSet<int>(SplitMath.Shuffled(distinct, new Random(seed)).Take(SplitMath.Round(distinct.Length * testFraction)));
        var parts = SplitMath.NewParts();
        for (var r = 0; r < data.Count; r++) (held.Contains(keys[r]) ? parts.Test : parts.Train).Add(r);
        return [SplitMath.Result(byItem ? "cold-start-items" : "cold-start-users", parts)];
    }
}

/// <summary>
/// Train and test rows fixed by the data set's own files (MovieLens 100K's u1.base/u1.test, or a user's train and test
/// files). A validation fraction is carved from the training rows per user, seeded, as the stratified splitter cuts
/// them (a user with too few rows keeps them all for training), so early stopping and tuning work on fixed splits too;
/// the test rows never change.
/// </summary>
public sealed class PredefinedSplitter(PredefinedSplit split, double validationFraction = 0) : ISplitter
{
    public IReadOnlyList<SplitResult> Split(Interactions data, int seed)
    {
        if (validationFraction == 0 || split.Validation.Length > 0) return [new SplitResult(split.Name, split.Train, split.Validation, split.Test)];
        var random = new Random(seed);
        var parts = SplitMath.NewParts();
        var byUser = split.Train.GroupBy(r => data.User[r]).OrderBy(g => g.Key);
        foreach (var rows in byUser) SplitMath.AddCut(parts, SplitMath.Shuffled(rows.ToArray(), random), 0, validationFraction);
        parts.Test.AddRange(split.Test);
        return [SplitMath.Result(split.Name, parts)];
    }
}

/// <summary>Builds the splitter a definition asks for.</summary>
public static class SplitterFactory
{
    public static ISplitter Create(SplitSpec spec, Func<string, PredefinedSplit> predefined) => spec.Method switch
    {
        "random" => new RandomSplitter(spec.TestFraction, spec.ValidationFraction),
        "stratified" => new StratifiedSplitter(spec.TestFraction, spec.ValidationFraction),
        "temporal" => new TemporalSplitter(spec.TestFraction, spec.ValidationFraction),
        "leave-last-n" => new LeaveLastNSplitter(spec.N),
        "k-fold" => new KFoldSplitter(spec.Folds),
        "cold-start-items" => new ColdStartSplitter(true, spec.TestFraction),
        "cold-start-users" => new ColdStartSplitter(false, spec.TestFraction),
        "predefined" => new PredefinedSplitter(predefined(spec.Name ?? throw new ExperimentsException("A predefined split needs a \"name\".")), spec.ValidationFraction),
        _ => throw new ExperimentsException(DefinitionValidator.UnknownValue($"split method '{spec.Method}'", spec.Method, DefinitionShape.SplitMethods)),
    };
}

/// <summary>The train, validation (null when none was asked for) and test interactions of one split, and what its units were.</summary>
public sealed record InteractionSplit(string Name, Interactions Train, Interactions? Validation, Interactions Test, string Unit);

/// <summary>
/// Splits an interaction table for ranking and rating as a definition says. By default the split unit is the distinct
/// (user, item) pair (<see cref="Interactions.UniquePairs"/>): repeats collapse first, so a test pair is never also a
/// training or validation pair. With <see cref="SplitSpec.Rows"/> every row is split on its own. A predefined split's
/// files are collapsed each on its own; whatever pairs the files share stay on both sides.
/// </summary>
public static class InteractionSplits
{
    public static IEnumerable<InteractionSplit> Split(Interactions data, SplitSpec spec, int seed, Func<string, PredefinedSplit> predefined)
    {
        var pairs = spec.Unit == SplitSpec.Pairs;
        if (spec.Method == "predefined")
        {
            var files = predefined(spec.Name ?? throw new ExperimentsException("A predefined split needs a \"name\"."));
            // The files' validation rows, else validationFraction of each user's training rows (seeded), else none.
            var cut = new PredefinedSplitter(files, spec.ValidationFraction).Split(files.All, seed).Single();
            var (train, test) = (files.All.Subset(cut.Train), files.All.Subset(cut.Test));
            var validation = cut.Validation.Length > 0 ? files.All.Subset(cut.Validation) : null;
            if (pairs) (train, validation, test) = (train.UniquePairs(), validation?.UniquePairs(), test.UniquePairs());
            yield return Checked(new InteractionSplit(files.Name, train, validation, test, Describe(files.All, train.Count + (validation?.Count ?? 0) + test.Count, pairs)));
            yield break;
        }
        var units = pairs ? data.UniquePairs() : data;
        var unit = Describe(data, units.Count, pairs);
        foreach (var split in SplitterFactory.Create(spec, predefined).Split(units, seed))
            yield return Checked(new InteractionSplit(split.Name, units.Subset(split.Train), split.Validation.Length > 0 ? units.Subset(split.Validation) : null, units.Subset(split.Test), unit));
    }

    /// <summary>
    /// What a sweep makes of one split of interactions: the parts its trials are scored on — training vs validation, or
    /// (objective k-fold) folds of training + validation in the split's unit — and the refit's split, training +
    /// validation vs test (the split itself when it has no validation part). Trials never see the test part.
    /// </summary>
    public static (IReadOnlyList<InteractionSplit> Tuning, InteractionSplit Refit) ForSweep(InteractionSplit split, SweepSpec sweep, int seed, Func<string, PredefinedSplit> predefined)
    {
        var refit = split.Validation is null ? split : split with { Train = Interactions.Concatenate(split.Train, split.Validation), Validation = null };
        if (sweep.Objective == SweepSpec.KFold)
            return (Split(refit.Train, new SplitSpec { Method = "k-fold", Folds = sweep.Folds, Unit = split.Unit }, seed, predefined)
                .Select(f => f with { Name = $"{split.Name}/{f.Name}" }).ToList(), refit);
        var validation = split.Validation ?? throw new ExperimentsException($"Split '{split.Name}' has no validation part to score the sweep's trials on; set split.validationFraction or use sweep objective 'k-fold'.");
        return ([new InteractionSplit($"{split.Name}/validation", split.Train, null, validation, split.Unit)], refit);
    }

    private static string Describe(Interactions rows, int units, bool pairs) => !pairs
        ? $"split by rows ({rows.Count:N0}): a (user, item) pair may be both in training and in test"
        : $"split by distinct (user, item) pairs ({units:N0} from {rows.Count:N0} rows; a pair's weight is its {(rows.HasRatings ? "mean rating" : "number of events")}, its time the first)";

    private static InteractionSplit Checked(InteractionSplit split) =>
        split.Train.Count == 0 || split.Test.Count == 0
            ? throw new ExperimentsException($"Split '{split.Name}' left {split.Train.Count} training and {split.Test.Count} test interactions; both must be non-empty. Change the split fractions.")
            : split;
}

internal static class SplitMath
{
    internal sealed record Parts(List<int> Train, List<int> Validation, List<int> Test);

    internal static Parts NewParts() => new([], [], []);

    internal static SplitResult Result(string name, Parts parts)
    {
        int[] Sorted(List<int> rows) { var a = rows.ToArray(); Array.Sort(a); return a; }
        return new SplitResult(name, Sorted(parts.Train), Sorted(parts.Validation), Sorted(parts.Test));
    }

    /// <summary>Rounds half to even, like numpy, so fractions cut the same way as in Python tools.</summary>
    internal static int Round(double x) => (int)Math.Round(x, MidpointRounding.ToEven);

    internal static int[] Shuffled(int[] rows, Random random)
    {
        var copy = (int[])rows.Clone();
        for (var i = copy.Length - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (copy[i], copy[j]) = (copy[j], copy[i]);
        }
        return copy;
    }

    /// <summary>The first rows of <paramref name="ordered"/> train, then validation, then test (the last ones).</summary>
    internal static (ArraySegment<int> Train, ArraySegment<int> Validation, ArraySegment<int> Test) Cut(int[] ordered, double testFraction, double validationFraction)
    {
        var test = Round(ordered.Length * testFraction);
        var validation = Round((ordered.Length - test) * validationFraction);
        var train = ordered.Length - test - validation;
        return (new(ordered, 0, train), new(ordered, train, validation), new(ordered, train + validation, test));
    }

    internal static void AddCut(Parts parts, int[] ordered, double testFraction, double validationFraction)
    {
        var (train, validation, test) = Cut(ordered, testFraction, validationFraction);
        parts.Train.AddRange(train);
        parts.Validation.AddRange(validation);
        parts.Test.AddRange(test);
    }

    internal static IEnumerable<int[]> RowsByUser(Interactions data)
    {
        var byUser = new List<int>?[data.Users.Count];
        for (var r = 0; r < data.Count; r++) (byUser[data.User[r]] ??= []).Add(r);
        return byUser.Where(rows => rows is not null).Select(rows => rows!.ToArray());
    }

    internal static int[] ByTime(int[] rows, Interactions data) => rows.OrderBy(r => data.Timestamp[r]).ThenBy(r => r).ToArray();

    internal static void RequireTimestamps(Interactions data, string method)
    {
        if (!data.HasTimestamps)
            throw new ExperimentsException($"Split method '{method}' orders rows by time, but this interaction table has no timestamp column; use 'stratified' or 'random'.");
    }
}

/// <summary>Splits of plain rows (click logs, labelled text): random, or stratified so each class keeps its share.</summary>
public static class RowSplitter
{
    public static SplitResult Random(int count, double testFraction, double validationFraction, int seed)
    {
        var rows = SplitMath.Shuffled(Enumerable.Range(0, count).ToArray(), new Random(seed));
        var parts = SplitMath.NewParts();
        SplitMath.AddCut(parts, rows, testFraction, validationFraction);
        return SplitMath.Result("random", parts);
    }

    /// <summary>Each group (class label) is shuffled and cut by the same fractions.</summary>
    public static SplitResult Stratified(IReadOnlyList<int> groups, double testFraction, double validationFraction, int seed)
    {
        var random = new Random(seed);
        var parts = SplitMath.NewParts();
        foreach (var rows in Enumerable.Range(0, groups.Count).GroupBy(r => groups[r]).OrderBy(g => g.Key))
            SplitMath.AddCut(parts, SplitMath.Shuffled(rows.ToArray(), random), testFraction, validationFraction);
        return SplitMath.Result("stratified", parts);
    }

    /// <summary>K folds of shuffled rows (each fold once the test set).</summary>
    public static IReadOnlyList<SplitResult> KFold(int count, int folds, int seed)
    {
        var rows = SplitMath.Shuffled(Enumerable.Range(0, count).ToArray(), new Random(seed));
        return Enumerable.Range(0, folds).Select(k => new SplitResult($"fold-{k + 1}-of-{folds}",
            rows.Where((_, i) => i % folds != k).Order().ToArray(), [], rows.Where((_, i) => i % folds == k).Order().ToArray())).ToList();
    }
}
