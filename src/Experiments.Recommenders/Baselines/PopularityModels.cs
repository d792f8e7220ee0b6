using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;

namespace Experiments.Recommenders.Baselines;

/// <summary>Scores every item by its number of training interactions, the same for every user.</summary>
public sealed class MostPopularTrainer : IRecommenderTrainer
{
    public IRecommenderModel Fit(Interactions train, CancellationToken cancel = default)
    {
        Guard.NotEmpty(train);
        var counts = new float[train.Items.Count];
        foreach (var item in train.Item) counts[item]++;
        return new FixedScoreModel(counts);
    }
}

/// <summary>The same score vector for every user (most-popular; the ranking side of the bias model).</summary>
public sealed class FixedScoreModel(float[] scores) : IRecommenderModel
{
    public float[] Scores { get; } = scores;
    public void ScoreItems(int user, Span<float> scores) => Scores.CopyTo(scores);
    public bool PredictsRatings => false;
    public float PredictRating(int user, int item) => throw new NotSupportedException("This model ranks items; it does not predict ratings.");
}

/// <summary>A seeded random order per user: the floor any model must clear.</summary>
public sealed class RandomTrainer(int seed) : IRecommenderTrainer
{
    public IRecommenderModel Fit(Interactions train, CancellationToken cancel = default)
    {
        Guard.NotEmpty(train);
        return new RandomModel(seed);
    }

    private sealed class RandomModel(int seed) : IRecommenderModel
    {
        // Seeded by (seed, user) so a user's order does not depend on which thread or in which order users are scored.
        public void ScoreItems(int user, Span<float> scores)
        {
            var random = new Random(Seeds.Mix(seed, user));
            for (var i = 0; i < scores.Length; i++) scores[i] = (float)random.NextDouble();
        }

        public bool PredictsRatings => false;
        public float PredictRating(int user, int item) => throw new NotSupportedException("The random model does not predict ratings.");
    }
}

/// <summary>Predicts the mean training rating for every user–item pair.</summary>
public sealed class GlobalMeanTrainer : IRecommenderTrainer
{
    public IRecommenderModel Fit(Interactions train, CancellationToken cancel = default)
    {
        train = Guard.TrainingRatings(train, "global-mean");
        return new BiasModel((float)train.Rating.Average(r => (double)r), new float[train.Users.Count], new float[train.Items.Count]);
    }
}

internal static class Guard
{
    public static void NotEmpty(Interactions train)
    {
        if (train.Count == 0) throw new ExperimentsException("The training set is empty: there is nothing to fit. Check the split fractions and the data set.");
    }

    /// <summary>Rating models learn from rating values; on implicit data every value is 1 and they would learn nothing.</summary>
    public static void HasRatings(Interactions train, string model)
    {
        if (!train.HasRatings)
            throw new ExperimentsException($"Model '{model}' learns from ratings, but this interaction table has none (implicit feedback); use a table with ratings, or a ranking model such as most-popular or item-knn.");
    }

    /// <summary>
    /// The checked ratings a rating model fits: not empty, explicit, finite, and each repeated (user, item) pair
    /// averaged into one row (<see cref="DuplicateRatings"/>).
    /// </summary>
    public static Interactions TrainingRatings(Interactions train, string model)
    {
        NotEmpty(train);
        HasRatings(train, model);
        FiniteRatings(train);
        return DuplicateRatings.Averaged(train);
    }

    public static void FiniteRatings(Interactions train)
    {
        for (var r = 0; r < train.Count; r++)
            if (!float.IsFinite(train.Rating[r]))
                throw new ExperimentsException($"Training row {r} (user '{train.Users[train.User[r]]}', item '{train.Items[train.Item[r]]}') has rating {train.Rating[r]}; ratings must be finite numbers.");
    }
}
