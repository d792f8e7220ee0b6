using Experiments.Core;
using Experiments.Ctr;
using Experiments.Search.Ranking;
using Experiments.Search.Retrieval;

namespace Experiments.Hybrid;

/// <summary>The second stage: a click-through classifier, a LambdaRank model, or no model (the retrievers' lists fused by reciprocal rank).</summary>
public enum RerankerKind { LightGbmBinary, FastTreeBinary, LightGbmLambdaRank, FastTreeLambdaRank, Fusion }

public sealed record RerankerOptions
{
    public static readonly IReadOnlyList<string> Names = ["lightgbm-binary", "fasttree-binary", "lightgbm-lambdarank", "fasttree-lambdarank", "fusion"];

    public RerankerKind Kind { get; init; } = RerankerKind.LightGbmLambdaRank;
    // Small trees with large leaves: a re-ranker learns from a few thousand users' label items, and bigger trees
    // (31 leaves of 20 rows, 200 trees) fitted the label phase's quirks and lost NDCG@10 on ml-latest-small and the
    // demo shop (docs/benchmarks.md, "Hybrid two-stage ranking").
    public int Trees { get; init; } = 150;
    public int Leaves { get; init; } = 8;
    public int MinLeaf { get; init; } = 100;
    public double LearningRate { get; init; } = 0.05;
    /// <summary>Fusion: reciprocal-rank fusion's k in 1 / (k + rank).</summary>
    public double FusionK { get; init; } = 60;
    public int Seed { get; init; } = 42;

    public static RerankerKind Parse(string name) => Names.ToList().IndexOf(name) is var i and >= 0 ? (RerankerKind)i
        : throw new ExperimentsException(Core.Definitions.DefinitionValidator.UnknownValue($"re-ranker '{name}'", name, Names));
}

/// <summary>
/// Orders each user's merged candidates. Binary kinds are the platform's click-through classifiers
/// (<see cref="CtrTrainer"/>: an ML.NET pipeline of missing-value indicators, mean imputation and normalisation of the
/// numeric features, one-hot categorical attributes, and LightGBM or FastTree, Platt-calibrated) trained to tell a
/// relevant candidate from the retrievers' other candidates; LambdaRank kinds are ML.NET's LightGBM or FastTree
/// ranking trainers over the numeric features grouped by user (<see cref="RankingModel"/>, shared with search).
/// </summary>
public sealed class HybridReranker
{
    private readonly RerankerOptions _options;
    private readonly CtrModel? _classifier;
    private readonly RankingModel? _ranker;

    private HybridReranker(RerankerOptions options, CtrModel? classifier, RankingModel? ranker) => (_options, _classifier, _ranker) = (options, classifier, ranker);

    public RerankerOptions Options => _options;

    /// <summary>Learns from labelled candidate rows (<paramref name="relevant"/>[row]).</summary>
    public static HybridReranker Fit(FeatureTable table, bool[] relevant, RerankerOptions options, CancellationToken cancel = default)
    {
        if (options.Kind == RerankerKind.Fusion) return new HybridReranker(options, null, null);
        if (table.Rows == 0 || relevant.All(r => r) || !relevant.Any(r => r))
            throw new ExperimentsException($"The re-ranker's training candidates are {(table.Rows == 0 ? "none" : relevant.Any(r => r) ? "all relevant" : "all irrelevant")}: retrieve deeper (depth), keep more rows for labels (labelFraction), or use more users.");
        if (options.Kind is RerankerKind.LightGbmBinary or RerankerKind.FastTreeBinary)
        {
            var classifier = CtrTrainer.Fit(ClickLogOf(table, relevant), new CtrOptions
            {
                Algorithm = options.Kind == RerankerKind.LightGbmBinary ? CtrAlgorithm.LightGbm : CtrAlgorithm.FastTree,
                NumberOfIterations = options.Trees, NumberOfLeaves = options.Leaves, MinimumExampleCountPerLeaf = options.MinLeaf,
                LearningRate = options.LearningRate, Seed = options.Seed,
            }, cancel);
            return new HybridReranker(options, classifier, null);
        }
        cancel.ThrowIfCancellationRequested();
        var ranker = RankingModel.Fit(Rows(table), relevant.Select(r => r ? 1f : 0f).ToList(), table.Groups, new RankingModelOptions
        {
            Trainer = options.Kind == RerankerKind.LightGbmLambdaRank ? RankingTrainer.LightGbm : RankingTrainer.FastTree,
            Trees = options.Trees, Leaves = options.Leaves, MinLeaf = options.MinLeaf, Shrinkage = options.LearningRate, Seed = options.Seed,
        });
        return new HybridReranker(options, null, ranker);
    }

    /// <summary>A score per row of <paramref name="table"/> (the candidates of <paramref name="candidates"/>, in order); higher ranks first.</summary>
    public float[] Score(FeatureTable table, IReadOnlyList<UserCandidates> candidates)
    {
        if (_classifier is not null) return _classifier.Predict(ClickLogOf(table, new bool[table.Rows])).Select(p => (float)p).ToArray();
        if (_ranker is not null) return _ranker.Score(Rows(table), table.Groups);
        var scores = new List<float>(table.Rows);
        foreach (var list in candidates)
        {
            var lists = Enumerable.Range(0, list.Ranks.Length).Select(r =>
            {
                var order = list.ListOf(r).ToArray();
                return (new Ranked(order, new float[order.Length]), 1.0);
            }).ToList();
            var fused = Fusion.ReciprocalRank(lists, _options.FusionK, list.Count);
            var byPosition = new float[list.Count];
            for (var k = 0; k < fused.Count; k++) byPosition[fused.Products[k]] = fused.Scores[k];
            scores.AddRange(byPosition);
        }
        return [.. scores];
    }

    private static List<float[]> Rows(FeatureTable table) => Enumerable.Range(0, table.Rows).Select(r => table.Row(r).ToArray()).ToList();

    /// <summary>The rows as a click log: the numeric features, the attributes' raw values as categories, "relevant" as the click.</summary>
    private static ClickLog ClickLogOf(FeatureTable table, bool[] relevant)
    {
        var numeric = Enumerable.Range(0, table.Width).Select(f =>
        {
            var column = new float[table.Rows];
            for (var r = 0; r < column.Length; r++) column[r] = table.Values[r * table.Width + f];
            return column;
        }).ToArray();
        var schema = new ClickLogSchema("relevant", table.Names, table.CategoricalNames.Select(c => $"attribute.{c}").ToList(), []);
        return new ClickLog(schema, relevant, numeric, table.Categorical, [], null);
    }
}
