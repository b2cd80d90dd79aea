using Sinapse.Kernels;

namespace Sinapse.Tests.Kernels;

[Collection(Sinapse.Tests.Support.WorkerPoolCollection.Name)]
public class GemmTests
{
    /// <summary>One product's arguments, with every operand padded by its leading dimension so the
    /// tests can check that nothing outside the matrices is touched.</summary>
    sealed record Case(bool TransposeA, bool TransposeB, int M, int N, int K, float Alpha, float Beta,
        int LdaPad = 0, int LdbPad = 0, int LdcPad = 0)
    {
        public int Lda => (TransposeA ? M : K) + LdaPad;
        public int Ldb => (TransposeB ? K : N) + LdbPad;
        public int Ldc => N + LdcPad;
        public int ARows => TransposeA ? K : M;
        public int BRows => TransposeB ? N : K;
    }

    const float Padding = -12345f;

    static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>Runs the case and checks every element against a double-precision reference,
    /// with tolerance relative to Σ|a||b| (plus |beta·c|); returns C.</summary>
    static float[] Check(Case t, int seed = 1)
    {
        var a = Random(Math.Max(1, t.ARows * t.Lda), seed);
        var b = Random(Math.Max(1, t.BRows * t.Ldb), seed + 1);
        var c0 = Random(Math.Max(1, t.M * t.Ldc), seed + 2);
        // Everything outside the stored matrices holds a marker that must survive.
        for (int i = 0; i < t.M; i++)
            for (int j = t.N; j < t.Ldc; j++) c0[i * t.Ldc + j] = Padding;
        if (t.Beta == 0f)
            for (int i = 0; i < t.M; i++)
                for (int j = 0; j < t.N; j++) c0[i * t.Ldc + j] = float.NaN;   // must not be read
        var c = (float[])c0.Clone();

        Gemm.Multiply(t.TransposeA, t.TransposeB, t.M, t.N, t.K, t.Alpha, a, t.Lda, b, t.Ldb, t.Beta, c, t.Ldc);

        for (int i = 0; i < t.M; i++)
        {
            for (int j = 0; j < t.N; j++)
            {
                double sum = 0, magnitude = 0;
                for (int p = 0; p < t.K; p++)
                {
                    double x = t.TransposeA ? a[p * t.Lda + i] : a[i * t.Lda + p];
                    double y = t.TransposeB ? b[j * t.Ldb + p] : b[p * t.Ldb + j];
                    sum += x * y;
                    magnitude += Math.Abs(x * y);
                }
                double old = t.Beta == 0f ? 0 : c0[i * t.Ldc + j];
                double expected = t.Alpha * sum + t.Beta * old;
                double tolerance = 1e-5 * (Math.Abs(t.Alpha) * magnitude + Math.Abs(t.Beta * old)) + 1e-6;
                double actual = c[i * t.Ldc + j];
                Assert.True(Math.Abs(actual - expected) <= tolerance,
                    $"{t}: C[{i},{j}] = {actual}, expected {expected} (tolerance {tolerance})");
            }
            for (int j = t.N; j < t.Ldc; j++)
                Assert.True(c[i * t.Ldc + j] == Padding, $"{t}: padding C[{i},{j}] was overwritten");
        }
        return c;
    }

    public static TheoryData<int, int, int> Sizes => new()
    {
        { 1, 1, 1 }, { 7, 13, 31 }, { 13, 7, 97 }, { 31, 97, 13 }, { 97, 31, 257 },
        { 257, 13, 7 }, { 25, 65, 300 }, { 1, 97, 31 }, { 97, 1, 31 }, { 31, 97, 1 },
        { 2, 3, 1 }, { 12, 32, 256 }, { 130, 70, 520 }, { 64, 96, 300 }, { 68, 64, 40 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void AllTransposeCombinationsMatchReference(int m, int n, int k)
    {
        foreach (bool transposeA in new[] { false, true })
            foreach (bool transposeB in new[] { false, true })
                Check(new Case(transposeA, transposeB, m, n, k, 1f, 0f));
    }

    [Theory]
    [InlineData(1f, 0f)]
    [InlineData(1f, 1f)]
    [InlineData(-0.5f, 2f)]
    [InlineData(2f, -1f)]
    [InlineData(0f, 0.5f)]
    [InlineData(0f, 0f)]
    public void AlphaBetaCombinations(float alpha, float beta)
    {
        foreach (bool transposeA in new[] { false, true })
            foreach (bool transposeB in new[] { false, true })
            {
                Check(new Case(transposeA, transposeB, 37, 45, 300, alpha, beta));   // two depth blocks
                Check(new Case(transposeA, transposeB, 1, 45, 20, alpha, beta));     // row vector
                Check(new Case(transposeA, transposeB, 45, 1, 20, alpha, beta));     // column vector
                Check(new Case(transposeA, transposeB, 21, 19, 1, alpha, beta));     // outer product
            }
    }

    [Fact]
    public void LeadingDimensionsLargerThanNeededLeavePaddingUntouched()
    {
        foreach (bool transposeA in new[] { false, true })
            foreach (bool transposeB in new[] { false, true })
                foreach (var (m, n, k) in new[] { (29, 43, 61), (1, 43, 61), (29, 1, 61), (29, 43, 1) })
                    Check(new Case(transposeA, transposeB, m, n, k, 1.5f, 0.5f, LdaPad: 3, LdbPad: 5, LdcPad: 7));
    }

    [Fact]
    public void ZeroDepthScalesC()
    {
        var c = new[] { 1f, 2f, 3f, 4f };
        Gemm.Multiply(false, false, 2, 2, 0, 1f, [], 1, [], 2, 3f, c, 2);
        Assert.Equal(new[] { 3f, 6f, 9f, 12f }, c);
        var garbage = new[] { float.NaN, float.NaN };
        Gemm.Multiply(false, false, 1, 2, 0, 1f, [], 1, [], 2, 0f, garbage, 2);
        Assert.Equal(new[] { 0f, 0f }, garbage);
    }

    [Theory]
    [InlineData("Vector256")]
    [InlineData("Scalar")]
    public void EveryMicroKernelMatchesReference(string kernelName)
    {
        var kernel = Enum.Parse<GemmKernel>(kernelName);
        var saved = Gemm.Kernel;
        try
        {
            Gemm.Kernel = kernel;
            foreach (bool transposeA in new[] { false, true })
                foreach (bool transposeB in new[] { false, true })
                {
                    Check(new Case(transposeA, transposeB, 31, 45, 270, 1f, 0f));
                    Check(new Case(transposeA, transposeB, 13, 17, 7, -1f, 0.5f, 2, 3, 4));
                }
        }
        finally
        {
            Gemm.Kernel = saved;
        }
    }

    [Fact]
    public void EdgeRowsGiveBitwiseTheRowsOfWholeTiles()
    {
        // The last rows of C when M is not a multiple of the tile height run a 4- or 8-row kernel
        // (in place, or into scratch when columns are ragged too) or a whole tile into scratch; every
        // element must get the operations it gets inside a whole tile. 24 rows are two whole tiles
        // for every kernel; depth 400 is two depth blocks (the second accumulates).
        const int full = 24, k = 400;
        foreach (bool transposeA in new[] { false, true })
            foreach (bool transposeB in new[] { false, true })
                foreach (int n in new[] { 64, 45 })
                    foreach (float beta in new[] { 0f, 1f })
                    {
                        int lda = transposeA ? full : k, ldb = transposeB ? k : n;
                        var a = Random(full * k, 1);
                        var b = Random(k * n, 2);
                        var initial = Random(full * n, 3);
                        var whole = (float[])initial.Clone();
                        Gemm.Multiply(transposeA, transposeB, full, n, k, 1.5f, a, lda, b, ldb, beta, whole, n);
                        for (int m = 2; m < full; m++)   // (one row is a vector-matrix product, another path)
                        {
                            var c = initial.AsSpan(0, m * n).ToArray();
                            Gemm.Multiply(transposeA, transposeB, m, n, k, 1.5f, a, lda, b, ldb, beta, c, n);
                            Assert.True(c.AsSpan().SequenceEqual(whole.AsSpan(0, m * n)),
                                $"m={m} n={n} transposeA={transposeA} transposeB={transposeB} beta={beta}: rows differ from those of the {full}-row product");
                        }
                    }
    }

    [Fact]
    public void MultithreadedResultsAreBitwiseReproducible()
    {
        // Shapes above the single-thread threshold, for the blocked path and each direct path
        // (their values are checked against the reference by the tests above).
        var shapes = new[] { (100, 200, 150), (1, 2000, 300), (2000, 1, 300), (1200, 500, 1), (150, 100, 400) };
        var savedCount = Workers.Count;
        var singleThreaded = new Dictionary<Case, float[]>();
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Workers.Count = threads;
                foreach (bool transposeA in new[] { false, true })
                    foreach (bool transposeB in new[] { false, true })
                        foreach (var (m, n, k) in shapes)
                        {
                            var t = new Case(transposeA, transposeB, m, n, k, 1f, 0f);
                            var first = Run(t, seed: 7);
                            var second = Run(t, seed: 7);
                            Assert.True(first.AsSpan().SequenceEqual(second), $"{t} with {threads} threads differs run to run");
                            // Partitions fall on tile boundaries and K is blocked the same way for
                            // every split, so the thread count does not change the bits either.
                            if (threads == 1) singleThreaded[t] = first;
                            else Assert.True(first.AsSpan().SequenceEqual(singleThreaded[t]), $"{t}: 2 threads differ from 1");
                        }
            }
        }
        finally
        {
            Workers.Count = savedCount;
        }
    }

    static float[] Run(Case t, int seed)
    {
        var a = Random(t.ARows * t.Lda, seed);
        var b = Random(t.BRows * t.Ldb, seed + 1);
        var c = new float[t.M * t.Ldc];
        Gemm.Multiply(t.TransposeA, t.TransposeB, t.M, t.N, t.K, t.Alpha, a, t.Lda, b, t.Ldb, t.Beta, c, t.Ldc);
        return c;
    }

    [Fact]
    public void InvalidArgumentsNameExpectedAndActualSizes()
    {
        var small = new float[1000];
        var big = new float[128 * 784];
        var c = new float[128 * 256];
        var error = Assert.Throws<ArgumentException>(() =>
            Gemm.Multiply(false, true, 128, 256, 784, 1f, small, 784, big, 784, 0f, c, 256));
        Assert.Contains("A needs at least 100352 elements for 128x784 (lda 784), got 1000", error.Message);

        error = Assert.Throws<ArgumentException>(() =>
            Gemm.Multiply(false, false, 128, 256, 784, 1f, big, 700, big, 256, 0f, c, 256));
        Assert.Contains("lda 700 is less than 784", error.Message);

        error = Assert.Throws<ArgumentException>(() =>
            Gemm.Multiply(false, false, 128, 256, 784, 1f, big, 784, big, 256, 0f, c, 256));
        Assert.Contains("B needs at least 200704 elements for 784x256 (ldb 256), got 100352", error.Message);

        error = Assert.Throws<ArgumentException>(() =>
            Gemm.Multiply(false, false, 128, 256, 10, 1f, big, 10, big, 256, 0f, small, 256));
        Assert.Contains("C needs at least 32768 elements for 128x256 (ldc 256), got 1000", error.Message);

        error = Assert.Throws<ArgumentException>(() =>
            Gemm.Multiply(false, false, -1, 2, 3, 1f, big, 3, big, 2, 0f, c, 2));
        Assert.Contains("m=-1", error.Message);
    }
}
