using System.IO.Compression;
using Experiments.Core;
using Experiments.MLNet;
using Experiments.Recommenders;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders.Factorization;
using Experiments.Recommenders.MLNet;
using Microsoft.ML;
using Microsoft.ML.Data;
using static Experiments.Tests.Recommenders.MLNetEstimatorTests;

namespace Experiments.Tests.Recommenders;

/// <summary>Our recommenders inside ML.NET's model zip: saved with mlContext.Model.Save, loaded in a fresh MLContext, scoring bit for bit.</summary>
[TestClass]
public sealed class ModelSaveLoadTests
{
    /// <summary>The fitted pipelines' rows plus rows with an unknown user and an unknown item (which score NaN).</summary>
    private static List<Rating> ScoredRows() => [.. Ratings(), new Rating { UserId = "stranger", ItemId = "i1" }, new Rating { UserId = "u1", ItemId = "novel" }];

    private static IEstimator<ITransformer> Recommender(MLContext ml, string kind) => kind switch
    {
        "mf-sgd" => ml.Recommenders().MatrixFactorization(new MatrixFactorizationOptions { Solver = MatrixFactorizationSolver.Sgd, ApproximationRank = 4, NumberOfIterations = 6 }),
        "mf-als" => ml.Recommenders().MatrixFactorization(new MatrixFactorizationOptions { ApproximationRank = 4, NumberOfIterations = 4 }),
        "svd++" => ml.Recommenders().SvdPlusPlus(new SvdPlusPlusOptions { ApproximationRank = 4, NumberOfIterations = 4 }),
        "bayesian-mf" => ml.Recommenders().BayesianMatrixFactorization(new BayesianMatrixFactorizationOptions { ApproximationRank = 3, BurnIn = 2, Samples = 3 }),
        "bpr" => ml.Recommenders().Bpr(new BprOptions { ApproximationRank = 4, NumberOfIterations = 3 }),
        "implicit-als" => ml.Recommenders().ImplicitAls(new ImplicitAlsOptions { ApproximationRank = 4, NumberOfIterations = 3 }),
        "ease" => ml.Recommenders().Ease(new EaseOptions { Lambda = 5 }),
        "item-knn" => ml.Recommenders().ItemKnn(new ItemKnnOptions { Neighbours = 5 }),
        "bias" => ml.Recommenders().Bias(),
        "most-popular" => ml.Recommenders().MostPopular(),
        _ => throw new ArgumentException(kind),
    };

    private static ITransformer Fit(MLContext ml, string kind) =>
        ml.Transforms.Conversion.MapValueToKey("UserId").Append(ml.Transforms.Conversion.MapValueToKey("ItemId")).Append(Recommender(ml, kind))
            .Fit(ml.Data.LoadFromEnumerable(Ratings()));

    private static float[] Scores(MLContext ml, ITransformer model) =>
        ml.Data.CreateEnumerable<Scored>(model.Transform(ml.Data.LoadFromEnumerable(ScoredRows())), reuseRowObject: false).Select(s => s.Score).ToArray();

    private static FittedRecommender Recommender(ITransformer model) => ((IEnumerable<ITransformer>)model).OfType<RecommenderTransformer>().Single().Recommender;

    [TestMethod]
    [DataRow("mf-sgd")]
    [DataRow("mf-als")]
    [DataRow("svd++")]
    [DataRow("bayesian-mf")]
    [DataRow("bpr")]
    [DataRow("implicit-als")]
    [DataRow("ease")]
    [DataRow("item-knn")]
    [DataRow("bias")]
    [DataRow("most-popular")]
    public void A_pipeline_saved_with_Model_Save_loads_in_a_fresh_context_and_scores_bit_for_bit(string kind)
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "model.zip");
        var ml = new MLContext(seed: 1);
        var model = Fit(ml, kind);
        var before = Scores(ml, model);
        ml.Model.Save(model, ml.Data.LoadFromEnumerable(Ratings()).Schema, path);

        // ML.NET's own Load, in a context that has never seen our assemblies' loadable classes.
        var fresh = new MLContext();
        var loaded = fresh.Model.Load(path, out var schema);
        Assert.IsNotNull(schema.GetColumnOrNull("UserId"));
        var after = Scores(fresh, loaded);
        CollectionAssert.AreEqual(before.Select(BitConverter.SingleToInt32Bits).ToArray(), after.Select(BitConverter.SingleToInt32Bits).ToArray(), $"{kind}: every score, bit for bit");
        Assert.IsTrue(float.IsNaN(after[^2]) && float.IsNaN(after[^1]), "unknown keys still score NaN");
        var engine = fresh.Model.CreatePredictionEngine<Rating, Scored>(loaded);
        Assert.AreEqual(BitConverter.SingleToInt32Bits(before[7]), BitConverter.SingleToInt32Bits(engine.Predict(Ratings()[7]).Score));

        // Top-K lists and the model's own facts come back too.
        var (original, reloaded) = (Recommender(model), Recommender(loaded));
        CollectionAssert.AreEqual(original.Recommend("1", 5).ToArray(), reloaded.Recommend("1", 5).ToArray());
        Assert.AreEqual(original.Model.GetType(), reloaded.Model.GetType());
        if (original.Model is IFitFacts facts) CollectionAssert.AreEquivalent(facts.Facts.ToList(), ((IFitFacts)reloaded.Model).Facts.ToList());
    }

    [TestMethod]
    public void Saving_over_a_file_needs_overwrite_and_loading_names_the_file_that_is_wrong()
    {
        using var folder = new TempFolder();
        var ml = new MLContext(seed: 1);
        var model = Fit(ml, "mf-als");
        var schema = ml.Data.LoadFromEnumerable(Ratings()).Schema;
        var path = Path.Combine(folder.Path, "model.zip");
        ml.Model.SaveFile(model, schema, path);
        var bytes = File.ReadAllBytes(path);
        var exists = Assert.ThrowsExactly<ExperimentsException>(() => ml.Model.SaveFile(model, schema, path));
        StringAssert.Contains(exists.Message, $"{path} already exists");
        StringAssert.Contains(exists.Message, "overwrite: true");
        CollectionAssert.AreEqual(bytes, File.ReadAllBytes(path), "the refused save left the file alone");
        ml.Model.SaveFile(model, schema, path, overwrite: true);
        Assert.HasCount(0, Directory.GetFiles(folder.Path, "*.tmp"), "no temporary file is left behind");
        CollectionAssert.AreEqual(Scores(ml, model), Scores(ml, ml.Model.LoadFile(path, out _)));

        var text = folder.File("notes.zip", "not a model at all\n");
        var notOurs = Assert.ThrowsExactly<ExperimentsException>(() => ml.Model.LoadFile(text, out _));
        StringAssert.StartsWith(notOurs.Message, $"{text} is not an ML.NET model zip");
        StringAssert.StartsWith(Assert.ThrowsExactly<ExperimentsException>(() => ml.Model.LoadFile(Path.Combine(folder.Path, "absent.zip"), out _)).Message,
            $"{Path.Combine(folder.Path, "absent.zip")}: no such model file");

        // A file from a newer Experiments: the recommender's format version, just after its type name, set to 99.
        var future = Path.Combine(folder.Path, "future.zip");
        File.Copy(path, future);
        PatchVersionAfter(future, typeof(RecommenderTransformer).FullName + ", Experiments.Recommenders", 99);
        var newer = Assert.ThrowsExactly<ExperimentsException>(() => new MLContext().Model.LoadFile(future, out _));
        StringAssert.StartsWith(newer.Message, future);
        StringAssert.Contains(newer.Message, "format version 99; this build of Experiments reads versions 1 to 1");

        // The recommender's own file: the same rules.
        var recommender = Recommender(model);
        var own = Path.Combine(folder.Path, "model.recommender");
        recommender.Save(own);
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => recommender.Save(own)).Message, "already exists");
        recommender.Save(own, overwrite: true);
        StringAssert.StartsWith(Assert.ThrowsExactly<ExperimentsException>(() => FittedRecommender.Load(text)).Message, $"{text}: This is not a saved recommender");
        StringAssert.StartsWith(Assert.ThrowsExactly<ExperimentsException>(() => FittedRecommender.Load(path)).Message, $"{path}: This is not a saved recommender");
    }

    /// <summary>Sets the int32 that follows the length-prefixed string <paramref name="marker"/> in the zip entry holding it.</summary>
    private static void PatchVersionAfter(string zipPath, string marker, int value)
    {
        using var zip = ZipFile.Open(zipPath, ZipArchiveMode.Update);
        var needle = new[] { (byte)marker.Length }.Concat(System.Text.Encoding.UTF8.GetBytes(marker)).ToArray();
        foreach (var entry in zip.Entries.ToList())
        {
            using var buffer = new MemoryStream();
            using (var stream = entry.Open()) stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var at = content.AsSpan().IndexOf(needle);
            if (at < 0) continue;
            BitConverter.GetBytes(value).CopyTo(content, at + needle.Length);
            var name = entry.FullName;
            entry.Delete();
            using var replaced = zip.CreateEntry(name).Open();
            replaced.Write(content);
            return;
        }
        Assert.Fail($"No entry of {zipPath} holds {marker}.");
    }

    [TestMethod]
    public void The_MLContext_seed_reaches_trainers_whose_options_leave_it_unset()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Ratings());
        var keys = ml.Transforms.Conversion.MapValueToKey("UserId").Append(ml.Transforms.Conversion.MapValueToKey("ItemId")).Fit(data);
        var keyed = keys.Transform(data);
        float[] Factors(RecommenderTransformer t) => ((LatentFactorModel)t.Recommender.Model).ItemFactors;
        var options = new BprOptions { ApproximationRank = 4, NumberOfIterations = 2 };
        // The same BPR fit seeded explicitly, for each seed the rule should give.
        float[] Seeded(int seed) => Factors(new MLContext().Recommenders().Bpr(options with { Seed = seed }).Fit(keyed));

        CollectionAssert.AreEqual(Seeded(7), Factors(new MLContext(seed: 7).Recommenders().Bpr(options).Fit(keyed)), "unset: the context's seed");
        CollectionAssert.AreEqual(Factors(new MLContext().Recommenders().Bpr(new BprOptions { Seed = 7 }).Fit(keyed)), Factors(new MLContext(seed: 7).Recommenders().Bpr().Fit(keyed)),
            "no options: the context's seed");
        CollectionAssert.AreEqual(Seeded(3), Factors(new MLContext(seed: 7).Recommenders().Bpr(options with { Seed = 3 }).Fit(keyed)), "set: kept");
        CollectionAssert.AreEqual(Seeded(SeededOptions.DefaultSeed), Factors(new MLContext(seed: 9).Recommenders().Bpr(options with { Seed = SeededOptions.DefaultSeed }).Fit(keyed)),
            "set to the default value: kept, not replaced by the context's");
        CollectionAssert.AreEqual(Seeded(SeededOptions.DefaultSeed), Factors(new MLContext().Recommenders().Bpr(options).Fit(keyed)), "no seed anywhere: the default");
        CollectionAssert.AreNotEqual(Seeded(7), Seeded(8), "the seed matters to this fit");
        Assert.AreEqual(7, MLNetInternals.Seed(new MLContext(seed: 7)));
        Assert.IsNull(MLNetInternals.Seed(new MLContext()));
        Assert.IsFalse(new BprOptions().HasSeed);
        Assert.AreEqual(SeededOptions.DefaultSeed, new BprOptions().Seed);
    }

    [TestMethod]
    public void The_ML_NET_internals_relied_upon_are_all_there()
    {
        var problems = MLNetInternals.Problems(MLNetInternals.ReliedUpon);
        Assert.HasCount(0, problems, $"ML.NET {typeof(MLContext).Assembly.GetName().Version} changed internals Experiments relies on: {string.Join("; ", problems)}");
        Assert.AreEqual(typeof(ModelSaveContext).Assembly.GetName().Version, MLNetInternals.ExpectedVersion, "the ML.NET loaded is the one compiled against");
        MLNetInternals.Check();

        // What a changed ML.NET would report: a renamed member, a changed signature, a removed type.
        var changed = MLNetInternals.Problems(
        [
            new("Microsoft.ML.ModelSaveContext, Microsoft.ML.Core", "SaveBinaryStreamRenamed", ["System.String"]),
            new("Microsoft.ML.ModelSaveContext, Microsoft.ML.Core", "SaveBinaryStream", ["System.String"]),
            new("Microsoft.ML.NoSuchType, Microsoft.ML.Core", "Create", []),
        ]);
        Assert.HasCount(3, changed);
        StringAssert.Contains(changed[0], "ModelSaveContext has no member SaveBinaryStreamRenamed");
        StringAssert.Contains(changed[1], "ModelSaveContext.SaveBinaryStream now takes (String, Action`1)");
        StringAssert.Contains(changed[2], "ML.NET has no type Microsoft.ML.NoSuchType");
    }
}
