using System.Runtime.InteropServices;
using Experiments.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Tests.Text;

/// <summary>Mixed precision and the adaptive batch size, on the test device (CPU here; CUDA with EXPERIMENTS_TEST_DEVICE=cuda).</summary>
[TestClass]
[DoNotParallelize] // libtorch's random generator is global: see TestDevice.
public sealed class MixedPrecisionTests
{
    private static readonly string[] Colours = ["red", "blue", "green", "black", "white", "grey"];
    private static readonly string[][] Kinds = [["shoe", "boot", "sandal"], ["phone", "tablet", "charger"], ["sofa", "table", "lamp"], ["novel", "atlas", "comic"]];

    /// <summary>Synthetic product titles whose category is given by the kind word; colours and sizes are noise.</summary>
    private static (List<string> Texts, int[] Labels) Titles(int count, int seed)
    {
        var random = new Random(seed);
        var texts = new List<string>();
        var labels = new int[count];
        for (var i = 0; i < count; i++)
        {
            labels[i] = random.Next(Kinds.Length);
            texts.Add($"{Colours[random.Next(Colours.Length)]} {Kinds[labels[i]][random.Next(3)]} size {random.Next(1, 12)} {Colours[random.Next(Colours.Length)]}");
        }
        return (texts, labels);
    }

    private static IEnumerable<ScalarType> SixteenBitTypes => TestDevice.IsCuda ? [ScalarType.BFloat16, ScalarType.Float16] : [ScalarType.BFloat16];

    /// <summary>A seeded encoder without dropout, in eval mode on the test device, and a batch of random token ids.</summary>
    private sealed record Fixture(BertEncoder Encoder, Tensor Ids, Tensor Mask) : IDisposable
    {
        public void Dispose()
        {
            Encoder.Dispose();
            Ids.Dispose();
            Mask.Dispose();
        }
    }

    private static Fixture Setup(int seed, int vocabulary, int hidden, int layers, int rows, int length)
    {
        var device = TorchDevice.Resolve(TestDevice.Name);
        manual_seed(seed); // for the random ids below
        var encoder = new BertEncoder(new EncoderOptions { VocabularySize = vocabulary, HiddenSize = hidden, Layers = layers, AttentionHeads = 2 * layers, IntermediateSize = 2 * hidden, MaxPositions = 16, Dropout = 0 }, seed);
        encoder.to(device);
        encoder.eval();
        return new(encoder, randint(1, vocabulary, [rows, length], dtype: ScalarType.Int64, device: device), ones(rows, length, dtype: ScalarType.Int64, device: device));
    }

    [TestMethod]
    public void Sixteen_bit_matrix_products_give_nearly_the_float32_embedding()
    {
        using var fixture = Setup(seed: 4, vocabulary: 200, hidden: 64, layers: 2, rows: 8, length: 12);
        var (encoder, ids, mask) = fixture;
        mask[.., 9..].fill_(0);
        using var _ = no_grad();
        using var reference = encoder.Embed(ids, mask).cpu();
        foreach (var type in SixteenBitTypes)
        {
            encoder.ComputeType = type;
            using var mixed = encoder.Embed(ids, mask).cpu();
            encoder.ComputeType = null;
            Assert.AreEqual(ScalarType.Float32, mixed.dtype, "pooled vectors come back in float32");
            using var cosine = nn.functional.cosine_similarity(mixed, reference, 1);
            var worst = cosine.min().item<float>();
            // bfloat16 keeps 8 significant bits, float16 11: each product's relative error is ~1e-2 or ~1e-3, not more.
            Assert.IsGreaterThan(0.995f, worst, $"{type}: cosine to the float32 embedding");
            Assert.IsGreaterThan(0f, (mixed - reference).abs().max().item<float>(), $"{type}: the products really ran in 16 bits");
        }
        Assert.ThrowsExactly<ArgumentException>(() => encoder.ComputeType = ScalarType.Float64);
    }

    [TestMethod]
    public void Inference_reuses_cast_weights_until_they_may_have_changed()
    {
        using var fixture = Setup(seed: 6, vocabulary: 100, hidden: 32, layers: 1, rows: 4, length: 8);
        var (encoder, ids, mask) = fixture;
        encoder.ComputeType = ScalarType.BFloat16;
        float[] Embed(bool gradients)
        {
            using var _ = gradients ? enable_grad() : no_grad();
            return encoder.Embed(ids, mask).detach().cpu().data<float>().ToArray();
        }
        var cached = Embed(gradients: false);
        CollectionAssert.AreEqual(cached, Embed(gradients: false), "the cached casts give the same result");
        CollectionAssert.AreEqual(Embed(gradients: true), cached, "casting per call (with gradients) gives the same result");
        using (no_grad()) encoder.named_parameters().Single(p => p.name.EndsWith("intermediate.dense.weight")).parameter.mul_(3);
        encoder.ClearCastCache();
        var changed = Embed(gradients: false);
        CollectionAssert.AreNotEqual(cached, changed, "after ClearCastCache the new weights are used");
        CollectionAssert.AreEqual(Embed(gradients: true), changed);
    }

    [TestMethod]
    public void Training_in_mixed_precision_lowers_the_loss_and_learns()
    {
        var (texts, labels) = Titles(600, 1);
        var vocabulary = TextTokenizer.LearnVocabulary(texts, 300);
        foreach (var precision in TestDevice.IsCuda ? new[] { "bfloat16", "float16" } : ["bfloat16"])
        {
            var encoder = new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Count, HiddenSize = 32, Layers = 1, AttentionHeads = 2, IntermediateSize = 64, MaxPositions = 16 }, seed: 7);
            var steps = new List<double>();
            var trainer = new EncoderTrainer(encoder, new TextTokenizer(vocabulary), new EncoderTrainingOptions
            {
                Epochs = 6, BatchSize = 32, LearningRate = 3e-3, Device = TestDevice.Name, Precision = precision, MaxLength = 16, StepProgress = steps.Add,
            });
            var history = trainer.TrainClassifier(texts[..500], labels[..500], Kinds.Length, (texts[500..], labels[500..]));
            Assert.HasCount(6 * (int)Math.Ceiling(500 / 32.0), steps, "one progress report per step (16 batches of ≤ 32 per epoch)");
            Assert.IsTrue(steps.Zip(steps.Skip(1)).All(p => p.First < p.Second) && steps[^1] == 1.0, "the share of examples done rises to 1");
            Assert.AreEqual(precision == "bfloat16" ? ScalarType.BFloat16 : ScalarType.Float16, encoder.ComputeType);
            Assert.IsLessThan(history[0].TrainLoss * 0.5, history[^1].TrainLoss, $"{precision}: {string.Join("; ", history)}");
            Assert.IsGreaterThan(0.9, history[^1].ValidationScore!.Value, $"{precision}: the kind word decides the category; {string.Join("; ", history)}");
            Assert.AreEqual(ScalarType.Float32, encoder.named_parameters().First().parameter.dtype, "master weights stay float32");
        }
    }

    [TestMethod]
    public void Running_out_of_memory_halves_the_batch_and_every_row_is_done_once()
    {
        var notices = new List<string>();
        var sizes = new AdaptiveBatchSize(16, "cuda:0", notices.Add);
        var done = new List<int>();
        var batches = Enumerable.Range(0, 5).Select(b => Enumerable.Range(b * 16, 16).ToArray()).Append([80, 81, 82]).ToList();
        sizes.ForEach(batches, batch =>
        {
            // What libtorch's CUDA allocator throws, for batches over 5 rows.
            if (batch.Length > 5) throw new ExternalException("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.10 GiB total capacity)");
            done.AddRange(batch);
        });
        CollectionAssert.AreEqual(Enumerable.Range(0, 83).ToList(), done, "each row once, in order");
        Assert.AreEqual(4, sizes.Current, "16 → 8 → 4");
        CollectionAssert.AreEqual(new[] { "Out of memory on cuda:0 with 16 texts per batch; going on with 8.", "Out of memory on cuda:0 with 8 texts per batch; going on with 4." }, notices);

        var hopeless = Assert.ThrowsExactly<Experiments.Core.ExperimentsException>(() =>
            new AdaptiveBatchSize(2, "cpu").ForEach([[0, 1]], _ => throw new ExternalException("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1099511627776 bytes.")));
        StringAssert.Contains(hopeless.Message, "Out of memory on cpu even with one text per batch: lower the maximum length or the encoder's size");
        Assert.ThrowsExactly<InvalidOperationException>(() => new AdaptiveBatchSize(4, "cpu").ForEach([[0, 1]], _ => throw new InvalidOperationException("not memory")), "other errors pass through");
    }

    [TestMethod]
    public void A_batch_too_large_for_the_GPU_trains_at_a_smaller_size()
    {
        if (!TestDevice.IsCuda) Assert.Inconclusive("Needs a CUDA GPU (EXPERIMENTS_TEST_DEVICE=cuda); the halving logic itself is tested above on the CPU.");
        // 16,384 texts of 512 tokens, 8 heads: one layer's attention scores alone take 16384·8·512²·4 bytes = 137 GB.
        var random = new Random(3);
        var words = Enumerable.Range(0, 500).Select(i => $"w{i}").ToArray();
        var texts = Enumerable.Range(0, 16_384).Select(_ => string.Join(' ', Enumerable.Range(0, 600).Select(_ => words[random.Next(words.Length)]))).ToList();
        var labels = texts.Select((_, i) => i % 3).ToArray();
        var vocabulary = TextTokenizer.LearnVocabulary(texts.Take(200), 600);
        var encoder = new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Count, HiddenSize = 256, Layers = 1, AttentionHeads = 8, IntermediateSize = 512, MaxPositions = 512 }, seed: 1);
        var notices = new List<string>();
        var trainer = new EncoderTrainer(encoder, new TextTokenizer(vocabulary), new EncoderTrainingOptions { Epochs = 1, BatchSize = 16_384, MaxLength = 512, Device = TestDevice.Name, Notice = notices.Add });
        var history = trainer.TrainClassifier(texts, labels, 3);
        Assert.IsLessThan(16_384, history[0].BatchSize, string.Join("; ", notices));
        Assert.IsTrue(double.IsFinite(history[0].TrainLoss));
        // Either the free-memory plan (before any step) or a caught out-of-memory error lowered it; the process lived on.
        StringAssert.Contains(notices[0], "cuda");
        Console.WriteLine($"{string.Join(" ", notices)} → trained at {history[0].BatchSize} texts per batch, {history[0].ExamplesPerSecond:F0} texts/s");
    }
}
