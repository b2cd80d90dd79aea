using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>Softmax over the last axis.</summary>
    public static Tensor Softmax(Tensor x) => Softmax(x, -1);

    /// <summary>
    /// Softmax over axis <paramref name="dim"/>, shifted by each slice's maximum so no exponent
    /// overflows.
    /// </summary>
    public static Tensor Softmax(Tensor x, int dim)
    {
        var y = Tensor.Empty(x.Shape);
        var slices = SoftmaxSlices.Of(x, dim, "Softmax");
        slices.Run(x, x, y, accumulate: false, static (xs, _, ys, _) =>
        {
            // TensorPrimitives.SoftMax does not shift by the maximum: exp(1000) would overflow to NaN.
            TensorPrimitives.Subtract(xs, TensorPrimitives.Max(xs), ys);
            TensorPrimitives.Exp(ys, ys);
            // One reciprocal and a multiply per element, as PyTorch's kernel does: a division per element is several times slower.
            TensorPrimitives.Multiply(ys, 1f / TensorPrimitives.Sum(ys), ys);
        });
        if (Tape.NeedsGrad(x))
            Tape.Record("Softmax", y, dy => slices.RunGradient(x, y, dy, static (ys, dys, dxs, _) =>
            {
                // dx = y ⊙ (dy − ⟨dy, y⟩) over the slice
                TensorPrimitives.Subtract(dys, TensorPrimitives.Dot(dys, ys), dxs);
                TensorPrimitives.Multiply(dxs, ys, dxs);
            }), x);
        return y;
    }

    /// <summary>Log-softmax over the last axis.</summary>
    public static Tensor LogSoftmax(Tensor x) => LogSoftmax(x, -1);

    /// <summary>log(softmax(x)) over axis <paramref name="dim"/>, computed as x − max − log Σ exp(x − max).</summary>
    public static Tensor LogSoftmax(Tensor x, int dim)
    {
        var y = Tensor.Empty(x.Shape);
        var slices = SoftmaxSlices.Of(x, dim, "LogSoftmax");
        slices.Run(x, x, y, accumulate: false, static (xs, _, ys, scratch) =>
        {
            TensorPrimitives.Subtract(xs, TensorPrimitives.Max(xs), ys);
            TensorPrimitives.Exp(ys, scratch);
            // (x − max) − log Σ, in that order: x − (max + log Σ) rounds max + log Σ to float first, which for
            // large logits (10⁴) loses the small log Σ (ONNX's test_logsoftmax_large_number: 2.4e-4 off).
            TensorPrimitives.Subtract(ys, MathF.Log(TensorPrimitives.Sum(scratch)), ys);
        });
        if (Tape.NeedsGrad(x))
            Tape.Record("LogSoftmax", y, dy => slices.RunGradient(x, y, dy, static (ys, dys, dxs, _) =>
            {
                // dx = dy − softmax(x)·Σ dy, with softmax(x) = exp(y)
                TensorPrimitives.Exp(ys, dxs);
                TensorPrimitives.Multiply(dxs, -TensorPrimitives.Sum(dys), dxs);
                TensorPrimitives.Add(dxs, dys, dxs);
            }), x);
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

    /// <summary>A function of one softmax slice: (a, b) → result, with a scratch line of the slice's length.</summary>
    private delegate void SliceKernel(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> result, Span<float> scratch);

    /// <summary>
    /// The slices a softmax runs along: the tensor as [outer, size, inner], one slice per (outer,
    /// inner) pair. Along the last axis (inner = 1) a slice is a contiguous row and the kernels
    /// run on it in place; along another axis its elements lie inner apart, so each slice is
    /// gathered into a contiguous line, computed there, and scattered back. Slices are split over
    /// the worker pool by outer row, so the result does not depend on the thread count.
    /// </summary>
    private sealed class SoftmaxSlices
    {
        const int ParallelThreshold = 1 << 14;

        [ThreadStatic] static float[]? lines;

        readonly int outer, size, inner;

        SoftmaxSlices(AxisLayout layout) => (outer, size, inner) = (layout.Outer, layout.Size, layout.Inner);

        public static SoftmaxSlices Of(Tensor x, int dim, string op)
        {
            if (x.Rank == 0) throw new ArgumentException($"{op} needs at least one axis, got a scalar.");
            int axis = NormalizedAxis(dim, x.Shape, op);
            return new SoftmaxSlices(AxisLayout.Of(x.Shape, axis, axis + 1));
        }

        /// <summary>x's gradient from the kernel's (y, dy) → dx, accumulated when x already has one.</summary>
        public void RunGradient(Tensor x, Tensor y, Tensor dy, SliceKernel kernel)
        {
            Tape.GradientTarget(x, out float beta);
            Run(y, dy, x.Grad!, accumulate: beta != 0f, kernel);
        }

        /// <summary>result = kernel(a, b) slice by slice (result += when <paramref name="accumulate"/>).</summary>
        public void Run(Tensor a, Tensor b, Tensor result, bool accumulate, SliceKernel kernel)
        {
            if (outer * size * inner == 0) return;
            int parts = (long)outer * size * inner >= ParallelThreshold && outer > 1 ? Workers.Available : 1;
            if (parts == 1) RunRows(0, outer, a, b, result, accumulate, kernel);
            else Workers.For(parts, part =>
            {
                var (start, end) = Reductions.Part(outer, part, parts);
                RunRows(start, end, a, b, result, accumulate, kernel);
            });
        }

        void RunRows(int start, int end, Tensor a, Tensor b, Tensor result, bool accumulate, SliceKernel kernel)
        {
            if (lines == null || lines.Length < 4 * size) lines = new float[4 * size];
            var scratch = lines.AsSpan(0, size);
            var output = lines.AsSpan(size, size);
            var aLine = lines.AsSpan(2 * size, size);
            var bLine = lines.AsSpan(3 * size, size);
            Span<float> aValues = a.Span, bValues = b.Span, results = result.Span;
            for (int row = start; row < end; row++)
            {
                if (inner == 1)
                {
                    var target = results.Slice(row * size, size);
                    kernel(aValues.Slice(row * size, size), bValues.Slice(row * size, size), accumulate ? output : target, scratch);
                    if (accumulate) TensorPrimitives.Add(target, output, target);
                    continue;
                }
                for (int column = 0; column < inner; column++)
                {
                    int first = row * size * inner + column;
                    for (int r = 0; r < size; r++)
                    {
                        aLine[r] = aValues[first + r * inner];
                        bLine[r] = bValues[first + r * inner];
                    }
                    kernel(aLine, bLine, output, scratch);
                    for (int r = 0; r < size; r++)
                        results[first + r * inner] = accumulate ? results[first + r * inner] + output[r] : output[r];
                }
            }
        }
    }
}
