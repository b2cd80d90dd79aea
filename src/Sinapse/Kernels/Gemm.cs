using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sinapse.Kernels;

/// <summary>The micro-kernel family <see cref="Gemm"/> uses; chosen from the hardware at start-up,
/// settable (internally) so the tests can exercise every path on one machine.</summary>
internal enum GemmKernel { Scalar, Vector256, Vector512 }

/// <summary>
/// Single-precision matrix product, BLIS-style: C = alpha·op(A)·op(B) + beta·C, row-major.
/// </summary>
/// <remarks>
/// The five loops around the micro-kernel, from the outside in:
/// <code>
/// jc over N in NC columns   — a KC×NC block of op(B) is packed once per (jc, pc)
///   pc over K in KC steps   — the depth of one packed block
///     ic over M in MC rows  — an MC×KC block of op(A) is packed
///       jr over NC in NR    — one NR-column panel of B̃ stays in L1 ...
///         ir over MC in MR  — ... while the MR-row panels of Ã stream from L2 through the micro-kernel
/// </code>
/// Threads split the rows (ic) or the columns (jc) of C into fixed parts, one per thread; each
/// thread packs the pieces of A and B its part needs into its own reused buffers, so threads never
/// wait for each other. Parts start on tile boundaries and K is cut into the same blocks for any
/// split, so every element is computed by the same instructions in the same order whichever
/// thread computes it: the same inputs give bitwise the same C for a given
/// <see cref="Workers.Count"/> (the contract), and in fact for any count on one machine (the tests
/// check 1 against 2).
/// Shapes where packing costs more than it saves (one row, one column, depth 1) take direct paths.
/// </remarks>
public static unsafe class Gemm
{
    // Cache blocking (floats), for Zen 4/5: 48 KiB L1d and 1 MiB L2 per core, 32 MiB shared L3.
    // On a noisy 2-core machine, KC 192-512 and MC 96-384 measured within noise of each other;
    // these are the middle of that plateau.
    /// <summary>Largest depth of a packed block. One NR-column panel of B̃ (KC·NR·4 ≤ 40 KiB at
    /// NR = 32) stays in the 48 KiB L1d while the Ã panels stream past it. K is cut into equal
    /// blocks no deeper than this (784 → 3 × 262, not 320 + 320 + 144), so no pass over C is
    /// wasted on a thin remainder.</summary>
    const int KC = 320;
    /// <summary>Rows of a packed Ã block: MC·KC·4 ≈ 240 KiB, a quarter of the 1 MiB L2, so B̃
    /// panels and C tiles passing through do not evict it.</summary>
    const int MCTarget = 192;
    /// <summary>Columns of a packed B̃ block: KC·NC·4 = 2.5 MiB per thread, in the shared L3.</summary>
    const int NC = 2048;

    /// <summary>Below this many multiply-adds (m·n·k) a product runs on the calling thread: waking
    /// the workers costs a few microseconds, more than the work.</summary>
    internal const long ParallelThreshold = 1L << 19;

    /// <summary>The same for the direct paths (one row, one column, depth 1), counted in matrix
    /// elements touched: they are memory-bound, and two cores bring two L2 caches' bandwidth, so
    /// they pay for the dispatch much earlier (from 256 KiB of data).</summary>
    const long DirectParallelThreshold = 1L << 16;

    internal static GemmKernel Kernel { get; set; } =
        Vector512.IsHardwareAccelerated ? GemmKernel.Vector512
        : Vector256.IsHardwareAccelerated ? GemmKernel.Vector256
        : GemmKernel.Scalar;

    internal static int MR => Kernel switch { GemmKernel.Vector512 => 12, GemmKernel.Vector256 => 6, _ => 4 };
    const int NarrowWidth = 16;

    internal static int NR => Kernel switch { GemmKernel.Vector512 => 32, GemmKernel.Vector256 => 16, _ => 4 };

    /// <summary>
    /// C(m×n) = alpha·op(A)·op(B) + beta·C, all row-major. op(A) is m×k: A is stored m×k (lda ≥ k)
    /// or, when <paramref name="transposeA"/>, k×m (lda ≥ m); likewise op(B) is k×n from B stored
    /// k×n (ldb ≥ n) or n×k (ldb ≥ k). When <paramref name="beta"/> is 0, C is overwritten
    /// without being read (it may hold garbage, NaN included).
    /// </summary>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }

        fixed (float* aPointer = a)
        fixed (float* bPointer = b)
        fixed (float* cPointer = c)
        {
            var problem = new Problem
            {
                TransposeA = transposeA, TransposeB = transposeB, M = m, N = n, K = k, Alpha = alpha,
                A = aPointer, Lda = lda, B = bPointer, Ldb = ldb, Beta = beta, C = cPointer, Ldc = ldc,
            };
            var job = ParallelJob.ForThisThread<Job>();
            job.Prepare(problem, Workers.Available);
            job.Run(job.TaskCount);
        }
    }

    static void Validate(bool transposeA, bool transposeB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"Gemm: sizes must be non-negative, got m={m}, n={n}, k={k}.");
        // Stored shapes: A is m×k (k×m when transposed), B is k×n (n×k when transposed).
        CheckOperand("A", "lda", transposeA ? k : m, transposeA ? m : k, aLength, lda, transposeA);
        CheckOperand("B", "ldb", transposeB ? n : k, transposeB ? k : n, bLength, ldb, transposeB);
        CheckOperand("C", "ldc", m, n, cLength, ldc, false);
    }

    static void CheckOperand(string name, string leadingName, int rows, int columns, int length, int leading, bool transposed)
    {
        string stored = transposed ? " (stored transposed)" : "";
        if (leading < Math.Max(1, columns))
            throw new ArgumentException(
                $"Gemm: {leadingName} {leading} is less than {columns}, the row length of {name}, stored {rows}x{columns}{stored}.");
        if (rows == 0 || columns == 0) return;
        long needed = (long)(rows - 1) * leading + columns;
        if (length < needed)
            throw new ArgumentException(
                $"Gemm: {name} needs at least {needed} elements for {rows}x{columns} ({leadingName} {leading}){stored}, got {length}.");
    }

    /// <summary>C = beta·C (beta = 0 writes zeros without reading C).</summary>
    static void ScaleC(int m, int n, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0f) row.Clear();
            else if (beta != 1f) TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>The arguments of one product, as raw pointers (the spans are pinned by Multiply
    /// while any thread works on them).</summary>
    struct Problem
    {
        public bool TransposeA, TransposeB;
        public int M, N, K, Lda, Ldb, Ldc;
        public float Alpha, Beta;
        public float* A, B, C;
    }

    /// <summary>
    /// How one product is split into tasks, and the code a task runs. One instance per calling
    /// thread, reused, with its delegate created once, so a product allocates nothing.
    /// </summary>
    sealed class Job : ParallelJob
    {
        Problem problem;
        Path path;
        int rowParts, columnParts;
        public int TaskCount;

        enum Path { Blocked, RowVector, ColumnVector, OuterProduct }

        public void Prepare(in Problem p, int threads)
        {
            problem = p;
            rowParts = 1;
            columnParts = 1;
            // Direct paths: a single row or column of C is a matrix-vector product, and depth 1
            // is an outer product; packing would only copy data that is read once.
            if (p.M == 1) { path = Path.RowVector; columnParts = Parts(threads, p.N, 64, (long)p.N * p.K); }
            else if (p.N == 1) { path = Path.ColumnVector; rowParts = Parts(threads, p.M, 64, (long)p.M * p.K); }
            else if (p.K == 1) { path = Path.OuterProduct; rowParts = Parts(threads, p.M, 8, (long)p.M * p.N); }
            else
            {
                path = Path.Blocked;
                ChooseGrid((long)p.M * p.N * p.K < ParallelThreshold ? 1 : threads, p.M, p.N, p.K);
            }
            TaskCount = rowParts * columnParts;
        }

        /// <summary>Threads for a direct path: enough elements per thread to beat the dispatch.</summary>
        static int Parts(int threads, int length, int minimumPerPart, long work)
        {
            if (work < DirectParallelThreshold) return 1;
            return Math.Max(1, Math.Min(threads, length / minimumPerPart));
        }

        /// <summary>Chooses rowParts × columnParts = threads (or fewer if the matrix has fewer
        /// tiles) minimising what each thread packs: its rows of A (m/rowParts·k) plus its
        /// columns of B (k·n/columnParts).</summary>
        void ChooseGrid(int threads, int m, int n, int k)
        {
            int rowTiles = (m + MR - 1) / MR, columnTiles = (n + NR - 1) / NR;
            for (; threads > 1; threads--)
            {
                double best = double.MaxValue;
                for (int r = 1; r <= threads; r++)
                {
                    if (threads % r != 0) continue;
                    int cParts = threads / r;
                    if (r > rowTiles || cParts > columnTiles) continue;
                    double packed = (double)m / r * k + (double)k * n / cParts;
                    if (packed < best) { best = packed; rowParts = r; columnParts = cParts; }
                }
                if (best < double.MaxValue) return;
            }
            rowParts = columnParts = 1;
        }

        /// <summary>[start, end) of part <paramref name="part"/> of <paramref name="length"/> split
        /// into <paramref name="parts"/> pieces on multiples of <paramref name="unit"/>.</summary>
        static (int Start, int End) Split(int length, int parts, int part, int unit)
        {
            int units = (length + unit - 1) / unit;
            int start = (int)((long)units * part / parts) * unit;
            int end = (int)((long)units * (part + 1) / parts) * unit;
            return (Math.Min(start, length), Math.Min(end, length));
        }

        protected override void RunTask(int task)
        {
            int rowPart = task / columnParts, columnPart = task % columnParts;
            switch (path)
            {
                case Path.Blocked:
                {
                    var rows = Split(problem.M, rowParts, rowPart, MR);
                    var columns = Split(problem.N, columnParts, columnPart, NR);
                    Blocked(problem, rows.Start, rows.End, columns.Start, columns.End);
                    break;
                }
                case Path.RowVector:
                {
                    var columns = Split(problem.N, columnParts, columnPart, 16);
                    RowVector(problem, columns.Start, columns.End);
                    break;
                }
                case Path.ColumnVector:
                {
                    var rows = Split(problem.M, rowParts, rowPart, 16);
                    ColumnVector(problem, rows.Start, rows.End);
                    break;
                }
                case Path.OuterProduct:
                {
                    var rows = Split(problem.M, rowParts, rowPart, 1);
                    OuterProduct(problem, rows.Start, rows.End);
                    break;
                }
            }
        }
    }

    // ---- the blocked path ------------------------------------------------------------------

    /// <summary>C[rowStart..rowEnd, columnStart..columnEnd] of the product: the five loops.</summary>
    static void Blocked(in Problem p, int rowStart, int rowEnd, int columnStart, int columnEnd)
    {
        if (rowStart >= rowEnd || columnStart >= columnEnd) return;
        var kernel = Kernel;
        int mr = MR, nr = NR;
        // A part at most 16 columns wide runs the half-width AVX-512 kernel (less padding).
        bool narrow = kernel == GemmKernel.Vector512 && columnEnd - columnStart <= NarrowWidth;
        if (narrow) nr = NarrowWidth;
        int mc = Math.Max(mr, MCTarget / mr * mr);
        var buffers = PackBuffers.ForThisThread(mc * KC, NC * KC, mr * nr);
        float* packedA = buffers.A, packedB = buffers.B, edge = buffers.Edge;
        int depthBlocks = (p.K + KC - 1) / KC;
        int kc = (p.K + depthBlocks - 1) / depthBlocks;

        for (int jc = columnStart; jc < columnEnd; jc += NC)
        {
            int ncBlock = Math.Min(NC, columnEnd - jc);
            for (int pc = 0; pc < p.K; pc += kc)
            {
                int kcBlock = Math.Min(kc, p.K - pc);
                // The first depth block applies the caller's beta; later ones accumulate.
                float beta = pc == 0 ? p.Beta : 1f;
                GemmPacking.PackB(p.B, p.Ldb, p.TransposeB, pc, kcBlock, jc, ncBlock, nr, packedB);
                for (int ic = rowStart; ic < rowEnd; ic += mc)
                {
                    int mcBlock = Math.Min(mc, rowEnd - ic);
                    GemmPacking.PackA(p.A, p.Lda, p.TransposeA, ic, mcBlock, pc, kcBlock, mr, packedA);
                    for (int jr = 0; jr < ncBlock; jr += nr)
                    {
                        int columns = Math.Min(nr, ncBlock - jr);
                        float* bPanel = packedB + (nint)jr * kcBlock;
                        for (int ir = 0; ir < mcBlock; ir += mr)
                        {
                            int rows = Math.Min(mr, mcBlock - ir);
                            float* aPanel = packedA + (nint)ir * kcBlock;
                            float* cTile = p.C + (nint)(ic + ir) * p.Ldc + jc + jr;
                            RunTile(kernel, narrow, rows, columns, kcBlock, aPanel, bPanel, cTile, p.Ldc, p.Alpha, beta, edge);
                        }
                    }
                }
            }
        }
    }

    /// <summary>The width of the B̃ panels that <see cref="MultiplyPackedB"/> expects for a
    /// product <paramref name="n"/> columns wide (the width <see cref="Blocked"/> would pack).</summary>
    internal static int PackedPanelWidth(int n) =>
        Kernel == GemmKernel.Vector512 && n <= NarrowWidth ? NarrowWidth : NR;

    /// <summary>
    /// C(m×n) = alpha·A·B + beta·C on the calling thread, with B given already packed: ceil(n/nr)
    /// panels of k×nr floats over the full depth (element (p, j) of panel J at J·k·nr + p·nr + j,
    /// zero past column n), nr = <see cref="PackedPanelWidth"/>(n) — the layout
    /// <see cref="GemmPacking.PackB"/> writes for the whole depth. A is stored m×k (lda ≥ k).
    /// Runs exactly the kernel calls of <see cref="Multiply"/>'s blocked path in the same order
    /// per element, so the result is bitwise that of Multiply(false, false, …) on the unpacked B.
    /// </summary>
    internal static void MultiplyPackedB(int m, int n, int k, float alpha, float* a, int lda,
        float* packedB, float beta, float* c, int ldc)
    {
        if (m <= 0 || n <= 0 || k <= 0) throw new ArgumentException("Gemm.MultiplyPackedB: sizes must be positive.");
        var kernel = Kernel;
        int mr = MR, nr = PackedPanelWidth(n);
        bool narrow = nr == NarrowWidth && kernel == GemmKernel.Vector512;
        int mc = Math.Max(mr, MCTarget / mr * mr);
        var buffers = PackBuffers.ForThisThread(mc * KC, 0, mr * nr);
        float* packedA = buffers.A, edge = buffers.Edge;
        int depthBlocks = (k + KC - 1) / KC;
        int kc = (k + depthBlocks - 1) / depthBlocks;
        nint panelStride = (nint)k * nr;
        for (int pc = 0; pc < k; pc += kc)
        {
            int kcBlock = Math.Min(kc, k - pc);
            float blockBeta = pc == 0 ? beta : 1f;
            for (int ic = 0; ic < m; ic += mc)
            {
                int mcBlock = Math.Min(mc, m - ic);
                GemmPacking.PackA(a, lda, false, ic, mcBlock, pc, kcBlock, mr, packedA);
                for (int jr = 0; jr < n; jr += nr)
                {
                    int columns = Math.Min(nr, n - jr);
                    float* bPanel = packedB + (jr / nr) * panelStride + (nint)pc * nr;
                    for (int ir = 0; ir < mcBlock; ir += mr)
                    {
                        int rows = Math.Min(mr, mcBlock - ir);
                        float* aPanel = packedA + (nint)ir * kcBlock;
                        float* cTile = c + (nint)(ic + ir) * ldc + jr;
                        RunTile(kernel, narrow, rows, columns, kcBlock, aPanel, bPanel, cTile, ldc, alpha, blockBeta, edge);
                    }
                }
            }
        }
    }

    /// <summary>
    /// One tile of C (<paramref name="rows"/> × <paramref name="columns"/>, at most MR × nr) from an
    /// Ã and a B̃ panel. A tile the kernel covers exactly is computed in place; an edge tile into a
    /// scratch tile, of which only the part inside C is written back. The 32-wide AVX-512 kernel
    /// computes only the first 4 or 8 rows when no more are needed (the last tile of M = 64 has 4).
    /// Every element gets the same operations whichever way, so results do not depend on the tiling.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void RunTile(GemmKernel kernel, bool narrow, int rows, int columns, int depth, float* a, float* b,
        float* c, int ldc, float alpha, float beta, float* edge)
    {
        int nr = narrow ? NarrowWidth : NR;
        int kernelRows = kernel == GemmKernel.Vector512 && !narrow ? (rows <= 4 ? 4 : rows <= 8 ? 8 : MR) : MR;
        if (rows == kernelRows && columns == nr)
        {
            RunKernel(kernel, narrow, kernelRows, depth, a, b, c, ldc, alpha, beta);
            return;
        }
        RunKernel(kernel, narrow, kernelRows, depth, a, b, edge, nr, 1f, 0f);
        WriteBack(edge, nr, rows, columns, c, ldc, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void RunKernel(GemmKernel kernel, bool narrow, int rows, int depth, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        if (narrow) GemmMicroKernels.Kernel<Simd512, Vector512<float>, Tile12x1>(depth, a, b, c, ldc, alpha, beta);
        else if (kernel == GemmKernel.Vector512)
        {
            if (rows == 4) GemmMicroKernels.Kernel<Simd512, Vector512<float>, Tile4x2>(depth, a, b, c, ldc, alpha, beta);
            else if (rows == 8) GemmMicroKernels.Kernel<Simd512, Vector512<float>, Tile8x2>(depth, a, b, c, ldc, alpha, beta);
            else GemmMicroKernels.Kernel<Simd512, Vector512<float>, Tile12x2>(depth, a, b, c, ldc, alpha, beta);
        }
        else if (kernel == GemmKernel.Vector256) GemmMicroKernels.Kernel<Simd256, Vector256<float>, Tile6x2>(depth, a, b, c, ldc, alpha, beta);
        else GemmMicroKernels.KernelScalar4x4(depth, a, b, c, ldc, alpha, beta);
    }

    static void WriteBack(float* tile, int tileStride, int rows, int columns, float* c, int ldc, float alpha, float beta)
    {
        for (int i = 0; i < rows; i++)
        {
            float* source = tile + (nint)i * tileStride;
            float* destination = c + (nint)i * ldc;
            if (beta == 0f)
                for (int j = 0; j < columns; j++) destination[j] = alpha * source[j];
            else
                for (int j = 0; j < columns; j++) destination[j] = MathF.FusedMultiplyAdd(source[j], alpha, beta * destination[j]);
        }
    }

    /// <summary>The calling thread's packing buffers: grown when too small, then reused for the
    /// life of the thread (the workers are persistent, so steady state allocates nothing).
    /// Pinned arrays (never moved by the GC) aligned to 64 bytes, so panel loads never split
    /// cache lines.</summary>
    sealed class PackBuffers
    {
        [ThreadStatic] static PackBuffers? current;

        float[] storage = [];
        public float* A, B, Edge;

        public static PackBuffers ForThisThread(int aLength, int bLength, int edgeLength)
        {
            var buffers = current ??= new PackBuffers();
            // Each region rounded to whole cache lines (16 floats) so every region stays aligned.
            int aSize = Round16(aLength), bSize = Round16(bLength), edgeSize = Round16(edgeLength);
            int needed = aSize + bSize + edgeSize + 16;
            if (buffers.storage.Length < needed)
            {
                buffers.storage = GC.AllocateUninitializedArray<float>(needed, pinned: true);
            }
            float* start = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffers.storage));
            float* aligned = (float*)(((nint)start + 63) & ~(nint)63);
            buffers.A = aligned;
            buffers.B = aligned + aSize;
            buffers.Edge = aligned + aSize + bSize;
            return buffers;
        }

        static int Round16(int length) => (length + 15) & ~15;
    }

    // ---- direct paths ----------------------------------------------------------------------

    /// <summary>m = 1: C[0, columnStart..columnEnd] = alpha·a·op(B) + beta·C (a vector-matrix product).</summary>
    static void RowVector(in Problem p, int columnStart, int columnEnd)
    {
        int count = columnEnd - columnStart;
        if (count <= 0) return;
        // Row 0 of op(A): contiguous unless A is stored k×1 with a row stride.
        var x = new StridedVector(p.A, p.TransposeA ? p.Lda : 1);
        var y = new Span<float>(p.C + columnStart, count);
        if (p.TransposeB)
        {
            // B stored n×k: each output is the dot product of x with a contiguous row of B.
            for (int j = 0; j < count; j++)
            {
                var row = new ReadOnlySpan<float>(p.B + (nint)(columnStart + j) * p.Ldb, p.K);
                Combine(ref y[j], Dot(x, p.K, row), p.Alpha, p.Beta);
            }
        }
        else
        {
            // B stored k×n: y = Σ_p x[p]·B[p, :], accumulated in chunks that stay in L1.
            AccumulateRows(x, p.B + columnStart, p.Ldb, p.K, y, p.Alpha, p.Beta);
        }
    }

    /// <summary>n = 1: C[rowStart..rowEnd, 0] = alpha·op(A)·b + beta·C (a matrix-vector product).</summary>
    static void ColumnVector(in Problem p, int rowStart, int rowEnd)
    {
        int count = rowEnd - rowStart;
        if (count <= 0) return;
        var x = new StridedVector(p.B, p.TransposeB ? 1 : p.Ldb);
        if (!p.TransposeA)
        {
            // A stored m×k: each output is the dot product of a contiguous row of A with x.
            for (int i = rowStart; i < rowEnd; i++)
            {
                var row = new ReadOnlySpan<float>(p.A + (nint)i * p.Lda, p.K);
                Combine(ref p.C[(nint)i * p.Ldc], Dot(x, p.K, row), p.Alpha, p.Beta);
            }
        }
        else
        {
            // A stored k×m: the outputs are Σ_p x[p]·A[p, rowStart..rowEnd]; C's column has stride ldc.
            var scratch = Scratch.ForThisThread(count);
            AccumulateRows(x, p.A + rowStart, p.Lda, p.K, scratch.AsSpan(0, count), 1f, 0f);
            for (int i = 0; i < count; i++)
                Combine(ref p.C[(nint)(rowStart + i) * p.Ldc], scratch[i], p.Alpha, p.Beta);
        }
    }

    /// <summary>k = 1: C[i, :] = alpha·a_i·b + beta·C[i, :] for rows rowStart..rowEnd.</summary>
    static void OuterProduct(in Problem p, int rowStart, int rowEnd)
    {
        ReadOnlySpan<float> bRow;
        if (p.TransposeB)
        {
            // B stored n×1: gather its column into a contiguous row once.
            var gathered = Scratch.ForThisThread(p.N);
            for (int j = 0; j < p.N; j++) gathered[j] = p.B[(nint)j * p.Ldb];
            bRow = gathered.AsSpan(0, p.N);
        }
        else
        {
            bRow = new ReadOnlySpan<float>(p.B, p.N);
        }
        nint aStride = p.TransposeA ? 1 : p.Lda;
        for (int i = rowStart; i < rowEnd; i++)
        {
            float scale = p.Alpha * p.A[i * aStride];
            var cRow = new Span<float>(p.C + (nint)i * p.Ldc, p.N);
            if (p.Beta == 0f)
            {
                TensorPrimitives.Multiply(bRow, scale, cRow);
            }
            else
            {
                if (p.Beta != 1f) TensorPrimitives.Multiply(cRow, p.Beta, cRow);
                TensorPrimitives.MultiplyAdd(bRow, scale, cRow, cRow);
            }
        }
    }

    /// <summary>A vector whose elements are <see cref="Stride"/> floats apart (a row or a column
    /// of a stored matrix).</summary>
    readonly struct StridedVector(float* pointer, nint stride)
    {
        public readonly float* Pointer = pointer;
        public readonly nint Stride = stride;
    }

    static float Dot(StridedVector x, int length, ReadOnlySpan<float> row)
    {
        if (x.Stride == 1) return TensorPrimitives.Dot(new ReadOnlySpan<float>(x.Pointer, length), row);
        float sum = 0f;
        for (int i = 0; i < length; i++) sum = MathF.FusedMultiplyAdd(x.Pointer[i * x.Stride], row[i], sum);
        return sum;
    }

    /// <summary>y = alpha·Σ_q x[q]·rows[q·stride .. + y.Length] + beta·y.</summary>
    static void AccumulateRows(StridedVector x, float* rows, nint stride, int depth,
        Span<float> y, float alpha, float beta)
    {
        int start = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // 64 columns at a time in four zmm accumulators held across the whole depth, so each
            // element of the matrix is loaded once and y is written once; then 16 at a time, then
            // single columns. All three do the same fused multiply-adds in the same order, so a
            // column's value does not depend on which of them (which thread split) computed it.
            fixed (float* output = y)
            {
                for (; start <= y.Length - 64; start += 64)
                {
                    Vector512<float> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
                    float* row = rows + start;
                    for (int q = 0; q < depth; q++, row += stride)
                    {
                        var scale = Vector512.Create(x.Pointer[q * x.Stride]);
                        sum0 = Vector512.FusedMultiplyAdd(scale, Vector512.Load(row), sum0);
                        sum1 = Vector512.FusedMultiplyAdd(scale, Vector512.Load(row + 16), sum1);
                        sum2 = Vector512.FusedMultiplyAdd(scale, Vector512.Load(row + 32), sum2);
                        sum3 = Vector512.FusedMultiplyAdd(scale, Vector512.Load(row + 48), sum3);
                    }
                    Store(sum0, output + start, alpha, beta);
                    Store(sum1, output + start + 16, alpha, beta);
                    Store(sum2, output + start + 32, alpha, beta);
                    Store(sum3, output + start + 48, alpha, beta);
                }
                for (; start <= y.Length - 16; start += 16)
                {
                    Vector512<float> sum0 = default;
                    float* row = rows + start;
                    for (int q = 0; q < depth; q++, row += stride)
                        sum0 = Vector512.FusedMultiplyAdd(Vector512.Create(x.Pointer[q * x.Stride]), Vector512.Load(row), sum0);
                    Store(sum0, output + start, alpha, beta);
                }
                for (; start < y.Length; start++)
                {
                    float sum0 = 0f;
                    for (int q = 0; q < depth; q++)
                        sum0 = MathF.FusedMultiplyAdd(x.Pointer[q * x.Stride], rows[q * stride + start], sum0);
                    Combine(ref output[start], sum0, alpha, beta);
                }
            }
            return;
        }

        // Without AVX-512: row by row into a partial sum kept in L1.
        const int Chunk = 1024;
        Span<float> sum = stackalloc float[Math.Min(Chunk, Math.Max(1, y.Length - start))];
        for (; start < y.Length; start += Chunk)
        {
            int count = Math.Min(Chunk, y.Length - start);
            var partial = sum[..count];
            partial.Clear();
            for (int q = 0; q < depth; q++)
            {
                var row = new ReadOnlySpan<float>(rows + q * stride + start, count);
                TensorPrimitives.MultiplyAdd(row, x.Pointer[q * x.Stride], partial, partial);
            }
            var output = y.Slice(start, count);
            for (int j = 0; j < count; j++) Combine(ref output[j], partial[j], alpha, beta);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector512<float> sum, float* output, float alpha, float beta)
    {
        var scaled = sum * Vector512.Create(alpha);
        if (beta != 0f) scaled = Vector512.FusedMultiplyAdd(Vector512.Create(beta), Vector512.Load(output), scaled);
        scaled.Store(output);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Combine(ref float c, float product, float alpha, float beta) =>
        c = beta == 0f ? alpha * product : MathF.FusedMultiplyAdd(beta, c, alpha * product);

    /// <summary>Per-thread scratch for the direct paths (grown, then reused).</summary>
    static class Scratch
    {
        [ThreadStatic] static float[]? buffer;

        public static float[] ForThisThread(int length)
        {
            if (buffer == null || buffer.Length < length) buffer = new float[Math.Max(length, 1024)];
            return buffer;
        }
    }
}
