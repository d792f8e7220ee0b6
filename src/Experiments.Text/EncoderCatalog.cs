using Experiments.Core;
using Experiments.Core.Definitions;
using static TorchSharp.torch;

namespace Experiments.Text;

/// <summary>What an encoder is trained on: pairs (contrastive) or texts with class labels (classification), plus validation data.</summary>
public abstract record EncoderTask
{
    /// <summary>Every training text, for learning a vocabulary when starting from scratch.</summary>
    public abstract IEnumerable<string> Corpus { get; }

    /// <param name="HardNegatives">Optional, one per training pair: a text like B that is not A's partner (see <see cref="EncoderTrainer.TrainContrastive"/>).</param>
    /// <param name="Unpaired">Texts that are not trained on but will be embedded (e.g. a whole catalogue), for the vocabulary.</param>
    public sealed record Pairs(IReadOnlyList<(string A, string B)> Train, IReadOnlyList<(string A, string B)>? Validation,
        IReadOnlyList<string>? HardNegatives = null, IReadOnlyList<string>? Unpaired = null) : EncoderTask
    {
        public override IEnumerable<string> Corpus => Train.SelectMany(p => new[] { p.A, p.B }).Concat(HardNegatives ?? []).Concat(Unpaired ?? []);
    }

    public sealed record Labelled(IReadOnlyList<string> Texts, int[] Labels, int Classes, (IReadOnlyList<string> Texts, int[] Labels)? Validation) : EncoderTask
    {
        public override IEnumerable<string> Corpus => Texts;
    }

    /// <summary>No training: the checkpoint is used as it is.</summary>
    public sealed record Untrained : EncoderTask
    {
        public override IEnumerable<string> Corpus => [];
    }
}

/// <summary>An encoder ready to embed: weights, tokenizer, how it was trained, and the settings it embeds with.</summary>
public sealed record FittedEncoder(BertEncoder Encoder, TextTokenizer Tokenizer, IReadOnlyList<EpochReport> History, EncoderTrainingOptions Training)
{
    /// <summary>Sentence vectors, each distinct text encoded once and then remembered (permutation importance re-embeds the same texts).</summary>
    public ITextEmbedder Embedder(string name) => new CachedEmbedder(new EncoderEmbedder(Encoder, Tokenizer, Training.MaxLength, Training.Device, Training.Precision, Math.Max(Training.BatchSize, 128), name, Training.Threads));

    public void Save(string folder) => EncoderCheckpoint.Save(Encoder, Tokenizer, folder);
}

/// <summary>
/// The encoder parameters a definition may set (sizes apply when training from scratch; a checkpoint brings its own),
/// and <see cref="Fit"/>, which builds or loads an encoder and trains it on an <see cref="EncoderTask"/>.
/// </summary>
public static class EncoderCatalog
{
    public static IReadOnlyList<ParameterSpec> Parameters { get; } =
    [
        new("hiddenSize", ParameterKind.Integer, 128, "Width of token states (from scratch).", 8, 4096),
        new("layers", ParameterKind.Integer, 2, "Transformer layers (from scratch).", 1, 48),
        new("attentionHeads", ParameterKind.Integer, 4, "Attention heads; must divide hiddenSize (from scratch).", 1, 64),
        new("intermediateSize", ParameterKind.Integer, 256, "Feed-forward width (from scratch).", 8, 16384),
        new("vocabularySize", ParameterKind.Integer, 8000, "WordPiece vocabulary learned from the training rows (from scratch).", 100, 200_000),
        new("pooling", ParameterKind.String, "mean", "Sentence vector: mean or maximum of token states, the [CLS] state, or BERT's pooler over it (from scratch; a checkpoint keeps its own).", Allowed: EncoderCheckpoint.PoolingNames),
        new("activation", ParameterKind.String, "gelu", "Feed-forward activation, by its Hugging Face name (from scratch).", Allowed: BertActivations.Names),
        new("preLayerNorm", ParameterKind.Boolean, false, "Layer norm before each block instead of after (from scratch)."),
        new("dropout", ParameterKind.Number, 0.1, "Dropout rate (from scratch).", 0, 0.9),
        new("maxLength", ParameterKind.Integer, 32, "Longest text in tokens, [CLS] and [SEP] included.", 4, 512),
        new("epochs", ParameterKind.Integer, 3, "Passes over the training rows.", 1, 1000),
        new("batchSize", ParameterKind.Integer, 64, "Rows per step (also the negatives per pair for 'contrastive'); halves if the device runs out of memory.", 2, 65_536),
        new("learningRate", ParameterKind.Number, 1e-3, "Peak AdamW learning rate.", 1e-7, 1),
        new("weightDecay", ParameterKind.Number, 0.01, "AdamW weight decay.", 0, 1),
        new("warmupFraction", ParameterKind.Number, 0.1, "Share of training spent warming the learning rate up.", 0, 1),
        new("temperature", ParameterKind.Number, 0.05, "'contrastive': temperature of the cosine logits.", 1e-4, 10),
        new("earlyStoppingRounds", ParameterKind.Integer, 0, "Stop after this many epochs without a better validation score (0: never); needs a validation split.", 0, 1000),
        new("device", ParameterKind.String, "auto", "auto (CUDA when available), cpu, cuda or cuda:N."),
        new("precision", ParameterKind.String, "auto", "Matrix products in: auto (bfloat16 on CUDA, float32 on CPU), float32, bfloat16 or float16.", Allowed: TorchDevice.Precisions),
        new("threads", ParameterKind.Integer, 0, "CPU threads for libtorch (0: all processors). The count changes libtorch's float sums, so runs record it; the same count and seed reproduce a run bit for bit.", 0, 1024),
    ];

    public static EncoderTrainingOptions TrainingOptions(IReadOnlyDictionary<string, object> parameters, int seed, Action<string>? notice = null, Action<double>? stepProgress = null)
    {
        var p = new ParameterValues(parameters, Parameters);
        return new()
        {
            Epochs = p.Integer("epochs"),
            BatchSize = p.Integer("batchSize"),
            LearningRate = p.Number("learningRate"),
            WeightDecay = p.Number("weightDecay"),
            WarmupFraction = p.Number("warmupFraction"),
            Temperature = p.Number("temperature"),
            EarlyStoppingRounds = p.Integer("earlyStoppingRounds"),
            MaxLength = p.Integer("maxLength"),
            Device = p.Text("device"),
            Precision = p.Text("precision"),
            Threads = p.Integer("threads"),
            Seed = seed,
            Notice = notice,
            StepProgress = stepProgress,
        };
    }

    public static EncoderOptions ModelOptions(IReadOnlyDictionary<string, object> parameters, int vocabularySize)
    {
        var p = new ParameterValues(parameters, Parameters);
        return new()
        {
            VocabularySize = vocabularySize,
            HiddenSize = p.Integer("hiddenSize"),
            Layers = p.Integer("layers"),
            AttentionHeads = p.Integer("attentionHeads"),
            IntermediateSize = p.Integer("intermediateSize"),
            MaxPositions = Math.Max(64, p.Integer("maxLength")),
            Dropout = p.Number("dropout"),
            PreLayerNorm = p.Flag("preLayerNorm"),
            Activation = p.Text("activation"),
            Pooling = EncoderCheckpoint.ParsePooling(p.Text("pooling")) ?? Pooling.Mean,
        };
    }

    /// <summary>
    /// Loads <paramref name="checkpoint"/> (or builds an encoder from scratch with a vocabulary learned from the task's
    /// corpus) with weights drawn from <paramref name="seed"/>, and trains it on <paramref name="task"/> with the same seed.
    /// </summary>
    /// <param name="epochFitted">
    /// After each epoch: its number and the encoder as it stands, for a caller that scores it as training goes (a sweep's
    /// pruner). It shares the trained weights: valid during the call only, and not to be changed; embedding with it does
    /// not change the training (no gradients, no dropout draws). A handler that throws stops the fit.
    /// </param>
    public static FittedEncoder Fit(string? checkpoint, EncoderTask task, IReadOnlyDictionary<string, object> parameters, int seed,
        IProgress<EpochReport>? progress = null, Action<string>? notice = null, CancellationToken cancel = default, Action<double>? stepProgress = null,
        Action<int, FittedEncoder>? epochFitted = null)
    {
        var training = TrainingOptions(parameters, seed, notice, stepProgress);
        TorchDevice.Resolve(training.Device);
        BertEncoder encoder;
        TextTokenizer tokenizer;
        if (checkpoint is not null)
        {
            var loaded = EncoderCheckpoint.Load(checkpoint, seed: seed);
            (encoder, tokenizer) = (loaded.Encoder, loaded.Tokenizer);
        }
        else
        {
            var corpus = task.Corpus.ToList();
            if (corpus.Count == 0) throw new ExperimentsException("An encoder trained from scratch needs training texts, and the training rows have none.");
            var vocabulary = TextTokenizer.LearnVocabulary(corpus, new ParameterValues(parameters, Parameters).Integer("vocabularySize"));
            (encoder, tokenizer) = (new BertEncoder(ModelOptions(parameters, vocabulary.Count), seed), new TextTokenizer(vocabulary));
        }
        var trainer = new EncoderTrainer(encoder, tokenizer, training);
        var epochs = new List<EpochReport>();
        var watched = epochFitted is null ? progress : new ImmediateProgress<EpochReport>(report =>
        {
            progress?.Report(report);
            epochs.Add(report);
            epochFitted(report.Epoch, new FittedEncoder(encoder, tokenizer, [.. epochs], training));
        });
        IReadOnlyList<EpochReport> history = task switch
        {
            EncoderTask.Pairs pairs => trainer.TrainContrastive(pairs.Train, pairs.Validation, watched, cancel, pairs.HardNegatives),
            EncoderTask.Labelled labelled => trainer.TrainClassifier(labelled.Texts, labelled.Labels, labelled.Classes, labelled.Validation, watched, cancel),
            _ => [],
        };
        encoder.eval();
        return new FittedEncoder(encoder, tokenizer, history, training);
    }
}

/// <summary>Remembers each text's vector, so the same text is embedded once however often it is asked for.</summary>
public sealed class CachedEmbedder(ITextEmbedder inner) : ITextEmbedder
{
    private readonly Dictionary<string, float[]> _cache = new(StringComparer.Ordinal);

    public string Name => inner.Name;

    /// <summary>The embedder whose vectors are remembered.</summary>
    public ITextEmbedder Inner => inner;

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        var missing = texts.Where(t => !_cache.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            var vectors = inner.Embed(missing);
            for (var i = 0; i < missing.Count; i++) _cache[missing[i]] = vectors[i];
        }
        return texts.Select(t => _cache[t]).ToArray();
    }
}

/// <summary>Reports on the calling thread, in order, before the caller goes on (<see cref="Progress{T}"/> would post to the thread pool).</summary>
public sealed class ImmediateProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
