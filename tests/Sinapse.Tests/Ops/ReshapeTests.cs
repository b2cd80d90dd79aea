using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class ReshapeTests
{
    [Fact]
    public void ReshapeGradient() => Expect.GradientsMatch(x => F.Multiply(F.Reshape(x[0], 5, 3), F.Reshape(x[0], 5, -1)), Expect.Random(3, 5));

    [Fact]
    public void FlattenGradient() => Expect.GradientsMatch(x => F.Square(F.Flatten(x[0])), Expect.Random(2, 3, 1, 5));

    [Fact]
    public void ReshapeSharesStorageAndInfersMinusOne()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var y = F.Reshape(x, -1, 2);
        Assert.Equal(new Shape(3, 2), y.Shape);
        Assert.Equal(x.ToArray(), y.ToArray());
        x[0, 0] = 10f;
        Assert.Equal(10f, y[0, 0]);
    }

    [Fact]
    public void FlattenKeepsTheBatchAxis()
    {
        Assert.Equal(new Shape(2, 60), F.Flatten(Tensor.Zeros(2, 3, 4, 5)).Shape);
        Assert.Equal(new Shape(4, 7), F.Flatten(Tensor.Zeros(4, 7)).Shape);
    }

    [Fact]
    public void BadShapesAreRejectedWithBothShapes()
    {
        var x = Tensor.Zeros(2, 3);
        var error = Assert.Throws<ArgumentException>(() => F.Reshape(x, 4, 2));
        Assert.Contains("[2, 3]", error.Message);
        Assert.Contains("[4, 2]", error.Message);
        Assert.Throws<ArgumentException>(() => F.Reshape(x, -1, -1));
        Assert.Throws<ArgumentException>(() => F.Reshape(x, 4, -1));
    }

    [Fact]
    public void ViewIsReshapeAndTheTensorFormsRecordGradients()
    {
        var x = Expect.Random(2, 3);
        Assert.Equal(new Shape(3, 2), F.View(x, 3, -1).Shape);
        Expect.GradientsMatch(t => F.Square(t[0].View(3, 2)), x);
        Expect.GradientsMatch(t => F.Square(t[0].Reshape(-1)), Expect.Random(2, 1, 3));
    }

    [Fact]
    public void SqueezeRemovesSizeOneDimensionsAllOrListed()
    {
        var x = Tensor.Zeros(1, 3, 1, 2);
        Assert.Equal(new Shape(3, 2), F.Squeeze(x).Shape);
        Assert.Equal(new Shape(3, 1, 2), F.Squeeze(x, 0).Shape);
        Assert.Equal(new Shape(1, 3, 2), x.Squeeze(-2).Shape);
        Assert.Equal(new Shape(3, 2), x.Squeeze(0, -2).Shape);
        Assert.Equal(x.Shape, F.Squeeze(x, 1).Shape);                              // size 3: left alone, as torch does
        Assert.Equal(new Shape(), F.Squeeze(Tensor.Zeros(1, 1)).Shape);
        Assert.Equal(new Shape(0, 2), F.Squeeze(Tensor.Zeros(1, 0, 2)).Shape);
        Assert.Equal(new Shape(), F.Squeeze(Tensor.Scalar(2f), 0).Shape);
        Assert.True(F.Squeeze(x).SharesStorageWith(x));
    }

    [Fact]
    public void UnsqueezeInsertsAtEveryPositionFromEitherEnd()
    {
        var x = Tensor.Zeros(2, 3);
        Assert.Equal(new Shape(1, 2, 3), F.Unsqueeze(x, 0).Shape);
        Assert.Equal(new Shape(2, 3, 1), F.Unsqueeze(x, 2).Shape);
        Assert.Equal(new Shape(2, 3, 1), x.Unsqueeze(-1).Shape);
        Assert.Equal(new Shape(1, 2, 3), x.Unsqueeze(-3).Shape);
        Assert.Equal(new Shape(1), F.Unsqueeze(Tensor.Scalar(1f), 0).Shape);
        Assert.Equal(new Shape(0, 1), F.Unsqueeze(Tensor.Zeros(0), -1).Shape);
    }

    [Fact]
    public void SqueezeAndUnsqueezeGradients()
    {
        Expect.GradientsMatch(x => F.Square(F.Squeeze(x[0])), Expect.Random(1, 3, 1, 2));
        Expect.GradientsMatch(x => F.Square(F.Squeeze(x[0], -1, 0)), Expect.Random(1, 3, 1));
        Expect.GradientsMatch(x => F.Multiply(F.Unsqueeze(x[0], -2), F.Unsqueeze(x[0], 1)), Expect.Random(2, 3));
    }

    [Fact]
    public void FlattenWithoutAStartKeepsTheBatchAndWithOneIsTorchFlatten()
    {
        var x = Tensor.Zeros(2, 3, 4, 5);
        Assert.Equal(new Shape(2, 60), F.Flatten(x).Shape);                       // nn.Flatten: from dimension 1
        Assert.Equal(new Shape(120), F.Flatten(x, 0).Shape);                      // torch.flatten's default start
        Assert.Equal(new Shape(120), x.Flatten(0).Shape);
        Assert.Equal(F.Flatten(x).Shape, x.Flatten(1).Shape);
        Assert.Equal(new Shape(2, 12, 5), F.Flatten(x, 1, 2).Shape);
        Assert.Equal(new Shape(2, 3, 20), F.Flatten(x, -2).Shape);
        Assert.Equal(x.Shape, F.Flatten(x, 2, -2).Shape);                         // one dimension: unchanged
        Assert.Equal(new Shape(1), F.Flatten(Tensor.Scalar(3f), 0).Shape);
        Assert.Equal(new Shape(2, 0), F.Flatten(Tensor.Zeros(2, 0, 3), 1).Shape);
        Assert.True(F.Flatten(x, 0).SharesStorageWith(x));
    }

    [Fact]
    public void FlattenRangeGradient() => Expect.GradientsMatch(x => F.Square(F.Flatten(x[0], 1, -2)), Expect.Random(2, 3, 1, 2));

    [Fact]
    public void BadDimensionsAreNamed()
    {
        var x = Tensor.Zeros(2, 3);
        Assert.Contains("dim 3 is outside [-3, 2]", Assert.Throws<ArgumentException>(() => F.Unsqueeze(x, 3)).Message);
        Assert.Contains("axis -3", Assert.Throws<ArgumentException>(() => F.Squeeze(x, -3)).Message);
        Assert.Contains("listed twice", Assert.Throws<ArgumentException>(() => F.Squeeze(Tensor.Zeros(2, 1), 1, -1)).Message);
        Assert.Contains("comes after", Assert.Throws<ArgumentException>(() => F.Flatten(Tensor.Zeros(2, 3, 4), 2, 1)).Message);
        Assert.Contains("axis 2", Assert.Throws<ArgumentException>(() => F.Flatten(x, 2)).Message);
        Assert.Throws<ArgumentException>(() => F.Flatten(Tensor.Scalar(1f), 1));
    }
}
