using Experiments.Search.Data;

namespace Experiments.Tests.Search;

[TestClass]
public sealed class ClickJudgementTests
{
    /// <summary>
    /// A log drawn from a known position-based model: examination θ_p = 1/(1 + 0.3(p − 1)) and each (query, product)
    /// its own attractiveness. Ten products are shown in a random order each session; two more are always shown at one
    /// position: one at position 1 with α = 0.3, one at position 10 with α = 0.6.
    /// </summary>
    private static (List<Impression> Log, double[] Theta) Simulate(int seed)
    {
        var random = new Random(seed);
        var theta = Enumerable.Range(1, 10).Select(p => 1 / (1 + 0.3 * (p - 1))).ToArray();
        var log = new List<Impression>();
        for (var q = 0; q < 40; q++)
        {
            var alpha = Enumerable.Range(0, 10).Select(_ => random.NextDouble()).ToArray();
            for (var s = 0; s < 150; s++)
            {
                var order = Enumerable.Range(0, 10).OrderBy(_ => random.Next()).ToArray();
                void Show(int product, int position, double a) => log.Add(new Impression(q, product, position, random.NextDouble() < theta[position - 1] && random.NextDouble() < a));
                for (var k = 0; k < 10; k++) Show(order[k], k + 1, alpha[order[k]]);
                Show(100, 1, 0.3);
                Show(101, 10, 0.6);
            }
        }
        return (log, theta);
    }

    [TestMethod]
    public void Em_recovers_the_examination_curve_and_undoes_position_bias()
    {
        var (log, theta) = Simulate(5);
        var fit = ClickJudgements.Derive(log, 40);
        for (var p = 0; p < 10; p++)
            Assert.AreEqual(theta[p] / theta[0], fit.Examination[p], 0.06, $"position {p + 1}");
        // Raw click rates rank the product stuck at position 1 above the one stuck at position 10 (0.3 against 0.6 × 0.27);
        // the click model puts them in the order of their attractiveness.
        double RawRate(int product) => log.Where(i => i.Product == product).Average(i => i.Clicked ? 1.0 : 0.0);
        Assert.IsGreaterThan(RawRate(101), RawRate(100));
        var top = Enumerable.Range(0, 40).Count(q => fit.Judgements.Grade(q, 101) > fit.Judgements.Grade(q, 100));
        Assert.IsGreaterThanOrEqualTo(36, top, $"the position-10 product should be graded higher in nearly every query, was in {top} of 40");
        Assert.AreEqual(0.6, Enumerable.Range(0, 40).Average(q => fit.Judgements.Grade(q, 101)), 0.08);
        Assert.AreEqual(0.3, Enumerable.Range(0, 40).Average(q => fit.Judgements.Grade(q, 100)), 0.05);
    }

    [TestMethod]
    public void Pairs_never_clicked_are_not_judged()
    {
        var log = new List<Impression> { new(0, 1, 1, true), new(0, 2, 2, false), new(0, 1, 1, false), new(0, 3, 1, false), new(0, 3, 2, true) };
        var fit = ClickJudgements.Derive(log, 1);
        Assert.AreEqual(0, fit.Judgements.Grade(0, 2));
        Assert.IsGreaterThan(0, fit.Judgements.Grade(0, 1));
        Assert.AreEqual(2, fit.Judgements.CountAtLeast(0, double.Epsilon));
    }
}
