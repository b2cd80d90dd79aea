using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class PadTests
{
    [Fact]
    public void PadsTheLastDimensionsFirstWithTheValue()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        Assert.Equal([9f, 1f, 2f, 9f, 9f, 9f, 3f, 4f, 9f, 9f], F.Pad(x, [1, 2], 9f).ToArray());
        var padded = F.Pad(x, [0, 1, 1, 0]);                                     // right 1, top 1
        Assert.Equal(new Shape(3, 3), padded.Shape);
        Assert.Equal([0f, 0f, 0f, 1f, 2f, 0f, 3f, 4f, 0f], padded.ToArray());
        Assert.Equal(x.ToArray(), F.Pad(x, []).ToArray());
    }

    [Fact]
    public void NegativePadsCrop()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        Assert.Equal([2f, 5f], F.Pad(x, [-1, -1]).ToArray());
        Assert.Equal([3f, 7f, 6f, 7f], F.Pad(x, [-2, 1], 7f).ToArray());
        Assert.Equal(new Shape(0, 3), F.Pad(x, [0, 0, -1, -1]).Shape);             // everything cropped
        Assert.Equal([5f, 5f], F.Pad(Tensor.Zeros(2, 3), [-3, 1], 5f).ToArray());   // cropped to nothing, then padded
    }

    [Fact]
    public void PadGradientIsTheOutputsAtTheInputsPositions()
    {
        Expect.GradientsMatch(x => F.Square(F.Pad(x[0], [1, 2, 0, 1], 0.5f)), Expect.Random(2, 3, 2));
        Expect.GradientsMatch(x => F.Square(F.Pad(x[0], [-1, 1, 2, -2])), Expect.Random(2, 4, 3));   // crops get a zero gradient
        Expect.GradientsMatch(x => F.Add(F.Pad(x[0], [-1, 1]), F.Pad(x[0], [1, -1])), Expect.Random(3, 4));
    }

    [Fact]
    public void BadPadsAreNamed()
    {
        Assert.Contains("Pad: padding dimension 1", Assert.Throws<ArgumentException>(() => F.Pad(Tensor.Zeros(2, 2), [int.MaxValue, 2])).Message);
        var x = Tensor.Zeros(2, 3);
        Assert.Contains("(before, after) pairs", Assert.Throws<ArgumentException>(() => F.Pad(x, [1])).Message);
        Assert.Contains("at most the 2 dimensions", Assert.Throws<ArgumentException>(() => F.Pad(x, [1, 1, 1, 1, 1, 1])).Message);
        Assert.Contains("dimension 1 of size 3 by (2, -4) crops more positions than it has", Assert.Throws<ArgumentException>(() => F.Pad(x, [2, -4])).Message);
    }
}
