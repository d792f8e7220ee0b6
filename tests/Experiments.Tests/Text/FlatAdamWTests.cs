using Experiments.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Tests.Text;

[TestClass]
[DoNotParallelize] // libtorch's random generator is global: see TestDevice.
public sealed class FlatAdamWTests
{
    /// <summary>The reference is TorchSharp's own per-tensor AdamW with clip_grad_norm_, which follow PyTorch's.</summary>
    [TestMethod]
    public void Flat_AdamW_with_clipping_takes_the_same_steps_as_TorchSharps_AdamW()
    {
        var device = TorchDevice.Resolve(TestDevice.Name);
        BertEncoder Model()
        {
            var encoder = new BertEncoder(new EncoderOptions { VocabularySize = 60, HiddenSize = 16, Layers = 2, AttentionHeads = 2, IntermediateSize = 32, MaxPositions = 16, Dropout = 0 }, seed: 5);
            encoder.to(device);
            return encoder;
        }
        using var ours = Model();
        using var reference = Model();
        manual_seed(5);
        using var ids = randint(1, 60, [6, 10], dtype: ScalarType.Int64, device: device);
        using var mask = ones(6, 10, dtype: ScalarType.Int64, device: device);
        using var target = randn(6, 16, device: device);
        Tensor Loss(BertEncoder model) => (model.Embed(ids, mask) - target).pow(2).mean();

        using var flat = new FlatAdamW(ours.TrainableParameters(), weightDecay: 0.05);
        using var adamw = optim.AdamW(reference.TrainableParameters(), 0.01, weight_decay: 0.05);
        var norms = new List<double>();
        for (var step = 0; step < 6; step++)
        {
            var rate = 0.01 * (step + 1) / 6; // a changing learning rate, as under warm-up
            foreach (var group in adamw.ParamGroups) group.LearningRate = rate;
            flat.ZeroGrad();
            Loss(ours).backward();
            Assert.IsTrue(flat.Step(rate, maxNorm: 0.5));
            adamw.zero_grad();
            Loss(reference).backward();
            norms.Add(nn.utils.clip_grad_norm_(reference.TrainableParameters(), 0.5));
            adamw.step();
        }
        Assert.IsTrue(norms.Any(n => n > 0.5), "clipping was exercised: " + string.Join(", ", norms));
        foreach (var ((name, a), (_, b)) in ours.named_parameters().Zip(reference.named_parameters()))
        {
            // A key bias adds one constant to a whole row of scores, which softmax ignores: its gradient is zero up to
            // rounding noise, and Adam's normalised step turns that noise into full-size steps of either sign.
            if (name.EndsWith("key.bias", StringComparison.Ordinal)) continue;
            var difference = (a - b).abs().max().cpu().item<float>();
            Assert.IsLessThan(1e-5f, difference, $"{name} differs by {difference}");
        }
        Assert.AreEqual(ScalarType.Float32, ours.named_parameters().First().parameter.dtype);
    }

    [TestMethod]
    public void A_step_with_overflowed_gradients_is_skipped_when_asked()
    {
        var device = TorchDevice.Resolve(TestDevice.Name);
        var weight = new TorchSharp.Modules.Parameter(ones(3, device: device));
        using var optimizer = new FlatAdamW([weight]);
        optimizer.ZeroGrad();
        (weight * float.PositiveInfinity).sum().backward();
        Assert.IsFalse(optimizer.Step(0.1, 1.0, skipIfNotFinite: true));
        CollectionAssert.AreEqual(new[] { 1f, 1f, 1f }, weight.cpu().data<float>().ToArray(), "weights untouched");
        optimizer.ZeroGrad();
        weight.sum().backward();
        Assert.IsTrue(optimizer.Step(0.1, 1.0, skipIfNotFinite: true));
        Assert.IsTrue(weight.cpu().data<float>().ToArray().All(w => w < 1f), "a finite step moves the weights");
    }
}
