using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>The elementwise functions' gradients (their values are checked against PyTorch in TensorOpsFixtureTests).</summary>
public class ElementwiseMathTests
{
    /// <summary>Each function with inputs inside its domain and away from its kink or pole.</summary>
    public static TheoryData<string> Functions() => new(Unary.Keys);

    static readonly Dictionary<string, (Func<Tensor, Tensor> Function, Func<int[], Tensor> Input)> Unary = new()
    {
        ["Exp"] = (F.Exp, shape => Expect.Random(shape, 71)),
        ["Log"] = (F.Log, shape => Expect.Random(shape, 72, 0.2f, 4f)),
        ["Log1p"] = (F.Log1p, shape => Expect.Random(shape, 73, -0.8f, 3f)),
        ["Sqrt"] = (F.Sqrt, shape => Expect.Random(shape, 74, 0.2f, 4f)),
        ["Rsqrt"] = (F.Rsqrt, shape => Expect.Random(shape, 75, 0.2f, 4f)),
        ["Abs"] = (F.Abs, shape => Expect.AwayFromKinks(shape, -2f, 2f, [0f], seed: 76)),
        ["Sign"] = (F.Sign, shape => Expect.AwayFromKinks(shape, -2f, 2f, [0f], seed: 77)),
        ["Square"] = (F.Square, shape => Expect.Random(shape, 78)),
        ["Sin"] = (F.Sin, shape => Expect.Random(shape, 79, -6f, 6f)),
        ["Cos"] = (F.Cos, shape => Expect.Random(shape, 80, -6f, 6f)),
        ["Negate"] = (F.Negate, shape => Expect.Random(shape, 81)),
        ["Erf"] = (F.Erf, shape => Expect.Random(shape, 86, -2.5f, 2.5f)),
        ["Reciprocal"] = (F.Reciprocal, shape => Expect.AwayFromKinks(shape, -2f, 2f, [0f], 0.4f, seed: 82)),
        ["Pow 2.5"] = (x => F.Pow(x, 2.5f), shape => Expect.Random(shape, 83, 0.2f, 2f)),
        ["Pow -1.5"] = (x => F.Pow(x, -1.5f), shape => Expect.Random(shape, 84, 0.5f, 2f)),
        ["Pow 3"] = (x => F.Pow(x, 3f), shape => Expect.Random(shape, 85)),
    };

    [Theory, MemberData(nameof(Functions))]
    public void GradientMatchesFiniteDifferences(string name)
    {
        var (function, input) = Unary[name];
        foreach (var shape in new[] { new[] { 2, 3, 4 }, [], [7], [2, 0, 3] })
            Expect.GradientsMatch(x => function(x[0]), input(shape));
    }

    [Theory, MemberData(nameof(Functions))]
    public void GradientAccumulatesWhenTheInputIsUsedTwice(string name)
    {
        var (function, input) = Unary[name];
        // The op's backward finds x's gradient already written by the Multiply (beta = 1), and the other way round.
        Expect.GradientsMatch(x => F.Multiply(function(x[0]), x[0]), input([3, 4]));
        Expect.GradientsMatch(x => F.Add(function(x[0]), function(x[0])), input([3, 4]));
    }

    [Fact]
    public void ValuesAtTheEdgesOfTheDomains()
    {
        Assert.Equal([float.NegativeInfinity, float.NaN, 0f], F.Log(Tensor.FromArray([0f, -1f, 1f])).ToArray());
        Assert.Equal([float.PositiveInfinity, float.NegativeInfinity], F.Reciprocal(Tensor.FromArray([0f, -0f])).ToArray());
        Assert.Equal([-1f, 0f, 1f, float.NaN], F.Sign(Tensor.FromArray([-3f, 0f, 2f, float.NaN])).ToArray());
        // ln(1 + x) for x far below float's resolution at 1 (where 1 + x in double is still exact enough).
        float[] small = [1e-7f, -3e-8f, 2e-5f];
        Expect.Close(small.Select(x => (float)Math.Log(1 + (double)x)).ToArray(), F.Log1p(Tensor.FromArray(small)).Span, 1e-6, "log1p");
        Assert.Equal([float.NegativeInfinity, float.PositiveInfinity, float.NaN], F.Log1p(Tensor.FromArray([-1f, float.PositiveInfinity, -2f])).ToArray());
    }
}
