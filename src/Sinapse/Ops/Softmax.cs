using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>Softmax over the last axis, shifted by each row's maximum so no exponent overflows.</summary>
    public static Tensor Softmax(Tensor x)
    {
        var (rows, classes) = RowsOf(x, "Softmax");
        var y = Tensor.Empty(x.Shape);
        for (int r = 0; r < rows; r++)
        {
            // TensorPrimitives.SoftMax does not shift by the maximum: exp(1000) would overflow to NaN.
            var xr = x.Span.Slice(r * classes, classes);
            var yr = y.Span.Slice(r * classes, classes);
            TensorPrimitives.Subtract(xr, TensorPrimitives.Max(xr), yr);
            TensorPrimitives.Exp(yr, yr);
            TensorPrimitives.Divide(yr, TensorPrimitives.Sum(yr), yr);
        }
        if (Tape.NeedsGrad(x))
            Tape.Record("Softmax", y, gradOutput =>
            {
                // dx = y ⊙ (dy − ⟨dy, y⟩) per row
                var dx = Tape.GradientTarget(x, out float beta);
                for (int r = 0; r < rows; r++)
                {
                    var yr = y.Span.Slice(r * classes, classes);
                    var dyr = gradOutput.Span.Slice(r * classes, classes);
                    var dxr = dx.Slice(r * classes, classes);
                    float dot = TensorPrimitives.Dot(dyr, yr);
                    // beta = 0: dx may hold a stale or pooled buffer (NaN included), so it is not read (0·NaN is NaN).
                    for (int c = 0; c < classes; c++) dxr[c] = (beta == 0f ? 0f : dxr[c]) + yr[c] * (dyr[c] - dot);
                }
            }, x);
        return y;
    }

    /// <summary>log(softmax(x)) over the last axis, computed as x − max − log Σ exp(x − max).</summary>
    public static Tensor LogSoftmax(Tensor x)
    {
        var (rows, classes) = RowsOf(x, "LogSoftmax");
        var y = Tensor.Empty(x.Shape);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Span.Slice(r * classes, classes);
            var yr = y.Span.Slice(r * classes, classes);
            float max = TensorPrimitives.Max(xr);
            double sum = 0;
            foreach (var v in xr) sum += Math.Exp(v - max);
            // (x − max) − log Σ, in that order: x − (max + log Σ) rounds max + log Σ to float first, which for
            // large logits (10⁴) loses the small log Σ (ONNX's test_logsoftmax_large_number: 2.4e-4 off).
            TensorPrimitives.Subtract(xr, max, yr);
            TensorPrimitives.Subtract(yr, (float)Math.Log(sum), yr);
        }
        if (Tape.NeedsGrad(x))
            Tape.Record("LogSoftmax", y, gradOutput =>
            {
                // dx = dy − softmax(x)·Σ dy per row, with softmax(x) = exp(y)
                var dx = Tape.GradientTarget(x, out float beta);
                for (int r = 0; r < rows; r++)
                {
                    var yr = y.Span.Slice(r * classes, classes);
                    var dyr = gradOutput.Span.Slice(r * classes, classes);
                    var dxr = dx.Slice(r * classes, classes);
                    float total = TensorPrimitives.Sum(dyr);
                    for (int c = 0; c < classes; c++) dxr[c] = (beta == 0f ? 0f : dxr[c]) + dyr[c] - MathF.Exp(yr[c]) * total;
                }
            }, x);
        return y;
    }

    /// <summary>log Σ exp(x), stable for any magnitude.</summary>
    internal static float LogSumExp(ReadOnlySpan<float> x)
    {
        float max = TensorPrimitives.Max(x);
        if (float.IsNegativeInfinity(max)) return max;
        double sum = 0;
        foreach (var v in x) sum += Math.Exp(v - max);
        return max + (float)Math.Log(sum);
    }

    private static (int Rows, int Classes) RowsOf(Tensor x, string op)
    {
        if (x.Rank == 0 || x.Shape[^1] == 0) throw new ArgumentException($"{op} needs at least one value on its last axis, got shape {x.Shape}.");
        return (x.Length / x.Shape[^1], x.Shape[^1]);
    }
}
