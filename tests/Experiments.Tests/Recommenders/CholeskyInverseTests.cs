using System.Numerics;
using Experiments.Recommenders.Linear;

namespace Experiments.Tests.Recommenders;

/// <summary>The blocked, parallel SPD inverse checked against its defining equations on random SPD matrices.</summary>
[TestClass]
public sealed class CholeskyInverseTests
{
    /// <summary>A = MᵀM / n + I for a random M: symmetric positive definite with eigenvalues in [1, ~5].</summary>
    private static double[] RandomSpd(int n, int seed)
    {
        var random = new Random(seed);
        var m = new double[n * n];
        for (var i = 0; i < m.Length; i++) m[i] = random.NextDouble() * 2 - 1;
        var a = new double[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                var sum = 0.0;
                for (var k = 0; k < n; k++) sum += m[k * n + i] * m[k * n + j];
                a[i * n + j] = sum / n + (i == j ? 1 : 0);
            }
        return a;
    }

    /// <summary>max |(A·P − I)_ij|, in double whatever the precision of P.</summary>
    private static double Residual<T>(double[] a, T[] p, int n) where T : IFloatingPointIeee754<T>
    {
        var worst = 0.0;
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                var sum = i == j ? -1.0 : 0.0;
                for (var k = 0; k < n; k++) sum += a[i * n + k] * double.CreateTruncating(p[k * n + j]);
                worst = Math.Max(worst, Math.Abs(sum));
            }
        return worst;
    }

    /// <summary>Only the lower triangle is input: the upper one is filled with garbage the solver must not read.</summary>
    private static T[] LowerOnly<T>(double[] a, int n) where T : IFloatingPointIeee754<T>
    {
        var copy = new T[n * n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) copy[i * n + j] = j <= i ? T.CreateTruncating(a[i * n + j]) : T.CreateTruncating(1e6);
        return copy;
    }

    // Orders below, at and across tile boundaries (64), with partial last tiles and SIMD remainders.
    [TestMethod]
    [DataRow(1)]
    [DataRow(7)]
    [DataRow(64)]
    [DataRow(131)]
    [DataRow(200)]
    public void The_inverse_times_the_matrix_is_the_identity(int n)
    {
        var a = RandomSpd(n, n);
        var p = LowerOnly<double>(a, n);
        CholeskyInverse.Invert(p, n);
        Assert.IsLessThan(1e-12, Residual(a, p, n), "float64");
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) Assert.AreEqual(p[i * n + j], p[j * n + i], $"symmetric at ({i}, {j})");

        var single = LowerOnly<float>(a, n);
        CholeskyInverse.Invert(single, n);
        Assert.IsLessThan(1e-5, Residual(a, single, n), "float32");
    }

    [TestMethod]
    public void The_factor_reproduces_the_matrix()
    {
        const int n = 150;
        var a = RandomSpd(n, 3);
        var l = LowerOnly<double>(a, n);
        CholeskyInverse.Cholesky(l, n);
        for (var i = 0; i < n; i++)
            for (var j = 0; j <= i; j++)
            {
                var sum = 0.0;
                for (var k = 0; k <= j; k++) sum += l[i * n + k] * l[j * n + k];
                Assert.AreEqual(a[i * n + j], sum, 1e-12, $"(L·Lᵀ)[{i}, {j}]");
            }
    }

    [TestMethod]
    public void Repeated_solves_are_bit_for_bit_equal()
    {
        const int n = 190;
        var a = RandomSpd(n, 5);
        var first = LowerOnly<double>(a, n);
        var second = LowerOnly<double>(a, n);
        CholeskyInverse.Invert(first, n);
        CholeskyInverse.Invert(second, n);
        CollectionAssert.AreEqual(first, second);
    }

    [TestMethod]
    public void An_indefinite_matrix_is_refused_at_its_first_bad_pivot()
    {
        // Leading 69 × 69 block positive definite; the 70th pivot is 1 − 4 < 0 (past the first tile).
        const int n = 100;
        var a = RandomSpd(n, 7);
        for (var j = 0; j < n; j++) a[69 * n + j] = a[j * n + 69] = 0;
        a[69 * n + 69] = -3;
        var e = Assert.ThrowsExactly<NotPositiveDefiniteException>(() => CholeskyInverse.Invert(LowerOnly<double>(a, n), n));
        Assert.AreEqual(69, e.Column);
        Assert.AreEqual(-3, e.Pivot, 1e-12);
    }
}
