using System.Diagnostics;
using Experiments.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Experiments.Text;

public sealed record EncoderTrainingOptions
{
    public int Epochs { get; init; } = 3;
    public int BatchSize { get; init; } = 32;
    public double LearningRate { get; init; } = 5e-4;
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Share of all steps spent warming the learning rate up linearly from 0; it then decays linearly to 0.</summary>
    public double WarmupFraction { get; init; } = 0.1;
    public double MaxGradientNorm { get; init; } = 1.0;
    /// <summary>Longest sequence in tokens, [CLS] and [SEP] included.</summary>
    public int MaxLength { get; init; } = 32;
    /// <summary>Contrastive objective: temperature of the cosine logits.</summary>
    public double Temperature { get; init; } = 0.05;
    /// <summary>Stop when the validation score has not improved for this many epochs (0: never); the best epoch's weights are kept.</summary>
    public int EarlyStoppingRounds { get; init; }
    /// <summary>Where to save a checkpoint after every epoch (Hugging Face layout, one folder per epoch); null: none.</summary>
    public string? CheckpointFolder { get; init; }
    public string Device { get; init; } = "auto";
    /// <summary>"auto" (bfloat16 matrix products on CUDA, float32 on CPU), "float32", "bfloat16" or "float16" (with dynamic loss scaling).</summary>
    public string Precision { get; init; } = "auto";
    public int Seed { get; init; } = 42;
    /// <summary>
    /// CPU threads libtorch computes with; 0: <see cref="Environment.ProcessorCount"/>. Set by the trainer, not taken from
    /// OMP_NUM_THREADS: libtorch splits its sums by thread, so the count is part of what makes a seed reproduce a run bit
    /// for bit, and runs record it (<see cref="CpuThreads"/>).
    /// </summary>
    public int Threads { get; init; }
    public int CpuThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
    /// <summary>Messages worth a user's attention during training (e.g. the batch size halved after running out of memory).</summary>
    public Action<string>? Notice { get; init; }
    /// <summary>After every step: the share (0–1) of all epochs' examples processed, for progress bars.</summary>
    public Action<double>? StepProgress { get; init; }
}

/// <summary>One epoch's training loss, validation score (accuracy, or recall@1 for pairs), speed and the batch size it ended with.</summary>
public sealed record EpochReport(int Epoch, double TrainLoss, double? ValidationScore, double ExamplesPerSecond, int BatchSize);

/// <summary>
/// Trains an encoder: (a) with a classification head (cross-entropy over categories or intents), or (b) with a
/// contrastive objective over pairs (query ↔ product, title ↔ title) using the other pairs of the batch as negatives
/// (symmetric InfoNCE on cosine similarities). AdamW with linear warm-up and decay, gradient clipping, batches of
/// similar lengths (length bucketing) padded only to their own longest sequence, a checkpoint per epoch and early
/// stopping on the validation score. Mixed precision on request (bfloat16 by default on CUDA); a batch that runs out of
/// memory halves the batch size (<see cref="AdaptiveBatchSize"/>). Reproducible on the CPU: the order, the head's
/// initial weights and every dropout mask come from the seed alone (System.Random and torch generators of the trainer's
/// own, never libtorch's process-wide one), and libtorch's thread count is fixed (<see cref="EncoderTrainingOptions.Threads"/>),
/// so the same seed gives the same losses and weights bit for bit in any process.
/// </summary>
public sealed class EncoderTrainer(BertEncoder encoder, TextTokenizer tokenizer, EncoderTrainingOptions options)
{
    private readonly AdaptiveBatchSize batchSize = new(options.BatchSize, options.Device, options.Notice);

    /// <summary>
    /// Resolves the device and precision, moves the encoder there, sets its compute type and, on a GPU, caps the batch
    /// size to the free memory (<paramref name="textsPerExample"/>: 2 for pairs, each side encoded).
    /// </summary>
    private Device Prepare(bool training, int textsPerExample = 1)
    {
        if (options.Threads < 0) throw new ExperimentsException($"Threads must be 0 (all processors) or positive, not {options.Threads}.");
        // Checked here because an index past an embedding table fails inside libtorch, where TorchSharp may not catch it.
        if (options.MaxLength > encoder.Options.MaxPositions)
            throw new ExperimentsException($"A maximum length of {options.MaxLength} tokens exceeds the encoder's {encoder.Options.MaxPositions} positions (max_position_embeddings in its config.json); use at most {encoder.Options.MaxPositions}.");
        if (tokenizer.Vocabulary.Count > encoder.Options.VocabularySize)
            throw new ExperimentsException($"The tokenizer has {tokenizer.Vocabulary.Count} tokens but the encoder embeds only {encoder.Options.VocabularySize} (vocab_size in its config.json); the vocabulary does not belong to this encoder.");
        var device = TorchDevice.Resolve(options.Device);
        if (torch.get_num_threads() != options.CpuThreads) torch.set_num_threads(options.CpuThreads);
        encoder.to(device);
        if (training) encoder.SeedDropout(options.Seed);
        encoder.ComputeType = TorchDevice.ComputeType(options.Precision, device);
        batchSize.FitMemory(device, textsPerExample * GpuMemory.BytesPerText(encoder.Options, options.MaxLength, encoder.ComputeType, training), options.MaxLength);
        return device;
    }

    public IReadOnlyList<EpochReport> TrainClassifier(IReadOnlyList<string> texts, int[] labels, int classes,
        (IReadOnlyList<string> Texts, int[] Labels)? validation = null, IProgress<EpochReport>? progress = null, CancellationToken cancel = default)
    {
        if (texts.Count != labels.Length) throw new ExperimentsException("Texts and labels differ in length.");
        if (labels.Any(l => l < 0 || l >= classes)) throw new ExperimentsException($"Labels must lie in 0..{classes - 1}.");
        var device = Prepare(training: true);
        using var head = nn.Linear(encoder.Options.HiddenSize, classes);
        using (var generator = new Generator((ulong)options.Seed, CPU)) encoder.InitializeHead(head, generator);
        head.to(device);
        var encoded = texts.Select(t => tokenizer.Encode(t, options.MaxLength)).ToArray();
        var validationEncoded = validation?.Texts.Select(t => tokenizer.Encode(t, options.MaxLength)).ToArray();
        return Train(encoded.Length, [.. encoder.TrainableParameters(), .. head.parameters()], batch =>
        {
            var (ids, mask) = Pad(batch.Select(i => encoded[i]).ToArray(), device);
            var target = tensor(batch.Select(i => (long)labels[i]).ToArray(), device: device);
            return nn.functional.cross_entropy(head.forward(encoder.Embed(ids, mask)), target);
        }, validationEncoded is null ? null : () =>
        {
            var correct = 0;
            batchSize.ForEach(Batches(validationEncoded, new Random(0), shuffle: false), batch =>
            {
                using var scope = NewDisposeScope();
                var (ids, mask) = Pad(batch.Select(i => validationEncoded[i]).ToArray(), device);
                var values = head.forward(encoder.Embed(ids, mask)).argmax(1).cpu().data<long>().ToArray();
                correct += batch.Where((i, k) => values[k] == validation!.Value.Labels[i]).Count();
            });
            return (double)correct / validationEncoded.Length;
        }, encoded, progress, cancel);
    }

    /// <param name="hardNegatives">
    /// Optional, one per pair: a text that resembles the pair's B but is not its partner (e.g. a product a lexical search
    /// ranks high for query A but that is less relevant). Each A then picks its B among the batch's B texts and the
    /// batch's hard negatives (Karpukhin et al.'s DPR objective); each B still picks its A among the batch's A texts.
    /// </param>
    public IReadOnlyList<EpochReport> TrainContrastive(IReadOnlyList<(string A, string B)> pairs,
        IReadOnlyList<(string A, string B)>? validation = null, IProgress<EpochReport>? progress = null, CancellationToken cancel = default,
        IReadOnlyList<string>? hardNegatives = null)
    {
        if (pairs.Count < 2) throw new ExperimentsException("Contrastive training needs at least two pairs (each batch's other pairs are the negatives).");
        if (hardNegatives is not null && hardNegatives.Count != pairs.Count) throw new ArgumentException("One hard negative per pair is needed.", nameof(hardNegatives));
        var device = Prepare(training: true, textsPerExample: hardNegatives is null ? 2 : 3);
        var left = pairs.Select(p => tokenizer.Encode(p.A, options.MaxLength)).ToArray();
        var right = pairs.Select(p => tokenizer.Encode(p.B, options.MaxLength)).ToArray();
        var negative = hardNegatives?.Select(t => tokenizer.Encode(t, options.MaxLength)).ToArray();
        // Symmetric InfoNCE: each left text picks its partner among the batch's right texts (and hard negatives), and each right text its left.
        Tensor Loss(int[] batch)
        {
            var (la, ma) = Pad(batch.Select(i => left[i]).ToArray(), device);
            var (lb, mb) = Pad(batch.Select(i => right[i]).ToArray(), device);
            var a = nn.functional.normalize(encoder.Embed(la, ma), dim: 1);
            var b = nn.functional.normalize(encoder.Embed(lb, mb), dim: 1);
            var logits = a.matmul(b.t()) / options.Temperature;
            var target = arange(batch.Length, dtype: ScalarType.Int64, device: device);
            var forward = logits;
            if (negative is not null)
            {
                var (ln, mn) = Pad(batch.Select(i => negative[i]).ToArray(), device);
                var n = nn.functional.normalize(encoder.Embed(ln, mn), dim: 1);
                forward = cat([logits, a.matmul(n.t()) / options.Temperature], 1);
            }
            return (nn.functional.cross_entropy(forward, target) + nn.functional.cross_entropy(logits.t(), target)) / 2;
        }
        Func<double>? score = null;
        if (validation is { Count: > 1 })
        {
            var vl = validation.Select(p => tokenizer.Encode(p.A, options.MaxLength)).ToArray();
            var vr = validation.Select(p => tokenizer.Encode(p.B, options.MaxLength)).ToArray();
            score = () =>
            {
                // Recall@1: how often a left text's nearest right text, among all validation pairs, is its own partner.
                using var a = EmbedAll(vl);
                using var b = EmbedAll(vr);
                using var best = a.matmul(b.t()).argmax(1).cpu();
                return best.data<long>().ToArray().Where((j, i) => j == i).Count() / (double)vl.Length;
            };
        }
        return Train(pairs.Count, encoder.TrainableParameters(), Loss, score, left, progress, cancel);
    }

    /// <summary>Sentence vectors (L2-normalised unless <paramref name="normalize"/> is false) of already tokenised texts, in batches, without gradients, on the trainer's device and precision.</summary>
    public Tensor EmbedAll(int[][] encoded, bool normalize = true)
    {
        var device = Prepare(training: false);
        using var _ = no_grad();
        encoder.eval();
        var parts = new List<Tensor>();
        var order = new List<int>();
        batchSize.ForEach(Batches(encoded, new Random(0), shuffle: false), batch =>
        {
            using var scope = NewDisposeScope();
            var (ids, mask) = Pad(batch.Select(i => encoded[i]).ToArray(), device);
            var vectors = encoder.Embed(ids, mask);
            parts.Add((normalize ? nn.functional.normalize(vectors, dim: 1) : vectors).MoveToOuterDisposeScope());
            order.AddRange(batch);
        });
        // Batches come in length order: put the rows back in input order.
        using var stacked = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        var inverse = new long[order.Count];
        for (var k = 0; k < order.Count; k++) inverse[order[k]] = k;
        using var index = tensor(inverse, device: device);
        return stacked.index_select(0, index);
    }

    private IReadOnlyList<EpochReport> Train(int count, Parameter[] parameters, Func<int[], Tensor> loss, Func<double>? validate, int[][] lengths,
        IProgress<EpochReport>? progress, CancellationToken cancel)
    {
        var random = new Random(options.Seed);
        // The schedule counts examples, not steps, so it stays right when the batch size halves mid-way.
        var total = (long)options.Epochs * count;
        var warmup = Math.Max(1, (long)(total * options.WarmupFraction));
        using var optimizer = new FlatAdamW(parameters, options.WeightDecay);
        var scaler = new LossScaler(encoder.ComputeType == ScalarType.Float16);
        var history = new List<EpochReport>();
        var best = double.NegativeInfinity;
        Dictionary<string, Tensor>? bestWeights = null;
        var sinceBest = 0;
        long done = 0;
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            encoder.train();
            var clock = Stopwatch.StartNew();
            // The loss is summed on the device and read once per epoch: reading it every step would stall a GPU.
            using var sum = zeros(1, dtype: ScalarType.Float64, device: parameters[0].device);
            var seen = 0;
            batchSize.ForEach(Batches(lengths, random, shuffle: true), batch =>
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var reached = done + batch.Length;
                var rate = options.LearningRate * (reached <= warmup ? (double)reached / warmup : Math.Max(0, (double)(total - reached) / Math.Max(1, total - warmup)));
                optimizer.ZeroGrad();
                var value = loss(batch);
                (scaler.Enabled ? value * scaler.Scale : value).backward();
                scaler.Update(optimizer.Step(rate, options.MaxGradientNorm, scaler.Scale, skipIfNotFinite: scaler.Enabled));
                sum.add_(value.detach().to_type(ScalarType.Float64) * batch.Length);
                seen += batch.Length;
                done = reached;
                options.StepProgress?.Invoke((double)done / total);
            });
            var epochLoss = sum.item<double>() / seen;
            if (!double.IsFinite(epochLoss))
                throw new ExperimentsException($"Training diverged: the loss became {epochLoss} in epoch {epoch}; lower the learning rate ({options.LearningRate}) or use float32 precision.");
            double? score = null;
            if (validate is not null)
            {
                encoder.eval();
                using (no_grad()) score = validate();
            }
            var report = new EpochReport(epoch, epochLoss, score, seen / clock.Elapsed.TotalSeconds, batchSize.Current);
            history.Add(report);
            progress?.Report(report);
            if (options.CheckpointFolder is { } folder)
                EncoderCheckpoint.Save(encoder, tokenizer, Path.Combine(folder, $"epoch-{epoch}"));
            if (score is { } s && options.EarlyStoppingRounds > 0)
            {
                if (s > best)
                {
                    best = s;
                    sinceBest = 0;
                    foreach (var w in bestWeights?.Values ?? Enumerable.Empty<Tensor>()) w.Dispose();
                    bestWeights = encoder.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
                }
                else if (++sinceBest >= options.EarlyStoppingRounds) break;
            }
        }
        if (bestWeights is not null)
        {
            using (no_grad())
                foreach (var (name, parameter) in encoder.named_parameters()) parameter.copy_(bestWeights[name]);
            foreach (var w in bestWeights.Values) w.Dispose();
            encoder.ClearCastCache();
        }
        encoder.eval();
        return history;
    }

    /// <summary>
    /// Dynamic loss scaling for float16: the loss is multiplied before backward so small gradients survive float16; a
    /// step whose gradients overflowed is skipped (by <see cref="FlatAdamW.Step"/>) and the scale halved; after 2,000
    /// clean steps it doubles. Off for float32 and bfloat16 (bfloat16 has float32's range).
    /// </summary>
    private sealed class LossScaler(bool enabled)
    {
        private int _clean;

        public bool Enabled => enabled;
        public double Scale { get; private set; } = enabled ? 65536 : 1;

        public void Update(bool finite)
        {
            if (!enabled) return;
            if (!finite)
            {
                Scale /= 2;
                _clean = 0;
            }
            else if (++_clean % 2000 == 0) Scale *= 2;
        }
    }

    /// <summary>
    /// Length bucketing: rows are (optionally) shuffled, cut into chunks of 50 batches, sorted by length inside each
    /// chunk and cut into batches, whose order is then shuffled — similar lengths share a batch, so little padding.
    /// </summary>
    private List<int[]> Batches(int[][] encoded, Random random, bool shuffle)
    {
        var order = Enumerable.Range(0, encoded.Length).ToArray();
        if (shuffle) random.Shuffle(order);
        var chunk = batchSize.Current * 50;
        var batches = new List<int[]>();
        for (var start = 0; start < order.Length; start += chunk)
        {
            var sorted = order.Skip(start).Take(chunk).OrderBy(i => encoded[i].Length).ThenBy(i => i).ToArray();
            for (var b = 0; b < sorted.Length; b += batchSize.Current) batches.Add(sorted.Skip(b).Take(batchSize.Current).ToArray());
        }
        if (!shuffle) return batches;
        var shuffled = batches.ToArray();
        random.Shuffle(shuffled);
        return shuffled.ToList();
    }

    /// <summary>Dynamic padding: ids and a 0/1 mask, padded to the longest sequence of this batch only.</summary>
    private (Tensor Ids, Tensor Mask) Pad(int[][] sequences, Device device)
    {
        var length = sequences.Max(s => s.Length);
        var ids = new long[sequences.Length * length];
        if (tokenizer.PaddingId != 0) Array.Fill(ids, tokenizer.PaddingId);
        var mask = new long[sequences.Length * length];
        for (var r = 0; r < sequences.Length; r++)
            for (var c = 0; c < sequences[r].Length; c++)
            {
                ids[r * length + c] = sequences[r][c];
                mask[r * length + c] = 1;
            }
        return (tensor(ids, [sequences.Length, length], device: device), tensor(mask, [sequences.Length, length], device: device));
    }
}
