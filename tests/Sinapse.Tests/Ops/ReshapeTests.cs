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
}
