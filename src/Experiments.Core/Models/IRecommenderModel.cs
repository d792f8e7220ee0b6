namespace Experiments.Core.Models;

/// <summary>
/// A fitted recommender as the evaluator sees it: a score for every item for a user (higher is better), and, for
/// models that predict ratings, a rating for a user–item pair. Users and items are the dense indices of the
/// data set's id maps.
/// </summary>
public interface IRecommenderModel
{
    /// <summary>Writes a score for every item (scores.Length = number of items) for <paramref name="user"/>.</summary>
    void ScoreItems(int user, Span<float> scores);

    /// <summary>True when <see cref="PredictRating"/> gives ratings on the data's scale (rating-prediction task).</summary>
    bool PredictsRatings { get; }

    float PredictRating(int user, int item);

    /// <summary>
    /// False when training took a parallel path whose result depends on thread timing (an explicit opt-in such as
    /// Hogwild SGD), so the same seed need not give the same bits again; runs should record it.
    /// </summary>
    bool IsReproducible => true;
}

/// <summary>
/// A model that scores many users at once faster than one by one (latent-factor models: a matrix product of a block
/// of users with the item factors). The evaluator uses it when a model offers it.
/// </summary>
public interface IBatchScorer
{
    /// <summary>Writes users.Length rows of item scores, row-major: scores[u · items + i].</summary>
    void ScoreItems(ReadOnlySpan<int> users, Span<float> scores);
}
