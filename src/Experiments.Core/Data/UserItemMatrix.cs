namespace Experiments.Core.Data;

/// <summary>
/// Compressed sparse rows of an interaction table: for each user, the distinct items and their summed value
/// (rating, or event count for implicit data). Models and evaluators read users' histories from it.
/// </summary>
public sealed class UserItemMatrix
{
    private UserItemMatrix(int rows, int columns, int[] rowStart, int[] columnIndex, float[] values)
    {
        Rows = rows;
        Columns = columns;
        RowStart = rowStart;
        ColumnIndex = columnIndex;
        Values = values;
    }

    public int Rows { get; }
    public int Columns { get; }
    public int[] RowStart { get; }
    public int[] ColumnIndex { get; }
    public float[] Values { get; }
    public int NonZeros => ColumnIndex.Length;

    public ReadOnlySpan<int> RowIndices(int row) => ColumnIndex.AsSpan(RowStart[row], RowStart[row + 1] - RowStart[row]);

    public ReadOnlySpan<float> RowValues(int row) => Values.AsSpan(RowStart[row], RowStart[row + 1] - RowStart[row]);

    public int RowLength(int row) => RowStart[row + 1] - RowStart[row];

    /// <summary>A matrix from its compressed arrays (as saved with a model); checks that they fit together.</summary>
    public static UserItemMatrix FromArrays(int rows, int columns, int[] rowStart, int[] columnIndex, float[] values)
    {
        if (rowStart.Length != rows + 1 || rowStart[^1] != columnIndex.Length || columnIndex.Length != values.Length || columnIndex.Any(c => c < 0 || c >= columns))
            throw new ArgumentException("The compressed arrays do not describe a rows × columns matrix.");
        return new UserItemMatrix(rows, columns, rowStart, columnIndex, values);
    }

    /// <summary>
    /// Users as rows, items as columns. Repeated pairs are merged by adding their values (event counts for implicit
    /// data) or, with <paramref name="average"/>, by averaging them (ratings given twice).
    /// </summary>
    public static UserItemMatrix ByUser(Interactions data, bool average = false) =>
        Build(data.Users.Count, data.Items.Count, data.User, data.Item, data.Rating, average);

    /// <summary>Items as rows, users as columns.</summary>
    public static UserItemMatrix ByItem(Interactions data, bool average = false) =>
        Build(data.Items.Count, data.Users.Count, data.Item, data.User, data.Rating, average);

    private static UserItemMatrix Build(int rows, int columns, int[] row, int[] column, float[] value, bool average)
    {
        var counts = new int[rows + 1];
        foreach (var r in row) counts[r + 1]++;
        for (var r = 0; r < rows; r++) counts[r + 1] += counts[r];
        var cursor = (int[])counts.Clone();
        var cols = new int[row.Length];
        var vals = new float[row.Length];
        for (var i = 0; i < row.Length; i++)
        {
            var at = cursor[row[i]]++;
            cols[at] = column[i];
            vals[at] = value[i];
        }

        // Sort each row by column and merge duplicates in place.
        var start = new int[rows + 1];
        var write = 0;
        for (var r = 0; r < rows; r++)
        {
            var from = counts[r];
            var to = counts[r + 1];
            Array.Sort(cols, vals, from, to - from);
            start[r] = write;
            var merged = 1;
            for (var i = from; i < to; i++)
            {
                if (write > start[r] && cols[write - 1] == cols[i])
                {
                    vals[write - 1] += vals[i];
                    merged++;
                }
                else
                {
                    if (average && merged > 1) vals[write - 1] /= merged;
                    merged = 1;
                    cols[write] = cols[i];
                    vals[write] = vals[i];
                    write++;
                }
            }
            if (average && merged > 1) vals[write - 1] /= merged;
        }
        start[rows] = write;
        Array.Resize(ref cols, write);
        Array.Resize(ref vals, write);
        return new UserItemMatrix(rows, columns, start, cols, vals);
    }
}
