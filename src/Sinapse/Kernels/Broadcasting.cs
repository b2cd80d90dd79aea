using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Sinapse.Tensors;

namespace Sinapse.Kernels;

/// <summary>
/// The loop structure of an elementwise op whose operands broadcast to one output shape, as
/// PyTorch's TensorIterator builds it: each operand gets a stride per output axis (0 where it is
/// broadcast), axes of size 1 are dropped, and neighbouring axes that every operand walks
/// contiguously are merged. What is left is a few outer axes around one inner run, along which
/// each operand either advances by one element or stays on one value. Kernels then only write
/// that inner loop, over spans (see <see cref="IBinaryOperator"/>).
/// </summary>
internal sealed class BroadcastLoop
{
    /// <summary>Below this many output elements an op runs on the calling thread: memory-bound
    /// work this small finishes before the workers would wake.</summary>
    const int ParallelThreshold = 1 << 15;

    /// <summary>The outer axes' sizes, innermost first, and each operand's stride along them (outerStrides[i·operands + k]).</summary>
    readonly int[] outerSizes, outerStrides;

    /// <summary>Elements in the output.</summary>
    public int Length { get; }

    /// <summary>The length of the inner run.</summary>
    public int Inner { get; }

    /// <summary>Per operand: whether it advances along the inner run (else it repeats one value there).</summary>
    public bool[] InnerContiguous { get; }

    public BroadcastLoop(Shape output, params Shape[] operands)
    {
        Length = output.Size;
        int rank = output.Rank, count = operands.Length;
        // Each operand's stride along each output axis, aligned at the last axis as NumPy does (0
        // where it is broadcast), and the axes kept innermost first: an axis of size 1 is dropped,
        // and one that every operand steps over contiguously merges into the axis inside it.
        // sizes[i] and strides[i·count + k] describe kept axis i for operand k; one array each, as
        // every op builds a loop.
        var sizes = new int[rank];
        var strides = new int[rank * count];
        var along = new int[count];
        var innerStride = new int[count];
        Array.Fill(innerStride, 1);
        int kept = 0;
        for (int axis = rank - 1; axis >= 0; axis--)
        {
            int size = output[axis];
            for (int k = 0; k < count; k++)
            {
                var shape = operands[k];
                int own = axis - (rank - shape.Rank);
                int operandSize = own >= 0 ? shape[own] : 1;
                along[k] = operandSize == 1 ? 0 : innerStride[k];
                innerStride[k] *= operandSize;
            }
            if (size == 1) continue;
            if (kept > 0 && Continues(along, strides.AsSpan((kept - 1) * count, count), sizes[kept - 1]))
            {
                sizes[kept - 1] *= size;
                continue;
            }
            sizes[kept] = size;
            along.CopyTo(strides, kept * count);
            kept++;
        }
        Inner = kept == 0 ? 1 : sizes[0];
        InnerContiguous = new bool[count];
        for (int k = 0; k < count; k++) InnerContiguous[k] = kept > 0 && strides[k] != 0;
        outerSizes = kept > 1 ? sizes[1..kept] : [];
        outerStrides = kept > 1 ? strides[count..(kept * count)] : [];
    }

    static bool Continues(ReadOnlySpan<int> outer, ReadOnlySpan<int> inner, int innerSize)
    {
        for (int k = 0; k < outer.Length; k++)
            if (outer[k] != inner[k] * innerSize) return false;
        return true;
    }

    /// <summary>
    /// Calls <paramref name="segment"/>(outputStart, count, operandOffsets) for consecutive runs
    /// covering output elements [start, end); the offsets are where each operand's run starts. An
    /// operand that does not advance along the run reads its one value at its offset.
    /// </summary>
    public void ForEachRun(int start, int end, int[] offsets, Action<int, int, int[]> segment)
    {
        if (start >= end) return;
        int row = start / Inner, column = start % Inner;
        // Mixed-radix position of the row over the outer axes (innermost first), and each operand's offset.
        Span<int> position = stackalloc int[outerSizes.Length];
        for (int k = 0; k < offsets.Length; k++) offsets[k] = 0;
        for (int i = 0, rest = row; i < outerSizes.Length; i++)
        {
            position[i] = rest % outerSizes[i];
            rest /= outerSizes[i];
            for (int k = 0; k < offsets.Length; k++) offsets[k] += position[i] * outerStrides[i * offsets.Length + k];
        }
        while (start < end)
        {
            int count = Math.Min(Inner - column, end - start);
            for (int k = 0; k < offsets.Length; k++) if (InnerContiguous[k]) offsets[k] += column;
            segment(start, count, offsets);
            for (int k = 0; k < offsets.Length; k++) if (InnerContiguous[k]) offsets[k] -= column;
            start += count;
            column = 0;
            for (int i = 0; i < outerSizes.Length; i++)
            {
                for (int k = 0; k < offsets.Length; k++) offsets[k] += outerStrides[i * offsets.Length + k];
                if (++position[i] < outerSizes[i]) break;
                for (int k = 0; k < offsets.Length; k++) offsets[k] -= outerStrides[i * offsets.Length + k] * outerSizes[i];
                position[i] = 0;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="segment"/> over every output element, split into equal parts over the
    /// worker pool when the output is large. Parts never share an output element, so the result
    /// is the same for any thread count.
    /// </summary>
    public void Run(int operandCount, Action<int, int, int[]> segment)
    {
        int parts = Length >= ParallelThreshold ? Workers.Available : 1;
        if (parts == 1)
        {
            ForEachRun(0, Length, new int[operandCount], segment);
            return;
        }
        var job = ParallelJob.ForThisThread<Job>();
        (job.Loop, job.OperandCount, job.Segment) = (this, operandCount, segment);
        try
        {
            job.Run(parts);
        }
        finally
        {
            job.Loop = null;
            job.Segment = null;
        }
    }

    /// <summary>A parallel <see cref="Run"/>: each task walks its own cache-line-aligned range of outputs.</summary>
    sealed class Job : ParallelJob
    {
        public BroadcastLoop? Loop;
        public int OperandCount;
        public Action<int, int, int[]>? Segment;

        protected override void RunTask(int task)
        {
            // Part boundaries on 64-byte lines, so no two threads write one cache line.
            int length = Loop!.Length, share = (length / Tasks + 15) & ~15;
            Loop.ForEachRun(Math.Min(task * share, length), Math.Min((task + 1) * share, length), new int[OperandCount], Segment!);
        }
    }
}

/// <summary>
/// A binary elementwise function over the three shapes an inner run can take: both operands
/// advancing, or one of them repeating a single value. TensorPrimitives supplies each form.
/// </summary>
internal interface IBinaryOperator
{
    static abstract void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> result);
    static abstract void Apply(ReadOnlySpan<float> x, float y, Span<float> result);
    static abstract void Apply(float x, ReadOnlySpan<float> y, Span<float> result);
}

/// <summary>
/// An elementwise function of three operands that TensorPrimitives has no function for (a
/// comparison, a selection, a derivative), in a vector and a scalar form that apply the same
/// operations in the same order, so every element rounds alike wherever it falls. Fields carry
/// constants (a clamp's bounds).
/// </summary>
internal interface ITernaryOperator
{
    Vector<float> Invoke(Vector<float> p, Vector<float> q, Vector<float> r);
    float Invoke(float p, float q, float r);
}

/// <summary>Binary and ternary elementwise kernels with broadcasting.</summary>
internal static class Broadcast
{
    /// <summary>result = op(x, y) elementwise over <paramref name="loop"/>, which was built for (x, y).</summary>
    public static void Binary<TOperator>(BroadcastLoop loop, float[] x, int xOffset, float[] y, int yOffset, float[] result, int resultOffset)
        where TOperator : IBinaryOperator
    {
        bool xRuns = loop.InnerContiguous[0], yRuns = loop.InnerContiguous[1];
        loop.Run(2, (start, count, offsets) =>
        {
            var target = result.AsSpan(resultOffset + start, count);
            int xAt = xOffset + offsets[0], yAt = yOffset + offsets[1];
            if (xRuns && yRuns) TOperator.Apply(x.AsSpan(xAt, count), y.AsSpan(yAt, count), target);
            else if (xRuns) TOperator.Apply(x.AsSpan(xAt, count), y[yAt], target);
            else if (yRuns) TOperator.Apply(x[xAt], y.AsSpan(yAt, count), target);
            else target.Fill(BothRepeat<TOperator>(x[xAt], y[yAt]));
        });
    }

    static float BothRepeat<TOperator>(float x, float y) where TOperator : IBinaryOperator
    {
        Span<float> one = [0f];
        TOperator.Apply(x, [y], one);
        return one[0];
    }

    /// <summary>result = op(p, q, r) elementwise over <paramref name="loop"/>, which was built for (p, q, r).</summary>
    public static void Ternary<TOperator>(TOperator op, BroadcastLoop loop, float[] p, int pOffset, float[] q, int qOffset, float[] r, int rOffset, float[] result, int resultOffset)
        where TOperator : struct, ITernaryOperator
    {
        bool pRuns = loop.InnerContiguous[0], qRuns = loop.InnerContiguous[1], rRuns = loop.InnerContiguous[2];
        loop.Run(3, (start, count, offsets) => Ternary(op,
            p.AsSpan(pOffset + offsets[0], pRuns ? count : 1), q.AsSpan(qOffset + offsets[1], qRuns ? count : 1),
            r.AsSpan(rOffset + offsets[2], rRuns ? count : 1), result.AsSpan(resultOffset + start, count)));
    }

    /// <summary>
    /// result[i] = op(p[i], q[i], r[i]) over result's length, whole vectors first, then the scalar
    /// tail; an operand of length 1 (when result is longer) repeats its one value.
    /// </summary>
    public static void Ternary<TOperator>(TOperator op, ReadOnlySpan<float> p, ReadOnlySpan<float> q, ReadOnlySpan<float> r, Span<float> result)
        where TOperator : struct, ITernaryOperator
    {
        int count = result.Length;
        bool pRuns = p.Length == count, qRuns = q.Length == count, rRuns = r.Length == count;
        if (!pRuns && p.Length != 1 || !qRuns && q.Length != 1 || !rRuns && r.Length != 1)
            throw new ArgumentException($"Ternary: operand lengths ({p.Length}, {q.Length}, {r.Length}) must be {count} or 1.");
        if (count == 0) return;
        ref float pAt = ref MemoryMarshal.GetReference(p), qAt = ref MemoryMarshal.GetReference(q), rAt = ref MemoryMarshal.GetReference(r);
        ref float resultAt = ref MemoryMarshal.GetReference(result);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> pOne = new(pAt), qOne = new(qAt), rOne = new(rAt);
            for (; i <= count - Vector<float>.Count; i += Vector<float>.Count)
            {
                var pv = pRuns ? Vector.LoadUnsafe(ref pAt, (nuint)i) : pOne;
                var qv = qRuns ? Vector.LoadUnsafe(ref qAt, (nuint)i) : qOne;
                var rv = rRuns ? Vector.LoadUnsafe(ref rAt, (nuint)i) : rOne;
                op.Invoke(pv, qv, rv).StoreUnsafe(ref resultAt, (nuint)i);
            }
        }
        for (; i < count; i++)
            Unsafe.Add(ref resultAt, i) = op.Invoke(pRuns ? Unsafe.Add(ref pAt, i) : pAt, qRuns ? Unsafe.Add(ref qAt, i) : qAt, rRuns ? Unsafe.Add(ref rAt, i) : rAt);
    }
}
