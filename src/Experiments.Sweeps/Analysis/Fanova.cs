using System.Numerics;
using Experiments.Sweeps.Tuners;

namespace Experiments.Sweeps;

/// <summary>
/// How much of the objective's variance a parameter explains on its own. <see cref="VarianceFraction"/> is fANOVA's
/// main-effect share V_j / V (Hutter et al. 2014), averaged over the forest's trees; <see cref="Importance"/> is the
/// same normalised to sum to 1 within its scope, as Optuna reports it. <see cref="Scope"/> is null for the parameters
/// every trial had, else the branch (e.g. "trainer = lightgbm") whose trials the figure is computed over — its own
/// parameters and the others its trials all had.
/// </summary>
public sealed record ParameterImportance(string Parameter, double Importance, double VarianceFraction, int Trials, string? Scope);

/// <summary>
/// fANOVA over a random forest (64 trees, deep, bootstrapped — the settings of Optuna's FanovaImportanceEvaluator) fitted
/// on the encoded parameters. Each tree is a piecewise-constant function on boxes of [0, 1]^d, so its total variance and
/// each parameter's marginal variance are computed exactly from the leaves (Hutter et al. 2014). As in Optuna, a scope
/// covers the parameters present in all of its trials; each branch of a choice that has parameters of its own gets a
/// scope of its trials.
/// </summary>
public static class Fanova
{
    private static readonly ForestSettings Forest = new() { Trees = 64, Bootstrap = true, FeatureFraction = 1, MinSamplesSplit = 2, MinSamplesLeaf = 1, MaxDepth = 64 };

    public static IReadOnlyList<ParameterImportance> Importance(SearchSpace space, IReadOnlyList<TrialResult> completed, int seed = 0)
    {
        var encoding = space.Encoding;
        var result = new List<ParameterImportance>();
        var global = encoding.Dimensions.Where(d => completed.All(t => t.Parameters.ContainsKey(d.Parameter.Name))).ToList();
        result.AddRange(Scope(encoding, completed, global, null, seed));
        // Each branch of a choice that governs parameters: its trials, its parameters.
        foreach (var choice in space.Parameters.OfType<ChoiceParameter>())
            foreach (var value in choice.Values)
            {
                var governed = encoding.Dimensions.Where(d => d.Parameter.When is { } w && w.Parameter == choice.Name && w.Holds(value)).ToList();
                if (governed.Count == 0) continue;
                var trials = completed.Where(t => t.Parameters.TryGetValue(choice.Name, out var v) && ParameterValue.Same(v, value)).ToList();
                // The branch's own parameters beside every other one its trials all had (the choice itself is constant there).
                var dims = encoding.Dimensions.Where(d => d.Parameter != choice && trials.All(t => t.Parameters.ContainsKey(d.Parameter.Name))).ToList();
                result.AddRange(Scope(encoding, trials, dims, $"{choice.Name} = {ParameterValue.Format(value)}", seed));
            }
        return result;
    }

    private static IEnumerable<ParameterImportance> Scope(SpaceEncoding encoding, IReadOnlyList<TrialResult> trials, List<Dimension> dims, string? scope, int seed)
    {
        if (trials.Count < 2 || dims.Count == 0) return [];
        // A choice with more values than a split can hold is measured on its coordinate: its cells have equal width, so the
        // uniform measure on [0, 1] is the uniform measure on its values.
        var categories = dims.Select(d => d.Kind == DimensionKind.Categorical && d.Levels <= RegressionForest.MaxCategories ? d.Levels : 0).ToArray();
        var x = trials.Select(t =>
        {
            var u = encoding.Encode(t.Parameters);
            return dims.Select((d, j) => categories[j] > 0 ? d.CellOf(u[d.Index]) : (double)u[d.Index]).ToArray();
        }).ToList();
        var y = trials.Select(t => t.Loss!.Value).ToList();
        var forest = RegressionForest.Fit(x, y, categories, Forest, new SweepRandom(seed));
        var fractions = new double[dims.Count];
        var counted = 0;
        foreach (var tree in forest.Trees)
        {
            if (TreeFractions(tree, categories) is not { } f) continue;
            for (var j = 0; j < f.Length; j++) fractions[j] += f[j];
            counted++;
        }
        if (counted > 0)
            for (var j = 0; j < fractions.Length; j++) fractions[j] /= counted;
        var total = fractions.Sum();
        return dims.Select((d, j) => new ParameterImportance(d.Parameter.Name, total > 0 ? fractions[j] / total : 0, fractions[j], trials.Count, scope))
            .OrderByDescending(p => p.Importance).ToList();
    }

    private sealed record Leaf(double[] Low, double[] High, ulong[] Masks, double Value, double Volume);

    /// <summary>Each feature's main-effect variance over the tree's total variance; null for a constant tree.</summary>
    internal static double[]? TreeFractions(RegressionTree tree, int[] categories)
    {
        var d = categories.Length;
        var leaves = new List<Leaf>();
        void Walk(int node, double[] low, double[] high, ulong[] masks)
        {
            var f = tree.Feature[node];
            if (f < 0)
            {
                var volume = 1.0;
                for (var j = 0; j < d; j++) volume *= Measure(j, low, high, masks, categories);
                if (volume > 0) leaves.Add(new Leaf(low, high, masks, tree.Value[node], volume));
                return;
            }
            var (leftLow, leftHigh, leftMasks) = ((double[])low.Clone(), (double[])high.Clone(), (ulong[])masks.Clone());
            var (rightLow, rightHigh, rightMasks) = ((double[])low.Clone(), (double[])high.Clone(), (ulong[])masks.Clone());
            if (categories[f] > 0)
            {
                leftMasks[f] &= tree.LeftCategories[node];
                rightMasks[f] &= ~tree.LeftCategories[node];
            }
            else
            {
                leftHigh[f] = Math.Min(high[f], tree.Threshold[node]);
                rightLow[f] = Math.Max(low[f], tree.Threshold[node]);
            }
            Walk(tree.Left[node], leftLow, leftHigh, leftMasks);
            Walk(tree.Right[node], rightLow, rightHigh, rightMasks);
        }
        Walk(0, new double[d], Enumerable.Repeat(1.0, d).ToArray(), categories.Select(c => c > 0 ? (c == 64 ? ulong.MaxValue : (1UL << c) - 1) : 0UL).ToArray());

        var mean = leaves.Sum(l => l.Volume * l.Value);
        var variance = leaves.Sum(l => l.Volume * (l.Value - mean) * (l.Value - mean));
        if (variance <= 1e-15 * Math.Max(1, mean * mean)) return null;
        var fractions = new double[d];
        for (var j = 0; j < d; j++)
        {
            // The cells of feature j on which the marginal is constant.
            var cells = new List<(double Measure, Func<Leaf, bool> Covers)>();
            if (categories[j] > 0)
                for (var c = 0; c < categories[j]; c++)
                {
                    var bit = 1UL << c;
                    cells.Add((1.0 / categories[j], l => (l.Masks[j] & bit) != 0));
                }
            else
            {
                var cuts = leaves.SelectMany(l => new[] { l.Low[j], l.High[j] }).Append(0).Append(1).Distinct().Order().ToList();
                for (var k = 0; k + 1 < cuts.Count; k++)
                {
                    var (a, b) = (cuts[k], cuts[k + 1]);
                    cells.Add((b - a, l => l.Low[j] <= a && l.High[j] >= b));
                }
            }
            var marginalVariance = 0.0;
            foreach (var (measure, covers) in cells)
            {
                // The tree averaged over all other features, at a point of this cell.
                var marginal = leaves.Where(covers).Sum(l => l.Volume / Measure(j, l.Low, l.High, l.Masks, categories) * l.Value);
                marginalVariance += measure * (marginal - mean) * (marginal - mean);
            }
            fractions[j] = marginalVariance / variance;
        }
        return fractions;
    }

    private static double Measure(int j, double[] low, double[] high, ulong[] masks, int[] categories) =>
        categories[j] > 0 ? (double)BitOperations.PopCount(masks[j]) / categories[j] : Math.Max(0, high[j] - low[j]);
}
