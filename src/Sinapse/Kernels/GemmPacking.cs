using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

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
        int depthStart, int depth, int mr, float* destination)
    {
        for (int panelRow = 0; panelRow < rows; panelRow += mr)
        {
            int panelRows = Math.Min(mr, rows - panelRow);
            int firstRow = rowStart + panelRow;
            if (transposeA)
            {
                // A is stored k×m: the mr rows of op(A) at depth p are contiguous in row p of A.
                float* source = a + (nint)depthStart * lda + firstRow;
                for (int p = 0; p < depth; p++)
                    CopyPadded(source + (nint)p * lda, destination + (nint)p * mr, panelRows, mr);
            }
            else
            {
                // A is stored m×k: read each row contiguously and scatter it with stride mr
                // (the panel, mr·depth floats, is L1-resident while it is written).
                for (int i = 0; i < panelRows; i++)
                    Scatter(a + (nint)(firstRow + i) * lda + depthStart, destination + i, depth, mr);
                ZeroTail(destination, panelRows, mr, depth);
            }
            destination += (nint)mr * depth;
        }
    }

    /// <summary>Packs op(B)[depthStart .. depthStart+depth, columnStart .. columnStart+columns]
    /// into ceil(columns/nr) panels of depth×nr floats (element (p, j) at p·nr + j).</summary>
    public static void PackB(float* b, int ldb, bool transposeB, int depthStart, int depth,
        int columnStart, int columns, int nr, float* destination)
    {
        for (int panelColumn = 0; panelColumn < columns; panelColumn += nr)
        {
            int panelColumns = Math.Min(nr, columns - panelColumn);
            int firstColumn = columnStart + panelColumn;
            if (!transposeB)
            {
                // B is stored k×n: each depth step of the panel is a contiguous piece of a row.
                float* source = b + (nint)depthStart * ldb + firstColumn;
                for (int p = 0; p < depth; p++)
                    CopyPadded(source + (nint)p * ldb, destination + (nint)p * nr, panelColumns, nr);
            }
            else
            {
                // B is stored n×k: row j of B is column j of op(B); scatter it with stride nr.
                for (int j = 0; j < panelColumns; j++)
                    Scatter(b + (nint)(firstColumn + j) * ldb + depthStart, destination + j, depth, nr);
                ZeroTail(destination, panelColumns, nr, depth);
            }
            destination += (nint)nr * depth;
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
        for (; i < count; i++) destination[i] = source[i];
        for (; i < width; i++) destination[i] = 0f;
    }

    /// <summary>destination[p·stride] = source[p] for p in [0, count).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Scatter(float* source, float* destination, int count, int stride)
    {
        int p = 0;
        for (; p <= count - 4; p += 4)
        {
            destination[(nint)p * stride] = source[p];
            destination[(nint)(p + 1) * stride] = source[p + 1];
            destination[(nint)(p + 2) * stride] = source[p + 2];
            destination[(nint)(p + 3) * stride] = source[p + 3];
        }
        for (; p < count; p++) destination[(nint)p * stride] = source[p];
    }

    /// <summary>Zeroes lanes [filled, width) of every depth step of a panel.</summary>
    static void ZeroTail(float* panel, int filled, int width, int depth)
    {
        if (filled == width) return;
        for (int p = 0; p < depth; p++)
            for (int i = filled; i < width; i++) panel[(nint)p * width + i] = 0f;
    }
}
