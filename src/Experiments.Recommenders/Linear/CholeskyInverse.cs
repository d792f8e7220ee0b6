using System.Numerics;
using System.Runtime.CompilerServices;

namespace Experiments.Recommenders.Linear;

/// <summary>A matrix that should be symmetric positive definite is not, in floating point: its Cholesky pivot at <see cref="Column"/> is not positive.</summary>
public sealed class NotPositiveDefiniteException(int column, double pivot)
    : ArithmeticException($"The matrix is not positive definite: Cholesky pivot {column} is {pivot:G4}.")
{
    public int Column { get; } = column;
    public double Pivot { get; } = pivot;
}

/// <summary>
/// The inverse of a symmetric positive-definite matrix, in place on a row-major n × n array of float or double, in three
/// O(n³/3) steps as LAPACK's potrf + potri do: the Cholesky factor A = L·Lᵀ, its inverse W = L⁻¹, and A⁻¹ = Wᵀ·W.
/// Each step works on tiles of <see cref="Tile"/> × <see cref="Tile"/>: its triangular solves become products with the
/// inverse of a diagonal tile, so nearly all the work is one register-blocked matrix-product kernel whose operands stay
/// in cache, and the independent tiles of a step run in parallel. Every tile is computed by one thread in a fixed order,
/// so the result is bit-for-bit the same whatever the thread timing or the number of cores.
/// </summary>
public static class CholeskyInverse
{
    /// <summary>Rows and columns per tile: a multiple of the kernel's 6 rows and of 2 SIMD vectors of float or double.</summary>
    public const int Tile = 96;

    /// <summary>The largest order whose n² entries fit one .NET array.</summary>
    public static readonly int MaxOrder = (int)Math.Sqrt(Array.MaxLength);

    /// <summary>Extra memory, in entries of the element type, that <see cref="Invert{T}"/> allocates beside the matrix.</summary>
    public static long WorkspaceEntries(int n) => 2L * Tile * n + Tile * Tile;

    /// <summary>
    /// Replaces <paramref name="a"/> (n × n, row-major; only its lower triangle is read) by its inverse, both triangles filled.
    /// Throws <see cref="NotPositiveDefiniteException"/> when a pivot is not positive and finite.
    /// </summary>
    public static void Invert<T>(T[] a, int n, CancellationToken cancel = default) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(a, n);
        var work = new Workspace<T>(n, cancel);
        Factor(a, n, work);
        ZeroUpper(a, n, work.Options);
        InvertFactor(a, n, work);
        MultiplyTransposedFactor(a, n, work);
        MirrorLower(a, n, work.Options);
    }

    /// <summary>Replaces the lower triangle of <paramref name="a"/> by the Cholesky factor L with A = L·Lᵀ; the upper triangle is left undefined.</summary>
    public static void Cholesky<T>(T[] a, int n, CancellationToken cancel = default) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Check(a, n);
        Factor(a, n, new Workspace<T>(n, cancel));
    }

    private static void Check<T>(T[] a, int n)
    {
        if (n < 0 || n > MaxOrder) throw new ArgumentOutOfRangeException(nameof(n), n, $"The order must be between 0 and {MaxOrder}.");
        if (a.Length < n * n) throw new ArgumentException($"The array holds {a.Length} entries; an {n} × {n} matrix needs {n * n}.", nameof(a));
    }

    /// <summary>Two Tile × n panels and the transposed inverse of one diagonal tile (Tile × Tile), shared by the steps.</summary>
    private sealed class Workspace<T>(int n, CancellationToken cancel)
    {
        public readonly T[] First = new T[Tile * n];
        public readonly T[] Second = new T[Tile * n];
        public readonly T[] DiagonalInverse = new T[Tile * Tile];
        public readonly ParallelOptions Options = new() { CancellationToken = cancel };
    }

    /// <summary>
    /// Right-looking blocked Cholesky: per block column K, factor its diagonal tile, solve the panel below it as
    /// L_IK = A_IK · L_KK⁻ᵀ (row tiles in parallel), then subtract L_IK·L_JKᵀ from every tile (I, J) of the trailing lower
    /// triangle (tiles in parallel).
    /// </summary>
    private static void Factor<T>(T[] a, int n, Workspace<T> work) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (panel, solved, inverse) = (work.First, work.Second, work.DiagonalInverse);
        for (var kb = 0; kb < n; kb += Tile)
        {
            work.Options.CancellationToken.ThrowIfCancellationRequested();
            var kw = Math.Min(Tile, n - kb);
            var rest = kb + kw;
            FactorDiagonal(a, n, kb, kw);
            var below = n - rest;
            if (below == 0) break;
            InvertDiagonal(a, n, kb, kw, inverse);
            var tiles = Tiles(below);
            // The panel transposed (kw × below), then solved: L_IKᵀ = L_KK⁻¹ · A_IKᵀ, kept transposed for the update.
            Parallel.For(0, tiles, work.Options, t =>
            {
                var ib = t * Tile;
                var iw = Math.Min(Tile, below - ib);
                for (var i = ib; i < ib + iw; i++)
                    for (var m = 0; m < kw; m++) panel[m * below + i] = a[(rest + i) * n + kb + m];
                for (var m = 0; m < kw; m++) solved.AsSpan(m * below + ib, iw).Clear();
                MultiplyAdd(ref inverse[0], Tile, ref panel[ib], below, ref solved[ib], below, kw, iw, kw, subtract: false);
                for (var i = ib; i < ib + iw; i++)
                    for (var m = 0; m < kw; m++) a[(rest + i) * n + kb + m] = solved[m * below + i];
            });
            Parallel.For(0, tiles * (tiles + 1) / 2, work.Options, t =>
            {
                var (ti, tj) = LowerTile(t);
                int ib = ti * Tile, jb = tj * Tile;
                MultiplyAdd(ref solved[ib], below, ref solved[jb], below, ref a[(rest + ib) * n + rest + jb], n,
                    Math.Min(Tile, below - ib), Math.Min(Tile, below - jb), kw, subtract: true);
            });
        }
    }

    /// <summary>Unblocked Cholesky of the diagonal tile at (kb, kb), whose earlier block columns are already subtracted.</summary>
    private static void FactorDiagonal<T>(T[] a, int n, int kb, int kw) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var failed = DenseMath.CholeskyFactor(a.AsSpan(kb * n + kb), n, kw);
        if (failed < 0) return;
        var j = kb + failed;
        var pivot = a[j * n + j] - DenseMath.Dot<T>(a.AsSpan(j * n + kb, failed), a.AsSpan(j * n + kb, failed));
        throw new NotPositiveDefiniteException(j, double.CreateTruncating(pivot));
    }

    /// <summary>
    /// The inverse of the lower-triangular diagonal tile L at (kb, kb), transposed: inverse[c·Tile + r] = (L⁻¹)[r, c]
    /// (zero for r &lt; c). Row c of it solves L·x = e_c by forward substitution.
    /// </summary>
    private static void InvertDiagonal<T>(T[] a, int n, int kb, int kw, T[] inverse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Array.Clear(inverse);
        for (var c = 0; c < kw; c++)
        {
            var x = inverse.AsSpan(c * Tile, kw);
            for (var r = c; r < kw; r++)
                x[r] = ((r == c ? T.One : T.Zero) - DenseMath.Dot<T>(a.AsSpan((kb + r) * n + kb + c, r - c), x[c..r])) / a[(kb + r) * n + kb + r];
        }
    }

    private static void ZeroUpper<T>(T[] a, int n, ParallelOptions options) =>
        Parallel.For(0, n, options, i => a.AsSpan(i * n + i + 1, n - i - 1).Clear());

    /// <summary>
    /// W = L⁻¹ by block rows I, top to bottom: W_II = L_II⁻¹ and, for J &lt; I, W_IJ = Σ_{J ≤ M &lt; I} Q_IM · W_MJ with
    /// Q_I = −L_II⁻¹ · L_I,0..I. The column tiles of a block row are independent and run in parallel into a buffer; the
    /// block row is written back once all have read L_I.
    /// </summary>
    private static void InvertFactor<T>(T[] a, int n, Workspace<T> work) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (q, rows, inverse) = (work.First, work.Second, work.DiagonalInverse);
        for (var ib = 0; ib < n; ib += Tile)
        {
            work.Options.CancellationToken.ThrowIfCancellationRequested();
            var iw = Math.Min(Tile, n - ib);
            InvertDiagonal(a, n, ib, iw, inverse);
            // Q_I transposed (ib × iw): q[m·iw + r] = −Σ_s L[ib + s, m] · (L_II⁻¹)[r, s].
            Parallel.For(0, ib / Tile, work.Options, t =>
            {
                var mb = t * Tile;
                q.AsSpan(mb * iw, Tile * iw).Clear();
                MultiplyAdd(ref a[ib * n + mb], n, ref inverse[0], Tile, ref q[mb * iw], iw, Tile, iw, iw, subtract: true);
            });
            Parallel.For(0, ib / Tile + 1, work.Options, tj =>
            {
                var jb = tj * Tile;
                var jw = Math.Min(Tile, n - jb);
                for (var r = 0; r < iw; r++) rows.AsSpan(r * n + jb, jw).Clear();
                if (jb == ib)
                    for (var r = 0; r < iw; r++)
                        for (var c = 0; c <= r; c++) rows[r * n + ib + c] = inverse[c * Tile + r];
                else
                    MultiplyAdd(ref q[jb * iw], iw, ref a[jb * n + jb], n, ref rows[jb], n, iw, jw, ib - jb, subtract: false);
            });
            for (var r = 0; r < iw; r++) rows.AsSpan(r * n, ib + iw).CopyTo(a.AsSpan((ib + r) * n, ib + iw));
        }
    }

    /// <summary>
    /// A⁻¹ = Wᵀ·W (lower triangle and diagonal tiles) by block rows I, top to bottom: P_IJ = Σ_{M ≥ I} W_MIᵀ · W_MJ reads
    /// only block rows ≥ I of W, so each block row, computed in parallel over its column tiles, can then overwrite W_I.
    /// </summary>
    private static void MultiplyTransposedFactor<T>(T[] a, int n, Workspace<T> work) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = work.Second;
        for (var ib = 0; ib < n; ib += Tile)
        {
            work.Options.CancellationToken.ThrowIfCancellationRequested();
            var iw = Math.Min(Tile, n - ib);
            Parallel.For(0, ib / Tile + 1, work.Options, tj =>
            {
                var jb = tj * Tile;
                var jw = Math.Min(Tile, n - jb);
                for (var r = 0; r < iw; r++) rows.AsSpan(r * n + jb, jw).Clear();
                MultiplyAdd(ref a[ib * n + ib], n, ref a[ib * n + jb], n, ref rows[jb], n, iw, jw, n - ib, subtract: false);
            });
            for (var r = 0; r < iw; r++) rows.AsSpan(r * n, ib + iw).CopyTo(a.AsSpan((ib + r) * n, ib + iw));
        }
    }

    /// <summary>Copies the strictly lower triangle onto the upper one, tile by tile.</summary>
    private static void MirrorLower<T>(T[] a, int n, ParallelOptions options) =>
        Parallel.For(0, Tiles(n), options, ti =>
        {
            var end = Math.Min(n, (ti + 1) * Tile);
            for (var jb = 0; jb < ti * Tile + Tile && jb < n; jb += Tile)
                for (var i = ti * Tile; i < end; i++)
                    for (var j = jb; j < Math.Min(i, jb + Tile); j++) a[j * n + i] = a[i * n + j];
        });

    private static int Tiles(int length) => (length + Tile - 1) / Tile;

    /// <summary>The (row, column) of the t-th tile of a lower triangle numbered row by row: (0,0), (1,0), (1,1), (2,0), …</summary>
    private static (int Row, int Column) LowerTile(int t)
    {
        var row = (int)((Math.Sqrt(8.0 * t + 1) - 1) / 2);
        while (row * (row + 1) / 2 > t) row--;
        while ((row + 1) * (row + 2) / 2 <= t) row++;
        return (row, t - row * (row + 1) / 2);
    }

    /// <summary>
    /// C ± Σ_m A[m, r] · B[m, c] for r &lt; rows, c &lt; cols, m &lt; depth, where A[m, r] = a[m·lda + r], B[m, c] = b[m·ldb + c]
    /// and C[r, c] = c[r·ldc + c]: a matrix product whose operands are read a row of m at a time. The depth is cut in
    /// chunks so that a chunk of B stays in cache while every 6-row strip of C passes over it; each strip keeps 6 × 2 SIMD
    /// vectors of C in registers (12 accumulators hide the latency of the fused multiply-adds).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyAdd<T>(ref T a, int lda, ref T b, int ldb, ref T c, int ldc, int rows, int cols, int depth, bool subtract)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int DepthChunk = 256;
        var width = 2 * Vector<T>.Count;
        for (var p = 0; p < depth; p += DepthChunk)
        {
            var pd = Math.Min(DepthChunk, depth - p);
            ref var ap = ref Unsafe.Add(ref a, (nint)p * lda);
            ref var bp = ref Unsafe.Add(ref b, (nint)p * ldb);
            var r = 0;
            for (; r + 6 <= rows; r += 6)
            {
                var j = 0;
                for (; j + width <= cols; j += width)
                    Strip6(ref Unsafe.Add(ref ap, r), lda, ref Unsafe.Add(ref bp, j), ldb, ref Unsafe.Add(ref c, (nint)r * ldc + j), ldc, pd, subtract);
                for (var rr = r; rr < r + 6 && j < cols; rr++)
                    Row(ref Unsafe.Add(ref ap, rr), lda, ref Unsafe.Add(ref bp, j), ldb, ref Unsafe.Add(ref c, (nint)rr * ldc + j), cols - j, pd, subtract);
            }
            for (; r < rows; r++)
                Row(ref Unsafe.Add(ref ap, r), lda, ref bp, ldb, ref Unsafe.Add(ref c, (nint)r * ldc), cols, pd, subtract);
        }
    }

    /// <summary>6 rows × 2 vectors of C, accumulated over <paramref name="depth"/> in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Strip6<T>(ref T a, int lda, ref T b, int ldb, ref T c, int ldc, int depth, bool subtract)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = (nuint)Vector<T>.Count;
        Vector<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var m = 0; m < depth; m++)
        {
            var b0 = Vector.LoadUnsafe(ref b);
            var b1 = Vector.LoadUnsafe(ref b, v);
            var x = new Vector<T>(a);
            c00 = Fma(x, b0, c00);
            c01 = Fma(x, b1, c01);
            x = new Vector<T>(Unsafe.Add(ref a, 1));
            c10 = Fma(x, b0, c10);
            c11 = Fma(x, b1, c11);
            x = new Vector<T>(Unsafe.Add(ref a, 2));
            c20 = Fma(x, b0, c20);
            c21 = Fma(x, b1, c21);
            x = new Vector<T>(Unsafe.Add(ref a, 3));
            c30 = Fma(x, b0, c30);
            c31 = Fma(x, b1, c31);
            x = new Vector<T>(Unsafe.Add(ref a, 4));
            c40 = Fma(x, b0, c40);
            c41 = Fma(x, b1, c41);
            x = new Vector<T>(Unsafe.Add(ref a, 5));
            c50 = Fma(x, b0, c50);
            c51 = Fma(x, b1, c51);
            a = ref Unsafe.Add(ref a, lda);
            b = ref Unsafe.Add(ref b, ldb);
        }
        Store(ref c, c00, c01, v, subtract);
        Store(ref Unsafe.Add(ref c, ldc), c10, c11, v, subtract);
        Store(ref Unsafe.Add(ref c, 2 * ldc), c20, c21, v, subtract);
        Store(ref Unsafe.Add(ref c, 3 * ldc), c30, c31, v, subtract);
        Store(ref Unsafe.Add(ref c, 4 * ldc), c40, c41, v, subtract);
        Store(ref Unsafe.Add(ref c, 5 * ldc), c50, c51, v, subtract);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(ref T c, Vector<T> first, Vector<T> second, nuint v, bool subtract) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var x = Vector.LoadUnsafe(ref c);
        var y = Vector.LoadUnsafe(ref c, v);
        (subtract ? x - first : x + first).StoreUnsafe(ref c);
        (subtract ? y - second : y + second).StoreUnsafe(ref c, v);
    }

    /// <summary>One row of C over <paramref name="cols"/> columns: SIMD vectors, then single entries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row<T>(ref T a, int lda, ref T b, int ldb, ref T c, int cols, int depth, bool subtract)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = Vector<T>.Count;
        var j = 0;
        for (; j + v <= cols; j += v)
        {
            var sum = Vector<T>.Zero;
            for (var m = 0; m < depth; m++)
                sum = Fma(new Vector<T>(Unsafe.Add(ref a, (nint)m * lda)), Vector.LoadUnsafe(ref Unsafe.Add(ref b, (nint)m * ldb + j)), sum);
            var x = Vector.LoadUnsafe(ref Unsafe.Add(ref c, j));
            (subtract ? x - sum : x + sum).StoreUnsafe(ref Unsafe.Add(ref c, j));
        }
        for (; j < cols; j++)
        {
            var sum = T.Zero;
            for (var m = 0; m < depth; m++) sum = T.MultiplyAddEstimate(Unsafe.Add(ref a, (nint)m * lda), Unsafe.Add(ref b, (nint)m * ldb + j), sum);
            ref var target = ref Unsafe.Add(ref c, j);
            target = subtract ? target - sum : target + sum;
        }
    }

    /// <summary>x·y + z, fused where the hardware has it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Fma<T>(Vector<T> x, Vector<T> y, Vector<T> z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double)) return Vector.MultiplyAddEstimate(x.As<T, double>(), y.As<T, double>(), z.As<T, double>()).As<double, T>();
        if (typeof(T) == typeof(float)) return Vector.MultiplyAddEstimate(x.As<T, float>(), y.As<T, float>(), z.As<T, float>()).As<float, T>();
        return x * y + z;
    }
}
