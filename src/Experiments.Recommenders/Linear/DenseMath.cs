using System.Numerics;

namespace Experiments.Recommenders.Linear;

/// <summary>The small dense linear algebra the factorisation solvers need: dot products, Cholesky solves, an SPD inverse.</summary>
public static class DenseMath
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => Core.Models.Vectors.Dot(a, b);

    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var sum = Vector<double>.Zero;
        var i = 0;
        for (; i <= a.Length - Vector<double>.Count; i += Vector<double>.Count)
            sum += new Vector<double>(a[i..]) * new Vector<double>(b[i..]);
        var result = Vector.Sum(sum);
        for (; i < a.Length; i++) result += a[i] * b[i];
        return result;
    }

    /// <summary>y += alpha · x.</summary>
    public static void AddScaled(Span<float> y, float alpha, ReadOnlySpan<float> x)
    {
        var i = 0;
        var a = new Vector<float>(alpha);
        for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            (new Vector<float>(y[i..]) + a * new Vector<float>(x[i..])).CopyTo(y[i..]);
        for (; i < y.Length; i++) y[i] += alpha * x[i];
    }

    /// <summary>y += alpha · x, in double.</summary>
    public static void AddScaled(Span<double> y, double alpha, ReadOnlySpan<double> x)
    {
        var i = 0;
        var a = new Vector<double>(alpha);
        for (; i <= y.Length - Vector<double>.Count; i += Vector<double>.Count)
            (new Vector<double>(y[i..]) + a * new Vector<double>(x[i..])).CopyTo(y[i..]);
        for (; i < y.Length; i++) y[i] += alpha * x[i];
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
    /// Solves A x = b for a symmetric positive-definite n × n matrix A (row-major, overwritten by its Cholesky factor);
    /// b is overwritten by x. Returns false when A is not positive definite.
    /// </summary>
    public static bool CholeskySolve(Span<double> a, Span<double> b, int n)
    {
        for (var j = 0; j < n; j++)
        {
            var rowJ = a.Slice(j * n, j);
            var d = a[j * n + j] - Dot(rowJ, rowJ);
            if (d <= 0 || !double.IsFinite(d)) return false;
            d = Math.Sqrt(d);
            a[j * n + j] = d;
            for (var i = j + 1; i < n; i++) a[i * n + j] = (a[i * n + j] - Dot(a.Slice(i * n, j), rowJ)) / d;
        }
        for (var i = 0; i < n; i++) b[i] = (b[i] - Dot(a.Slice(i * n, i), b[..i])) / a[i * n + i];
        for (var i = n - 1; i >= 0; i--)
        {
            var s = b[i];
            for (var k = i + 1; k < n; k++) s -= a[k * n + i] * b[k];
            b[i] = s / a[i * n + i];
        }
        return true;
    }

    /// <summary>
    /// Inverts a symmetric positive-definite n × n matrix in place (row-major) by Gauss–Jordan elimination without
    /// pivoting (stable for SPD matrices), parallel over rows. O(n³); used by EASE's closed form.
    /// </summary>
    public static void InvertSpd(double[] a, int n, CancellationToken cancel = default)
    {
        for (var k = 0; k < n; k++)
        {
            cancel.ThrowIfCancellationRequested();
            var pivot = a[(long)k * n + k];
            if (pivot <= 0 || !double.IsFinite(pivot)) throw new InvalidOperationException("The matrix is not positive definite.");
            var rowK = new double[n];
            Array.Copy(a, (long)k * n, rowK, 0, n);
            var inv = 1 / pivot;
            Parallel.For(0, n, i =>
            {
                if (i == k) return;
                var row = a.AsSpan((int)((long)i * n), n);
                var factor = row[k] * inv;
                if (factor == 0) return;
                var j = 0;
                var f = new Vector<double>(factor);
                for (; j <= n - Vector<double>.Count; j += Vector<double>.Count)
                    (new Vector<double>(row[j..]) - f * new Vector<double>(rowK.AsSpan(j))).CopyTo(row[j..]);
                for (; j < n; j++) row[j] -= factor * rowK[j];
                row[k] = -factor;
            });
            var pivotRow = a.AsSpan((int)((long)k * n), n);
            for (var j = 0; j < n; j++) pivotRow[j] *= inv;
            pivotRow[k] = inv;
        }
    }
}
