using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;
using Experiments.Recommenders.Linear;

namespace Experiments.Recommenders.Baselines;

public sealed record EaseOptions
{
    public static readonly EaseOptions Defaults = new();

    /// <summary>L2 weight λ added to the diagonal of the item Gram matrix.</summary>
    public double Lambda { get; init; } = 500;

    /// <summary>
    /// Model only the most popular items up to this many (the closed form costs O(items³) time and O(items²) memory);
    /// null models every item that has a training interaction. Items left out rank after every modelled item.
    /// </summary>
    public int? MaxItems { get; init; }

    /// <summary>
    /// Bytes the item × item matrices may take; null: what the GC reports available (physical memory or the container's
    /// limit) less what is in use. A fit that needs more is refused before it starts.
    /// </summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>
    /// Solve in float64 instead of float32: three times the memory (the float32 weights are kept beside the float64
    /// inverse) and twice the time. float32 is the default: on ml-latest-small and Amazon Beauty it ranks identically
    /// (docs/benchmarks.md), and every fit checks the inverse's residual, so a problem too ill-conditioned for float32
    /// (a tiny lambda) is an error that says to set this, never a silently worse model.
    /// </summary>
    public bool DoublePrecision { get; init; }
}

/// <summary>
/// EASE (Steck 2019): an item–item weight matrix B with zero diagonal minimising ‖X − XB‖² + λ‖B‖², in closed form:
/// P = (XᵀX + λI)⁻¹, B = I − P · diag(1 / diag(P)). X is the binary user–item matrix; score(u) = X_u B. P comes from a
/// blocked, parallel Cholesky inverse (<see cref="CholeskyInverse"/>), checked against its defining equation.
/// </summary>
public sealed class EaseTrainer(EaseOptions options) : IRecommenderTrainer
{
    /// <summary>The largest residual ‖(XᵀX + λI)·p_j − e_j‖∞ accepted for the checked columns of P.</summary>
    public const double ResidualTolerance = 1e-3;

    private const int CheckedColumns = 8;

    public EaseOptions Options { get; } = options;

    public IRecommenderModel Fit(Interactions train, CancellationToken cancel = default) => Options.DoublePrecision
        ? Fit<double>(train, cancel)
        : Fit<float>(train, cancel);

    private EaseModel Fit<T>(Interactions train, CancellationToken cancel) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.NotEmpty(train);
        if (!(Options.Lambda > 0) || !double.IsFinite(Options.Lambda)) throw new ExperimentsException($"EASE needs a finite lambda > 0; it is {Options.Lambda}.");
        if (Options.MaxItems is < 1) throw new ExperimentsException($"EASE's maxItems must be at least 1 (or absent, for every item); it is {Options.MaxItems}.");
        var byItem = UserItemMatrix.ByItem(train);
        var byUser = UserItemMatrix.ByUser(train);
        var modelled = ModelledItems(byItem, Options.MaxItems);
        var m = modelled.Length;
        CheckMemory<T>(m, train.Items.Count);
        var position = new int[train.Items.Count];
        Array.Fill(position, -1);
        for (var c = 0; c < m; c++) position[modelled[c]] = c;

        var p = Gram<T>(byItem, byUser, modelled, position, cancel);
        var lambda = T.CreateChecked(Options.Lambda);
        for (var i = 0; i < m; i++) p[i * m + i] += lambda;
        try
        {
            CholeskyInverse.Invert(p, m, cancel);
        }
        catch (NotPositiveDefiniteException e)
        {
            throw new ExperimentsException($"EASE's Gram matrix plus lambda·I lost positive definiteness in {Precision<T>()} at item '{train.Items[modelled[e.Column]]}' " +
                                           $"(pivot {e.Pivot:G3}): lambda {Options.Lambda} is too small for this data's scale. Raise lambda{(Options.DoublePrecision ? "" : " or set doublePrecision")}.");
        }
        var residual = Residual(p, byItem, byUser, modelled, position, Options.Lambda);
        if (!(residual <= ResidualTolerance))
            throw new ExperimentsException($"EASE's inverse of XᵀX + λI is not accurate enough in {Precision<T>()}: its residual ‖(XᵀX + λI)·P − I‖ on checked columns is {residual:G3} " +
                                           $"(at most {ResidualTolerance:G} accepted). Raise lambda (now {Options.Lambda}){(Options.DoublePrecision ? "" : " or set doublePrecision")}.");
        return new EaseModel(byUser, modelled, train.Items.Count, Weights(p, m), Options.MaxItems, Precision<T>(), residual);
    }

    /// <summary>Items with at least one training interaction, or the <paramref name="cap"/> most popular of them (ties: lower index), in index order.</summary>
    private static int[] ModelledItems(UserItemMatrix byItem, int? cap)
    {
        var seen = Enumerable.Range(0, byItem.Rows).Where(i => byItem.RowLength(i) > 0);
        if (cap is { } most) seen = seen.OrderByDescending(byItem.RowLength).ThenBy(i => i).Take(most).Order();
        return seen.ToArray();
    }

    /// <summary>Refuses, before anything large is allocated, a fit whose item × item matrices do not fit in memory or in one array.</summary>
    private void CheckMemory<T>(int m, int catalogue) where T : unmanaged
    {
        if (m > CholeskyInverse.MaxOrder)
            throw new ExperimentsException($"EASE on {m:N0} items needs an {m:N0} × {m:N0} matrix, more entries than one .NET array holds (at most {CholeskyInverse.MaxOrder:N0} items). " +
                                           $"Set the model's \"maxItems\" parameter to at most {CholeskyInverse.MaxOrder:N0} to model only the most popular items; the others then rank last.");
        var perEntry = BytesPerEntry<T>();
        var needed = (long)m * m * perEntry + CholeskyInverse.WorkspaceEntries(m) * Marshal.SizeOf<T>();
        var available = Options.MemoryBudgetBytes ?? AvailableBytes();
        if (needed <= available) return;
        var fits = (int)Math.Min(m - 1, Math.Sqrt(available / (double)perEntry));
        var suggestion = fits >= 100 ? fits / 100 * 100 : fits;
        var what = Options.MemoryBudgetBytes is null ? "available (GC: physical memory or the container's limit, less what is in use)" : "allowed by MemoryBudgetBytes";
        throw new ExperimentsException($"EASE on {m:N0} items{(m < catalogue ? $" (of {catalogue:N0})" : "")} needs {Size(needed)} for its item × item matrices " +
                                       $"({m:N0}² entries × {perEntry} bytes: the {Precision<T>()} Gram matrix, inverted in place{(typeof(T) == typeof(float) ? ", which becomes the weights" : ", and the float32 weights")}), " +
                                       $"but only {Size(available)} is {what}. Set the model's \"maxItems\" parameter{(suggestion > 0 ? $" (about {suggestion:N0} fit)" : "")} to model only the most popular items — the others then rank last — " +
                                       $"{(typeof(T) == typeof(double) ? "or turn doublePrecision off (float32 needs a third of the memory), " : "")}or run where more memory is available.");
    }

    /// <summary>Bytes per item-pair entry: the solved matrix, plus the float32 weight matrix when the solve is in float64.</summary>
    private static int BytesPerEntry<T>() where T : unmanaged => Marshal.SizeOf<T>() + (typeof(T) == typeof(float) ? 0 : sizeof(float));

    private static long AvailableBytes()
    {
        var info = GC.GetGCMemoryInfo();
        return Math.Max(0, info.TotalAvailableMemoryBytes - Math.Max(info.MemoryLoadBytes, GC.GetTotalMemory(false)));
    }

    private static string Size(long bytes) => bytes >= 1L << 30 ? $"{bytes / 1073741824.0:F2} GiB" : $"{bytes / 1048576.0:F1} MiB";

    private static string Precision<T>() => typeof(T) == typeof(float) ? "float32" : "float64";

    /// <summary>
    /// The lower triangle of G = XᵀX over the modelled items: row a counts, for each user of item a, that user's items
    /// b ≤ a. Rows are independent, so they are filled in parallel without locks; the counts are integers, exact in
    /// either precision, so the result does not depend on the order of the additions.
    /// </summary>
    private static T[] Gram<T>(UserItemMatrix byItem, UserItemMatrix byUser, int[] modelled, int[] position, CancellationToken cancel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var m = modelled.Length;
        var g = new T[m * m];
        Parallel.For(0, m, new ParallelOptions { CancellationToken = cancel }, row =>
        {
            var item = modelled[row];
            var target = g.AsSpan(row * m, row + 1);
            foreach (var user in byItem.RowIndices(item))
                foreach (var other in byUser.RowIndices(user))
                {
                    if (other > item) break; // a user's items are sorted
                    var column = position[other];
                    if (column >= 0) target[column] += T.One;
                }
        });
        return g;
    }

    /// <summary>
    /// max over a few columns j of ‖(XᵀX + λI)·p_j − e_j‖∞, computed from the sparse X (O(interactions) per column), so
    /// the inverse is checked against the equation that defines it rather than against itself.
    /// </summary>
    private static double Residual<T>(T[] p, UserItemMatrix byItem, UserItemMatrix byUser, int[] modelled, int[] position, double lambda)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var m = modelled.Length;
        var worst = 0.0;
        var xp = new double[byUser.Rows];
        foreach (var j in Enumerable.Range(0, Math.Min(CheckedColumns, m)).Select(t => CheckedColumns >= m ? t : (int)((long)t * (m - 1) / (CheckedColumns - 1))))
        {
            var column = p.AsSpan(j * m, m); // P is symmetric: row j is column j
            for (var u = 0; u < byUser.Rows; u++)
            {
                var sum = 0.0;
                foreach (var item in byUser.RowIndices(u))
                    if (position[item] >= 0) sum += double.CreateTruncating(column[position[item]]);
                xp[u] = sum;
            }
            for (var c = 0; c < m; c++)
            {
                var sum = lambda * double.CreateTruncating(column[c]) - (c == j ? 1 : 0);
                foreach (var user in byItem.RowIndices(modelled[c])) sum += xp[user];
                worst = Math.Max(worst, Math.Abs(sum));
            }
        }
        return worst;
    }

    /// <summary>B = I − P·diag(1/diag P) as float32: B_ij = −P_ij / P_jj off the diagonal, 0 on it. A float32 P becomes B in place.</summary>
    private static float[] Weights<T>(T[] p, int m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scale = new T[m];
        for (var j = 0; j < m; j++) scale[j] = -T.One / p[j * m + j];
        var weights = (object)p as float[] ?? new float[m * m];
        Parallel.For(0, m, i =>
        {
            var row = p.AsSpan(i * m, m);
            var target = weights.AsSpan(i * m, m);
            for (var j = 0; j < m; j++) target[j] = float.CreateTruncating(row[j] * scale[j]);
            target[i] = 0;
        });
        return weights;
    }
}

/// <summary>
/// A fitted EASE model: the item × item weights over its modelled items. A user's score for a modelled item is the sum of
/// the weights from the user's training items; items it does not model (no training interaction, or beyond
/// <see cref="MaxItems"/>) score negative infinity, so they rank after every modelled item and are never recommended.
/// </summary>
public sealed class EaseModel : IRecommenderModel, IFitFacts
{
    private readonly UserItemMatrix _history;
    private readonly int[] _modelled;
    private readonly int[] _position;
    private readonly float[] _weights;

    internal EaseModel(UserItemMatrix history, int[] modelled, int items, float[] weights, int? maxItems, string precision, double residual)
    {
        _history = history;
        _modelled = modelled;
        _weights = weights;
        _position = new int[items];
        Array.Fill(_position, -1);
        for (var c = 0; c < modelled.Length; c++) _position[modelled[c]] = c;
        Items = items;
        MaxItems = maxItems;
        Precision = precision;
        Residual = residual;
    }

    /// <summary>Items in the catalogue (the training data's item map).</summary>
    public int Items { get; }

    /// <summary>The indices of the items the model scores, ascending.</summary>
    public IReadOnlyList<int> ModelledItems => _modelled;

    /// <summary>The cap on modelled items the fit was asked for; null when every item with a training interaction is modelled.</summary>
    public int? MaxItems { get; }

    /// <summary>float32 or float64: the precision of the solve.</summary>
    public string Precision { get; }

    /// <summary>The inverse's residual ‖(XᵀX + λI)·p_j − e_j‖∞ over the checked columns.</summary>
    public double Residual { get; }

    public bool IsModelled(int item) => _position[item] >= 0;

    /// <summary>The weight B[from, to]; 0 when either item is not modelled.</summary>
    public float Weight(int from, int to) =>
        _position[from] is var a and >= 0 && _position[to] is var b and >= 0 ? _weights[a * _modelled.Length + b] : 0;

    public IReadOnlyDictionary<string, string> Facts => new Dictionary<string, string>
    {
        ["modelledItems"] = _modelled.Length.ToString(CultureInfo.InvariantCulture),
        ["catalogueItems"] = Items.ToString(CultureInfo.InvariantCulture),
        ["maxItems"] = MaxItems?.ToString(CultureInfo.InvariantCulture) ?? "none",
        ["precision"] = Precision,
        ["inverseResidual"] = Residual.ToString("G3", CultureInfo.InvariantCulture),
    };

    public void ScoreItems(int user, Span<float> scores)
    {
        var m = _modelled.Length;
        if (m == scores.Length)
        {
            Accumulate(user, scores);
            return;
        }
        var sums = ArrayPool<float>.Shared.Rent(m);
        try
        {
            Accumulate(user, sums.AsSpan(0, m));
            scores.Fill(float.NegativeInfinity);
            for (var c = 0; c < m; c++)
                if (_modelled[c] < scores.Length) scores[_modelled[c]] = sums[c];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(sums);
        }
    }

    /// <summary>sums = X_u · B over the modelled items.</summary>
    private void Accumulate(int user, Span<float> sums)
    {
        sums.Clear();
        if (user >= _history.Rows) return;
        var m = _modelled.Length;
        foreach (var item in _history.RowIndices(user))
            if (_position[item] is var a and >= 0) DenseMath.AddScaled(sums, 1, _weights.AsSpan(a * m, m));
    }

    public bool PredictsRatings => false;
    public float PredictRating(int user, int item) => throw new NotSupportedException("EASE ranks items; it does not predict ratings.");

    /// <summary>
    /// The weights B[item, j] from <paramref name="item"/> to every item (negative infinity for items not modelled): how
    /// much having <paramref name="item"/> in a history raises each other item's score.
    /// </summary>
    public void WeightsFrom(int item, Span<float> weights)
    {
        if (!IsModelled(item)) throw new ArgumentException($"Item {item} is not modelled.", nameof(item));
        var m = _modelled.Length;
        var row = _weights.AsSpan(_position[item] * m, m);
        weights.Fill(float.NegativeInfinity);
        for (var c = 0; c < m; c++) weights[_modelled[c]] = row[c];
    }

    /// <summary>Writes the weights and what the fit reported (<see cref="FittedRecommender.Save"/>; the histories are saved there).</summary>
    internal void Write(BinaryWriter writer)
    {
        writer.Write(Items);
        writer.WriteArray(_modelled);
        writer.WriteArray(_weights);
        writer.Write(MaxItems ?? -1);
        writer.Write(Precision);
        writer.Write(Residual);
    }

    internal static EaseModel Read(BinaryReader reader, UserItemMatrix history)
    {
        var items = reader.ReadInt32();
        var modelled = reader.ReadArray<int>();
        var weights = reader.ReadArray<float>();
        var maxItems = reader.ReadInt32();
        var precision = reader.ReadString();
        var residual = reader.ReadDouble();
        if (weights.LongLength != (long)modelled.Length * modelled.Length || modelled.Any(i => i < 0 || i >= items) || history.Columns != items)
            throw new ExperimentsException("The saved EASE model is damaged: its weights, modelled items and catalogue do not fit together.");
        return new EaseModel(history, modelled, items, weights, maxItems < 0 ? null : maxItems, precision, residual);
    }
}
