using Experiments.Core.Models;

namespace Experiments.Tests.Evaluation;

/// <summary>A model given by a function (user, item) → score, which is also its predicted rating.</summary>
internal sealed class Predictions(Func<int, int, float> rating) : IRecommenderModel
{
    public void ScoreItems(int user, Span<float> scores) { for (var i = 0; i < scores.Length; i++) scores[i] = rating(user, i); }
    public bool PredictsRatings => true;
    public float PredictRating(int user, int item) => rating(user, item);
}
