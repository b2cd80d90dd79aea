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
}
