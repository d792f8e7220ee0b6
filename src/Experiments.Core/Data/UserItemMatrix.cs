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

    /// <summary>Users as rows, items as columns; duplicate pairs are merged by adding their values.</summary>
    public static UserItemMatrix ByUser(Interactions data) =>
        Build(data.Users.Count, data.Items.Count, data.User, data.Item, data.Rating);

    /// <summary>Items as rows, users as columns.</summary>
    public static UserItemMatrix ByItem(Interactions data) =>
        Build(data.Items.Count, data.Users.Count, data.Item, data.User, data.Rating);

    private static UserItemMatrix Build(int rows, int columns, int[] row, int[] column, float[] value)
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
            for (var i = from; i < to; i++)
            {
                if (write > start[r] && cols[write - 1] == cols[i]) vals[write - 1] += vals[i];
                else
                {
                    cols[write] = cols[i];
                    vals[write] = vals[i];
                    write++;
                }
            }
        }
        start[rows] = write;
        Array.Resize(ref cols, write);
        Array.Resize(ref vals, write);
        return new UserItemMatrix(rows, columns, start, cols, vals);
    }
}
