using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Experiments.Text;

/// <summary>
/// AdamW (decoupled weight decay, as PyTorch's) over all parameters at once. The parameters and their gradients are
/// re-pointed into two flat buffers, so gradient clipping and the update are a handful of operations on one long
/// vector instead of a dozen per parameter tensor: on a GPU each operation is a kernel launch, and for a BERT-base
/// encoder TorchSharp's per-tensor AdamW launches thousands per step (PyTorch's own uses multi-tensor kernels).
/// The step also avoids reading anything back to the host unless asked (float16 needs an overflow check).
/// </summary>
public sealed class FlatAdamW : IDisposable
{
    private readonly Tensor _values;
    private readonly Tensor _gradients;
    private readonly Tensor _mean;
    private readonly Tensor _variance;
    private readonly double _weightDecay;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly double _epsilon;
    private int _step;

    public FlatAdamW(IReadOnlyList<Parameter> parameters, double weightDecay = 0.01, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        if (parameters.Count == 0) throw new ArgumentException("No parameters to optimise.", nameof(parameters));
        (_weightDecay, _beta1, _beta2, _epsilon) = (weightDecay, beta1, beta2, epsilon);
        var total = parameters.Sum(p => p.numel());
        var device = parameters[0].device;
        _values = empty(total, dtype: ScalarType.Float32, device: device);
        _gradients = zeros(total, dtype: ScalarType.Float32, device: device);
        _mean = zeros(total, dtype: ScalarType.Float32, device: device);
        _variance = zeros(total, dtype: ScalarType.Float32, device: device);
        using var _ = no_grad();
        long offset = 0;
        foreach (var parameter in parameters)
        {
            if (parameter.dtype != ScalarType.Float32 || parameter.device_type != device.type || parameter.device_index != device.index)
                throw new ArgumentException($"FlatAdamW needs float32 parameters on one device; one is {parameter.dtype} on {parameter.device}.");
            var count = parameter.numel();
            var value = _values.narrow(0, offset, count).view(parameter.shape);
            value.copy_(parameter);
            parameter.set_(value);
            // Backward accumulates into an existing gradient in place, so every gradient lands in the flat buffer.
            parameter.grad = _gradients.narrow(0, offset, count).view(parameter.shape);
            offset += count;
        }
    }

    public void ZeroGrad() => _gradients.zero_();

    /// <summary>
    /// Divides the gradients by <paramref name="lossScale"/>, clips their global L2 norm to <paramref name="maxNorm"/>
    /// and updates the parameters. With <paramref name="skipIfNotFinite"/> the norm is read back and a step with
    /// inf/NaN gradients is skipped (returns false); otherwise nothing waits for the device.
    /// </summary>
    public bool Step(double learningRate, double maxNorm, double lossScale = 1, bool skipIfNotFinite = false)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        if (lossScale != 1) _gradients.div_(lossScale);
        var norm = _gradients.norm();
        if (skipIfNotFinite && !float.IsFinite(norm.item<float>())) return false;
        _gradients.mul_((maxNorm / (norm + 1e-6)).clamp_max(1.0));
        _step++;
        _values.mul_(1 - learningRate * _weightDecay);
        _mean.mul_(_beta1).add_(_gradients, alpha: 1 - _beta1);
        _variance.mul_(_beta2).addcmul_(_gradients, _gradients, value: 1 - _beta2);
        var correction1 = 1 - Math.Pow(_beta1, _step);
        var correction2 = 1 - Math.Pow(_beta2, _step);
        var denominator = (_variance.sqrt() / Math.Sqrt(correction2)).add_(_epsilon);
        _values.addcdiv_(_mean, denominator, value: -learningRate / correction1);
        return true;
    }

    public void Dispose()
    {
        _values.Dispose();
        _gradients.Dispose();
        _mean.Dispose();
        _variance.Dispose();
    }
}
