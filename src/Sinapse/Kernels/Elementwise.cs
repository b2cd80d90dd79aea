using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sinapse.Kernels;

/// <summary>
/// Elementwise kernels that System.Numerics.Tensors has no single function for. As in
/// TensorPrimitives, each function is an operator struct with a vector and a scalar form, and one
/// loop skeleton (<see cref="Map{TOperator}"/>) runs any of them over spans of any length. The two
/// forms apply the same operations in the same order, so every element rounds alike.
/// </summary>
public static class Elementwise
{
    /// <summary>
    /// result[i] = values[i]·(sign[i] > 0 ? positiveScale : otherScale): ReLU and Leaky ReLU
    /// forward (values = x) and backward (values = dy) in one vectorised select. A zero scale
    /// selects 0 instead of multiplying, so an infinite value there gives 0 (as PyTorch's ReLU), not NaN.
    /// </summary>
    public static void ScaleBySign(ReadOnlySpan<float> sign, ReadOnlySpan<float> values, float positiveScale, float otherScale, Span<float> result) =>
        Map(new ScaleBySignOperator(positiveScale, otherScale), sign, values, result, "ScaleBySign");

    /// <summary>y = x·clamp(x + 3, 0, 6)/6, MobileNetV3's hard swish.</summary>
    public static void HardSwish(ReadOnlySpan<float> x, Span<float> y) => Map(new HardSwishOperator(), x, x, y, "HardSwish");

    /// <summary>dx = dy·hardswish'(x): 0 below −3, x/3 + 1/2 from −3 up to and including 3, 1 above (PyTorch's choice at the kinks).</summary>
    public static void HardSwishBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => Map(new HardSwishBackwardOperator(), x, dy, dx, "HardSwishBackward");

    /// <summary>y = clamp(x + 3, 0, 6)/6, the hard sigmoid (PyTorch's and MobileNetV3's).</summary>
    public static void HardSigmoid(ReadOnlySpan<float> x, Span<float> y) => Map(new HardSigmoidOperator(), x, x, y, "HardSigmoid");

    /// <summary>dx = dy/6 where −3 &lt; x &lt; 3, else 0.</summary>
    public static void HardSigmoidBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => Map(new HardSigmoidBackwardOperator(), x, dy, dx, "HardSigmoidBackward");

    /// <summary>y = ½x(1 + tanh(√(2/π)(x + 0.044715x³))), GELU's tanh approximation.</summary>
    public static void GeluTanh(ReadOnlySpan<float> x, Span<float> y) => Map(new GeluTanhOperator(), x, x, y, "GeluTanh");

    /// <summary>dx = dy·d/dx of <see cref="GeluTanh"/>.</summary>
    public static void GeluTanhBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) => Map(new GeluTanhBackwardOperator(), x, dy, dx, "GeluTanhBackward");

    /// <summary>An elementwise function of (x, other): other is the upstream gradient for a backward pass, or x itself.</summary>
    internal interface IOperator
    {
        Vector<float> Invoke(Vector<float> x, Vector<float> other);
        float Invoke(float x, float other);
    }

    /// <summary>result[i] = op(x[i], other[i]), whole vectors first, then the scalar tail.</summary>
    private static void Map<TOperator>(TOperator op, ReadOnlySpan<float> x, ReadOnlySpan<float> other, Span<float> result, string name)
        where TOperator : struct, IOperator
    {
        if (other.Length != x.Length || result.Length < x.Length)
            throw new ArgumentException($"{name}: lengths differ ({x.Length}, {other.Length}, {result.Length}).");
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var xs = MemoryMarshal.Cast<float, Vector<float>>(x);
            var os = MemoryMarshal.Cast<float, Vector<float>>(other);
            var rs = MemoryMarshal.Cast<float, Vector<float>>(result);
            for (int k = 0; k < xs.Length; k++) rs[k] = op.Invoke(xs[k], os[k]);
            i = xs.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++) result[i] = op.Invoke(x[i], other[i]);
    }

    private readonly struct ScaleBySignOperator(float positiveScale, float otherScale) : IOperator
    {
        private readonly Vector<float> positive = new(positiveScale), other = new(otherScale);
        private readonly bool zero = otherScale == 0f;

        public Vector<float> Invoke(Vector<float> sign, Vector<float> value) => Vector.ConditionalSelect(
            Vector.GreaterThan(sign, Vector<float>.Zero), value * positive, zero ? Vector<float>.Zero : value * other);

        public float Invoke(float sign, float value) => sign > 0 ? value * positiveScale : zero ? 0f : value * otherScale;
    }

    internal readonly struct HardSwishOperator : IOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Invoke(Vector<float> x, Vector<float> _) => x * Vector.Min(Vector.Max(x + new Vector<float>(3f), Vector<float>.Zero), new Vector<float>(6f)) / new Vector<float>(6f);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public float Invoke(float x, float _) => x * Math.Clamp(x + 3f, 0f, 6f) / 6f;
    }

    internal readonly struct HardSwishBackwardOperator : IOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public Vector<float> Invoke(Vector<float> x, Vector<float> dy)
        {
            var middle = dy * (x / new Vector<float>(3f) + new Vector<float>(0.5f));
            var inside = Vector.ConditionalSelect(Vector.LessThanOrEqual(x, new Vector<float>(3f)), middle, dy);
            return Vector.ConditionalSelect(Vector.LessThan(x, new Vector<float>(-3f)), Vector<float>.Zero, inside);
        }

        public float Invoke(float x, float dy) => x < -3f ? 0f : x <= 3f ? dy * (x / 3f + 0.5f) : dy;
    }

    private readonly struct HardSigmoidOperator : IOperator
    {
        public Vector<float> Invoke(Vector<float> x, Vector<float> _) => Vector.Min(Vector.Max(x + new Vector<float>(3f), Vector<float>.Zero), new Vector<float>(6f)) / new Vector<float>(6f);
        public float Invoke(float x, float _) => Math.Clamp(x + 3f, 0f, 6f) / 6f;
    }

    private readonly struct HardSigmoidBackwardOperator : IOperator
    {
        public Vector<float> Invoke(Vector<float> x, Vector<float> dy)
        {
            var inside = Vector.BitwiseAnd(Vector.GreaterThan(x, new Vector<float>(-3f)), Vector.LessThan(x, new Vector<float>(3f)));
            return Vector.ConditionalSelect(inside, dy / new Vector<float>(6f), Vector<float>.Zero);
        }

        public float Invoke(float x, float dy) => x > -3f && x < 3f ? dy / 6f : 0f;
    }

    /// <summary>
    /// GELU's tanh form as x·σ(2u), u = √(2/π)(x + 0.044715x³): ½(1 + tanh u) = σ(2u) exactly,
    /// and σ keeps its relative precision where 1 + tanh u would cancel (x well below 0). The
    /// scalar form is the vector form's first lane, so the tail rounds as the vectors do.
    /// </summary>
    private static class GeluTanhConstants
    {
        public const float TwoBeta = 1.5957691216057308f;          // 2√(2/π)
        public const float TwoBetaKappa = 0.07135481627260025f;    // 2√(2/π)·0.044715

        /// <summary>2u for x, given x².</summary>
        public static Vector<float> DoubledInner(Vector<float> x, Vector<float> square) => x * (new Vector<float>(TwoBeta) + new Vector<float>(TwoBetaKappa) * square);

        public static Vector<float> Logistic(Vector<float> z) => Vector<float>.One / (Vector<float>.One + Vector.Exp(-z));
    }

    private readonly struct GeluTanhOperator : IOperator
    {
        public Vector<float> Invoke(Vector<float> x, Vector<float> _) => x * GeluTanhConstants.Logistic(GeluTanhConstants.DoubledInner(x, x * x));
        public float Invoke(float x, float _) => Invoke(new Vector<float>(x), default)[0];
    }

    private readonly struct GeluTanhBackwardOperator : IOperator
    {
        // d/dx x·σ(2u) = σ + x·σ(1 − σ)·2u', with 2u' = 2√(2/π)(1 + 3·0.044715x²)
        public Vector<float> Invoke(Vector<float> x, Vector<float> dy)
        {
            var square = x * x;
            var s = GeluTanhConstants.Logistic(GeluTanhConstants.DoubledInner(x, square));
            var slope = new Vector<float>(GeluTanhConstants.TwoBeta) + new Vector<float>(3f * GeluTanhConstants.TwoBetaKappa) * square;
            return dy * (s + x * s * (Vector<float>.One - s) * slope);
        }

        public float Invoke(float x, float dy) => Invoke(new Vector<float>(x), new Vector<float>(dy))[0];
    }
}
