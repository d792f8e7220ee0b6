using Experiments.Core;
using Experiments.Search.Evaluation;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Experiments.Search.Ranking;

/// <summary>The boosting settings of a learning-to-rank model (ML.NET's LightGBM or FastTree ranking trainer, both LambdaRank).</summary>
public sealed record RankingModelOptions
{
    public RankingTrainer Trainer { get; init; } = RankingTrainer.LightGbm;
    public int Trees { get; init; } = 200;
    public int Leaves { get; init; } = 15;
    public int MinLeaf { get; init; } = 20;
    public double Shrinkage { get; init; } = 0.1;
    /// <summary>The gains LambdaRank optimises, matching the evaluation's NDCG gains.</summary>
    public Gain Gain { get; init; } = Gain.Exponential;
    public int Seed { get; init; } = 42;
}

/// <summary>
/// A learning-to-rank model over dense feature vectors grouped into lists (a query's products, a user's candidates):
/// ML.NET's LightGBM or FastTree ranking trainer, both LambdaRank (gradients of pairwise swaps weighted by their change
/// in NDCG within a group). Labels are integral grades 0, 1, 2, …. The search re-ranker and the hybrid re-ranker both
/// learn through it.
/// </summary>
public sealed class RankingModel
{
    private readonly MLContext _ml;
    private readonly ITransformer _model;
    private readonly int _width;

    private RankingModel(MLContext ml, ITransformer model, int width) => (_ml, _model, _width) = (ml, model, width);

    /// <summary>
    /// Fits on rows whose features are <paramref name="features"/> (all of one width), labels <paramref name="labels"/>
    /// and groups <paramref name="groups"/> (rows of one group adjacent, numbered from 0).
    /// </summary>
    public static RankingModel Fit(IReadOnlyList<float[]> features, IReadOnlyList<float> labels, IReadOnlyList<int> groups, RankingModelOptions options)
    {
        if (features.Count == 0) throw new ExperimentsException("A ranking model needs training rows; there are none.");
        LeafSize.EnsureSplittable(features.Count, options.MinLeaf, "this ranking model");
        var width = features[0].Length;
        var levels = (int)labels.Max() + 1;
        var gains = Enumerable.Range(0, Math.Max(levels, 5)).Select(g => options.Gain == Gain.Linear ? g : (1 << g) - 1).ToArray();
        var ml = new MLContext(options.Seed);
        var view = View(ml, features, labels, groups, width);
        IEstimator<ITransformer> trainer = options.Trainer == RankingTrainer.LightGbm
            ? ml.Ranking.Trainers.LightGbm(new LightGbmRankingTrainer.Options
            {
                LabelColumnName = "Label", FeatureColumnName = "Features", RowGroupColumnName = "Group",
                NumberOfIterations = options.Trees, NumberOfLeaves = options.Leaves, MinimumExampleCountPerLeaf = options.MinLeaf,
                LearningRate = options.Shrinkage, CustomGains = gains, Seed = options.Seed, NumberOfThreads = 1, Silent = true, Verbose = false,
            })
            : ml.Ranking.Trainers.FastTree(new FastTreeRankingTrainer.Options
            {
                LabelColumnName = "Label", FeatureColumnName = "Features", RowGroupColumnName = "Group",
                NumberOfTrees = options.Trees, NumberOfLeaves = options.Leaves, MinimumExampleCountPerLeaf = options.MinLeaf,
                LearningRate = options.Shrinkage, CustomGains = gains.Select(g => (double)g).ToArray(), Seed = options.Seed,
            });
        return new RankingModel(ml, trainer.Fit(view), width);
    }

    /// <summary>One score per row (higher ranks first); groups as in training.</summary>
    public float[] Score(IReadOnlyList<float[]> features, IReadOnlyList<int> groups)
    {
        if (features.Count == 0) return [];
        return _model.Transform(View(_ml, features, null, groups, _width)).GetColumn<float>("Score").ToArray();
    }

    private static IDataView View(MLContext ml, IReadOnlyList<float[]> features, IReadOnlyList<float>? labels, IReadOnlyList<int> groups, int width)
    {
        var rows = Enumerable.Range(0, features.Count).Select(r => new Row { Label = labels?[r] ?? 0, Group = (uint)groups[r] + 1, Features = features[r] });
        var schema = SchemaDefinition.Create(typeof(Row));
        schema["Group"].ColumnType = new KeyDataViewType(typeof(uint), groups.Count == 0 ? 1 : groups.Max() + 2);
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    private sealed class Row
    {
        public float Label { get; set; }
        public uint Group { get; set; }
        public float[] Features { get; set; } = [];
    }
}
