using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Tensors;

public class TensorCreationTests
{
    [Fact]
    public void Creation()
    {
        var zeros = Tensor.Zeros(2, 3);
        Assert.Equal(new Shape(2, 3), zeros.Shape);
        Assert.Equal(6, zeros.Length);
        Assert.Equal(2, zeros.Rank);
        Assert.All(zeros.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(Tensor.Ones(4).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(Tensor.Full(new Shape(2, 2), 7f).ToArray(), v => Assert.Equal(7f, v));
        Assert.Equal(3.5f, Tensor.Scalar(3.5f).Item());
        Assert.Equal(0, Tensor.Scalar(1f).Rank);
        Assert.True(Tensor.Zeros(2).IsLeaf);
        Assert.False(Tensor.Zeros(2).RequiresGrad);
    }

    [Fact]
    public void FromArrayCopiesAndChecksTheShape()
    {
        var values = new[] { 1f, 2f, 3f, 4f, 5f, 6f };
        var t = Tensor.FromArray(values, 2, 3);
        values[0] = 100f;
        Assert.Equal(1f, t[0, 0]);
        Assert.Equal(6f, t[1, 2]);
        Assert.Equal(new Shape(6), Tensor.FromArray(values).Shape);
        var error = Assert.Throws<ArgumentException>(() => Tensor.FromArray(values, 4, 2));
        Assert.Contains("[4, 2]", error.Message);
        var matrix = Tensor.FromArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal(new Shape(2, 3), matrix.Shape);
        Assert.Equal(4f, matrix[1, 0]);
    }

    [Fact]
    public void LikeFunctionsTakeTheShapeButNotTheGradient()
    {
        var parameter = Tensor.Full([2, 3], 5f);
        parameter.RequiresGrad = true;
        foreach (var (made, value) in new[] { (Tensor.ZerosLike(parameter), 0f), (Tensor.OnesLike(parameter), 1f), (Tensor.FullLike(parameter, -2.5f), -2.5f) })
        {
            Assert.Equal(new Shape(2, 3), made.Shape);
            Assert.All(made.ToArray(), v => Assert.Equal(value, v));
            Assert.False(made.RequiresGrad);
            Assert.False(made.SharesStorageWith(parameter));
        }
        var empty = Tensor.EmptyLike(parameter);
        Assert.Equal(new Shape(2, 3), empty.Shape);
        Assert.False(empty.SharesStorageWith(parameter));
        Assert.All(Tensor.Ones(new Shape(3, 1)).ToArray(), v => Assert.Equal(1f, v));
        Assert.Equal(0, Tensor.Zeros(0, 4).Length);
    }

    [Fact]
    public void EyeHasOnesOnTheDiagonal()
    {
        Assert.Equal([1f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 1f], Tensor.Eye(3).ToArray());
        var wide = Tensor.Eye(2, 4);
        Assert.Equal(new Shape(2, 4), wide.Shape);
        Assert.Equal([1f, 0f, 0f, 0f, 0f, 1f, 0f, 0f], wide.ToArray());
        Assert.Equal([1f, 0f, 0f, 1f, 0f, 0f], Tensor.Eye(3, 2).ToArray());
        Assert.Equal(new Shape(0, 0), Tensor.Eye(0).Shape);
        Assert.Equal(new Shape(2, 0), Tensor.Eye(2, 0).Shape);
        Assert.Contains("-1", Assert.Throws<ArgumentException>(() => Tensor.Eye(-1)).Message);
    }

    public static TheoryData<string> RangeFunctions => new() { "arange", "linspace" };

    [Theory]
    [MemberData(nameof(RangeFunctions))]
    public void RangesMatchTorchBitForBit(string function)
    {
        int count = 0;
        foreach (var c in Fixture.Cases("tensor_creation.json").Where(c => c.GetProperty("name").GetString() == function))
        {
            double start = c.GetProperty("start").GetDouble(), end = c.GetProperty("end").GetDouble();
            var made = function == "arange"
                ? Tensor.Arange(start, end, c.GetProperty("step").GetDouble())
                : Tensor.Linspace(start, end, c.GetProperty("steps").GetInt32());
            var expected = c.ExactFloats("values");
            var what = function == "arange" ? $"arange({start}, {end}, {c.GetProperty("step")})" : $"linspace({start}, {end}, {c.GetProperty("steps")})";
            Assert.True(made.Rank == 1 && made.Length == expected.Length, $"{what}: {made.Shape}, torch has {expected.Length} values");
            var actual = made.ToArray();
            for (int i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"{what}[{i}]: torch {expected[i]:G9}, Sinapse {actual[i]:G9}");
            count++;
        }
        Assert.True(count >= 10, $"only {count} {function} cases");
    }

    [Fact]
    public void ArangeCountsLikeTorch()
    {
        Assert.Equal([0f, 1f, 2f, 3f, 4f], Tensor.Arange(5).ToArray());
        Assert.Equal([1f, 1.5f, 2f, 2.5f], Tensor.Arange(1, 3, 0.5).ToArray());
        Assert.Equal([3f, 2f, 1f], Tensor.Arange(3, 0, -1).ToArray());
        Assert.Equal(new Shape(0), Tensor.Arange(2, 2).Shape);
        Assert.Equal(new Shape(0), Tensor.Arange(0).Shape);
        Assert.Equal(4, Tensor.Arange(0, 3.5).Length);           // ⌈3.5⌉
        // (1.3 − 1)/0.1 is 3.0000000000000004 in float64: torch, too, ends with 1.3.
        Assert.Equal([1f, 1.1f, 1.2f, 1.3f], Tensor.Arange(1, 1.3, 0.1).ToArray());
    }

    [Fact]
    public void RangeErrorsSayWhatIsWrong()
    {
        Assert.Contains("nonzero step", Assert.Throws<ArgumentException>(() => Tensor.Arange(0, 5, 0)).Message);
        Assert.Contains("nonzero step", Assert.Throws<ArgumentException>(() => Tensor.Arange(0, 5, double.NaN)).Message);
        var wrongSign = Assert.Throws<ArgumentException>(() => Tensor.Arange(0, 5, -1)).Message;
        Assert.Contains("step -1", wrongSign);
        Assert.Contains("towards end", wrongSign);
        Assert.Throws<ArgumentException>(() => Tensor.Arange(5, 0, 1));
        Assert.Throws<ArgumentException>(() => Tensor.Arange(-3));
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => Tensor.Arange(0, double.PositiveInfinity)).Message);
        Assert.Contains("more than a .NET array holds", Assert.Throws<ArgumentException>(() => Tensor.Arange(0, 1e10)).Message);
        Assert.Contains("-1", Assert.Throws<ArgumentException>(() => Tensor.Linspace(0, 1, -1)).Message);
    }

    [Fact]
    public void LinspaceOfZeroOrOneStep()
    {
        Assert.Equal(new Shape(0), Tensor.Linspace(3, 7, 0).Shape);
        Assert.Equal([3f], Tensor.Linspace(3, 7, 1).ToArray());
        Assert.Equal([-1f, 4f], Tensor.Linspace(-1, 4, 2).ToArray());
    }

    [Fact]
    public void RandIsUniformInTheHalfOpenUnitInterval()
    {
        var values = Tensor.Rand(new Shape(200, 500), new Rng(3)).ToArray();
        Assert.All(values, v => Assert.True(v >= 0f && v < 1f, $"{v} is outside [0, 1)"));
        Assert.InRange(values.Average(), 0.497, 0.503);
        Assert.InRange(values.Count(v => v < 0.1f), 9_600, 10_400);
        Assert.Equal(values, Tensor.Rand(new Shape(200, 500), new Rng(3)).ToArray());
        Assert.NotEqual(values.Take(10), Tensor.Rand(new Shape(10), new Rng(4)).ToArray());
        // The generator's largest draw, 1 − 2⁻²⁴, still gives a value below 1.
        Assert.Equal(0.99999994f, Tensor.Rand(new Shape(1), RngTests.WhoseNextDrawIsTheLargest()).Item());
        Assert.Equal(new Shape(2, 3), Tensor.Rand(2, 3).Shape);
    }

    [Fact]
    public void RandnIsStandardNormal()
    {
        var values = Tensor.Randn(new Shape(100_000), new Rng(8)).ToArray().Select(v => (double)v).ToArray();
        double mean = values.Average();
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(Math.Sqrt(values.Average(v => (v - mean) * (v - mean))), 0.99, 1.01);
        Assert.InRange(values.Count(v => Math.Abs(v) < 1) / 100_000.0, 0.677, 0.689);   // 68.3% within one standard deviation
        Assert.Equal(Tensor.Randn(new Shape(5), new Rng(8)).ToArray(), values.Take(5).Select(v => (float)v));
        Assert.Equal(new Shape(4), Tensor.Randn(4).Shape);
    }

    [Fact]
    public void RandIntDrawsEveryIntegerOfTheRange()
    {
        var values = Tensor.RandInt(-3, 4, new Shape(7000), new Rng(2)).ToArray();
        Assert.All(values, v => Assert.True(v == MathF.Floor(v) && v >= -3 && v < 4, $"{v} is not an integer in [-3, 4)"));
        var counts = values.GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(7, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 850, 1150));
        Assert.All(Tensor.RandInt(1, new Shape(10), new Rng(1)).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(Tensor.RandInt(16_777_215, 16_777_217, new Shape(50), new Rng(1)).ToArray(), v => Assert.True(v is 16_777_215f or 16_777_216f));

        Assert.Contains("low < high", Assert.Throws<ArgumentException>(() => Tensor.RandInt(5, 5, new Shape(2))).Message);
        Assert.Contains("2^24", Assert.Throws<ArgumentException>(() => Tensor.RandInt(0, (1 << 24) + 2, new Shape(2))).Message);
        Assert.Throws<ArgumentException>(() => Tensor.RandInt(-(1 << 24) - 1, 0, new Shape(2)));
    }

    [Fact]
    public void FromArrayTakesRectangularArraysOfAnyRankAndNumberType()
    {
        var cube = Tensor.FromArray(new float[,,] { { { 1, 2 }, { 3, 4 }, { 5, 6 } }, { { 7, 8 }, { 9, 10 }, { 11, 12 } } });
        Assert.Equal(new Shape(2, 3, 2), cube.Shape);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (float)i), cube.ToArray());
        Assert.Equal(10f, cube[1, 1, 1]);

        var four = new float[2, 1, 3, 2];
        four[1, 0, 2, 1] = 7f;
        four[0, 0, 1, 0] = -1f;
        var fourD = Tensor.FromArray(four);
        Assert.Equal(new Shape(2, 1, 3, 2), fourD.Shape);
        Assert.Equal(7f, fourD[1, 0, 2, 1]);
        Assert.Equal(-1f, fourD[0, 0, 1, 0]);
        four[1, 0, 2, 1] = 0f;
        Assert.Equal(7f, fourD[1, 0, 2, 1]);   // a copy

        var doubles = Tensor.FromArray(new double[,] { { 0.1, 1e300 }, { -2.5, 1e-50 } });
        Assert.Equal([0.1f, float.PositiveInfinity, -2.5f, 0f], doubles.ToArray());
        Assert.Equal([1f, -2f, 16_777_216f], Tensor.FromArray(new[] { 1, -2, 16_777_217 }).ToArray());   // the nearest float32
        Assert.Equal(new Shape(2, 2), Tensor.FromArray(new long[,] { { 1, 2 }, { 3, 4 } }).Shape);
        Assert.Equal([0f, 255f], Tensor.FromArray(new byte[] { 0, 255 }).ToArray());
        Assert.Equal([-128f, 7f], Tensor.FromArray(new sbyte[] { -128, 7 }).ToArray());
        Assert.Equal([-300f], Tensor.FromArray(new short[] { -300 }).ToArray());
        Assert.Equal([0.5f, -2f], Tensor.FromArray(new[] { (Half)0.5f, (Half)(-2f) }).ToArray());
        Assert.Equal(new Shape(0, 3), Tensor.FromArray(new float[0, 3]).Shape);

        var jagged = Assert.Throws<ArgumentException>(() => Tensor.FromArray(new[] { new[] { 1f }, new[] { 2f, 3f } }));
        Assert.Contains("jagged", jagged.Message);
        Assert.Contains("Single[][]", jagged.Message);
        Assert.Contains("String[]", Assert.Throws<ArgumentException>(() => Tensor.FromArray(new[] { "1" })).Message);
        Assert.Throws<ArgumentNullException>(() => Tensor.FromArray((Array)null!));
    }

    [Fact]
    public void ToArray2DIsTheInverseOfFromArray()
    {
        var matrix = new float[,] { { 1, 2, 3 }, { 4, 5, 6 } };
        Assert.Equal(matrix, Tensor.FromArray(matrix).ToArray2D());
        Assert.Equal(new float[,] { { 3 }, { 4 } }, Tensor.FromArray([1f, 2f, 3f, 4f], 4, 1).Slice(2, 2).ToArray2D());
        Assert.Contains("[2, 2, 1]", Assert.Throws<InvalidOperationException>(() => Tensor.Zeros(2, 2, 1).ToArray2D()).Message);
    }
}
