using System.Diagnostics;
using System.Text.Json;
using Experiments.Text;

namespace Experiments.Tests.Text;

/// <summary>
/// The encoder on the CPU is reproducible bit for bit: the same definition and seed give the same losses, weights,
/// metrics and embeddings in separate processes, whatever OMP_NUM_THREADS says and whatever else runs beside them.
/// </summary>
[TestClass]
[DoNotParallelize] // the side-by-side test measures interference; other classes' torch work would add their own.
public sealed class ReproducibilityTests
{
    private const string Definition = """
        {
          "name": "encoder-reproducibility",
          "task": "classification",
          "dataset": { "name": "demo-shop", "table": "clicks", "options": { "users": 60, "items": 50 } },
          "split": { "method": "stratified", "testFraction": 0.2, "validationFraction": 0.1 },
          "encoders": [
            { "name": "qt", "objective": "contrastive", "columns": ["query", "title"],
              "parameters": { "hiddenSize": 16, "layers": 1, "attentionHeads": 2, "intermediateSize": 32, "vocabularySize": 300, "epochs": 2, "maxLength": 12, "device": "cpu" } }
          ],
          "models": [ { "type": "logistic-regression", "name": "lr-encoder", "parameters": { "textEncoder": "qt" } } ],
          "metrics": ["auc", "log-loss"],
          "evaluation": { "bootstrapSamples": 10 },
          "seed": 7
        }
        """;

    private static Process Start(string folder, string threads, params string[] args)
    {
        var info = CliProcess.StartInfo(folder, args);
        // A job scheduler's OMP_NUM_THREADS, which libtorch would otherwise follow: it must not change the result.
        info.Environment["OMP_NUM_THREADS"] = threads;
        return Process.Start(info)!;
    }

    private static string Finish(Process process)
    {
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(10))) { process.Kill(true); Assert.Fail("the CLI did not finish in 10 minutes"); }
        Assert.AreEqual(0, process.ExitCode, error.Result);
        return output.Result;
    }

    [TestMethod]
    public void Two_processes_train_the_same_encoder_bit_for_bit()
    {
        using var root = new TempFolder();
        var folders = new[] { "a", "b" }.Select(n => Directory.CreateDirectory(Path.Combine(root.Path, n)).FullName).ToArray();
        foreach (var folder in folders) File.WriteAllText(Path.Combine(folder, "run.json"), Definition);
        // Side by side, so each process also runs while the other competes for the cores.
        var runs = folders.Select((f, i) => Start(f, i == 0 ? "1" : "2", "run", "run.json", "--store", "runs.db", "--reports", "reports", "--json")).ToList();
        var results = runs.Select(Finish).Select(o => JsonDocument.Parse(o).RootElement).ToList();

        // Report folders are named run-N-UID.
        string Checkpoint(string folder) => Directory.GetDirectories(Path.Combine(Directory.GetDirectories(Path.Combine(folder, "reports"), "run-1-*").Single(), "encoders")).Single();
        var training = folders.Select(f => JsonDocument.Parse(File.ReadAllText(Path.Combine(Checkpoint(f), "training.json"))).RootElement).ToList();
        var losses = training.Select(t => t.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("TrainLoss").GetDouble()).ToList()).ToList();
        Assert.HasCount(2, losses[0]);
        CollectionAssert.AreEqual(losses[0], losses[1], "loss per epoch, to the last bit");
        Assert.AreEqual(Environment.ProcessorCount, training[0].GetProperty("cpuThreads").GetInt32(), "the thread count is recorded, and it is not OMP_NUM_THREADS");
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(Checkpoint(folders[0]), "model.safetensors")), File.ReadAllBytes(Path.Combine(Checkpoint(folders[1]), "model.safetensors")), "saved weights");
        string Metrics(JsonElement run) => string.Join("; ", run.GetProperty("trials").EnumerateArray().SelectMany(t => t.GetProperty("metrics").EnumerateArray())
            .Select(m => $"{m.GetProperty("name").GetString()}={m.GetProperty("value").GetDouble():R}"));
        Assert.AreEqual(Metrics(results[0]), Metrics(results[1]), "metrics of the click model on the encoder's vectors");
        StringAssert.Contains(Metrics(results[0]), "auc=");

        // The saved encoders embed to the same bits, each in a process of its own.
        var texts = Path.Combine(root.Path, "texts.txt");
        File.WriteAllLines(texts, ["red running shoe", "oak dining table", "wireless headphones 55\" ™"]);
        var embeds = folders.Select((f, i) => Start(f, i == 0 ? "2" : "1", "embed", "--checkpoint", Checkpoint(f), "--input", texts, "--output", "vectors.npy", "--quiet")).ToList();
        embeds.ForEach(p => Finish(p));
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(folders[0], "vectors.npy")), File.ReadAllBytes(Path.Combine(folders[1], "vectors.npy")), "embeddings");
    }

    private static readonly string[] Words = ["red", "blue", "oak", "steel", "running", "shoe", "table", "lamp", "phone", "case", "wireless", "headphones"];

    private static List<(string, string)> Pairs(int count, int seed)
    {
        var random = new Random(seed);
        string Title() => string.Join(' ', Enumerable.Range(0, 4).Select(_ => Words[random.Next(Words.Length)]));
        return Enumerable.Range(0, count).Select(_ => (Title(), Title())).ToList();
    }

    private static float[] Train(List<(string, string)> pairs, int seed)
    {
        var vocabulary = TextTokenizer.LearnVocabulary(pairs.SelectMany(p => new[] { p.Item1, p.Item2 }), 100);
        using var encoder = new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Count, HiddenSize = 16, Layers = 1, AttentionHeads = 2, IntermediateSize = 32, MaxPositions = 16, Dropout = 0.2 }, seed);
        new EncoderTrainer(encoder, new TextTokenizer(vocabulary), new EncoderTrainingOptions { Epochs = 2, BatchSize = 16, MaxLength = 8, Device = "cpu", Seed = seed }).TrainContrastive(pairs);
        return encoder.named_parameters().SelectMany(p => p.parameter.data<float>().ToArray()).ToArray();
    }

    [TestMethod]
    public void An_encoder_trained_beside_another_gets_the_weights_it_gets_alone()
    {
        var pairs = Pairs(96, 1);
        var alone = Train(pairs, 3);
        // Another training on another thread draws dropout masks and initial weights at the same time; with libtorch's
        // process-wide generator the two would take each other's random numbers.
        float[]? beside = null;
        var tasks = new[] { Task.Run(() => beside = Train(pairs, 3)), Task.Run(() => Train(Pairs(96, 2), 5)) };
        Task.WaitAll(tasks);
        CollectionAssert.AreEqual(alone, beside, "the same weights, to the last bit");
        CollectionAssert.AreNotEqual(alone, Train(pairs, 4), "another seed, other weights");
    }
}
