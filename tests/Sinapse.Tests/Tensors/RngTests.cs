using Sinapse.Tensors;

namespace Sinapse.Tests.Tensors;

public class RngTests
{
    [Fact]
    public void TheSameSeedGivesTheSameSequence()
    {
        var a = new Rng(123);
        var b = new Rng(123);
        for (int i = 0; i < 100; i++) Assert.Equal(a.NextUInt64(), b.NextUInt64());
        Assert.NotEqual(new Rng(1).NextUInt64(), new Rng(2).NextUInt64());
    }

    [Fact]
    public void SavedStateReproducesTheRestOfTheSequence()
    {
        var rng = new Rng(7);
        for (int i = 0; i < 10; i++) rng.NextNormal();
        var state = rng.StateDict();
        var expected = Enumerable.Range(0, 50).Select(_ => (rng.NextFloat(), rng.NextInt(1000), rng.NextNormal())).ToArray();
        var resumed = new Rng(999);
        resumed.LoadStateDict(state);
        var actual = Enumerable.Range(0, 50).Select(_ => (resumed.NextFloat(), resumed.NextInt(1000), resumed.NextNormal())).ToArray();
        Assert.Equal(expected, actual);
        // Reseeding restarts the sequence.
        rng.Reseed(7);
        var fresh = new Rng(7);
        Assert.Equal(fresh.NextUInt64(), rng.NextUInt64());
    }

    [Fact]
    public void InvalidStatesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => RngState.FromHex(["1", "2"]));
        Assert.Throws<ArgumentException>(() => RngState.FromHex(["1", "2", "3", "fffffffffffffffff"]));
        Assert.Throws<ArgumentException>(() => new Rng(1).LoadStateDict(new RngState(0, 0, 0, 0)));
    }

    [Fact]
    public void NextIntCoversItsRangeUniformly()
    {
        // 6 buckets × 60,000 draws: a χ² test at a generous threshold (p ≈ 1e-6 for 5 degrees of freedom).
        var rng = new Rng(5);
        const int buckets = 6, draws = 60_000;
        var counts = new int[buckets];
        for (int i = 0; i < draws; i++) counts[rng.NextInt(buckets)]++;
        double expected = draws / (double)buckets;
        double chiSquared = counts.Sum(c => (c - expected) * (c - expected) / expected);
        Assert.True(chiSquared < 35, $"χ² = {chiSquared} for counts [{string.Join(", ", counts)}]");

        // A range just above 2^31 / 2 is where modulo reduction would be most biased: the upper half
        // of the range would be drawn a third less often.
        int big = (1 << 30) + (1 << 29);
        int upper = 0;
        for (int i = 0; i < 30_000; i++)
        {
            int v = rng.NextInt(big);
            Assert.InRange(v, 0, big - 1);
            if (v >= big / 2) upper++;
        }
        Assert.InRange(upper, 14_500, 15_500);

        Assert.Equal(0, rng.NextInt(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextInt(0));
    }

    [Fact]
    public void FloatsAndNormalsHaveTheirDistributions()
    {
        var rng = new Rng(9);
        var uniform = Enumerable.Range(0, 100_000).Select(_ => rng.NextFloat()).ToArray();
        Assert.All(uniform, u => Assert.InRange(u, 0f, 0.99999994f));
        Assert.InRange(uniform.Average(), 0.495, 0.505);
        var normal = Enumerable.Range(0, 100_000).Select(_ => (double)rng.NextNormal()).ToArray();
        double mean = normal.Average();
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(Math.Sqrt(normal.Average(v => (v - mean) * (v - mean))), 0.99, 1.01);
        Assert.All(normal, v => Assert.True(double.IsFinite(v)));
    }

    /// <summary>
    /// A generator whose next NextUInt64 is 2⁶⁴ − 1, so its next NextFloat is the largest, 1 − 2⁻²⁴:
    /// xoshiro256** returns rotl(5·s1, 7)·9, which 5 and 9 (odd, so invertible modulo 2⁶⁴) let us solve for s1.
    /// </summary>
    public static Rng WhoseNextDrawIsTheLargest()
    {
        static ulong Inverse(ulong odd)
        {
            ulong inverse = odd;   // right in the lowest 3 bits; each Newton step doubles that
            for (int i = 0; i < 5; i++) inverse *= 2 - odd * inverse;
            return inverse;
        }
        ulong s1 = System.Numerics.BitOperations.RotateRight(ulong.MaxValue * Inverse(9), 7) * Inverse(5);
        var rng = new Rng(0);
        rng.LoadStateDict(new RngState(1, s1, 2, 3));
        return rng;
    }

    [Fact]
    public void TheLargestDrawStaysBelowOne()
    {
        Assert.Equal(ulong.MaxValue, WhoseNextDrawIsTheLargest().NextUInt64());
        Assert.Equal(1f - MathF.Pow(2, -24), WhoseNextDrawIsTheLargest().NextFloat());
        Assert.True(WhoseNextDrawIsTheLargest().NextDouble() < 1.0);
    }

    [Fact]
    public void ShuffleIsAPermutationAndReproducible()
    {
        var items = Enumerable.Range(0, 1000).ToArray();
        new Rng(3).Shuffle(items.AsSpan());
        Assert.Equal(Enumerable.Range(0, 1000), items.Order());
        Assert.NotEqual(Enumerable.Range(0, 1000), items);
        var again = Enumerable.Range(0, 1000).ToArray();
        new Rng(3).Shuffle(again.AsSpan());
        Assert.Equal(items, again);

        // Every position receives every item about equally often (here: where item 0 lands among 4).
        var rng = new Rng(4);
        var landed = new int[4];
        for (int trial = 0; trial < 40_000; trial++)
        {
            int[] four = [0, 1, 2, 3];
            rng.Shuffle(four.AsSpan());
            landed[Array.IndexOf(four, 0)]++;
        }
        Assert.All(landed, c => Assert.InRange(c, 9_500, 10_500));
    }
}

public class UniformRangeTests
{
    [Fact]
    public void UniformValuesStayBelowTheUpperBoundEvenWhenRoundingWouldReachIt()
    {
        // Near 2^24 floats are 2 apart, so low + 2u rounds up to high for about half the draws.
        var values = new float[1000];
        new Sinapse.Tensors.Rng(5).FillUniform(values, 16_777_216f, 16_777_218f);
        Assert.All(values, v => Assert.True(v >= 16_777_216f && v < 16_777_218f, $"{v} is outside [2^24, 2^24 + 2)"));
        // On [1, 2) the largest draw gives 1 + (1 − 2⁻²⁴), which rounds (half to even) to 2.
        foreach (var (low, high) in new[] { (1f, 2f), (0f, 1f), (-3f, -1f), (100f, 100.5f) })
        {
            var top = new float[1];
            RngTests.WhoseNextDrawIsTheLargest().FillUniform(top, low, high);
            Assert.True(top[0] >= low && top[0] < high, $"the largest draw gave {top[0]:G9} on [{low}, {high})");
        }
        var same = new float[3];
        new Sinapse.Tensors.Rng(5).FillUniform(same, 4f, 4f);
        Assert.All(same, v => Assert.Equal(4f, v));
    }

    [Fact]
    public void UniformRangesWiderThanTheLargestFloatAreRejected()
    {
        var values = new float[4];
        var rng = new Sinapse.Tensors.Rng(1);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => rng.FillUniform(values, -float.MaxValue, float.MaxValue)).Message);
        Assert.Throws<ArgumentException>(() => rng.FillUniform(values, float.NegativeInfinity, 0f));
        Assert.Throws<ArgumentException>(() => rng.FillUniform(values, float.PositiveInfinity, float.PositiveInfinity));
        Assert.Contains("low <= high", Assert.Throws<ArgumentException>(() => rng.FillUniform(values, 1f, float.NaN)).Message);
        rng.FillUniform(values, -float.MaxValue / 2, float.MaxValue / 2);
        Assert.All(values, v => Assert.True(float.IsFinite(v) && v < float.MaxValue / 2));
    }
}
