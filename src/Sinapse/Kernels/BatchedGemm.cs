namespace Sinapse.Kernels;

/// <summary>
/// Many single-precision matrix products of one shape, on <see cref="Gemm"/>: for each target t,
/// C_t = Σ_p op(A_left[p])·op(B_right[p]) + beta·C_t over the terms p of t, where every operand is
/// a stack of dense row-major matrices — A_i the i-th m×k block of A (k×m when transposed), B_j
/// the j-th k×n block of B (n×k), C_t the t-th m×n block of C.
/// </summary>
/// <remarks>
/// <para>A batched product has one term per target. Its gradient with respect to an operand that
/// several products share (a broadcast batch dimension) has one target per matrix of that
/// operand, with a term for every product that used it: the terms accumulate into the target
/// with beta = 1, so no per-product gradient is ever made.</para>
/// <para>Targets are split into fixed contiguous ranges, one per thread, when that keeps the
/// threads evenly busy or the products are too small for the GEMM to split; otherwise they run
/// in order, each product using every thread. A target's terms always run in order, one GEMM
/// each, and a GEMM's result does not depend on the threads that compute it, so C is bitwise the
/// same for any <see cref="Workers.Count"/>.</para>
/// </remarks>
internal static unsafe class BatchedGemm
{
    /// <summary>
    /// For every target t in [0, start.Length − 1): C_t = Σ op(A_left[p])·op(B_right[p]) over
    /// p in [start[t], start[t + 1]), plus beta·C_t (beta = 0: C_t is overwritten without being
    /// read). Every target needs at least one term.
    /// </summary>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c,
        ReadOnlySpan<int> left, ReadOnlySpan<int> right, ReadOnlySpan<int> start)
    {
        Validate(m, n, k, a.Length, b.Length, c.Length, left, right, start);
        int targets = start.Length - 1;
        if (targets == 0 || m == 0 || n == 0) return;

        fixed (float* aPointer = a, bPointer = b, cPointer = c)
        fixed (int* leftPointer = left, rightPointer = right, startPointer = start)
        {
            var job = ParallelJob.ForThisThread<Job>();
            job.Problem = new Problem
            {
                TransposeA = transposeA, TransposeB = transposeB, M = m, N = n, K = k, Targets = targets, Beta = beta,
                A = aPointer, B = bPointer, C = cPointer, Left = leftPointer, Right = rightPointer, Start = startPointer,
            };
            int threads = Workers.Available;
            long productWork = (long)m * n * k;
            job.Run(SplitByTarget(targets, threads, productWork, productWork * left.Length) ? Math.Min(threads, targets) : 1);
        }
    }

    /// <summary>Whole targets per thread, or one product at a time on every thread: the first
    /// when the GEMM would not split one product (below its threshold) or when the targets keep
    /// the threads busy at least four fifths of the time (3 targets on 2 threads would leave one
    /// idle half the time; 5 on 2 a sixth). All of it on the calling thread when the whole
    /// call is below the GEMM's threshold: waking the workers would cost more.</summary>
    static bool SplitByTarget(int targets, int threads, long productWork, long totalWork)
    {
        if (threads == 1 || targets == 1 || totalWork < Gemm.ParallelThreshold) return false;
        if (productWork < Gemm.ParallelThreshold) return true;
        long rounds = (targets + threads - 1) / threads;
        return 4 * rounds * threads <= 5L * targets;
    }

    static void Validate(int m, int n, int k, int aLength, int bLength, int cLength,
        ReadOnlySpan<int> left, ReadOnlySpan<int> right, ReadOnlySpan<int> start)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"BatchedGemm: sizes must be non-negative, got m={m}, n={n}, k={k}.");
        if (left.Length != right.Length)
            throw new ArgumentException($"BatchedGemm: {left.Length} left and {right.Length} right matrix indices; each term needs one of each.");
        if (start.Length == 0 || start[0] != 0 || start[^1] != left.Length)
            throw new ArgumentException($"BatchedGemm: the term starts must run from 0 to the {left.Length} terms.");
        for (int t = 0; t + 1 < start.Length; t++)
            if (start[t + 1] <= start[t])
                throw new ArgumentException($"BatchedGemm: target {t} has no terms (starts {start[t]} and {start[t + 1]}); every target needs at least one.");
        int targets = start.Length - 1;
        if ((long)targets * m * n > cLength)
            throw new ArgumentException($"BatchedGemm: C needs {(long)targets * m * n} elements for {targets} matrices of {m}x{n}, got {cLength}.");
        CheckIndices("A", left, (long)m * k, aLength);
        CheckIndices("B", right, (long)k * n, bLength);
    }

    static void CheckIndices(string name, ReadOnlySpan<int> indices, long matrixSize, int length)
    {
        long count = matrixSize == 0 ? long.MaxValue : length / matrixSize;
        foreach (int index in indices)
            if (index < 0 || index >= count)
                throw new ArgumentException($"BatchedGemm: matrix {index} of {name} is outside its {count} matrices of {matrixSize} elements ({length} elements).");
    }

    /// <summary>The arguments of one call, as raw pointers (pinned by Multiply while any thread works).</summary>
    struct Problem
    {
        public bool TransposeA, TransposeB;
        public int M, N, K, Targets;
        public float Beta;
        public float* A, B, C;
        public int* Left, Right, Start;
    }

    /// <summary>One call's split into tasks: whole targets per task.</summary>
    sealed class Job : ParallelJob
    {
        public Problem Problem;

        /// <summary>The task's share of the targets, each term a GEMM.</summary>
        protected override void RunTask(int task)
        {
            ref readonly var p = ref Problem;
            var (first, end) = Share(p.Targets, task);
            int aSize = p.M * p.K, bSize = p.K * p.N, cSize = p.M * p.N;
            // Dense rows; a leading dimension of at least 1 even when a row is empty (k = 0).
            int lda = Math.Max(1, p.TransposeA ? p.M : p.K), ldb = Math.Max(1, p.TransposeB ? p.K : p.N);
            for (int t = first; t < end; t++)
            {
                var target = new Span<float>(p.C + (nint)t * cSize, cSize);
                for (int term = p.Start[t]; term < p.Start[t + 1]; term++)
                {
                    var a = new ReadOnlySpan<float>(p.A + (nint)p.Left[term] * aSize, aSize);
                    var b = new ReadOnlySpan<float>(p.B + (nint)p.Right[term] * bSize, bSize);
                    Gemm.Multiply(p.TransposeA, p.TransposeB, p.M, p.N, p.K, 1f, a, lda, b, ldb,
                        term == p.Start[t] ? p.Beta : 1f, target, p.N);
                }
            }
        }
    }
}
