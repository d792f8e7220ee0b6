using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Text;

public sealed record EncoderThroughputOptions(int Vocabulary = 8000, int Hidden = 128, int Layers = 2, int Heads = 4, int Intermediate = 256,
    int Length = 24, int Batch = 64, int EncodeBatches = 40, int TrainSteps = 20, int Threads = 2, int Seed = 1, string Device = "cpu");

public sealed record EncoderThroughputResult(string Implementation, double EncodedPerSecond, double TrainStepsPerSecond);

/// <summary>
/// Encoding and training speed of <see cref="BertEncoder"/> on fixed shapes (random token ids, full masks): the C# side of
/// `experiments bench text-throughput`, whose Python side runs the same shapes in PyTorch.
/// </summary>
public static class EncoderThroughput
{
    public static EncoderThroughputResult Run(EncoderThroughputOptions o)
    {
        torch.set_num_threads(o.Threads);
        manual_seed(o.Seed);
        var device = TorchDevice.Resolve(o.Device);
        var encoder = new BertEncoder(new EncoderOptions { VocabularySize = o.Vocabulary, HiddenSize = o.Hidden, Layers = o.Layers, AttentionHeads = o.Heads, IntermediateSize = o.Intermediate, MaxPositions = 64 });
        using var head = nn.Linear(o.Hidden, 10);
        encoder.to(device);
        head.to(device);
        using var ids = randint(1, o.Vocabulary, [o.Batch, o.Length], dtype: ScalarType.Int64, device: device);
        using var mask = ones(o.Batch, o.Length, dtype: ScalarType.Int64, device: device);
        using var labels = randint(0, 10, [o.Batch], dtype: ScalarType.Int64, device: device);

        encoder.eval();
        double encode;
        using (no_grad())
        {
            for (var i = 0; i < 3; i++) encoder.Embed(ids, mask).Dispose();
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < o.EncodeBatches; i++) encoder.Embed(ids, mask).Dispose();
            encode = clock.Elapsed.TotalSeconds;
        }

        encoder.train();
        var parameters = encoder.parameters().Concat(head.parameters()).ToArray();
        using var optimizer = optim.AdamW(parameters, 1e-3, weight_decay: 0.01);
        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(head.forward(encoder.Embed(ids, mask)), labels);
            loss.backward();
            nn.utils.clip_grad_norm_(parameters, 1.0);
            optimizer.step();
        }
        for (var i = 0; i < 3; i++) Step();
        var trainClock = Stopwatch.StartNew();
        for (var i = 0; i < o.TrainSteps; i++) Step();
        return new EncoderThroughputResult("TorchSharp (ours)", o.EncodeBatches * o.Batch / encode, o.TrainSteps / trainClock.Elapsed.TotalSeconds);
    }
}
