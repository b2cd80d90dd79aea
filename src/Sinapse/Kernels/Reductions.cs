using System.Numerics.Tensors;
using Sinapse.Tensors;

namespace Sinapse.Kernels;

/// <summary>Reductions over axes, in a fixed order so results are reproducible.</summary>
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
        if (beta == 0f) destination.Clear();
        else if (beta != 1f) TensorPrimitives.Multiply(destination, beta, destination);
        if (from.Size == 0) return;
        int last = groups.Count - 1;
        if (last < 0)
        {
            destination[0] += source[sourceOffset];
            return;
        }
        var (innerSize, innerReduced) = groups[last];
        int parts = from.Size >= ParallelThreshold ? Workers.Available : 1;
        bool parallel = parts > 1;
        if (parallel && groups.Count == 2 && !groups[0].Reduced && innerReduced)
        {
            // [K, R]: independent row sums.
            int rows = groups[0].Size;
            Workers.For(parts, part =>
            {
                var (first, end) = Part(rows, part, parts);
                for (int row = first; row < end; row++)
                    target[targetOffset + row] += TensorPrimitives.Sum(source.AsSpan(sourceOffset + row * innerSize, innerSize));
            });
            return;
        }
        if (parallel && groups.Count == 2 && groups[0].Reduced && !innerReduced)
        {
            // [R, K]: column blocks summed down the rows, each block by one thread.
            int rows = groups[0].Size;
            Workers.For(parts, part =>
            {
                var (first, end) = Part(innerSize, part, parts);
                var sums = target.AsSpan(targetOffset + first, end - first);
                for (int row = 0; row < rows; row++)
                    TensorPrimitives.Add(sums, source.AsSpan(sourceOffset + row * innerSize + first, end - first), sums);
            });
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
            if (innerReduced) destination[at] += TensorPrimitives.Sum(values);
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

    /// <summary>The part'th of <paramref name="parts"/> equal slices of [0, count).</summary>
    internal static (int Start, int End) Part(int count, int part, int parts)
    {
        return ((int)((long)count * part / parts), (int)((long)count * (part + 1) / parts));
    }
}
