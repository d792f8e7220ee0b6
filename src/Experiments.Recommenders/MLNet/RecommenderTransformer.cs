using Experiments.Core;
using Experiments.Core.Models;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Experiments.Recommenders.MLNet;

/// <summary>
/// A fitted recommender in an ML.NET pipeline: adds a Single Score column — the predicted rating for rating models,
/// the ranking score otherwise — computed row by row from the user and item keys. Keys the model never saw score NaN,
/// as in ML.NET's own matrix factorisation. Works with Transform, evaluation and PredictionEngine (it is a row-to-row
/// mapper). ML.NET's model zip format cannot hold it: save <see cref="Recommender"/> with <see cref="FittedRecommender.Save"/>.
/// </summary>
public sealed class RecommenderTransformer : ITransformer
{
    public RecommenderTransformer(FittedRecommender recommender, string userColumnName, string itemColumnName, string scoreColumnName, DataViewType userType, DataViewType itemType)
    {
        Recommender = recommender;
        UserColumnName = userColumnName;
        ItemColumnName = itemColumnName;
        ScoreColumnName = scoreColumnName;
        UserType = userType;
        ItemType = itemType;
    }

    public FittedRecommender Recommender { get; }
    public string UserColumnName { get; }
    public string ItemColumnName { get; }
    public string ScoreColumnName { get; }
    internal DataViewType UserType { get; }
    internal DataViewType ItemType { get; }

    public bool IsRowToRowMapper => true;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        Require(inputSchema, UserColumnName);
        Require(inputSchema, ItemColumnName);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema.Where(c => !c.IsHidden));
        builder.AddColumn(ScoreColumnName, NumberDataViewType.Single);
        return builder.ToSchema();
    }

    public IDataView Transform(IDataView input) => new ScoredDataView(input, this, GetOutputSchema(input.Schema));

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => new ScoreMapper(this, inputSchema, GetOutputSchema(inputSchema));

    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new ExperimentsException("ML.NET's model format cannot hold this recommender; save it with transformer.Recommender.Save(path) and load it with FittedRecommender.Load(path).");

    /// <summary>The score of one (user key, item key) pair; NaN when either key is missing or unknown to the model.</summary>
    internal Func<uint, uint, float> CreateScorer()
    {
        var model = Recommender.Model;
        var users = Recommender.Users.Count;
        var items = Recommender.Items.Count;
        if (model.PredictsRatings)
            return (user, item) => user == 0 || item == 0 || user > users || item > items ? float.NaN : model.PredictRating((int)user - 1, (int)item - 1);
        // Ranking models score all items at once: keep the last user's scores, as rows usually come grouped by user.
        var cached = uint.MaxValue;
        var scores = new float[items];
        return (user, item) =>
        {
            if (user == 0 || item == 0 || user > users || item > items) return float.NaN;
            if (user != cached)
            {
                model.ScoreItems((int)user - 1, scores);
                cached = user;
            }
            return scores[item - 1];
        };
    }

    private void Require(DataViewSchema schema, string name)
    {
        var column = schema.GetColumnOrNull(name) ?? throw new ExperimentsException($"Column '{name}' is not in the data; columns: {string.Join(", ", schema.Select(c => c.Name))}.");
        if (column.Type is not KeyDataViewType)
            throw new ExperimentsException($"Column '{name}' must be a key: apply the same MapValueToKey transform as in training.");
    }

    /// <summary>The output view: the input's rows with the score appended.</summary>
    private sealed class ScoredDataView(IDataView input, RecommenderTransformer parent, DataViewSchema schema) : IDataView
    {
        public bool CanShuffle => input.CanShuffle;
        public DataViewSchema Schema => schema;
        public long? GetRowCount() => input.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            var needed = columnsNeeded.ToList();
            var scoreNeeded = needed.Any(c => c.Name == parent.ScoreColumnName && c.Index == schema.Count - 1);
            var inputColumns = needed.Where(c => c.Index < schema.Count - 1).Select(c => input.Schema[c.Name]).ToList();
            if (scoreNeeded) inputColumns.AddRange([input.Schema[parent.UserColumnName], input.Schema[parent.ItemColumnName]]);
            return new ScoredCursor(input.GetRowCursor(inputColumns.Distinct(), rand), parent, schema, scoreNeeded);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];
    }

    /// <summary>Delegates every input column to the wrapped row and computes the score from its keys.</summary>
    private static ValueGetter<float> ScoreGetter(DataViewRow row, RecommenderTransformer parent)
    {
        var user = row.GetGetter<uint>(row.Schema[parent.UserColumnName]);
        var item = row.GetGetter<uint>(row.Schema[parent.ItemColumnName]);
        var scorer = parent.CreateScorer();
        uint u = 0, i = 0;
        return (ref float value) =>
        {
            user(ref u);
            item(ref i);
            value = scorer(u, i);
        };
    }

    private sealed class ScoredCursor(DataViewRowCursor input, RecommenderTransformer parent, DataViewSchema schema, bool scoreActive) : DataViewRowCursor
    {
        private ValueGetter<float>? _score;

        public override DataViewSchema Schema => schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override bool MoveNext() => input.MoveNext();
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index == schema.Count - 1 ? scoreActive : input.IsColumnActive(input.Schema[column.Name]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != schema.Count - 1) return input.GetGetter<TValue>(input.Schema[column.Name]);
            if (typeof(TValue) != typeof(float)) throw new InvalidOperationException($"'{parent.ScoreColumnName}' is Single, not {typeof(TValue).Name}.");
            _score ??= ScoreGetter(input, parent);
            return (ValueGetter<TValue>)(Delegate)_score;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) input.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>Row-to-row form, which PredictionEngine uses.</summary>
    private sealed class ScoreMapper(RecommenderTransformer parent, DataViewSchema inputSchema, DataViewSchema outputSchema) : IRowToRowMapper
    {
        public DataViewSchema InputSchema => inputSchema;
        public DataViewSchema OutputSchema => outputSchema;

        public IEnumerable<DataViewSchema.Column> GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns) =>
            dependingColumns.Any(c => c.Index == outputSchema.Count - 1)
                ? [inputSchema[parent.UserColumnName], inputSchema[parent.ItemColumnName], .. dependingColumns.Where(c => c.Index < outputSchema.Count - 1).Select(c => inputSchema[c.Name])]
                : dependingColumns.Select(c => inputSchema[c.Name]);

        public DataViewRow GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns) =>
            new ScoredRow(input, parent, outputSchema, activeColumns.Any(c => c.Index == outputSchema.Count - 1));
    }

    private sealed class ScoredRow(DataViewRow input, RecommenderTransformer parent, DataViewSchema schema, bool scoreActive) : DataViewRow
    {
        private ValueGetter<float>? _score;

        public override DataViewSchema Schema => schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index == schema.Count - 1 ? scoreActive : input.IsColumnActive(input.Schema[column.Name]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != schema.Count - 1) return input.GetGetter<TValue>(input.Schema[column.Name]);
            _score ??= ScoreGetter(input, parent);
            return (ValueGetter<TValue>)(Delegate)_score;
        }
    }
}
