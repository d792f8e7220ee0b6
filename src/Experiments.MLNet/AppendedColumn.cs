using Microsoft.ML;
using Microsoft.ML.Data;

namespace Experiments.MLNet;

/// <summary>
/// The plumbing of a transformer that appends one computed column to its input: a lazy IDataView whose cursors pass
/// every input column through and compute the new (last) column from <paramref name="dependencies"/>, and the
/// row-to-row mapper that PredictionEngine needs. The transformer supplies only <paramref name="getter"/>: given an
/// input row, a ValueGetter of the new column's type.
/// </summary>
public sealed class AppendedColumn(IReadOnlyList<string> dependencies, Func<DataViewRow, Delegate> getter)
{
    /// <param name="outputSchema">The input's columns followed by the new column (the last one).</param>
    public IDataView View(IDataView input, DataViewSchema outputSchema) => new AppendedView(input, this, outputSchema);

    public IRowToRowMapper Mapper(DataViewSchema inputSchema, DataViewSchema outputSchema) => new AppendedMapper(this, inputSchema, outputSchema);

    private static bool IsAppended(DataViewSchema schema, DataViewSchema.Column column) => column.Index == schema.Count - 1;

    /// <summary>An input column's getter, or the appended column's (made once per row or cursor and cached in <paramref name="cache"/>).</summary>
    private ValueGetter<TValue> Getter<TValue>(DataViewRow input, DataViewSchema schema, DataViewSchema.Column c, ref Delegate? cache)
    {
        if (!IsAppended(schema, c)) return input.GetGetter<TValue>(input.Schema[c.Name]);
        cache ??= getter(input);
        return cache as ValueGetter<TValue> ?? throw new InvalidOperationException($"Column '{c.Name}' is {c.Type}, not {typeof(TValue).Name}.");
    }

    private sealed class AppendedView(IDataView input, AppendedColumn column, DataViewSchema schema) : IDataView
    {
        public bool CanShuffle => input.CanShuffle;
        public DataViewSchema Schema => schema;
        public long? GetRowCount() => input.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            var needed = columnsNeeded.ToList();
            var appendedNeeded = needed.Any(c => IsAppended(schema, c));
            var inputs = needed.Where(c => !IsAppended(schema, c)).Select(c => input.Schema[c.Name]).ToList();
            if (appendedNeeded) inputs.AddRange(column.Dependencies(input.Schema));
            return new AppendedCursor(input.GetRowCursor(inputs.Distinct(), rand), column, schema, appendedNeeded);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];
    }

    private IEnumerable<DataViewSchema.Column> Dependencies(DataViewSchema inputSchema) => dependencies.Select(name => inputSchema[name]);

    private sealed class AppendedCursor(DataViewRowCursor input, AppendedColumn column, DataViewSchema schema, bool active) : DataViewRowCursor
    {
        private Delegate? _getter;

        public override DataViewSchema Schema => schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override bool MoveNext() => input.MoveNext();
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column c) => IsAppended(schema, c) ? active : input.IsColumnActive(input.Schema[c.Name]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column c) => column.Getter<TValue>(input, schema, c, ref _getter);

        protected override void Dispose(bool disposing)
        {
            if (disposing) input.Dispose();
            base.Dispose(disposing);
        }
    }

    private sealed class AppendedMapper(AppendedColumn column, DataViewSchema inputSchema, DataViewSchema outputSchema) : IRowToRowMapper
    {
        public DataViewSchema InputSchema => inputSchema;
        public DataViewSchema OutputSchema => outputSchema;

        public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
        {
            var passed = dependingColumns.Where(c => !IsAppended(outputSchema, c)).Select(c => inputSchema[c.Name]);
            return dependingColumns.Any(c => IsAppended(outputSchema, c)) ? column.Dependencies(inputSchema).Concat(passed).Distinct() : passed;
        }

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
            new AppendedRow(input, column, outputSchema, activeColumns.Any(c => IsAppended(outputSchema, c)));
    }

    private sealed class AppendedRow(DataViewRow input, AppendedColumn column, DataViewSchema schema, bool active) : DataViewRow
    {
        private Delegate? _getter;

        public override DataViewSchema Schema => schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();
        public override bool IsColumnActive(DataViewSchema.Column c) => IsAppended(schema, c) ? active : input.IsColumnActive(input.Schema[c.Name]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column c) => column.Getter<TValue>(input, schema, c, ref _getter);
    }
}
