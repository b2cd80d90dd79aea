using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// y = x·Wᵀ + b over the last axis of x, with W of shape [out, in] as in PyTorch. The
    /// products run on the GEMM with transpose flags, so Wᵀ is never materialised.
    /// </summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2) throw new ArgumentException($"Linear: the weight must be [out, in], got {weight.Shape}.");
        int outFeatures = weight.Shape[0], inFeatures = weight.Shape[1];
        if (input.Rank == 0 || input.Shape[^1] != inFeatures)
            throw new ArgumentException($"Linear: the input {input.Shape} must end with {inFeatures} features to multiply the weight {weight.Shape}.");
        if (bias != null && (bias.Rank != 1 || bias.Length != outFeatures))
            throw new ArgumentException($"Linear: the bias must be [{outFeatures}], got {bias.Shape}.");

        int rows = input.Length / Math.Max(inFeatures, 1);
        var outputShape = input.Shape.ToArray();
        outputShape[^1] = outFeatures;
        var output = Weighted("Linear", input, weight, bias, new Shape(outputShape),
            (x, w, b, y) =>
            {
                float beta = 0f;
                if (!b.IsEmpty)
                {
                    for (int r = 0; r < rows; r++) b.CopyTo(y.Slice(r * outFeatures, outFeatures));
                    beta = 1f;
                }
                Gemm.Multiply(false, true, rows, outFeatures, inFeatures, 1f, x, inFeatures, w, inFeatures, beta, y, outFeatures);
            },
            (x, w, dy, dx, betaX, dw, betaW, db, betaB) =>
            {
                if (!dx.IsEmpty) Gemm.Multiply(false, false, rows, inFeatures, outFeatures, 1f, dy, outFeatures, w, inFeatures, betaX, dx, inFeatures);
                if (!dw.IsEmpty) Gemm.Multiply(true, false, outFeatures, inFeatures, rows, 1f, dy, outFeatures, x, inFeatures, betaW, dw, inFeatures);
                if (!db.IsEmpty) Reductions.SumRows(dy, rows, outFeatures, db, betaB);
            });
        if (OnnxTrace.Current is { } trace) LinearOnnx(trace, input, weight, bias, output);
        return output;
    }

    /// <summary>
    /// Gemm with B transposed for a batch of vectors; for more axes MatMul, which broadcasts over
    /// the leading ones, by Wᵀ stored as its own initializer, then the bias added.
    /// </summary>
    private static void LinearOnnx(OnnxTrace trace, Tensor input, Tensor weight, Tensor? bias, Tensor output)
    {
        if (input.Rank == 2)
        {
            trace.Node("Gemm", output, [input, weight, bias], OnnxTrace.Int("transB", 1));
            return;
        }
        int outFeatures = weight.Shape[0], inFeatures = weight.Shape[1];
        var transposed = new float[weight.Length];
        var w = weight.Span;
        for (int o = 0; o < outFeatures; o++)
            for (int i = 0; i < inFeatures; i++) transposed[i * outFeatures + o] = w[o * inFeatures + i];
        var product = trace.Node("MatMul", [trace.Value(input), trace.Derived(weight, "_transposed", [inFeatures, outFeatures], transposed)]);
        trace.Bind(output, bias == null ? product : trace.Node("Add", [product, trace.Value(bias)]));
    }
}
