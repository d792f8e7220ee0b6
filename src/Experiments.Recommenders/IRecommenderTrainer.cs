using Experiments.Core.Data;
using Experiments.Core.Models;

namespace Experiments.Recommenders;

/// <summary>Fits a recommender on training interactions.</summary>
public interface IRecommenderTrainer
{
    IRecommenderModel Fit(Interactions train, CancellationToken cancel = default);
}
