using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// Layer normalisation, as torch.nn.functional.layer_norm: each example is normalised over its
    /// last axes (those of <paramref name="normalizedShape"/>) with their mean and biased variance,
    /// y = (x − μ)/√(σ² + eps)·γ + β, γ and β shaped like <paramref name="normalizedShape"/>. Built
    /// from the differentiable tensor ops, so its gradient is theirs.
    /// </summary>
    public static Tensor LayerNorm(Tensor x, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, float eps = 1e-5f)
    {
        int count = normalizedShape.Length;
        if (count == 0 || count > x.Rank || !x.Shape.Dimensions[^count..].SequenceEqual(normalizedShape))
            throw new ArgumentException($"LayerNorm: the input's last axes must be [{string.Join(", ", normalizedShape)}], got shape {x.Shape}.");
        foreach (var (name, parameter) in new[] { ("weight", weight), ("bias", bias) })
            if (parameter != null && !parameter.Shape.Dimensions.SequenceEqual(normalizedShape))
                throw new ArgumentException($"LayerNorm: the {name} must have shape [{string.Join(", ", normalizedShape)}], got {parameter.Shape}.");
        var axes = Enumerable.Range(x.Rank - count, count).ToArray();
        var centered = Subtract(x, Mean(x, axes, keepDim: true));
        var variance = Mean(Square(centered), axes, keepDim: true);
        var y = Multiply(centered, Rsqrt(Add(variance, eps)));
        if (weight != null) y = Multiply(y, weight);
        return bias == null ? y : Add(y, bias);
    }
}
