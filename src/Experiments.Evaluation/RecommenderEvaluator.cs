using System.Globalization;
using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Core.Models;
using Experiments.Evaluation.Ranking;
using Experiments.Evaluation.Statistics;

namespace Experiments.Evaluation;

/// <summary>
/// Per-user values (for paired tests), aligned with <see cref="Users"/> (user indices): each ranking metric's value by
/// its label, or a rating user's error sums (<see cref="UnitStatistics"/>).
/// </summary>
public sealed record PerUserValues(int[] Users, IReadOnlyDictionary<string, double[]> Values);

/// <summary>
/// What the evaluator measured, under which protocol (printed beside every table of results), and per user. For
/// full-catalogue ranking also <see cref="Unreachable"/>: the share of relevant test (user, item) pairs that are also
/// the user's training or validation items, which exclusion removes from the candidates (0 when splits are by pairs).
/// Full-catalogue ranking also gives the curves reports draw: NDCG, hit rate, recall and coverage at every K up to
/// <see cref="CutoffCurves.Depth"/>, and the recommendations per popularity decile (both computed in the same pass).
/// </summary>
public sealed record EvaluationResult(IReadOnlyList<MetricValue> Values, int Users, string Protocol, PerUserValues PerUser, double? Unreachable = null,
    IReadOnlyList<MetricCurve>? Curves = null, PopularityDeciles? Popularity = null);

/// <summary>
/// Scores a fitted recommender on test interactions, for ranking and rating metrics. Ranking, full-catalogue
/// protocol: each test user's whole catalogue is scored in blocks of users (<see cref="BatchTopK"/>), the user's
/// training and validation items are removed, and a partial top-K heap picks the list; the user × item matrix never
/// exists beyond one block per thread. Sampled protocol: each relevant test item is ranked against sampled negatives.
/// </summary>
public static class RecommenderEvaluator
{
    /// <summary>The name under which runs record <see cref="EvaluationResult.Unreachable"/> beside the metrics, when it is not 0.</summary>
    public const string Unreachable = "unreachable";

    /// <param name="validation">The split's validation interactions, if any: the user had them before the test, so they
    /// are removed from the candidates like training items (and are never relevant: they are not test rows).</param>
    public static EvaluationResult Evaluate(IRecommenderModel model, Interactions train, Interactions test, IReadOnlyList<MetricName> metrics,
        EvaluationSpec spec, int seed, IItemSimilarity? similarity = null, IProgress<double>? progress = null, CancellationToken cancel = default,
        Interactions? validation = null)
    {
        var ranking = metrics.Where(m => m.K is not null).ToList();
        var rating = metrics.Where(m => m.K is null).ToList();
        var values = new List<MetricValue>();
        var perUser = new Dictionary<string, double[]>();
        var users = Array.Empty<int>();
        var protocols = new List<string>();
        double? unreachable = null;
        IReadOnlyList<MetricCurve>? curves = null;
        PopularityDeciles? popularity = null;
        if (ranking.Count > 0)
        {
            var result = spec.Protocol == "sampled"
                ? EvaluateSampled(model, train, validation, test, ranking, spec, seed, progress, cancel)
                : EvaluateFullCatalogue(model, train, validation, test, ranking, spec, seed, similarity, progress, cancel);
            values.AddRange(result.Values);
            users = result.PerUser.Users;
            foreach (var (label, v) in result.PerUser.Values) perUser[label] = v;
            protocols.Add(result.Protocol);
            unreachable = result.Unreachable;
            (curves, popularity) = (result.Curves, result.Popularity);
        }
        if (rating.Count > 0)
        {
            var (results, sums) = EvaluateRating(model, test, rating, spec, seed);
            values.AddRange(results);
            // A definition is of one task; the per-user values are those of its metrics.
            if (ranking.Count == 0) (users, perUser) = (sums.Users, new Dictionary<string, double[]>(sums.Values));
            protocols.Add("rating prediction on every test row");
        }
        return new EvaluationResult(values, values.Count == 0 ? 0 : values.Max(v => v.Users), string.Join("; ", protocols), new PerUserValues(users, perUser), unreachable, curves, popularity);
    }

    private static EvaluationResult EvaluateFullCatalogue(IRecommenderModel model, Interactions train, Interactions? validation, Interactions test, IReadOnlyList<MetricName> metrics,
        EvaluationSpec spec, int seed, IItemSimilarity? similarity, IProgress<double>? progress, CancellationToken cancel)
    {
        if (metrics.Any(m => m.Name == "diversity") && similarity is null)
            throw new ExperimentsException("Metric 'diversity' needs item categories or embeddings; this data set has neither.");
        var relevant = RelevantItems(test, spec);
        var testUsers = Enumerable.Range(0, relevant.Length).Where(u => relevant[u] is { Count: > 0 }).ToArray();
        RequireTestUsers(testUsers, spec);
        var history = UserItemMatrix.ByUser(train);
        var seen = validation is null ? history : UserItemMatrix.ByUser(Interactions.Concatenate(train, validation));
        var (popularity, popularityUsers) = Popularity(train, history);
        var itemCount = train.Items.Count;
        var maxK = metrics.Max(m => m.K!.Value);
        var perUser = metrics.Select(_ => new double[testUsers.Length]).ToArray();
        var covered = metrics.Select(m => m.Name == "coverage" ? new bool[itemCount] : null).ToArray();
        // The lists go as deep as the curves; each metric still reads only its own top K (ties go in TopK's fixed tie order, so
        // a list's first K items are the same at any depth).
        var curves = new CutoffCurves(testUsers.Length, spec.GradedRelevance, popularity, maxK);
        var done = 0;
        BatchTopK.ForUsers(model, testUsers, itemCount, Math.Max(maxK, CutoffCurves.Depth), spec.ExcludeTrainItems ? seen : null, (index, user, ranked, _) =>
        {
            var grades = relevant[user]!;
            curves.Visit(index, ranked, grades);
            var relevantSet = grades.Keys.ToHashSet();
            for (var m = 0; m < metrics.Count; m++)
            {
                var k = metrics[m].K!.Value;
                var list = ranked[..Math.Min(k, ranked.Length)];
                perUser[m][index] = metrics[m].Name switch
                {
                    "ndcg" when spec.GradedRelevance => RankingMetrics.GradedNdcg(list, grades, k),
                    "coverage" => Mark(covered[m]!, list),
                    "diversity" => BeyondAccuracy.IntraListDiversity(list, similarity!),
                    "novelty" => BeyondAccuracy.Novelty(list, popularity, popularityUsers),
                    "popularity" => BeyondAccuracy.AveragePopularity(list, popularity),
                    _ => RankingMetrics.Compute(metrics[m].Name, list, relevantSet, k),
                };
            }
        }, cancel, count => progress?.Report((double)Interlocked.Add(ref done, count) / testUsers.Length));
        progress?.Report(1);
        var results = Aggregate(metrics, perUser, spec, seed, (m, values) => covered[m] is { } c ? c.Count(x => x) / (double)itemCount : values.Average());
        var (unreachable, pairs) = spec.ExcludeTrainItems ? CountUnreachable(relevant, testUsers, seen) : (0, 0);
        var share = pairs == 0 ? 0 : (double)unreachable / pairs;
        var removed = spec.ExcludeTrainItems ? $", training{(validation is null ? "" : " and validation")} items removed" : "";
        var reach = unreachable == 0
            ? "every relevant test item is a candidate"
            : $"UNREACHABLE: {(100 * share).ToString("F1", CultureInfo.InvariantCulture)}% of the relevant test pairs ({unreachable:N0} of {pairs:N0}) are also earlier items of their user, removed from the candidates";
        var protocol = $"full-catalogue ranking of {itemCount} items{removed}, {Relevance(spec)}, {testUsers.Length} test users; {reach}";
        return new EvaluationResult(results, testUsers.Length, protocol, PerUser(metrics, testUsers, perUser), share,
            curves.Curves(testUsers.Select(u => (IReadOnlyDictionary<int, double>)relevant[u]!).ToList()), curves.Popularity(popularity));
    }

    /// <summary>Relevant test pairs whose item the user already had (removed from the candidates, so no model can rank them), and all relevant test pairs.</summary>
    private static (long Unreachable, long Pairs) CountUnreachable(Dictionary<int, double>?[] relevant, int[] testUsers, UserItemMatrix seen)
    {
        long unreachable = 0, pairs = 0;
        foreach (var user in testUsers)
        {
            var had = user < seen.Rows ? seen.RowIndices(user) : [];
            foreach (var item in relevant[user]!.Keys)
            {
                pairs++;
                if (had.BinarySearch(item) >= 0) unreachable++;
            }
        }
        return (unreachable, pairs);
    }

    /// <summary>
    /// Sampled protocol: each relevant test item against <see cref="EvaluationSpec.Negatives"/> items the user never
    /// interacted with (train, validation or test), drawn per user from a seeded generator. Rank = 1 + negatives scored
    /// at least as high (ties count against the model). A user's value is the mean over their relevant items.
    /// </summary>
    private static EvaluationResult EvaluateSampled(IRecommenderModel model, Interactions train, Interactions? validation, Interactions test, IReadOnlyList<MetricName> metrics,
        EvaluationSpec spec, int seed, IProgress<double>? progress, CancellationToken cancel)
    {
        var beyond = metrics.FirstOrDefault(m => MetricCatalog.IsBeyondAccuracy(m.Name));
        if (beyond.Name is not null)
            throw new ExperimentsException($"Metric '{beyond}' describes full top-K lists; it needs the full-catalogue protocol, not 'sampled'.");
        var relevant = RelevantItems(test, spec);
        var testUsers = Enumerable.Range(0, relevant.Length).Where(u => relevant[u] is { Count: > 0 }).ToArray();
        RequireTestUsers(testUsers, spec);
        var history = UserItemMatrix.ByUser(validation is null ? train : Interactions.Concatenate(train, validation));
        var testHistory = UserItemMatrix.ByUser(test);
        var itemCount = train.Items.Count;
        var perUser = metrics.Select(_ => new double[testUsers.Length]).ToArray();
        var done = 0;
        Parallelism.For(0, testUsers.Length, new ParallelOptions { CancellationToken = cancel },
            () => new float[itemCount],
            (index, _, scores) =>
            {
                var user = testUsers[index];
                model.ScoreItems(user, scores);
                var seen = new HashSet<int>(user < history.Rows ? history.RowIndices(user).ToArray() : []);
                seen.UnionWith(testHistory.RowIndices(user).ToArray());
                var available = itemCount - seen.Count;
                if (available < spec.Negatives)
                    throw new ExperimentsException($"User '{train.Users[user]}' has only {available} items left to sample {spec.Negatives} negatives from; lower evaluation.negatives.");
                var random = new Random(Seeds.Mix(seed, user));
                var sums = new double[metrics.Count];
                foreach (var (positive, grade) in relevant[user]!)
                {
                    var rank = 1;
                    var drawn = new HashSet<int>();
                    while (drawn.Count < spec.Negatives)
                    {
                        var candidate = random.Next(itemCount);
                        if (seen.Contains(candidate) || !drawn.Add(candidate)) continue;
                        if (scores[candidate] >= scores[positive]) rank++;
                    }
                    for (var m = 0; m < metrics.Count; m++)
                    {
                        var k = metrics[m].K!.Value;
                        var hit = rank <= k;
                        sums[m] += !hit ? 0 : metrics[m].Name switch
                        {
                            "precision" => 1.0 / k,
                            "recall" or "hit-rate" => 1,
                            "ndcg" => 1 / Math.Log2(rank + 1),
                            _ => 1.0 / rank, // map and mrr: one relevant item, so AP = 1 / rank
                        };
                    }
                }
                for (var m = 0; m < metrics.Count; m++) perUser[m][index] = sums[m] / relevant[user]!.Count;
                var finished = Interlocked.Increment(ref done);
                if (finished % 256 == 0) progress?.Report((double)finished / testUsers.Length);
                return scores;
            },
            _ => { });
        progress?.Report(1);
        var results = Aggregate(metrics, perUser, spec, seed, (_, values) => values.Average());
        var protocol = $"SAMPLED: each relevant test item ranked against {spec.Negatives} sampled negatives (not full-catalogue; not comparable with full-catalogue figures), {Relevance(spec)}, {testUsers.Length} test users";
        return new EvaluationResult(results, testUsers.Length, protocol, PerUser(metrics, testUsers, perUser));
    }

    /// <summary>
    /// Means over users with bootstrap intervals (none for coverage, which has no per-user values), each seeded by the
    /// metric's label; <paramref name="value"/> gives metric m's value from its per-user values.
    /// </summary>
    public static List<MetricValue> Aggregate(IReadOnlyList<MetricName> metrics, double[][] perUser, EvaluationSpec spec, int seed, Func<int, double[], double> value)
    {
        var results = new List<MetricValue>();
        for (var m = 0; m < metrics.Count; m++)
        {
            var values = perUser[m];
            // Seeded by the metric's label, so an interval does not depend on where the metric stands in the list.
            var (lower, upper, _) = spec.BootstrapSamples > 0 && metrics[m].Name != "coverage"
                ? Bootstrap.Interval(values.Length, draw => UnitStatistics.Mean(values, draw), spec.BootstrapSamples, spec.ConfidenceLevel, Seeds.Mix(seed, metrics[m].ToString()))
                : new BootstrapInterval(double.NaN, double.NaN, 0);
            results.Add(new MetricValue(metrics[m].Name, metrics[m].K, value(m, values), NullIfNaN(lower), NullIfNaN(upper), values.Length));
        }
        return results;
    }

    private static PerUserValues PerUser(IReadOnlyList<MetricName> metrics, int[] users, double[][] perUser) =>
        new(users, metrics.Select((m, i) => (m, i)).Where(x => x.m.Name != "coverage").ToDictionary(x => x.m.ToString(), x => perUser[x.i]));

    private static double Mark(bool[] covered, ReadOnlySpan<int> list)
    {
        foreach (var item in list) covered[item] = true; // concurrent writes of the same value: benign
        return 0;
    }

    /// <summary>RMSE, MAE and R² over every test row; per user, the error sums that resampling and paired tests pool (<see cref="UnitStatistics"/>).</summary>
    private static (List<MetricValue> Values, PerUserValues Sums) EvaluateRating(IRecommenderModel model, Interactions test, IReadOnlyList<MetricName> metrics, EvaluationSpec spec, int seed)
    {
        if (!model.PredictsRatings) throw new ExperimentsException("This model ranks items but does not predict ratings; rmse, mae and r2 need a rating model.");
        if (test.Count == 0) throw new ExperimentsException("The test set is empty, so rating metrics are undefined.");
        // Per-user sums let the bootstrap resample users, as it does for ranking metrics.
        var index = new Dictionary<int, int>();
        var users = new List<int>();
        var sums = new[] { UnitStatistics.SquaredErrors, UnitStatistics.AbsoluteErrors, UnitStatistics.Rows, UnitStatistics.Ratings, UnitStatistics.SquaredRatings }
            .ToDictionary(name => name, _ => new List<double>());
        for (var r = 0; r < test.Count; r++)
        {
            var error = (double)model.PredictRating(test.User[r], test.Item[r]) - test.Rating[r];
            if (!double.IsFinite(error))
                throw new ExperimentsException($"The model predicted a non-finite rating for user '{test.Users[test.User[r]]}' and item '{test.Items[test.Item[r]]}'.");
            if (!index.TryGetValue(test.User[r], out var u))
            {
                index[test.User[r]] = u = users.Count;
                users.Add(test.User[r]);
                foreach (var list in sums.Values) list.Add(0);
            }
            sums[UnitStatistics.SquaredErrors][u] += error * error;
            sums[UnitStatistics.AbsoluteErrors][u] += Math.Abs(error);
            sums[UnitStatistics.Rows][u] += 1;
            sums[UnitStatistics.Ratings][u] += test.Rating[r];
            sums[UnitStatistics.SquaredRatings][u] += (double)test.Rating[r] * test.Rating[r];
        }
        var perUser = sums.ToDictionary(s => s.Key, s => s.Value.ToArray());
        var all = UnitStatistics.All(users.Count);
        var results = new List<MetricValue>();
        foreach (var metric in metrics)
        {
            var statistic = UnitStatistics.For(metric)!;
            var (lower, upper, _) = spec.BootstrapSamples > 0
                ? Bootstrap.Interval(users.Count, draw => statistic.Compute(perUser, draw), spec.BootstrapSamples, spec.ConfidenceLevel, Seeds.Mix(seed, metric.ToString()))
                : new BootstrapInterval(double.NaN, double.NaN, 0);
            results.Add(new MetricValue(metric.Name, null, statistic.Compute(perUser, all), NullIfNaN(lower), NullIfNaN(upper), users.Count));
        }
        return (results, new PerUserValues(users.ToArray(), perUser));
    }

    /// <summary>Each user's relevant test items with their grade (the rating when graded, else 1).</summary>
    public static Dictionary<int, double>?[] RelevantItems(Interactions test, EvaluationSpec spec)
    {
        var relevant = new Dictionary<int, double>?[test.Users.Count];
        for (var r = 0; r < test.Count; r++)
            if (spec.RelevanceThreshold is null || test.Rating[r] >= spec.RelevanceThreshold)
            {
                var grades = relevant[test.User[r]] ??= [];
                var grade = spec.GradedRelevance ? test.Rating[r] : 1;
                grades[test.Item[r]] = Math.Max(grades.GetValueOrDefault(test.Item[r]), grade);
            }
        return relevant;
    }

    /// <summary>
    /// p_i: the share of training users (users with at least one training item) who interacted with item i, and how
    /// many such users there are — novelty's floor for unseen items is one of the same users.
    /// </summary>
    private static (double[] Popularity, int Users) Popularity(Interactions train, UserItemMatrix history)
    {
        var counts = new double[train.Items.Count];
        for (var u = 0; u < history.Rows; u++)
            foreach (var item in history.RowIndices(u)) counts[item]++;
        var users = Math.Max(1, Enumerable.Range(0, history.Rows).Count(u => history.RowLength(u) > 0));
        for (var i = 0; i < counts.Length; i++) counts[i] /= users;
        return (counts, users);
    }

    private static void RequireTestUsers(int[] testUsers, EvaluationSpec spec)
    {
        if (testUsers.Length == 0)
            throw new ExperimentsException(spec.RelevanceThreshold is { } minimum
                ? $"No test user has an item rated {minimum} or more, so ranking metrics are undefined; lower evaluation.relevanceThreshold."
                : "The test set is empty, so ranking metrics are undefined.");
    }

    private static string Relevance(EvaluationSpec spec) =>
        (spec.RelevanceThreshold is { } minimum ? $"relevant = test rating ≥ {minimum}" : "every test interaction relevant") +
        (spec.GradedRelevance ? ", NDCG graded by rating (gain 2^rating − 1)" : "");

    private static double? NullIfNaN(double x) => double.IsNaN(x) ? null : x;
}
