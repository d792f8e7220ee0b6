using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Recommenders.Factorization;

namespace Experiments.Tests.Recommenders;

/// <summary>SGD trainers pushed past stability stop with an error that names the model, the epoch and the remedy, never a NaN model.</summary>
[TestClass]
public sealed class DivergenceTests
{
    private static Interactions Ratings(bool ratings = true)
    {
        var random = new Random(3);
        var builder = new InteractionsBuilder(hasRatings: ratings);
        var seen = new HashSet<(int, int)>();
        while (builder.Count < 400)
        {
            int u = random.Next(30), i = random.Next(25);
            if (seen.Add((u, i))) builder.Add($"u{u}", $"i{i}", ratings ? 1 + random.Next(5) : 1);
        }
        return builder.Build();
    }

    [TestMethod]
    public void Sgd_matrix_factorization_with_a_step_too_large_names_the_epoch_it_diverged_at()
    {
        // λ·lr = 10 multiplies a factor by about −9 per update: the factors overflow within the first epochs.
        var trainer = new MatrixFactorizationTrainer(new MatrixFactorizationOptions { Solver = MatrixFactorizationSolver.Sgd, LearningRate = 100, Lambda = 0.1, EarlyStoppingRounds = 0, NumberOfIterations = 20 });
        var finished = 0;
        trainer.IterationFinished += (epoch, rmse, _) => { finished = epoch; Assert.IsTrue(double.IsFinite(rmse), "no epoch reports a non-finite RMSE"); };
        var error = Assert.ThrowsExactly<ExperimentsException>(() => trainer.Fit(Ratings(), null));
        StringAssert.StartsWith(error.Message, $"matrix-factorization (SGD) diverged at epoch {finished + 1}: its training RMSE is ");
        StringAssert.Contains(error.Message, "Lower learningRate (now 100)");
        StringAssert.Contains(error.Message, "raise lambda (now 0.1)");
        Assert.IsLessThan(20, finished + 1, "it stopped at the divergence, not at the end");
    }

    [TestMethod]
    public void Svd_plus_plus_with_a_step_too_large_is_a_clear_error()
    {
        var trainer = new SvdPlusPlusTrainer(new SvdPlusPlusOptions { LearningRate = 100, Lambda = 0.1, EarlyStoppingRounds = 0, NumberOfIterations = 20 });
        var finished = 0;
        trainer.IterationFinished += (epoch, _, _) => finished = epoch;
        var error = Assert.ThrowsExactly<ExperimentsException>(() => trainer.Fit(Ratings(), null));
        StringAssert.StartsWith(error.Message, $"svd++ diverged at epoch {finished + 1}: its training RMSE is ");
        StringAssert.Contains(error.Message, "Lower learningRate (now 100)");
    }

    [TestMethod]
    public void Bpr_with_a_step_too_large_is_a_clear_error_and_a_sane_one_trains()
    {
        // λ·lr = 2500: each touched factor is multiplied by about −2499, so float32 overflows within an epoch.
        var error = Assert.ThrowsExactly<ExperimentsException>(() => new BprTrainer(new BprOptions { LearningRate = 1e6, Lambda = 0.0025, NumberOfIterations = 5 }).Fit(Ratings(ratings: false)));
        StringAssert.StartsWith(error.Message, "bpr diverged at epoch 1: its scores x̂_uij became infinite or NaN");
        StringAssert.Contains(error.Message, "Lower learningRate (now 1000000)");
        StringAssert.Contains(error.Message, "raise lambda (now 0.0025)");
        var model = (Experiments.Recommenders.LatentFactorModel)new BprTrainer(new BprOptions { ApproximationRank = 4, NumberOfIterations = 5 }).Fit(Ratings(ratings: false));
        Assert.IsTrue(model.ItemFactors.All(float.IsFinite));
    }

    [TestMethod]
    public void Early_stopping_hold_out_fits_are_checked_too()
    {
        // Default early stopping: the hold-out fit diverges first, and is reported as the model's divergence.
        var error = Assert.ThrowsExactly<ExperimentsException>(() => new MatrixFactorizationTrainer(new MatrixFactorizationOptions { Solver = MatrixFactorizationSolver.Sgd, LearningRate = 100 }).Fit(Ratings(), null));
        StringAssert.StartsWith(error.Message, "matrix-factorization (SGD) diverged at epoch ");
    }
}
