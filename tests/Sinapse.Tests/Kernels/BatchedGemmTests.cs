using Sinapse.Kernels;

namespace Sinapse.Tests.Kernels;

public class BatchedGemmTests
{
    static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    [Theory]
    [InlineData(false, false, 0f)]
    [InlineData(true, false, 1f)]
    [InlineData(false, true, 0.5f)]
    [InlineData(true, true, 0f)]
    public void EachTargetSumsItsTermsOnTopOfBetaTimesItself(bool transposeA, bool transposeB, float beta)
    {
        // 3 targets over 4 A and 3 B matrices; target 1 has three terms, one matrix used twice.
        const int m = 5, n = 7, k = 4;
        int[] left = [2, 0, 3, 0, 1], right = [1, 0, 2, 1, 2], start = [0, 1, 4, 5];
        var a = Random(4 * m * k, 1);
        var b = Random(3 * k * n, 2);
        var c = Random(3 * m * n, 3);
        var expected = new double[c.Length];
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = beta * c[(t * m + i) * n + j];
                    for (int term = start[t]; term < start[t + 1]; term++)
                        for (int p = 0; p < k; p++)
                        {
                            // Stored shapes: A_i m×k (k×m transposed), B_j k×n (n×k transposed).
                            float aValue = a[left[term] * m * k + (transposeA ? p * m + i : i * k + p)];
                            float bValue = b[right[term] * k * n + (transposeB ? j * k + p : p * n + j)];
                            sum += (double)aValue * bValue;
                        }
                    expected[(t * m + i) * n + j] = sum;
                }

        BatchedGemm.Multiply(transposeA, transposeB, m, n, k, a, b, beta, c, left, right, start);
        for (int i = 0; i < c.Length; i++)
            Assert.True(Math.Abs(expected[i] - c[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"C[{i}]: expected {expected[i]}, got {c[i]}");
    }

    [Fact]
    public void BetaZeroOverwritesGarbage()
    {
        var c = new float[2 * 3 * 2];
        Array.Fill(c, float.NaN);
        BatchedGemm.Multiply(false, false, 3, 2, 0, [], [], 0f, c, [0, 0], [0, 0], [0, 1, 2]);
        Assert.All(c, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void InvalidArgumentsAreNamedBeforeAnyProduct()
    {
        var a = new float[2 * 3 * 4];
        var b = new float[4 * 5];
        var c = new float[2 * 3 * 5];
        string Error(int[] left, int[] right, int[] start, float[]? output = null) =>
            Assert.Throws<ArgumentException>(() => BatchedGemm.Multiply(false, false, 3, 5, 4, a, b, 0f, output ?? c, left, right, start)).Message;

        Assert.Contains("matrix 2 of A is outside its 2 matrices of 12 elements", Error([0, 2], [0, 0], [0, 1, 2]));
        Assert.Contains("matrix -1 of B is outside its 1 matrices", Error([0, 1], [0, -1], [0, 1, 2]));
        Assert.Contains("2 left and 1 right", Error([0, 1], [0], [0, 1, 2]));
        Assert.Contains("target 1 has no terms", Error([0, 1], [0, 0], [0, 2, 2]));
        Assert.Contains("must run from 0 to the 2 terms", Error([0, 1], [0, 0], [0, 1]));
        Assert.Contains("C needs 30 elements for 2 matrices of 3x5, got 29", Error([0, 1], [0, 0], [0, 1, 2], new float[29]));
        Assert.Contains("sizes must be non-negative",
            Assert.Throws<ArgumentException>(() => BatchedGemm.Multiply(false, false, -1, 5, 4, a, b, 0f, c, [0], [0], [0, 1])).Message);
    }
}
