using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Text;

/// <summary>
/// An encoder read from a checkpoint folder, its tokenizer, whether the folder had BERT's pooler weights, and the
/// longest input its authors set (sentence-transformers' max_seq_length, else tokenizer_config.json's
/// model_max_length, never more than the position table).
/// </summary>
public sealed record LoadedEncoder(BertEncoder Encoder, TextTokenizer Tokenizer, bool HasPooler, int MaxLength);

/// <summary>
/// Saves and loads encoders in the Hugging Face layout: a folder with config.json (BERT's field names), vocab.txt,
/// tokenizer_config.json and model.safetensors. Loading takes what hub checkpoints of BERT models contain: a "bert."
/// prefix (BertFor… checkpoints) and their task heads, which are skipped; buffers such as an int64
/// embeddings.position_ids, which are ignored; TensorFlow-era LayerNorm gamma/beta names; F16/BF16/F64 weights;
/// weights split over several files (model.safetensors.index.json); and sentence-transformers' pooling
/// (1_Pooling/config.json) and maximum length. Saving writes exactly the tensors of Hugging Face's BertModel
/// state_dict, the pooler included, so Hugging Face loads a saved encoder without initialising anything.
/// </summary>
public static class EncoderCheckpoint
{
    private const string Weights = "model.safetensors";
    private const string WeightIndex = "model.safetensors.index.json";

    public static void Save(BertEncoder encoder, TextTokenizer tokenizer, string folder)
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
            ["hidden_act"] = o.Activation,
            ["initializer_range"] = o.InitializerRange,
            ["pad_token_id"] = o.PaddingId,
            ["position_embedding_type"] = "absolute",
            ["experiments_pre_layer_norm"] = o.PreLayerNorm,
            ["experiments_pooling"] = o.Pooling.ToString().ToLowerInvariant(),
        };
        var t = tokenizer.Options;
        var tokenizerConfig = new JsonObject
        {
            ["tokenizer_class"] = "BertTokenizer",
            ["do_lower_case"] = t.LowerCase,
            ["strip_accents"] = t.StripAccents,
            ["tokenize_chinese_chars"] = t.TokenizeChineseChars,
            ["unk_token"] = t.UnknownToken,
            ["cls_token"] = t.ClassToken,
            ["sep_token"] = t.SeparatorToken,
            ["pad_token"] = t.PaddingToken,
            ["mask_token"] = "[MASK]",
            ["model_max_length"] = o.MaxPositions,
        };
        var indented = new JsonSerializerOptions { WriteIndented = true };
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString(indented));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), tokenizerConfig.ToJsonString(indented));
        File.WriteAllLines(Path.Combine(folder, "vocab.txt"), tokenizer.Vocabulary);
        SafeTensors.Write(Path.Combine(folder, Weights), encoder.named_parameters().Select(p => (p.name, (Tensor)p.parameter)));
    }

    /// <summary>Loads <paramref name="folder"/>; <paramref name="pooling"/>, when given, replaces the pooling the folder names.</summary>
    public static LoadedEncoder Load(string folder, Pooling? pooling = null, long seed = 0)
    {
        if (!Directory.Exists(folder)) throw new ExperimentsException($"{folder}: no such checkpoint folder.");
        var configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath)) throw new ExperimentsException($"{folder} has no config.json: not a checkpoint in the Hugging Face layout.");
        var config = Json(configPath);
        var options = ModelOptions(config, configPath, pooling ?? ConfiguredPooling(config, folder));
        var encoder = new BertEncoder(options, seed);
        var hasPooler = LoadWeights(encoder, folder);
        var tokenizer = LoadTokenizer(folder);
        return new LoadedEncoder(encoder, tokenizer, hasPooler, AuthorsMaxLength(folder) is { } length ? Math.Min(length, options.MaxPositions) : options.MaxPositions);
    }

    /// <summary>sentence-transformers' max_seq_length, else tokenizer_config.json's model_max_length (often a huge "no limit" value).</summary>
    private static int? AuthorsMaxLength(string folder)
    {
        if (Json(Path.Combine(folder, "sentence_bert_config.json"), optional: true)?["max_seq_length"]?.GetValue<double>() is { } sentence and >= 2) return (int)Math.Min(sentence, int.MaxValue);
        if (Json(Path.Combine(folder, "tokenizer_config.json"), optional: true)?["model_max_length"]?.GetValue<double>() is { } model and >= 2) return (int)Math.Min(model, int.MaxValue);
        return null;
    }

    private static EncoderOptions ModelOptions(JsonNode config, string path, Pooling pooling)
    {
        T Field<T>(string name, T fallback)
        {
            try
            {
                return config[name] is { } value ? value.GetValue<T>() : fallback;
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new ExperimentsException($"{path}: '{name}' is {config[name]!.ToJsonString()}; expected a {(typeof(T) == typeof(string) ? "string" : typeof(T) == typeof(bool) ? "boolean" : "number")}.");
            }
        }
        if (Field<string?>("model_type", null) is { } type && type != "bert")
            throw new ExperimentsException($"{path}: model_type '{type}' is not supported; this encoder is BERT's architecture (model_type 'bert', e.g. BERT, MiniLM, BGE, E5 checkpoints).");
        if (Field("position_embedding_type", "absolute") is var positions && positions != "absolute")
            throw new ExperimentsException($"{path}: position_embedding_type '{positions}' is not supported; only 'absolute' position embeddings are.");
        var activation = Field("hidden_act", "gelu");
        try
        {
            BertActivations.Of(activation);
        }
        catch (ExperimentsException e)
        {
            throw new ExperimentsException($"{path}: {e.Message}");
        }
        return new EncoderOptions
        {
            VocabularySize = Field("vocab_size", 30522),
            HiddenSize = Field("hidden_size", 768),
            Layers = Field("num_hidden_layers", 12),
            AttentionHeads = Field("num_attention_heads", 12),
            IntermediateSize = Field("intermediate_size", 3072),
            MaxPositions = Field("max_position_embeddings", 512),
            TypeVocabularySize = Field("type_vocab_size", 2),
            Dropout = Field("hidden_dropout_prob", 0.1),
            LayerNormEpsilon = Field("layer_norm_eps", 1e-12),
            Activation = activation,
            InitializerRange = Field("initializer_range", 0.02),
            PaddingId = Field("pad_token_id", 0),
            PreLayerNorm = Field("experiments_pre_layer_norm", false),
            Pooling = pooling,
        };
    }

    /// <summary>The folder's pooling: ours (experiments_pooling), else sentence-transformers' 1_Pooling/config.json, else mean.</summary>
    private static Pooling ConfiguredPooling(JsonNode config, string folder)
    {
        if (config["experiments_pooling"]?.GetValue<string>() is { } named)
            return ParsePooling(named) ?? throw new ExperimentsException($"{Path.Combine(folder, "config.json")}: experiments_pooling '{named}' is not one of: {string.Join(", ", PoolingNames)}.");
        var path = Path.Combine(folder, "1_Pooling", "config.json");
        if (Json(path, optional: true) is not { } modes) return Pooling.Mean;
        var chosen = modes.AsObject().Where(m => m.Key.StartsWith("pooling_mode_", StringComparison.Ordinal) && m.Value?.GetValue<bool>() == true).Select(m => m.Key).ToList();
        return chosen switch
        {
            ["pooling_mode_mean_tokens"] => Pooling.Mean,
            ["pooling_mode_cls_token"] => Pooling.Cls,
            ["pooling_mode_max_tokens"] => Pooling.Max,
            _ => throw new ExperimentsException($"{path}: pooling {(chosen.Count == 0 ? "none" : string.Join(" + ", chosen))} is not supported; choose one of {string.Join(", ", PoolingNames)} explicitly."),
        };
    }

    public static IReadOnlyList<string> PoolingNames { get; } = Enum.GetNames<Pooling>().Select(n => n.ToLowerInvariant()).ToArray();

    public static Pooling? ParsePooling(string name) => Enum.TryParse<Pooling>(name, ignoreCase: true, out var p) && PoolingNames.Contains(name.ToLowerInvariant()) ? p : null;

    /// <summary>Copies the folder's weights into <paramref name="encoder"/>; returns whether they included the pooler.</summary>
    private static bool LoadWeights(BertEncoder encoder, string folder)
    {
        var parameters = encoder.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        // Checkpoint name → our parameter name, for the tensors this encoder has.
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        var files = WeightFiles(folder);
        foreach (var file in files)
            foreach (var entry in SafeTensors.Entries(file))
            {
                var name = Canonical(entry.Name);
                if (name is "embeddings.position_ids" or "embeddings.token_type_ids" || !name.StartsWith("embeddings.", StringComparison.Ordinal)
                    && !name.StartsWith("encoder.", StringComparison.Ordinal) && !name.StartsWith("pooler.", StringComparison.Ordinal))
                    continue; // a buffer, or a task head of a BertFor… checkpoint
                if (!parameters.ContainsKey(name))
                    throw new ExperimentsException($"{file}: '{entry.Name}' is not a parameter of the BERT encoder its config.json describes ({encoder.Options.Layers} layers); the weights and config.json disagree.");
                if (entry.DType is not ("F32" or "F16" or "BF16" or "F64"))
                    throw new ExperimentsException($"{file}: tensor '{entry.Name}' has dtype {entry.DType}; a weight must be F32, F16, BF16 or F64.");
                if (names.ContainsValue(name))
                    throw new ExperimentsException($"{folder}: the checkpoint holds '{name}' twice (with and without a prefix, or as gamma/beta and weight/bias).");
                names[entry.Name] = name;
            }
        var missing = parameters.Keys.Where(n => !names.ContainsValue(n) && !n.StartsWith("pooler.", StringComparison.Ordinal)).ToList();
        if (missing.Count > 0)
            throw new ExperimentsException($"{folder}: the checkpoint lacks {missing.Count} parameter(s) of a BERT encoder, e.g. '{missing[0]}'.");
        using (no_grad())
            foreach (var file in files)
                foreach (var (stored, value) in SafeTensors.Read(file, e => names.ContainsKey(e.Name)))
                {
                    var parameter = parameters[names[stored]];
                    if (!value.shape.SequenceEqual(parameter.shape))
                        throw new ExperimentsException($"{folder}: '{stored}' has shape [{string.Join(", ", value.shape)}] in the checkpoint and [{string.Join(", ", parameter.shape)}] in the model its config.json describes.");
                    parameter.copy_(value);
                    value.Dispose();
                }
        return names.Values.Count(n => n.StartsWith("pooler.", StringComparison.Ordinal)) == 2;
    }

    /// <summary>Hugging Face's names for this encoder's tensors: without a "bert." prefix, LayerNorm gamma/beta as weight/bias.</summary>
    private static string Canonical(string name)
    {
        if (name.StartsWith("bert.", StringComparison.Ordinal)) name = name[5..];
        if (name.EndsWith("LayerNorm.gamma", StringComparison.Ordinal)) return name[..^"gamma".Length] + "weight";
        if (name.EndsWith("LayerNorm.beta", StringComparison.Ordinal)) return name[..^"beta".Length] + "bias";
        return name;
    }

    private static List<string> WeightFiles(string folder)
    {
        var single = Path.Combine(folder, Weights);
        if (File.Exists(single)) return [single];
        var indexPath = Path.Combine(folder, WeightIndex);
        if (Json(indexPath, optional: true) is { } index)
        {
            var map = index["weight_map"] as JsonObject ?? throw new ExperimentsException($"{indexPath} has no weight_map.");
            return map.Select(m => m.Value!.GetValue<string>()).Distinct().Order(StringComparer.Ordinal).Select(f => Path.Combine(folder, f)).ToList();
        }
        var others = new[] { "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack", "model.onnx" }.Where(f => File.Exists(Path.Combine(folder, f))).ToList();
        throw new ExperimentsException(others.Count > 0
            ? $"{folder} has {string.Join(" and ", others)} but no {Weights}; only safetensors weights load. Convert them once with PyTorch and the safetensors package, e.g. python3 -c \"import torch; from safetensors.torch import save_file; save_file(torch.load('pytorch_model.bin'), '{Weights}')\" in that folder."
            : $"{folder} has no {Weights} (nor {WeightIndex}): the checkpoint's weights are missing.");
    }

    /// <summary>vocab.txt with the normalisation tokenizer_config.json (else tokenizer.json's BertNormalizer) asks for.</summary>
    private static TextTokenizer LoadTokenizer(string folder)
    {
        var vocabPath = Path.Combine(folder, "vocab.txt");
        if (!File.Exists(vocabPath)) throw new ExperimentsException($"{folder} has no vocab.txt: BERT's WordPiece vocabulary is missing.");
        var vocabulary = File.ReadAllLines(vocabPath);
        var options = new TokenizerOptions();
        var configPath = Path.Combine(folder, "tokenizer_config.json");
        if (Json(configPath, optional: true) is { } config)
        {
            if (config["tokenizer_class"]?.GetValue<string>() is { } kind && !kind.Contains("Bert", StringComparison.Ordinal))
                throw new ExperimentsException($"{configPath}: tokenizer_class '{kind}' is not BERT's WordPiece tokenizer; only BertTokenizer checkpoints are supported.");
            string Token(string field, string fallback) => config[field] switch
            {
                JsonValue v => v.GetValue<string>(),
                JsonObject added => added["content"]?.GetValue<string>() ?? fallback, // an AddedToken
                _ => fallback,
            };
            options = options with
            {
                LowerCase = config["do_lower_case"]?.GetValue<bool>() ?? true,
                StripAccents = config["strip_accents"]?.GetValue<bool>(),
                TokenizeChineseChars = config["tokenize_chinese_chars"]?.GetValue<bool>() ?? true,
                UnknownToken = Token("unk_token", options.UnknownToken),
                ClassToken = Token("cls_token", options.ClassToken),
                SeparatorToken = Token("sep_token", options.SeparatorToken),
                PaddingToken = Token("pad_token", options.PaddingToken),
            };
        }
        else if (Json(Path.Combine(folder, "tokenizer.json"), optional: true)?["normalizer"] is JsonObject { } normalizer && normalizer["type"]?.GetValue<string>() == "BertNormalizer")
        {
            options = options with
            {
                LowerCase = normalizer["lowercase"]?.GetValue<bool>() ?? true,
                StripAccents = normalizer["strip_accents"]?.GetValue<bool>(),
                TokenizeChineseChars = normalizer["handle_chinese_chars"]?.GetValue<bool>() ?? true,
            };
        }
        return new TextTokenizer(vocabulary, options);
    }

    private static JsonNode Json(string path) => Json(path, optional: false)!;

    private static JsonNode? Json(string path, bool optional)
    {
        if (!File.Exists(path)) return optional ? null : throw new ExperimentsException($"{path}: no such file.");
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) ?? throw new ExperimentsException($"{path} is empty JSON (null).");
        }
        catch (JsonException e)
        {
            throw new ExperimentsException($"{path} is not valid JSON: {e.Message}", e);
        }
    }
}
