using Experiments.Core.Data;
using Experiments.Recommenders.Factorization;

namespace Experiments.Tests.Recommenders;

/// <summary>SVD++'s SGD checked against plain gradient descent on its loss, differentiated numerically by the test.</summary>
[TestClass]
public sealed class SvdPlusPlusTests
{
    private const int Rank = 3;

    /// <summary>
    /// The parameters, flattened: P (users × k), Q (items × k), Y (items × k), user biases, item biases. The loss of one
    /// rating (Koren 2008, eq. 15 with the regularisation of the parameters the rating touches):
    /// ½(r − μ − b_u − b_i − q_iᵀ(p_u + |N(u)|^−½ Σ_{j∈N(u)} y_j))² + ½λ(‖p_u‖² + ‖q_i‖² + Σ_{j∈N(u)} ‖y_j‖²) + ½λ_b(b_u² + b_i²).
    /// </summary>
    private static double Loss(double[] t, int users, int items, int u, int i, double r, int[] rated, double mean, double lambda, double biasLambda)
    {
        int P(int user, int f) => user * Rank + f;
        int Q(int item, int f) => users * Rank + item * Rank + f;
        int Y(int item, int f) => users * Rank + items * Rank + item * Rank + f;
        int Bu(int user) => users * Rank + 2 * items * Rank + user;
        int Bi(int item) => users * Rank + 2 * items * Rank + users + item;
        var prediction = mean + t[Bu(u)] + t[Bi(i)];
        for (var f = 0; f < Rank; f++)
        {
            var implicitSum = rated.Sum(j => t[Y(j, f)]) / Math.Sqrt(rated.Length);
            prediction += t[Q(i, f)] * (t[P(u, f)] + implicitSum);
        }
        var squares = 0.0;
        for (var f = 0; f < Rank; f++) squares += t[P(u, f)] * t[P(u, f)] + t[Q(i, f)] * t[Q(i, f)] + rated.Sum(j => t[Y(j, f)] * t[Y(j, f)]);
        return 0.5 * (r - prediction) * (r - prediction) + 0.5 * lambda * squares + 0.5 * biasLambda * (t[Bu(u)] * t[Bu(u)] + t[Bi(i)] * t[Bi(i)]);
    }

    private static double[] Flatten(SvdPlusPlusState s) => [.. s.P.Select(v => (double)v), .. s.Q.Select(v => (double)v), .. s.Y.Select(v => (double)v), .. s.UserBias.Select(v => (double)v), .. s.ItemBias.Select(v => (double)v)];

    [TestMethod]
    public void A_users_sgd_pass_is_gradient_steps_on_the_loss_of_each_rating_in_turn()
    {
        var builder = new InteractionsBuilder();
        foreach (var (u, i, r) in new[] { ("a", "w", 4f), ("a", "x", 2f), ("a", "z", 5f), ("b", "x", 3f), ("b", "y", 1f), ("c", "z", 4f) })
            builder.Add(u, i, r);
        var data = builder.Build();
        var ratings = UserItemMatrix.ByUser(data);
        const float lr = 0.1f, lambda = 0.05f, biasLambda = 0.02f;
        var state = new SvdPlusPlusState(Rank, ratings, 3.1f, 0.5, new Random(3));
        for (var b = 0; b < state.UserBias.Length; b++) state.UserBias[b] = 0.1f * (b + 1);
        for (var b = 0; b < state.ItemBias.Length; b++) state.ItemBias[b] = -0.05f * (b + 1);
        var expected = Flatten(state);
        int users = data.Users.Count, items = data.Items.Count;

        // User "a" (index 0) rated w, x, z; visit them in the order z, w, x (positions 2, 0, 1 of its row).
        var rated = ratings.RowIndices(0).ToArray();
        int[] order = [2, 0, 1];
        foreach (var c in order)
        {
            var item = rated[c];
            var rating = ratings.RowValues(0)[c];
            var gradient = new double[expected.Length];
            for (var p = 0; p < expected.Length; p++)
            {
                const double h = 1e-6;
                var plus = (double[])expected.Clone();
                var minus = (double[])expected.Clone();
                plus[p] += h;
                minus[p] -= h;
                gradient[p] = (Loss(plus, users, items, 0, item, rating, rated, 3.1, lambda, biasLambda) - Loss(minus, users, items, 0, item, rating, rated, 3.1, lambda, biasLambda)) / (2 * h);
            }
            for (var p = 0; p < expected.Length; p++) expected[p] -= lr * gradient[p];
        }

        state.UserStep(0, order, lr, lambda, biasLambda);
        var actual = Flatten(state);
        for (var p = 0; p < expected.Length; p++) Assert.AreEqual(expected[p], actual[p], 2e-5, $"parameter {p}");
    }

    [TestMethod]
    public void The_fitted_model_folds_the_implicit_feedback_into_the_user_factors()
    {
        var builder = new InteractionsBuilder();
        foreach (var (u, i, r) in new[] { ("a", "w", 4f), ("a", "x", 2f), ("b", "x", 3f), ("b", "y", 1f) }) builder.Add(u, i, r);
        var ratings = UserItemMatrix.ByUser(builder.Build());
        var state = new SvdPlusPlusState(Rank, ratings, 2.5f, 0.5, new Random(4));
        var model = state.Model();
        // user b rated x (1) and y (2): p_b + (y_x + y_y) / √2, and r̂ = μ + b_u + b_i + q_iᵀ(that).
        for (var f = 0; f < Rank; f++)
            Assert.AreEqual(state.P[Rank + f] + (state.Y[Rank + f] + state.Y[2 * Rank + f]) / Math.Sqrt(2), model.UserFactors[Rank + f], 1e-6);
        var expected = 2.5 + Enumerable.Range(0, Rank).Sum(f => (double)state.Q[f] * model.UserFactors[Rank + f]);
        Assert.AreEqual(expected, model.PredictRating(1, 0), 1e-5);
    }
}
