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
    public int Seed { get; init; } = 42;
}

/// <summary>One epoch's training loss, validation score (accuracy, or recall@1 for pairs) and speed.</summary>
public sealed record EpochReport(int Epoch, double TrainLoss, double? ValidationScore, double ExamplesPerSecond);

/// <summary>
/// Trains an encoder: (a) with a classification head (cross-entropy over categories or intents), or (b) with a
/// contrastive objective over pairs (query ↔ product, title ↔ title) using the other pairs of the batch as negatives
/// (symmetric InfoNCE on cosine similarities). AdamW with linear warm-up and decay, gradient clipping, batches of
/// similar lengths (length bucketing) padded only to their own longest sequence, a seeded order, a checkpoint per epoch
/// and early stopping on the validation score.
/// </summary>
public sealed class EncoderTrainer(BertEncoder encoder, TextTokenizer tokenizer, EncoderTrainingOptions options)
{
    public IReadOnlyList<EpochReport> TrainClassifier(IReadOnlyList<string> texts, int[] labels, int classes,
        (IReadOnlyList<string> Texts, int[] Labels)? validation = null, IProgress<EpochReport>? progress = null, CancellationToken cancel = default)
    {
        if (texts.Count != labels.Length) throw new ExperimentsException("Texts and labels differ in length.");
        if (labels.Any(l => l < 0 || l >= classes)) throw new ExperimentsException($"Labels must lie in 0..{classes - 1}.");
        var device = TorchDevice.Resolve(options.Device);
        manual_seed(options.Seed);
        using var head = nn.Linear(encoder.Options.HiddenSize, classes);
        encoder.to(device);
        head.to(device);
        var encoded = texts.Select(t => tokenizer.Encode(t, options.MaxLength)).ToArray();
        var validationEncoded = validation?.Texts.Select(t => tokenizer.Encode(t, options.MaxLength)).ToArray();
        return Train(encoded.Length, [.. encoder.parameters(), .. head.parameters()], batch =>
        {
            var (ids, mask) = Pad(batch.Select(i => encoded[i]).ToArray(), device);
            using var target = tensor(batch.Select(i => (long)labels[i]).ToArray(), device: device);
            using var logits = head.forward(encoder.Embed(ids, mask));
            ids.Dispose();
            mask.Dispose();
            return nn.functional.cross_entropy(logits, target);
        }, validationEncoded is null ? null : () =>
        {
            var correct = 0;
            foreach (var batch in Batches(validationEncoded, new Random(0), shuffle: false))
            {
                var (ids, mask) = Pad(batch.Select(i => validationEncoded[i]).ToArray(), device);
                using var predicted = head.forward(encoder.Embed(ids, mask)).argmax(1).cpu();
                var values = predicted.data<long>().ToArray();
                correct += batch.Where((i, k) => values[k] == validation!.Value.Labels[i]).Count();
                ids.Dispose();
                mask.Dispose();
            }
            return (double)correct / validationEncoded.Length;
        }, encoded, progress, cancel);
    }

    public IReadOnlyList<EpochReport> TrainContrastive(IReadOnlyList<(string A, string B)> pairs,
        IReadOnlyList<(string A, string B)>? validation = null, IProgress<EpochReport>? progress = null, CancellationToken cancel = default)
    {
        if (pairs.Count < 2) throw new ExperimentsException("Contrastive training needs at least two pairs (each batch's other pairs are the negatives).");
        var device = TorchDevice.Resolve(options.Device);
        manual_seed(options.Seed);
        encoder.to(device);
        var left = pairs.Select(p => tokenizer.Encode(p.A, options.MaxLength)).ToArray();
        var right = pairs.Select(p => tokenizer.Encode(p.B, options.MaxLength)).ToArray();
        Tensor Loss(int[] batch, bool symmetric)
        {
            var (la, ma) = Pad(batch.Select(i => left[i]).ToArray(), device);
            var (lb, mb) = Pad(batch.Select(i => right[i]).ToArray(), device);
            using var a = nn.functional.normalize(encoder.Embed(la, ma), dim: 1);
            using var b = nn.functional.normalize(encoder.Embed(lb, mb), dim: 1);
            using var logits = a.matmul(b.t()) / options.Temperature;
            using var target = arange(batch.Length, dtype: ScalarType.Int64, device: device);
            foreach (var t in new[] { la, ma, lb, mb }) t.Dispose();
            var forward = nn.functional.cross_entropy(logits, target);
            if (!symmetric) return forward;
            using var backward = nn.functional.cross_entropy(logits.t(), target);
            using (forward)
                return (forward + backward) / 2;
        }
        Func<double>? score = null;
        if (validation is { Count: > 1 })
        {
            var vl = validation.Select(p => tokenizer.Encode(p.A, options.MaxLength)).ToArray();
            var vr = validation.Select(p => tokenizer.Encode(p.B, options.MaxLength)).ToArray();
            score = () =>
            {
                // Recall@1: how often a left text's nearest right text, among all validation pairs, is its own partner.
                using var a = EmbedAll(vl, device);
                using var b = EmbedAll(vr, device);
                using var best = a.matmul(b.t()).argmax(1).cpu();
                return best.data<long>().ToArray().Where((j, i) => j == i).Count() / (double)vl.Length;
            };
        }
        return Train(pairs.Count, encoder.parameters().ToArray(), batch => Loss(batch, symmetric: true), score, left, progress, cancel);
    }

    /// <summary>Normalised sentence vectors of already tokenised texts, in batches, without gradients.</summary>
    public Tensor EmbedAll(int[][] encoded, Device device)
    {
        using var _ = no_grad();
        encoder.eval();
        var parts = new List<Tensor>();
        var batches = Batches(encoded, new Random(0), shuffle: false);
        foreach (var batch in batches)
        {
            var (ids, mask) = Pad(batch.Select(i => encoded[i]).ToArray(), device);
            parts.Add(nn.functional.normalize(encoder.Embed(ids, mask), dim: 1));
            ids.Dispose();
            mask.Dispose();
        }
        // Batches come in length order: put the rows back in input order.
        var order = batches.SelectMany(b => b).ToArray();
        using var stacked = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        var inverse = new long[order.Length];
        for (var k = 0; k < order.Length; k++) inverse[order[k]] = k;
        using var index = tensor(inverse, device: device);
        return stacked.index_select(0, index);
    }

    private IReadOnlyList<EpochReport> Train(int count, Parameter[] parameters, Func<int[], Tensor> loss, Func<double>? validate, int[][] lengths,
        IProgress<EpochReport>? progress, CancellationToken cancel)
    {
        var random = new Random(options.Seed);
        var steps = options.Epochs * Batches(lengths, new Random(options.Seed), shuffle: true).Count;
        var warmup = Math.Max(1, (int)(steps * options.WarmupFraction));
        using var optimizer = optim.AdamW(parameters, options.LearningRate, weight_decay: options.WeightDecay);
        var history = new List<EpochReport>();
        var best = double.NegativeInfinity;
        Dictionary<string, Tensor>? bestWeights = null;
        var sinceBest = 0;
        var step = 0;
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            encoder.train();
            var clock = Stopwatch.StartNew();
            double total = 0;
            var seen = 0;
            foreach (var batch in Batches(lengths, random, shuffle: true))
            {
                cancel.ThrowIfCancellationRequested();
                step++;
                var rate = options.LearningRate * (step <= warmup ? (double)step / warmup : Math.Max(0, (double)(steps - step) / Math.Max(1, steps - warmup)));
                foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
                optimizer.zero_grad();
                using var value = loss(batch);
                value.backward();
                nn.utils.clip_grad_norm_(parameters, options.MaxGradientNorm);
                optimizer.step();
                total += value.item<float>() * batch.Length;
                seen += batch.Length;
            }
            double? score = null;
            if (validate is not null)
            {
                encoder.eval();
                using (no_grad()) score = validate();
            }
            var report = new EpochReport(epoch, total / seen, score, seen / clock.Elapsed.TotalSeconds);
            history.Add(report);
            progress?.Report(report);
            if (options.CheckpointFolder is { } folder)
                EncoderCheckpoint.Save(encoder, tokenizer.Vocabulary, Path.Combine(folder, $"epoch-{epoch}"));
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
        }
        encoder.eval();
        return history;
    }

    /// <summary>
    /// Length bucketing: rows are (optionally) shuffled, cut into chunks of 50 batches, sorted by length inside each
    /// chunk and cut into batches, whose order is then shuffled — similar lengths share a batch, so little padding.
    /// </summary>
    private List<int[]> Batches(int[][] encoded, Random random, bool shuffle)
    {
        var order = Enumerable.Range(0, encoded.Length).ToArray();
        if (shuffle) random.Shuffle(order);
        var chunk = options.BatchSize * 50;
        var batches = new List<int[]>();
        for (var start = 0; start < order.Length; start += chunk)
        {
            var sorted = order.Skip(start).Take(chunk).OrderBy(i => encoded[i].Length).ThenBy(i => i).ToArray();
            for (var b = 0; b < sorted.Length; b += options.BatchSize) batches.Add(sorted.Skip(b).Take(options.BatchSize).ToArray());
        }
        if (!shuffle) return batches;
        var shuffled = batches.ToArray();
        random.Shuffle(shuffled);
        return shuffled.ToList();
    }

    /// <summary>Dynamic padding: ids and a 0/1 mask, padded to the longest sequence of this batch only.</summary>
    private static (Tensor Ids, Tensor Mask) Pad(int[][] sequences, Device device)
    {
        var length = sequences.Max(s => s.Length);
        var ids = new long[sequences.Length * length];
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
