using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders.Linear;

namespace Experiments.Recommenders.Factorization;

public sealed record SvdPlusPlusOptions : SeededOptions
{
    public static readonly SvdPlusPlusOptions Defaults = new();

    public int ApproximationRank { get; init; } = 32;
    /// <summary>Most epochs (early stopping usually ends sooner).</summary>
    public int NumberOfIterations { get; init; } = 60;
    /// <summary>SGD step size γ, multiplied by <see cref="LearningRateDecay"/> after every epoch.</summary>
    public double LearningRate { get; init; } = 0.01;
    public double LearningRateDecay { get; init; } = 0.95;
    /// <summary>L2 on p_u, q_i and y_j, applied at every rating (Koren's λ₇).</summary>
    public double Lambda { get; init; } = 0.05;
    /// <summary>L2 on the biases (Koren's λ₆).</summary>
    public double BiasLambda { get; init; } = 0.005;
    public double InitialScale { get; init; } = 0.1;
    /// <inheritdoc cref="MatrixFactorizationOptions.EarlyStoppingRounds"/>
    public int EarlyStoppingRounds { get; init; } = 3;
    /// <inheritdoc cref="MatrixFactorizationOptions.ValidationFraction"/>
    public double ValidationFraction { get; init; } = 0.1;
}

/// <summary>
/// SVD++ (Koren 2008, "Factorization meets the neighborhood", section 4): r̂_ui = μ + b_u + b_i + q_iᵀ(p_u + |N(u)|^−½ Σ_{j∈N(u)} y_j),
/// where N(u) is the set of items u rated in training (the implicit feedback of "who rated what"). Fitted by Koren's
/// SGD: for each rating, with e = r − r̂, b_u += γ(e − λ_b b_u), b_i += γ(e − λ_b b_i), q_i += γ(e (p_u + z_u) − λ q_i),
/// p_u += γ(e q_i − λ p_u) and y_j += γ(e |N(u)|^−½ q_i − λ y_j) for every j ∈ N(u). Users are visited in a seeded order
/// and each user's ratings in a seeded order; the y_j updates of a user's ratings are applied in closed form when the
/// user is done (they are the same for every j, up to the shared decay), which is exactly the per-rating algorithm at
/// O(k) per rating instead of O(k |N(u)|). Single-threaded: identical results under a seed. The fitted model is a
/// <see cref="LatentFactorModel"/> whose user factors are p_u + |N(u)|^−½ Σ y_j.
/// </summary>
public sealed class SvdPlusPlusTrainer(SvdPlusPlusOptions options) : IValidatedTrainer, IIterationReporter, IIterationModels
{
    public SvdPlusPlusOptions Options { get; } = options;

    /// <summary>Progress per epoch: (epoch, training RMSE, validation RMSE or NaN).</summary>
    public event Action<int, double, double>? IterationFinished;

    public int Iterations => Options.NumberOfIterations;

    /// <summary>Each iteration's model of the fit that is returned (with early stopping on a hold-out share, its refit's).</summary>
    public event Action<int, IRecommenderModel>? IterationFitted;

    public IRecommenderModel Fit(Interactions train, CancellationToken cancel = default) => Fit(train, null, cancel);

    IRecommenderModel IValidatedTrainer.Fit(Interactions train, Interactions? validation, CancellationToken cancel) => Fit(train, validation, cancel);

    public bool StopsEarly => Options.EarlyStoppingRounds > 0;

    /// <summary>Fits with early stopping as <see cref="MatrixFactorizationTrainer.Fit(Interactions, Interactions?, CancellationToken)"/> does.</summary>
    public LatentFactorModel Fit(Interactions train, Interactions? validation, CancellationToken cancel = default)
    {
        train = Guard.TrainingRatings(train, "svd++");
        FactorizationMath.CheckRank(Options.ApproximationRank, Options.NumberOfIterations);
        if (Options.LearningRate <= 0) throw new ExperimentsException($"The learning rate must be above 0; it is {Options.LearningRate}.");
        var settings = new EarlyStoppingSettings(Options.NumberOfIterations, Options.EarlyStoppingRounds, Options.ValidationFraction, Options.Seed, Divergence);
        return EarlyStopping.Fit(train, validation, settings, Start, IterationFinished, cancel, IterationFitted);
    }

    private DivergenceAdvice Divergence =>
        new("svd++", $"Lower learningRate (now {Options.LearningRate:G}), e.g. tenfold, or raise lambda (now {Options.Lambda:G}) and biasLambda (now {Options.BiasLambda:G}).");

    private Func<int, LatentFactorModel> Start(Interactions train)
    {
        var state = new SvdPlusPlusState(Options.ApproximationRank, UserItemMatrix.ByUser(train), (float)train.Rating.Average(r => (double)r), Options.InitialScale, new Random(Options.Seed));
        var random = new Random(Seeds.Mix(Options.Seed, 3));
        var users = Enumerable.Range(0, state.Ratings.Rows).ToArray();
        var visit = new int[users.Max(state.Ratings.RowLength)];
        return epoch =>
        {
            var lr = (float)(Options.LearningRate * Math.Pow(Options.LearningRateDecay, epoch - 1));
            BlockSchedule.Shuffle(users, random);
            foreach (var user in users)
            {
                var order = visit.AsSpan(0, state.Ratings.RowLength(user));
                for (var c = 0; c < order.Length; c++) order[c] = c;
                BlockSchedule.Shuffle(order, random);
                state.UserStep(user, order, lr, (float)Options.Lambda, (float)Options.BiasLambda);
            }
            return state.Model();
        };
    }
}

/// <summary>The parameters of an SVD++ fit and its SGD step (internal so that tests can check the step against the loss's gradient).</summary>
internal sealed class SvdPlusPlusState
{
    public SvdPlusPlusState(int rank, UserItemMatrix ratings, float mean, double initialScale, Random random)
    {
        Rank = rank;
        Ratings = ratings;
        Mean = mean;
        P = FactorizationMath.Gaussian(ratings.Rows * rank, initialScale, random);
        Q = FactorizationMath.Gaussian(ratings.Columns * rank, initialScale, random);
        Y = FactorizationMath.Gaussian(ratings.Columns * rank, initialScale, random);
        UserBias = new float[ratings.Rows];
        ItemBias = new float[ratings.Columns];
    }

    public int Rank { get; }
    /// <summary>Users' training ratings; a user's items are also N(u).</summary>
    public UserItemMatrix Ratings { get; }
    public float Mean { get; }
    public float[] P { get; }
    public float[] Q { get; }
    public float[] Y { get; }
    public float[] UserBias { get; }
    public float[] ItemBias { get; }

    /// <summary>z_u = |N(u)|^−½ Σ_{j∈N(u)} y_j.</summary>
    public void ImplicitSum(int user, Span<float> z)
    {
        z.Clear();
        var items = Ratings.RowIndices(user);
        if (items.Length == 0) return;
        foreach (var j in items) DenseMath.AddScaled(z, 1, Y.AsSpan(j * Rank, Rank));
        var scale = 1 / MathF.Sqrt(items.Length);
        for (var f = 0; f < z.Length; f++) z[f] *= scale;
    }

    /// <summary>
    /// Koren's SGD over the ratings of <paramref name="user"/>, in <paramref name="order"/> (positions in the user's row).
    /// z_u follows every step exactly (z += γ(e q_i − λ z), the sum of the y_j steps); the y_j themselves receive the
    /// accumulated steps at the end: after n ratings y_j = (1 − γλ)ⁿ y_j + γ|N|^−½ Σ_t (1 − γλ)^(n−t) e_t q_(i_t).
    /// </summary>
    public void UserStep(int user, ReadOnlySpan<int> order, float lr, float lambda, float biasLambda)
    {
        var k = Rank;
        var items = Ratings.RowIndices(user);
        var values = Ratings.RowValues(user);
        if (items.Length == 0) return;
        Span<float> z = stackalloc float[k];
        Span<float> pz = stackalloc float[k];
        Span<float> accumulated = stackalloc float[k];
        Span<float> qOld = stackalloc float[k];
        ImplicitSum(user, z);
        accumulated.Clear();
        var decay = 1 - lr * lambda;
        var pu = P.AsSpan(user * k, k);
        foreach (var c in order)
        {
            var i = items[c];
            var qi = Q.AsSpan(i * k, k);
            for (var f = 0; f < k; f++) pz[f] = pu[f] + z[f];
            var error = values[c] - (Mean + UserBias[user] + ItemBias[i] + DenseMath.Dot(qi, pz));
            UserBias[user] += lr * (error - biasLambda * UserBias[user]);
            ItemBias[i] += lr * (error - biasLambda * ItemBias[i]);
            qi.CopyTo(qOld);
            for (var f = 0; f < k; f++)
            {
                qi[f] = decay * qi[f] + lr * error * pz[f];
                pu[f] = decay * pu[f] + lr * error * qOld[f];
                z[f] = decay * z[f] + lr * error * qOld[f];
                accumulated[f] = decay * accumulated[f] + error * qOld[f];
            }
        }
        var shrink = MathF.Pow(decay, order.Length);
        var step = lr / MathF.Sqrt(items.Length);
        foreach (var j in items)
        {
            var yj = Y.AsSpan(j * k, k);
            for (var f = 0; f < k; f++) yj[f] = shrink * yj[f] + step * accumulated[f];
        }
    }

    /// <summary>The fitted form: user factors p_u + z_u, so that scoring is a plain dot product.</summary>
    public LatentFactorModel Model()
    {
        var users = new float[P.Length];
        for (var u = 0; u < Ratings.Rows; u++)
        {
            var row = users.AsSpan(u * Rank, Rank);
            ImplicitSum(u, row);
            DenseMath.AddScaled(row, 1, P.AsSpan(u * Rank, Rank));
        }
        return new LatentFactorModel(Rank, users, (float[])Q.Clone(), (float[])UserBias.Clone(), (float[])ItemBias.Clone(), Mean);
    }
}
