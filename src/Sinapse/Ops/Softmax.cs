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
        OnnxTrace.Current?.Node("Softmax", y, x, OnnxTrace.Int("axis", dim));
        slices.Run(x, x, y, accumulate: false, static (xs, _, ys, _) =>
        {
            // TensorPrimitives.SoftMax does not shift by the maximum: exp(1000) would overflow to NaN.
            TensorPrimitives.Subtract(xs, TensorPrimitives.Max(xs), ys);
            TensorPrimitives.Exp(ys, ys);
            // One reciprocal and a multiply per element, as PyTorch's kernel does: a division per element is several times slower.
            TensorPrimitives.Multiply(ys, 1f / TensorPrimitives.Sum(ys), ys);
        }, static block =>
        {
            var max = block.Line(0);
            block.ColumnMax(max);
            var sum = block.Line(1);
            var shifted = block.Line(2);
            sum.Clear();
            for (int r = 0; r < block.Size; r++)
            {
                var row = block.Result(r);
                TensorPrimitives.Subtract(block.A(r), max, shifted);
                ColumnBlock.ExpOfShifted(shifted, row);
                TensorPrimitives.Add(sum, row, sum);
            }
            TensorPrimitives.Divide(1f, sum, sum);
            for (int r = 0; r < block.Size; r++) TensorPrimitives.Multiply(block.Result(r), sum, block.Result(r));
        });
        if (Tape.NeedsGrad(x))
            Tape.Record("Softmax", y, dy => slices.RunGradient(x, y, dy, static (ys, dys, dxs, _) =>
            {
                // dx = y ⊙ (dy − ⟨dy, y⟩) over the slice
                TensorPrimitives.Subtract(dys, TensorPrimitives.Dot(dys, ys), dxs);
                TensorPrimitives.Multiply(dxs, ys, dxs);
            }, static block =>
            {
                var dot = block.Line(0);
                dot.Clear();
                for (int r = 0; r < block.Size; r++) TensorPrimitives.MultiplyAdd(block.B(r), block.A(r), dot, dot);
                for (int r = 0; r < block.Size; r++)
                {
                    var dx = block.Output(r);
                    TensorPrimitives.Subtract(block.B(r), dot, dx);
                    TensorPrimitives.Multiply(dx, block.A(r), dx);
                    block.Store(r);
                }
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
        OnnxTrace.Current?.Node("LogSoftmax", y, x, OnnxTrace.Int("axis", dim));
        slices.Run(x, x, y, accumulate: false, static (xs, _, ys, scratch) =>
        {
            TensorPrimitives.Subtract(xs, TensorPrimitives.Max(xs), ys);
            TensorPrimitives.Exp(ys, scratch);
            // (x − max) − log Σ, in that order: x − (max + log Σ) rounds max + log Σ to float first, which for
            // large logits (10⁴) loses the small log Σ (ONNX's test_logsoftmax_large_number: 2.4e-4 off).
            TensorPrimitives.Subtract(ys, MathF.Log(TensorPrimitives.Sum(scratch)), ys);
        }, static block =>
        {
            var max = block.Line(0);
            block.ColumnMax(max);
            var sum = block.Line(1);
            var exp = block.Line(2);
            sum.Clear();
            for (int r = 0; r < block.Size; r++)
            {
                var row = block.Result(r);
                TensorPrimitives.Subtract(block.A(r), max, row);
                ColumnBlock.ExpOfShifted(row, exp);
                TensorPrimitives.Add(sum, exp, sum);
            }
            // One logarithm per slice, as along the last axis: MathF.Log, so both paths take the same log Σ.
            foreach (ref float total in sum) total = MathF.Log(total);
            for (int r = 0; r < block.Size; r++) TensorPrimitives.Subtract(block.Result(r), sum, block.Result(r));
        });
        if (Tape.NeedsGrad(x))
            Tape.Record("LogSoftmax", y, dy => slices.RunGradient(x, y, dy, static (ys, dys, dxs, _) =>
            {
                // dx = dy − softmax(x)·Σ dy, with softmax(x) = exp(y)
                TensorPrimitives.Exp(ys, dxs);
                TensorPrimitives.Multiply(dxs, -TensorPrimitives.Sum(dys), dxs);
                TensorPrimitives.Add(dxs, dys, dxs);
            }, static block =>
            {
                var negativeSum = block.Line(0);
                negativeSum.Clear();
                for (int r = 0; r < block.Size; r++) TensorPrimitives.Add(negativeSum, block.B(r), negativeSum);
                TensorPrimitives.Negate(negativeSum, negativeSum);
                for (int r = 0; r < block.Size; r++)
                {
                    var dx = block.Output(r);
                    ColumnBlock.ExpOfShifted(block.A(r), dx);
                    TensorPrimitives.Multiply(dx, negativeSum, dx);
                    TensorPrimitives.Add(dx, block.B(r), dx);
                    block.Store(r);
                }
            }), x);
        return y;
    }

    /// <summary>A function of one softmax slice: (a, b) → result, with a scratch line of the slice's length.</summary>
    private delegate void SliceKernel(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> result, Span<float> scratch);

    /// <summary>The same function over a block of neighbouring slices at once (softmax along an axis other than the last).</summary>
    private delegate void ColumnKernel(ColumnBlock block);

    /// <summary>
    /// Up to <see cref="Width"/> neighbouring slices of a softmax along a non-last axis: row r holds
    /// element r of every slice, contiguous, and rows lie a whole inner extent apart. Kernels run
    /// vector ops along rows (a max, sum or scale of all the slices at once) and loop over r.
    /// </summary>
    private readonly ref struct ColumnBlock
    {
        /// <summary>
        /// Slices per block: 2 KB rows make each TensorPrimitives call long enough to amortise its
        /// setup (64-float rows ran 4x slower, on call overhead), while an inner extent of a few
        /// thousand still splits into blocks for several threads.
        /// </summary>
        public const int Width = 512;

        readonly ReadOnlySpan<float> a, b;
        readonly Span<float> result, lines;
        readonly int stride, width;
        readonly bool accumulate;

        public ColumnBlock(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> result, int size, int stride, int width, bool accumulate, Span<float> lines)
        {
            this.a = a;
            this.b = b;
            this.result = result;
            this.lines = lines;
            (Size, this.stride, this.width, this.accumulate) = (size, stride, width, accumulate);
        }

        /// <summary>Rows: the length of the softmax axis.</summary>
        public int Size { get; }

        public ReadOnlySpan<float> A(int row) => a.Slice(row * stride, width);

        public ReadOnlySpan<float> B(int row) => b.Slice(row * stride, width);

        /// <summary>A row of the result, for a forward kernel (which never accumulates).</summary>
        public Span<float> Result(int row) => result.Slice(row * stride, width);

        /// <summary>Scratch line k (0 to 2), one element per slice.</summary>
        public Span<float> Line(int k) => lines.Slice(k * Width, width);

        /// <summary>Where a gradient kernel writes row r before <see cref="Store"/>: the result row itself, or a line added to it when accumulating.</summary>
        public Span<float> Output(int row) => accumulate ? lines.Slice(3 * Width, width) : Result(row);

        public void Store(int row)
        {
            if (!accumulate) return;
            var target = Result(row);
            TensorPrimitives.Add(target, Output(row), target);
        }

        /// <summary>
        /// exp of a shifted value (x − max, or a log-softmax), exactly 1 at 0: TensorPrimitives'
        /// vector Exp gives 1.0000001 there (its scalar tail gives 1), which would make a lone
        /// maximum's log-softmax −1.2e-7 instead of PyTorch's 0. The two spans must not overlap.
        /// </summary>
        public static void ExpOfShifted(ReadOnlySpan<float> shifted, Span<float> exp)
        {
            TensorPrimitives.Exp(shifted, exp);
            Broadcast.Ternary(new WhereOperator(), shifted, exp, [1f], exp);
        }

        /// <summary>max = the elementwise maximum of a's rows (NaN if any is NaN, as the maximum of a line).</summary>
        public void ColumnMax(Span<float> max)
        {
            A(0).CopyTo(max);
            for (int r = 1; r < Size; r++) TensorPrimitives.Max(max, A(r), max);
        }
    }

    /// <summary>
    /// The slices a softmax runs along: the tensor as [outer, size, inner], one slice per (outer,
    /// inner) pair. Along the last axis (inner = 1) a slice is a contiguous row and the line
    /// kernels run on it in place, split over the worker pool by outer row. Along another axis the
    /// column kernels run on blocks of <see cref="ColumnBlock.Width"/> neighbouring slices, split
    /// by block. Every slice is computed by the same operations whatever the split, so the result
    /// does not depend on the thread count.
    /// </summary>
    private sealed class SoftmaxSlices
    {
        const int ParallelThreshold = 1 << 14;

        [ThreadStatic] static float[]? lines;

        readonly int outer, size, inner;

        SoftmaxSlices(AxisLayout layout) => (outer, size, inner) = (layout.Outer, layout.Size, layout.Inner);

        public static SoftmaxSlices Of(Tensor x, int dim, string op)
        {
            int axis = NormalizedAxis(dim, x.Shape, op);
            // A scalar is one slice of one value, as in PyTorch (softmax 1, log-softmax 0).
            return new SoftmaxSlices(x.Rank == 0 ? new AxisLayout(1, 1, 1) : AxisLayout.Of(x.Shape, axis, axis + 1));
        }

        /// <summary>x's gradient from the kernels' (y, dy) → dx, accumulated when x already has one.</summary>
        public void RunGradient(Tensor x, Tensor y, Tensor dy, SliceKernel kernel, ColumnKernel columns)
        {
            Tape.GradientTarget(x, out float beta);
            Run(y, dy, x.Grad!, accumulate: beta != 0f, kernel, columns);
        }

        /// <summary>result = kernel(a, b) slice by slice (result += when <paramref name="accumulate"/>).</summary>
        public void Run(Tensor a, Tensor b, Tensor result, bool accumulate, SliceKernel kernel, ColumnKernel columns)
        {
            if (outer * size * inner == 0) return;
            // Along the last axis a task is an outer row; along another, a block of neighbouring slices of one outer row.
            int blocks = inner == 1 ? 1 : (inner + ColumnBlock.Width - 1) / ColumnBlock.Width, tasks = outer * blocks;
            int parts = (long)outer * size * inner >= ParallelThreshold && tasks > 1 ? Math.Min(Workers.Available, tasks) : 1;
            if (parts == 1) RunTasks(0, tasks, blocks, a, b, result, accumulate, kernel, columns);
            else Workers.For(parts, part =>
            {
                var (start, end) = Reductions.Part(tasks, part, parts);
                RunTasks(start, end, blocks, a, b, result, accumulate, kernel, columns);
            });
        }

        void RunTasks(int start, int end, int blocks, Tensor a, Tensor b, Tensor result, bool accumulate, SliceKernel kernel, ColumnKernel columns)
        {
            int length = inner == 1 ? 2 * size : 4 * ColumnBlock.Width;
            if (lines == null || lines.Length < length) lines = new float[length];
            Span<float> aValues = a.Span, bValues = b.Span, results = result.Span;
            for (int task = start; task < end; task++)
            {
                if (inner == 1)
                {
                    var target = results.Slice(task * size, size);
                    var output = lines.AsSpan(size, size);
                    kernel(aValues.Slice(task * size, size), bValues.Slice(task * size, size), accumulate ? output : target, lines.AsSpan(0, size));
                    if (accumulate) TensorPrimitives.Add(target, output, target);
                    continue;
                }
                int row = task / blocks, column = task % blocks * ColumnBlock.Width, width = Math.Min(ColumnBlock.Width, inner - column);
                int first = row * size * inner + column, extent = (size - 1) * inner + width;
                columns(new ColumnBlock(aValues.Slice(first, extent), bValues.Slice(first, extent), results.Slice(first, extent), size, inner, width, accumulate, lines));
            }
        }
    }
}
