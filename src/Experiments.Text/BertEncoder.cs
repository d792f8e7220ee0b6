using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Experiments.Text;

/// <summary>
/// A BERT-style transformer encoder written with TorchSharp modules: token, position and segment embeddings, N layers of
/// multi-head self-attention and a feed-forward block (post- or pre-layer-norm), BERT's pooler, and mean, [CLS], max or
/// pooler pooling into a sentence vector. Module and parameter names are those of Hugging Face's BertModel
/// ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight", …, "pooler.dense.weight"), so
/// checkpoints in that layout load directly and saved ones load in Hugging Face. Weights start as BERT initialises them
/// (normal with <see cref="EncoderOptions.InitializerRange"/>, zero biases, unit layer norms), drawn from a generator
/// seeded by the constructor, and dropout draws from a generator of its own (<see cref="SeedDropout"/>): no weight and no
/// mask comes from libtorch's process-wide generator (TorchSharp's module constructors still draw from it before the
/// weights are overwritten), so encoders built or trained side by side do not disturb each other's results. Under
/// mixed precision (<see cref="ComputeType"/> bfloat16 or float16) the matrix products run in that type while weights,
/// the residual stream, layer norms and the softmax stay float32, as PyTorch's autocast does.
/// </summary>
public sealed class BertEncoder : Module<Tensor, Tensor, Tensor>
{
    private readonly BertEmbeddings embeddings;
    private readonly BertStack encoder;
    private readonly BertPooler pooler;
    private readonly Precision precision = new();
    private readonly Noise noise;

    static BertEncoder() => TorchNative.EnsureLoaded();

    public BertEncoder(EncoderOptions options, long seed = 0) : base("bert")
    {
        if (options.HiddenSize % options.AttentionHeads != 0)
            throw new Core.ExperimentsException($"The hidden size ({options.HiddenSize}) must be a multiple of the attention heads ({options.AttentionHeads}).");
        if (options.PaddingId < 0 || options.PaddingId >= options.VocabularySize)
            throw new Core.ExperimentsException($"The padding id ({options.PaddingId}) must lie in 0..{options.VocabularySize - 1} (the vocabulary).");
        Options = options;
        var activation = BertActivations.Of(options.Activation);
        noise = new Noise(seed);
        embeddings = new BertEmbeddings(options, noise);
        encoder = new BertStack(options, precision, noise, activation);
        pooler = new BertPooler(options.HiddenSize);
        RegisterComponents();
        using var generator = new Generator((ulong)seed, CPU);
        using (no_grad())
            foreach (var (name, parameter) in named_parameters())
            {
                if (name.EndsWith("LayerNorm.weight", StringComparison.Ordinal)) parameter.fill_(1);
                else if (name.EndsWith(".bias", StringComparison.Ordinal)) parameter.zero_();
                else parameter.normal_(0, options.InitializerRange, generator);
            }
        using (no_grad()) embeddings.ZeroPaddingRow();
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

    /// <summary>
    /// Seeds the generator dropout draws from (on the device the encoder is on now); until called, it is seeded with
    /// the constructor's seed. The trainer calls it with its own seed before training.
    /// </summary>
    public void SeedDropout(long seed) => noise.Seed(seed, embeddings.Device);

    /// <summary>The parameters a sentence vector depends on: all but the pooler's, unless the pooling is <see cref="Pooling.Pooler"/>.</summary>
    public Parameter[] TrainableParameters() =>
        named_parameters().Where(p => Options.Pooling == Pooling.Pooler || !p.name.StartsWith("pooler.", StringComparison.Ordinal)).Select(p => p.parameter).ToArray();

    /// <summary>Initialises a task head the way the encoder's own weights are (normal weights, zero bias), from <paramref name="generator"/>.</summary>
    public void InitializeHead(Linear head, Generator generator)
    {
        using var _ = no_grad();
        head.weight!.normal_(0, Options.InitializerRange, generator);
        head.bias?.zero_();
    }

    /// <summary>Token states (batch × length × hidden) for token ids and a 0/1 attention mask (batch × length).</summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var hidden = embeddings.forward(inputIds);
        // Additive mask: padded keys get a large negative score before the softmax.
        var additive = ((1 - attentionMask.to_type(hidden.dtype)) * -1e4f).unsqueeze(1).unsqueeze(2);
        return encoder.forward(hidden, additive).MoveToOuterDisposeScope();
    }

    /// <summary>Sentence vectors (batch × hidden), pooled as <see cref="EncoderOptions.Pooling"/> says.</summary>
    public Tensor Embed(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        var states = forward(inputIds, attentionMask);
        var mask = attentionMask.to_type(states.dtype).unsqueeze(-1);
        var pooled = Options.Pooling switch
        {
            Pooling.Cls => states.select(1, 0),
            Pooling.Pooler => pooler.forward(states),
            // Padded positions must never win the maximum: they get the lowest value first.
            Pooling.Max => states.masked_fill(mask == 0, float.MinValue).amax(1),
            _ => (states * mask).sum(1) / mask.sum(1).clamp_min(1e-9),
        };
        return pooled.MoveToOuterDisposeScope();
    }

    /// <summary>BERT's pooler: tanh(dense(state of [CLS])).</summary>
    private sealed class BertPooler : Module<Tensor, Tensor>
    {
        private readonly Linear dense;

        public BertPooler(int hidden) : base("pooler")
        {
            dense = Linear(hidden, hidden);
            RegisterComponents();
        }

        public override Tensor forward(Tensor states) => tanh(dense.forward(states.select(1, 0)));
    }

    private sealed class BertEmbeddings : Module<Tensor, Tensor>
    {
        private readonly Embedding word_embeddings;
        private readonly Embedding position_embeddings;
        private readonly Embedding token_type_embeddings;
        private readonly LayerNorm LayerNorm;
        private readonly SeededDropout dropout;
        private readonly int paddingId;

        public BertEmbeddings(EncoderOptions o, Noise noise) : base("embeddings")
        {
            paddingId = o.PaddingId;
            word_embeddings = Embedding(o.VocabularySize, o.HiddenSize, padding_idx: o.PaddingId);
            position_embeddings = Embedding(o.MaxPositions, o.HiddenSize);
            token_type_embeddings = Embedding(o.TypeVocabularySize, o.HiddenSize);
            LayerNorm = nn.LayerNorm(o.HiddenSize, o.LayerNormEpsilon);
            dropout = new SeededDropout(o.Dropout, noise);
            RegisterComponents();
        }

        public Device Device => word_embeddings.weight!.device;

        public void ZeroPaddingRow() => word_embeddings.weight![paddingId].zero_();

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

        public BertStack(EncoderOptions o, Precision precision, Noise noise, Func<Tensor, Tensor> activation) : base("encoder")
        {
            layer = new ModuleList<BertLayer>(Enumerable.Range(0, o.Layers).Select(_ => new BertLayer(o, precision, noise, activation)).ToArray());
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
        private readonly Func<Tensor, Tensor> activation;

        public BertLayer(EncoderOptions o, Precision precision, Noise noise, Func<Tensor, Tensor> activation) : base("layer")
        {
            attention = new BertAttention(o, precision, noise);
            intermediate = new DenseBlock(o.HiddenSize, o.IntermediateSize, precision);
            output = new OutputBlock(o.IntermediateSize, o, precision, noise);
            preNorm = o.PreLayerNorm;
            this.activation = activation;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x, Tensor mask)
        {
            using var scope = NewDisposeScope();
            var attended = attention.forward(x, mask);
            return output.forward(activation(intermediate.forward(preNorm ? output.Norm(attended) : attended)), attended, preNorm).MoveToOuterDisposeScope();
        }
    }

    private sealed class BertAttention : Module<Tensor, Tensor, Tensor>
    {
        private readonly SelfAttention self;
        private readonly OutputBlock output;
        private readonly bool preNorm;

        public BertAttention(EncoderOptions o, Precision precision, Noise noise) : base("attention")
        {
            self = new SelfAttention(o, precision, noise);
            output = new OutputBlock(o.HiddenSize, o, precision, noise);
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
        private readonly SeededDropout dropout;
        private readonly int heads;
        private readonly Precision precision;

        public SelfAttention(EncoderOptions o, Precision precision, Noise noise) : base("self")
        {
            this.precision = precision;
            query = Linear(o.HiddenSize, o.HiddenSize);
            key = Linear(o.HiddenSize, o.HiddenSize);
            value = Linear(o.HiddenSize, o.HiddenSize);
            dropout = new SeededDropout(o.Dropout, noise);
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
                context = functional.scaled_dot_product_attention(q, k, v, type is { } t ? mask.to_type(t) : mask, training ? dropout.Probability : 0);
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
        private readonly SeededDropout dropout;
        private readonly Precision precision;

        public OutputBlock(int input, EncoderOptions o, Precision precision, Noise noise) : base("output")
        {
            this.precision = precision;
            dense = Linear(input, o.HiddenSize);
            LayerNorm = nn.LayerNorm(o.HiddenSize, o.LayerNormEpsilon);
            dropout = new SeededDropout(o.Dropout, noise);
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

    /// <summary>
    /// Dropout whose masks come from the encoder's own generator (<see cref="Noise"/>), not libtorch's process-wide
    /// one: in training, each element is kept with probability 1 − p and scaled by 1 / (1 − p), as PyTorch's dropout.
    /// </summary>
    private sealed class SeededDropout(double p, Noise noise) : Module<Tensor, Tensor>("dropout")
    {
        public double Probability => p;

        public override Tensor forward(Tensor x)
        {
            if (!training || p == 0) return x.alias();
            using var scope = NewDisposeScope();
            var keep = empty_like(x).bernoulli_(1 - p, noise.For(x.device));
            return (x * keep / (1 - p)).MoveToOuterDisposeScope();
        }
    }

    /// <summary>The generator all dropout layers of one encoder share, (re)created on the device the activations are on.</summary>
    private sealed class Noise(long seed)
    {
        private Generator? _generator;
        private long _seed = seed;

        public void Seed(long seed, Device device)
        {
            _seed = seed;
            _generator?.Dispose();
            _generator = new Generator((ulong)seed, device);
        }

        public Generator For(Device device)
        {
            if (_generator is null || _generator.device.type != device.type || _generator.device.index != device.index) Seed(_seed, device);
            return _generator!;
        }
    }
}
