using Experiments.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Tests.Text;

[TestClass]
[DoNotParallelize] // libtorch's random generator is global: see TestDevice.
public sealed class EncoderTests
{
    private static readonly EncoderOptions Small = new() { VocabularySize = 50, HiddenSize = 16, Layers = 2, AttentionHeads = 4, IntermediateSize = 32, MaxPositions = 20, Dropout = 0 };

    private static BertEncoder Encoder(EncoderOptions? options = null, int seed = 1)
    {
        var encoder = new BertEncoder(options ?? Small, seed);
        encoder.eval();
        return encoder;
    }

    [TestMethod]
    public void Parameters_have_the_Hugging_Face_names_and_shapes()
    {
        var names = Encoder().named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        CollectionAssert.AreEqual(new long[] { 50, 16 }, names["embeddings.word_embeddings.weight"]);
        CollectionAssert.AreEqual(new long[] { 20, 16 }, names["embeddings.position_embeddings.weight"]);
        CollectionAssert.AreEqual(new long[] { 16 }, names["embeddings.LayerNorm.weight"]);
        CollectionAssert.AreEqual(new long[] { 16, 16 }, names["encoder.layer.1.attention.self.query.weight"]);
        CollectionAssert.AreEqual(new long[] { 16 }, names["encoder.layer.0.attention.output.LayerNorm.bias"]);
        CollectionAssert.AreEqual(new long[] { 32, 16 }, names["encoder.layer.0.intermediate.dense.weight"]);
        CollectionAssert.AreEqual(new long[] { 16, 32 }, names["encoder.layer.1.output.dense.weight"]);
        CollectionAssert.AreEqual(new long[] { 16, 16 }, names["pooler.dense.weight"]);
        Assert.AreEqual(3 + 2 + 2 * 16 + 2, names.Count, "3 embeddings + LayerNorm (2) + 16 tensors per layer + the pooler (2)");
    }

    [TestMethod]
    public void Shapes_and_padding_do_not_change_the_embedding()
    {
        foreach (var options in new[] { Small, Small with { PreLayerNorm = true }, Small with { Pooling = Pooling.Cls } })
        {
            using var encoder = Encoder(options);
            using var ids = tensor(new long[] { 2, 7, 9, 3, 0, 0, 2, 5, 3, 0, 0, 0 }, [2, 6]);
            using var mask = tensor(new long[] { 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0 }, [2, 6]);
            using (no_grad())
            {
                using var states = encoder.forward(ids, mask);
                CollectionAssert.AreEqual(new long[] { 2, 6, 16 }, states.shape);
                using var batched = encoder.Embed(ids, mask);
                CollectionAssert.AreEqual(new long[] { 2, 16 }, batched.shape);
                // The first sentence alone, without padding, embeds to the same vector.
                using var alone = encoder.Embed(tensor(new long[] { 2, 7, 9, 3 }, [1, 4]), ones(1, 4, dtype: ScalarType.Int64));
                var a = batched[0].data<float>().ToArray();
                var b = alone[0].data<float>().ToArray();
                for (var i = 0; i < a.Length; i++) Assert.AreEqual(b[i], a[i], 1e-5, $"{options} component {i}");
            }
        }
    }

    [TestMethod]
    public void Same_seed_same_weights_and_a_checkpoint_round_trip_gives_identical_outputs()
    {
        using var a = Encoder(seed: 3);
        using var b = Encoder(seed: 3);
        using var c = Encoder(seed: 4);
        var wa = a.named_parameters().First().parameter.data<float>().ToArray();
        CollectionAssert.AreEqual(wa, b.named_parameters().First().parameter.data<float>().ToArray());
        CollectionAssert.AreNotEqual(wa, c.named_parameters().First().parameter.data<float>().ToArray());

        using var folder = new TempFolder();
        var vocabulary = TextTokenizer.SpecialTokens.Concat(Enumerable.Range(0, 45).Select(i => $"w{i}")).ToList();
        EncoderCheckpoint.Save(a, new TextTokenizer(vocabulary), folder.Path);
        var (loaded, tokenizer, hasPooler, _) = EncoderCheckpoint.Load(folder.Path);
        loaded.eval();
        CollectionAssert.AreEqual(vocabulary, tokenizer.Vocabulary.ToList());
        Assert.IsTrue(hasPooler);
        using var ids = tensor(new long[] { 2, 11, 17, 3 }, [1, 4]);
        using var mask = ones(1, 4, dtype: ScalarType.Int64);
        using (no_grad())
            CollectionAssert.AreEqual(a.Embed(ids, mask).data<float>().ToArray(), loaded.Embed(ids, mask).data<float>().ToArray());
        Assert.IsTrue(File.Exists(Path.Combine(folder.Path, "model.safetensors")));
        StringAssert.Contains(File.ReadAllText(Path.Combine(folder.Path, "config.json")), "\"num_hidden_layers\": 2");
    }

    [TestMethod]
    public void Texts_longer_than_the_positions_or_a_foreign_vocabulary_are_clear_errors()
    {
        using var encoder = Encoder();
        var vocabulary = TextTokenizer.SpecialTokens.Concat(Enumerable.Range(0, 45).Select(i => $"w{i}")).ToList();
        var tooLong = new EncoderTrainer(encoder, new TextTokenizer(vocabulary), new EncoderTrainingOptions { MaxLength = 64, Device = TestDevice.Name });
        Assert.AreEqual("A maximum length of 64 tokens exceeds the encoder's 20 positions (max_position_embeddings in its config.json); use at most 20.",
            Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => tooLong.EmbedAll([[2, 5, 3]])).Message);
        var foreign = new EncoderTrainer(encoder, new TextTokenizer([.. vocabulary, "extra"]), new EncoderTrainingOptions { MaxLength = 16, Device = TestDevice.Name });
        StringAssert.StartsWith(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => foreign.TrainClassifier(["w1 w2", "w3"], [0, 1], 2)).Message,
            "The tokenizer has 51 tokens but the encoder embeds only 50");
    }

    [TestMethod]
    public void Broken_checkpoints_are_clear_errors()
    {
        using var folder = new TempFolder();
        using var encoder = Encoder();
        EncoderCheckpoint.Save(encoder, new TextTokenizer(TextTokenizer.SpecialTokens), folder.Path);
        File.WriteAllText(Path.Combine(folder.Path, "config.json"), File.ReadAllText(Path.Combine(folder.Path, "config.json")).Replace("\"hidden_size\": 16", "\"hidden_size\": 32").Replace("\"intermediate_size\": 32", "\"intermediate_size\": 64"));
        StringAssert.Contains(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => EncoderCheckpoint.Load(folder.Path)).Message, "has shape [50, 16] in the checkpoint and [50, 32]");
        StringAssert.Contains(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => EncoderCheckpoint.Load(Path.Combine(folder.Path, "nothing"))).Message, "no such checkpoint folder");
        StringAssert.Contains(Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() => EncoderCheckpoint.Load(Directory.CreateDirectory(Path.Combine(folder.Path, "empty")).FullName)).Message, "no config.json");
    }
}
