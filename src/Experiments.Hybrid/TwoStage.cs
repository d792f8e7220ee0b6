using System.Diagnostics;
using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;

namespace Experiments.Hybrid;

/// <summary>
/// What the re-ranker learned from: label users, candidate rows, relevant rows, the merge's recall of the label items,
/// and the seconds the label phase's candidate generation, feature building and re-ranker fit took.
/// </summary>
public sealed record LabelStatistics(int Users, int Rows, int Positives, double CandidateRecall, double CandidateSeconds, double FeatureSeconds, double FitSeconds);

/// <summary>
/// The two-stage ranking of some users: their merged candidates with features, the re-ranker's score of each, the
/// seconds each step took (candidate generation, feature building, re-ranking), and the ranking as a model the
/// evaluator scores like any other (candidates by re-ranker score; every other item is not a candidate).
/// </summary>
public sealed class TwoStageRanking : IRecommenderModel
{
    private readonly Dictionary<int, (int List, int From)> _row;

    internal TwoStageRanking(UserCandidates[] candidates, FeatureTable table, float[] scores, double candidateSeconds, double featureSeconds, double rerankSeconds)
    {
        Candidates = candidates;
        Table = table;
        Scores = scores;
        (CandidateSeconds, FeatureSeconds, RerankSeconds) = (candidateSeconds, featureSeconds, rerankSeconds);
        _row = new Dictionary<int, (int, int)>(candidates.Length);
        var at = 0;
        for (var g = 0; g < candidates.Length; g++)
        {
            _row[candidates[g].User] = (g, at);
            at += candidates[g].Count;
        }
    }

    public UserCandidates[] Candidates { get; }
    public FeatureTable Table { get; }
    /// <summary>The re-ranker's score of each row of <see cref="Table"/>.</summary>
    public float[] Scores { get; }
    public double CandidateSeconds { get; }
    public double FeatureSeconds { get; }
    public double RerankSeconds { get; }

    public void ScoreItems(int user, Span<float> scores)
    {
        scores.Fill(float.NegativeInfinity);
        if (!_row.TryGetValue(user, out var at)) return;
        var (list, from) = (Candidates[at.List], at.From);
        for (var c = 0; c < list.Count; c++) scores[list.Items[c]] = Scores[from + c];
    }

    public bool PredictsRatings => false;
    public float PredictRating(int user, int item) => throw new NotSupportedException("A two-stage model ranks items; it does not predict ratings.");
}

/// <summary>
/// The two stages put together. <see cref="Learn"/>: the label phase's retrievers propose candidates for the label
/// users, each candidate is labelled relevant when it is one of the user's label items (the retrievers' other
/// candidates are the negatives), and the re-ranker is fitted on their features. <see cref="Rank"/>: the test
/// phase's retrievers propose, the same features are built, the re-ranker orders.
/// </summary>
public static class TwoStage
{
    /// <param name="relevant">Each user's relevant label items (user index → item → grade).</param>
    public static (HybridReranker Reranker, LabelStatistics Statistics) Learn(IReadOnlyList<Retriever> retrievers, Phase phase, Dictionary<int, double>?[] relevant,
        TwoStageOptions options, int seed, CancellationToken cancel = default)
    {
        var users = Enumerable.Range(0, relevant.Length).Where(u => relevant[u] is { Count: > 0 }).ToArray();
        if (users.Length == 0) throw new ExperimentsException("The re-ranker's label part has no user with a relevant item; lower evaluation.relevanceThreshold or raise labelFraction.");
        if (users.Length > options.MaxLabelUsers)
        {
            new Random(Seeds.Mix(seed, "hybrid-label-users")).Shuffle(users);
            users = users[..options.MaxLabelUsers];
            Array.Sort(users);
        }
        var clock = Stopwatch.StartNew();
        var candidates = CandidateGeneration.Generate(retrievers, users, phase.Train.Items.Count, options.Depth, phase.History(), cancel);
        var candidateSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var table = CandidateFeatures.Build(candidates, retrievers.Select(r => r.Name).ToList(), options.Features, FeatureContext.Build(phase.Train, phase.FoldIn, phase.Vectors, phase.Side), cancel);
        var featureSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var labels = new bool[table.Rows];
        for (var r = 0; r < labels.Length; r++) labels[r] = relevant[table.Users[r]]!.ContainsKey(table.Items[r]);
        var found = labels.Count(l => l);
        var total = users.Sum(u => relevant[u]!.Count);
        var reranker = HybridReranker.Fit(table, labels, options.Reranker, cancel);
        return (reranker, new LabelStatistics(users.Length, table.Rows, found, (double)found / total, candidateSeconds, featureSeconds, clock.Elapsed.TotalSeconds));
    }

    /// <param name="exclude">Items each user already had (training, validation and fold-in rows): never candidates.</param>
    public static TwoStageRanking Rank(HybridReranker reranker, IReadOnlyList<Retriever> retrievers, Phase phase, int[] users, TwoStageOptions options,
        UserItemMatrix exclude, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var candidates = CandidateGeneration.Generate(retrievers, users, phase.Train.Items.Count, options.Depth, exclude, cancel);
        var candidateSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var table = CandidateFeatures.Build(candidates, retrievers.Select(r => r.Name).ToList(), options.Features, FeatureContext.Build(phase.Train, phase.FoldIn, phase.Vectors, phase.Side), cancel);
        var featureSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var scores = reranker.Score(table, candidates);
        return new TwoStageRanking(candidates, table, scores, candidateSeconds, featureSeconds, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Per-stage recall of the relevant items: each retriever's own top-N list and the merge, as the mean over users
    /// (with relevant items) of |relevant ∩ candidates| / |relevant|.
    /// </summary>
    public static (double[] PerRetriever, double Merged) CandidateRecall(UserCandidates[] candidates, Dictionary<int, double>?[] relevant)
    {
        var lists = candidates.Where(c => c.User < relevant.Length && relevant[c.User] is { Count: > 0 }).ToArray();
        if (lists.Length == 0) return ([], double.NaN);
        var retrievers = lists[0].Ranks.Length;
        var per = new double[retrievers];
        var merged = 0.0;
        foreach (var list in lists)
        {
            var wanted = relevant[list.User]!;
            for (var r = 0; r < retrievers; r++) per[r] += list.ListOf(r).Count(c => wanted.ContainsKey(list.Items[c])) / (double)wanted.Count;
            merged += list.Items.Count(wanted.ContainsKey) / (double)wanted.Count;
        }
        return (per.Select(v => v / lists.Length).ToArray(), merged / lists.Length);
    }
}
