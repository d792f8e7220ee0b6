using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;
using Experiments.Recommenders;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders.Linear;

namespace Experiments.Hybrid;

/// <summary>
/// Fold-in: the factors of a user the model never saw, from a few interactions, with the item factors held fixed —
/// one exact ALS half-step for that user alone.
/// </summary>
public static class FoldIn
{
    /// <summary>
    /// Implicit feedback (weighted matrix factorisation, Hu, Koren &amp; Volinsky 2008): p minimises
    /// Σ_i c_i (x_i − p·y_i)² + λ‖p‖² over every item, with preference x_i = 1 and confidence c_i = 1 + α·r_i on the
    /// history, x_i = 0 and c_i = 1 elsewhere; its normal equations are
    /// (YᵀY + Σ_h (c_h − 1) y_h y_hᵀ + λI) p = Σ_h c_h y_h.
    /// </summary>
    /// <param name="gram">YᵀY from <see cref="Gram"/>, computed once for many users (null: computed here).</param>
    public static float[] Implicit(LatentFactorModel model, ReadOnlySpan<int> items, ReadOnlySpan<float> values, double lambda, double alpha, double[]? gram = null)
    {
        var k = model.Rank;
        var a = (double[])(gram ?? Gram(model)).Clone();
        var b = new double[k];
        for (var h = 0; h < items.Length; h++)
        {
            var y = model.ItemFactors.AsSpan(items[h] * k, k);
            var confidence = 1 + alpha * values[h];
            AddOuter(a, y, confidence - 1, k);
            for (var f = 0; f < k; f++) b[f] += confidence * y[f];
        }
        for (var f = 0; f < k; f++) a[f * k + f] += lambda;
        return Solve(a, b, k);
    }

    /// <summary>YᵀY over every item's factors (k × k, row-major).</summary>
    public static double[] Gram(LatentFactorModel model)
    {
        var k = model.Rank;
        var a = new double[k * k];
        for (var i = 0; i < model.Items; i++) AddOuter(a, model.ItemFactors.AsSpan(i * k, k), 1, k);
        return a;
    }

    /// <summary>
    /// Explicit ratings, as the platform's ALS fits them (ALS-WR, biases on): [p, b_u] minimises
    /// Σ_h (r_h − μ − b_h − p·q_h − b_u)² + λ·n‖p‖² + λ_b·n·b_u² over the n rated items; normal equations
    /// (Σ_h z_h z_hᵀ + diag(λn, …, λn, λ_b n)) [p, b_u] = Σ_h (r_h − μ − b_h) z_h with z_h = [q_h, 1].
    /// Returns p followed by b_u.
    /// </summary>
    public static float[] Explicit(LatentFactorModel model, ReadOnlySpan<int> items, ReadOnlySpan<float> ratings, double lambda, double biasLambda)
    {
        var k = model.Rank;
        var n = k + 1;
        var a = new double[n * n];
        var b = new double[n];
        var z = new float[n];
        for (var h = 0; h < items.Length; h++)
        {
            model.ItemFactors.AsSpan(items[h] * k, k).CopyTo(z);
            z[k] = 1;
            AddOuter(a, z, 1, n);
            var target = ratings[h] - model.Mean - (model.ItemBias?[items[h]] ?? 0);
            for (var f = 0; f < n; f++) b[f] += target * z[f];
        }
        for (var f = 0; f < k; f++) a[f * n + f] += lambda * items.Length;
        a[k * n + k] += biasLambda * items.Length;
        return Solve(a, b, n);
    }

    private static void AddOuter(double[] a, ReadOnlySpan<float> y, double weight, int k)
    {
        for (var r = 0; r < k; r++)
        {
            var scaled = weight * y[r];
            for (var c = 0; c < k; c++) a[r * k + c] += scaled * y[c];
        }
    }

    private static float[] Solve(double[] a, double[] b, int n)
    {
        if (!DenseMath.CholeskySolve(a, b, n)) throw new ExperimentsException("The fold-in normal equations are not positive definite; raise lambda above 0.");
        return b.Select(v => (float)v).ToArray();
    }
}

/// <summary>
/// A fitted model that also serves users it was not trained on, from a history given at scoring time (their first few
/// interactions): latent-factor models fold the history in (<see cref="FoldIn"/>), EASE scores the history through its
/// item–item weights (X_u·B), item-kNN sums the history's neighbours, popularity is the same for everyone. Users with
/// training rows are scored by the model as it is.
/// </summary>
public sealed class HistoryScoredModel : IRecommenderModel
{
    private readonly IRecommenderModel _model;
    private readonly UserItemMatrix _histories;
    private readonly bool[] _served;
    private readonly Scorer _score;

    /// <summary>Scores every item for a user from a history (items, values).</summary>
    public delegate void Scorer(ReadOnlySpan<int> items, ReadOnlySpan<float> values, Span<float> scores);

    /// <param name="histories">The new users' histories (rows of users with training rows are not read).</param>
    /// <param name="trained">Whether each user has training rows.</param>
    public HistoryScoredModel(IRecommenderModel model, UserItemMatrix histories, bool[] trained, Scorer score)
    {
        _model = model;
        _histories = histories;
        _served = Enumerable.Range(0, histories.Rows).Select(u => (u >= trained.Length || !trained[u]) && histories.RowLength(u) > 0).ToArray();
        _score = score;
    }

    public void ScoreItems(int user, Span<float> scores)
    {
        if (user < _served.Length && _served[user]) _score(_histories.RowIndices(user), _histories.RowValues(user), scores);
        else _model.ScoreItems(user, scores);
    }

    public bool PredictsRatings => _model.PredictsRatings;
    public float PredictRating(int user, int item) => _model.PredictRating(user, item);

    /// <summary>
    /// How <paramref name="model"/> (of definition type <paramref name="type"/> with its <paramref name="parameters"/>)
    /// scores a user from a history alone; an error for models with no such rule (BPR, SVD++, Bayesian MF).
    /// </summary>
    public static Scorer For(IRecommenderModel model, string type, IReadOnlyDictionary<string, object> parameters)
    {
        var p = new Core.Definitions.ParameterValues(parameters, RecommenderCatalog.Models.FirstOrDefault(m => m.Type == type)?.Parameters);
        switch (model)
        {
            case LatentFactorModel factors when type == "implicit-als":
            {
                var (lambda, alpha) = (p.Number("lambda"), p.Number("alpha"));
                var gram = new Lazy<double[]>(() => FoldIn.Gram(factors));
                return (items, values, scores) => Dot(factors, FoldIn.Implicit(factors, items, values, lambda, alpha, gram.Value), scores);
            }
            case LatentFactorModel factors when type == "matrix-factorization" && p.Text("solver") == "als":
            {
                var (lambda, biasLambda) = (p.Number("lambda"), p.Number("biasLambda"));
                return (items, values, scores) => Dot(factors, FoldIn.Explicit(factors, items, values, lambda, biasLambda), scores);
            }
            case EaseModel ease:
                return (items, _, scores) =>
                {
                    scores.Clear();
                    foreach (var from in items)
                        foreach (var to in ease.ModelledItems) scores[to] += ease.Weight(from, to);
                };
            case ItemKnnModel knn:
                return (items, _, scores) =>
                {
                    scores.Clear();
                    foreach (var from in items)
                        foreach (var (to, similarity) in knn.Neighbours(from)) scores[to] += similarity;
                };
            case FixedScoreModel fixedScores:
                return (_, _, scores) => fixedScores.Scores.CopyTo(scores);
            default:
                throw new ExperimentsException($"Model type '{type}' cannot score a user it was not trained on from a few interactions; for cold-start users use implicit-als, matrix-factorization (als), ease, item-knn, text-knn or a popularity model.");
        }
    }

    private static void Dot(LatentFactorModel model, float[] user, Span<float> scores)
    {
        var k = model.Rank;
        for (var i = 0; i < Math.Min(scores.Length, model.Items); i++)
            scores[i] = Vectors.Dot(user.AsSpan(0, k), model.ItemFactors.AsSpan(i * k, k)) + (model.ItemBias?[i] ?? 0);
    }
}

/// <summary>A model whose candidates are limited to some items (cold-start items: those without training rows); the others score −∞.</summary>
public sealed class RestrictedModel(IRecommenderModel model, bool[] allowed) : IRecommenderModel
{
    public void ScoreItems(int user, Span<float> scores)
    {
        model.ScoreItems(user, scores);
        for (var i = 0; i < scores.Length; i++)
            if (i >= allowed.Length || !allowed[i]) scores[i] = float.NegativeInfinity;
    }

    public bool PredictsRatings => model.PredictsRatings;
    public float PredictRating(int user, int item) => model.PredictRating(user, item);
}
