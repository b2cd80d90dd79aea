using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sinapse.Kernels;

/// <summary>
/// The register-blocked micro-kernels of <see cref="Gemm"/>, one per vector width:
/// C[0..MR, 0..NR] = alpha·(Ã·B̃) + beta·C, where Ã is a packed MR-row panel (depth×MR,
/// k-major) and B̃ a packed NR-column panel (depth×NR, k-major). Each depth step loads NR/lanes
/// vectors of B̃, broadcasts the MR values of Ã one by one and issues MR·NR/lanes FMAs into
/// accumulators that stay in registers for the whole depth loop.
/// </summary>
/// <remarks>
/// The bodies are unrolled by hand because the JIT keeps locals, not arrays, in registers.
/// Check the register allocation after editing (Release, then
/// <c>DOTNET_JitDisasm=Kernel* DOTNET_JitStdOutFile=dis.txt</c>): the depth loop must be only
/// loads, broadcasts and FMAs, with no stack traffic; a spilled accumulator halves throughput.
/// </remarks>
static unsafe class GemmMicroKernels
{
    /// <summary>AVX-512, 12×32: 24 zmm accumulators + 2 B̃ vectors + 1 broadcast of the 32 zmm registers.
    /// On Zen 4/5 (two 512-bit FMA pipes, 4-cycle latency) 24 independent chains hide the FMA latency,
    /// and each depth step is 14 loads for 24 FMAs, under the two loads per cycle the core sustains.
    /// <typeparamref name="TRows"/> = <see cref="Rows8"/> or <see cref="Rows4"/> computes only the first 8
    /// or 4 rows of the tile (the Ã panel still 12 wide), for the last tile of an M that is not a
    /// multiple of 12 (M = 64 is 5 tiles and 4 rows): the full kernel spent as long there as on a
    /// whole tile. Each instantiation is compiled separately, so the guards cost nothing.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Kernel512<TRows>(int depth, float* a, float* b, float* c, nint ldc, float alpha, float beta)
        where TRows : struct, IRowCount
    {
        Vector512<float> c00 = default; Vector512<float> c01 = default;
        Vector512<float> c10 = default; Vector512<float> c11 = default;
        Vector512<float> c20 = default; Vector512<float> c21 = default;
        Vector512<float> c30 = default; Vector512<float> c31 = default;
        Vector512<float> c40 = default; Vector512<float> c41 = default;
        Vector512<float> c50 = default; Vector512<float> c51 = default;
        Vector512<float> c60 = default; Vector512<float> c61 = default;
        Vector512<float> c70 = default; Vector512<float> c71 = default;
        Vector512<float> c80 = default; Vector512<float> c81 = default;
        Vector512<float> c90 = default; Vector512<float> c91 = default;
        Vector512<float> c100 = default; Vector512<float> c101 = default;
        Vector512<float> c110 = default; Vector512<float> c111 = default;
        // Touch the C tile now so its lines arrive (from L3 or memory, for big C) during the
        // depth loop instead of stalling the write-back.
        Sse.Prefetch0(c + 0 * ldc + 0); Sse.Prefetch0(c + 0 * ldc + 16);
        Sse.Prefetch0(c + 1 * ldc + 0); Sse.Prefetch0(c + 1 * ldc + 16);
        Sse.Prefetch0(c + 2 * ldc + 0); Sse.Prefetch0(c + 2 * ldc + 16);
        Sse.Prefetch0(c + 3 * ldc + 0); Sse.Prefetch0(c + 3 * ldc + 16);
        if (TRows.Count > 4)
        {
            Sse.Prefetch0(c + 4 * ldc + 0); Sse.Prefetch0(c + 4 * ldc + 16);
            Sse.Prefetch0(c + 5 * ldc + 0); Sse.Prefetch0(c + 5 * ldc + 16);
            Sse.Prefetch0(c + 6 * ldc + 0); Sse.Prefetch0(c + 6 * ldc + 16);
            Sse.Prefetch0(c + 7 * ldc + 0); Sse.Prefetch0(c + 7 * ldc + 16);
        }
        if (TRows.Count > 8)
        {
            Sse.Prefetch0(c + 8 * ldc + 0); Sse.Prefetch0(c + 8 * ldc + 16);
            Sse.Prefetch0(c + 9 * ldc + 0); Sse.Prefetch0(c + 9 * ldc + 16);
            Sse.Prefetch0(c + 10 * ldc + 0); Sse.Prefetch0(c + 10 * ldc + 16);
            Sse.Prefetch0(c + 11 * ldc + 0); Sse.Prefetch0(c + 11 * ldc + 16);
        }
        for (int p = 0; p < depth; p++)
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00); c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10); c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20); c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30); c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            if (TRows.Count > 4)
            {
                var a4 = Vector512.Create(a[4]);
                c40 = Vector512.FusedMultiplyAdd(a4, b0, c40); c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
                var a5 = Vector512.Create(a[5]);
                c50 = Vector512.FusedMultiplyAdd(a5, b0, c50); c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
                var a6 = Vector512.Create(a[6]);
                c60 = Vector512.FusedMultiplyAdd(a6, b0, c60); c61 = Vector512.FusedMultiplyAdd(a6, b1, c61);
                var a7 = Vector512.Create(a[7]);
                c70 = Vector512.FusedMultiplyAdd(a7, b0, c70); c71 = Vector512.FusedMultiplyAdd(a7, b1, c71);
            }
            if (TRows.Count > 8)
            {
                var a8 = Vector512.Create(a[8]);
                c80 = Vector512.FusedMultiplyAdd(a8, b0, c80); c81 = Vector512.FusedMultiplyAdd(a8, b1, c81);
                var a9 = Vector512.Create(a[9]);
                c90 = Vector512.FusedMultiplyAdd(a9, b0, c90); c91 = Vector512.FusedMultiplyAdd(a9, b1, c91);
                var a10 = Vector512.Create(a[10]);
                c100 = Vector512.FusedMultiplyAdd(a10, b0, c100); c101 = Vector512.FusedMultiplyAdd(a10, b1, c101);
                var a11 = Vector512.Create(a[11]);
                c110 = Vector512.FusedMultiplyAdd(a11, b0, c110); c111 = Vector512.FusedMultiplyAdd(a11, b1, c111);
            }
            a += 12;
            b += 32;
        }
        var alphaV = Vector512.Create(alpha);
        if (beta == 0f)
        {
            // beta = 0 overwrites C without reading it: C may hold NaN garbage from a pool.
            (c00 * alphaV).Store(c + 0 * ldc + 0); (c01 * alphaV).Store(c + 0 * ldc + 16);
            (c10 * alphaV).Store(c + 1 * ldc + 0); (c11 * alphaV).Store(c + 1 * ldc + 16);
            (c20 * alphaV).Store(c + 2 * ldc + 0); (c21 * alphaV).Store(c + 2 * ldc + 16);
            (c30 * alphaV).Store(c + 3 * ldc + 0); (c31 * alphaV).Store(c + 3 * ldc + 16);
            if (TRows.Count > 4)
            {
                (c40 * alphaV).Store(c + 4 * ldc + 0); (c41 * alphaV).Store(c + 4 * ldc + 16);
                (c50 * alphaV).Store(c + 5 * ldc + 0); (c51 * alphaV).Store(c + 5 * ldc + 16);
                (c60 * alphaV).Store(c + 6 * ldc + 0); (c61 * alphaV).Store(c + 6 * ldc + 16);
                (c70 * alphaV).Store(c + 7 * ldc + 0); (c71 * alphaV).Store(c + 7 * ldc + 16);
            }
            if (TRows.Count > 8)
            {
                (c80 * alphaV).Store(c + 8 * ldc + 0); (c81 * alphaV).Store(c + 8 * ldc + 16);
                (c90 * alphaV).Store(c + 9 * ldc + 0); (c91 * alphaV).Store(c + 9 * ldc + 16);
                (c100 * alphaV).Store(c + 10 * ldc + 0); (c101 * alphaV).Store(c + 10 * ldc + 16);
                (c110 * alphaV).Store(c + 11 * ldc + 0); (c111 * alphaV).Store(c + 11 * ldc + 16);
            }
        }
        else
        {
            var betaV = Vector512.Create(beta);
            Update(c00, c + 0 * ldc + 0, alphaV, betaV);
            Update(c01, c + 0 * ldc + 16, alphaV, betaV);
            Update(c10, c + 1 * ldc + 0, alphaV, betaV);
            Update(c11, c + 1 * ldc + 16, alphaV, betaV);
            Update(c20, c + 2 * ldc + 0, alphaV, betaV);
            Update(c21, c + 2 * ldc + 16, alphaV, betaV);
            Update(c30, c + 3 * ldc + 0, alphaV, betaV);
            Update(c31, c + 3 * ldc + 16, alphaV, betaV);
            if (TRows.Count > 4)
            {
                Update(c40, c + 4 * ldc + 0, alphaV, betaV);
                Update(c41, c + 4 * ldc + 16, alphaV, betaV);
                Update(c50, c + 5 * ldc + 0, alphaV, betaV);
                Update(c51, c + 5 * ldc + 16, alphaV, betaV);
                Update(c60, c + 6 * ldc + 0, alphaV, betaV);
                Update(c61, c + 6 * ldc + 16, alphaV, betaV);
                Update(c70, c + 7 * ldc + 0, alphaV, betaV);
                Update(c71, c + 7 * ldc + 16, alphaV, betaV);
            }
            if (TRows.Count > 8)
            {
                Update(c80, c + 8 * ldc + 0, alphaV, betaV);
                Update(c81, c + 8 * ldc + 16, alphaV, betaV);
                Update(c90, c + 9 * ldc + 0, alphaV, betaV);
                Update(c91, c + 9 * ldc + 16, alphaV, betaV);
                Update(c100, c + 10 * ldc + 0, alphaV, betaV);
                Update(c101, c + 10 * ldc + 16, alphaV, betaV);
                Update(c110, c + 11 * ldc + 0, alphaV, betaV);
                Update(c111, c + 11 * ldc + 16, alphaV, betaV);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Update(Vector512<float> accumulator, float* c, Vector512<float> alpha, Vector512<float> beta) =>
        Vector512.FusedMultiplyAdd(accumulator, alpha, beta * Vector512.Load(c)).Store(c);

    /// <summary>AVX-512, 12×16, for products at most 16 columns wide (a classifier's last layer):
    /// the 32-wide kernel would spend most of its FMAs on padding there.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Kernel512Narrow(int depth, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector512<float> c00 = default;
        Vector512<float> c10 = default;
        Vector512<float> c20 = default;
        Vector512<float> c30 = default;
        Vector512<float> c40 = default;
        Vector512<float> c50 = default;
        Vector512<float> c60 = default;
        Vector512<float> c70 = default;
        Vector512<float> c80 = default;
        Vector512<float> c90 = default;
        Vector512<float> c100 = default;
        Vector512<float> c110 = default;
        // Touch the C tile now so its lines arrive (from L3 or memory, for big C) during the
        // depth loop instead of stalling the write-back.
        Sse.Prefetch0(c + 0 * ldc + 0);
        Sse.Prefetch0(c + 1 * ldc + 0);
        Sse.Prefetch0(c + 2 * ldc + 0);
        Sse.Prefetch0(c + 3 * ldc + 0);
        Sse.Prefetch0(c + 4 * ldc + 0);
        Sse.Prefetch0(c + 5 * ldc + 0);
        Sse.Prefetch0(c + 6 * ldc + 0);
        Sse.Prefetch0(c + 7 * ldc + 0);
        Sse.Prefetch0(c + 8 * ldc + 0);
        Sse.Prefetch0(c + 9 * ldc + 0);
        Sse.Prefetch0(c + 10 * ldc + 0);
        Sse.Prefetch0(c + 11 * ldc + 0);
        for (int p = 0; p < depth; p++)
        {
            var b0 = Vector512.Load(b + 0);
            var a0 = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            var a1 = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            var a2 = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            var a3 = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            var a4 = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
            var a5 = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
            var a6 = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(a6, b0, c60);
            var a7 = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(a7, b0, c70);
            var a8 = Vector512.Create(a[8]);
            c80 = Vector512.FusedMultiplyAdd(a8, b0, c80);
            var a9 = Vector512.Create(a[9]);
            c90 = Vector512.FusedMultiplyAdd(a9, b0, c90);
            var a10 = Vector512.Create(a[10]);
            c100 = Vector512.FusedMultiplyAdd(a10, b0, c100);
            var a11 = Vector512.Create(a[11]);
            c110 = Vector512.FusedMultiplyAdd(a11, b0, c110);
            a += 12;
            b += 16;
        }
        var alphaV = Vector512.Create(alpha);
        if (beta == 0f)
        {
            // beta = 0 overwrites C without reading it: C may hold NaN garbage from a pool.
            (c00 * alphaV).Store(c + 0 * ldc + 0);
            (c10 * alphaV).Store(c + 1 * ldc + 0);
            (c20 * alphaV).Store(c + 2 * ldc + 0);
            (c30 * alphaV).Store(c + 3 * ldc + 0);
            (c40 * alphaV).Store(c + 4 * ldc + 0);
            (c50 * alphaV).Store(c + 5 * ldc + 0);
            (c60 * alphaV).Store(c + 6 * ldc + 0);
            (c70 * alphaV).Store(c + 7 * ldc + 0);
            (c80 * alphaV).Store(c + 8 * ldc + 0);
            (c90 * alphaV).Store(c + 9 * ldc + 0);
            (c100 * alphaV).Store(c + 10 * ldc + 0);
            (c110 * alphaV).Store(c + 11 * ldc + 0);
        }
        else
        {
            var betaV = Vector512.Create(beta);
            Update(c00, c + 0 * ldc + 0, alphaV, betaV);
            Update(c10, c + 1 * ldc + 0, alphaV, betaV);
            Update(c20, c + 2 * ldc + 0, alphaV, betaV);
            Update(c30, c + 3 * ldc + 0, alphaV, betaV);
            Update(c40, c + 4 * ldc + 0, alphaV, betaV);
            Update(c50, c + 5 * ldc + 0, alphaV, betaV);
            Update(c60, c + 6 * ldc + 0, alphaV, betaV);
            Update(c70, c + 7 * ldc + 0, alphaV, betaV);
            Update(c80, c + 8 * ldc + 0, alphaV, betaV);
            Update(c90, c + 9 * ldc + 0, alphaV, betaV);
            Update(c100, c + 10 * ldc + 0, alphaV, betaV);
            Update(c110, c + 11 * ldc + 0, alphaV, betaV);
        }
    }

    /// <summary>AVX2/FMA, 6×16: 12 ymm accumulators + 2 B̃ vectors + 1 broadcast of the 16 ymm registers
    /// (the classic Haswell shape).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Kernel256(int depth, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        Vector256<float> c00 = default; Vector256<float> c01 = default;
        Vector256<float> c10 = default; Vector256<float> c11 = default;
        Vector256<float> c20 = default; Vector256<float> c21 = default;
        Vector256<float> c30 = default; Vector256<float> c31 = default;
        Vector256<float> c40 = default; Vector256<float> c41 = default;
        Vector256<float> c50 = default; Vector256<float> c51 = default;
        for (int p = 0; p < depth; p++)
        {
            var b0 = Vector256.Load(b + 0);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00); c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10); c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20); c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30); c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(a4, b0, c40); c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(a5, b0, c50); c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            a += 6;
            b += 16;
        }
        var alphaV = Vector256.Create(alpha);
        if (beta == 0f)
        {
            // beta = 0 overwrites C without reading it: C may hold NaN garbage from a pool.
            (c00 * alphaV).Store(c + 0 * ldc + 0); (c01 * alphaV).Store(c + 0 * ldc + 8);
            (c10 * alphaV).Store(c + 1 * ldc + 0); (c11 * alphaV).Store(c + 1 * ldc + 8);
            (c20 * alphaV).Store(c + 2 * ldc + 0); (c21 * alphaV).Store(c + 2 * ldc + 8);
            (c30 * alphaV).Store(c + 3 * ldc + 0); (c31 * alphaV).Store(c + 3 * ldc + 8);
            (c40 * alphaV).Store(c + 4 * ldc + 0); (c41 * alphaV).Store(c + 4 * ldc + 8);
            (c50 * alphaV).Store(c + 5 * ldc + 0); (c51 * alphaV).Store(c + 5 * ldc + 8);
        }
        else
        {
            var betaV = Vector256.Create(beta);
            Update(c00, c + 0 * ldc + 0, alphaV, betaV);
            Update(c01, c + 0 * ldc + 8, alphaV, betaV);
            Update(c10, c + 1 * ldc + 0, alphaV, betaV);
            Update(c11, c + 1 * ldc + 8, alphaV, betaV);
            Update(c20, c + 2 * ldc + 0, alphaV, betaV);
            Update(c21, c + 2 * ldc + 8, alphaV, betaV);
            Update(c30, c + 3 * ldc + 0, alphaV, betaV);
            Update(c31, c + 3 * ldc + 8, alphaV, betaV);
            Update(c40, c + 4 * ldc + 0, alphaV, betaV);
            Update(c41, c + 4 * ldc + 8, alphaV, betaV);
            Update(c50, c + 5 * ldc + 0, alphaV, betaV);
            Update(c51, c + 5 * ldc + 8, alphaV, betaV);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Update(Vector256<float> accumulator, float* c, Vector256<float> alpha, Vector256<float> beta) =>
        Vector256.FusedMultiplyAdd(accumulator, alpha, beta * Vector256.Load(c)).Store(c);

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

/// <summary>How many rows of a tile a micro-kernel computes (a compile-time constant per type).</summary>
interface IRowCount { static abstract int Count { get; } }

struct Rows4 : IRowCount { public static int Count => 4; }
struct Rows8 : IRowCount { public static int Count => 8; }
struct Rows12 : IRowCount { public static int Count => 12; }
