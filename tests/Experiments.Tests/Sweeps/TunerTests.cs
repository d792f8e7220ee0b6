using Experiments.Core;
using Experiments.Sweeps;
using Experiments.Sweeps.Benchmarks;
using Experiments.Sweeps.Tuners;

namespace Experiments.Tests.Sweeps;

[TestClass]
public sealed class TunerTests
{
    /// <summary>(x − 0.3)² + (y + 0.5)² on [−1, 1]²: minimum 0 at (0.3, −0.5); its range over the square is 3.94.</summary>
    private static readonly SearchSpace Bowl = new SearchSpaceBuilder().Float("x", -1, 1).Float("y", -1, 1).Build();
    private static double BowlValue(ParameterSet p) => Math.Pow(p.Number("x") - 0.3, 2) + Math.Pow(p.Number("y") + 0.5, 2);

    /// <summary>Runs <paramref name="budget"/> trials one after another, without the driver; returns the values found.</summary>
    internal static List<(ParameterSet Parameters, double Value)> Minimise(ITuner tuner, Func<ParameterSet, double> f, int budget)
    {
        var completed = new List<TrialResult>();
        var found = new List<(ParameterSet, double)>();
        for (var n = 0; n < budget; n++)
        {
            var p = tuner.Propose(new SweepHistory(n, completed, []));
            if (p is null) break;
            var y = f(p);
            var result = new TrialResult { Number = n, Parameters = p, Seed = 0, Status = TrialStatus.Completed, Value = y, Loss = y, Cost = 1 };
            tuner.Update(result);
            completed.Add(result);
            found.Add((p, y));
        }
        return found;
    }

    public static IEnumerable<object[]> ModelBased => [["tpe"], ["smac"], ["cfo"], ["blendsearch"], ["blendsearch-smac"]];

    [TestMethod]
    [DynamicData(nameof(ModelBased))]
    public void Each_tuner_finds_the_minimum_of_a_bowl_within_60_trials(string name)
    {
        // Within 1% of the function's range over the square (3.94), which random search needs ~100 trials to reach even in the median.
        var best = Minimise(TunerCatalog.Create(name, Bowl, seed: 3), BowlValue, 60).Min(r => r.Value);
        Assert.IsTrue(best < 0.0394, $"{name}: best {best}");
    }

    [TestMethod]
    public void Random_search_finds_the_bowl_within_its_probabilistic_bound()
    {
        // P(no point within r of the minimum in 300 uniform draws) = (1 − πr²/4)^300 < 1e-6 for r² = 0.058.
        var best = Minimise(new RandomTuner(Bowl, 11), BowlValue, 300).Min(r => r.Value);
        Assert.IsTrue(best < 0.058, $"best {best}");
    }

    [TestMethod]
    public void Grid_search_reaches_the_nearest_grid_point_and_stops()
    {
        // 11 points per side: step 0.2, so (0.3, −0.5) is at most (0.1² + 0.1²) = 0.02 from a grid point.
        var grid = new GridTuner(Bowl, 5, pointsPerDimension: 11);
        var found = Minimise(grid, BowlValue, 1000);
        Assert.AreEqual(121, found.Count, "the grid is 11 × 11 and then exhausted");
        Assert.AreEqual(121, found.Select(r => r.Parameters).Distinct().Count());
        Assert.AreEqual(0.02, found.Min(r => r.Value), 1e-12);
    }

    [TestMethod]
    public void A_grid_enumerates_conditional_sub_spaces_under_their_values_only()
    {
        var space = new SearchSpaceBuilder()
            .Choice("solver", c => c.Option("als", s => s.Integer("iterations", 1, 3)).Option("sgd", s => s.Float("rate", 0.1, 1).Choice("loss", "l1", "l2")))
            .Integer("rank", 8, 9)
            .Build();
        // (als: 3 iterations + sgd: 4 rates × 2 losses) × 2 ranks = (3 + 8) × 2.
        var points = Minimise(new GridTuner(space, 0, pointsPerDimension: 4), _ => 0, 1000).Select(r => r.Parameters).ToList();
        Assert.AreEqual(22, points.Count);
        Assert.AreEqual(22, points.Distinct().Count());
        CollectionAssert.AreEquivalent(new[] { 0.1, 0.4, 0.7, 1.0 }, points.Where(p => p.ContainsKey("solver.sgd.rate")).Select(p => Math.Round(p.Number("solver.sgd.rate"), 12)).Distinct().ToArray());
    }

    [TestMethod]
    public void Model_based_tuners_find_the_better_branch_of_a_conditional_space()
    {
        // Branch a: 1 + x² ≥ 1; branch b: y² ≥ 0. A tuner that settles for branch a is off by at least 1.
        var space = new SearchSpaceBuilder().Choice("branch", c => c.Option("a", s => s.Float("x", -1, 1)).Option("b", s => s.Float("y", -1, 1))).Build();
        double F(ParameterSet p) => p.Text("branch") == "a" ? 1 + Math.Pow(p.Number("branch.a.x"), 2) : Math.Pow(p.Number("branch.b.y"), 2);
        foreach (var name in new[] { "tpe", "smac", "blendsearch" })
        {
            var best = Minimise(TunerCatalog.Create(name, space, 1), F, 40).Min(r => r.Value);
            Assert.IsTrue(best < 0.01, $"{name}: best {best}");
        }
    }

    [TestMethod]
    public void Cfo_starts_at_the_low_cost_point_and_tries_each_direction_both_ways()
    {
        var space = new SearchSpaceBuilder().Float("x", 0, 1, lowCost: 0.5).Float("y", 0, 1, lowCost: 0.5).Build();
        var cfo = new CfoTuner(space, 4);
        var found = Minimise(cfo, p => 1.0, 3); // nothing ever improves
        Assert.AreEqual(space.StartPoint, found[0].Parameters);
        // The second proposal is start + s·z, the third start − s·z: symmetric about the start.
        Assert.AreEqual(1.0, found[1].Parameters.Number("x") + found[2].Parameters.Number("x"), 1e-12);
        Assert.AreEqual(1.0, found[1].Parameters.Number("y") + found[2].Parameters.Number("y"), 1e-12);
        // |s·z| is the initial step 0.1·√d.
        var dx = found[1].Parameters.Number("x") - 0.5;
        var dy = found[1].Parameters.Number("y") - 0.5;
        Assert.AreEqual(0.1 * Math.Sqrt(2), Math.Sqrt(dx * dx + dy * dy), 1e-12);
    }

    /// <summary>x, y and a solver: "als" with a, "sgd" with rate (a given start) and m (none given), "ccd" and "adam" with nothing (four values, so that a move crosses a cell often).</summary>
    private static readonly SearchSpace Solvers = new SearchSpaceBuilder()
        .Float("x", 0, 1, lowCost: 0.5).Float("y", 0, 1, lowCost: 0.5)
        .Choice("solver", c => c.Option("als", s => s.Float("a", 0, 1, lowCost: 0.5)).Option("sgd", s => s.Float("rate", 0.1, 1, lowCost: 0.5).Float("m", 0, 1)).Option("ccd").Option("adam"))
        .Build();

    [TestMethod]
    public void Cfo_searches_the_subspace_its_incumbent_lies_in()
    {
        // At the start (als) four parameters are on, x, y, solver and a, so FLOW2's first step is 0.1·√4, not 0.1·√6.
        var cfo = new CfoTuner(Solvers, 0);
        Assert.AreEqual(0.2, cfo.Step, 1e-12);
        // A bowl under als, sgd always worse: the incumbent moves about als and the switched-off sgd coordinates stay
        // where they entered, so every sgd proposal has rate at its given start and the same m.
        var sgdIndex = Solvers.Encoding.Dimensions.Where(d => d.Parameter.Name is "solver.sgd.rate" or "solver.sgd.m").Select(d => d.Index).ToList();
        var entered = sgdIndex.Select(k => cfo.Incumbent[k]).ToList();
        double Als(ParameterSet p) => p.Text("solver") == "als"
            ? Math.Pow(p.Number("x") - 0.3, 2) + Math.Pow(p.Number("y") - 0.6, 2) + Math.Pow(p.Number("solver.als.a") - 0.4, 2)
            : 10;
        var found = Minimise(cfo, Als, 150);
        CollectionAssert.AreEqual(entered, sgdIndex.Select(k => cfo.Incumbent[k]).ToList());
        var sgd = found.Where(r => r.Parameters.Text("solver") == "sgd").Select(r => r.Parameters).ToList();
        Assert.IsTrue(sgd.Count > 0, "the choice is tried");
        Assert.IsTrue(sgd.All(p => p.Number("solver.sgd.rate") == 0.5), "rate enters at its lowCost");
        Assert.AreEqual(1, sgd.Select(p => p.Number("solver.sgd.m")).Distinct().Count(), "m, with no start given, enters at one value");
        Assert.IsTrue(found.Count(r => r.Value < 0.01) > 0, $"best {found.Min(r => r.Value)}");
    }

    [TestMethod]
    public void Cfo_rescales_its_step_when_the_incumbent_moves_to_a_subspace_of_another_dimension()
    {
        // Started at sgd, five parameters are on (x, y, solver, rate, m): the step is 0.1·√5.
        var sgd = Solvers.Nearest(new Dictionary<string, object> { ["solver"] = "sgd" });
        var cfo = new CfoTuner(Solvers, 0, sgd, startLoss: 1.0);
        Assert.AreEqual(0.1 * Math.Sqrt(5), cfo.Step, 1e-12);
        // A better result at als from elsewhere (another thread's) moves the incumbent to a four-parameter subspace:
        // the step keeps its size per coordinate, 0.1·√5 · √(4/5) = 0.1·√4.
        var als = Solvers.StartPoint;
        cfo.Propose(new SweepHistory(0, [], []));
        cfo.Update(new TrialResult { Number = 1, Parameters = als, Seed = 0, Status = TrialStatus.Completed, Value = 0.5, Loss = 0.5, Cost = 1 });
        Assert.AreEqual(0.5, cfo.BestLoss);
        Assert.AreEqual(als, Solvers.Encoding.Decode(cfo.Incumbent.ToArray()));
        Assert.AreEqual(0.2, cfo.Step, 1e-12);
    }

    [TestMethod]
    public void A_portfolio_is_tried_first_then_the_tuner_takes_over()
    {
        var portfolio = new IReadOnlyDictionary<string, object>[] { new Dictionary<string, object> { ["x"] = 0.3 }, new Dictionary<string, object> { ["x"] = -0.9, ["y"] = 0.9 } };
        var tuner = new PortfolioTuner(Bowl, portfolio, new CfoTuner(Bowl, 2));
        var found = Minimise(tuner, BowlValue, 4);
        Assert.AreEqual(new ParameterSet([new("x", 0.3), new("y", -1.0)]), found[0].Parameters, "y takes its cheap end");
        Assert.AreEqual(new ParameterSet([new("x", -0.9), new("y", 0.9)]), found[1].Parameters);
        // CFO skips its own start point (worse than what the portfolio found) and searches around the portfolio's best.
        Assert.AreNotEqual(Bowl.StartPoint, found[2].Parameters);
        // Within one step (0.1·√2 in the [0, 1] encoding, where the square's side 2 is 1) of the portfolio's best, (0.3, −1).
        var moved = Math.Sqrt(Math.Pow((found[2].Parameters.Number("x") - 0.3) / 2, 2) + Math.Pow((found[2].Parameters.Number("y") + 1) / 2, 2));
        Assert.IsTrue(moved > 0 && moved <= 0.1 * Math.Sqrt(2) + 1e-12, $"moved {moved}");
        var bad = Assert.ThrowsExactly<ExperimentsException>(() => new PortfolioTuner(Bowl, [new Dictionary<string, object> { ["x"] = 5.0 }], new RandomTuner(Bowl, 0)));
        StringAssert.Contains(bad.Message, "portfolio entry 1");
    }

    [TestMethod]
    public void Blendsearch_searches_from_a_better_portfolio_result_not_from_its_low_cost_point()
    {
        // The low-cost start (−1, −1) has value 1.69; the portfolio's (0.2, −0.4) has 0.02.
        var portfolio = new IReadOnlyDictionary<string, object>[] { new Dictionary<string, object> { ["x"] = 0.2, ["y"] = -0.4 } };
        ITuner Tuner(int seed) => TunerCatalog.Create("blendsearch", Bowl, seed, new TunerOptions { Portfolio = portfolio });
        var found = Minimise(Tuner(5), BowlValue, 12);
        Assert.AreEqual(new ParameterSet([new("x", 0.2), new("y", -0.4)]), found[0].Parameters, "the portfolio first");
        Assert.IsFalse(found.Any(r => r.Parameters.Equals(Bowl.StartPoint)), "the local search waiting at the low-cost point is dropped");
        // The next proposal is the local search's first move from the portfolio's point: one initial step, 0.1·√2 in the
        // [0, 1] encoding (where the square's side 2 is 1).
        var moved = Math.Sqrt(Math.Pow((found[1].Parameters.Number("x") - 0.2) / 2, 2) + Math.Pow((found[1].Parameters.Number("y") + 0.4) / 2, 2));
        Assert.AreEqual(0.1 * Math.Sqrt(2), moved, 1e-9);
        CollectionAssert.AreEqual(found.Select(r => r.Parameters).ToList(), Minimise(Tuner(5), BowlValue, 12).Select(r => r.Parameters).ToList(), "same seed, same proposals");
    }

    [TestMethod]
    public void Eci_computes_FLAMLs_estimated_cost_for_improvement()
    {
        var space = new SearchSpaceBuilder().Choice("trainer", c => c.Option("cheap", s => s.Float("x", 0, 1)).Option("costly", s => s.Float("z", 0, 1))).Build();
        var eci = new EciTuner(space, "trainer", 0, (sub, seed) => new RandomTuner(sub, seed), new Dictionary<string, double> { ["cheap"] = 1, ["costly"] = 5 });
        TrialResult R(int n, string trainer, double loss, double cost) => new()
        {
            Number = n, Parameters = new ParameterSet([new("trainer", trainer)]), Seed = 0, Status = TrialStatus.Completed, Value = loss, Loss = loss, Cost = cost,
        };
        // Untried: the first trial's cost of the cheapest tried value times the relative cost; before anything, the cheapest goes first.
        Assert.AreEqual("cheap", eci.Propose(new SweepHistory(0, [], []))!["trainer"]);
        eci.Update(R(0, "cheap", 0.5, 1));
        Assert.AreEqual(5.0, eci.EstimatedCosts()["costly"], 1e-12);
        eci.Update(R(1, "cheap", 0.4, 1));
        eci.Update(R(2, "cheap", 0.45, 1));
        eci.Update(R(3, "costly", 0.9, 5));
        var costs = eci.EstimatedCosts();
        // cheap: total 3, best reached at cost 2, the one before at 1: max(3 − 2, 2 − 1) = 1; it holds the overall best.
        Assert.AreEqual(1.0, costs["cheap"], 1e-12);
        // costly: max(5 − 5, 5 − 0) = 5; gap 0.5 at speed 0.9 / 5: 2 × 0.5 / 0.18 = 5.5556.
        Assert.AreEqual(2 * 0.5 / (0.9 / 5), costs["costly"], 1e-12);
    }

    [TestMethod]
    public void Eci_keeps_choosing_among_all_trainers_when_one_has_only_failed()
    {
        var space = new SearchSpaceBuilder().Choice("trainer", c => c.Option("a", s => s.Float("x", 0, 1)).Option("broken", s => s.Float("y", 0, 1)).Option("b", s => s.Float("z", 0, 1))).Build();
        var eci = new EciTuner(space, "trainer", 3, (sub, seed) => new RandomTuner(sub, seed));
        TrialResult R(int n, string trainer, TrialStatus status, double? loss) => new()
        {
            Number = n, Parameters = new ParameterSet([new("trainer", trainer)]), Seed = 0, Status = status, Value = loss, Loss = loss, Cost = 1,
        };
        eci.Update(R(0, "a", TrialStatus.Completed, 0.5));
        eci.Update(R(1, "broken", TrialStatus.Failed, null));
        eci.Update(R(2, "b", TrialStatus.Completed, 0.6));
        var costs = eci.EstimatedCosts();
        // b: gap 0.1, speed |0.6| / 1 (its first result): max(1 − 1, 1 − 0) = 1 vs 2 × 0.1 / 0.6 = 0.333: 1.
        Assert.AreEqual(1.0, costs["b"], 1e-12);
        // broken: nothing to extrapolate; the largest other estimate (1) times one plus its one failure.
        Assert.AreEqual(2.0, costs["broken"], 1e-12);
        // Weights 1 : 1 : 1/2, so about 120, 120 and 60 of 300.
        var picks = Enumerable.Range(0, 300).Select(_ => eci.Propose(new SweepHistory(0, [], []))!.Text("trainer")).ToList();
        foreach (var t in new[] { "a", "b" }) Assert.IsTrue(picks.Count(p => p == t) > 90, $"{t} chosen {picks.Count(p => p == t)} times of 300");
        Assert.IsTrue(picks.Count(p => p == "broken") is > 30 and < 90, $"broken chosen {picks.Count(p => p == "broken")} times of 300");
    }

    [TestMethod]
    public void Eci_counts_a_pruned_trial_with_its_value_and_a_cancelled_one_as_untried_not_as_failures()
    {
        var space = new SearchSpaceBuilder().Choice("trainer", c => c.Option("a", s => s.Float("x", 0, 1)).Option("pruned", s => s.Float("y", 0, 1)).Option("stopped", s => s.Float("z", 0, 1))).Build();
        var eci = new EciTuner(space, "trainer", 3, (sub, seed) => new RandomTuner(sub, seed), new Dictionary<string, double> { ["stopped"] = 3 });
        TrialResult R(int n, string trainer, TrialStatus status, double? loss, double cost) => new()
        {
            Number = n, Parameters = new ParameterSet([new("trainer", trainer)]), Seed = 0, Status = status, Value = loss, Loss = loss, Cost = cost,
        };
        eci.Update(R(0, "a", TrialStatus.Completed, 0.5, 2));
        eci.Update(R(1, "pruned", TrialStatus.Pruned, 0.8, 1));
        eci.Update(R(2, "stopped", TrialStatus.Cancelled, null, 4));
        var costs = eci.EstimatedCosts();
        // a: total 2, best at 2, none before: max(2 − 2, 2 − 0) = 2; it holds the overall best.
        Assert.AreEqual(2.0, costs["a"], 1e-12);
        // pruned: its stopped value 0.8 is its best: max(1 − 1, 1 − 0) = 1 vs gap 0.3 at speed 0.8 / 1: 2 × 0.3 / 0.8 = 0.75: 1
        // (as a failing arm it was the largest other estimate times two: 4).
        Assert.AreEqual(1.0, costs["pruned"], 1e-12);
        // stopped: no loss, no failure: untried, the cheapest first cost (1) times its relative cost 3 (as failing: 4 × 2 = 8).
        Assert.AreEqual(3.0, costs["stopped"], 1e-12);
    }

    [TestMethod]
    public void Eci_does_not_spend_the_budget_on_a_trainer_that_fails_cheaply()
    {
        var space = new SearchSpaceBuilder().Choice("trainer", c => c.Option("slow", s => s.Float("x", 0, 1)).Option("broken", s => s.Float("y", 0, 1))).Build();
        var eci = new EciTuner(space, "trainer", 4, (sub, seed) => new RandomTuner(sub, seed));
        var picks = new List<string>();
        for (var n = 0; n < 100; n++)
        {
            var proposal = eci.Propose(new SweepHistory(n, [], []))!;
            var trainer = proposal.Text("trainer");
            picks.Add(trainer);
            // The working trainer costs 5 s a trial; the broken one fails in 0.05 s (by cost, the old rule chose it 99% of the time).
            eci.Update(trainer == "slow"
                ? new TrialResult { Number = n, Parameters = proposal, Seed = 0, Status = TrialStatus.Completed, Value = 0.5, Loss = 0.5, Cost = 5 }
                : new TrialResult { Number = n, Parameters = proposal, Seed = 0, Status = TrialStatus.Failed, Cost = 0.05 });
        }
        // broken's estimate is the other's times (1 + its failures): after k failures it is drawn about 1 in k + 2.
        var broken = picks.Count(t => t == "broken");
        Assert.IsTrue(broken is > 0 and < 25, $"broken chosen {broken} times of 100");
    }

    [TestMethod]
    public void Eci_spends_most_trials_on_the_trainer_that_improves_cheaply()
    {
        var space = new SearchSpaceBuilder().Choice("trainer", c => c.Option("good", s => s.Float("x", 0, 1)).Option("poor", s => s.Float("z", 0, 1))).Build();
        var tuner = new EciTuner(space, "trainer", 5, (sub, seed) => new CfoTuner(sub, seed));
        var picks = Minimise(tuner, p => p.Text("trainer") == "good" ? Math.Pow(p.Number("trainer.good.x") - 0.7, 2) : 2 + p.Number("trainer.poor.z"), 60)
            .Select(r => r.Parameters.Text("trainer")).ToList();
        Assert.IsTrue(picks.Count(t => t == "good") >= 40, $"good chosen {picks.Count(t => t == "good")} times of 60");
        Assert.IsTrue(picks.Contains("poor"), "the other trainer is tried");
    }

    [TestMethod]
    public void Same_seed_same_proposals_other_seed_other_proposals()
    {
        foreach (var name in TunerCatalog.Names)
        {
            var f = TestFunctions.Conditional();
            var a = Minimise(TunerCatalog.Create(name, f.Space, 8), f.Evaluate, 25).Select(r => r.Parameters).ToList();
            var b = Minimise(TunerCatalog.Create(name, f.Space, 8), f.Evaluate, 25).Select(r => r.Parameters).ToList();
            var c = Minimise(TunerCatalog.Create(name, f.Space, 9), f.Evaluate, 25).Select(r => r.Parameters).ToList();
            CollectionAssert.AreEqual(a, b, name);
            CollectionAssert.AreNotEqual(a, c, name);
        }
    }
}
