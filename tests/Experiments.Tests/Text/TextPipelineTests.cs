using Experiments.Core;
using Experiments.MLNet;
using Experiments.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Experiments.Tests.Text;

/// <summary>The text featuriser inside ML.NET pipelines: between ML.NET's transforms and a trainer, saved and loaded with the model zip.</summary>
[TestClass]
[DoNotParallelize] // libtorch's random generator is global: see TestDevice.
public sealed class TextPipelineTests
{
    public sealed class Offer
    {
        public string Title { get; set; } = "";
        public string Category { get; set; } = "";
    }

    public sealed class Prediction
    {
        public string PredictedCategory { get; set; } = "";
        public float[] Score { get; set; } = [];
    }

    private static EncoderEmbedder SmallEncoder(IEnumerable<string> corpus, int hidden)
    {
        var vocabulary = TextTokenizer.LearnVocabulary(corpus, 400);
        var encoder = new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Count, HiddenSize = hidden, Layers = 1, AttentionHeads = 2, IntermediateSize = 2 * hidden, MaxPositions = 24, Dropout = 0 }, seed: 3);
        encoder.eval();
        return new EncoderEmbedder(encoder, new TextTokenizer(vocabulary), maxLength: 24, device: TestDevice.Name, threads: 1);
    }

    /// <summary>Category key → embedding → multiclass SDCA → the category's name again.</summary>
    private static IEstimator<ITransformer> Pipeline(MLContext ml, ITextEmbedder embedder, int dimension) =>
        ml.Transforms.Conversion.MapValueToKey("Label", "Category")
            .Append(ml.Transforms.Text.EmbedText(embedder, dimension, "Features", "Title"))
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(new Microsoft.ML.Trainers.SdcaMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = 1, MaximumNumberOfIterations = 20 }))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedCategory", "PredictedLabel"));

    private static List<Prediction> Predict(MLContext ml, ITransformer model, IEnumerable<Offer> offers) =>
        ml.Data.CreateEnumerable<Prediction>(model.Transform(ml.Data.LoadFromEnumerable(offers)), reuseRowObject: false).ToList();

    private static void AssertSameBits(List<Prediction> expected, List<Prediction> actual, string what)
    {
        Assert.HasCount(expected.Count, actual);
        for (var r = 0; r < expected.Count; r++)
        {
            Assert.AreEqual(expected[r].PredictedCategory, actual[r].PredictedCategory, $"{what}: row {r}");
            CollectionAssert.AreEqual(expected[r].Score.Select(BitConverter.SingleToInt32Bits).ToArray(), actual[r].Score.Select(BitConverter.SingleToInt32Bits).ToArray(), $"{what}: row {r} scores");
        }
    }

    [TestMethod]
    public void PriceRunner_titles_through_the_encoder_in_an_ML_NET_pipeline_match_the_same_trainer_on_vectors_computed_apart_and_survive_save_and_load()
    {
        var table = RealData.Open("pricerunner-product-classification").Table("offers");
        var titles = table["Product Title"].Strings!;
        var categories = table["Category Label"].Strings!;
        var order = Enumerable.Range(0, titles.Length).ToArray();
        new Random(11).Shuffle(order);
        var offers = order.Take(1500).Select(r => new Offer { Title = titles[r], Category = categories[r] }).ToList();
        var (train, test) = (offers[..1000], offers[1000..]);
        var embedder = SmallEncoder(train.Select(o => o.Title), hidden: 32);
        var ml = new MLContext(seed: 1);
        var model = Pipeline(ml, embedder, 32).Fit(ml.Data.LoadFromEnumerable(train));

        // The independent computation: the encoder's vectors computed outside any pipeline, the same ML.NET trainer on them.
        var vectors = embedder.Embed(train.Select(o => o.Title).ToList());
        var testVectors = embedder.Embed(test.Select(o => o.Title).ToList());
        var schema = SchemaDefinition.Create(typeof(VectorRow));
        schema[nameof(VectorRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 32);
        IDataView Rows(List<Offer> part, float[][] v) => ml.Data.LoadFromEnumerable(part.Select((o, i) => new VectorRow { Category = o.Category, Features = v[i] }), schema);
        var apart = new MLContext(seed: 1);
        var reference = apart.Transforms.Conversion.MapValueToKey("Label", "Category")
            .Append(apart.MulticlassClassification.Trainers.SdcaMaximumEntropy(new Microsoft.ML.Trainers.SdcaMaximumEntropyMulticlassTrainer.Options { NumberOfThreads = 1, MaximumNumberOfIterations = 20 }))
            .Append(apart.Transforms.Conversion.MapKeyToValue("PredictedCategory", "PredictedLabel"))
            .Fit(Rows(train, vectors));
        var expected = apart.Data.CreateEnumerable<Prediction>(reference.Transform(Rows(test, testVectors)), reuseRowObject: false).ToList();
        var actual = Predict(ml, model, test);
        for (var r = 0; r < test.Count; r++)
        {
            Assert.AreEqual(expected[r].PredictedCategory, actual[r].PredictedCategory, $"test row {r}");
            for (var c = 0; c < expected[r].Score.Length; c++) Assert.AreEqual(expected[r].Score[c], actual[r].Score[c], 1e-4, $"test row {r} class {c}");
        }
        var accuracy = actual.Zip(test).Count(p => p.First.PredictedCategory == p.Second.Category) / (double)test.Count;
        Assert.IsGreaterThan(0.3, accuracy, $"accuracy {accuracy:F3} over 10 categories (chance about 0.1): the embedding carries the titles' words");

        // Saved with ML.NET's Model.Save, loaded in a fresh context: the same predictions, bit for bit, for texts embedded
        // before saving (kept with the model) and for texts neither side has seen (embedded again by the loaded encoder).
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "pricerunner.zip");
        var seen = test[..200];
        var before = Predict(ml, model, seen);
        ml.Model.SaveFile(model, ml.Data.LoadFromEnumerable(train).Schema, path);
        var loaded = new MLContext().Model.LoadFile(path, out _);
        var fresh = new MLContext();
        AssertSameBits(before, Predict(fresh, loaded, seen), "texts embedded before saving");
        var unseen = new[] { new Offer { Title = "samsung galaxy s9 64gb midnight black" }, new Offer { Title = "bosch serie 4 dishwasher 60cm" } };
        AssertSameBits(Predict(ml, model, unseen), Predict(fresh, loaded, unseen), "texts embedded after loading");
    }

    public sealed class VectorRow
    {
        public string Category { get; set; } = "";
        public float[] Features { get; set; } = [];
    }

    [TestMethod]
    public void A_TF_IDF_featuriser_saves_and_loads_with_the_pipeline_and_an_embedder_that_cannot_be_saved_says_so()
    {
        var offers = Enumerable.Range(0, 80).Select(i => new Offer
        {
            Title = (i % 4) switch { 0 => $"red running shoe size {i % 7}", 1 => $"blue coffee beans {i % 5}kg", 2 => $"oak dining table {i % 3}", _ => $"usb c cable {i % 6}m" },
            Category = (i % 4) switch { 0 => "shoes", 1 => "coffee", 2 => "furniture", _ => "cables" },
        }).ToList();
        var ml = new MLContext(seed: 1);
        var corpus = offers.Select(o => o.Title).ToList();
        var tfidf = new TfidfEmbedder(corpus);
        var dimension = tfidf.Embed([corpus[0]])[0].Length;
        var model = Pipeline(ml, tfidf, dimension).Fit(ml.Data.LoadFromEnumerable(offers));
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "tfidf.zip");
        ml.Model.SaveFile(model, ml.Data.LoadFromEnumerable(offers).Schema, path);
        var fresh = new MLContext();
        var loaded = fresh.Model.LoadFile(path, out _);
        var unseen = new[] { new Offer { Title = "green running shoe" }, new Offer { Title = "usb cable 2m" } };
        AssertSameBits(Predict(ml, model, offers), Predict(fresh, loaded, offers), "training offers");
        AssertSameBits(Predict(ml, model, unseen), Predict(fresh, loaded, unseen), "unseen offers");
        CollectionAssert.AreEqual(new[] { "shoes", "cables" }, Predict(fresh, loaded, unseen).Select(p => p.PredictedCategory).ToArray());

        // GloVe reads its vectors from the user's file, which a model zip does not hold: saving says so (Fit only checks the columns).
        var data = ml.Data.LoadFromEnumerable(offers);
        var glove = new TextEmbeddingEstimator(new GloveEmbedder("absent-glove.txt", 4), 4, "Features", "Title").Fit(data);
        var error = Assert.ThrowsExactly<ExperimentsException>(() => ml.Model.Save(glove, data.Schema, new MemoryStream()));
        StringAssert.Contains(error.Message, "glove-average text embedder cannot be saved");
    }
}
