using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sinapse.Kernels;

/// <summary>
/// The register-blocked micro-kernel of <see cref="Gemm"/>, one body for every vector width:
/// C[0..rows, 0..vectors·lanes] = alpha·(Ã·B̃) + beta·C, where Ã is a packed panel (depth×panel
/// rows, k-major) and B̃ a packed panel of whole vectors (depth×vectors·lanes, k-major). Each
/// depth step loads the B̃ vectors, broadcasts the values of Ã one by one and issues
/// rows·vectors FMAs into accumulators that stay in registers for the whole depth loop.
/// </summary>
/// <remarks>
/// The body is unrolled by hand because the JIT keeps locals, not arrays, in registers; the tile
/// shape and the vector width are type arguments, so each instantiation keeps only its own rows
/// and compiles as if written for its shape. Check the register allocation after editing
/// (Release, then <c>DOTNET_JitDisasm=Run DOTNET_JitStdOutFile=dis.txt</c>: the instantiations of <c>Tile.Run</c>): the depth loop
/// must be only loads, broadcasts and FMAs, with no stack traffic; a spilled accumulator halves
/// throughput.
/// </remarks>
static unsafe class GemmMicroKernels
{
    /// <summary>The tile of <typeparamref name="TTile"/> (at most 12 rows of 2 vectors) over
    /// <typeparamref name="TSimd"/> vectors. The AVX-512 tiles: 12×32 (<see cref="Tile12x2"/>:
    /// 24 zmm accumulators + 2 B̃ vectors + 1 broadcast of the 32 zmm registers; on Zen 4/5, two
    /// 512-bit FMA pipes with 4-cycle latency, 24 independent chains hide the FMA latency, and
    /// each depth step is 14 loads for 24 FMAs, under the two loads per cycle the core sustains),
    /// its first 8 or 4 rows for the last tile of an M that is not a multiple of 12 (M = 64 is 5
    /// tiles and 4 rows: the full tile spent as long there as on a whole one), and 12×16 for
    /// products at most 16 columns wide (a classifier's last layer: the 32-wide tile would spend
    /// most of its FMAs on padding). AVX2: 6×16 (<see cref="Tile6x2"/>: 12 ymm accumulators + 2 B̃
    /// vectors + 1 broadcast of the 16 ymm registers, the classic Haswell shape).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Kernel<TSimd, TVector, TTile>(int depth, float* a, float* b, float* c, nint ldc, float alpha, float beta)
        where TSimd : struct, ISimd<TVector> where TVector : struct where TTile : struct, IMicroTile
    {
        // beta = 0 overwrites C without reading it: C may hold NaN garbage from a pool. A body
        // compiled per case keeps the test out of the write-back.
        if (beta == 0f) Tile<TSimd, TVector, TTile, OverwriteC>.Run(depth, a, b, c, ldc, alpha, beta);
        else Tile<TSimd, TVector, TTile, AccumulateC>.Run(depth, a, b, c, ldc, alpha, beta);
    }

    /// <summary>One compiled micro-kernel: a vector width, a tile shape and a write mode.</summary>
    static class Tile<TSimd, TVector, TTile, TWrite>
        where TSimd : struct, ISimd<TVector> where TVector : struct where TTile : struct, IMicroTile where TWrite : struct, IWriteMode
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Run(int depth, float* a, float* b, float* c, nint ldc, float alpha, float beta)
        {
            TVector c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
            TVector c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
            TVector c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
            TVector c90 = default, c91 = default, c100 = default, c101 = default, c110 = default, c111 = default;
            Prefetch(0, c, ldc); Prefetch(1, c, ldc); Prefetch(2, c, ldc); Prefetch(3, c, ldc);
            Prefetch(4, c, ldc); Prefetch(5, c, ldc); Prefetch(6, c, ldc); Prefetch(7, c, ldc);
            Prefetch(8, c, ldc); Prefetch(9, c, ldc); Prefetch(10, c, ldc); Prefetch(11, c, ldc);
            for (int p = 0; p < depth; p++)
            {
                var b0 = TSimd.Load(b);
                var b1 = TTile.Vectors > 1 ? TSimd.Load(b + TSimd.Count) : default;
                var a0 = TSimd.Create(a[0]); c00 = TSimd.FusedMultiplyAdd(a0, b0, c00); if (TTile.Vectors > 1) c01 = TSimd.FusedMultiplyAdd(a0, b1, c01);
                var a1 = TSimd.Create(a[1]); c10 = TSimd.FusedMultiplyAdd(a1, b0, c10); if (TTile.Vectors > 1) c11 = TSimd.FusedMultiplyAdd(a1, b1, c11);
                var a2 = TSimd.Create(a[2]); c20 = TSimd.FusedMultiplyAdd(a2, b0, c20); if (TTile.Vectors > 1) c21 = TSimd.FusedMultiplyAdd(a2, b1, c21);
                var a3 = TSimd.Create(a[3]); c30 = TSimd.FusedMultiplyAdd(a3, b0, c30); if (TTile.Vectors > 1) c31 = TSimd.FusedMultiplyAdd(a3, b1, c31);
                if (TTile.Rows > 4)
                {
                    var a4 = TSimd.Create(a[4]); c40 = TSimd.FusedMultiplyAdd(a4, b0, c40); if (TTile.Vectors > 1) c41 = TSimd.FusedMultiplyAdd(a4, b1, c41);
                    var a5 = TSimd.Create(a[5]); c50 = TSimd.FusedMultiplyAdd(a5, b0, c50); if (TTile.Vectors > 1) c51 = TSimd.FusedMultiplyAdd(a5, b1, c51);
                }
                if (TTile.Rows > 6)
                {
                    var a6 = TSimd.Create(a[6]); c60 = TSimd.FusedMultiplyAdd(a6, b0, c60); if (TTile.Vectors > 1) c61 = TSimd.FusedMultiplyAdd(a6, b1, c61);
                    var a7 = TSimd.Create(a[7]); c70 = TSimd.FusedMultiplyAdd(a7, b0, c70); if (TTile.Vectors > 1) c71 = TSimd.FusedMultiplyAdd(a7, b1, c71);
                }
                if (TTile.Rows > 8)
                {
                    var a8 = TSimd.Create(a[8]); c80 = TSimd.FusedMultiplyAdd(a8, b0, c80); if (TTile.Vectors > 1) c81 = TSimd.FusedMultiplyAdd(a8, b1, c81);
                    var a9 = TSimd.Create(a[9]); c90 = TSimd.FusedMultiplyAdd(a9, b0, c90); if (TTile.Vectors > 1) c91 = TSimd.FusedMultiplyAdd(a9, b1, c91);
                    var a10 = TSimd.Create(a[10]); c100 = TSimd.FusedMultiplyAdd(a10, b0, c100); if (TTile.Vectors > 1) c101 = TSimd.FusedMultiplyAdd(a10, b1, c101);
                    var a11 = TSimd.Create(a[11]); c110 = TSimd.FusedMultiplyAdd(a11, b0, c110); if (TTile.Vectors > 1) c111 = TSimd.FusedMultiplyAdd(a11, b1, c111);
                }
                a += TTile.PanelRows;
                b += TTile.Vectors * TSimd.Count;
            }
            var alphaV = TSimd.Create(alpha);
            var betaV = TSimd.Create(beta);
            Write(0, c00, c01, c, ldc, alphaV, betaV); Write(1, c10, c11, c, ldc, alphaV, betaV); Write(2, c20, c21, c, ldc, alphaV, betaV);
            Write(3, c30, c31, c, ldc, alphaV, betaV); Write(4, c40, c41, c, ldc, alphaV, betaV); Write(5, c50, c51, c, ldc, alphaV, betaV);
            Write(6, c60, c61, c, ldc, alphaV, betaV); Write(7, c70, c71, c, ldc, alphaV, betaV); Write(8, c80, c81, c, ldc, alphaV, betaV);
            Write(9, c90, c91, c, ldc, alphaV, betaV); Write(10, c100, c101, c, ldc, alphaV, betaV); Write(11, c110, c111, c, ldc, alphaV, betaV);
        }

        /// <summary>AVX-512: touches row <paramref name="row"/> of the C tile, when the tile has it, so
        /// its lines arrive (from L3 or memory, for big C) during the depth loop instead of stalling
        /// the write-back.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Prefetch(int row, float* c, nint ldc)
        {
            if (TSimd.Count != 16 || row >= TTile.Rows) return;
            Sse.Prefetch0(c + row * ldc);
            if (TTile.Vectors > 1) Sse.Prefetch0(c + row * ldc + TSimd.Count);
        }

        /// <summary>Row <paramref name="row"/> of the tile, when the tile has it: C = alpha·accumulator
        /// (+ beta·C unless <typeparamref name="TWrite"/> overwrites).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Write(int row, TVector first, TVector second, float* c, nint ldc, TVector alpha, TVector beta)
        {
            if (row >= TTile.Rows) return;
            Write(first, c + row * ldc, alpha, beta);
            if (TTile.Vectors > 1) Write(second, c + row * ldc + TSimd.Count, alpha, beta);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Write(TVector accumulator, float* c, TVector alpha, TVector beta)
        {
            if (TWrite.Overwrite) TSimd.Store(TSimd.Multiply(accumulator, alpha), c);
            else TSimd.Store(TSimd.FusedMultiplyAdd(accumulator, alpha, TSimd.Multiply(beta, TSimd.Load(c))), c);
        }
    }

    /// <summary>Scalar fallback, 4×4: 16 accumulators fit the 16 general-purpose-era xmm registers.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void KernelScalar4x4(int depth, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        float c00 = 0f; float c01 = 0f; float c02 = 0f; float c03 = 0f;
        float c10 = 0f; float c11 = 0f; float c12 = 0f; float c13 = 0f;
        float c20 = 0f; float c21 = 0f; float c22 = 0f; float c23 = 0f;
        float c30 = 0f; float c31 = 0f; float c32 = 0f; float c33 = 0f;
        for (int p = 0; p < depth; p++)
        {
            float b0 = b[0]; float b1 = b[1]; float b2 = b[2]; float b3 = b[3];
            float a0 = a[0];
            c00 = MathF.FusedMultiplyAdd(a0, b0, c00); c01 = MathF.FusedMultiplyAdd(a0, b1, c01); c02 = MathF.FusedMultiplyAdd(a0, b2, c02); c03 = MathF.FusedMultiplyAdd(a0, b3, c03);
            float a1 = a[1];
            c10 = MathF.FusedMultiplyAdd(a1, b0, c10); c11 = MathF.FusedMultiplyAdd(a1, b1, c11); c12 = MathF.FusedMultiplyAdd(a1, b2, c12); c13 = MathF.FusedMultiplyAdd(a1, b3, c13);
            float a2 = a[2];
            c20 = MathF.FusedMultiplyAdd(a2, b0, c20); c21 = MathF.FusedMultiplyAdd(a2, b1, c21); c22 = MathF.FusedMultiplyAdd(a2, b2, c22); c23 = MathF.FusedMultiplyAdd(a2, b3, c23);
            float a3 = a[3];
            c30 = MathF.FusedMultiplyAdd(a3, b0, c30); c31 = MathF.FusedMultiplyAdd(a3, b1, c31); c32 = MathF.FusedMultiplyAdd(a3, b2, c32); c33 = MathF.FusedMultiplyAdd(a3, b3, c33);
            a += 4;
            b += 4;
        }
        Update(c + 0 * ldc, c00, c01, c02, c03, alpha, beta);
        Update(c + 1 * ldc, c10, c11, c12, c13, alpha, beta);
        Update(c + 2 * ldc, c20, c21, c22, c23, alpha, beta);
        Update(c + 3 * ldc, c30, c31, c32, c33, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Update(float* c, float c0, float c1, float c2, float c3, float alpha, float beta)
    {
        if (beta == 0f)
        {
            c[0] = alpha * c0; c[1] = alpha * c1; c[2] = alpha * c2; c[3] = alpha * c3;
        }
        else
        {
            c[0] = MathF.FusedMultiplyAdd(alpha, c0, beta * c[0]);
            c[1] = MathF.FusedMultiplyAdd(alpha, c1, beta * c[1]);
            c[2] = MathF.FusedMultiplyAdd(alpha, c2, beta * c[2]);
            c[3] = MathF.FusedMultiplyAdd(alpha, c3, beta * c[3]);
        }
    }
}

/// <summary>The shape of a micro-kernel call, compile-time constants per type: the rows of C
/// it computes, the rows of the Ã panel it steps through (more than <see cref="Rows"/> only for
/// the last tile of an M that is not a multiple of the panel), and the B̃ vectors per row.</summary>
interface IMicroTile
{
    static abstract int Rows { get; }
    static abstract int PanelRows { get; }
    static abstract int Vectors { get; }
}

struct Tile12x2 : IMicroTile { public static int Rows => 12; public static int PanelRows => 12; public static int Vectors => 2; }
struct Tile8x2 : IMicroTile { public static int Rows => 8; public static int PanelRows => 12; public static int Vectors => 2; }
struct Tile4x2 : IMicroTile { public static int Rows => 4; public static int PanelRows => 12; public static int Vectors => 2; }
struct Tile12x1 : IMicroTile { public static int Rows => 12; public static int PanelRows => 12; public static int Vectors => 1; }
struct Tile6x2 : IMicroTile { public static int Rows => 6; public static int PanelRows => 6; public static int Vectors => 2; }

/// <summary>How a micro-kernel writes C: <see cref="OverwriteC"/> (beta = 0, C never read) or
/// <see cref="AccumulateC"/> (C = alpha·AB + beta·C).</summary>
interface IWriteMode { static abstract bool Overwrite { get; } }

struct OverwriteC : IWriteMode { public static bool Overwrite => true; }
struct AccumulateC : IWriteMode { public static bool Overwrite => false; }
