using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Experiments.Text;

/// <summary>
/// A BERT-style transformer encoder written with TorchSharp modules: token, position and segment embeddings, N layers of
/// multi-head self-attention and a GELU feed-forward block (post- or pre-layer-norm), and mean or [CLS] pooling into a
/// sentence vector. Module and parameter names are those of Hugging Face's BertModel
/// ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight", …), so checkpoints in that
/// layout load directly. Under mixed precision (<see cref="ComputeType"/> bfloat16 or float16) the matrix products run in
/// that type while weights, the residual stream, layer norms and the softmax stay float32, as PyTorch's autocast does.
/// </summary>
public sealed class BertEncoder : Module<Tensor, Tensor, Tensor>
{
    private readonly BertEmbeddings embeddings;
    private readonly BertStack encoder;
    private readonly Precision precision = new();

    static BertEncoder() => TorchNative.EnsureLoaded();

    public BertEncoder(EncoderOptions options) : base("bert")
    {
        if (options.HiddenSize % options.AttentionHeads != 0)
            throw new Core.ExperimentsException($"The hidden size ({options.HiddenSize}) must be a multiple of the attention heads ({options.AttentionHeads}).");
        Options = options;
        embeddings = new BertEmbeddings(options);
        encoder = new BertStack(options, precision);
        RegisterComponents();
    }

    public EncoderOptions Options { get; }

    /// <summary>
    /// The type matrix products run in: null (float32), bfloat16 or float16. Parameters stay float32 either way. Without
    /// gradients (inference) the 16-bit copies of the weights are kept between calls, until the next forward pass with
    /// gradients, a change of this property, or <see cref="ClearCastCache"/> (call it after changing weights in place
    /// without gradients or moving the encoder to another device; the trainer and embedder do so themselves).
    /// </summary>
    public ScalarType? ComputeType
    {
        get => precision.Type;
        set
        {
            precision.Type = value is null or ScalarType.BFloat16 or ScalarType.Float16 ? value
                : throw new ArgumentException($"Mixed precision computes in bfloat16 or float16, not {value}.");
            precision.Clear();
        }
    }

    public void ClearCastCache() => precision.Clear();

    /// <summary>Token states (batch × length × hidden) for token ids and a 0/1 attention mask (batch × length).</summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var hidden = embeddings.forward(inputIds);
        // Additive mask: padded keys get a large negative score before the softmax.
        var additive = ((1 - attentionMask.to_type(hidden.dtype)) * -1e4f).unsqueeze(1).unsqueeze(2);
        return encoder.forward(hidden, additive).MoveToOuterDisposeScope();
    }

    /// <summary>Sentence vectors (batch × hidden): the mean of the unpadded token states, or the [CLS] state.</summary>
    public Tensor Embed(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var states = forward(inputIds, attentionMask);
        if (Options.Pooling == Pooling.Cls) return states.select(1, 0).MoveToOuterDisposeScope();
        var mask = attentionMask.to_type(states.dtype).unsqueeze(-1);
        return ((states * mask).sum(1) / mask.sum(1).clamp_min(1e-9)).MoveToOuterDisposeScope();
    }

    private sealed class BertEmbeddings : Module<Tensor, Tensor>
    {
        private readonly Embedding word_embeddings;
        private readonly Embedding position_embeddings;
        private readonly Embedding token_type_embeddings;
        private readonly LayerNorm LayerNorm;
        private readonly Dropout dropout;

        public BertEmbeddings(EncoderOptions o) : base("embeddings")
        {
            word_embeddings = Embedding(o.VocabularySize, o.HiddenSize, padding_idx: 0);
            position_embeddings = Embedding(o.MaxPositions, o.HiddenSize);
            token_type_embeddings = Embedding(o.TypeVocabularySize, o.HiddenSize);
            LayerNorm = nn.LayerNorm(o.HiddenSize, o.LayerNormEpsilon);
            dropout = Dropout(o.Dropout);
            RegisterComponents();
        }

        public override Tensor forward(Tensor ids)
        {
            using var scope = NewDisposeScope();
            var length = ids.shape[1];
            var positions = arange(length, dtype: ScalarType.Int64, device: ids.device).unsqueeze(0);
            var segments = zeros_like(ids);
            var sum = word_embeddings.forward(ids) + position_embeddings.forward(positions) + token_type_embeddings.forward(segments);
            return dropout.forward(LayerNorm.forward(sum)).MoveToOuterDisposeScope();
        }
    }

    private sealed class BertStack : Module<Tensor, Tensor, Tensor>
    {
        private readonly ModuleList<BertLayer> layer;

        public BertStack(EncoderOptions o, Precision precision) : base("encoder")
        {
            layer = new ModuleList<BertLayer>(Enumerable.Range(0, o.Layers).Select(_ => new BertLayer(o, precision)).ToArray());
            RegisterComponents();
        }

        public override Tensor forward(Tensor hidden, Tensor mask)
        {
            var x = hidden;
            foreach (var l in layer)
            {
                var next = l.forward(x, mask);
                if (!ReferenceEquals(x, hidden)) x.Dispose();
                x = next;
            }
            return x;
        }
    }

    private sealed class BertLayer : Module<Tensor, Tensor, Tensor>
    {
        private readonly BertAttention attention;
        private readonly DenseBlock intermediate;
        private readonly OutputBlock output;
        private readonly bool preNorm;

        public BertLayer(EncoderOptions o, Precision precision) : base("layer")
        {
            attention = new BertAttention(o, precision);
            intermediate = new DenseBlock(o.HiddenSize, o.IntermediateSize, precision);
            output = new OutputBlock(o.IntermediateSize, o, precision);
            preNorm = o.PreLayerNorm;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, Tensor mask)
        {
            using var scope = NewDisposeScope();
            var attended = attention.forward(x, mask);
            return output.forward(functional.gelu(intermediate.forward(preNorm ? output.Norm(attended) : attended)), attended, preNorm).MoveToOuterDisposeScope();
        }
    }

    private sealed class BertAttention : Module<Tensor, Tensor, Tensor>
    {
        private readonly SelfAttention self;
        private readonly OutputBlock output;
        private readonly bool preNorm;

        public BertAttention(EncoderOptions o, Precision precision) : base("attention")
        {
            self = new SelfAttention(o, precision);
            output = new OutputBlock(o.HiddenSize, o, precision);
            preNorm = o.PreLayerNorm;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, Tensor mask)
        {
            using var scope = NewDisposeScope();
            var context = self.forward(preNorm ? output.Norm(x) : x, mask);
            return output.forward(context, x, preNorm).MoveToOuterDisposeScope();
        }
    }

    private sealed class SelfAttention : Module<Tensor, Tensor, Tensor>
    {
        private readonly Linear query;
        private readonly Linear key;
        private readonly Linear value;
        private readonly Dropout dropout;
        private readonly int heads;
        private readonly Precision precision;

        public SelfAttention(EncoderOptions o, Precision precision) : base("self")
        {
            this.precision = precision;
            query = Linear(o.HiddenSize, o.HiddenSize);
            key = Linear(o.HiddenSize, o.HiddenSize);
            value = Linear(o.HiddenSize, o.HiddenSize);
            dropout = Dropout(o.Dropout);
            heads = o.AttentionHeads;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, Tensor mask)
        {
            using var scope = NewDisposeScope();
            long batch = x.shape[0], length = x.shape[1], hidden = x.shape[2];
            var size = hidden / heads;
            Tensor Split(Tensor t) => t.view(batch, length, heads, size).transpose(1, 2);
            var type = precision.Type;
            // One cast of the input serves the three projections (a cast of an already-cast tensor is free).
            if (type is { } compute) x = x.to_type(compute);
            var (q, k, v) = (Split(precision.Linear(query, x)), Split(precision.Linear(key, x)), Split(precision.Linear(value, x)));
            Tensor context;
            if (x.device_type == DeviceType.CUDA)
            {
                // On a GPU, fused attention: one kernel instead of a launch and a pass over the scores for each of the
                // matmul, scaling, masking, softmax and dropout (it keeps the softmax in float32 itself; the mask must have
                // the projections' type). On the CPU libtorch's fused kernel measured slower here, so the CPU keeps the
                // explicit form below.
                context = functional.scaled_dot_product_attention(q, k, v, type is { } t ? mask.to_type(t) : mask, training ? dropout.p : 0);
            }
            else
            {
                // Scores in the compute type; the float32 mask promotes them to float32 within the addition (as under
                // PyTorch's autocast), so the softmax runs in float32; its weights are applied in the compute type.
                var weights = dropout.forward(functional.softmax(q.matmul(k.transpose(-1, -2)) / Math.Sqrt(size) + mask, -1));
                context = (type is { } t ? weights.to_type(t) : weights).matmul(v);
            }
            return context.transpose(1, 2).contiguous().view(batch, length, hidden).MoveToOuterDisposeScope();
        }
    }

    /// <summary>A linear layer named "dense" (BERT's intermediate block).</summary>
    private sealed class DenseBlock : Module<Tensor, Tensor>
    {
        private readonly Linear dense;
        private readonly Precision precision;

        public DenseBlock(int input, int output, Precision precision) : base("intermediate")
        {
            dense = Linear(input, output);
            this.precision = precision;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => precision.Linear(dense, x);
    }

    /// <summary>dense → dropout → residual → LayerNorm (post-LN), or dense → dropout → residual (pre-LN); the result is float32.</summary>
    private sealed class OutputBlock : Module<Tensor, Tensor, bool, Tensor>
    {
        private readonly Linear dense;
        private readonly LayerNorm LayerNorm;
        private readonly Dropout dropout;
        private readonly Precision precision;

        public OutputBlock(int input, EncoderOptions o, Precision precision) : base("output")
        {
            this.precision = precision;
            dense = Linear(input, o.HiddenSize);
            LayerNorm = nn.LayerNorm(o.HiddenSize, o.LayerNormEpsilon);
            dropout = Dropout(o.Dropout);
            RegisterComponents();
        }

        public Tensor Norm(Tensor x) => LayerNorm.forward(x);

        public override Tensor forward(Tensor x, Tensor residual, bool preNorm)
        {
            using var scope = NewDisposeScope();
            // The float32 residual promotes a compute-type projection back to float32 within the addition.
            var sum = dropout.forward(precision.Linear(dense, x)) + residual;
            return (preNorm ? sum : LayerNorm.forward(sum)).MoveToOuterDisposeScope();
        }
    }

    /// <summary>The compute type shared by all layers of one encoder, and the inference-time cache of cast weights.</summary>
    private sealed class Precision
    {
        private readonly Dictionary<Linear, (Tensor Weight, Tensor? Bias)> _casts = new(ReferenceEqualityComparer.Instance);

        public ScalarType? Type { get; set; }

        /// <summary>
        /// A linear layer in the compute type. With gradients, input and float32 weights are cast per call (the casts carry
        /// gradients back to the float32 weights); without, the weights' casts are made once and reused.
        /// </summary>
        public Tensor Linear(Linear layer, Tensor x)
        {
            if (Type is not { } t) return layer.forward(x);
            if (is_grad_enabled())
            {
                Clear();
                return functional.linear(x.to_type(t), layer.weight!.to_type(t), layer.bias?.to_type(t));
            }
            if (!_casts.TryGetValue(layer, out var cast))
                _casts[layer] = cast = (layer.weight!.to_type(t).DetachFromDisposeScope(), layer.bias?.to_type(t).DetachFromDisposeScope());
            return functional.linear(x.to_type(t), cast.Weight, cast.Bias);
        }

        public void Clear()
        {
            foreach (var (weight, bias) in _casts.Values)
            {
                weight.Dispose();
                bias?.Dispose();
            }
            _casts.Clear();
        }
    }
}
