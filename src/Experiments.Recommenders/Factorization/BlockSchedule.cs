using Experiments.Core;

namespace Experiments.Recommenders.Factorization;

/// <summary>The ratings of one block, in the order SGD visits them this epoch (indices into the rating table).</summary>
internal delegate void BlockBody(ReadOnlySpan<int> rows);

/// <summary>
/// The fixed schedule of block-parallel SGD (DSGD, Gemulla et al. 2011; the disjoint blocks of LIBMF, Chin et al. 2015):
/// users and items are dealt into <c>strata</c> groups each by a seeded permutation, which cuts the ratings into
/// strata × strata blocks. An epoch is strata sub-epochs in a seeded order; sub-epoch s updates the blocks
/// (b, (b + s) mod strata) for every b. Those share no user and no item, so they run in parallel without locks, and each
/// block shuffles its own ratings with its own seed. The result depends on the seed and the number of strata, never on
/// the number of threads or on which thread finishes first.
/// </summary>
internal sealed class BlockSchedule
{
    private readonly int _strata;
    private readonly int _seed;
    private readonly int[] _blockStart;
    private readonly int[] _rows;

    public BlockSchedule(ReadOnlySpan<int> user, ReadOnlySpan<int> item, int users, int items, int strata, int seed)
    {
        if (strata < 1) throw new ExperimentsException($"The number of SGD strata must be at least 1; it is {strata}.");
        _strata = strata;
        _seed = seed;
        var random = new Random(seed);
        var userStratum = Deal(users, strata, random);
        var itemStratum = Deal(items, strata, random);
        _blockStart = new int[strata * strata + 1];
        for (var r = 0; r < user.Length; r++) _blockStart[Block(userStratum[user[r]], itemStratum[item[r]]) + 1]++;
        for (var b = 0; b < strata * strata; b++) _blockStart[b + 1] += _blockStart[b];
        var cursor = (int[])_blockStart.Clone();
        _rows = new int[user.Length];
        for (var r = 0; r < user.Length; r++) _rows[cursor[Block(userStratum[user[r]], itemStratum[item[r]])]++] = r;
    }

    /// <summary>Runs one epoch's blocks in the fixed order, <paramref name="threads"/> blocks at a time.</summary>
    public void Epoch(int epoch, int threads, BlockBody body, CancellationToken cancel)
    {
        var epochSeed = Seeds.Mix(_seed, epoch);
        var offsets = Enumerable.Range(0, _strata).ToArray();
        Shuffle(offsets, new Random(epochSeed));
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads), CancellationToken = cancel };
        foreach (var offset in offsets)
        {
            cancel.ThrowIfCancellationRequested();
            Parallel.For(0, _strata, parallel, userStratum =>
            {
                var block = Block(userStratum, (userStratum + offset) % _strata);
                var rows = _rows.AsSpan(_blockStart[block], _blockStart[block + 1] - _blockStart[block]);
                Shuffle(rows, new Random(Seeds.Mix(epochSeed, block)));
                body(rows);
            });
        }
    }

    private int Block(int userStratum, int itemStratum) => userStratum * _strata + itemStratum;

    /// <summary>Stratum of each of <paramref name="count"/> rows: a seeded permutation dealt round-robin (balanced counts).</summary>
    private static int[] Deal(int count, int strata, Random random)
    {
        var order = Enumerable.Range(0, count).ToArray();
        Shuffle(order, random);
        var stratum = new int[count];
        for (var j = 0; j < count; j++) stratum[order[j]] = j % strata;
        return stratum;
    }

    /// <summary>Fisher–Yates shuffle.</summary>
    public static void Shuffle(Span<int> values, Random random)
    {
        for (var i = values.Length - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
