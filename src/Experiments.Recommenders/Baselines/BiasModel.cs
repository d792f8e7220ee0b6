using Experiments.Core.Data;
using Experiments.Core.Models;

namespace Experiments.Recommenders.Baselines;

public sealed record BiasOptions
{
    public static readonly BiasOptions Defaults = new();

    /// <summary>λ for user biases: b_u = Σ(r − μ − b_i) / (λ_u + n_u).</summary>
    public double UserRegularization { get; init; } = 15;
    /// <summary>λ for item biases: b_i = Σ(r − μ − b_u) / (λ_i + n_i).</summary>
    public double ItemRegularization { get; init; } = 10;
    public int Iterations { get; init; } = 10;
}

/// <summary>
/// r̂(u,i) = μ + b_u + b_i with regularised biases, fitted by alternating exact minimisation of
/// Σ (r − μ − b_u − b_i)² + λ_u Σ b_u² + λ_i Σ b_i² (each half-step is the closed-form ridge solution).
/// </summary>
public sealed class BiasTrainer(BiasOptions options) : IRecommenderTrainer
{
    public BiasOptions Options { get; } = options;

    public IRecommenderModel Fit(Interactions train, CancellationToken cancel = default)
    {
        train = Guard.TrainingRatings(train, "bias");
        var mean = train.Rating.Average(r => (double)r);
        var userBias = new double[train.Users.Count];
        var itemBias = new double[train.Items.Count];
        var sum = new double[Math.Max(train.Users.Count, train.Items.Count)];
        var count = new int[sum.Length];
        for (var iteration = 0; iteration < Options.Iterations; iteration++)
        {
            cancel.ThrowIfCancellationRequested();
            Solve(train.Item, train.User, userBias, itemBias, Options.ItemRegularization);
            Solve(train.User, train.Item, itemBias, userBias, Options.UserRegularization);
        }
        return new BiasModel((float)mean, userBias.Select(b => (float)b).ToArray(), itemBias.Select(b => (float)b).ToArray());

        void Solve(int[] target, int[] other, double[] otherBias, double[] result, double lambda)
        {
            Array.Clear(sum);
            Array.Clear(count);
            for (var r = 0; r < train.Count; r++)
            {
                sum[target[r]] += train.Rating[r] - mean - otherBias[other[r]];
                count[target[r]]++;
            }
            for (var k = 0; k < result.Length; k++) result[k] = count[k] + lambda > 0 ? sum[k] / (lambda + count[k]) : 0;
        }
    }
}

/// <summary>μ + b_u + b_i; users and items unseen in training get bias 0. Ranks items by item bias.</summary>
public sealed class BiasModel(float mean, float[] userBias, float[] itemBias) : IRecommenderModel
{
    public float Mean { get; } = mean;
    public float[] UserBias { get; } = userBias;
    public float[] ItemBias { get; } = itemBias;

    public void ScoreItems(int user, Span<float> scores)
    {
        for (var i = 0; i < scores.Length; i++) scores[i] = i < ItemBias.Length ? ItemBias[i] : 0;
    }

    public bool PredictsRatings => true;

    public float PredictRating(int user, int item) =>
        Mean + (user < UserBias.Length ? UserBias[user] : 0) + (item < ItemBias.Length ? ItemBias[item] : 0);
}
