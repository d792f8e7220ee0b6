using Microsoft.ML;
using Microsoft.ML.Data;

namespace Experiments.Ctr;

/// <summary>
/// An IDataView over columns held in arrays (bool, float, text, or float vectors of one length), so that feature columns whose number depends on
/// the data set (26 categorical columns for Criteo, 21 for Avazu) need no compile-time row class.
/// </summary>
internal sealed class ColumnarDataView : IDataView
{
    private readonly Array[] _columns;
    private readonly CancellationToken _cancel;

    /// <param name="cancel">Checked as rows are read, so that any pass over the data (FFM's epochs, a featurizer's fit) stops soon after it fires.</param>
    public ColumnarDataView(IReadOnlyList<(string Name, Array Values)> columns, CancellationToken cancel = default)
    {
        _cancel = cancel;
        var builder = new DataViewSchema.Builder();
        foreach (var (name, values) in columns)
            builder.AddColumn(name, values switch
            {
                bool[] => BooleanDataViewType.Instance,
                float[] => NumberDataViewType.Single,
                string[] => TextDataViewType.Instance,
                float[][] vectors => new VectorDataViewType(NumberDataViewType.Single, vectors.Length == 0 ? 0 : vectors[0].Length),
                _ => throw new ArgumentException($"Column '{name}': unsupported array type {values.GetType().Name}."),
            });
        Schema = builder.ToSchema();
        _columns = columns.Select(c => c.Values).ToArray();
        RowCount = _columns.Length == 0 ? 0 : _columns[0].Length;
    }

    public int RowCount { get; }
    public bool CanShuffle => false;
    public DataViewSchema Schema { get; }
    public long? GetRowCount() => RowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    private sealed class Cursor(ColumnarDataView view) : DataViewRowCursor
    {
        private long _position = -1;

        public override DataViewSchema Schema => view.Schema;
        public override long Position => _position;
        public override long Batch => 0;
        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override bool MoveNext()
        {
            if ((_position & 1023) == 1023) view._cancel.ThrowIfCancellationRequested();
            return ++_position < view.RowCount;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            Delegate getter = view._columns[column.Index] switch
            {
                bool[] b => (ValueGetter<bool>)((ref bool v) => v = b[_position]),
                float[] f => (ValueGetter<float>)((ref float v) => v = f[_position]),
                string[] s => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) => v = s[_position].AsMemory()),
                // Copied into the caller's buffer: ML.NET may write into buffers it is handed back.
                float[][] vectors => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) =>
                {
                    var row = vectors[_position];
                    var editor = VBufferEditor.Create(ref v, row.Length);
                    row.CopyTo(editor.Values);
                    v = editor.Commit();
                }),
                _ => throw new InvalidOperationException(),
            };
            return getter as ValueGetter<TValue> ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}, not {typeof(TValue).Name}.");
        }
    }
}
