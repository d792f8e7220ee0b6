using Experiments.Text;
using static TorchSharp.torch;

namespace Experiments.Tests.Text;

/// <summary>Tokenisation and training on a small real corpus: PriceRunner offer titles and their categories.</summary>
[TestClass]
[DoNotParallelize] // libtorch's random generator is global: see TestDevice.
public sealed class TrainingTests
{
    private static (List<string> Titles, int[] Labels, int Classes, List<string> Clusters) Corpus(int rows)
    {
        var table = RealData.Open("pricerunner-product-classification").Table("offers");
        var random = new Random(5);
        var picked = Enumerable.Range(0, table.RowCount).OrderBy(_ => random.Next()).Take(rows).ToList();
        var categories = table["Category Label"].Strings!;
        var names = categories.Distinct().Order().ToList();
        return (picked.Select(r => table["Product Title"].Strings![r]).ToList(), picked.Select(r => names.IndexOf(categories[r])).ToArray(), names.Count,
            picked.Select(r => table["Cluster ID"].Strings![r]).ToList());
    }

    [TestMethod]
    public void A_vocabulary_learned_from_the_corpus_tokenises_without_unknowns()
    {
        var (titles, _, _, _) = Corpus(300);
        var vocabulary = TextTokenizer.LearnVocabulary(titles, 1000);
        Assert.AreEqual("[PAD]", vocabulary[0]);
        Assert.IsLessThanOrEqualTo(1000, vocabulary.Count);
        var tokenizer = new TextTokenizer(vocabulary);
        var ids = tokenizer.Encode(titles[0], 64);
        Assert.AreEqual(vocabulary.IndexOf("[CLS]"), ids[0]);
        Assert.AreEqual(vocabulary.IndexOf("[SEP]"), ids[^1]);
        Assert.IsFalse(titles.SelectMany(t => tokenizer.Encode(t, 64)).Contains(vocabulary.IndexOf("[UNK]")), "every character is in the vocabulary");
        Assert.HasCount(8, tokenizer.Encode(string.Join(' ', titles.Take(10)), 8), "truncated to the maximum length");
    }

    [TestMethod]
    public void Classification_training_lowers_the_loss_and_learns_categories()
    {
        var (titles, labels, classes, _) = Corpus(800);
        var vocabulary = TextTokenizer.LearnVocabulary(titles.Take(600), 1500);
        var encoder = new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Count, HiddenSize = 64, Layers = 2, AttentionHeads = 4, IntermediateSize = 128, MaxPositions = 32 }, seed: 1);
        using var folder = new TempFolder();
        var trainer = new EncoderTrainer(encoder, new TextTokenizer(vocabulary), new EncoderTrainingOptions { Epochs = 4, BatchSize = 32, LearningRate = 2e-3, Device = TestDevice.Name, CheckpointFolder = folder.Path });
        var history = trainer.TrainClassifier(titles.Take(600).ToList(), labels[..600], classes, (titles.Skip(600).ToList(), labels[600..]));
        Assert.HasCount(4, history);
        Assert.IsLessThan(history[0].TrainLoss * 0.7, history[^1].TrainLoss, string.Join("; ", history));
        var majority = labels[600..].GroupBy(l => l).Max(g => g.Count()) / 200.0;
        Assert.IsGreaterThan(majority + 0.2, history[^1].ValidationScore!.Value, string.Join("; ", history));
        Assert.IsTrue(Directory.Exists(Path.Combine(folder.Path, "epoch-4")), "a checkpoint per epoch");
        var reloaded = EncoderCheckpoint.Load(Path.Combine(folder.Path, "epoch-4")).Encoder;
        Assert.AreEqual(encoder.named_parameters().Count(), reloaded.named_parameters().Count());
    }

    [TestMethod]
    public void Contrastive_training_pulls_offers_of_one_product_together()
    {
        var (titles, _, _, clusters) = Corpus(6000);
        // Pairs of different offer titles of the same product cluster.
        var pairs = titles.Select((t, i) => (Title: t, Cluster: clusters[i])).GroupBy(x => x.Cluster).Where(g => g.Count() >= 2)
            .Select(g => (g.First().Title, g.Skip(1).First().Title)).ToList();
        Assert.IsGreaterThan(200, pairs.Count);
        var vocabulary = TextTokenizer.LearnVocabulary(titles, 3000);
        var encoder = new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Count, HiddenSize = 64, Layers = 1, AttentionHeads = 4, IntermediateSize = 128, MaxPositions = 32 }, seed: 2);
        var trainer = new EncoderTrainer(encoder, new TextTokenizer(vocabulary), new EncoderTrainingOptions { Epochs = 3, BatchSize = 32, LearningRate = 2e-3, Device = TestDevice.Name, EarlyStoppingRounds = 2 });
        var train = pairs.Skip(100).ToList();
        var validation = pairs.Take(100).ToList();
        var history = trainer.TrainContrastive(train, validation);
        Assert.IsLessThan(history[0].TrainLoss, history[^1].TrainLoss, string.Join("; ", history));
        Assert.IsGreaterThan(0.1, history.Max(h => h.ValidationScore!.Value), "recall@1 among 100 candidates is far above chance (0.01)");
    }
}
