using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Experiments.Core;
using Experiments.Text;
using static TorchSharp.torch;

namespace Experiments.Tests.Text;

/// <summary>
/// Checkpoints as Hugging Face writes and reads them: the saved tensors are exactly BertModel's state_dict, hub files'
/// quirks load, and the forward pass equals BERT in PyTorch (Reference/bert_forward.py over
/// experiments/benchmarks/peers/bert.py, both written from Hugging Face's definition) for every activation.
/// </summary>
[TestClass]
[DoNotParallelize] // TorchSharp's module constructors draw from libtorch's global generator, which other text tests seed: see TestDevice.
public sealed class CheckpointTests
{
    private static readonly EncoderOptions Tiny = new()
    {
        VocabularySize = 40, HiddenSize = 16, Layers = 2, AttentionHeads = 4, IntermediateSize = 24, MaxPositions = 12, Dropout = 0,
        // Wide weights put the feed-forward's inputs around ±2, where the activations differ from each other by far more
        // than the comparison's tolerance.
        InitializerRange = 0.5,
    };

    private static readonly string[] Vocabulary = [.. TextTokenizer.SpecialTokens, .. Enumerable.Range(0, 35).Select(i => $"w{i}")];

    /// <summary>
    /// The state_dict of Hugging Face's BertModel (transformers' modeling_bert.py; position_ids and token_type_ids are
    /// non-persistent buffers there), for a config: every name with its shape, all float32.
    /// </summary>
    private static Dictionary<string, long[]> HuggingFaceStateDict(EncoderOptions o)
    {
        long h = o.HiddenSize, i = o.IntermediateSize;
        var keys = new Dictionary<string, long[]>
        {
            ["embeddings.word_embeddings.weight"] = [o.VocabularySize, h],
            ["embeddings.position_embeddings.weight"] = [o.MaxPositions, h],
            ["embeddings.token_type_embeddings.weight"] = [o.TypeVocabularySize, h],
            ["embeddings.LayerNorm.weight"] = [h],
            ["embeddings.LayerNorm.bias"] = [h],
            ["pooler.dense.weight"] = [h, h],
            ["pooler.dense.bias"] = [h],
        };
        for (var layer = 0; layer < o.Layers; layer++)
        {
            var p = $"encoder.layer.{layer}.";
            foreach (var projection in new[] { "query", "key", "value" })
            {
                keys[p + $"attention.self.{projection}.weight"] = [h, h];
                keys[p + $"attention.self.{projection}.bias"] = [h];
            }
            keys[p + "attention.output.dense.weight"] = [h, h];
            keys[p + "attention.output.dense.bias"] = [h];
            keys[p + "attention.output.LayerNorm.weight"] = [h];
            keys[p + "attention.output.LayerNorm.bias"] = [h];
            keys[p + "intermediate.dense.weight"] = [i, h];
            keys[p + "intermediate.dense.bias"] = [i];
            keys[p + "output.dense.weight"] = [h, i];
            keys[p + "output.dense.bias"] = [h];
            keys[p + "output.LayerNorm.weight"] = [h];
            keys[p + "output.LayerNorm.bias"] = [h];
        }
        return keys;
    }

    private static (Tensor Ids, Tensor Mask) Batch()
    {
        // Three texts; the second and third padded (id 0) to the first's length.
        long[] ids = [2, 7, 19, 33, 11, 3, 2, 5, 9, 3, 0, 0, 2, 38, 3, 0, 0, 0];
        long[] mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0];
        return (tensor(ids, [3, 6]), tensor(mask, [3, 6]));
    }

    [TestMethod]
    public void A_saved_checkpoint_holds_exactly_the_tensors_of_Hugging_Faces_BertModel()
    {
        using var folder = new TempFolder();
        var options = Tiny with { Layers = 3, TypeVocabularySize = 2, Pooling = Pooling.Cls };
        EncoderCheckpoint.Save(new BertEncoder(options, seed: 1), new TextTokenizer(Vocabulary), folder.Path);
        var saved = SafeTensors.Entries(Path.Combine(folder.Path, "model.safetensors"));
        var expected = HuggingFaceStateDict(options);
        CollectionAssert.AreEquivalent(expected.Keys.ToList(), saved.Select(e => e.Name).ToList(), "the key set");
        foreach (var entry in saved)
        {
            CollectionAssert.AreEqual(expected[entry.Name], entry.Shape, entry.Name);
            Assert.AreEqual("F32", entry.DType, entry.Name);
        }

        // PyTorch's BertModel built from the saved config.json takes the file with load_state_dict(strict=True).
        var reference = ReferencePython.Run("bert_forward.py", new { checkpoint = folder.Path, ids = new[] { new[] { 2, 3 } }, mask = new[] { new[] { 1, 1 } }, poolings = Array.Empty<string>() }, "torch", "numpy");
        var stateDict = reference.GetProperty("state_dict").EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        CollectionAssert.AreEquivalent(expected.Keys.ToList(), stateDict.Keys.ToList(), "the reference model's state_dict");
        foreach (var (name, value) in stateDict)
        {
            CollectionAssert.AreEqual(expected[name], value[0].EnumerateArray().Select(d => d.GetInt64()).ToArray(), name);
            Assert.AreEqual("float32", value[1].GetString(), name);
        }
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Path, "config.json"))).RootElement;
        Assert.AreEqual("bert", config.GetProperty("model_type").GetString());
        Assert.AreEqual("gelu", config.GetProperty("hidden_act").GetString());
    }

    [TestMethod]
    public void The_forward_pass_equals_BERT_in_PyTorch_for_every_activation()
    {
        var (ids, mask) = Batch();
        string[] poolings = ["mean", "cls", "max", "pooler"];
        var outputs = new Dictionary<string, float[]>();
        var worst = 0.0;
        void Close(float expected, float actual, string what)
        {
            Assert.AreEqual(expected, actual, 1e-4, what);
            worst = Math.Max(worst, Math.Abs(expected - actual));
        }
        // One checkpoint per activation, all answered by one reference process (importing torch takes seconds).
        using var folders = new TempFolder();
        var encoders = BertActivations.Names.ToDictionary(a => a, a =>
        {
            var encoder = new BertEncoder(Tiny with { Activation = a }, seed: 4);
            encoder.eval();
            EncoderCheckpoint.Save(encoder, new TextTokenizer(Vocabulary), Path.Combine(folders.Path, a));
            return encoder;
        });
        var references = ReferencePython.Run("bert_forward.py", BertActivations.Names.Select(a => new
        {
            checkpoint = Path.Combine(folders.Path, a), ids = Rows(ids), mask = Rows(mask), poolings, normalize = false,
        }).ToArray(), "torch", "numpy").EnumerateArray().ToList();
        foreach (var (activation, reference) in BertActivations.Names.Zip(references))
        {
            using var encoder = encoders[activation];
            using var _ = no_grad();
            using var states = encoder.forward(ids, mask);
            var expected = reference.GetProperty("states");
            for (var row = 0; row < 3; row++)
                for (var position = 0; position < 6; position++)
                {
                    if (mask[row, position].item<long>() == 0) continue; // padded positions are not outputs
                    var ours = states[row, position].data<float>().ToArray();
                    var theirs = expected[row][position].EnumerateArray().Select(v => v.GetSingle()).ToArray();
                    for (var k = 0; k < ours.Length; k++) Close(theirs[k], ours[k], $"{activation}: state [{row}, {position}, {k}]");
                }
            outputs[activation] = states[0].data<float>().ToArray();
            foreach (var pooling in poolings)
            {
                using var loaded = EncoderCheckpoint.Load(Path.Combine(folders.Path, activation), EncoderCheckpoint.ParsePooling(pooling)).Encoder;
                loaded.eval();
                using var vectors = loaded.Embed(ids, mask);
                var theirs = reference.GetProperty("pooled").GetProperty(pooling);
                for (var row = 0; row < 3; row++)
                {
                    var ours = vectors[row].data<float>().ToArray();
                    var want = theirs[row].EnumerateArray().Select(v => v.GetSingle()).ToArray();
                    for (var k = 0; k < ours.Length; k++) Close(want[k], ours[k], $"{activation}, {pooling} pooling: text {row} component {k}");
                }
            }
        }
        // The comparison tells activations apart: the same weights under gelu and its tanh approximation (or relu, or
        // silu and quick_gelu) differ by far more than our states differ from PyTorch's.
        static double Gap(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        Assert.IsGreaterThan(20 * worst, Gap(outputs["gelu"], outputs["gelu_new"]), $"gelu vs gelu_new; worst difference from PyTorch {worst}");
        Assert.IsGreaterThan(20 * worst, Gap(outputs["gelu"], outputs["relu"]), "gelu vs relu");
        Assert.IsGreaterThan(20 * worst, Gap(outputs["silu"], outputs["quick_gelu"]), "silu vs quick_gelu");
    }

    private static long[][] Rows(Tensor t) => Enumerable.Range(0, (int)t.shape[0]).Select(r => t[r].data<long>().ToArray()).ToArray();

    /// <summary>A safetensors file with tensors of any dtype, as hub files have (the writer under test writes only F32).</summary>
    private static void WriteRaw(string path, IEnumerable<(string Name, string DType, long[] Shape, byte[] Data)> tensors)
    {
        var list = tensors.ToList();
        var header = new Dictionary<string, object>();
        long offset = 0;
        foreach (var (name, dtype, shape, data) in list)
        {
            header[name] = new { dtype, shape, data_offsets = new[] { offset, offset + data.Length } };
            offset += data.Length;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((ulong)json.Length));
        stream.Write(json);
        foreach (var t in list) stream.Write(t.Data);
    }

    private static byte[] Bytes<T>(T[] values) where T : struct => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    [TestMethod]
    public void Hub_checkpoints_load_with_prefixes_legacy_names_buffers_heads_and_half_precision()
    {
        using var folder = new TempFolder();
        var (ids, mask) = Batch();
        using var original = new BertEncoder(Tiny, seed: 6);
        original.eval();
        EncoderCheckpoint.Save(original, new TextTokenizer(Vocabulary), folder.Path);
        var weights = Path.Combine(folder.Path, "model.safetensors");
        var tensors = SafeTensors.Read(weights);
        string Hub(string name) => "bert." + name.Replace("LayerNorm.weight", "LayerNorm.gamma").Replace("LayerNorm.bias", "LayerNorm.beta");
        var hub = tensors.Select(t => (Hub(t.Key), "F32", t.Value.shape, Bytes(t.Value.data<float>().ToArray()))).ToList();
        // What a BertForPreTraining file from the hub also holds: the int64 position_ids buffer and the task heads.
        hub.Add(("bert.embeddings.position_ids", "I64", [1, Tiny.MaxPositions], Bytes(Enumerable.Range(0, Tiny.MaxPositions).Select(i => (long)i).ToArray())));
        hub.Add(("cls.predictions.bias", "F32", [Tiny.VocabularySize], Bytes(new float[Tiny.VocabularySize])));
        hub.Add(("cls.seq_relationship.weight", "F32", [2, Tiny.HiddenSize], Bytes(new float[2 * Tiny.HiddenSize])));
        WriteRaw(weights, hub);
        var loaded = EncoderCheckpoint.Load(folder.Path);
        Assert.IsTrue(loaded.HasPooler);
        loaded.Encoder.eval();
        using (no_grad())
            CollectionAssert.AreEqual(original.forward(ids, mask).data<float>().ToArray(), loaded.Encoder.forward(ids, mask).data<float>().ToArray(), "same weights, same states");

        // Half-precision weights are widened to float32; without a pooler the encoder still loads (and says so).
        var half = tensors.Where(t => !t.Key.StartsWith("pooler.", StringComparison.Ordinal))
            .Select(t => (t.Key, "F16", t.Value.shape, Bytes(t.Value.data<float>().ToArray().Select(v => (Half)v).ToArray()))).ToList();
        WriteRaw(weights, half);
        var widened = EncoderCheckpoint.Load(folder.Path);
        Assert.IsFalse(widened.HasPooler);
        var word = widened.Encoder.named_parameters().Single(p => p.name == "embeddings.word_embeddings.weight").parameter.data<float>().ToArray();
        CollectionAssert.AreEqual(tensors["embeddings.word_embeddings.weight"].data<float>().ToArray().Select(v => (float)(Half)v).ToArray(), word);

        // Weights split over two files by an index, as large hub models are.
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        File.Delete(weights);
        WriteRaw(Path.Combine(folder.Path, "part-1.safetensors"), names.Take(10).Select(n => (n, "F32", tensors[n].shape, Bytes(tensors[n].data<float>().ToArray()))));
        WriteRaw(Path.Combine(folder.Path, "part-2.safetensors"), names.Skip(10).Select(n => (n, "F32", tensors[n].shape, Bytes(tensors[n].data<float>().ToArray()))));
        File.WriteAllText(Path.Combine(folder.Path, "model.safetensors.index.json"),
            JsonSerializer.Serialize(new { weight_map = names.Select((n, i) => (n, i < 10 ? "part-1.safetensors" : "part-2.safetensors")).ToDictionary(x => x.n, x => x.Item2) }));
        var sharded = EncoderCheckpoint.Load(folder.Path).Encoder;
        sharded.eval();
        using (no_grad())
            CollectionAssert.AreEqual(original.forward(ids, mask).data<float>().ToArray(), sharded.forward(ids, mask).data<float>().ToArray(), "sharded weights");
    }

    [TestMethod]
    public void Sentence_transformers_pooling_and_maximum_length_are_taken_from_the_folder()
    {
        using var folder = new TempFolder();
        EncoderCheckpoint.Save(new BertEncoder(Tiny), new TextTokenizer(Vocabulary), folder.Path);
        var configPath = Path.Combine(folder.Path, "config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config.Remove("experiments_pooling"); // as in a sentence-transformers folder
        File.WriteAllText(configPath, config.ToJsonString());
        Directory.CreateDirectory(Path.Combine(folder.Path, "1_Pooling"));
        File.WriteAllText(Path.Combine(folder.Path, "1_Pooling", "config.json"), """{ "word_embedding_dimension": 16, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false, "pooling_mode_max_tokens": false }""");
        File.WriteAllText(Path.Combine(folder.Path, "sentence_bert_config.json"), """{ "max_seq_length": 10, "do_lower_case": false }""");
        var loaded = EncoderCheckpoint.Load(folder.Path);
        Assert.AreEqual(Pooling.Cls, loaded.Encoder.Options.Pooling);
        Assert.AreEqual(10, loaded.MaxLength);
        Assert.AreEqual(Pooling.Max, EncoderCheckpoint.Load(folder.Path, Pooling.Max).Encoder.Options.Pooling, "an explicit pooling wins");
        File.WriteAllText(Path.Combine(folder.Path, "1_Pooling", "config.json"), """{ "pooling_mode_mean_sqrt_len_tokens": true }""");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => EncoderCheckpoint.Load(folder.Path)).Message, "pooling pooling_mode_mean_sqrt_len_tokens is not supported; choose one of mean, cls, max, pooler explicitly");
        File.Delete(Path.Combine(folder.Path, "sentence_bert_config.json"));
        Assert.AreEqual(Tiny.MaxPositions, EncoderCheckpoint.Load(folder.Path, Pooling.Mean).MaxLength, "tokenizer_config's model_max_length, capped by the positions");
    }

    [TestMethod]
    public void Checkpoints_that_cannot_load_as_their_authors_meant_are_refused_clearly()
    {
        using var folder = new TempFolder();
        EncoderCheckpoint.Save(new BertEncoder(Tiny), new TextTokenizer(Vocabulary), folder.Path);
        var configPath = Path.Combine(folder.Path, "config.json");
        var config = File.ReadAllText(configPath);
        string Error(Action change)
        {
            change();
            try { return Assert.ThrowsExactly<ExperimentsException>(() => EncoderCheckpoint.Load(folder.Path)).Message; }
            finally { File.WriteAllText(configPath, config); }
        }
        StringAssert.Contains(Error(() => File.WriteAllText(configPath, config.Replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"mish\""))),
            "hidden_act 'mish' is not supported; supported: gelu, gelu_python, gelu_new, gelu_fast, gelu_pytorch_tanh, quick_gelu, relu, silu, swish.");
        StringAssert.Contains(Error(() => File.WriteAllText(configPath, config.Replace("\"model_type\": \"bert\"", "\"model_type\": \"roberta\""))), "model_type 'roberta' is not supported");
        StringAssert.Contains(Error(() => File.WriteAllText(configPath, config.Replace("\"absolute\"", "\"relative_key\""))), "position_embedding_type 'relative_key' is not supported");
        StringAssert.Contains(Error(() => File.WriteAllText(configPath, config.Replace("\"num_hidden_layers\": 2", "\"num_hidden_layers\": 1"))),
            "'encoder.layer.1.attention.self.query.weight' is not a parameter of the BERT encoder its config.json describes (1 layers)");
        StringAssert.Contains(Error(() => File.WriteAllText(configPath, config.Replace("\"hidden_size\": 16", "\"hidden_size\": \"sixteen\""))), "'hidden_size' is \"sixteen\"; expected a number");
        StringAssert.Contains(Error(() => File.WriteAllText(configPath, "{ not json")), "config.json is not valid JSON");

        var weights = Path.Combine(folder.Path, "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        StringAssert.Contains(Error(() => File.WriteAllBytes(weights, bytes[..100])), "the file is not safetensors or is truncated");
        StringAssert.Contains(Error(() => File.WriteAllBytes(weights, bytes[..^64])), "the file is truncated or damaged");
        StringAssert.Contains(Error(() => WriteRaw(weights, [("embeddings.word_embeddings.weight", "I64", [40, 16], new byte[40 * 16 * 8])])), "tensor 'embeddings.word_embeddings.weight' has dtype I64; a weight must be F32, F16, BF16 or F64");
        StringAssert.Contains(Error(() => { File.Delete(weights); File.WriteAllBytes(Path.Combine(folder.Path, "pytorch_model.bin"), [0]); }),
            "has pytorch_model.bin but no model.safetensors; only safetensors weights load. Convert them once");
        File.WriteAllBytes(weights, bytes);
        StringAssert.Contains(Error(() => File.Delete(Path.Combine(folder.Path, "vocab.txt"))), "has no vocab.txt");
    }
}
