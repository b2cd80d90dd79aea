using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
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
/// 16×16 register transposes (AVX-512, or four AVX 8×8); otherwise element by element. Large
/// copies split the outer loop (and, for a single transpose, its rows of tiles) over
/// <see cref="Workers"/>; each element is written once, so the result does not depend on the
/// thread count. Accumulation runs on the calling thread: a destination stride of 0 (the gradient
/// of a repeat) adds several elements into one.
/// </remarks>
internal static unsafe class StridedCopy
{
    /// <summary>A transpose walks 32×32 tiles: 32 source and 32 destination rows at a time, as many
    /// pages as the L1 TLB holds (measured on [2048, 2048]: 5% faster than 64, 15% than 128). A row
    /// of tiles is the unit threads share.</summary>
    const int Tile = 32;

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
            var job = ParallelJob.ForThisThread<Job>();
            job.Plan = plan;
            job.Source = s;
            job.Destination = d;
            try
            {
                job.Run(tasks);
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
    /// and columns c in [0, columns), tile by tile. Inside a tile, 16×16 blocks: each reads 16
    /// source lines and writes 16 destination lines of 64 bytes whole. With 8×8 blocks one after
    /// the other a line is half used and must stay in L1 until a later block uses the rest; with a
    /// power-of-two row length every row falls in the same cache set, the line is gone by then, and
    /// the transpose ran three times slower. Ragged edges go 8×8 where they can, one by one otherwise.
    /// </summary>
    static void TransposeRows(float* source, nint sourceRow, float* destination, nint destinationRow, int rowStart, int rowEnd, int columns)
    {
        for (int c0 = 0; c0 < columns; c0 += Tile)
        {
            int cEnd = Math.Min(c0 + Tile, columns);
            int r = rowStart;
            if (Avx.IsSupported)
            {
                for (; r <= rowEnd - 16; r += 16)
                {
                    int c = c0;
                    for (; c <= cEnd - 16; c += 16)
                        Transpose16x16(source + c * sourceRow + r, sourceRow, destination + r * destinationRow + c, destinationRow);
                    TransposeBy8(source, sourceRow, destination, destinationRow, r, r + 16, c, cEnd);
                }
                if (r <= rowEnd - 8)
                {
                    TransposeBy8(source, sourceRow, destination, destinationRow, r, r + 8, c0, cEnd);
                    r += 8;
                }
            }
            TransposeByElement(source, sourceRow, destination, destinationRow, r, rowEnd, c0, cEnd);
        }
    }

    /// <summary>One 16×16 block: in AVX-512 registers, else as four AVX 8×8 blocks in the order that finishes each line at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose16x16(float* source, nint sourceRow, float* destination, nint destinationRow)
    {
        if (Avx512F.IsSupported)
        {
            Transpose16x16Avx512(source, sourceRow, destination, destinationRow);
            return;
        }
        GemmPacking.Transpose8x8(source, sourceRow, destination, destinationRow);
        GemmPacking.Transpose8x8(source + 8, sourceRow, destination + 8 * destinationRow, destinationRow);
        GemmPacking.Transpose8x8(source + 8 * sourceRow, sourceRow, destination + 8, destinationRow);
        GemmPacking.Transpose8x8(source + 8 * sourceRow + 8, sourceRow, destination + 8 * destinationRow + 8, destinationRow);
    }

    /// <summary>
    /// o_j[i] = r_i[j] for sixteen rows of sixteen floats, the 8×8 scheme one level deeper:
    /// interleave pairs of rows, then pairs of pairs (each 128-bit lane now holds a 4×4 block
    /// transposed), then move the 128-bit lanes across registers twice.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose16x16Avx512(float* s, nint sourceRow, float* d, nint destinationRow)
    {
        var r0 = Avx512F.LoadVector512(s); var r1 = Avx512F.LoadVector512(s + sourceRow);
        var r2 = Avx512F.LoadVector512(s + 2 * sourceRow); var r3 = Avx512F.LoadVector512(s + 3 * sourceRow);
        var r4 = Avx512F.LoadVector512(s + 4 * sourceRow); var r5 = Avx512F.LoadVector512(s + 5 * sourceRow);
        var r6 = Avx512F.LoadVector512(s + 6 * sourceRow); var r7 = Avx512F.LoadVector512(s + 7 * sourceRow);
        var r8 = Avx512F.LoadVector512(s + 8 * sourceRow); var r9 = Avx512F.LoadVector512(s + 9 * sourceRow);
        var r10 = Avx512F.LoadVector512(s + 10 * sourceRow); var r11 = Avx512F.LoadVector512(s + 11 * sourceRow);
        var r12 = Avx512F.LoadVector512(s + 12 * sourceRow); var r13 = Avx512F.LoadVector512(s + 13 * sourceRow);
        var r14 = Avx512F.LoadVector512(s + 14 * sourceRow); var r15 = Avx512F.LoadVector512(s + 15 * sourceRow);
        var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
        var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
        var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
        var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);
        var u0 = Avx512F.Shuffle(t0, t2, 0x44); var u1 = Avx512F.Shuffle(t0, t2, 0xEE);
        var u2 = Avx512F.Shuffle(t1, t3, 0x44); var u3 = Avx512F.Shuffle(t1, t3, 0xEE);
        var u4 = Avx512F.Shuffle(t4, t6, 0x44); var u5 = Avx512F.Shuffle(t4, t6, 0xEE);
        var u6 = Avx512F.Shuffle(t5, t7, 0x44); var u7 = Avx512F.Shuffle(t5, t7, 0xEE);
        var u8 = Avx512F.Shuffle(t8, t10, 0x44); var u9 = Avx512F.Shuffle(t8, t10, 0xEE);
        var u10 = Avx512F.Shuffle(t9, t11, 0x44); var u11 = Avx512F.Shuffle(t9, t11, 0xEE);
        var u12 = Avx512F.Shuffle(t12, t14, 0x44); var u13 = Avx512F.Shuffle(t12, t14, 0xEE);
        var u14 = Avx512F.Shuffle(t13, t15, 0x44); var u15 = Avx512F.Shuffle(t13, t15, 0xEE);
        // Lanes 0 and 2 of each pair (0x88), then 1 and 3 (0xDD): twice, and lane k of register j lands in output row 4k + j.
        var v0 = Avx512F.Shuffle4x128(u0, u4, 0x88); var v1 = Avx512F.Shuffle4x128(u1, u5, 0x88);
        var v2 = Avx512F.Shuffle4x128(u2, u6, 0x88); var v3 = Avx512F.Shuffle4x128(u3, u7, 0x88);
        var v4 = Avx512F.Shuffle4x128(u0, u4, 0xDD); var v5 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        var v6 = Avx512F.Shuffle4x128(u2, u6, 0xDD); var v7 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        var v8 = Avx512F.Shuffle4x128(u8, u12, 0x88); var v9 = Avx512F.Shuffle4x128(u9, u13, 0x88);
        var v10 = Avx512F.Shuffle4x128(u10, u14, 0x88); var v11 = Avx512F.Shuffle4x128(u11, u15, 0x88);
        var v12 = Avx512F.Shuffle4x128(u8, u12, 0xDD); var v13 = Avx512F.Shuffle4x128(u9, u13, 0xDD);
        var v14 = Avx512F.Shuffle4x128(u10, u14, 0xDD); var v15 = Avx512F.Shuffle4x128(u11, u15, 0xDD);
        Avx512F.Store(d, Avx512F.Shuffle4x128(v0, v8, 0x88));
        Avx512F.Store(d + destinationRow, Avx512F.Shuffle4x128(v1, v9, 0x88));
        Avx512F.Store(d + 2 * destinationRow, Avx512F.Shuffle4x128(v2, v10, 0x88));
        Avx512F.Store(d + 3 * destinationRow, Avx512F.Shuffle4x128(v3, v11, 0x88));
        Avx512F.Store(d + 4 * destinationRow, Avx512F.Shuffle4x128(v4, v12, 0x88));
        Avx512F.Store(d + 5 * destinationRow, Avx512F.Shuffle4x128(v5, v13, 0x88));
        Avx512F.Store(d + 6 * destinationRow, Avx512F.Shuffle4x128(v6, v14, 0x88));
        Avx512F.Store(d + 7 * destinationRow, Avx512F.Shuffle4x128(v7, v15, 0x88));
        Avx512F.Store(d + 8 * destinationRow, Avx512F.Shuffle4x128(v0, v8, 0xDD));
        Avx512F.Store(d + 9 * destinationRow, Avx512F.Shuffle4x128(v1, v9, 0xDD));
        Avx512F.Store(d + 10 * destinationRow, Avx512F.Shuffle4x128(v2, v10, 0xDD));
        Avx512F.Store(d + 11 * destinationRow, Avx512F.Shuffle4x128(v3, v11, 0xDD));
        Avx512F.Store(d + 12 * destinationRow, Avx512F.Shuffle4x128(v4, v12, 0xDD));
        Avx512F.Store(d + 13 * destinationRow, Avx512F.Shuffle4x128(v5, v13, 0xDD));
        Avx512F.Store(d + 14 * destinationRow, Avx512F.Shuffle4x128(v6, v14, 0xDD));
        Avx512F.Store(d + 15 * destinationRow, Avx512F.Shuffle4x128(v7, v15, 0xDD));
    }

    /// <summary>Rows [r0, r1) (a multiple of 8 of them) by columns [c0, c1) in AVX 8×8 blocks, the last columns one by one.</summary>
    static void TransposeBy8(float* source, nint sourceRow, float* destination, nint destinationRow, int r0, int r1, int c0, int c1)
    {
        for (int r = r0; r < r1; r += 8)
        {
            int c = c0;
            for (; c <= c1 - 8; c += 8)
                GemmPacking.Transpose8x8(source + c * sourceRow + r, sourceRow, destination + r * destinationRow + c, destinationRow);
            TransposeByElement(source, sourceRow, destination, destinationRow, r, r + 8, c, c1);
        }
    }

    static void TransposeByElement(float* source, nint sourceRow, float* destination, nint destinationRow, int r0, int r1, int c0, int c1)
    {
        for (int r = r0; r < r1; r++)
            for (int c = c0; c < c1; c++) destination[r * destinationRow + c] = source[c * sourceRow + r];
    }

    /// <summary>One parallel call's arguments: the tasks take fixed ranges of units.</summary>
    sealed class Job : ParallelJob
    {
        public Plan? Plan;
        public float* Source, Destination;

        protected override void RunTask(int task)
        {
            var (first, end) = Share(Plan!.Units, task);
            Plan.RunUnits(Source, Destination, first, end);
        }
    }
}
