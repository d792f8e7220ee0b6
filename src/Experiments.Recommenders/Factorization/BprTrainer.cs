using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;
using Experiments.Recommenders.Baselines;

namespace Experiments.Recommenders.Factorization;

public sealed record BprOptions : SeededOptions
{
    public static readonly BprOptions Defaults = new();

    public int ApproximationRank { get; init; } = 64;
    /// <summary>Epochs; each draws as many (user, positive, negative) triples as there are training pairs.</summary>
    public int NumberOfIterations { get; init; } = 30;
    public double LearningRate { get; init; } = 0.05;
    public double Lambda { get; init; } = 0.0025;
    /// <summary>
    /// Standard deviation of the seeded normal initialisation of the factors (biases start at 0). Cornac starts from
    /// uniform(−0.5, 0.5) / k, whose standard deviation is 1 / (k √12).
    /// </summary>
    public double InitialScale { get; init; } = 0.1;
}

/// <summary>
/// Bayesian personalised ranking (Rendle et al. 2009): maximise Σ ln σ(x̂_ui − x̂_uj) − λ‖Θ‖² over triples of a user,
/// an item the user interacted with and a uniformly sampled item the user did not, by SGD; x̂_ui = p_u·q_i + b_i.
/// As LearnBPR in the paper and Cornac's implementation: (u, i) is drawn uniformly from the training pairs with
/// replacement, an epoch is as many draws as pairs, and each step regularises the three factor rows and two biases it
/// touches (λ‖Θ‖² per step). Where Cornac skips a draw whose j the user has interacted with, j is drawn again, so every
/// step has j uniform over the user's non-interacted items, as in the paper. Single-threaded: identical results under a seed.
/// </summary>
public sealed class BprTrainer(BprOptions options) : IRecommenderTrainer, IIterationModels
{
    public BprOptions Options { get; } = options;

    public int Iterations => Options.NumberOfIterations;

    public event Action<int, IRecommenderModel>? IterationFitted;

    public IRecommenderModel Fit(Interactions train, CancellationToken cancel = default)
    {
        Guard.NotEmpty(train);
        FactorizationMath.CheckRank(Options.ApproximationRank, Options.NumberOfIterations);
        var k = Options.ApproximationRank;
        var random = new Random(Options.Seed);
        var users = train.Users.Count;
        var items = train.Items.Count;
        var p = FactorizationMath.Gaussian(users * k, Options.InitialScale, random);
        var q = FactorizationMath.Gaussian(items * k, Options.InitialScale, random);
        var b = new float[items];
        var history = UserItemMatrix.ByUser(train);
        var pairs = Enumerable.Range(0, history.Rows).SelectMany(u => Enumerable.Range(history.RowStart[u], history.RowLength(u)).Select(at => (User: u, Item: history.ColumnIndex[at]))).ToArray();
        if (pairs.All(pair => history.RowLength(pair.User) >= items))
            throw new ExperimentsException("Every user has interacted with every item: BPR has no negatives to sample.");
        var lr = (float)Options.LearningRate;
        var lambda = (float)Options.Lambda;
        var old = new float[k];
        for (var epoch = 0; epoch < Options.NumberOfIterations; epoch++)
        {
            cancel.ThrowIfCancellationRequested();
            var finite = true;
            for (var s = 0; s < pairs.Length; s++)
            {
                var (u, i) = pairs[random.Next(pairs.Length)];
                var seen = history.RowIndices(u);
                if (seen.Length >= items) continue;
                int j;
                do j = random.Next(items); while (seen.BinarySearch(j) >= 0);
                var pu = p.AsSpan(u * k, k);
                var qi = q.AsSpan(i * k, k);
                var qj = q.AsSpan(j * k, k);
                var x = b[i] - b[j] + Linear.DenseMath.Dot(pu, qi) - Linear.DenseMath.Dot(pu, qj);
                finite &= float.IsFinite(x);
                var g = (float)(1 / (1 + Math.Exp(x))); // σ(−x): the gradient of ln σ(x)
                b[i] += lr * (g - lambda * b[i]);
                b[j] += lr * (-g - lambda * b[j]);
                pu.CopyTo(old);
                for (var f = 0; f < k; f++)
                {
                    pu[f] += lr * (g * (qi[f] - qj[f]) - lambda * pu[f]);
                    qi[f] += lr * (g * old[f] - lambda * qi[f]);
                    qj[f] += lr * (-g * old[f] - lambda * qj[f]);
                }
            }
            // x̂_uij stays finite while the factors do; once one overflows, every later step is NaN.
            if (!finite || !AllFinite(p) || !AllFinite(q) || !AllFinite(b))
                throw FactorizationMath.Diverged(new("bpr", $"Lower learningRate (now {Options.LearningRate:G}), e.g. tenfold, or raise lambda (now {Options.Lambda:G})."),
                    epoch + 1, "its scores x̂_uij became infinite or NaN (the factors overflowed)");
            IterationFitted?.Invoke(epoch + 1, new LatentFactorModel(k, p, q, itemBias: b));
        }
        return new LatentFactorModel(k, p, q, itemBias: b);
    }

    private static bool AllFinite(float[] values)
    {
        foreach (var v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }
}
