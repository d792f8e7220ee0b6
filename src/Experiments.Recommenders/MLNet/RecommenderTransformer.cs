using Experiments.Core;
using Experiments.Core.Models;
using Microsoft.ML;
using Experiments.MLNet;
using Microsoft.ML.Data;

namespace Experiments.Recommenders.MLNet;

/// <summary>
/// A fitted recommender in an ML.NET pipeline: adds a Single Score column — the predicted rating for rating models,
/// the ranking score otherwise — computed row by row from the user and item keys. Keys the model never saw score NaN,
/// as in ML.NET's own matrix factorisation. Works with Transform, evaluation and PredictionEngine (it is a row-to-row
/// mapper), and saves inside ML.NET's model zip (<c>mlContext.Model.Save</c> / <c>Load</c>) in the same binary form as
/// <see cref="FittedRecommender.Save"/>.
/// </summary>
public sealed class RecommenderTransformer : IPersistentTransformer<RecommenderTransformer>
{
    public RecommenderTransformer(FittedRecommender recommender, string userColumnName, string itemColumnName, string scoreColumnName)
    {
        Recommender = recommender;
        UserColumnName = userColumnName;
        ItemColumnName = itemColumnName;
        ScoreColumnName = scoreColumnName;
    }

    public FittedRecommender Recommender { get; }
    public string UserColumnName { get; }
    public string ItemColumnName { get; }
    public string ScoreColumnName { get; }

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

    public IDataView Transform(IDataView input) => Appended.View(input, GetOutputSchema(input.Schema));

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => Appended.Mapper(inputSchema, GetOutputSchema(inputSchema));

    private AppendedColumn Appended => new([UserColumnName, ItemColumnName], ScoreGetter);

    public static int FormatVersion => 1;

    public void Write(ModelWriter writer)
    {
        writer.Writer.Write(UserColumnName);
        writer.Writer.Write(ItemColumnName);
        writer.Writer.Write(ScoreColumnName);
        Recommender.Write(writer.Writer);
    }

    public static RecommenderTransformer Load(ModelReader reader)
    {
        var (user, item, score) = (reader.Reader.ReadString(), reader.Reader.ReadString(), reader.Reader.ReadString());
        return new RecommenderTransformer(FittedRecommender.Read(reader.Reader), user, item, score);
    }

    /// <summary>The score of one (user key, item key) pair; NaN when either key is missing or unknown to the model.</summary>
    private Func<uint, uint, float> CreateScorer()
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

    /// <summary>The score of an input row, from its user and item keys.</summary>
    private ValueGetter<float> ScoreGetter(DataViewRow row)
    {
        var user = row.GetGetter<uint>(row.Schema[UserColumnName]);
        var item = row.GetGetter<uint>(row.Schema[ItemColumnName]);
        var scorer = CreateScorer();
        uint u = 0, i = 0;
        return (ref float value) =>
        {
            user(ref u);
            item(ref i);
            value = scorer(u, i);
        };
    }
}
