using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Definitions;
using Experiments.Core.Models;

namespace Experiments.Evaluation;

/// <summary>What the evaluator measured, and under which protocol (printed beside every table of results).</summary>
public sealed record EvaluationResult(IReadOnlyList<MetricValue> Values, int Users, string Protocol);

/// <summary>
/// Scores a fitted recommender on test interactions. Ranking: each test user's full catalogue is scored, the user's
/// training items are removed (unless told otherwise), and the top K is compared with the user's relevant test
/// items. Users are scored in parallel, one score vector per thread, so the full user × item matrix never exists.
/// Rating: predicted against actual ratings of every test row.
/// </summary>
public static class RecommenderEvaluator
{
    public static EvaluationResult Evaluate(IRecommenderModel model, Interactions train, Interactions test, IReadOnlyList<MetricName> metrics,
        EvaluationSpec spec, int seed, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var ranking = metrics.Where(m => m.K is not null).ToList();
        var rating = metrics.Where(m => m.K is null).ToList();
        var values = new List<MetricValue>();
        var users = 0;
        var protocols = new List<string>();
        if (ranking.Count > 0)
        {
            var (rankingValues, rankedUsers, protocol) = EvaluateRanking(model, train, test, ranking, spec, seed, progress, cancel);
            values.AddRange(rankingValues);
            users = rankedUsers;
            protocols.Add(protocol);
        }
        if (rating.Count > 0)
        {
            var (ratingValues, ratedUsers) = EvaluateRating(model, test, rating, spec, seed);
            values.AddRange(ratingValues);
            users = Math.Max(users, ratedUsers);
            protocols.Add("rating prediction on every test row");
        }
        return new EvaluationResult(values, users, string.Join("; ", protocols));
    }

    private static (List<MetricValue>, int, string) EvaluateRanking(IRecommenderModel model, Interactions train, Interactions test,
        IReadOnlyList<MetricName> metrics, EvaluationSpec spec, int seed, IProgress<double>? progress, CancellationToken cancel)
    {
        var relevant = RelevantItems(test, spec.RelevanceThreshold);
        var history = UserItemMatrix.ByUser(train);
        var testUsers = relevant.Select((items, user) => (items, user)).Where(x => x.items is { Count: > 0 }).Select(x => x.user).ToArray();
        if (testUsers.Length == 0)
            throw new ExperimentsException(spec.RelevanceThreshold is { } minimumRating
                ? $"No test user has an item rated {minimumRating} or more, so ranking metrics are undefined; lower evaluation.relevanceThreshold."
                : "The test set is empty, so ranking metrics are undefined.");
        var maxK = metrics.Max(m => m.K!.Value);
        var itemCount = train.Items.Count;
        var perUser = new double[metrics.Count][];
        for (var m = 0; m < metrics.Count; m++) perUser[m] = new double[testUsers.Length];
        var done = 0;
        Parallel.For(0, testUsers.Length, new ParallelOptions { CancellationToken = cancel },
            () => (Scores: new float[itemCount], Top: new int[maxK]),
            (index, _, buffers) =>
            {
                var user = testUsers[index];
                model.ScoreItems(user, buffers.Scores);
                if (spec.ExcludeTrainItems && user < history.Rows)
                    foreach (var item in history.RowIndices(user)) buffers.Scores[item] = float.NegativeInfinity;
                var count = TopK.Select(buffers.Scores, buffers.Top);
                var ranked = buffers.Top.AsSpan(0, count);
                for (var m = 0; m < metrics.Count; m++)
                    perUser[m][index] = RankingMetrics.Compute(metrics[m].Name, ranked, relevant[user]!, metrics[m].K!.Value);
                var finished = Interlocked.Increment(ref done);
                if (finished % 256 == 0) progress?.Report((double)finished / testUsers.Length);
                return buffers;
            },
            _ => { });
        progress?.Report(1);
        var results = new List<MetricValue>();
        for (var m = 0; m < metrics.Count; m++)
        {
            var values = perUser[m];
            var mean = values.Average();
            var (lower, upper) = spec.BootstrapSamples > 0
                ? Bootstrap.Interval(values.Length, draw => draw.Average(i => values[i]), spec.BootstrapSamples, spec.ConfidenceLevel, seed + m)
                : (double.NaN, double.NaN);
            results.Add(new MetricValue(metrics[m].Name, metrics[m].K, mean, NullIfNaN(lower), NullIfNaN(upper), values.Length));
        }
        var protocol = $"full-catalogue ranking of {itemCount} items{(spec.ExcludeTrainItems ? ", training items removed" : "")}, " +
                       (spec.RelevanceThreshold is { } minimum ? $"relevant = test rating ≥ {minimum}" : "every test interaction relevant") +
                       $", {testUsers.Length} test users";
        return (results, testUsers.Length, protocol);
    }

    private static (List<MetricValue>, int) EvaluateRating(IRecommenderModel model, Interactions test, IReadOnlyList<MetricName> metrics, EvaluationSpec spec, int seed)
    {
        if (!model.PredictsRatings) throw new ExperimentsException("This model ranks items but does not predict ratings; rmse and mae need a rating model.");
        if (test.Count == 0) throw new ExperimentsException("The test set is empty, so rating metrics are undefined.");
        // Per-user sums let the bootstrap resample users, as it does for ranking metrics.
        var index = new Dictionary<int, int>();
        var squared = new List<double>();
        var absolute = new List<double>();
        var counts = new List<int>();
        for (var r = 0; r < test.Count; r++)
        {
            var error = model.PredictRating(test.User[r], test.Item[r]) - test.Rating[r];
            if (!index.TryGetValue(test.User[r], out var u))
            {
                index[test.User[r]] = u = counts.Count;
                squared.Add(0);
                absolute.Add(0);
                counts.Add(0);
            }
            squared[u] += error * error;
            absolute[u] += Math.Abs(error);
            counts[u]++;
        }
        var results = new List<MetricValue>();
        foreach (var metric in metrics)
        {
            var sums = metric.Name == "rmse" ? squared : absolute;
            double Statistic(IEnumerable<int> users)
            {
                double total = 0, n = 0;
                foreach (var u in users) { total += sums[u]; n += counts[u]; }
                return metric.Name == "rmse" ? Math.Sqrt(total / n) : total / n;
            }
            var value = Statistic(Enumerable.Range(0, counts.Count));
            var (lower, upper) = spec.BootstrapSamples > 0
                ? Bootstrap.Interval(counts.Count, Statistic, spec.BootstrapSamples, spec.ConfidenceLevel, seed)
                : (double.NaN, double.NaN);
            results.Add(new MetricValue(metric.Name, null, value, NullIfNaN(lower), NullIfNaN(upper), counts.Count));
        }
        return (results, counts.Count);
    }

    private static HashSet<int>?[] RelevantItems(Interactions test, double? threshold)
    {
        var relevant = new HashSet<int>?[test.Users.Count];
        for (var r = 0; r < test.Count; r++)
            if (threshold is null || test.Rating[r] >= threshold)
                (relevant[test.User[r]] ??= []).Add(test.Item[r]);
        return relevant;
    }

    private static double? NullIfNaN(double x) => double.IsNaN(x) ? null : x;
}
