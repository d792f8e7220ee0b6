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
}
