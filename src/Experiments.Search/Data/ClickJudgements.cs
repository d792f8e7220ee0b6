namespace Experiments.Search.Data;

/// <summary>One shown product in a query log: which query, which product, at which position (1 = top), and whether it was clicked.</summary>
public readonly record struct Impression(int Query, int Product, int Position, bool Clicked);

/// <summary>What the position-based click model estimated: the examination probability of each position and the judgements.</summary>
public sealed record ClickModelFit(double[] Examination, ListedJudgements Judgements, int Iterations);

/// <summary>
/// Judgements derived from a query log with the position-based click model (PBM; Richardson et al. 2007, Chuklin et
/// al., "Click Models for Web Search", 2015): a click happens when the shopper examines the position (probability θ_p,
/// the same for every query) and finds the product attractive (α_qd, the relevance). θ and α are fitted together by
/// expectation–maximisation, so clicks are weighed against how often each position is looked at: a product clicked at
/// position 8 counts for more than one clicked at position 1. The grade of a (query, product) pair is its α under a
/// Beta(<see cref="PriorClicks"/>, <see cref="PriorSkips"/>) prior, kept for pairs clicked at least once. The
/// examination curve is reported relative to position 1 (the model identifies θ·α only up to a common scale).
/// </summary>
public static class ClickJudgements
{
    public const double PriorClicks = 1;
    public const double PriorSkips = 1;

    public static ClickModelFit Derive(IReadOnlyList<Impression> log, int queries, int maxIterations = 100, double tolerance = 1e-6)
    {
        if (log.Count == 0) throw new Core.ExperimentsException("The click log is empty: no judgements can be derived from it.");
        var positions = log.Max(i => i.Position);
        var pairs = new Dictionary<(int, int), int>();
        var pairOf = new int[log.Count];
        for (var r = 0; r < log.Count; r++)
        {
            var key = (log[r].Query, log[r].Product);
            if (!pairs.TryGetValue(key, out var index)) pairs[key] = index = pairs.Count;
            pairOf[r] = index;
        }
        var theta = Enumerable.Range(1, positions).Select(p => 1.0 / p).ToArray();
        var alpha = Enumerable.Repeat(0.5, pairs.Count).ToArray();
        var iterations = 0;
        for (var change = double.PositiveInfinity; iterations < maxIterations && change > tolerance; iterations++)
        {
            // E step: for a skipped impression, the posterior that the product was attractive (but not examined) and
            // that the position was examined (but the product not attractive); a click means both.
            var alphaSum = new double[pairs.Count];
            var alphaCount = new double[pairs.Count];
            var thetaSum = new double[positions];
            var thetaCount = new double[positions];
            for (var r = 0; r < log.Count; r++)
            {
                var (pair, p) = (pairOf[r], log[r].Position - 1);
                double attractive, examined;
                if (log[r].Clicked) attractive = examined = 1;
                else
                {
                    var skip = 1 - theta[p] * alpha[pair];
                    attractive = (1 - theta[p]) * alpha[pair] / skip;
                    examined = theta[p] * (1 - alpha[pair]) / skip;
                }
                alphaSum[pair] += attractive;
                alphaCount[pair]++;
                thetaSum[p] += examined;
                thetaCount[p]++;
            }
            change = 0;
            for (var k = 0; k < alpha.Length; k++)
            {
                var next = (alphaSum[k] + PriorClicks) / (alphaCount[k] + PriorClicks + PriorSkips);
                change = Math.Max(change, Math.Abs(next - alpha[k]));
                alpha[k] = next;
            }
            for (var p = 0; p < positions; p++)
            {
                var next = thetaCount[p] == 0 ? theta[p] : Math.Clamp(thetaSum[p] / thetaCount[p], 1e-6, 1 - 1e-6);
                change = Math.Max(change, Math.Abs(next - theta[p]));
                theta[p] = next;
            }
        }
        var clicked = new bool[pairs.Count];
        for (var r = 0; r < log.Count; r++) clicked[pairOf[r]] |= log[r].Clicked;
        var grades = Enumerable.Range(0, queries).Select(_ => new Dictionary<int, double>()).ToArray();
        foreach (var ((query, product), index) in pairs)
            if (clicked[index]) grades[query][product] = alpha[index];
        var top = theta[0];
        return new ClickModelFit(theta.Select(t => t / top).ToArray(), new ListedJudgements(grades), iterations);
    }
}
