using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sinapse.Kernels;

/// <summary>
/// Packing for <see cref="Gemm"/>: copies a block of op(A) into MR-row micro-panels and a block
/// of op(B) into NR-column micro-panels, both k-major (element p of a panel is one MR- or
/// NR-vector), zero-padded to whole panels so the micro-kernel never sees a ragged edge.
/// The transposes are handled here, so no transposed matrix is ever materialised.
/// </summary>
static unsafe class GemmPacking
{
    /// <summary>Packs op(A)[rowStart .. rowStart+rows, depthStart .. depthStart+depth] into
    /// ceil(rows/mr) panels of depth×mr floats (element (i, p) of a panel at p·mr + i).</summary>
    public static void PackA(float* a, int lda, bool transposeA, int rowStart, int rows,
        int depthStart, int depth, int mr, float* destination) =>
        // A stored k×m (transposed): the mr rows of op(A) at depth p are contiguous in row p of A.
        Pack(a, lda, transposeA, rowStart, rows, depthStart, depth, mr, destination);

    /// <summary>Packs op(B)[depthStart .. depthStart+depth, columnStart .. columnStart+columns]
    /// into ceil(columns/nr) panels of depth×nr floats (element (p, j) at p·nr + j).</summary>
    public static void PackB(float* b, int ldb, bool transposeB, int depthStart, int depth,
        int columnStart, int columns, int nr, float* destination) =>
        // B stored k×n: each depth step of the panel is a contiguous piece of a row.
        Pack(b, ldb, !transposeB, columnStart, columns, depthStart, depth, nr, destination);

    /// <summary>
    /// Packs <paramref name="count"/> lanes (rows of op(A), columns of op(B)) from
    /// <paramref name="start"/> over depths [depthStart, depthStart + depth) into panels of
    /// depth×width floats, lane j of depth p at p·width + j, zero past the last lane.
    /// <paramref name="lanesContiguous"/>: the matrix is stored depth-major, so the lanes of one
    /// depth step are a contiguous piece of a row; otherwise each lane is a stored row and the
    /// panel is its transpose.
    /// </summary>
    static void Pack(float* matrix, int leading, bool lanesContiguous, int start, int count,
        int depthStart, int depth, int width, float* destination)
    {
        for (int panelStart = 0; panelStart < count; panelStart += width)
        {
            int lanes = Math.Min(width, count - panelStart);
            int first = start + panelStart;
            if (lanesContiguous)
            {
                float* source = matrix + (nint)depthStart * leading + first;
                for (int p = 0; p < depth; p++)
                    CopyPadded(source + (nint)p * leading, destination + (nint)p * width, lanes, width);
            }
            else
            {
                Transpose(matrix + (nint)first * leading + depthStart, leading, lanes, depth, destination, width);
                ZeroTail(destination, lanes, width, depth);
            }
            destination += (nint)width * depth;
        }
    }

    /// <summary>destination[0..count) = source[0..count), destination[count..width) = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void CopyPadded(float* source, float* destination, int count, int width)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= count - Vector256<float>.Count; i += Vector256<float>.Count)
                Vector256.Load(source + i).Store(destination + i);
        }
        // The last 4 of a 12-wide panel (MR = 12) in one move.
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= count - Vector128<float>.Count; i += Vector128<float>.Count)
                Vector128.Load(source + i).Store(destination + i);
        }
        for (; i < count; i++) destination[i] = source[i];
        for (; i < width; i++) destination[i] = 0f;
    }

    /// <summary>destination[p·destinationStride + r] = source[r·sourceStride + p] for r &lt; rows,
    /// p &lt; count: 8×8 tiles transposed in AVX registers (about three times faster than moving
    /// single floats, which matters for X·Wᵀ where both operands need it), then 4×8 tiles (the last
    /// 4 rows of a 12-row panel: moved one by one they took as long as the 8 before them), the
    /// ragged rest one by one.</summary>
    static void Transpose(float* source, nint sourceStride, int rows, int count, float* destination, nint destinationStride)
    {
        int r = 0;
        if (Avx.IsSupported)
        {
            for (; r <= rows - 8; r += 8)
            {
                int p = 0;
                for (; p <= count - 8; p += 8)
                    Transpose8x8(source + r * sourceStride + p, sourceStride, destination + p * destinationStride + r, destinationStride);
                for (; p < count; p++)
                    for (int i = r; i < r + 8; i++) destination[p * destinationStride + i] = source[i * sourceStride + p];
            }
            if (r <= rows - 4)
            {
                int p = 0;
                for (; p <= count - 8; p += 8)
                    Transpose4x8(source + r * sourceStride + p, sourceStride, destination + p * destinationStride + r, destinationStride);
                for (; p < count; p++)
                    for (int i = r; i < r + 4; i++) destination[p * destinationStride + i] = source[i * sourceStride + p];
                r += 4;
            }
        }
        for (; r < rows; r++)
        {
            float* row = source + r * sourceStride;
            for (int p = 0; p < count; p++) destination[p * destinationStride + r] = row[p];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(float* source, nint sourceStride, float* destination, nint destinationStride)
    {
        Transpose8x8(Avx.LoadVector256(source), Avx.LoadVector256(source + sourceStride), Avx.LoadVector256(source + 2 * sourceStride),
            Avx.LoadVector256(source + 3 * sourceStride), Avx.LoadVector256(source + 4 * sourceStride), Avx.LoadVector256(source + 5 * sourceStride),
            Avx.LoadVector256(source + 6 * sourceStride), Avx.LoadVector256(source + 7 * sourceStride),
            out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
        Avx.Store(destination, o0);
        Avx.Store(destination + destinationStride, o1);
        Avx.Store(destination + 2 * destinationStride, o2);
        Avx.Store(destination + 3 * destinationStride, o3);
        Avx.Store(destination + 4 * destinationStride, o4);
        Avx.Store(destination + 5 * destinationStride, o5);
        Avx.Store(destination + 6 * destinationStride, o6);
        Avx.Store(destination + 7 * destinationStride, o7);
    }

    /// <summary>Four rows of eight into eight rows of four: the 8×8 transpose with rows 4–7 zero,
    /// of whose outputs only the lower halves (rows 0–3) are stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Transpose4x8(float* source, nint sourceStride, float* destination, nint destinationStride)
    {
        var zero = Vector256<float>.Zero;
        Transpose8x8(Avx.LoadVector256(source), Avx.LoadVector256(source + sourceStride), Avx.LoadVector256(source + 2 * sourceStride),
            Avx.LoadVector256(source + 3 * sourceStride), zero, zero, zero, zero,
            out var o0, out var o1, out var o2, out var o3, out var o4, out var o5, out var o6, out var o7);
        o0.GetLower().Store(destination);
        o1.GetLower().Store(destination + destinationStride);
        o2.GetLower().Store(destination + 2 * destinationStride);
        o3.GetLower().Store(destination + 3 * destinationStride);
        o4.GetLower().Store(destination + 4 * destinationStride);
        o5.GetLower().Store(destination + 5 * destinationStride);
        o6.GetLower().Store(destination + 6 * destinationStride);
        o7.GetLower().Store(destination + 7 * destinationStride);
    }

    /// <summary>o_j[i] = r_i[j]: the standard AVX 8×8 transpose (interleave pairs of rows, then pairs of pairs, then swap 128-bit halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7,
        out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2, out Vector256<float> o3,
        out Vector256<float> o4, out Vector256<float> o5, out Vector256<float> o6, out Vector256<float> o7)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        o0 = Avx.Permute2x128(u0, u4, 0x20); o1 = Avx.Permute2x128(u1, u5, 0x20);
        o2 = Avx.Permute2x128(u2, u6, 0x20); o3 = Avx.Permute2x128(u3, u7, 0x20);
        o4 = Avx.Permute2x128(u0, u4, 0x31); o5 = Avx.Permute2x128(u1, u5, 0x31);
        o6 = Avx.Permute2x128(u2, u6, 0x31); o7 = Avx.Permute2x128(u3, u7, 0x31);
    }

    /// <summary>Zeroes lanes [filled, width) of every depth step of a panel.</summary>
    static void ZeroTail(float* panel, int filled, int width, int depth)
    {
        if (filled == width) return;
        for (int p = 0; p < depth; p++)
            for (int i = filled; i < width; i++) panel[(nint)p * width + i] = 0f;
    }
}
