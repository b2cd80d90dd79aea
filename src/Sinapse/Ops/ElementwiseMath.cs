using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Ops;

/// <summary>
/// Elementwise functions of one tensor. The forward passes are TensorPrimitives' vectorised
/// functions, split over the worker pool for large tensors; each backward pass is the local
/// derivative times the output gradient.
/// </summary>
public static partial class F
{
    private delegate void SpanFunction(ReadOnlySpan<float> x, Span<float> y);

    /// <summary>eˣ.</summary>
    public static Tensor Exp(Tensor x)
    {
        var y = Unary(x, TensorPrimitives.Exp);
        if (Tape.NeedsGrad(x)) Tape.Record("Exp", y, dy => AccumulateProduct<MultiplyOperator>(x, dy, y), x);
        return y;
    }

    /// <summary>The natural logarithm (−∞ at 0, NaN below).</summary>
    public static Tensor Log(Tensor x)
    {
        var y = Unary(x, TensorPrimitives.Log);
        if (Tape.NeedsGrad(x)) Tape.Record("Log", y, dy => AccumulateProduct<DivideOperator>(x, dy, x), x);
        return y;
    }

    /// <summary>ln(1 + x), accurate for small x.</summary>
    public static Tensor Log1p(Tensor x) =>
        UnaryWithGradient("Log1p", x, LogOnePlus, (g, v, _) => g / (1f + v));

    /// <summary>√x.</summary>
    public static Tensor Sqrt(Tensor x) =>
        UnaryWithGradient("Sqrt", x, TensorPrimitives.Sqrt, (g, _, y) => g / (2f * y));

    /// <summary>1/√x.</summary>
    public static Tensor Rsqrt(Tensor x) =>
        UnaryWithGradient("Rsqrt", x, (v, y) => TensorPrimitives.ReciprocalSqrt(v, y), (g, _, y) => -0.5f * g * y * y * y);

    /// <summary>|x|; the gradient is sign(x)·dy, 0 at 0.</summary>
    public static Tensor Abs(Tensor x) =>
        UnaryWithGradient("Abs", x, TensorPrimitives.Abs, (g, v, _) => v > 0f ? g : v < 0f ? -g : 0f);

    /// <summary>−1, 0 or 1 by the sign of x (NaN stays NaN); its gradient is 0 everywhere.</summary>
    public static Tensor Sign(Tensor x) =>
        UnaryWithGradient("Sign", x, SignOf, (_, _, _) => 0f);

    /// <summary>x².</summary>
    public static Tensor Square(Tensor x) =>
        UnaryWithGradient("Square", x, (v, y) => TensorPrimitives.Multiply(v, v, y), (g, v, _) => 2f * v * g);

    /// <summary>sin x.</summary>
    public static Tensor Sin(Tensor x) =>
        UnaryWithGradient("Sin", x, TensorPrimitives.Sin, (g, v, _) => g * MathF.Cos(v));

    /// <summary>cos x.</summary>
    public static Tensor Cos(Tensor x) =>
        UnaryWithGradient("Cos", x, TensorPrimitives.Cos, (g, v, _) => -g * MathF.Sin(v));

    /// <summary>−x.</summary>
    public static Tensor Negate(Tensor x) =>
        UnaryWithGradient("Negate", x, TensorPrimitives.Negate, (g, _, _) => -g);

    /// <summary>1/x.</summary>
    public static Tensor Reciprocal(Tensor x) =>
        UnaryWithGradient("Reciprocal", x, TensorPrimitives.Reciprocal, (g, _, y) => -g * y * y);

    /// <summary>xᵉ for a constant exponent.</summary>
    public static Tensor Pow(Tensor x, float exponent) => Pow(x, Tensor.Scalar(exponent));

    /// <summary>
    /// ln(1 + x) by Goldberg's correction: with u = 1 + x rounded to float, ln(u)·x/(u − 1) is
    /// within a few ulps of ln(1 + x) for every x. TensorPrimitives.LogP1 takes the logarithm of u
    /// itself, which drops every digit of x below 2⁻²⁴ (it gives 1.19e-7 for log1p(1e-7)).
    /// </summary>
    private static void LogOnePlus(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float u = 1f + x[i];
            // u = 1: x is below half an ulp of 1, where ln(1 + x) rounds to x; u = ∞: x/(u − 1) would be NaN.
            y[i] = u == 1f || float.IsPositiveInfinity(u) ? x[i] : MathF.Log(u) * (x[i] / (u - 1f));
        }
    }

    private static void SignOf(ReadOnlySpan<float> x, Span<float> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = float.IsNaN(x[i]) ? float.NaN : MathF.Sign(x[i]);
    }

    /// <summary>y = f(x) over x's shape, in parts on the worker pool for large tensors.</summary>
    private static Tensor Unary(Tensor x, SpanFunction function)
    {
        var y = Tensor.Empty(x.Shape);
        float[] xs = x.Buffer, ys = y.Buffer;
        int xo = x.Offset, yo = y.Offset;
        ForEachPart(x.Length, (start, count) => function(xs.AsSpan(xo + start, count), ys.AsSpan(yo + start, count)));
        return y;
    }

    /// <summary>A unary op whose gradient is derivative(dy, x, y) elementwise.</summary>
    private static Tensor UnaryWithGradient(string op, Tensor x, SpanFunction function, Func<float, float, float, float> derivative)
    {
        var y = Unary(x, function);
        if (Tape.NeedsGrad(x)) Tape.Record(op, y, dy => AccumulateSummed(x, Map(dy, x, y, derivative), owned: true), x);
        return y;
    }
}
