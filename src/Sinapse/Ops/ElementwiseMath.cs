using System.Numerics;
using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Kernels;
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
        OnnxTrace.Current?.Node("Exp", y, x);
        if (Tape.NeedsGrad(x)) Tape.Record("Exp", y, dy => AccumulateProduct<MultiplyOperator>(x, dy, y), x);
        return y;
    }

    /// <summary>The natural logarithm (−∞ at 0, NaN below).</summary>
    public static Tensor Log(Tensor x)
    {
        var y = Unary(x, TensorPrimitives.Log);
        OnnxTrace.Current?.Node("Log", y, x);
        if (Tape.NeedsGrad(x)) Tape.Record("Log", y, dy => AccumulateProduct<DivideOperator>(x, dy, x), x);
        return y;
    }

    /// <summary>ln(1 + x), accurate for small x.</summary>
    public static Tensor Log1p(Tensor x) =>
        UnaryWithGradient("Log1p", x, LogOnePlus, new LogOnePlusGradientOperator());

    /// <summary>√x.</summary>
    public static Tensor Sqrt(Tensor x) =>
        UnaryWithGradient("Sqrt", x, TensorPrimitives.Sqrt, new SqrtGradientOperator());

    /// <summary>1/√x.</summary>
    public static Tensor Rsqrt(Tensor x) =>
        UnaryWithGradient("Rsqrt", x, (v, y) => TensorPrimitives.ReciprocalSqrt(v, y), new ReciprocalSqrtGradientOperator());

    /// <summary>|x|; the gradient is sign(x)·dy, 0 at 0.</summary>
    public static Tensor Abs(Tensor x) =>
        UnaryWithGradient("Abs", x, TensorPrimitives.Abs, new AbsGradientOperator());

    /// <summary>−1, 0 or 1 by the sign of x (NaN stays NaN); its gradient is 0 everywhere.</summary>
    public static Tensor Sign(Tensor x) =>
        UnaryWithGradient("Sign", x, SignOf, new ZeroGradientOperator());

    /// <summary>x².</summary>
    public static Tensor Square(Tensor x) =>
        UnaryWithGradient("Square", x, (v, y) => TensorPrimitives.Multiply(v, v, y), new SquareGradientOperator());

    /// <summary>sin x.</summary>
    public static Tensor Sin(Tensor x) =>
        UnaryWithGradient("Sin", x, TensorPrimitives.Sin, new ProductGradientOperator(negated: false), derivativeOfInput: TensorPrimitives.Cos);

    /// <summary>cos x.</summary>
    public static Tensor Cos(Tensor x) =>
        UnaryWithGradient("Cos", x, TensorPrimitives.Cos, new ProductGradientOperator(negated: true), derivativeOfInput: TensorPrimitives.Sin);

    /// <summary>−x.</summary>
    public static Tensor Negate(Tensor x) =>
        UnaryWithGradient("Negate", x, TensorPrimitives.Negate, new NegateGradientOperator());

    /// <summary>1/x.</summary>
    public static Tensor Reciprocal(Tensor x) =>
        UnaryWithGradient("Reciprocal", x, TensorPrimitives.Reciprocal, new ReciprocalGradientOperator());

    /// <summary>The error function erf x = 2/√π·∫₀ˣ e^(−t²) dt (torch.erf); its slope is 2/√π·e^(−x²).</summary>
    public static Tensor Erf(Tensor x) => Unary("Erf", x,
        (x, y) =>
        {
            for (int i = 0; i < x.Length; i++) y[i] = (float)Erf((double)x[i]);
        },
        (x, y, dy, dx) =>
        {
            for (int i = 0; i < x.Length; i++) dx[i] = (float)(dy[i] * 2 / Math.Sqrt(Math.PI) * Math.Exp(-(double)x[i] * x[i]));
        },
        static (trace, x, y) => trace.Node("Erf", y, x));

    /// <summary>xᵉ for a constant exponent.</summary>
    public static Tensor Pow(Tensor x, float exponent) => Pow(x, Tensor.Scalar(exponent));

    /// <summary>
    /// ln(1 + x) by Goldberg's correction: with u = 1 + x rounded to float, ln(u)·x/(u − 1) is
    /// within a few ulps of ln(1 + x) for every x. TensorPrimitives.LogP1 takes the logarithm of u
    /// itself, which drops every digit of x below 2⁻²⁴ (it gives 1.19e-7 for log1p(1e-7)).
    /// </summary>
    private static void LogOnePlus(ReadOnlySpan<float> x, Span<float> y)
    {
        TensorPrimitives.Add(x, 1f, y);
        TensorPrimitives.Log(y, y);
        Broadcast.Ternary(new LogOnePlusCorrectionOperator(), x, y, x, y);
    }

    private static void SignOf(ReadOnlySpan<float> x, Span<float> y) => Broadcast.Ternary(new SignOperator(), x, x, x, y);

    /// <summary>y = f(x) over x's shape, in parts on the worker pool for large tensors.</summary>
    private static Tensor Unary(Tensor x, SpanFunction function)
    {
        var y = Tensor.Empty(x.Shape);
        float[] xs = x.Buffer, ys = y.Buffer;
        int xo = x.Offset, yo = y.Offset;
        ForEachPart(x.Length, (start, count) => function(xs.AsSpan(xo + start, count), ys.AsSpan(yo + start, count)));
        return y;
    }

    /// <summary>
    /// A unary op whose gradient is derivative(dy, x, y) elementwise, or derivative(dy, f(x), y)
    /// when <paramref name="derivativeOfInput"/> f is given (sin's cos x).
    /// </summary>
    private static Tensor UnaryWithGradient<TDerivative>(string op, Tensor x, SpanFunction function, TDerivative derivative, SpanFunction? derivativeOfInput = null)
        where TDerivative : struct, ITernaryOperator
    {
        var y = Unary(x, function);
        if (OnnxTrace.Current is { } trace) trace.Bind(y, ElementwiseOnnx(trace, op, trace.Value(x)));
        if (Tape.NeedsGrad(x))
            Tape.Record(op, y, dy => AccumulateSummed(x, Map(x.Shape, derivative, dy, derivativeOfInput == null ? x : Unary(x, derivativeOfInput), y), owned: true), x);
        return y;
    }

    /// <summary>The ONNX node(s) of the unary op named <paramref name="op"/> on the value <paramref name="x"/>; returns the result's name.</summary>
    private static string ElementwiseOnnx(OnnxTrace trace, string op, string x) => op switch
    {
        "Log1p" => trace.Node("Log", [trace.Node("Add", [x, trace.Scalar(1f)])]),
        "Rsqrt" => trace.Node("Reciprocal", [trace.Node("Sqrt", [x])]),
        "Square" => trace.Node("Mul", [x, x]),
        "Negate" => trace.Node("Neg", [x]),
        // Sqrt, Abs, Sign, Sin, Cos, Reciprocal: ONNX spells them alike.
        _ => trace.Node(op, [x]),
    };

    /// <summary>
    /// Given x and ln(u) for u = 1 + x, ln(u)·(x/(u − 1)); x itself where u = 1 (x is below half an
    /// ulp of 1, where ln(1 + x) rounds to x) or u = ∞ (where x/(u − 1) would be NaN).
    /// </summary>
    private readonly struct LogOnePlusCorrectionOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> x, Vector<float> logU, Vector<float> _)
        {
            var u = Vector<float>.One + x;
            var exact = Vector.Equals(u, Vector<float>.One) | Vector.Equals(u, new Vector<float>(float.PositiveInfinity));
            return Vector.ConditionalSelect(exact, x, logU * (x / (u - Vector<float>.One)));
        }

        public float Invoke(float x, float logU, float _)
        {
            float u = 1f + x;
            return u == 1f || float.IsPositiveInfinity(u) ? x : logU * (x / (u - 1f));
        }
    }

    /// <summary>−1, 0 or 1 by the sign of x; 0 for ±0, NaN for NaN.</summary>
    private readonly struct SignOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> x, Vector<float> _, Vector<float> __)
        {
            var sign = Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), Vector<float>.One,
                Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), -Vector<float>.One, Vector<float>.Zero));
            return Vector.ConditionalSelect(Vector.Equals(x, x), sign, x);
        }

        public float Invoke(float x, float _, float __) => float.IsNaN(x) ? x : x > 0f ? 1f : x < 0f ? -1f : 0f;
    }

    /// <summary>Log1p's gradient dy/(1 + x).</summary>
    private readonly struct LogOnePlusGradientOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> g, Vector<float> x, Vector<float> _) => g / (Vector<float>.One + x);
        public float Invoke(float g, float x, float _) => g / (1f + x);
    }

    /// <summary>Sqrt's gradient dy/(2y).</summary>
    private readonly struct SqrtGradientOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> g, Vector<float> _, Vector<float> y) => g / (new Vector<float>(2f) * y);
        public float Invoke(float g, float _, float y) => g / (2f * y);
    }

    /// <summary>Rsqrt's gradient −½·dy·y³, multiplied left to right.</summary>
    private readonly struct ReciprocalSqrtGradientOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> g, Vector<float> _, Vector<float> y) => new Vector<float>(-0.5f) * g * y * y * y;
        public float Invoke(float g, float _, float y) => -0.5f * g * y * y * y;
    }

    /// <summary>Abs's gradient sign(x)·dy, 0 at 0 and at NaN.</summary>
    private readonly struct AbsGradientOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> g, Vector<float> x, Vector<float> _) =>
            Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), g,
                Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), -g, Vector<float>.Zero));
        public float Invoke(float g, float x, float _) => x > 0f ? g : x < 0f ? -g : 0f;
    }

    /// <summary>The gradient of a piecewise-constant function (Sign): 0 everywhere.</summary>
    private readonly struct ZeroGradientOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> _, Vector<float> __, Vector<float> ___) => Vector<float>.Zero;
        public float Invoke(float _, float __, float ___) => 0f;
    }

    /// <summary>Square's gradient 2x·dy.</summary>
    private readonly struct SquareGradientOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> g, Vector<float> x, Vector<float> _) => new Vector<float>(2f) * x * g;
        public float Invoke(float g, float x, float _) => 2f * x * g;
    }

    /// <summary>dy·d, or −dy·d when <paramref name="negated"/>, for a precomputed derivative d (sin's cos x, cos's sin x).</summary>
    private readonly struct ProductGradientOperator(bool negated) : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> g, Vector<float> d, Vector<float> _) => (negated ? -g : g) * d;
        public float Invoke(float g, float d, float _) => (negated ? -g : g) * d;
    }

    /// <summary>Negate's gradient −dy.</summary>
    private readonly struct NegateGradientOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> g, Vector<float> _, Vector<float> __) => -g;
        public float Invoke(float g, float _, float __) => -g;
    }

    /// <summary>Reciprocal's gradient −dy·y·y.</summary>
    private readonly struct ReciprocalGradientOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> g, Vector<float> _, Vector<float> y) => -g * y * y;
        public float Invoke(float g, float _, float y) => -g * y * y;
    }
}
