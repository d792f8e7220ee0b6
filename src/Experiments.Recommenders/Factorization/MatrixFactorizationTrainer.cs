using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders.Linear;

namespace Experiments.Recommenders.Factorization;

/// <summary>
/// Matrix factorisation of explicit ratings with user and item biases, by alternating least squares or by stochastic
/// gradient descent. ALS solves, for each user in turn (then each item), the ridge regression of its ratings minus μ
/// and the other side's bias on the other side's factors, with the bias as an extra column: an exact minimisation
/// of the regularised squared error in that block.
/// </summary>
public sealed class MatrixFactorizationTrainer(MatrixFactorizationOptions options) : IValidatedTrainer, IIterationReporter, IIterationModels
{
    public MatrixFactorizationOptions Options { get; } = options;

    /// <summary>Progress per iteration: (iteration, training RMSE, validation RMSE or NaN).</summary>
    public event Action<int, double, double>? IterationFinished;

    public int Iterations => Options.NumberOfIterations;

    /// <summary>Each iteration's model of the fit that is returned (with early stopping on a hold-out share, its refit's).</summary>
    public event Action<int, IRecommenderModel>? IterationFitted;

    public IRecommenderModel Fit(Interactions train, CancellationToken cancel = default) => Fit(train, null, cancel);

    /// <summary>Root mean squared error of a fitted model's ratings on <paramref name="data"/> (what early stopping watches).</summary>
    public static double Rmse(LatentFactorModel model, Interactions data) => FactorizationMath.Rmse(model, data);

    /// <summary>False only for Hogwild SGD on more than one thread: every other configuration gives the same bits under a seed.</summary>
    public bool IsReproducible => !(Options.Solver == MatrixFactorizationSolver.Sgd && Options.Hogwild && Options.NumberOfThreads > 1);

    IRecommenderModel IValidatedTrainer.Fit(Interactions train, Interactions? validation, CancellationToken cancel) => Fit(train, validation, cancel);

    public bool StopsEarly => Options.EarlyStoppingRounds > 0;

    /// <summary>
    /// Fits on <paramref name="train"/>, stopping early on <paramref name="validation"/> when given, otherwise on a
    /// seeded share of the training pairs (then refitted on all of them; see <see cref="MatrixFactorizationOptions.EarlyStoppingRounds"/>).
    /// </summary>
    public LatentFactorModel Fit(Interactions train, Interactions? validation, CancellationToken cancel = default)
    {
        train = Guard.TrainingRatings(train, "matrix-factorization");
        FactorizationMath.CheckRank(Options.ApproximationRank, Options.NumberOfIterations);
        var settings = new EarlyStoppingSettings(Options.NumberOfIterations, Options.EarlyStoppingRounds, Options.ValidationFraction, Options.Seed, Divergence);
        return EarlyStopping.Fit(train, validation, settings, data => Start(data, cancel), IterationFinished, cancel, IterationFitted);
    }

    private DivergenceAdvice Divergence => Options.Solver == MatrixFactorizationSolver.Sgd
        ? new("matrix-factorization (SGD)", $"Lower learningRate (now {Options.LearningRate:G}), e.g. tenfold, or raise lambda (now {Options.Lambda:G}) and biasLambda (now {Options.BiasLambda:G}).")
        : new("matrix-factorization (ALS)", $"Raise lambda (now {Options.Lambda:G}) and biasLambda (now {Options.BiasLambda:G}).");

    /// <summary>A fresh fit on <paramref name="train"/>: seeded factors, zero biases; returns the step of one iteration.</summary>
    private Func<int, LatentFactorModel> Start(Interactions train, CancellationToken cancel)
    {
        var k = Options.ApproximationRank;
        var random = new Random(Options.Seed);
        var users = train.Users.Count;
        var items = train.Items.Count;
        var p = FactorizationMath.Gaussian(users * k, Options.InitialScale, random);
        var q = FactorizationMath.Gaussian(items * k, Options.InitialScale, random);
        if (Options.NonNegative) { Abs(p); Abs(q); }
        var bu = new float[users];
        var bi = new float[items];
        var mean = (float)train.Rating.Average(r => (double)r);
        var model = new LatentFactorModel(k, p, q, bu, bi, mean) { IsReproducible = IsReproducible };
        if (Options.Solver == MatrixFactorizationSolver.Als)
        {
            var byUser = UserItemMatrix.ByUser(train);
            var byItem = UserItemMatrix.ByItem(train);
            return _ =>
            {
                SolveSide(byUser, p, bu, q, bi, mean, cancel);
                SolveSide(byItem, q, bi, p, bu, mean, cancel);
                return model;
            };
        }
        var order = Enumerable.Range(0, train.Count).ToArray();
        var blocks = Options.Hogwild ? null : new BlockSchedule(train.User, train.Item, users, items, Options.SgdStrata, Seeds.Mix(Options.Seed, 1));
        return iteration =>
        {
            SgdEpoch(iteration, train, blocks, order, random, p, q, bu, bi, mean, cancel);
            return model;
        };
    }

    /// <summary>One ALS half-step: every row (user or item) solved exactly with the other side fixed.</summary>
    private void SolveSide(UserItemMatrix rows, float[] factors, float[] bias, float[] other, float[] otherBias, float mean, CancellationToken cancel)
    {
        var k = Options.ApproximationRank;
        var n = Options.UseBiases ? k + 1 : k;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Options.NumberOfThreads), CancellationToken = cancel };
        Parallelism.For(0, rows.Rows, parallel, () => (Gram: new float[n * n], A: new double[n * n], B: new double[n], Y: new float[n]), (row, _, buffers) =>
        {
            var count = rows.RowLength(row);
            var x = factors.AsSpan(row * k, k);
            if (count == 0)
            {
                x.Clear();
                bias[row] = 0;
                return buffers;
            }
            var (gram, a, b, y) = buffers;
            Array.Clear(gram);
            Array.Clear(b);
            var columns = rows.RowIndices(row);
            var values = rows.RowValues(row);
            // Accumulate [y 1]ᵀ[y 1] and [y 1]ᵀ·target with SIMD rank-1 updates in float, then solve in double.
            for (var c = 0; c < columns.Length; c++)
            {
                other.AsSpan(columns[c] * k, k).CopyTo(y);
                if (Options.UseBiases) y[k] = 1;
                var target = values[c] - mean - (Options.UseBiases ? otherBias[columns[c]] : 0);
                for (var i = 0; i < n; i++)
                {
                    DenseMath.AddScaled(gram.AsSpan(i * n, n), y[i], y);
                    b[i] += y[i] * target;
                }
            }
            for (var i = 0; i < a.Length; i++) a[i] = gram[i];
            for (var i = 0; i < k; i++) a[i * n + i] += Options.Lambda * count;
            if (Options.UseBiases) a[k * n + k] += Options.BiasLambda * count;
            if (!DenseMath.CholeskySolve(a, b, n))
                throw new ExperimentsException("The ALS normal equations are not positive definite; raise lambda above 0.");
            for (var i = 0; i < k; i++) x[i] = Options.NonNegative ? (float)Math.Max(0, b[i]) : (float)b[i];
            bias[row] = Options.UseBiases ? (float)b[k] : 0;
            return buffers;
        }, _ => { });
    }

    /// <summary>
    /// One SGD epoch. By default the fixed block schedule (<see cref="BlockSchedule"/>): reproducible bit for bit under a
    /// seed with any number of threads. With <see cref="MatrixFactorizationOptions.Hogwild"/>, each thread takes a slice
    /// of one shuffled order and updates the shared factors without locks (Niu et al. 2011): the result then depends
    /// on thread timing.
    /// </summary>
    private void SgdEpoch(int epoch, Interactions train, BlockSchedule? blocks, int[] order, Random random, float[] p, float[] q, float[] bu, float[] bi, float mean, CancellationToken cancel)
    {
        var threads = Math.Max(1, Options.NumberOfThreads);
        if (blocks is not null)
        {
            blocks.Epoch(epoch, threads, rows =>
            {
                foreach (var r in rows) SgdStep(train, r, p, q, bu, bi, mean);
            }, cancel);
            return;
        }
        BlockSchedule.Shuffle(order, random);
        var chunk = (order.Length + threads - 1) / threads;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancel }, t =>
        {
            for (var o = t * chunk; o < Math.Min(order.Length, (t + 1) * chunk); o++) SgdStep(train, order[o], p, q, bu, bi, mean);
        });
    }

    /// <summary>The SGD update of one rating: biases and both factor rows move along the negative gradient of its regularised squared error.</summary>
    private void SgdStep(Interactions train, int r, float[] p, float[] q, float[] bu, float[] bi, float mean)
    {
        var k = Options.ApproximationRank;
        var lr = (float)Options.LearningRate;
        int u = train.User[r], i = train.Item[r];
        var pu = p.AsSpan(u * k, k);
        var qi = q.AsSpan(i * k, k);
        var error = train.Rating[r] - (mean + (Options.UseBiases ? bu[u] + bi[i] : 0) + DenseMath.Dot(pu, qi));
        if (Options.UseBiases)
        {
            var biasLambda = (float)Options.BiasLambda;
            bu[u] += lr * (error - biasLambda * bu[u]);
            bi[i] += lr * (error - biasLambda * bi[i]);
        }
        DenseMath.GradientStep(pu, qi, lr * error, 1 - lr * (float)Options.Lambda);
        if (Options.NonNegative)
        {
            ClampAtZero(pu);
            ClampAtZero(qi);
        }
    }

    private static void ClampAtZero(Span<float> values)
    {
        for (var f = 0; f < values.Length; f++) if (values[f] < 0) values[f] = 0;
    }

    private static void Abs(float[] values)
    {
        for (var i = 0; i < values.Length; i++) values[i] = Math.Abs(values[i]);
    }
}
