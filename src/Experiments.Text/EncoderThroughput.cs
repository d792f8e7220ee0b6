using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Text;

public sealed record EncoderThroughputOptions(int Vocabulary = 8000, int Hidden = 128, int Layers = 2, int Heads = 4, int Intermediate = 256,
    int Length = 24, int Batch = 64, int EncodeBatches = 40, int TrainSteps = 20, int Threads = 2, int Seed = 1, string Device = "cpu", string Precision = "float32");

public sealed record EncoderThroughputResult(string Implementation, double EncodedPerSecond, double TrainStepsPerSecond);

/// <summary>
/// Encoding and training speed of <see cref="BertEncoder"/> on fixed shapes (random token ids, full masks): the C# side of
/// `experiments bench text-throughput`, whose Python side runs the same shapes in PyTorch (with autocast for mixed
/// precision). On CUDA the clock is read only after the device has finished its queued work.
/// </summary>
public static class EncoderThroughput
{
    public static EncoderThroughputResult Run(EncoderThroughputOptions o)
    {
        var device = TorchDevice.Resolve(o.Device);
        torch.set_num_threads(o.Threads);
        // The random ids and the head draw from libtorch's generator; the encoder's weights from its own.
        manual_seed(o.Seed);
        var encoder = new BertEncoder(new EncoderOptions { VocabularySize = o.Vocabulary, HiddenSize = o.Hidden, Layers = o.Layers, AttentionHeads = o.Heads, IntermediateSize = o.Intermediate, MaxPositions = Math.Max(64, o.Length) }, o.Seed);
        using var head = nn.Linear(o.Hidden, 10);
        encoder.to(device);
        encoder.ComputeType = TorchDevice.ComputeType(o.Precision, device);
        void Synchronize()
        {
            if (device.type == DeviceType.CUDA) torch.cuda.synchronize();
        }
        head.to(device);
        using var ids = randint(1, o.Vocabulary, [o.Batch, o.Length], dtype: ScalarType.Int64, device: device);
        using var mask = ones(o.Batch, o.Length, dtype: ScalarType.Int64, device: device);
        using var labels = randint(0, 10, [o.Batch], dtype: ScalarType.Int64, device: device);

        encoder.eval();
        double encode;
        using (no_grad())
        {
            for (var i = 0; i < 3; i++) encoder.Embed(ids, mask).Dispose();
            Synchronize();
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < o.EncodeBatches; i++) encoder.Embed(ids, mask).Dispose();
            Synchronize();
            encode = clock.Elapsed.TotalSeconds;
        }

        encoder.train();
        var parameters = encoder.TrainableParameters().Concat(head.parameters()).ToArray();
        // The trainer's optimizer (FlatAdamW: gradient clipping and AdamW over one flat buffer).
        using var optimizer = new FlatAdamW(parameters, 0.01);
        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            nn.functional.cross_entropy(head.forward(encoder.Embed(ids, mask)), labels).backward();
            optimizer.Step(1e-3, 1.0);
        }
        for (var i = 0; i < 3; i++) Step();
        Synchronize();
        var trainClock = Stopwatch.StartNew();
        for (var i = 0; i < o.TrainSteps; i++) Step();
        Synchronize();
        return new EncoderThroughputResult("TorchSharp (ours)", o.EncodeBatches * o.Batch / encode, o.TrainSteps / trainClock.Elapsed.TotalSeconds);
    }
}
