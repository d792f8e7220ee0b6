using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Text;

/// <summary>
/// Saves and loads encoders in the Hugging Face layout: a folder with config.json (BERT's field names), vocab.txt and
/// model.safetensors. Checkpoints of Hugging Face BertModel (e.g. a MiniLM) load when their names are the standard
/// ones; a "bert." prefix is accepted.
/// </summary>
public static class EncoderCheckpoint
{
    public static void Save(BertEncoder encoder, IReadOnlyList<string> vocabulary, string folder)
    {
        Directory.CreateDirectory(folder);
        var o = encoder.Options;
        var config = new JsonObject
        {
            ["model_type"] = "bert",
            ["architectures"] = new JsonArray("BertModel"),
            ["vocab_size"] = o.VocabularySize,
            ["hidden_size"] = o.HiddenSize,
            ["num_hidden_layers"] = o.Layers,
            ["num_attention_heads"] = o.AttentionHeads,
            ["intermediate_size"] = o.IntermediateSize,
            ["max_position_embeddings"] = o.MaxPositions,
            ["type_vocab_size"] = o.TypeVocabularySize,
            ["hidden_dropout_prob"] = o.Dropout,
            ["attention_probs_dropout_prob"] = o.Dropout,
            ["layer_norm_eps"] = o.LayerNormEpsilon,
            ["hidden_act"] = "gelu",
            ["experiments_pre_layer_norm"] = o.PreLayerNorm,
            ["experiments_pooling"] = o.Pooling.ToString().ToLowerInvariant(),
        };
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllLines(Path.Combine(folder, "vocab.txt"), vocabulary);
        SafeTensors.Write(Path.Combine(folder, "model.safetensors"), encoder.named_parameters().Select(p => (p.name, (Tensor)p.parameter)));
    }

    public static (BertEncoder Encoder, IReadOnlyList<string> Vocabulary) Load(string folder)
    {
        var configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath)) throw new ExperimentsException($"{folder} has no config.json: not a checkpoint in the Hugging Face layout.");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        int Int(string name, int fallback) => config[name]?.GetValue<int>() ?? fallback;
        if (config["hidden_act"]?.GetValue<string>() is { } act && act is not ("gelu" or "gelu_new"))
            throw new ExperimentsException($"{configPath}: hidden_act '{act}' is not supported (gelu only).");
        var options = new EncoderOptions
        {
            VocabularySize = Int("vocab_size", 30522),
            HiddenSize = Int("hidden_size", 768),
            Layers = Int("num_hidden_layers", 12),
            AttentionHeads = Int("num_attention_heads", 12),
            IntermediateSize = Int("intermediate_size", 3072),
            MaxPositions = Int("max_position_embeddings", 512),
            TypeVocabularySize = Int("type_vocab_size", 2),
            Dropout = config["hidden_dropout_prob"]?.GetValue<double>() ?? 0.1,
            LayerNormEpsilon = config["layer_norm_eps"]?.GetValue<double>() ?? 1e-12,
            PreLayerNorm = config["experiments_pre_layer_norm"]?.GetValue<bool>() ?? false,
            Pooling = config["experiments_pooling"]?.GetValue<string>() == "cls" ? Pooling.Cls : Pooling.Mean,
        };
        var encoder = new BertEncoder(options);
        var weights = SafeTensors.Read(Path.Combine(folder, "model.safetensors"));
        var parameters = encoder.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var missing = new List<string>();
        using (no_grad())
            foreach (var (name, parameter) in parameters)
            {
                if (!weights.TryGetValue(name, out var value) && !weights.TryGetValue("bert." + name, out value)) { missing.Add(name); continue; }
                if (!value.shape.SequenceEqual(parameter.shape))
                    throw new ExperimentsException($"{folder}: '{name}' has shape [{string.Join(", ", value.shape)}] in the checkpoint and [{string.Join(", ", parameter.shape)}] in the model its config.json describes.");
                parameter.copy_(value);
            }
        foreach (var w in weights.Values) w.Dispose();
        if (missing.Count > 0)
            throw new ExperimentsException($"{folder}: the checkpoint lacks {missing.Count} parameter(s) of a BERT encoder, e.g. '{missing[0]}'.");
        var vocabPath = Path.Combine(folder, "vocab.txt");
        IReadOnlyList<string> vocabulary = File.Exists(vocabPath) ? File.ReadAllLines(vocabPath) : [];
        return (encoder, vocabulary);
    }
}
