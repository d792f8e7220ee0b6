using System.Text.Json;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Ctr;
using Experiments.Datasets.Splitting;
using Experiments.Store;
using Experiments.Text;

namespace Experiments.Runs;

/// <summary>
/// The "encoders" of a classification definition: each is trained on one split's training rows, saved beside the
/// report in the Hugging Face layout, recorded as artifacts, and offered to the models as a text embedding. An encoder
/// that stops early watches a share of its split's training rows held out of its training (<see cref="Watched"/>),
/// never the validation rows, which choose the models' thresholds and score a sweep's trials: an epoch chosen on them
/// would leak into the trials' scores. Without early stopping its validation score (reported, choosing nothing) is
/// that of the validation rows.
/// </summary>
internal static class RunEncoders
{
    /// <summary>The share of the training rows an early-stopping encoder watches when the split has no validation fraction.</summary>
    private const double HeldOutShare = 0.1;

    /// <summary>The rows an encoder trains on and the rows its epochs are scored on (see the class summary).</summary>
    internal static (ClickLog Train, ClickLog? Watched, string WatchedFrom) Watched(EncoderSpec spec, ExperimentDefinition definition, ClickLog train, ClickLog? validation)
    {
        var stops = spec.Parameters.TryGetValue("earlyStoppingRounds", out var rounds) && Convert.ToInt32(rounds, System.Globalization.CultureInfo.InvariantCulture) > 0;
        if (!stops) return (train, validation, "validation rows");
        var share = definition.Split.ValidationFraction > 0 ? definition.Split.ValidationFraction : HeldOutShare;
        var carved = RowSplitter.Stratified(train.Labels.Select(l => l ? 1 : 0).ToArray(), 0, share, definition.Seed);
        return (train.Subset(carved.Train), train.Subset(carved.Validation), "training rows held out of the encoder's training");
    }

    public static Dictionary<string, TextEmbedding> Fit(IRunStore store, long runId, ExperimentDefinition definition, ClickLog train, ClickLog? validation, string split,
        string folder, IRunObserver observer, CancellationToken cancel)
    {
        var fitted = new Dictionary<string, TextEmbedding>();
        foreach (var spec in definition.Encoders)
        {
            cancel.ThrowIfCancellationRequested();
            observer.Stage($"Training encoder {spec.Name} ({split})");
            var (encoderTrain, watched, watchedFrom) = Watched(spec, definition, train, validation);
            var encoder = EncoderCatalog.Fit(spec.Checkpoint, Task(spec, encoderTrain, watched), spec.Parameters, definition.Seed,
                new ImmediateProgress<EpochReport>(r => observer.Stage($"Encoder {spec.Name} epoch {r.Epoch}: loss {r.TrainLoss:F3}{(r.ValidationScore is { } v ? $", validation {v:F3}" : "")}, {r.ExamplesPerSecond:F0} rows/s")),
                observer.Warning, cancel, fraction => observer.Progress(spec.Name, fraction));
            var saved = Path.Combine(folder, "encoders", $"{RunArtifacts.FileName(spec.Name)}-{split}");
            encoder.Save(saved);
            RunArtifacts.Record(store, runId, null, "encoder-checkpoint", Path.Combine(saved, "model.safetensors"));
            var history = Path.Combine(saved, "training.json");
            // The CPU thread count is recorded: libtorch's sums, and so the bits of the weights, depend on it.
            File.WriteAllText(history, JsonSerializer.Serialize(new { encoder = spec.Name, split, spec.Objective, spec.Checkpoint, seed = definition.Seed, cpuThreads = encoder.Training.CpuThreads,
                trainingRows = encoderTrain.Count, validationRows = watched?.Count ?? 0, validationFrom = watchedFrom, epochs = encoder.History },
                new JsonSerializerOptions { WriteIndented = true }));
            RunArtifacts.Record(store, runId, null, "encoder-training", history);
            store.RecordCurves(runId, TrainingCurves.Encoder(spec.Name, split, encoder.History));
            var embedder = encoder.Embedder(spec.Name);
            fitted[spec.Name] = new TextEmbedding(spec.Name, (output, input) => new TextEmbeddingEstimator(embedder, encoder.Encoder.Options.HiddenSize, output, input));
        }
        return fitted;
    }

    /// <summary>What the encoder learns from: pairs of two text columns on clicked rows, or a text column's categorical label.</summary>
    internal static EncoderTask Task(EncoderSpec spec, ClickLog train, ClickLog? validation)
    {
        int TextColumn(string name) => train.Schema.Text.ToList().IndexOf(name) is var i and >= 0 ? i
            : throw new ExperimentsException($"Encoder '{spec.Name}': '{name}' is not a text column of this table; its text columns: {(train.Schema.Text.Count == 0 ? "none" : string.Join(", ", train.Schema.Text))}.");
        switch (spec.Objective)
        {
            case EncoderSpec.Contrastive:
            {
                var (a, b) = (TextColumn(spec.Columns[0]), TextColumn(spec.Columns[1]));
                List<(string, string)> Pairs(ClickLog log) => Enumerable.Range(0, log.Count).Where(r => log.Labels[r])
                    .Select(r => (log.Text[a][r], log.Text[b][r])).Where(p => p.Item1.Length > 0 && p.Item2.Length > 0).Distinct().ToList();
                var pairs = Pairs(train);
                if (pairs.Count < 2) throw new ExperimentsException($"Encoder '{spec.Name}': contrastive training needs at least two clicked rows with both '{spec.Columns[0]}' and '{spec.Columns[1]}'; the training rows have {pairs.Count}.");
                return new EncoderTask.Pairs(pairs, validation is null ? null : Pairs(validation));
            }
            case EncoderSpec.Classification:
            {
                var text = TextColumn(spec.Columns[0]);
                var label = train.Schema.Categorical.ToList().IndexOf(spec.LabelColumn!);
                if (label < 0) throw new ExperimentsException($"Encoder '{spec.Name}': labelColumn '{spec.LabelColumn}' is not a categorical column of this table; its categorical columns: {string.Join(", ", train.Schema.Categorical)}.");
                var classes = train.Categorical[label].Distinct().Order(StringComparer.Ordinal).ToList();
                if (classes.Count < 2) throw new ExperimentsException($"Encoder '{spec.Name}': '{spec.LabelColumn}' has {classes.Count} distinct value(s) in the training rows; classification needs at least two.");
                var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
                (IReadOnlyList<string>, int[])? Labelled(ClickLog? log)
                {
                    if (log is null) return null;
                    // Validation rows whose class never occurs in training cannot be predicted: they are left out.
                    var rows = Enumerable.Range(0, log.Count).Where(r => index.ContainsKey(log.Categorical[label][r])).ToList();
                    return (rows.Select(r => log.Text[text][r]).ToList(), rows.Select(r => index[log.Categorical[label][r]]).ToArray());
                }
                var (texts, labels) = Labelled(train)!.Value;
                return new EncoderTask.Labelled(texts, labels, classes.Count, Labelled(validation));
            }
            default:
                return new EncoderTask.Untrained();
        }
    }
}
