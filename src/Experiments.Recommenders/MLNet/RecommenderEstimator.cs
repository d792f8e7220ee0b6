using Experiments.Core;
using Experiments.Core.Data;
using Experiments.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Experiments.Recommenders.MLNet;

/// <summary>
/// Any of our recommenders as an ML.NET estimator: user and item columns of key type (from MapValueToKey), an
/// optional Single label (the rating; omitted for implicit feedback), and a Single Score column out. Fit reads the
/// training view once into an interaction table; the transformer scores rows lazily.
/// </summary>
public sealed class RecommenderEstimator : IEstimator<RecommenderTransformer>
{
    private readonly IRecommenderTrainer _trainer;

    public RecommenderEstimator(IRecommenderTrainer trainer, string userColumnName, string itemColumnName, string? labelColumnName, string scoreColumnName = "Score")
    {
        _trainer = trainer;
        UserColumnName = userColumnName;
        ItemColumnName = itemColumnName;
        LabelColumnName = labelColumnName;
        ScoreColumnName = scoreColumnName;
    }

    public string UserColumnName { get; }
    public string ItemColumnName { get; }
    public string? LabelColumnName { get; }
    public string ScoreColumnName { get; }

    public RecommenderTransformer Fit(IDataView input)
    {
        var users = KeyColumn(input.Schema, UserColumnName);
        var items = KeyColumn(input.Schema, ItemColumnName);
        DataViewSchema.Column? label = null;
        if (LabelColumnName is not null)
        {
            label = input.Schema.GetColumnOrNull(LabelColumnName) ?? throw new ExperimentsException($"Label column '{LabelColumnName}' is not in the data; columns: {Columns(input.Schema)}.");
            if (label.Value.Type != NumberDataViewType.Single)
                throw new ExperimentsException($"Label column '{LabelColumnName}' must be Single (float); it is {label.Value.Type}.");
        }
        var userCount = (int)((KeyDataViewType)users.Type).Count;
        var itemCount = (int)((KeyDataViewType)items.Type).Count;
        var userIds = new IdMap();
        var itemIds = new IdMap();
        for (var u = 1; u <= userCount; u++) userIds.GetOrAdd(u.ToString(System.Globalization.CultureInfo.InvariantCulture));
        for (var i = 1; i <= itemCount; i++) itemIds.GetOrAdd(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var builder = new InteractionsBuilder(userIds, itemIds, hasRatings: label is not null, hasTimestamps: false);
        var columns = label is { } l ? new[] { users, items, l } : [users, items];
        using (var cursor = input.GetRowCursor(columns))
        {
            var userGetter = cursor.GetGetter<uint>(users);
            var itemGetter = cursor.GetGetter<uint>(items);
            var labelGetter = label is { } lc ? cursor.GetGetter<float>(lc) : null;
            uint user = 0, item = 0;
            float rating = 1;
            while (cursor.MoveNext())
            {
                userGetter(ref user);
                itemGetter(ref item);
                labelGetter?.Invoke(ref rating);
                // Key 0 is ML.NET's missing value: a value the key map did not know.
                if (user == 0 || item == 0)
                    throw new ExperimentsException($"Row {cursor.Position + 1} has a missing {(user == 0 ? $"user ('{UserColumnName}')" : $"item ('{ItemColumnName}')")} key; build the key maps on the training data.");
                if (label is not null && !float.IsFinite(rating))
                    throw new ExperimentsException($"Row {cursor.Position + 1} has rating {rating} in '{LabelColumnName}'; ratings must be finite numbers.");
                builder.Add((int)user - 1, (int)item - 1, rating);
            }
        }
        var train = builder.Build();
        var model = _trainer.Fit(train);
        return new RecommenderTransformer(new FittedRecommender(model, train), UserColumnName, ItemColumnName, ScoreColumnName);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        foreach (var name in new[] { UserColumnName, ItemColumnName })
        {
            var column = inputSchema.FirstOrDefault(c => c.Name == name);
            if (column.Name != name)
                throw new ExperimentsException($"Column '{name}' is not in the data; columns: {string.Join(", ", inputSchema.Select(c => c.Name))}.");
            if (!column.IsKey)
                throw new ExperimentsException($"Column '{name}' must be a key: add mlContext.Transforms.Conversion.MapValueToKey(\"{name}\") before the recommender.");
        }
        return new SchemaShape(inputSchema.Where(c => c.Name != ScoreColumnName).Append(ScalarSingleColumn(ScoreColumnName)));
    }

    private static SchemaShape.Column ScalarSingleColumn(string name) =>
        MLNetInternals.Column(name, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single);

    private DataViewSchema.Column KeyColumn(DataViewSchema schema, string name)
    {
        var column = schema.GetColumnOrNull(name) ?? throw new ExperimentsException($"Column '{name}' is not in the data; columns: {Columns(schema)}.");
        if (column.Type is not KeyDataViewType key || key.RawType != typeof(uint))
            throw new ExperimentsException($"Column '{name}' must be a key (it is {column.Type}): add mlContext.Transforms.Conversion.MapValueToKey(\"{name}\") before the recommender.");
        return column;
    }

    private static string Columns(DataViewSchema schema) => string.Join(", ", schema.Select(c => c.Name));
}
