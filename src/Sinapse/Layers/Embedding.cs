using Sinapse.Init;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// A lookup table of <see cref="NumEmbeddings"/> vectors of size <see cref="EmbeddingDim"/>, as
/// PyTorch's nn.Embedding: the input holds indices (whole numbers as floats) of any shape S, the
/// output is S + [embeddingDim]. The "weight" starts N(0, 1), with the padding row, if any, zero;
/// the padding row gets no gradient.
/// </summary>
public sealed record EmbeddingConfig(int NumEmbeddings, int EmbeddingDim, int? PaddingIndex = null);

public sealed class Embedding : Module, IConfigurable<Embedding, EmbeddingConfig>
{
    public EmbeddingConfig GetConfig() => new(NumEmbeddings, EmbeddingDim, PaddingIndex);
    public static Embedding FromConfig(EmbeddingConfig c, Rng? rng) => new(c.NumEmbeddings, c.EmbeddingDim, c.PaddingIndex, rng);

    public Embedding(int numEmbeddings, int embeddingDim, int? paddingIndex = null, Rng? rng = null)
    {
        if (numEmbeddings <= 0 || embeddingDim <= 0) throw new ArgumentException($"Embedding needs positive sizes, got {numEmbeddings} x {embeddingDim}.");
        // PyTorch accepts a negative padding index counting from the end.
        if (paddingIndex is int p && (p < -numEmbeddings || p >= numEmbeddings))
            throw new ArgumentException($"Embedding({numEmbeddings}, {embeddingDim}): the padding index must be in [{-numEmbeddings}, {numEmbeddings}), got {p}.");
        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;
        PaddingIndex = paddingIndex < 0 ? paddingIndex + numEmbeddings : paddingIndex;
        Weight = RegisterParameter("weight", Tensor.Normal(new Shape(numEmbeddings, embeddingDim), 0f, 1f, rng));
        if (PaddingIndex is int row) Weight.Span.Slice(row * embeddingDim, embeddingDim).Clear();
    }

    public int NumEmbeddings { get; }
    public int EmbeddingDim { get; }
    public int? PaddingIndex { get; }
    public Tensor Weight { get; }

    protected override Tensor Forward(Tensor input) => F.Embedding(input, Weight, PaddingIndex);

    public override Shape OutputShape(Shape input) => new([.. input.Dimensions, EmbeddingDim]);

    public override string Describe() => $"Embedding({NumEmbeddings}, {EmbeddingDim}{(PaddingIndex is int p ? $", padding_idx={p}" : "")})";
}
