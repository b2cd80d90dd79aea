using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sinapse.Kernels;

/// <summary>
/// im2col for the geometries <see cref="Convolution.CanPackColumns"/> accepts, built 16 output
/// pixels (a "piece") at a time: each tap of a piece is two loads and a permute of the input.
/// The forward pass writes the pieces as rows of the [C_in·kH·kW, B·H_out·W_out] column matrix
/// (<see cref="Convolution.PackColumns"/>); the weight gradient wants that matrix transposed, one
/// row of taps per pixel, and <see cref="PackTransposed"/> writes it so, straight into the B̃
/// panels of dW = dY·colᵀ: without it, the column matrix is written, read back and transposed by
/// the GEMM's packing — two more passes over the largest buffer of the backward pass.
/// </summary>
internal static unsafe class ConvolutionColumnPanels
{
    /// <summary>Largest C_in·kH·kW whose tap offsets are tabulated (16 KiB of stack).</summary>
    internal const int MaxTabulatedTaps = 4096;

    /// <summary>
    /// Per piece of one image: the offset of its first pixel's tap (0, 0) in an input plane
    /// (<paramref name="starts"/>) and each pixel's offset from there (<paramref name="indices"/>,
    /// the permute's lane indices); per tap p = (c, i, j), with <paramref name="taps"/> not null,
    /// its offset c·H·W + i·dH·W + j·dW from a piece's first input.
    /// </summary>
    internal static void FillTables(in ConvGeometry g, int* starts, Vector512<int>* indices, int* taps)
    {
        int piecesPerImage = g.OutputHeight * g.OutputWidth / 16, planeSize = g.InputHeight * g.InputWidth;
        Span<int> lane = stackalloc int[16];
        for (int piece = 0; piece < piecesPerImage; piece++)
        {
            starts[piece] = PieceOffset(g, piece * 16);
            for (int l = 0; l < 16; l++) lane[l] = PieceOffset(g, piece * 16 + l) - starts[piece];
            indices[piece] = Vector512.Create((ReadOnlySpan<int>)lane);
        }
        if (taps == null) return;
        for (int c = 0, p = 0; c < g.InChannels; c++)
            for (int i = 0; i < g.KernelHeight; i++)
                for (int j = 0; j < g.KernelWidth; j++, p++)
                    taps[p] = c * planeSize + i * g.DilationHeight * g.InputWidth + j * g.DilationWidth;
    }

    /// <summary>Offset in an input plane of output pixel <paramref name="q"/>'s tap (0, 0).</summary>
    internal static int PieceOffset(in ConvGeometry g, int q) =>
        q / g.OutputWidth * g.StrideHeight * g.InputWidth + q % g.OutputWidth * g.StrideWidth;

    /// <summary>One tap of one piece: the 16 inputs its pixels read, gathered from the 32-float
    /// window at <paramref name="window"/>; the input's last window reads nothing past its end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> LoadPiece(float* window, float* inputEnd, Vector512<int> index)
    {
        Vector512<float> low, high;
        if (window + 32 <= inputEnd)
        {
            low = Vector512.Load(window);
            high = Vector512.Load(window + 16);
        }
        else
        {
            var lanes = Vector512<int>.Indices;
            int available = (int)(inputEnd - window);
            low = Avx512F.MaskLoad(window, Vector512.LessThan(lanes, Vector512.Create(available)).AsSingle(), Vector512<float>.Zero);
            high = Avx512F.MaskLoad(window + 16, Vector512.LessThan(lanes, Vector512.Create(available - 16)).AsSingle(), Vector512<float>.Zero);
        }
        return Avx512F.PermuteVar16x32x2(low, index, high);
    }

    /// <summary>Whether the weight gradient of <paramref name="g"/> can take its columns from
    /// <see cref="PackTransposed"/>: a packable geometry whose C_in·kH·kW is wider than a narrow
    /// panel (the GEMM packs 32-wide panels for it) and tabulated.</summary>
    internal static bool CanPackTransposed(in ConvGeometry g)
    {
        int depth = g.InChannels * g.KernelHeight * g.KernelWidth;
        return depth > 16 && depth <= MaxTabulatedTaps && Gemm.PackedPanelWidth(depth) == 32 && Convolution.CanPackColumns(g);
    }

    /// <summary>
    /// The transposed im2col of <paramref name="count"/> images, colᵀ [B·H_out·W_out, C_in·kH·kW],
    /// as the B̃ panels of a product with it (<see cref="Gemm.MultiplyPackedB"/>, nr = 32): panel J
    /// holds taps [32·J, 32·J + 32), pixel k's 32 of them at J·columns·32 + k·32, zero past the
    /// last tap. Per piece, 16 taps are gathered as in the forward pass and transposed in
    /// registers, so each pixel's taps are stored as one vector. Needs
    /// (C_in·kH·kW rounded up to 32)·B·H_out·W_out floats at <paramref name="panels"/>.
    /// </summary>
    internal static void PackTransposed(in ConvGeometry g, float* images, float* inputEnd, int count, float* panels)
    {
        const int nr = 32;
        int outputPixels = g.OutputHeight * g.OutputWidth, piecesPerImage = outputPixels / 16;
        int pieces = count * piecesPerImage, columns = count * outputPixels;
        int depth = g.InChannels * g.KernelHeight * g.KernelWidth, paddedDepth = (depth + nr - 1) / nr * nr;
        nint imageSize = (nint)g.InChannels * g.InputHeight * g.InputWidth;
        int* starts = stackalloc int[piecesPerImage];
        var indices = stackalloc Vector512<int>[piecesPerImage];
        // Taps past the last read tap 0's window; the transpose's lanes for them are masked to zero.
        int* taps = stackalloc int[(depth + 15) / 16 * 16];
        FillTables(g, starts, indices, taps);
        for (int t = depth; t < (depth + 15) / 16 * 16; t++) taps[t] = 0;
        var lastTaps = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(depth % 16 == 0 ? 16 : depth % 16)).AsSingle();
        var steps = stackalloc Vector512<int>[8];
        TransposeIndices(steps);
        Vector512<int> s0 = steps[0], s1 = steps[1], s2 = steps[2], s3 = steps[3], s4 = steps[4], s5 = steps[5], s6 = steps[6], s7 = steps[7];
        for (int piece = 0; piece < pieces; piece++)
        {
            int inImage = piece % piecesPerImage;
            float* source = images + (piece / piecesPerImage) * imageSize + starts[inImage];
            var index = indices[inImage];
            for (int first = 0; first < paddedDepth; first += 16)
            {
                float* target = panels + (nint)(first / nr) * columns * nr + (nint)piece * 16 * nr + first % nr;
                if (first >= depth)
                {
                    for (int q = 0; q < 16; q++) Vector512<float>.Zero.Store(target + q * nr);
                    continue;
                }
                // Sixteen taps of the piece, one vector each, transposed to one vector of taps per pixel.
                int* tap = taps + first;
                var v0 = LoadPiece(source + tap[0], inputEnd, index); var v1 = LoadPiece(source + tap[1], inputEnd, index);
                var v2 = LoadPiece(source + tap[2], inputEnd, index); var v3 = LoadPiece(source + tap[3], inputEnd, index);
                var v4 = LoadPiece(source + tap[4], inputEnd, index); var v5 = LoadPiece(source + tap[5], inputEnd, index);
                var v6 = LoadPiece(source + tap[6], inputEnd, index); var v7 = LoadPiece(source + tap[7], inputEnd, index);
                var v8 = LoadPiece(source + tap[8], inputEnd, index); var v9 = LoadPiece(source + tap[9], inputEnd, index);
                var v10 = LoadPiece(source + tap[10], inputEnd, index); var v11 = LoadPiece(source + tap[11], inputEnd, index);
                var v12 = LoadPiece(source + tap[12], inputEnd, index); var v13 = LoadPiece(source + tap[13], inputEnd, index);
                var v14 = LoadPiece(source + tap[14], inputEnd, index); var v15 = LoadPiece(source + tap[15], inputEnd, index);
                // Each step d swaps, in every 2d×2d block, the upper right d×d block with the lower left one.
                Swap(ref v0, ref v8, s0, s1); Swap(ref v1, ref v9, s0, s1); Swap(ref v2, ref v10, s0, s1); Swap(ref v3, ref v11, s0, s1);
                Swap(ref v4, ref v12, s0, s1); Swap(ref v5, ref v13, s0, s1); Swap(ref v6, ref v14, s0, s1); Swap(ref v7, ref v15, s0, s1);
                Swap(ref v0, ref v4, s2, s3); Swap(ref v1, ref v5, s2, s3); Swap(ref v2, ref v6, s2, s3); Swap(ref v3, ref v7, s2, s3);
                Swap(ref v8, ref v12, s2, s3); Swap(ref v9, ref v13, s2, s3); Swap(ref v10, ref v14, s2, s3); Swap(ref v11, ref v15, s2, s3);
                Swap(ref v0, ref v2, s4, s5); Swap(ref v1, ref v3, s4, s5); Swap(ref v4, ref v6, s4, s5); Swap(ref v5, ref v7, s4, s5);
                Swap(ref v8, ref v10, s4, s5); Swap(ref v9, ref v11, s4, s5); Swap(ref v12, ref v14, s4, s5); Swap(ref v13, ref v15, s4, s5);
                Swap(ref v0, ref v1, s6, s7); Swap(ref v2, ref v3, s6, s7); Swap(ref v4, ref v5, s6, s7); Swap(ref v6, ref v7, s6, s7);
                Swap(ref v8, ref v9, s6, s7); Swap(ref v10, ref v11, s6, s7); Swap(ref v12, ref v13, s6, s7); Swap(ref v14, ref v15, s6, s7);
                var keep = first + 16 <= depth ? Vector512<float>.AllBitsSet : lastTaps;
                (v0 & keep).Store(target); (v1 & keep).Store(target + nr); (v2 & keep).Store(target + 2 * nr); (v3 & keep).Store(target + 3 * nr);
                (v4 & keep).Store(target + 4 * nr); (v5 & keep).Store(target + 5 * nr); (v6 & keep).Store(target + 6 * nr); (v7 & keep).Store(target + 7 * nr);
                (v8 & keep).Store(target + 8 * nr); (v9 & keep).Store(target + 9 * nr); (v10 & keep).Store(target + 10 * nr); (v11 & keep).Store(target + 11 * nr);
                (v12 & keep).Store(target + 12 * nr); (v13 & keep).Store(target + 13 * nr); (v14 & keep).Store(target + 14 * nr); (v15 & keep).Store(target + 15 * nr);
            }
        }
    }

    /// <summary>The permute indices of one 16×16 transpose: per step d = 8, 4, 2, 1, those of
    /// the upper and of the lower row of each pair (rows r and r + d, r without bit d).</summary>
    static void TransposeIndices(Vector512<int>* indices)
    {
        Span<int> upper = stackalloc int[16], lower = stackalloc int[16];
        for (int step = 0, d = 8; d >= 1; step++, d /= 2)
        {
            for (int c = 0; c < 16; c++)
            {
                bool high = (c & d) != 0;
                upper[c] = high ? 16 + c - d : c;
                lower[c] = high ? 16 + c : c + d;
            }
            indices[2 * step] = Vector512.Create((ReadOnlySpan<int>)upper);
            indices[2 * step + 1] = Vector512.Create((ReadOnlySpan<int>)lower);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Swap(ref Vector512<float> upper, ref Vector512<float> lower, Vector512<int> upperIndex, Vector512<int> lowerIndex)
    {
        var a = upper;
        upper = Avx512F.PermuteVar16x32x2(a, upperIndex, lower);
        lower = Avx512F.PermuteVar16x32x2(a, lowerIndex, lower);
    }
}
