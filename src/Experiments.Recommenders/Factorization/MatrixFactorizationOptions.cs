using Experiments.Core;

namespace Experiments.Recommenders.Factorization;

public enum MatrixFactorizationSolver { Als, Sgd }

/// <summary>
/// Options of explicit-rating matrix factorisation with biases: r̂(u,i) = μ + b_u + b_i + p_u · q_i. Names follow
/// ML.NET's MatrixFactorizationTrainer.Options where they mean the same (ApproximationRank, NumberOfIterations,
/// LearningRate, Lambda, NonNegative, NumberOfThreads).
/// </summary>
public sealed record MatrixFactorizationOptions : SeededOptions
{
    public static readonly MatrixFactorizationOptions Defaults = new();

    public MatrixFactorizationSolver Solver { get; init; } = MatrixFactorizationSolver.Als;
    /// <summary>Rank k of the factors.</summary>
    public int ApproximationRank { get; init; } = 32;
    public int NumberOfIterations { get; init; } = 15;
    /// <summary>SGD step size (ALS ignores it).</summary>
    public double LearningRate { get; init; } = 0.01;
    /// <summary>L2 on the factors. ALS scales it by each user's (item's) number of ratings (ALS-WR); SGD applies it per update.</summary>
    public double Lambda { get; init; } = 0.1;
    /// <summary>L2 on the biases, scaled like <see cref="Lambda"/>.</summary>
    public double BiasLambda { get; init; } = 0.1;
    /// <summary>Keep factors ≥ 0 (projected after each update).</summary>
    public bool NonNegative { get; init; }
    /// <summary>Fit user and item biases (off: r̂ = μ + p_u · q_i).</summary>
    public bool UseBiases { get; init; } = true;
    /// <summary>Standard deviation of the seeded normal initialisation of the factors.</summary>
    public double InitialScale { get; init; } = 0.1;
    /// <summary>Threads: over users/items for ALS, over disjoint rating blocks for SGD. Results do not depend on it (except with <see cref="Hogwild"/>).</summary>
    public int NumberOfThreads { get; init; } = Environment.ProcessorCount;
    /// <summary>
    /// SGD: users and items are each dealt into this many groups; an epoch updates the blocks of a fixed, seeded schedule,
    /// those of one step in parallel (they share no user and no item). Part of what the result depends on, like the seed.
    /// </summary>
    public int SgdStrata { get; init; } = 16;
    /// <summary>
    /// SGD: lock-free parallel updates over one shuffled order (Hogwild!, Niu et al. 2011) instead of the block schedule.
    /// Opt-in: with more than one thread the result depends on thread timing, and the model says so (<c>IsReproducible</c> false).
    /// </summary>
    public bool Hogwild { get; init; }
    /// <summary>
    /// Stop when validation RMSE has not improved for this many iterations (0: run every iteration); <see cref="NumberOfIterations"/>
    /// is then the most. With validation rows from the caller the best iteration's model is kept; without them
    /// <see cref="ValidationFraction"/> of the training pairs is held out to find the best iteration, and the model is
    /// refitted on every pair for that many iterations.
    /// </summary>
    public int EarlyStoppingRounds { get; init; } = 3;
    /// <summary>The seeded share of training pairs held out for early stopping when no validation rows are given.</summary>
    public double ValidationFraction { get; init; } = 0.1;
}
