using System.Numerics;

namespace Experiments.Evaluation.Ranking;

/// <summary>A metric at every cut-off K = 1 … <c>Values.Length</c>: <c>Values[K − 1]</c> is its mean over the test users.</summary>
public sealed record MetricCurve(string Metric, double[] Values);

/// <summary>
/// The catalogue cut into ten popularity deciles (items ranked by training users, most popular first, ties to the
/// lower index; decile 1 is the most popular tenth of the items): each decile's share of the items recommended in the
/// top <see cref="K"/> lists, and its share of the training interactions, for the popularity-bias view of a report.
/// </summary>
public sealed record PopularityDeciles(int K, double[] Recommended, double[] Training);

/// <summary>
/// Collects, while the evaluator walks each user's top list once, what the report's curves need — the positions of the
/// user's hits in the first <see cref="Depth"/> places, the best rank each item reached, the recommendations per
/// popularity decile — and computes after the pass, in user order (so the values do not depend on threads):
/// NDCG, hit rate and recall at K = 1 … <see cref="Depth"/> with the same per-user formulas and averaging as the
/// metrics (<see cref="RankingMetrics"/>), and coverage at every K.
/// </summary>
public sealed class CutoffCurves
{
    /// <summary>The deepest cut-off drawn.</summary>
    public const int Depth = 50;

    /// <summary>The metrics drawn per cut-off, in this order (coverage after them).</summary>
    public static readonly IReadOnlyList<string> Metrics = ["ndcg", "hit-rate", "recall"];

    private readonly ulong[] _hits;
    private readonly double[]?[]? _hitGrades;
    private readonly int[] _bestRank;
    private readonly int[] _decile;
    private readonly long[] _recommended = new long[10];
    private readonly int _listLength;

    /// <param name="users">Test users (their positions index the calls of <see cref="Visit"/>).</param>
    /// <param name="graded">Whether NDCG is graded (the hits' grades are kept).</param>
    /// <param name="itemPopularity">Each item's count (or share) of training users, for the deciles.</param>
    /// <param name="listLength">The length of the lists the popularity view counts (the definition's largest K).</param>
    public CutoffCurves(int users, bool graded, IReadOnlyList<double> itemPopularity, int listLength)
    {
        _hits = new ulong[users];
        _hitGrades = graded ? new double[]?[users] : null;
        _bestRank = Enumerable.Repeat(int.MaxValue, itemPopularity.Count).ToArray();
        _decile = Deciles(itemPopularity);
        _listLength = listLength;
    }

    /// <summary>Notes user <paramref name="index"/>'s list; safe to call from several threads for different users.</summary>
    public void Visit(int index, ReadOnlySpan<int> ranked, IReadOnlyDictionary<int, double> grades)
    {
        var depth = Math.Min(Depth, ranked.Length);
        ulong mask = 0;
        List<double>? hitGrades = null;
        for (var i = 0; i < depth; i++)
        {
            var item = ranked[i];
            if (grades.TryGetValue(item, out var grade))
            {
                mask |= 1UL << i;
                if (_hitGrades is not null) (hitGrades ??= []).Add(grade);
            }
            // The best (lowest) rank any user's list gave the item: coverage@K counts the items ranked within K.
            int seen;
            while ((seen = Volatile.Read(ref _bestRank[item])) > i + 1 && Interlocked.CompareExchange(ref _bestRank[item], i + 1, seen) != seen) { }
        }
        _hits[index] = mask;
        if (_hitGrades is not null) _hitGrades[index] = hitGrades?.ToArray();
        for (var i = 0; i < Math.Min(_listLength, ranked.Length); i++) Interlocked.Increment(ref _recommended[_decile[ranked[i]]]);
    }

    /// <summary>
    /// The curves after every user was visited; <paramref name="grades"/> gives each visited user's relevant items
    /// with their grades, in the order of the visits.
    /// </summary>
    public IReadOnlyList<MetricCurve> Curves(IReadOnlyList<IReadOnlyDictionary<int, double>> grades)
    {
        var users = _hits.Length;
        var ndcg = new double[Depth];
        var hitRate = new double[Depth];
        var recall = new double[Depth];
        var perUser = new double[users];
        for (var k = 1; k <= Depth; k++)
        {
            for (var u = 0; u < users; u++) perUser[u] = Ndcg(u, grades[u], k);
            ndcg[k - 1] = perUser.Average();
            for (var u = 0; u < users; u++) perUser[u] = (_hits[u] & Below(k)) != 0 ? 1 : 0;
            hitRate[k - 1] = perUser.Average();
            for (var u = 0; u < users; u++) perUser[u] = grades[u].Count == 0 ? 0 : (double)BitOperations.PopCount(_hits[u] & Below(k)) / grades[u].Count;
            recall[k - 1] = perUser.Average();
        }
        var items = _bestRank.Length;
        var coverage = Enumerable.Range(1, Depth).Select(k => items == 0 ? 0 : _bestRank.Count(r => r <= k) / (double)items).ToArray();
        return [new("ndcg", ndcg), new("hit-rate", hitRate), new("recall", recall), new("coverage", coverage)];
    }

    /// <summary>The recommendations of the visited lists, and the training interactions, per popularity decile.</summary>
    public PopularityDeciles Popularity(IReadOnlyList<double> itemPopularity)
    {
        var training = new double[10];
        for (var i = 0; i < itemPopularity.Count; i++) training[_decile[i]] += itemPopularity[i];
        var trainingTotal = training.Sum();
        var recommendedTotal = _recommended.Sum();
        return new PopularityDeciles(_listLength,
            _recommended.Select(c => recommendedTotal == 0 ? 0 : (double)c / recommendedTotal).ToArray(),
            training.Select(t => trainingTotal == 0 ? 0 : t / trainingTotal).ToArray());
    }

    /// <summary>NDCG@k of user u as <see cref="RankingMetrics.Ndcg"/> (or its graded form) computes it: hits in rank order, then the ideal DCG.</summary>
    private double Ndcg(int u, IReadOnlyDictionary<int, double> grades, int k)
    {
        var mask = _hits[u] & Below(k);
        var graded = _hitGrades?[u];
        var dcg = 0.0;
        var hit = 0;
        for (var i = 0; i < k && mask != 0; i++)
        {
            if ((mask & (1UL << i)) == 0) continue;
            dcg += graded is null ? 1 / Math.Log2(i + 2) : (Math.Pow(2, graded[hit]) - 1) / Math.Log2(i + 2);
            hit++;
            mask &= ~(1UL << i);
        }
        var ideal = 0.0;
        if (_hitGrades is null)
            for (var i = 0; i < Math.Min(k, grades.Count); i++) ideal += 1 / Math.Log2(i + 2);
        else
        {
            var position = 0;
            foreach (var g in grades.Values.OrderDescending())
            {
                if (position >= k) break;
                ideal += (Math.Pow(2, g) - 1) / Math.Log2(position + 2);
                position++;
            }
        }
        return ideal == 0 ? 0 : dcg / ideal;
    }

    private static ulong Below(int k) => k >= 64 ? ulong.MaxValue : (1UL << k) - 1;

    /// <summary>Decile (0 = most popular tenth) of each item, by popularity descending, ties to the lower index.</summary>
    private static int[] Deciles(IReadOnlyList<double> popularity)
    {
        var order = Enumerable.Range(0, popularity.Count).OrderByDescending(i => popularity[i]).ThenBy(i => i).ToArray();
        var decile = new int[popularity.Count];
        for (var position = 0; position < order.Length; position++) decile[order[position]] = (int)((long)position * 10 / order.Length);
        return decile;
    }
}
