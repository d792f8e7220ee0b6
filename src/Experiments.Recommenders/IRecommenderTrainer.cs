using Experiments.Core.Data;
using Experiments.Core.Models;

namespace Experiments.Recommenders;

/// <summary>Fits a recommender on training interactions.</summary>
public interface IRecommenderTrainer
{
    IRecommenderModel Fit(Interactions train, CancellationToken cancel = default);
}

/// <summary>A trainer that watches held-out data while fitting (early stopping).</summary>
public interface IValidatedTrainer : IRecommenderTrainer
{
    IRecommenderModel Fit(Interactions train, Interactions? validation, CancellationToken cancel = default);

    /// <summary>
    /// Whether <see cref="Fit(Interactions, Interactions?, CancellationToken)"/> keeps the iteration that does best on
    /// the validation rows (early stopping on): rows given to it are then chosen on, and must not be rows a model is scored on.
    /// </summary>
    bool StopsEarly { get; }
}

/// <summary>
/// A fitted model that reports facts of its fit a run records beside the trial's parameters (for EASE: how many items
/// it modelled, under which cap, in which precision).
/// </summary>
public interface IFitFacts
{
    IReadOnlyDictionary<string, string> Facts { get; }
}

/// <summary>
/// A trainer that reports each iteration as it finishes: (iteration, training RMSE, validation RMSE or NaN). Runs
/// record these as the trial's training curve.
/// </summary>
public interface IIterationReporter
{
    event Action<int, double, double>? IterationFinished;
}

/// <summary>
/// A trainer that shows its model after each iteration (an ALS sweep, a BPR epoch), so that a caller can score it as
/// training goes — a sweep's pruner watching a ranking metric. The model shares the trainer's arrays: it is valid only
/// during the call (training goes on in them afterwards) and must not be changed. A handler that throws stops the fit.
/// </summary>
public interface IIterationModels
{
    /// <summary>The iterations a fit runs.</summary>
    int Iterations { get; }

    event Action<int, IRecommenderModel>? IterationFitted;
}
