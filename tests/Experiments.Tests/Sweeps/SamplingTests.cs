using Experiments.Sweeps;
using Experiments.Sweeps.Tuners;

namespace Experiments.Tests.Sweeps;

/// <summary>Each parameter kind's sampling and bounds, from random search's draws (tolerances: 5 binomial standard errors).</summary>
[TestClass]
public sealed class SamplingTests
{
    private const int Draws = 4000;

    private static List<ParameterSet> Sample(SearchSpace space, int seed = 7)
    {
        var tuner = new RandomTuner(space, seed);
        return Enumerable.Range(0, Draws).Select(n => tuner.Propose(new SweepHistory(n, [], []))!).ToList();
    }

    private static void Share(double observed, double expected, string what)
    {
        var tolerance = 5 * Math.Sqrt(expected * (1 - expected) / Draws);
        Assert.AreEqual(expected, observed, tolerance, $"{what}: share {observed:F4}, expected {expected:F4} ± {tolerance:F4}");
    }

    [TestMethod]
    public void Uniform_reals_stay_in_bounds_and_are_uniform()
    {
        var values = Sample(new SearchSpaceBuilder().Float("x", -2, 6).Build()).Select(p => p.Number("x")).ToList();
        Assert.IsTrue(values.All(v => v is >= -2 and <= 6));
        Share(values.Count(v => v < 0) / (double)Draws, 0.25, "x < 0");
        Share(values.Count(v => v > 5) / (double)Draws, 0.125, "x > 5");
    }

    [TestMethod]
    public void Log_uniform_reals_are_uniform_in_the_logarithm()
    {
        var values = Sample(new SearchSpaceBuilder().Float("x", 1e-4, 1, log: true).Build()).Select(p => p.Number("x")).ToList();
        Assert.IsTrue(values.All(v => v is >= 1e-4 and <= 1));
        Share(values.Count(v => v < 1e-2) / (double)Draws, 0.5, "x < 1e-2 (the geometric middle)");
        Share(values.Count(v => v < 1e-3) / (double)Draws, 0.25, "x < 1e-3");
    }

    [TestMethod]
    public void Stepped_reals_land_on_their_grid_with_equal_shares()
    {
        var values = Sample(new SearchSpaceBuilder().Float("x", 0.5, 1.5, step: 0.25).Build()).Select(p => p.Number("x")).ToList();
        var grid = new[] { 0.5, 0.75, 1.0, 1.25, 1.5 };
        Assert.IsTrue(values.All(v => grid.Contains(v)), string.Join(", ", values.Distinct()));
        foreach (var g in grid) Share(values.Count(v => v == g) / (double)Draws, 0.2, $"x = {g}");
    }

    [TestMethod]
    public void Integers_take_every_value_with_equal_shares()
    {
        var values = Sample(new SearchSpaceBuilder().Integer("k", -3, 3).Integer("s", 10, 50, step: 10).Build());
        var k = values.Select(p => p.Integer("k")).ToList();
        for (var v = -3; v <= 3; v++) Share(k.Count(x => x == v) / (double)Draws, 1.0 / 7, $"k = {v}");
        var s = values.Select(p => p.Integer("s")).ToList();
        foreach (var v in new long[] { 10, 20, 30, 40, 50 }) Share(s.Count(x => x == v) / (double)Draws, 0.2, $"s = {v}");
        Assert.IsTrue(s.All(v => v % 10 == 0 && v is >= 10 and <= 50));
    }

    [TestMethod]
    public void Log_integers_give_each_integer_the_share_of_its_cell()
    {
        // Integer v owns [ln(v − ½), ln(v + ½)] of [ln 0.5, ln 8.5].
        var k = Sample(new SearchSpaceBuilder().Integer("k", 1, 8, log: true).Build()).Select(p => p.Integer("k")).ToList();
        var total = Math.Log(8.5) - Math.Log(0.5);
        for (var v = 1; v <= 8; v++) Share(k.Count(x => x == v) / (double)Draws, (Math.Log(v + 0.5) - Math.Log(v - 0.5)) / total, $"k = {v}");
    }

    [TestMethod]
    public void Choices_fixed_values_and_conditional_sub_spaces()
    {
        var space = new SearchSpaceBuilder()
            .Choice("solver", c => c.Option("als", s => s.Integer("iterations", 5, 30)).Option("sgd", s => s.Float("rate", 0.001, 0.1, log: true)).Option("none"))
            .Fixed("seed", 42)
            .Build();
        var values = Sample(space);
        foreach (var solver in new[] { "als", "sgd", "none" }) Share(values.Count(p => p.Text("solver") == solver) / (double)Draws, 1.0 / 3, solver);
        Assert.IsTrue(values.All(p => p.Integer("seed") == 42));
        foreach (var p in values)
        {
            Assert.AreEqual(p.Text("solver") == "als", p.ContainsKey("solver.als.iterations"), p.ToString());
            Assert.AreEqual(p.Text("solver") == "sgd", p.ContainsKey("solver.sgd.rate"), p.ToString());
        }
        Assert.IsTrue(values.Where(p => p.ContainsKey("solver.als.iterations")).All(p => p.Integer("solver.als.iterations") is >= 5 and <= 30));
        var als = values.First(p => p.Text("solver") == "als");
        CollectionAssert.AreEqual(new[] { "iterations" }, als.Within("solver.als").Keys.ToArray());
        Assert.AreEqual(als["solver.als.iterations"], als.Within("solver.als")["iterations"]);
    }
}
