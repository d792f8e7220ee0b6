namespace Experiments.Text;

/// <summary>
/// How token states become one sentence vector: their mean over the unpadded tokens, the [CLS] state, their
/// component-wise maximum over the unpadded tokens, or BERT's pooler (tanh of a dense layer over the [CLS] state,
/// Hugging Face's pooler_output).
/// </summary>
public enum Pooling { Mean, Cls, Max, Pooler }

/// <summary>The size and shape of a BERT-style encoder; the fields of a Hugging Face BERT config.json that matter here.</summary>
public sealed record EncoderOptions
{
    public int VocabularySize { get; init; } = 8000;
    public int HiddenSize { get; init; } = 128;
    public int Layers { get; init; } = 2;
    public int AttentionHeads { get; init; } = 4;
    public int IntermediateSize { get; init; } = 512;
    public int MaxPositions { get; init; } = 128;
    public int TypeVocabularySize { get; init; } = 2;
    public double Dropout { get; init; } = 0.1;
    public double LayerNormEpsilon { get; init; } = 1e-12;
    /// <summary>The feed-forward activation, by its Hugging Face name (hidden_act): see <see cref="BertActivations"/>.</summary>
    public string Activation { get; init; } = "gelu";
    /// <summary>Standard deviation of the normal initialisation of weights (initializer_range), as BERT initialises.</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary>The padding token's id (pad_token_id): its embedding row starts at zero and receives no gradient.</summary>
    public int PaddingId { get; init; }
    /// <summary>Layer norm before attention and feed-forward (pre-LN) instead of after (BERT's post-LN).</summary>
    public bool PreLayerNorm { get; init; }
    public Pooling Pooling { get; init; } = Pooling.Mean;
}
