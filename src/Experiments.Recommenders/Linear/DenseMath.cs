using System.Numerics;

namespace Experiments.Recommenders.Linear;

/// <summary>The small dense linear algebra the factorisation solvers need: dot products, scaled sums, small Cholesky solves (large SPD inverses: <see cref="CholeskyInverse"/>).</summary>
public static class DenseMath
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => Core.Models.Vectors.Dot(a, b);

    public static T Dot<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged, INumber<T>
    {
        var sum = Vector<T>.Zero;
        var i = 0;
        for (; i <= a.Length - Vector<T>.Count; i += Vector<T>.Count)
            sum += new Vector<T>(a[i..]) * new Vector<T>(b[i..]);
        var result = Vector.Sum(sum);
        for (; i < a.Length; i++) result += a[i] * b[i];
        return result;
    }

    /// <summary>y += alpha · x.</summary>
    public static void AddScaled(Span<float> y, float alpha, ReadOnlySpan<float> x) => AddScaled<float>(y, alpha, x);

    /// <summary>y += alpha · x, in double.</summary>
    public static void AddScaled(Span<double> y, double alpha, ReadOnlySpan<double> x) => AddScaled<double>(y, alpha, x);

    /// <summary>y += alpha · x.</summary>
    public static void AddScaled<T>(Span<T> y, T alpha, ReadOnlySpan<T> x) where T : unmanaged, INumber<T>
    {
        var i = 0;
        var a = new Vector<T>(alpha);
        for (; i <= y.Length - Vector<T>.Count; i += Vector<T>.Count)
            (new Vector<T>(y[i..]) + a * new Vector<T>(x[i..])).CopyTo(y[i..]);
        for (; i < y.Length; i++) y[i] += alpha * x[i];
    }

    /// <summary>y *= alpha.</summary>
    public static void Scale<T>(Span<T> y, T alpha) where T : unmanaged, INumber<T>
    {
        var i = 0;
        var a = new Vector<T>(alpha);
        for (; i <= y.Length - Vector<T>.Count; i += Vector<T>.Count) (new Vector<T>(y[i..]) * a).CopyTo(y[i..]);
        for (; i < y.Length; i++) y[i] *= alpha;
    }

    /// <summary>
    /// The SGD step of a factor pair, vectorised: p ← decay·p + step·q and q ← decay·q + step·p_old, where step = lr·error
    /// and decay = 1 − lr·λ.
    /// </summary>
    public static void GradientStep(Span<float> p, Span<float> q, float step, float decay)
    {
        var s = new Vector<float>(step);
        var d = new Vector<float>(decay);
        var i = 0;
        for (; i <= p.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var pv = new Vector<float>(p[i..]);
            var qv = new Vector<float>(q[i..]);
            (d * pv + s * qv).CopyTo(p[i..]);
            (d * qv + s * pv).CopyTo(q[i..]);
        }
        for (; i < p.Length; i++)
        {
            var old = p[i];
            p[i] = decay * old + step * q[i];
            q[i] = decay * q[i] + step * old;
        }
    }

    /// <summary>
    /// Unblocked Cholesky in place: the lower triangle of the size × size matrix whose rows start <paramref name="stride"/>
    /// entries apart in <paramref name="a"/> becomes L with A = L·Lᵀ (the upper triangle is not read). Returns the first
    /// column whose pivot is not positive and finite, or −1 when A is positive definite.
    /// </summary>
    public static int CholeskyFactor<T>(Span<T> a, int stride, int size) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var j = 0; j < size; j++)
        {
            var rowJ = a.Slice(j * stride, j);
            var d = a[j * stride + j] - Dot<T>(rowJ, rowJ);
            if (!(d > T.Zero) || !T.IsFinite(d)) return j;
            d = T.Sqrt(d);
            a[j * stride + j] = d;
            for (var i = j + 1; i < size; i++) a[i * stride + j] = (a[i * stride + j] - Dot<T>(a.Slice(i * stride, j), rowJ)) / d;
        }
        return -1;
    }

    /// <summary>
    /// Solves A x = b for a symmetric positive-definite n × n matrix A (row-major, overwritten by its Cholesky factor);
    /// b is overwritten by x. Returns false when A is not positive definite.
    /// </summary>
    public static bool CholeskySolve(Span<double> a, Span<double> b, int n)
    {
        if (CholeskyFactor(a, n, n) >= 0) return false;
        for (var i = 0; i < n; i++) b[i] = (b[i] - Dot<double>(a.Slice(i * n, i), b[..i])) / a[i * n + i];
        for (var i = n - 1; i >= 0; i--)
        {
            var s = b[i];
            for (var k = i + 1; k < n; k++) s -= a[k * n + i] * b[k];
            b[i] = s / a[i * n + i];
        }
        return true;
    }
}
