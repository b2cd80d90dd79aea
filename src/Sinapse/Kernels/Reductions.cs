using System.Numerics;
using System.Numerics.Tensors;
using Sinapse.Tensors;

namespace Sinapse.Kernels;

/// <summary>
/// Reductions over axes, in a fixed order so results are reproducible: sums down to a shape, and
/// selections (max, min and where they are) along one axis. Each output element is computed by
/// one thread, so no result depends on the thread count.
/// </summary>
public static class Reductions
{
    /// <summary>Below this many source elements a reduction runs on the calling thread.</summary>
    const int ParallelThreshold = 1 << 15;

    /// <summary>sums[j] = beta·sums[j] + Σ_r values[r, j]: the gradient of a bias broadcast over rows.</summary>
    public static void SumRows(ReadOnlySpan<float> values, int rows, int columns, Span<float> sums, float beta)
    {
        if (beta == 0f) sums[..columns].Clear();
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(sums[..columns], values.Slice(r * columns, columns), sums[..columns]);
    }

    /// <summary>
    /// target = beta·target + source summed down to the target's shape: over every axis where the
    /// target has size 1 (or, aligned at the last axis, no axis at all) and the source does not.
    /// This is PyTorch's sum_to_size: the backward of every broadcast, and every sum over axes.
    /// When <paramref name="beta"/> is 0 the target is overwritten without being read.
    /// </summary>
    internal static void SumTo(float[] source, int sourceOffset, Shape from, float[] target, int targetOffset, Shape to, float beta)
    {
        var groups = SumGroups(from, to);
        var destination = target.AsSpan(targetOffset, to.Size);
        ScaleOrClear(destination, beta);
        if (from.Size == 0) return;
        int last = groups.Count - 1;
        if (last < 0)
        {
            destination[0] += source[sourceOffset];
            return;
        }
        var (innerSize, innerReduced) = groups[last];
        int parts = from.Size >= ParallelThreshold ? Workers.Available : 1;
        if (groups.Count == 2 && !groups[0].Reduced && innerReduced)
        {
            // [K, R]: independent row sums.
            RunSum(parts, SumJob.Kind.Rows, source, sourceOffset, target, targetOffset, groups[0].Size, innerSize);
            return;
        }
        if (groups.Count == 2 && groups[0].Reduced && !innerReduced)
        {
            // [R, K]: column blocks summed down the rows, each block by one thread.
            RunSum(parts, SumJob.Kind.Columns, source, sourceOffset, target, targetOffset, groups[0].Size, innerSize);
            return;
        }
        // General case: walk the outer groups; the target advances only along kept ones.
        int outerCount = from.Size / innerSize;
        var position = new int[last];
        var keptStride = new int[last];
        for (int g = last - 1, stride = innerReduced ? 1 : innerSize; g >= 0; g--)
        {
            keptStride[g] = groups[g].Reduced ? 0 : stride;
            if (!groups[g].Reduced) stride *= groups[g].Size;
        }
        int at = 0;
        for (int row = 0; row < outerCount; row++)
        {
            var values = source.AsSpan(sourceOffset + row * innerSize, innerSize);
            if (innerReduced) destination[at] += PairwiseSum(values);
            else TensorPrimitives.Add(destination.Slice(at, innerSize), values, destination.Slice(at, innerSize));
            for (int g = last - 1; g >= 0; g--)
            {
                at += keptStride[g];
                if (++position[g] < groups[g].Size) break;
                at -= keptStride[g] * groups[g].Size;
                position[g] = 0;
            }
        }
    }

    /// <summary>Blocks of this many values are summed straight through (TensorPrimitives keeps a partial sum per vector lane).</summary>
    const int PairwiseBlock = 1024;

    /// <summary>Rows added one after another before the halves are combined.</summary>
    const int PairwiseRows = 8;

    /// <summary>
    /// Σ values, by halves down to blocks of <see cref="PairwiseBlock"/>: the rounding error grows
    /// with the logarithm of the length rather than the length, as in PyTorch's cascade sum (4·10⁶
    /// values of 0.1 straight through give 399039, in halves 400000).
    /// </summary>
    internal static float PairwiseSum(ReadOnlySpan<float> values)
    {
        if (values.Length <= PairwiseBlock) return TensorPrimitives.Sum(values);
        int half = values.Length / 2;
        return PairwiseSum(values[..half]) + PairwiseSum(values[half..]);
    }

    /// <summary>
    /// sums += Σ_r source[offset + r·stride .. + sums.Length] over <paramref name="rows"/> rows,
    /// by halves down to runs of <see cref="PairwiseRows"/> rows, for the accuracy
    /// <see cref="PairwiseSum"/> gives; <paramref name="partial"/> holds one row per level of halving.
    /// </summary>
    static void AddRowsPairwise(float[] source, int offset, int rows, int stride, Span<float> sums, Span<float> partial)
    {
        if (rows <= PairwiseRows)
        {
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(sums, source.AsSpan(offset + r * stride, sums.Length), sums);
            return;
        }
        int half = rows / 2;
        var upper = partial[..sums.Length];
        upper.Clear();
        AddRowsPairwise(source, offset + half * stride, rows - half, stride, upper, partial[sums.Length..]);
        AddRowsPairwise(source, offset, half, stride, sums, partial[sums.Length..]);
        TensorPrimitives.Add(sums, upper, sums);
    }

    static void RunSum(int parts, SumJob.Kind kind, float[] source, int sourceOffset, float[] target, int targetOffset, int rows, int innerSize)
    {
        var job = ParallelJob.ForThisThread<SumJob>();
        (job.Sum, job.Source, job.SourceOffset, job.Target, job.TargetOffset, job.Rows, job.InnerSize) =
            (kind, source, sourceOffset, target, targetOffset, rows, innerSize);
        try
        {
            job.Run(parts);
        }
        finally
        {
            job.Source = job.Target = null;
        }
    }

    /// <summary>A [K, R] sum (independent row sums, whole rows per task) or an [R, K] sum (column
    /// blocks summed down the rows, each block by one task).</summary>
    sealed class SumJob : ParallelJob
    {
        public enum Kind { Rows, Columns }

        public Kind Sum;
        public float[]? Source, Target;
        public int SourceOffset, TargetOffset, Rows, InnerSize;

        protected override void RunTask(int task)
        {
            float[] source = Source!, target = Target!;
            if (Sum == Kind.Rows)
            {
                var (first, end) = Share(Rows, task);
                for (int row = first; row < end; row++)
                    target[TargetOffset + row] += PairwiseSum(source.AsSpan(SourceOffset + row * InnerSize, InnerSize));
                return;
            }
            var (start, stop) = Share(InnerSize, task);
            var sums = target.AsSpan(TargetOffset + start, stop - start);
            AddRowsPairwise(source, SourceOffset + start, Rows, InnerSize, sums, PartialRows(RowSumLevels(Rows) * (stop - start)));
        }
    }

    [ThreadStatic] static float[]? partialRows;

    /// <summary>The calling thread's scratch for <see cref="AddRowsPairwise"/>, grown when too small and then reused.</summary>
    static Span<float> PartialRows(int length)
    {
        if (partialRows == null || partialRows.Length < length) partialRows = new float[length];
        return partialRows.AsSpan(0, length);
    }

    /// <summary>The partial rows <see cref="AddRowsPairwise"/> needs for <paramref name="rows"/> rows.</summary>
    static int RowSumLevels(int rows)
    {
        int levels = 0;
        for (; rows > PairwiseRows; rows -= rows / 2) levels++;
        return levels;
    }

    /// <summary>The source's axes, outermost first, with neighbours of the same kind (summed or kept) merged and size-1 axes dropped.</summary>
    static List<(int Size, bool Reduced)> SumGroups(Shape from, Shape to)
    {
        if (to.Rank > from.Rank) throw new ArgumentException($"Cannot sum shape {from} down to {to}: the target has more axes.");
        var groups = new List<(int Size, bool Reduced)>();
        int offset = from.Rank - to.Rank;
        for (int axis = 0; axis < from.Rank; axis++)
        {
            int size = from[axis], kept = axis < offset ? 1 : to[axis - offset];
            if (kept != size && kept != 1) throw new ArgumentException($"Cannot sum shape {from} down to {to}: axis {axis} has {size} and {kept}.");
            if (size == 1) continue;
            bool reduced = kept == 1;
            if (groups.Count > 0 && groups[^1].Reduced == reduced) groups[^1] = (groups[^1].Size * size, reduced);
            else groups.Add((size, reduced));
        }
        return groups;
    }

    /// <summary>
    /// values[o, i] = the largest (or, by <typeparamref name="TSelection"/>, smallest) of
    /// source[o, :, i]; NaN when any of them is NaN. The slice must not be empty.
    /// </summary>
    internal static void Extreme<TSelection>(float[] source, int sourceOffset, AxisLayout layout, float[] values, int valuesOffset)
        where TSelection : ISelection
    {
        int size = layout.Size, inner = layout.Inner;
        ForEachBlock(layout, (outerStart, outerEnd, innerStart, innerEnd) =>
        {
            for (int o = outerStart; o < outerEnd; o++)
            {
                var slice = source.AsSpan(sourceOffset + o * size * inner, size * inner);
                if (inner == 1)
                {
                    values[valuesOffset + o] = TSelection.Best(slice);
                    continue;
                }
                int count = innerEnd - innerStart;
                var best = values.AsSpan(valuesOffset + o * inner + innerStart, count);
                slice.Slice(innerStart, count).CopyTo(best);
                for (int s = 1; s < size; s++) TSelection.Best(best, slice.Slice(s * inner + innerStart, count), best);
            }
        });
    }

    /// <summary>
    /// values[o, i] as <see cref="Extreme{TSelection}"/>, and indices[o, i] = the first s at which
    /// source[o, s, i] holds it (the first NaN when there is one), as PyTorch's max(dim) and
    /// min(dim) choose on the CPU. Indices are stored as floats, exact for slices below 2^24.
    /// </summary>
    internal static void Select<TSelection>(float[] source, int sourceOffset, AxisLayout layout, float[] values, int valuesOffset, float[] indices, int indicesOffset)
        where TSelection : ISelection
    {
        int size = layout.Size, inner = layout.Inner;
        ForEachBlock(layout, (outerStart, outerEnd, innerStart, innerEnd) =>
        {
            for (int o = outerStart; o < outerEnd; o++)
            {
                var slice = source.AsSpan(sourceOffset + o * size * inner, size * inner);
                if (inner == 1)
                {
                    int index = TSelection.IndexOfBest(slice);
                    // TensorPrimitives ranks +0 above −0; PyTorch compares with > and <, so they tie and the first wins.
                    if (slice[index] == 0f) index = FirstZero(slice);
                    values[valuesOffset + o] = slice[index];
                    indices[indicesOffset + o] = index;
                    continue;
                }
                SelectColumns<TSelection>(slice, size, inner, innerStart, innerEnd,
                    values.AsSpan(valuesOffset + o * inner, inner), indices.AsSpan(indicesOffset + o * inner, inner));
            }
        });
    }

    /// <summary>
    /// target = beta·target, then target[o, indices[o, i], i] += gradient[o, i]: the backward of
    /// <see cref="Select{TSelection}"/>, which sends each output's gradient to the element it chose.
    /// When <paramref name="beta"/> is 0 the target is overwritten without being read.
    /// </summary>
    internal static void ScatterAlong(float[] gradient, int gradientOffset, float[] indices, int indicesOffset, AxisLayout layout, float[] target, int targetOffset, float beta)
    {
        int size = layout.Size, inner = layout.Inner;
        var destination = target.AsSpan(targetOffset, layout.Outer * size * inner);
        ScaleOrClear(destination, beta);
        for (int o = 0, at = 0; o < layout.Outer; o++)
            for (int i = 0; i < inner; i++, at++)
                destination[(o * size + (int)indices[indicesOffset + at]) * inner + i] += gradient[gradientOffset + at];
    }

    /// <summary>The selection along [start, end) of the inner axis for one outer row, a vector of columns at a time.</summary>
    static void SelectColumns<TSelection>(ReadOnlySpan<float> slice, int size, int inner, int start, int end, Span<float> values, Span<float> indices)
        where TSelection : ISelection
    {
        int i = start;
        if (Vector.IsHardwareAccelerated)
            for (; i + Vector<float>.Count <= end; i += Vector<float>.Count)
            {
                var best = new Vector<float>(slice[i..]);
                var index = Vector<float>.Zero;
                for (int s = 1; s < size; s++)
                {
                    var candidate = new Vector<float>(slice[(s * inner + i)..]);
                    var better = TSelection.Better(candidate, best);
                    best = Vector.ConditionalSelect(better, candidate, best);
                    index = Vector.ConditionalSelect(better, new Vector<float>(s), index);
                }
                best.CopyTo(values[i..]);
                index.CopyTo(indices[i..]);
            }
        for (; i < end; i++)
        {
            float best = slice[i];
            int index = 0;
            for (int s = 1; s < size; s++)
                if (TSelection.Better(slice[s * inner + i], best))
                {
                    best = slice[s * inner + i];
                    index = s;
                }
            values[i] = best;
            indices[i] = index;
        }
    }

    static int FirstZero(ReadOnlySpan<float> values)
    {
        int index = 0;
        while (values[index] != 0f) index++;
        return index;
    }

    /// <summary>
    /// Runs body(outerStart, outerEnd, innerStart, innerEnd) over blocks covering the layout's
    /// outputs [outer, inner]: split over the worker pool by outer rows, or, when there are too
    /// few rows, by 16-float-aligned column ranges of the inner axis. A slice along the reduced
    /// axis is never split, so each output is computed whole by one thread.
    /// </summary>
    static void ForEachBlock(AxisLayout layout, Action<int, int, int, int> body)
    {
        int outer = layout.Outer, inner = layout.Inner;
        int parts = (long)outer * layout.Size * inner >= ParallelThreshold ? Workers.Available : 1;
        if (parts == 1 || outer * inner <= 1)
        {
            body(0, outer, 0, inner);
            return;
        }
        var job = ParallelJob.ForThisThread<BlockJob>();
        (job.Body, job.Outer, job.Inner, job.ByColumns) = (body, outer, inner, outer < parts && inner > 1);
        try
        {
            job.Run(parts);
        }
        finally
        {
            job.Body = null;
        }
    }

    /// <summary>The blocks of <see cref="ForEachBlock"/>: whole outer rows per task, or 16-float
    /// column blocks of the inner axis.</summary>
    sealed class BlockJob : ParallelJob
    {
        public Action<int, int, int, int>? Body;
        public int Outer, Inner;
        public bool ByColumns;

        protected override void RunTask(int task)
        {
            if (!ByColumns)
            {
                var (start, end) = Share(Outer, task);
                Body!(start, end, 0, Inner);
                return;
            }
            var (first, last) = Share((Inner + 15) / 16, task);
            Body!(0, Outer, Math.Min(first * 16, Inner), Math.Min(last * 16, Inner));
        }
    }

    /// <summary>target = beta·target; a beta of 0 clears it without reading it (it may hold garbage, even NaN).</summary>
    static void ScaleOrClear(Span<float> target, float beta)
    {
        if (beta == 0f) target.Clear();
        else if (beta != 1f) TensorPrimitives.Multiply(target, beta, target);
    }

    /// <summary>The part'th of <paramref name="parts"/> equal slices of [0, count).</summary>
    internal static (int Start, int End) Part(int count, int part, int parts) => ParallelJob.Share(count, part, parts);
}

/// <summary>
/// A tensor seen around one axis, or a run of neighbouring axes, as [Outer, Size, Inner] in row-major
/// order: element (o, s, i) lies at (o·Size + s)·Inner + i. A reduction runs along Size.
/// </summary>
internal readonly record struct AxisLayout(int Outer, int Size, int Inner)
{
    /// <summary>The layout of <paramref name="shape"/> around its axes [first, end).</summary>
    public static AxisLayout Of(Shape shape, int first, int end)
    {
        int outer = 1, size = 1, inner = 1;
        for (int axis = 0; axis < first; axis++) outer *= shape[axis];
        for (int axis = first; axis < end; axis++) size *= shape[axis];
        for (int axis = end; axis < shape.Rank; axis++) inner *= shape[axis];
        return new AxisLayout(outer, size, inner);
    }
}

/// <summary>
/// Which element a selection keeps: the larger or the smaller, with NaN beating every number
/// (PyTorch's rule, and TensorPrimitives'). "Better" is strict, so among equals the first stays.
/// </summary>
internal interface ISelection
{
    static abstract bool Better(float candidate, float best);
    /// <summary>Lanes where the candidate beats the best so far: all ones, else zero.</summary>
    static abstract Vector<int> Better(Vector<float> candidate, Vector<float> best);
    static abstract float Best(ReadOnlySpan<float> values);
    static abstract void Best(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> result);
    static abstract int IndexOfBest(ReadOnlySpan<float> values);
}

/// <summary>The maximum.</summary>
internal readonly struct Largest : ISelection
{
    public static bool Better(float candidate, float best) => candidate > best || (float.IsNaN(candidate) && !float.IsNaN(best));
    // A NaN is the one value not equal to itself.
    public static Vector<int> Better(Vector<float> candidate, Vector<float> best) =>
        Vector.GreaterThan(candidate, best) | Vector.AndNot(Vector.Equals(best, best), Vector.Equals(candidate, candidate));
    public static float Best(ReadOnlySpan<float> values) => TensorPrimitives.Max(values);
    public static void Best(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Max(x, y, result);
    public static int IndexOfBest(ReadOnlySpan<float> values) => TensorPrimitives.IndexOfMax(values);
}

/// <summary>The minimum.</summary>
internal readonly struct Smallest : ISelection
{
    public static bool Better(float candidate, float best) => candidate < best || (float.IsNaN(candidate) && !float.IsNaN(best));
    public static Vector<int> Better(Vector<float> candidate, Vector<float> best) =>
        Vector.LessThan(candidate, best) | Vector.AndNot(Vector.Equals(best, best), Vector.Equals(candidate, candidate));
    public static float Best(ReadOnlySpan<float> values) => TensorPrimitives.Min(values);
    public static void Best(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Min(x, y, result);
    public static int IndexOfBest(ReadOnlySpan<float> values) => TensorPrimitives.IndexOfMin(values);
}
