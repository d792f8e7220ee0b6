namespace Experiments.Text;

public enum Pooling { Mean, Cls }

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
    /// <summary>Layer norm before attention and feed-forward (pre-LN) instead of after (BERT's post-LN).</summary>
    public bool PreLayerNorm { get; init; }
    public Pooling Pooling { get; init; } = Pooling.Mean;
}
