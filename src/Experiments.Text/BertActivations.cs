using Experiments.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Text;

/// <summary>
/// The feed-forward activations BERT-style config.json files name (hidden_act), each computed as Hugging Face's
/// ACT2FN computes it: "gelu" exact (erf), "gelu_new" and "gelu_fast" the tanh approximation written out (their
/// formulas differ in rounding), "gelu_pytorch_tanh" libtorch's fused tanh approximation, "quick_gelu" x·σ(1.702x),
/// "relu", and "silu" / "swish" x·σ(x). Any other name is refused before weights are loaded.
/// </summary>
public static class BertActivations
{
    public static IReadOnlyList<string> Names { get; } = ["gelu", "gelu_python", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "quick_gelu", "relu", "silu", "swish"];

    public static Func<Tensor, Tensor> Of(string name) => name switch
    {
        "gelu" or "gelu_python" => x => nn.functional.gelu(x),
        "gelu_new" => x => 0.5 * x * (1.0 + tanh(Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * pow(x, 3.0)))),
        "gelu_fast" => x => 0.5 * x * (1.0 + tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x))),
        "gelu_pytorch_tanh" => x => nn.functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "quick_gelu" => x => x * sigmoid(1.702 * x),
        "relu" => x => nn.functional.relu(x),
        "silu" or "swish" => x => nn.functional.silu(x),
        _ => throw new ExperimentsException($"hidden_act '{name}' is not supported; supported: {string.Join(", ", Names)}."),
    };
}
