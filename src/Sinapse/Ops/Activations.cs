using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    // SELU's constants from Klambauer et al. (2017), as in PyTorch.
    public const float SeluAlpha = 1.6732632423543772848170429916717f;
    public const float SeluScale = 1.0507009873554804934193349852946f;

    public static Tensor Identity(Tensor x) => x;

    public static Tensor Relu(Tensor x) => Unary("Relu", x,
        (x, y) => TensorPrimitives.Max(x, 0f, y),
        (x, y, dy, dx) => Elementwise.ScaleBySign(x, dy, 1f, 0f, dx),
        static (trace, x, y) => trace.Node("Relu", y, x));

    public static Tensor LeakyRelu(Tensor x, float negativeSlope = 0.01f) => Unary("LeakyRelu", x,
        (x, y) => Elementwise.ScaleBySign(x, x, 1f, negativeSlope, y),
        (x, y, dy, dx) => Elementwise.ScaleBySign(x, dy, 1f, negativeSlope, dx),
        (trace, x, y) => trace.Node("LeakyRelu", y, x, OnnxTrace.Float("alpha", negativeSlope)));

    public static Tensor Sigmoid(Tensor x) => Unary("Sigmoid", x,
        (x, y) => TensorPrimitives.Sigmoid(x, y),
        (x, y, dy, dx) =>
        {
            // σ' = σ(1 − σ)
            TensorPrimitives.Subtract(1f, y, dx);
            TensorPrimitives.Multiply(dx, y, dx);
            TensorPrimitives.Multiply(dx, dy, dx);
        },
        static (trace, x, y) => trace.Node("Sigmoid", y, x));

    public static Tensor Tanh(Tensor x) => Unary("Tanh", x,
        (x, y) => TensorPrimitives.Tanh(x, y),
        (x, y, dy, dx) =>
        {
            // tanh' = 1 − tanh²
            TensorPrimitives.Multiply(y, y, dx);
            TensorPrimitives.Subtract(1f, dx, dx);
            TensorPrimitives.Multiply(dx, dy, dx);
        },
        static (trace, x, y) => trace.Node("Tanh", y, x));

    /// <summary>ELU: x for x > 0, α(eˣ − 1) otherwise; its slope there is y + α.</summary>
    public static Tensor Elu(Tensor x, float alpha = 1f) => ExponentialUnit("Elu", x, alpha, 1f);

    /// <summary>SELU: a scaled ELU whose fixed point keeps activations normalised (with LeCun initialisation).</summary>
    public static Tensor Selu(Tensor x) => ExponentialUnit("Selu", x, SeluAlpha, SeluScale);

    private static Tensor ExponentialUnit(string op, Tensor x, float alpha, float scale) => Unary(op, x,
        (x, y) =>
        {
            for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? scale * x[i] : scale * alpha * (MathF.Exp(x[i]) - 1f);
        },
        (x, y, dy, dx) =>
        {
            for (int i = 0; i < x.Length; i++) dx[i] = x[i] > 0 ? scale * dy[i] : dy[i] * (y[i] + scale * alpha);
        },
        (trace, x, y) => trace.Node(op, y, x, op == "Selu" ? [OnnxTrace.Float("alpha", alpha), OnnxTrace.Float("gamma", scale)] : [OnnxTrace.Float("alpha", alpha)]));

    /// <summary>GELU, the exact form x·Φ(x) (PyTorch's default approximate='none').</summary>
    public static Tensor Gelu(Tensor x) => Gelu(x, "none");

    /// <summary>
    /// GELU as PyTorch's gelu(x, approximate): "none" is the exact x·Φ(x), "tanh" the
    /// approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³))) of Hendrycks and Gimpel (2016).
    /// </summary>
    public static Tensor Gelu(Tensor x, string approximate) => CheckGeluApproximation(approximate) switch
    {
        "none" => Unary("Gelu", x,
            (x, y) =>
            {
                for (int i = 0; i < x.Length; i++) y[i] = (float)(x[i] * NormalCdf(x[i]));
            },
            (x, y, dy, dx) =>
            {
                // d/dx x·Φ(x) = Φ(x) + x·φ(x)
                for (int i = 0; i < x.Length; i++)
                {
                    double v = x[i];
                    dx[i] = (float)(dy[i] * (NormalCdf(v) + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI)));
                }
            },
            static (trace, x, y) => GeluOnnx(trace, x, y, exact: true)),
        _ => Unary("GeluTanh", x, Elementwise.GeluTanh, (x, _, dy, dx) => Elementwise.GeluTanhBackward(x, dy, dx),
            static (trace, x, y) => GeluOnnx(trace, x, y, exact: false)),
    };

    /// <summary>
    /// GELU in opset 17, which has no Gelu operator: ½x(1 + erf(x/√2)), or for the tanh form
    /// ½x(1 + tanh(√(2/π)(x + 0.044715x³))), as torch.onnx writes them.
    /// </summary>
    private static void GeluOnnx(OnnxTrace trace, Tensor x, Tensor y, bool exact)
    {
        var input = trace.Value(x);
        string inner;
        if (exact) inner = trace.Node("Erf", [trace.Node("Mul", [input, trace.Scalar(1f / MathF.Sqrt(2f))])]);
        else
        {
            var cube = trace.Node("Mul", [trace.Node("Mul", [input, input]), input]);
            var sum = trace.Node("Add", [input, trace.Node("Mul", [cube, trace.Scalar(0.044715f)])]);
            inner = trace.Node("Tanh", [trace.Node("Mul", [sum, trace.Scalar(MathF.Sqrt(2f / MathF.PI))])]);
        }
        var half = trace.Node("Mul", [input, trace.Scalar(0.5f)]);
        trace.Bind(y, trace.Node("Mul", [half, trace.Node("Add", [inner, trace.Scalar(1f)])]));
    }

    /// <summary><paramref name="approximate"/> itself when it names a GELU form, "none" or "tanh"; else a one-line error.</summary>
    internal static string CheckGeluApproximation(string approximate) => approximate is "none" or "tanh" ? approximate
        : throw new ArgumentException($"Gelu: approximate must be 'none' or 'tanh', got '{approximate}'.", nameof(approximate));

    /// <summary>Hard sigmoid as in PyTorch and MobileNetV3: ReLU6(x + 3) / 6.</summary>
    public static Tensor HardSigmoid(Tensor x) => Unary("HardSigmoid", x,
        (x, y) => Elementwise.HardSigmoid(x, y),
        (x, y, dy, dx) => Elementwise.HardSigmoidBackward(x, dy, dx),
        static (trace, x, y) => trace.Node("HardSigmoid", y, x, OnnxTrace.Float("alpha", 1f / 6f), OnnxTrace.Float("beta", 0.5f)));

    /// <summary>Hard swish as in MobileNetV3: x·ReLU6(x + 3) / 6; its slope is PyTorch's: 0 below −3, x/3 + 1/2 from −3 to 3 inclusive, 1 above.</summary>
    public static Tensor HardSwish(Tensor x) => Unary("HardSwish", x,
        (x, y) => Elementwise.HardSwish(x, y),
        (x, y, dy, dx) => Elementwise.HardSwishBackward(x, dy, dx),
        static (trace, x, y) => trace.Node("HardSwish", y, x));

    /// <summary>ReLU6 = min(max(x, 0), 6), MobileNetV2's activation.</summary>
    public static Tensor Relu6(Tensor x) => Unary("Relu6", x,
        (x, y) => TensorPrimitives.Clamp(x, 0f, 6f, y),
        (x, y, dy, dx) =>
        {
            for (int i = 0; i < x.Length; i++) dx[i] = x[i] > 0f && x[i] < 6f ? dy[i] : 0f;
        },
        static (trace, x, y) => trace.Bind(y, trace.Node("Clip", [trace.Value(x), trace.Scalar(0f), trace.Scalar(6f)])));

    private static double NormalCdf(double x) => 0.5 * (1.0 + Erf(x / Math.Sqrt(2.0)));

    // Abramowitz and Stegun 7.1.26 is too coarse for a gradient check; this is W. J. Cody's
    // rational approximation via erfc's continued fraction form (Numerical Recipes' erfc),
    // accurate to about 1.2e-7 everywhere. That is an absolute error, which near 0 is large
    // against erf itself: there the Maclaurin series, 2/√π·Σ (−1)ⁿx²ⁿ⁺¹/(n!(2n+1)), is exact to
    // double rounding within 20 terms.
    private static double Erf(double x)
    {
        double z = Math.Abs(x);
        if (z < 0.5)
        {
            double sum = 0, term = x;
            for (int n = 0; n < 20; n++)
            {
                sum += term / (2 * n + 1);
                term *= -x * x / (n + 1);
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        double t = 1.0 / (1.0 + 0.5 * z);
        double erfc = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - erfc : erfc - 1.0;
    }

    internal delegate void UnaryForward(ReadOnlySpan<float> x, Span<float> y);

    internal delegate void UnaryBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx);

    /// <summary>Writes an op's ONNX node(s) computing <paramref name="y"/> from <paramref name="x"/>.</summary>
    internal delegate void OnnxForm(OnnxTrace trace, Tensor x, Tensor y);

    /// <summary>An elementwise op: y = f(x), and dx += f'(x)·dy written by <paramref name="backward"/>; <paramref name="onnx"/> is its ONNX form (null: it has none).</summary>
    internal static Tensor Unary(string op, Tensor x, UnaryForward forward, UnaryBackward backward, OnnxForm? onnx = null)
    {
        var y = Tensor.Empty(x.Shape);
        forward(x.Span, y.Span);
        if (OnnxTrace.Current is { } trace) onnx?.Invoke(trace, x, y);
        if (Tape.NeedsGrad(x))
            Tape.Record(op, y, dy =>
            {
                var dx = Tape.GradientTarget(x, out float beta);
                if (beta == 0f)
                {
                    backward(x.Span, y.Span, dy.Span, dx);
                    return;
                }
                var local = Tensor.Empty(x.Shape);
                backward(x.Span, y.Span, dy.Span, local.Span);
                TensorPrimitives.Add(dx, local.Span, dx);
            }, x);
        return y;
    }
}
