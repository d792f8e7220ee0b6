using Experiments.Core;
using Experiments.Core.Data;
using Experiments.Core.Models;
using Experiments.MLNet;
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
    /// models, the learned similarity for item-kNN, EASE's weight B[item, j] (how much the item in a history raises j's score).
    /// </summary>
    public IReadOnlyList<Recommendation> SimilarItems(string item, int k)
    {
        if (k < 1) throw new ExperimentsException($"k must be at least 1; it is {k}.");
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
            case EaseModel ease:
                if (!ease.IsModelled(index))
                    throw new ExperimentsException($"EASE does not model item '{item}': it had no training interaction{(ease.MaxItems is { } cap ? $" or is not among the {cap:N0} most popular (maxItems)" : "")}, so it has no weights to other items.");
                ease.WeightsFrom(index, scores);
                break;
            case ItemKnnModel knn:
                Array.Fill(scores, float.NegativeInfinity);
                foreach (var (neighbour, similarity) in knn.Neighbours(index)) scores[neighbour] = similarity;
                break;
            default:
                throw new ExperimentsException($"Similar items need item factors or item–item weights; {Model.GetType().Name} has neither. Use a factorisation model, EASE or item-knn.");
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

    /// <summary>Version 1 held factorisation models only; version 2 names the model's kind and holds the histories before the model.</summary>
    internal const int FormatVersion = 2;

    private const string FactorsKind = "latent-factors";
    private const string EaseKind = "ease";
    private const string ItemKnnKind = "item-knn";
    private const string BiasKind = "bias";
    private const string FixedScoresKind = "fixed-scores";

    /// <summary>The saved form's name of the model's kind; null for a model that has none.</summary>
    private static string? Kind(IRecommenderModel model) => model switch
    {
        LatentFactorModel => FactorsKind,
        EaseModel => EaseKind,
        ItemKnnModel => ItemKnnKind,
        BiasModel => BiasKind,
        FixedScoreModel => FixedScoresKind,
        _ => null,
    };

    /// <summary>
    /// Saves the model (factorisation models — matrix factorisation, SVD++, Bayesian MF, implicit ALS, BPR — EASE,
    /// item-kNN, bias, global mean and most-popular) with its id maps and histories in a versioned binary file; an
    /// existing file is an error unless <paramref name="overwrite"/>.
    /// </summary>
    public void Save(string path, bool overwrite = false)
    {
        RequireSaveable();
        ModelFiles.Write(path, overwrite, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            Write(writer);
        });
    }

    public static FittedRecommender Load(string path) => ModelFiles.Read(path, stream =>
    {
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        return Read(reader);
    });

    private void RequireSaveable()
    {
        if (Kind(Model) is null)
            throw new ExperimentsException($"Saving is supported for factorisation models (matrix-factorization, svd++, bayesian-mf, implicit-als, bpr), EASE, item-knn, bias, global-mean and most-popular; {Model.GetType().Name} is none of them.");
    }

    /// <summary>Writes the model, its id maps and the training histories (what <see cref="Read"/> reads back).</summary>
    internal void Write(BinaryWriter writer)
    {
        RequireSaveable();
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(Kind(Model)!);
        WriteIds(writer, Users);
        WriteIds(writer, Items);
        writer.WriteArray(_history.RowStart);
        writer.WriteArray(_history.ColumnIndex);
        writer.WriteArray(_history.Values);
        switch (Model)
        {
            case LatentFactorModel factors:
                factors.Write(writer);
                break;
            case EaseModel ease:
                ease.Write(writer);
                break;
            case ItemKnnModel knn:
                knn.Write(writer);
                break;
            case BiasModel bias:
                writer.Write(bias.Mean);
                writer.WriteArray(bias.UserBias);
                writer.WriteArray(bias.ItemBias);
                break;
            case FixedScoreModel scores:
                writer.WriteArray(scores.Scores);
                break;
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote; clear errors for another file, a newer version or a truncated one.</summary>
    internal static FittedRecommender Read(BinaryReader reader)
    {
        try
        {
            if (ReadMagic(reader) != Magic) throw new ExperimentsException("This is not a saved recommender.");
            var version = reader.ReadInt32();
            if (version is < 1 or > FormatVersion) throw new ExperimentsException($"The saved recommender has format version {version}; this program reads versions 1 to {FormatVersion}.");
            var kind = version == 1 ? FactorsKind : reader.ReadString();
            var users = ReadIds(reader);
            var items = ReadIds(reader);
            UserItemMatrix ReadHistory() => UserItemMatrix.FromArrays(users.Count, items.Count, reader.ReadArray<int>(), reader.ReadArray<int>(), reader.ReadArray<float>());
            if (version == 1)
            {
                // Version 1: a factorisation model, then the histories.
                var v1 = LatentFactorModel.Read(reader, version);
                return new FittedRecommender(v1, users, items, ReadHistory());
            }
            var history = ReadHistory();
            IRecommenderModel model = kind switch
            {
                FactorsKind => LatentFactorModel.Read(reader, version),
                EaseKind => EaseModel.Read(reader, history),
                ItemKnnKind => ItemKnnModel.Read(reader, history),
                BiasKind => new BiasModel(reader.ReadSingle(), reader.ReadArray<float>(), reader.ReadArray<float>()),
                FixedScoresKind => new FixedScoreModel(reader.ReadArray<float>()),
                _ => throw new ExperimentsException($"The saved recommender is of kind '{kind}', which this program does not know."),
            };
            return new FittedRecommender(model, users, items, history);
        }
        catch (EndOfStreamException)
        {
            throw new ExperimentsException("The saved recommender is truncated: it ends before the model does.");
        }
        catch (ArgumentException e)
        {
            throw new ExperimentsException($"The saved recommender is damaged: {e.Message}");
        }
    }

    // A file of another kind need not start with a length-prefixed string: read one only when its length is plausible.
    private static string? ReadMagic(BinaryReader reader)
    {
        var stream = reader.BaseStream;
        if (stream.CanSeek && stream.Length - stream.Position < Magic.Length + 1) return null;
        try
        {
            return reader.ReadString();
        }
        catch (Exception e) when (e is EndOfStreamException or FormatException or System.Text.DecoderFallbackException)
        {
            return null;
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
}
