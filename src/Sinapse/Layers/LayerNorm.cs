using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// Layer normalisation over the last axes of each example, as PyTorch's nn.LayerNorm: parameters
/// "weight" (γ, ones) and "bias" (β, zeros) shaped like <see cref="NormalizedShape"/> when
/// <see cref="ElementwiseAffine"/>. It uses the example's own statistics in training and in
/// evaluation alike, so it has no running buffers.
/// </summary>
public sealed record LayerNormConfig(int[] NormalizedShape, float Eps = 1e-5f, bool ElementwiseAffine = true);

public sealed class LayerNorm : Module, IConfigurable<LayerNorm, LayerNormConfig>
{
    public LayerNormConfig GetConfig() => new(NormalizedShape, Eps, ElementwiseAffine);
    public static LayerNorm FromConfig(LayerNormConfig c, Rng? rng) => new(c.NormalizedShape, c.Eps, c.ElementwiseAffine);

    public LayerNorm(int[] normalizedShape, float eps = 1e-5f, bool elementwiseAffine = true)
    {
        if (normalizedShape.Length == 0 || normalizedShape.Any(d => d <= 0))
            throw new ArgumentException($"LayerNorm needs a normalized shape of positive sizes, got [{string.Join(", ", normalizedShape)}].");
        if (!(eps >= 0f)) throw new ArgumentException($"LayerNorm: eps must be >= 0, got {eps}.");
        NormalizedShape = (int[])normalizedShape.Clone();
        Eps = eps;
        ElementwiseAffine = elementwiseAffine;
        if (elementwiseAffine)
        {
            Weight = RegisterParameter("weight", Tensor.Ones(NormalizedShape));
            Bias = RegisterParameter("bias", Tensor.Zeros(NormalizedShape));
        }
    }

    /// <summary>Normalises over the last axis, of size <paramref name="features"/>.</summary>
    public LayerNorm(int features, float eps = 1e-5f, bool elementwiseAffine = true) : this([features], eps, elementwiseAffine) { }

    public int[] NormalizedShape { get; }
    public float Eps { get; }
    public bool ElementwiseAffine { get; }
    public Tensor? Weight { get; }
    public Tensor? Bias { get; }

    protected override Tensor Forward(Tensor input) => F.LayerNorm(input, NormalizedShape, Weight, Bias, Eps);

    public override Shape OutputShape(Shape input)
    {
        int count = NormalizedShape.Length;
        if (input.Rank < count || !input.Dimensions[^count..].SequenceEqual(NormalizedShape))
            throw new ArgumentException($"{Describe()} expects the input's last axes to be [{string.Join(", ", NormalizedShape)}], but the input has shape {input}.");
        return input;
    }

    public override string Describe() => $"LayerNorm([{string.Join(", ", NormalizedShape)}], eps={Eps}{(ElementwiseAffine ? "" : ", no affine")})";
}
