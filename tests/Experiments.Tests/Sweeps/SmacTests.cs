using Experiments.Sweeps;
using Experiments.Sweeps.Tuners;

namespace Experiments.Tests.Sweeps;

/// <summary>The parts of SMAC taken from SMAC3's HPO facade, against values worked out by hand.</summary>
[TestClass]
public sealed class SmacTests
{
    [TestMethod]
    public void Losses_are_log_scaled_below_the_worst_by_the_distance_to_the_5th_percentile()
    {
        // numpy's 5th percentile of 1, 2, 3, 5, 11 is 1 + 0.05·4·(2 − 1) = 1.2, so the floor is 1 − 0.2 = 0.8 and the
        // scaled losses are (y − 0.8) / (11 − 0.8).
        var scaled = SmacTuner.LogScaled([1, 2, 3, 5, 11]);
        double[] expected = [Math.Log(0.2 / 10.2), Math.Log(1.2 / 10.2), Math.Log(2.2 / 10.2), Math.Log(4.2 / 10.2), 0];
        for (var i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], scaled[i], 1e-8);
    }

    [TestMethod]
    public void Equal_losses_scale_to_zero()
    {
        foreach (var v in SmacTuner.LogScaled([0.5, 0.5, 0.5])) Assert.AreEqual(0, v, 1e-12);
    }

    [TestMethod]
    public void Log_expected_improvement_is_the_improvement_of_the_losses_themselves()
    {
        // Y ~ N(0, 1), η = 0: E[max(0, 1 − e^Y)] = Φ(0) − e^½ Φ(−1) = 0.5 − 1.6487213 · 0.1586553.
        Assert.AreEqual(0.5 - Math.Exp(0.5) * 0.15865525393, SmacTuner.ExpectedImprovement(0, 1, 0, log: true), 1e-9);
        // Y ~ N(−0.3, 0.5²), η = ln 0.8: E[max(0, 0.8 − e^Y)] by quadrature (scipy.integrate.quad) = 0.14283018.
        Assert.AreEqual(0.14283018, SmacTuner.ExpectedImprovement(-0.3, 0.25, Math.Log(0.8), log: true), 1e-7);
        // No spread: the improvement itself, e^η − e^m when positive.
        Assert.AreEqual(0.8 - Math.Exp(-0.3), SmacTuner.ExpectedImprovement(-0.3, 0, Math.Log(0.8), log: true), 1e-12);
        Assert.AreEqual(0, SmacTuner.ExpectedImprovement(0, 0, Math.Log(0.8), log: true));
    }

    [TestMethod]
    public void Plain_expected_improvement_is_the_normal_formula()
    {
        // m = 0.2, σ = 0.5, η = 0: z = −0.4, EI = −0.2 Φ(−0.4) + 0.5 φ(−0.4) = −0.2 · 0.3445783 + 0.5 · 0.3682701.
        Assert.AreEqual(-0.2 * 0.34457825839 + 0.5 * 0.36827014030, SmacTuner.ExpectedImprovement(0.2, 0.25, 0, log: false), 1e-9);
    }

    [TestMethod]
    public void Split_thresholds_fall_uniformly_between_the_observations()
    {
        // Two observations, y(0.2) = 0 and y(0.6) = 1, every tree on both (no bootstrap): each tree splits at a
        // threshold uniform in [0.2, 0.6), so at 0.3 a tree predicts 1 with probability 1/4 — the forest's mean is 1/4
        // and its variance 1/4 · 3/4; at 0.5 the mean is 3/4. (A midpoint threshold would give 0 and 1 with no spread.)
        var forest = RegressionForest.Fit([[0.2], [0.6]], [0, 1], [0], new ForestSettings { Trees = 4000, Bootstrap = false }, new SweepRandom(7));
        var (mean, variance) = forest.Predict([0.3]);
        Assert.AreEqual(0.25, mean, 0.03);
        Assert.AreEqual(0.1875, variance, 0.03);
        Assert.AreEqual(0.75, forest.Predict([0.5]).Mean, 0.03);
        Assert.AreEqual(0, forest.Predict([0.2]).Mean);
        Assert.AreEqual(1, forest.Predict([0.6]).Mean);
    }

    [TestMethod]
    public void Fully_grown_trees_fit_every_observation()
    {
        // SMAC3's HPO settings (leaves of one sample, every feature): without bootstrap each tree reproduces the data.
        double[][] x = [[0.1, 0.9], [0.4, 0.2], [0.7, 0.5], [0.9, 0.8]];
        double[] y = [3, 1, 4, 1.5];
        var forest = RegressionForest.Fit(x, y, [0, 0], new ForestSettings { Bootstrap = false }, new SweepRandom(3));
        for (var i = 0; i < x.Length; i++)
        {
            var (mean, variance) = forest.Predict(x[i]);
            Assert.AreEqual(y[i], mean, 1e-12);
            Assert.AreEqual(0, variance, 1e-12);
        }
    }

    [TestMethod]
    public void The_random_start_is_a_quarter_of_the_trial_budget_and_at_most_ten()
    {
        // ⌊budget / 4⌋ within [1, 10]; no trial budget (a wall-time one): 10.
        Assert.AreEqual((5, 10, 10, 2, 1, 10), (SmacSettings.DefaultStartupTrials(20), SmacSettings.DefaultStartupTrials(40), SmacSettings.DefaultStartupTrials(100),
            SmacSettings.DefaultStartupTrials(11), SmacSettings.DefaultStartupTrials(3), SmacSettings.DefaultStartupTrials(null)));
        var space = new SearchSpaceBuilder().Float("x", -1, 1).Float("y", -1, 1).Build();
        double F(ParameterSet p) => Math.Pow(p.Number("x") - 0.3, 2) + Math.Pow(p.Number("y") + 0.5, 2);
        List<ParameterSet> Proposals(ITuner tuner) => TunerTests.Minimise(tuner, F, 8).Select(r => r.Parameters).ToList();
        // The start is random search's own proposals (the same seed draws the same points); the model proposes after it.
        var random = Proposals(new RandomTuner(space, 3));
        var twenty = Proposals(new SmacTuner(space, 3, trialBudget: 20));
        CollectionAssert.AreEqual(random.Take(5).ToList(), twenty.Take(5).ToList());
        Assert.AreNotEqual(random[5], twenty[5]);
        CollectionAssert.AreEqual(random, Proposals(new SmacTuner(space, 3, trialBudget: 100)), "a 100-trial budget starts with 10");
        // A start given in the settings is kept whatever the budget, and the description says what the tuner does.
        var given = new SmacTuner(space, 3, new SmacSettings { StartupTrials = 10 }, trialBudget: 20);
        CollectionAssert.AreEqual(random, Proposals(given));
        StringAssert.StartsWith(given.Description, "smac(startup=10,");
        StringAssert.StartsWith(new SmacTuner(space, 3, trialBudget: 20).Description, "smac(startup=5,");
    }
}
