using System.Numerics.Tensors;
using System.Runtime.Intrinsics.X86;

namespace Sinapse.Kernels;

/// <summary>
/// Moves a box of elements between two strided layouts: for every index i of a box of
/// <c>sizes</c>, destination[Σ i_d·destinationStrides_d] = source[Σ i_d·sourceStrides_d] (or +=
/// when accumulating). The data movement of every shape op is one such box: a permute (the
/// destination row-major, the source strides permuted), a slice (source strides times the step),
/// a pad (a box inside a larger destination), a repeat (source stride 0 along the copies) and the
/// backward passes of all of them.
/// </summary>
/// <remarks>
/// Dimensions of size 1 are dropped and neighbours that both layouts keep adjacent are merged, so
/// the loops run over the fewest, longest dimensions. Then: when the innermost dimension is
/// contiguous on both sides, whole runs are copied; when the destination's contiguous dimension
/// differs from the source's (a transpose), the plane of those two is copied in cache tiles of
/// 8×8 AVX register transposes; otherwise element by element. Large copies split the outer loop
/// (and, for a single transpose, its rows of tiles) over <see cref="Workers"/>; each element is
/// written once, so the result does not depend on the thread count. Accumulation runs on the
/// calling thread: a destination stride of 0 (the gradient of a repeat) adds several elements into one.
/// </remarks>
internal static unsafe class StridedCopy
{
    /// <summary>A transpose moves 64×64 tiles: 16 KB read and 16 KB written, together inside a 48 KB L1.</summary>
    const int Tile = 64;

    /// <summary>Below this many elements a copy runs on the calling thread: waking the workers
    /// costs a few microseconds, as much as copying 256 KB.</summary>
    const long ParallelThreshold = 1L << 16;

    /// <summary>The strides of a contiguous row-major tensor of <paramref name="sizes"/>.</summary>
    public static int[] RowMajorStrides(ReadOnlySpan<int> sizes)
    {
        var strides = new int[sizes.Length];
        int stride = 1;
        for (int d = sizes.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= sizes[d];
        }
        return strides;
    }

    /// <summary>Copies (or, with <paramref name="accumulate"/>, adds) the box of <paramref name="sizes"/>
    /// from <paramref name="source"/> into <paramref name="destination"/>; strides may be 0, never negative.</summary>
    public static void Run(ReadOnlySpan<float> source, ReadOnlySpan<int> sourceStrides, Span<float> destination,
        ReadOnlySpan<int> destinationStrides, ReadOnlySpan<int> sizes, bool accumulate = false)
    {
        var plan = Plan.Make(sizes, sourceStrides, destinationStrides, accumulate);
        if (plan == null) return;
        if (plan.SourceReach >= source.Length || plan.DestinationReach >= destination.Length)
            throw new ArgumentException($"StridedCopy: the box [{string.Join(", ", sizes.ToArray())}] reaches element {plan.SourceReach} of a source of {source.Length} "
                + $"and element {plan.DestinationReach} of a destination of {destination.Length}.");
        fixed (float* s = source, d = destination)
        {
            long work = plan.Units * plan.UnitLength;
            int tasks = plan.Accumulate || work < ParallelThreshold ? 1 : (int)Math.Min(Workers.Available, plan.Units);
            if (tasks == 1)
            {
                plan.RunUnits(s, d, 0, plan.Units);
                return;
            }
            var job = Job.ForThisThread();
            job.Plan = plan;
            job.Source = s;
            job.Destination = d;
            job.Tasks = tasks;
            try
            {
                Workers.For(tasks, job.RunTaskDelegate);
            }
            finally
            {
                job.Plan = null;
                job.Source = job.Destination = null;
            }
        }
    }

    enum Kind { Runs, Transpose, Elements }

    /// <summary>The collapsed box and how to walk it: <see cref="Units"/> independent pieces of work
    /// (one outer index each; for a transpose, one row of tiles of an outer index).</summary>
    sealed class Plan
    {
        public Kind Kind;
        public bool Accumulate;
        // Outer dimensions, outermost first; the inner one (Runs, Elements) or two (Transpose) are kept apart.
        public int[] OuterSizes = [], OuterSource = [], OuterDestination = [];
        public int InnerSize, InnerSourceStride, InnerDestinationStride;
        // Transpose: the dimension contiguous in the source, which is the destination's row index.
        public int RowCount, RowDestinationStride, RowBlocks;
        public long Units, UnitLength;
        public long SourceReach, DestinationReach;

        /// <summary>The plan for a box, or null when it is empty.</summary>
        public static Plan? Make(ReadOnlySpan<int> sizes, ReadOnlySpan<int> sourceStrides, ReadOnlySpan<int> destinationStrides, bool accumulate)
        {
            if (sourceStrides.Length != sizes.Length || destinationStrides.Length != sizes.Length)
                throw new ArgumentException($"StridedCopy: {sizes.Length} sizes need as many strides, got {sourceStrides.Length} and {destinationStrides.Length}.");
            var size = new List<int>(sizes.Length);
            var from = new List<int>(sizes.Length);
            var to = new List<int>(sizes.Length);
            var plan = new Plan { Accumulate = accumulate };
            for (int d = 0; d < sizes.Length; d++)
            {
                if (sizes[d] < 0 || sourceStrides[d] < 0 || destinationStrides[d] < 0)
                    throw new ArgumentException($"StridedCopy: dimension {d} has size {sizes[d]} and strides {sourceStrides[d]}, {destinationStrides[d]}; none may be negative.");
                if (sizes[d] == 0) return null;
                if (sizes[d] == 1) continue;
                plan.SourceReach += (long)(sizes[d] - 1) * sourceStrides[d];
                plan.DestinationReach += (long)(sizes[d] - 1) * destinationStrides[d];
                int last = size.Count - 1;
                // Merged when stepping the outer dimension once is stepping the inner one size times, on both sides.
                if (last >= 0 && from[last] == (long)sourceStrides[d] * sizes[d] && to[last] == (long)destinationStrides[d] * sizes[d])
                {
                    size[last] *= sizes[d];
                    from[last] = sourceStrides[d];
                    to[last] = destinationStrides[d];
                    continue;
                }
                size.Add(sizes[d]);
                from.Add(sourceStrides[d]);
                to.Add(destinationStrides[d]);
            }
            if (size.Count == 0)
            {
                // One element.
                (size, from, to) = ([1], [1], [1]);
            }
            int inner = size.Count - 1;
            int row = from.IndexOf(1);
            plan.Kind = from[inner] == 1 && to[inner] == 1 ? Kind.Runs
                : !accumulate && to[inner] == 1 && row >= 0 ? Kind.Transpose
                : Kind.Elements;
            (plan.InnerSize, plan.InnerSourceStride, plan.InnerDestinationStride) = (size[inner], from[inner], to[inner]);
            size.RemoveAt(inner); from.RemoveAt(inner); to.RemoveAt(inner);
            plan.UnitLength = plan.InnerSize;
            if (plan.Kind == Kind.Transpose)
            {
                (plan.RowCount, plan.RowDestinationStride) = (size[row], to[row]);
                size.RemoveAt(row); from.RemoveAt(row); to.RemoveAt(row);
                plan.RowBlocks = (plan.RowCount + Tile - 1) / Tile;
                plan.UnitLength *= Tile;
            }
            (plan.OuterSizes, plan.OuterSource, plan.OuterDestination) = (size.ToArray(), from.ToArray(), to.ToArray());
            long outer = 1;
            foreach (var s in plan.OuterSizes) outer *= s;
            plan.Units = plan.Kind == Kind.Transpose ? outer * plan.RowBlocks : outer;
            return plan;
        }

        /// <summary>Units [first, end): outer indices walked with an odometer, so each step costs an addition.</summary>
        public void RunUnits(float* source, float* destination, long first, long end)
        {
            if (first >= end) return;
            int blocks = Kind == Kind.Transpose ? RowBlocks : 1;
            long outer = first / blocks;
            int block = (int)(first % blocks);
            Span<int> digits = stackalloc int[OuterSizes.Length];
            nint s = 0, d = 0;
            long rest = outer;
            for (int k = OuterSizes.Length - 1; k >= 0; k--)
            {
                digits[k] = (int)(rest % OuterSizes[k]);
                rest /= OuterSizes[k];
                s += (nint)digits[k] * OuterSource[k];
                d += (nint)digits[k] * OuterDestination[k];
            }
            for (long unit = first; unit < end; unit++)
            {
                switch (Kind)
                {
                    case Kind.Runs:
                        var from = new ReadOnlySpan<float>(source + s, InnerSize);
                        var to = new Span<float>(destination + d, InnerSize);
                        if (Accumulate) TensorPrimitives.Add(to, from, to);
                        else from.CopyTo(to);
                        break;
                    case Kind.Elements:
                        CopyElements(source + s, destination + d);
                        break;
                    case Kind.Transpose:
                        int rowStart = block * Tile;
                        TransposeRows(source + s, InnerSourceStride, destination + d, RowDestinationStride, rowStart, Math.Min(rowStart + Tile, RowCount), InnerSize);
                        if (++block < blocks) continue;
                        block = 0;
                        break;
                }
                // The next outer index.
                for (int k = OuterSizes.Length - 1; k >= 0; k--)
                {
                    s += OuterSource[k];
                    d += OuterDestination[k];
                    if (++digits[k] < OuterSizes[k]) break;
                    s -= (nint)OuterSizes[k] * OuterSource[k];
                    d -= (nint)OuterSizes[k] * OuterDestination[k];
                    digits[k] = 0;
                }
            }
        }

        void CopyElements(float* source, float* destination)
        {
            nint from = InnerSourceStride, to = InnerDestinationStride;
            if (Accumulate)
                for (int i = 0; i < InnerSize; i++) destination[i * to] += source[i * from];
            else
                for (int i = 0; i < InnerSize; i++) destination[i * to] = source[i * from];
        }
    }

    /// <summary>
    /// destination[r·destinationRow + c] = source[c·sourceRow + r] for rows r in [rowStart, rowEnd)
    /// and columns c in [0, columns): tile by tile, 8×8 blocks in AVX registers, the ragged edges one by one.
    /// Within a tile the columns advance fastest, so each destination row is written in whole cache lines.
    /// </summary>
    static void TransposeRows(float* source, nint sourceRow, float* destination, nint destinationRow, int rowStart, int rowEnd, int columns)
    {
        for (int c0 = 0; c0 < columns; c0 += Tile)
        {
            int cEnd = Math.Min(c0 + Tile, columns);
            int r = rowStart;
            for (; Avx.IsSupported && r <= rowEnd - 8; r += 8)
            {
                int c = c0;
                for (; c <= cEnd - 8; c += 8)
                    GemmPacking.Transpose8x8(source + c * sourceRow + r, sourceRow, destination + r * destinationRow + c, destinationRow);
                for (; c < cEnd; c++)
                    for (int i = r; i < r + 8; i++) destination[i * destinationRow + c] = source[c * sourceRow + i];
            }
            for (; r < rowEnd; r++)
                for (int c = c0; c < cEnd; c++) destination[r * destinationRow + c] = source[c * sourceRow + r];
        }
    }

    /// <summary>One parallel call's arguments, one instance per calling thread with its delegate made once.</summary>
    sealed class Job
    {
        [ThreadStatic] static Job? current;

        public static Job ForThisThread() => current ??= new Job();

        public readonly Action<int> RunTaskDelegate;
        public Plan? Plan;
        public float* Source, Destination;
        public int Tasks;

        Job() => RunTaskDelegate = RunTask;

        void RunTask(int task) => Plan!.RunUnits(Source, Destination, Plan.Units * task / Tasks, Plan.Units * (task + 1) / Tasks);
    }
}
