using Sinapse.Autograd;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class ArithmeticTests
{
    static Tensor A => Expect.Random([3, 5], seed: 21);
    static Tensor B => Expect.Random([3, 5], seed: 22);

    [Fact] public void AddGradient() => Expect.GradientsMatch(x => F.Add(x[0], x[1]), A, B);

    [Fact] public void SubtractGradient() => Expect.GradientsMatch(x => F.Subtract(x[0], x[1]), A, B);

    [Fact] public void MultiplyGradient() => Expect.GradientsMatch(x => F.Multiply(x[0], x[1]), A, B);

    [Fact] public void MultiplyByScalarGradient() => Expect.GradientsMatch(x => F.Multiply(x[0], -1.75f), A);

    [Fact] public void AddConstantGradient() => Expect.GradientsMatch(x => F.Add(x[0], 2.5f), A);

    [Fact] public void SumGradient() => Expect.GradientsMatch(x => F.Sum(x[0]), A);

    [Fact] public void MeanGradient() => Expect.GradientsMatch(x => F.Mean(x[0]), A);

    [Fact] public void SquareGradient() => Expect.GradientsMatch(x => F.Square(x[0]), A);

    [Fact]
    public void MultiplyChannelsScalesEachPlaneByItsChannelsFactor()
    {
        var x = Expect.Random([2, 3, 2, 2], seed: 23);
        var scale = Expect.Random([2, 3, 1, 1], seed: 24);
        var y = F.MultiplyChannels(x, scale);
        Assert.Equal(x.Shape, y.Shape);
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < 4; i++)
                    Assert.Equal(x.Span[(n * 3 + c) * 4 + i] * scale.Span[n * 3 + c], y.Span[(n * 3 + c) * 4 + i]);
    }

    [Fact]
    public void MultiplyChannelsGradient()
    {
        Expect.GradientsMatch(x => F.MultiplyChannels(x[0], x[1]), Expect.Random([2, 3, 3, 2], seed: 25), Expect.Random([2, 3, 1, 1], seed: 26));
        // The gate computed from the input itself, as in squeeze-and-excitation: both paths accumulate.
        Expect.GradientsMatch(x => F.MultiplyChannels(x[0], F.GlobalAvgPool2d(x[0])), Expect.Random([2, 3, 3, 2], seed: 27));
    }

    [Fact]
    public void MultiplyChannelsRejectsShapesThatDoNotBroadcast()
    {
        var error = Assert.Throws<ArgumentException>(() => F.MultiplyChannels(Tensor.Zeros(2, 3, 4, 4), Tensor.Zeros(2, 4, 1, 1)));
        Assert.Contains("[2, 3, 4, 4]", error.Message);
        Assert.Contains("[2, 4, 1, 1]", error.Message);
        Assert.Throws<ArgumentException>(() => F.MultiplyChannels(Tensor.Zeros(2, 3, 4, 4), Tensor.Zeros(2, 3, 2, 1)));
    }

    [Fact]
    public void EveryOpAccumulatesWhenItsInputIsUsedTwice()
    {
        // Each op's backward sees an input whose gradient already holds something (beta = 1).
        Expect.GradientsMatch(x => F.Add(x[0], x[0]), A);
        Expect.GradientsMatch(x => F.Subtract(x[0], F.Multiply(x[0], x[0])), A);
        Expect.GradientsMatch(x => F.Subtract(F.Multiply(x[0], 3f), x[0]), A);
        Expect.GradientsMatch(x => F.Multiply(F.Add(x[0], 1f), F.Add(x[0], -1f)), A);
        Expect.GradientsMatch(x => F.Add(F.Multiply(F.Sum(x[0]), F.Mean(x[0])), F.Sum(F.Square(x[0]))), A);
        Expect.GradientsMatch(x => F.Multiply(x[0], F.Multiply(x[1], x[0])), A, B);
    }

    [Fact]
    public void ValuesAreElementwise()
    {
        var a = Tensor.FromArray([1f, 2f, 3f]);
        var b = Tensor.FromArray([4f, -5f, 0.5f]);
        Assert.Equal([5f, -3f, 3.5f], F.Add(a, b).ToArray());
        Assert.Equal([-3f, 7f, 2.5f], F.Subtract(a, b).ToArray());
        Assert.Equal([4f, -10f, 1.5f], F.Multiply(a, b).ToArray());
        Assert.Equal([2f, 4f, 6f], F.Multiply(a, 2f).ToArray());
        Assert.Equal([1.5f, 2.5f, 3.5f], F.Add(a, 0.5f).ToArray());
        Assert.Equal([1f, 4f, 9f], F.Square(a).ToArray());
        Assert.Equal(6f, F.Sum(a).Item());
        Assert.Equal(2f, F.Mean(a).Item());
        Assert.Equal(0, F.Sum(a).Rank);
    }

    [Fact]
    public void MismatchedShapesNameBoth()
    {
        var error = Assert.Throws<ArgumentException>(() => F.Add(Tensor.Zeros(2, 3), Tensor.Zeros(3, 2)));
        Assert.Contains("[2, 3]", error.Message);
        Assert.Contains("[3, 2]", error.Message);
    }

    /// <summary>Shape pairs covering broadcasting's corner cases, as in tools/make_tensor_ops_fixtures.py.</summary>
    public static TheoryData<int[], int[]> BroadcastPairs() => new()
    {
        { [3, 4], [3, 4] },
        { [3, 4], [3, 1] },
        { [1, 4], [3, 4] },
        { [2, 3, 4], [4] },
        { [4], [2, 3, 1] },
        { [], [3, 4] },
        { [2, 3], [] },
        { [], [] },
        { [3, 1], [1, 4] },
        { [2, 1, 4, 1], [3, 1, 5] },
        { [2, 3, 1, 5], [1, 1, 4, 1] },
        { [5, 1, 3], [4, 1] },
        { [0, 3], [3] },
        { [2, 0], [1] },
        { [1, 0], [3, 1] },
    };

    [Theory, MemberData(nameof(BroadcastPairs))]
    public void AddBroadcastGradient(int[] a, int[] b) =>
        Expect.GradientsMatch(x => F.Add(x[0], x[1]), Expect.Random(a, 31), Expect.Random(b, 32));

    [Theory, MemberData(nameof(BroadcastPairs))]
    public void SubtractBroadcastGradient(int[] a, int[] b) =>
        Expect.GradientsMatch(x => F.Subtract(x[0], x[1]), Expect.Random(a, 33), Expect.Random(b, 34));

    [Theory, MemberData(nameof(BroadcastPairs))]
    public void MultiplyBroadcastGradient(int[] a, int[] b) =>
        Expect.GradientsMatch(x => F.Multiply(x[0], x[1]), Expect.Random(a, 35), Expect.Random(b, 36));

    [Theory, MemberData(nameof(BroadcastPairs))]
    public void DivideBroadcastGradient(int[] a, int[] b) =>
        Expect.GradientsMatch(x => F.Divide(x[0], x[1]), Expect.Random(a, 37), AwayFromZero(b, 38));

    [Theory, MemberData(nameof(BroadcastPairs))]
    public void PowBroadcastGradient(int[] a, int[] b) =>
        Expect.GradientsMatch(x => F.Pow(x[0], x[1]), Expect.Random(a, 39, 0.5f, 2f), Expect.Random(b, 40));

    [Theory, MemberData(nameof(BroadcastPairs))]
    public void MaximumBroadcastGradient(int[] a, int[] b) =>
        Expect.GradientsMatch(x => F.Maximum(x[0], x[1]), Separated(a, 41, 0.25f), Separated(b, 42, 0.75f));

    [Theory, MemberData(nameof(BroadcastPairs))]
    public void MinimumBroadcastGradient(int[] a, int[] b) =>
        Expect.GradientsMatch(x => F.Minimum(x[0], x[1]), Separated(a, 43, 0.25f), Separated(b, 44, 0.75f));

    [Fact]
    public void PowWithANegativeBaseAndWholeExponentsHasTheBasesGradient()
    {
        var exponent = Tensor.FromArray([2f, 3f, -1f, 0f]);
        Expect.GradientsMatch(x => F.Pow(x[0], exponent), AwayFromZero([3, 4], 45));
        Assert.Equal([4f, -8f, -0.5f, 1f], F.Pow(Tensor.FromArray([-2f, -2f, -2f, -2f]), exponent).ToArray());
    }

    public static TheoryData<int[], int[], int[]> WhereShapes() => new()
    {
        { [3, 4], [3, 4], [3, 4] },
        { [3, 1], [3, 4], [4] },
        { [], [2, 3], [2, 3] },
        { [4], [3, 1], [] },
        { [2, 1, 4], [3, 1], [1, 3, 4] },
        { [2, 3], [], [] },
        { [0, 3], [3], [1] },
    };

    [Theory, MemberData(nameof(WhereShapes))]
    public void WhereBroadcastGradient(int[] mask, int[] a, int[] b)
    {
        var condition = Mask(mask, 46);
        Expect.GradientsMatch(x => F.Where(condition, x[0], x[1]), Expect.Random(a, 47), Expect.Random(b, 48));
    }

    [Fact]
    public void WherePicksByTheBroadcastMask()
    {
        var mask = Tensor.FromArray([1f, 0f, 1f], 3, 1);
        var y = F.Where(mask, Tensor.FromArray([1f, 2f], 1, 2), Tensor.Scalar(-1f));
        Assert.Equal(new Shape(3, 2), y.Shape);
        Assert.Equal([1f, 2f, -1f, -1f, 1f, 2f], y.ToArray());
    }

    [Fact]
    public void ClampGradient()
    {
        var x = Expect.AwayFromKinks([2, 3, 4], -2f, 2f, [-0.5f, 0.7f], 0.05f, seed: 49);
        Expect.GradientsMatch(t => F.Clamp(t[0], min: -0.5f), x);
        Expect.GradientsMatch(t => F.Clamp(t[0], max: 0.7f), x);
        Expect.GradientsMatch(t => F.Clamp(t[0], -0.5f, 0.7f), x);
        Expect.GradientsMatch(t => F.Clamp(t[0], -0.5f, 0.7f), Tensor.Scalar(0.3f));
    }

    [Fact]
    public void ClampValuesAndItsMissingBounds()
    {
        var x = Tensor.FromArray([-2f, -0.5f, 0f, 0.7f, 3f, float.NaN]);
        Assert.Equal([-0.5f, -0.5f, 0f, 0.7f, 0.7f, float.NaN], F.Clamp(x, -0.5f, 0.7f).ToArray());
        Assert.Equal([-0.5f, -0.5f, 0f, 0.7f, 3f, float.NaN], F.Clamp(x, min: -0.5f).ToArray());
        Assert.Equal([-2f, -0.5f, 0f, 0.7f, 0.7f, float.NaN], F.Clamp(x, max: 0.7f).ToArray());
        var error = Assert.Throws<ArgumentException>(() => F.Clamp(x));
        Assert.Contains("neither", error.Message);
    }

    [Fact]
    public void ComparisonsGiveMasksWithoutGradient()
    {
        var a = Tensor.FromArray([1f, 2f, 3f], 3, 1);
        var b = Tensor.FromArray([2f, 2f]);
        a.RequiresGrad = b.RequiresGrad = true;
        var expected = new Dictionary<string, float[]>
        {
            ["Gt"] = [0, 0, 0, 0, 1, 1], ["Ge"] = [0, 0, 1, 1, 1, 1], ["Lt"] = [1, 1, 0, 0, 0, 0],
            ["Le"] = [1, 1, 1, 1, 0, 0], ["Eq"] = [0, 0, 1, 1, 0, 0], ["Ne"] = [1, 1, 0, 0, 1, 1],
        };
        foreach (var (name, compare) in Comparisons)
        {
            var y = compare(a, b);
            Assert.Equal(new Shape(3, 2), y.Shape);
            Assert.Equal(expected[name], y.ToArray());
            Assert.False(y.RequiresGrad, $"{name} recorded a gradient.");
        }
        // A mask from a comparison is a constant factor: x·(x > 0) is ReLU, with ReLU's gradient.
        Expect.GradientsMatch(x => F.Multiply(x[0], F.Gt(x[0], Tensor.Scalar(0f))), Expect.AwayFromKinks([3, 4], -2f, 2f, [0f], seed: 50));
    }

    static readonly (string Name, Func<Tensor, Tensor, Tensor> Compare)[] Comparisons =
        [("Gt", F.Gt), ("Ge", F.Ge), ("Lt", F.Lt), ("Le", F.Le), ("Eq", F.Eq), ("Ne", F.Ne)];

    /// <summary>Every binary op, with operands in each one's domain (positive, apart, away from zero).</summary>
    static readonly (string Name, Func<Tensor, Tensor, Tensor> Op)[] BinaryOps =
    [
        ("Add", F.Add), ("Subtract", F.Subtract), ("Multiply", F.Multiply), ("Divide", F.Divide),
        ("Pow", F.Pow), ("Maximum", F.Maximum), ("Minimum", F.Minimum),
    ];

    [Fact]
    public void BroadcastOperandsAccumulateWhenUsedTwice()
    {
        // x [4] enters op(x, op(y, x)) twice, broadcast against [3, 4] each time: its gradient is summed
        // down once into a new buffer (beta = 0) and once onto it (beta = 1). The same with x as both
        // operands of one op, and with an intermediate (not a leaf) in x's place.
        foreach (var (name, op) in BinaryOps)
        {
            var x = Separated([4], 51, 0.25f);
            var y = Separated([3, 4], 52, 0.75f);
            if (name is "Pow" or "Divide")
            {
                // Positive and apart from 1, so every power and quotient stays moderate.
                x = Expect.Random([4], 53, 1.2f, 1.6f);
                y = Expect.Random([3, 4], 54, 0.5f, 0.9f);
            }
            Expect.GradientsMatch(t => op(t[0], op(t[1], t[0])), x, y);
            Expect.GradientsMatch(t => op(t[0], t[0]), x);
            Expect.GradientsMatch(t => op(F.Multiply(t[0], 1.5f), op(t[1], F.Multiply(t[0], 1.5f))), x, y);
        }
    }

    [Fact]
    public void WhereAndClampAccumulateWhenTheirInputIsUsedTwice()
    {
        var mask = Mask([3, 1], 55);
        Expect.GradientsMatch(x => F.Where(mask, x[0], F.Where(mask, x[1], x[0])), Expect.Random([4], 56), Expect.Random([3, 4], 57));
        Expect.GradientsMatch(x => F.Add(F.Clamp(x[0], -0.5f, 0.7f), F.Clamp(x[0], min: 0.2f)),
            Expect.AwayFromKinks([3, 4], -2f, 2f, [-0.5f, 0.2f, 0.7f], 0.05f, seed: 58));
    }

    [Fact]
    public void EveryOpOverwritesAReusedGradientBuffer()
    {
        // After ZeroGrad a parameter keeps its old buffer for the next pass, which hands it to the
        // first op to write it with beta = 0: whatever it held (NaN here) must be overwritten, not read.
        var cases = new (string Name, Func<Tensor, Tensor, Tensor> Op)[]
        {
            ("Add", F.Add), ("Subtract x - y", F.Subtract), ("Subtract y - x", (x, y) => F.Subtract(y, x)),
            ("Multiply", F.Multiply), ("Divide x / y", F.Divide), ("Divide y / x", (x, y) => F.Divide(y, x)),
            ("Pow x^y", F.Pow), ("Pow y^x", (x, y) => F.Pow(y, x)), ("Maximum", F.Maximum), ("Minimum", F.Minimum),
            ("Where", (x, y) => F.Where(Mask([3, 1], 59), x, y)), ("Clamp", (x, y) => F.Add(F.Clamp(x, 0.8f, 1.5f), y)),
            ("Sum", (x, y) => F.Add(x, F.Sum(y, 0))), ("Mean", (x, y) => F.Add(x, F.Mean(y, [0, 1], keepDim: true))),
            ("BroadcastTo", (x, y) => F.Multiply(F.BroadcastTo(x, 3, 4), y)), ("MaskedFill", (x, y) => F.Add(x, F.MaskedFill(y, Mask([4], 60), 1f))),
            ("Softmax", (x, y) => F.Add(x, F.Softmax(y, 0))), ("LogSoftmax", (x, y) => F.Add(x, F.LogSoftmax(y, 0))),
            ("Exp", (x, y) => F.Add(F.Exp(x), y)), ("Log", (x, y) => F.Add(F.Log(x), y)), ("Sqrt", (x, y) => F.Add(F.Sqrt(x), y)),
            ("Reciprocal", (x, y) => F.Add(F.Reciprocal(x), y)), ("Abs", (x, y) => F.Add(F.Abs(x), y)),
        };
        var xValues = Expect.Random([4], 61, 0.5f, 2f);
        var yValues = Expect.Random([3, 4], 62, 0.5f, 2f);
        var x = xValues.Clone();
        var y = yValues.Clone();
        x.RequiresGrad = y.RequiresGrad = true;
        foreach (var (name, op) in cases)
        {
            // Fresh leaves: gradient buffers straight from the allocator.
            var freshX = xValues.Clone();
            var freshY = yValues.Clone();
            freshX.RequiresGrad = freshY.RequiresGrad = true;
            var output = op(freshX, freshY);
            var seed = Expect.Random(output.Shape.ToArray(), 63);
            output.Backward(seed);

            foreach (var leaf in new[] { x, y })
            {
                leaf.Grad?.Span.Fill(float.NaN);
                Tape.ZeroGrad(leaf);
            }
            op(x, y).Backward(seed);
            Assert.True(freshX.Grad!.ToArray().All(float.IsFinite), $"{name}: x's gradient is not finite.");
            Assert.Equal(freshX.Grad!.ToArray(), x.Grad!.ToArray());
            Assert.Equal(freshY.Grad!.ToArray(), y.Grad!.ToArray());
        }
    }

    [Fact]
    public void ShapesThatDoNotBroadcastAreNamedBeforeAnythingRuns()
    {
        var a = Tensor.Zeros(2, 3);
        var b = Tensor.Zeros(4);
        foreach (var (name, op) in BinaryOps.Concat(Comparisons))
        {
            var error = Assert.Throws<ArgumentException>(() => op(a, b));
            Assert.Contains(name, error.Message);
            Assert.Contains("[2, 3]", error.Message);
            Assert.Contains("[4]", error.Message);
        }
        // Middle axes: [2, 1, 4] and [3, 5] meet 4 against 5.
        var middle = Assert.Throws<ArgumentException>(() => F.Multiply(Tensor.Zeros(2, 1, 4), Tensor.Zeros(3, 5)));
        Assert.Contains("[2, 1, 4]", middle.Message);
        Assert.Contains("[3, 5]", middle.Message);
        // An empty axis broadcasts only against 1.
        Assert.Throws<ArgumentException>(() => F.Add(Tensor.Zeros(0, 3), Tensor.Zeros(2, 3)));

        var where = Assert.Throws<ArgumentException>(() => F.Where(Tensor.Zeros(3, 1), Tensor.Zeros(2, 4), Tensor.Zeros(4)));
        Assert.Contains("Where", where.Message);
        Assert.Contains("[3, 1]", where.Message);
        Assert.Contains("[2, 4]", where.Message);
        where = Assert.Throws<ArgumentException>(() => F.Where(Tensor.Zeros(1, 4), Tensor.Zeros(3, 4), Tensor.Zeros(5)));
        Assert.Contains("[3, 4]", where.Message);
        Assert.Contains("[5]", where.Message);
    }

    /// <summary>Whole numbers plus <paramref name="fraction"/>: two such tensors with fractions 0.25 and 0.75 never come within 0.5 of each other.</summary>
    static Tensor Separated(int[] shape, ulong seed, float fraction)
    {
        var t = Expect.Random(shape, seed);
        var values = t.Span;
        for (int i = 0; i < values.Length; i++) values[i] = MathF.Floor(values[i]) + fraction;
        return t;
    }

    static Tensor AwayFromZero(int[] shape, ulong seed) => Expect.AwayFromKinks(shape, -2f, 2f, [0f], 0.5f, seed);

    /// <summary>A 0/1 mask.</summary>
    static Tensor Mask(int[] shape, ulong seed)
    {
        var t = Expect.Random(shape, seed);
        var values = t.Span;
        for (int i = 0; i < values.Length; i++) values[i] = values[i] > 0f ? 1f : 0f;
        return t;
    }
}
