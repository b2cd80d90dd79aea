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
        return Weighted("Linear", input, weight, bias, new Shape(outputShape),
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
    }
}
