namespace Experiments.Sweeps.Tuners;

/// <summary>
/// Settings of a <see cref="RegressionForest"/>; the defaults are those SMAC3's hyperparameter-optimisation facade gives
/// its random forest: fully grown trees on bootstrap samples, every feature considered at each split.
/// </summary>
public sealed record ForestSettings
{
    public int Trees { get; init; } = 10;
    public bool Bootstrap { get; init; } = true;
    /// <summary>Share of the features a split may look at.</summary>
    public double FeatureFraction { get; init; } = 1;
    public int MinSamplesSplit { get; init; } = 2;
    public int MinSamplesLeaf { get; init; } = 1;
    public int MaxDepth { get; init; } = 1 << 20;
}

/// <summary>
/// A regression tree of a <see cref="RegressionForest"/>: numeric splits send x ≤ threshold left, the threshold drawn
/// uniformly between the two values the best split separates (as SMAC's pyrfr does: the trees then disagree between
/// observations, which is where the forest's variance should be); categorical splits send the categories in a set
/// left (the set chosen by ordering categories by their mean target, which finds the best split for squared error).
/// </summary>
internal sealed class RegressionTree
{
    public readonly List<int> Feature = [];      // −1 for a leaf
    public readonly List<double> Threshold = [];
    public readonly List<ulong> LeftCategories = [];
    public readonly List<int> Left = [];
    public readonly List<int> Right = [];
    public readonly List<double> Value = [];

    public int Add(double value)
    {
        Feature.Add(-1);
        Threshold.Add(0);
        LeftCategories.Add(0);
        Left.Add(-1);
        Right.Add(-1);
        Value.Add(value);
        return Feature.Count - 1;
    }

    public bool GoesLeft(int node, double x, bool categorical) =>
        categorical ? (LeftCategories[node] & (1UL << (int)x)) != 0 : x <= Threshold[node];

    public double Predict(double[] x, int[] categories)
    {
        var node = 0;
        while (Feature[node] >= 0)
        {
            var f = Feature[node];
            node = GoesLeft(node, x[f], categories[f] > 0) ? Left[node] : Right[node];
        }
        return Value[node];
    }
}

/// <summary>
/// A random forest for regression on the encoded parameters: the SMAC tuner's surrogate (mean and spread of the
/// trees' predictions) and the basis of fANOVA importance. Features are numeric (an inactive parameter imputed as −1,
/// outside [0, 1]) or categorical with up to <see cref="MaxCategories"/> categories (inactive is one more category).
/// </summary>
internal sealed class RegressionForest
{
    /// <summary>A split's left categories are one 64-bit mask; a choice with more values is given to the forest as its numeric coordinate.</summary>
    public const int MaxCategories = 64;

    private RegressionForest(List<RegressionTree> trees, int[] categories)
    {
        Trees = trees;
        Categories = categories;
    }

    public IReadOnlyList<RegressionTree> Trees { get; }
    /// <summary>Per feature: 0 for numeric, else the number of categories.</summary>
    public int[] Categories { get; }

    public static RegressionForest Fit(IReadOnlyList<double[]> x, IReadOnlyList<double> y, int[] categories, ForestSettings settings, SweepRandom random)
    {
        if (categories.Any(c => c > MaxCategories)) throw new ArgumentException($"A categorical feature may have at most {MaxCategories} categories.");
        var trees = new List<RegressionTree>();
        var n = x.Count;
        for (var t = 0; t < settings.Trees; t++)
        {
            var sample = new int[n];
            for (var i = 0; i < n; i++) sample[i] = settings.Bootstrap ? random.Next(n) : i;
            var tree = new RegressionTree();
            Grow(tree, x, y, sample, 0, categories, settings, random);
            trees.Add(tree);
        }
        return new RegressionForest(trees, categories);
    }

    /// <summary>The mean of the trees' predictions and their variance.</summary>
    public (double Mean, double Variance) Predict(double[] x)
    {
        double sum = 0, squares = 0;
        foreach (var tree in Trees)
        {
            var p = tree.Predict(x, Categories);
            sum += p;
            squares += p * p;
        }
        var mean = sum / Trees.Count;
        return (mean, Math.Max(squares / Trees.Count - mean * mean, 0));
    }

    private static int Grow(RegressionTree tree, IReadOnlyList<double[]> x, IReadOnlyList<double> y, int[] rows, int depth, int[] categories, ForestSettings settings, SweepRandom random)
    {
        var mean = rows.Average(r => y[r]);
        var node = tree.Add(mean);
        if (rows.Length < settings.MinSamplesSplit || depth >= settings.MaxDepth || rows.All(r => y[r] == y[rows[0]])) return node;

        var features = Enumerable.Range(0, categories.Length).ToList();
        random.Shuffle(features);
        var tried = Math.Max(1, (int)Math.Round(settings.FeatureFraction * features.Count));
        var bestGain = 1e-12;
        int bestFeature = -1;
        double bestThreshold = 0;
        ulong bestMask = 0;
        var total = rows.Sum(r => y[r]);
        var totalSquares = rows.Sum(r => y[r] * y[r]);
        var parentError = totalSquares - total * total / rows.Length;
        foreach (var f in features.Take(tried))
        {
            // Order the rows along the feature: by value, or by their category's mean target.
            double[] key;
            if (categories[f] > 0)
            {
                var sums = new double[categories[f]];
                var counts = new int[categories[f]];
                foreach (var r in rows) { sums[(int)x[r][f]] += y[r]; counts[(int)x[r][f]]++; }
                key = rows.Select(r => sums[(int)x[r][f]] / counts[(int)x[r][f]] + 1e-9 * x[r][f]).ToArray();
            }
            else key = rows.Select(r => x[r][f]).ToArray();
            var order = Enumerable.Range(0, rows.Length).OrderBy(i => key[i]).ToArray();
            double leftSum = 0, leftSquares = 0;
            for (var i = 0; i < order.Length - 1; i++)
            {
                var v = y[rows[order[i]]];
                leftSum += v;
                leftSquares += v * v;
                var leftCount = i + 1;
                var rightCount = rows.Length - leftCount;
                if (key[order[i]] == key[order[i + 1]] || leftCount < settings.MinSamplesLeaf || rightCount < settings.MinSamplesLeaf) continue;
                var rightSum = total - leftSum;
                var error = leftSquares - leftSum * leftSum / leftCount + (totalSquares - leftSquares) - rightSum * rightSum / rightCount;
                var gain = parentError - error;
                if (gain <= bestGain) continue;
                bestGain = gain;
                bestFeature = f;
                if (categories[f] > 0)
                {
                    bestMask = 0;
                    for (var k = 0; k <= i; k++) bestMask |= 1UL << (int)x[rows[order[k]]][f];
                }
                else bestThreshold = key[order[i]] + random.NextDouble() * (key[order[i + 1]] - key[order[i]]);
            }
        }
        if (bestFeature < 0) return node;
        var categorical = categories[bestFeature] > 0;
        tree.Feature[node] = bestFeature;
        tree.Threshold[node] = bestThreshold;
        tree.LeftCategories[node] = bestMask;
        var left = rows.Where(r => tree.GoesLeft(node, x[r][bestFeature], categorical)).ToArray();
        var right = rows.Where(r => !tree.GoesLeft(node, x[r][bestFeature], categorical)).ToArray();
        var leftNode = Grow(tree, x, y, left, depth + 1, categories, settings, random);
        var rightNode = Grow(tree, x, y, right, depth + 1, categories, settings, random);
        tree.Left[node] = leftNode;
        tree.Right[node] = rightNode;
        return node;
    }
}
