using Experiments.Sweeps;
using Experiments.Sweeps.Tuners;

namespace Experiments.Tests.Sweeps;

[TestClass]
public sealed class AnalysisTests
{
    [TestMethod]
    public void Fanova_of_a_hand_built_tree_matches_the_variance_decomposition()
    {
        // x ≤ ½ → 0; x > ½ → (y ≤ ½ → 0, y > ½ → 4). Mean 1, variance ½·1 + ¼·1 + ¼·9 = 3.
        // Marginal in x: 0 on [0, ½], 2 on [½, 1] → variance 1; in y: 0 on [0, ½], 2 on [½, 1] → variance 1. Each explains 1/3.
        var tree = new RegressionTree();
        var root = tree.Add(1);
        var left = tree.Add(0);
        var right = tree.Add(2);
        var rightLow = tree.Add(0);
        var rightHigh = tree.Add(4);
        (tree.Feature[root], tree.Threshold[root], tree.Left[root], tree.Right[root]) = (0, 0.5, left, right);
        (tree.Feature[right], tree.Threshold[right], tree.Left[right], tree.Right[right]) = (1, 0.5, rightLow, rightHigh);
        var fractions = Fanova.TreeFractions(tree, [0, 0])!;
        Assert.AreEqual(1 / 3.0, fractions[0], 1e-12);
        Assert.AreEqual(1 / 3.0, fractions[1], 1e-12);
    }

    [TestMethod]
    public void Fanova_ranks_parameters_by_the_variance_they_explain()
    {
        // f = 2x + y + 0·z with x, y, z uniform on [0, 1]: var(2x) = 4/12, var(y) = 1/12, so x explains 4/5, y 1/5, z nothing.
        var space = new SearchSpaceBuilder().Float("x", 0, 1).Float("y", 0, 1).Choice("z", "a", "b", "c").Build();
        var tuner = new RandomTuner(space, 3);
        var trials = Enumerable.Range(0, 400).Select(n =>
        {
            var p = tuner.Propose(new SweepHistory(n, [], []))!;
            var v = 2 * p.Number("x") + p.Number("y");
            return new TrialResult { Number = n, Parameters = p, Seed = 0, Status = TrialStatus.Completed, Value = v, Loss = v };
        }).ToList();
        var result = new SweepResult(1, SweepStop.TrialBudget, space, new SweepObjective("f"), trials, TimeSpan.Zero);
        var importance = result.Importance().ToDictionary(i => i.Parameter);
        Assert.AreEqual(0.8, importance["x"].Importance, 0.08);
        Assert.AreEqual(0.2, importance["y"].Importance, 0.08);
        Assert.AreEqual(0.0, importance["z"].Importance, 0.03);
        Assert.AreEqual(0.8, importance["x"].VarianceFraction, 0.1, "an additive function: main effects explain nearly all");
        Assert.IsTrue(importance.Values.All(i => i.Scope is null && i.Trials == 400));
    }

    [TestMethod]
    public void A_choice_of_more_values_than_a_split_holds_is_measured_and_searched_on_its_coordinate()
    {
        // f = 3·c/99 + y with c uniform on the 100 values 0..99: var = 9·(100² − 1)/(12·99²) = 0.7576 and 1/12, shares 0.901 and 0.099.
        var values = Enumerable.Range(0, 100).Select(i => (object)(double)i).ToArray();
        var space = new SearchSpaceBuilder().Choice("c", values).Float("y", 0, 1).Build();
        var tuner = new RandomTuner(space, 5);
        double F(ParameterSet p) => 3 * Convert.ToDouble(p["c"]) / 99 + p.Number("y");
        var trials = Enumerable.Range(0, 400).Select(n =>
        {
            var p = tuner.Propose(new SweepHistory(n, [], []))!;
            return new TrialResult { Number = n, Parameters = p, Seed = 0, Status = TrialStatus.Completed, Value = F(p), Loss = F(p) };
        }).ToList();
        var importance = new SweepResult(1, SweepStop.TrialBudget, space, new SweepObjective("f"), trials, TimeSpan.Zero).Importance().ToDictionary(i => i.Parameter);
        Assert.AreEqual(0.901, importance["c"].Importance, 0.08);
        Assert.AreEqual(0.099, importance["y"].Importance, 0.08);
        // SMAC's surrogate takes the same choice (it failed once its forest was first fitted).
        var best = TunerTests.Minimise(new SmacTuner(space, 1), F, 40).Min(r => r.Value);
        Assert.IsLessThan(0.5, best);
    }

    [TestMethod]
    public void Conditional_parameters_get_importance_within_their_branch()
    {
        var space = new SearchSpaceBuilder().Choice("solver", c => c.Option("als", s => s.Integer("k", 1, 20)).Option("sgd", s => s.Float("rate", 0, 1))).Float("reg", 0, 1).Build();
        var tuner = new RandomTuner(space, 1);
        var trials = Enumerable.Range(0, 300).Select(n =>
        {
            var p = tuner.Propose(new SweepHistory(n, [], []))!;
            var v = (p.Text("solver") == "als" ? p.Integer("solver.als.k") : 10 * p.Number("solver.sgd.rate")) + 60 * p.Number("reg");
            return new TrialResult { Number = n, Parameters = p, Seed = 0, Status = TrialStatus.Completed, Value = v, Loss = v };
        }).ToList();
        var importance = Fanova.Importance(space, trials);
        // Within "als": var(k) = (20² − 1)/12 = 33.25 beside var(60·reg) = 300: k explains 33.25 / 333.25 = 0.10.
        var als = importance.Where(i => i.Scope == "solver = \"als\"").ToDictionary(i => i.Parameter);
        Assert.AreEqual(0.10, als["solver.als.k"].Importance, 0.05);
        Assert.AreEqual(0.90, als["reg"].Importance, 0.05);
        // Within "sgd": var(10·rate) = 8.33 beside 300: 0.027.
        Assert.AreEqual(0.027, importance.Single(i => i.Parameter == "solver.sgd.rate").Importance, 0.03);
        // Over all trials: var(60·reg) = 300 dwarfs the solver's effect ((10.5 − 5)/2)² ≈ 7.6.
        Assert.IsTrue(importance.Single(i => i.Parameter == "reg" && i.Scope is null).Importance > 0.7);
    }

    [TestMethod]
    public void Leaderboard_history_and_parameter_points()
    {
        var space = new SearchSpaceBuilder().Float("x", 0, 10).Build();
        TrialResult T(int n, TrialStatus s, double? v) => new()
        {
            Number = n, Parameters = new ParameterSet([new("x", (double)n)]), Seed = 0, Status = s, Value = v, Loss = v is { } l ? -l : null,
        };
        var trials = new[] { T(0, TrialStatus.Completed, 0.5), T(1, TrialStatus.Failed, null), T(2, TrialStatus.Completed, 0.7), T(3, TrialStatus.Pruned, 0.9), T(4, TrialStatus.Completed, 0.6) };
        var result = new SweepResult(1, SweepStop.TrialBudget, space, new SweepObjective("auc", Direction.Maximize), trials, TimeSpan.Zero);
        Assert.AreEqual(2, result.Best!.Number);
        CollectionAssert.AreEqual(new[] { 2, 4, 0 }, result.Leaderboard().Select(t => t.Number).ToArray());
        CollectionAssert.AreEqual(new double?[] { 0.5, 0.5, 0.7, 0.7, 0.7 }, result.History().Select(h => h.Best).ToArray(), "a pruned trial's partial value is not a best");
        CollectionAssert.AreEqual(new[] { (0.0, 0.5), (2.0, 0.7), (4.0, 0.6) }, result.ParameterVsMetric("x").Select(p => ((double)p.Value, p.Metric)).ToArray());
    }
}
