using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders.Linear;

namespace Experiments.Recommenders;

/// <summary>A recommended item and its score.</summary>
public readonly record struct Recommendation(string Item, float Score);

/// <summary>
/// A fitted model with the id maps and histories it was trained on, speaking the data set's own user and item ids:
/// top-K recommendations (one user, or every user in batches), similar items, rating predictions, save and load.
/// </summary>
public sealed class FittedRecommender
{
    private readonly UserItemMatrix _history;

    public FittedRecommender(IRecommenderModel model, Interactions train)
        : this(model, train.Users, train.Items, UserItemMatrix.ByUser(train)) { }

    private FittedRecommender(IRecommenderModel model, IdMap users, IdMap items, UserItemMatrix history)
    {
        Model = model;
        Users = users;
        Items = items;
        _history = history;
    }

    public IRecommenderModel Model { get; }
    public IdMap Users { get; }
    public IdMap Items { get; }

    /// <summary>The top <paramref name="k"/> items for <paramref name="user"/>, best first; the user's training items are left out unless told otherwise.</summary>
    public IReadOnlyList<Recommendation> Recommend(string user, int k, bool excludeSeen = true) =>
        RecommendIndices([UserIndex(user)], k, excludeSeen)[0];

    /// <summary>Top-K lists for every known user, scored in blocks of users in parallel.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<Recommendation>> RecommendAll(int k, bool excludeSeen = true)
    {
        var all = Enumerable.Range(0, Users.Count).ToArray();
        var lists = RecommendIndices(all, k, excludeSeen);
        return all.ToDictionary(u => Users[u], u => lists[u]);
    }

    private IReadOnlyList<Recommendation>[] RecommendIndices(int[] users, int k, bool excludeSeen)
    {
        if (k < 1) throw new ExperimentsException($"k must be at least 1; it is {k}.");
        var result = new IReadOnlyList<Recommendation>[users.Length];
        BatchTopK.ForUsers(Model, users, Items.Count, k, excludeSeen ? _history : null, (index, _, ranked, scores) =>
        {
            var list = new Recommendation[ranked.Length];
            for (var i = 0; i < ranked.Length; i++) list[i] = new Recommendation(Items[ranked[i]], scores[ranked[i]]);
            result[index] = list;
        });
        return result;
    }

    /// <summary>
    /// The <paramref name="k"/> items most similar to <paramref name="item"/>: cosine of item factors for factorisation
    /// models, the learned similarity for item-kNN.
    /// </summary>
    public IReadOnlyList<Recommendation> SimilarItems(string item, int k)
    {
        var index = ItemIndex(item);
        var scores = new float[Items.Count];
        switch (Model)
        {
            case LatentFactorModel factors:
            {
                var rank = factors.Rank;
                var q = factors.ItemFactors.AsSpan(index * rank, rank);
                var norm = MathF.Sqrt(DenseMath.Dot(q, q));
                for (var i = 0; i < Math.Min(Items.Count, factors.Items); i++)
                {
                    var other = factors.ItemFactors.AsSpan(i * rank, rank);
                    var denominator = norm * MathF.Sqrt(DenseMath.Dot(other, other));
                    scores[i] = denominator == 0 ? 0 : DenseMath.Dot(q, other) / denominator;
                }
                break;
            }
            case ItemKnnModel knn:
                Array.Fill(scores, float.NegativeInfinity);
                foreach (var (neighbour, similarity) in knn.Neighbours(index)) scores[neighbour] = similarity;
                break;
            default:
                throw new ExperimentsException($"Similar items need item factors or an item–item similarity; {Model.GetType().Name} has neither. Use a factorisation model or item-knn.");
        }
        scores[index] = float.NegativeInfinity;
        var top = new int[k];
        var count = TopK.Select(scores, top);
        return top[..count].Select(i => new Recommendation(Items[i], scores[i])).ToList();
    }

    public float PredictRating(string user, string item)
    {
        if (!Model.PredictsRatings) throw new ExperimentsException($"{Model.GetType().Name} ranks items; it does not predict ratings.");
        return Model.PredictRating(UserIndex(user), ItemIndex(item));
    }

    private int UserIndex(string user) =>
        Users.TryGetIndex(user, out var index) ? index
            : throw new ExperimentsException($"Unknown user '{user}': the model was trained on {Users.Count:N0} users and this is not one of them. Recommend popular items to new users, or retrain with their interactions.");

    private int ItemIndex(string item) =>
        Items.TryGetIndex(item, out var index) ? index
            : throw new ExperimentsException($"Unknown item '{item}': the model was trained on {Items.Count:N0} items and this is not one of them.");

    private const string Magic = "EXPERIMENTS-RECOMMENDER";
    private const int FormatVersion = 1;

    /// <summary>Saves a factorisation model with its id maps and histories (a versioned binary file).</summary>
    public void Save(string path)
    {
        if (Model is not LatentFactorModel m)
            throw new ExperimentsException($"Saving is supported for factorisation models (matrix-factorization, implicit-als, bpr); {Model.GetType().Name} is not one.");
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(Magic);
        writer.Write(FormatVersion);
        WriteIds(writer, Users);
        WriteIds(writer, Items);
        writer.Write(m.Rank);
        writer.Write(m.Mean);
        WriteFloats(writer, m.UserFactors);
        WriteFloats(writer, m.ItemFactors);
        WriteFloats(writer, m.UserBias);
        WriteFloats(writer, m.ItemBias);
        WriteInts(writer, _history.RowStart);
        WriteInts(writer, _history.ColumnIndex);
        WriteFloats(writer, _history.Values);
    }

    public static FittedRecommender Load(string path)
    {
        if (!File.Exists(path)) throw new ExperimentsException($"{path}: no such model file.");
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            if (reader.ReadString() != Magic) throw new ExperimentsException($"{path} is not a saved recommender.");
            var version = reader.ReadInt32();
            if (version != FormatVersion) throw new ExperimentsException($"{path} has format version {version}; this program reads version {FormatVersion}.");
            var users = ReadIds(reader);
            var items = ReadIds(reader);
            var rank = reader.ReadInt32();
            var mean = reader.ReadSingle();
            var model = new LatentFactorModel(rank, ReadFloats(reader)!, ReadFloats(reader)!, ReadFloats(reader), ReadFloats(reader), mean);
            var history = UserItemMatrix.FromArrays(users.Count, items.Count, ReadInts(reader), ReadInts(reader), ReadFloats(reader)!);
            return new FittedRecommender(model, users, items, history);
        }
        catch (EndOfStreamException)
        {
            throw new ExperimentsException($"{path} is truncated: it ends before the model does.");
        }
    }

    private static void WriteIds(BinaryWriter w, IdMap ids)
    {
        w.Write(ids.Count);
        foreach (var id in ids.Ids) w.Write(id);
    }

    private static IdMap ReadIds(BinaryReader r)
    {
        var ids = new IdMap();
        var count = r.ReadInt32();
        for (var i = 0; i < count; i++) ids.GetOrAdd(r.ReadString());
        return ids;
    }

    private static void WriteFloats(BinaryWriter w, float[]? values)
    {
        w.Write(values?.Length ?? -1);
        if (values is not null) foreach (var v in values) w.Write(v);
    }

    private static float[]? ReadFloats(BinaryReader r)
    {
        var length = r.ReadInt32();
        if (length < 0) return null;
        var values = new float[length];
        for (var i = 0; i < length; i++) values[i] = r.ReadSingle();
        return values;
    }

    private static void WriteInts(BinaryWriter w, int[] values)
    {
        w.Write(values.Length);
        foreach (var v in values) w.Write(v);
    }

    private static int[] ReadInts(BinaryReader r)
    {
        var values = new int[r.ReadInt32()];
        for (var i = 0; i < values.Length; i++) values[i] = r.ReadInt32();
        return values;
    }
}
