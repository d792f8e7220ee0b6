using Experiments.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Experiments.Tests.Text;

[TestClass]
[DoNotParallelize] // libtorch's random generator is global: see TestDevice.
public sealed class TextEmbeddingEstimatorTests
{
    public sealed class Offer
    {
        public string Title { get; set; } = "";
        public string Brand { get; set; } = "";
        public bool Label { get; set; }
    }

    public sealed class Embedded
    {
        [VectorType(16)] public float[] Embedding { get; set; } = [];
    }

    [TestMethod]
    public void Text_columns_become_an_embedding_column_usable_by_a_trainer()
    {
        var offers = Enumerable.Range(0, 60).Select(i => new Offer
        {
            Title = i % 2 == 0 ? $"red running shoe {i % 5}" : $"blue coffee beans {i % 5}",
            Brand = i % 3 == 0 ? "aster" : "nordwind",
            Label = i % 2 == 0,
        }).ToList();
        var vocabulary = TextTokenizer.LearnVocabulary(offers.Select(o => o.Title + " " + o.Brand), 200);
        var encoder = new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Count, HiddenSize = 16, Layers = 1, AttentionHeads = 2, IntermediateSize = 32, MaxPositions = 16, Dropout = 0 }, seed: 3);
        encoder.eval();
        var embedder = new EncoderEmbedder(encoder, new TextTokenizer(vocabulary), maxLength: 16, device: "cpu");
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(offers);
        var estimator = new TextEmbeddingEstimator(embedder, 16, "Embedding", "Title", "Brand");
        var transformer = estimator.Fit(data);
        var rows = ml.Data.CreateEnumerable<Embedded>(transformer.Transform(data), reuseRowObject: false).ToList();
        Assert.HasCount(60, rows);
        Assert.IsTrue(rows.All(r => r.Embedding.Length == 16));
        Assert.AreEqual(offers.Select(o => o.Title + " " + o.Brand).Distinct().Count(), transformer.CachedTexts, "each distinct text embedded once");
        // Alone or in a padded batch, the same text embeds the same (up to float rounding of different matrix shapes).
        var alone = embedder.Embed(["red running shoe 0 aster"])[0];
        for (var i = 0; i < 16; i++) Assert.AreEqual(alone[i], rows[0].Embedding[i], 1e-5);

        var engine = ml.Model.CreatePredictionEngine<Offer, Embedded>(transformer);
        CollectionAssert.AreEqual(rows[0].Embedding, engine.Predict(offers[0]).Embedding);
        Assert.AreEqual(16, engine.Predict(new Offer { Title = "green tea", Brand = "lumen" }).Embedding.Length, "an unseen text is embedded on demand");

        var model = estimator.Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(labelColumnName: "Label", featureColumnName: "Embedding")).Fit(data);
        var metrics = ml.BinaryClassification.Evaluate(model.Transform(data));
        Assert.IsGreaterThan(0.5, metrics.AreaUnderRocCurve);

        StringAssert.Contains(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => new TextEmbeddingEstimator(embedder, 16, "E", "Label").Fit(data)).Message, "must be a text column");
    }
}
