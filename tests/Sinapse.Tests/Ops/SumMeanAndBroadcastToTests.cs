using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>Sum and Mean over axes, BroadcastTo/Expand and MaskedFill: gradients, shapes and errors (values against PyTorch in TensorOpsFixtureTests).</summary>
public class SumMeanAndBroadcastToTests
{
    public static TheoryData<int[], int[]> AxisSets() => new()
    {
        { [2, 3, 4], [] },
        { [2, 3, 4], [0] },
        { [2, 3, 4], [1] },
        { [2, 3, 4], [-1] },
        { [2, 3, 4], [0, 2] },
        { [2, 3, 4], [1, -1] },
        { [2, 3, 4], [0, 1, 2] },
        { [2, 3, 4, 5], [1, 2] },
        { [2, 3, 4, 5], [0, 3] },
        { [2, 3, 4, 5], [-3] },
        { [3, 1, 4], [1] },
        { [7], [0] },
        { [], [] },
        { [], [0] },
        { [0, 3], [0] },
        { [0, 3], [1] },
    };

    [Theory, MemberData(nameof(AxisSets))]
    public void SumAndMeanGradients(int[] shape, int[] dims)
    {
        foreach (bool keepDim in new[] { false, true })
        {
            Expect.GradientsMatch(x => F.Sum(x[0], dims, keepDim), Expect.Random(shape, 91));
            Expect.GradientsMatch(x => F.Mean(x[0], dims, keepDim), Expect.Random(shape, 92));
            // beta = 1: x's gradient already holds the Multiply's share when the reduction's arrives, and the other way round.
            Expect.GradientsMatch(x => F.Multiply(F.Sum(x[0], dims, keepDim: true), x[0]), Expect.Random(shape, 93));
            Expect.GradientsMatch(x => F.Multiply(x[0], F.Mean(x[0], dims, keepDim: true)), Expect.Random(shape, 94));
        }
    }

    [Fact]
    public void ReducedShapes()
    {
        var x = Tensor.Zeros(2, 3, 4);
        Assert.Equal(new Shape(3), F.Sum(x, [0, 2]).Shape);
        Assert.Equal(new Shape(1, 3, 1), F.Sum(x, [0, -1], keepDim: true).Shape);
        Assert.Equal(new Shape(), F.Mean(x, []).Shape);
        Assert.Equal(new Shape(2, 4), x.Mean(1).Shape);
        Assert.Equal(new Shape(2, 3, 1), x.Sum(2, keepDim: true).Shape);
        Assert.Equal(new Shape(), F.Sum(Tensor.Scalar(2f), 0).Shape);
        // Over zero elements: the sum is 0, the mean NaN, as in PyTorch.
        Assert.Equal([0f, 0f, 0f], F.Sum(Tensor.Zeros(0, 3), 0).ToArray());
        Assert.All(F.Mean(Tensor.Zeros(0, 3), 0).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.Equal(new Shape(0), F.Sum(Tensor.Zeros(0, 3), 1).Shape);
    }

    [Fact]
    public void BadAxesAreNamed()
    {
        var x = Tensor.Zeros(2, 3, 4);
        var error = Assert.Throws<ArgumentException>(() => F.Sum(x, [3]));
        Assert.Contains("axis 3", error.Message);
        Assert.Contains("[2, 3, 4]", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.Mean(x, [1, -2]));
        Assert.Contains("twice", error.Message);
        Assert.Throws<ArgumentException>(() => F.Sum(x, -4));
        Assert.Throws<ArgumentException>(() => F.Sum(Tensor.Scalar(1f), 1));
    }

    public static TheoryData<int[], int[]> Expansions() => new()
    {
        { [3, 1], [3, 4] },
        { [3, 1], [2, 3, 5] },
        { [3, 1], [-1, 4] },
        { [4], [2, 3, 4] },
        { [], [2, 3] },
        { [2, 1, 3], [4, 2, 5, -1] },
        { [1, 3], [0, 3] },
        { [2, 3], [2, 3] },
    };

    [Theory, MemberData(nameof(Expansions))]
    public void BroadcastToGradient(int[] shape, int[] target)
    {
        Expect.GradientsMatch(x => F.BroadcastTo(x[0], target), Expect.Random(shape, 95));
        Expect.GradientsMatch(x => F.Multiply(x[0].Expand(target), x[0]), Expect.Random(shape, 96));
    }

    [Fact]
    public void BroadcastToRepeatsAlongNewAndSizeOneAxes()
    {
        var x = Tensor.FromArray([1f, 2f], 2, 1);
        var y = F.BroadcastTo(x, 2, -1, 3);
        Assert.Equal(new Shape(2, 2, 3), y.Shape);
        Assert.Equal([1f, 1f, 1f, 2f, 2f, 2f, 1f, 1f, 1f, 2f, 2f, 2f], y.ToArray());
    }

    [Fact]
    public void ShapesThatCannotExpandAreNamed()
    {
        var x = Tensor.Zeros(3, 2);
        var error = Assert.Throws<ArgumentException>(() => F.BroadcastTo(x, 3, 4));
        Assert.Contains("[3, 2]", error.Message);
        Assert.Contains("[3, 4]", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.BroadcastTo(x, 2));
        Assert.Contains("fewer axes", error.Message);
        error = Assert.Throws<ArgumentException>(() => x.Expand(-1, 3, 2));
        Assert.Contains("-1", error.Message);
    }

    [Fact]
    public void MaskedFillGradient()
    {
        var mask = Tensor.FromArray([1f, 0f, 0f, 1f], 4);
        Expect.GradientsMatch(x => F.MaskedFill(x[0], mask, -1e9f), Expect.Random(3, 4));
        Expect.GradientsMatch(x => F.MaskedFill(x[0], Tensor.FromArray([0f, 1f, 0f], 3, 1), 0.5f), Expect.Random(2, 3, 4));
        Expect.GradientsMatch(x => F.Multiply(F.MaskedFill(x[0], mask, 2f), x[0]), Expect.Random(3, 4));
        // The filled places take the value and pass no gradient.
        var y = F.MaskedFill(Tensor.Ones(2, 4), mask, float.NegativeInfinity);
        Assert.Equal([float.NegativeInfinity, 1f, 1f, float.NegativeInfinity, float.NegativeInfinity, 1f, 1f, float.NegativeInfinity], y.ToArray());
    }

    [Fact]
    public void AMaskThatDoesNotFitTheInputIsNamed()
    {
        var error = Assert.Throws<ArgumentException>(() => F.MaskedFill(Tensor.Zeros(3, 4), Tensor.Zeros(5), 0f));
        Assert.Contains("[3, 4]", error.Message);
        Assert.Contains("[5]", error.Message);
        // A mask that would broadcast the input up to a larger shape.
        error = Assert.Throws<ArgumentException>(() => F.MaskedFill(Tensor.Zeros(4), Tensor.Zeros(3, 4), 0f));
        Assert.Contains("[3, 4]", error.Message);
        Assert.Contains("[4]", error.Message);
    }
}
