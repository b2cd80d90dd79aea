using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class RepeatTests
{
    [Fact]
    public void TilesAlongEachDimensionAsTorchRepeat()
    {
        var x = Tensor.FromArray([1f, 2f, 3f]);
        var y = F.Repeat(x, 2, 2);                                                  // more repeats than dimensions: x is [1, 3]
        Assert.Equal(new Shape(2, 6), y.Shape);
        Assert.Equal([1f, 2f, 3f, 1f, 2f, 3f, 1f, 2f, 3f, 1f, 2f, 3f], y.ToArray());
        var m = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        Assert.Equal([1f, 2f, 1f, 2f, 3f, 4f, 3f, 4f, 1f, 2f, 1f, 2f, 3f, 4f, 3f, 4f], m.Repeat(2, 2).ToArray());
        Assert.Equal([1f, 2f, 3f, 4f, 1f, 2f, 3f, 4f], m.Repeat(2, 1).ToArray());
        Assert.Equal(new Shape(3, 1, 2, 2), m.Repeat(3, 1, 1, 1).Shape);
        Assert.Equal(new Shape(2, 0), F.Repeat(m, 1, 0).Shape);
        Assert.Equal([5f, 5f], F.Repeat(Tensor.Scalar(5f), 2).ToArray());
    }

    [Fact]
    public void RepeatGradientSumsOverTheCopies()
    {
        Expect.GradientsMatch(x => F.Square(F.Repeat(x[0], 2, 1, 3)), Expect.Random(2, 3));
        Expect.GradientsMatch(x => F.Square(F.Repeat(x[0], 3, 2)), Expect.Random(3, 1));
        Expect.GradientsMatch(x => F.Concat([F.Repeat(x[0], 0, 1), x[0]], 0), Expect.Random(2, 2));   // repeated 0 times: a zero gradient
    }

    [Fact]
    public void BadRepeatsAreNamed()
    {
        Assert.Contains("Repeat: repeating dimension 0", Assert.Throws<ArgumentException>(() => F.Repeat(Tensor.Zeros(65536), 65537)).Message);
        Assert.Contains("more than a tensor holds", Assert.Throws<ArgumentException>(() => F.Repeat(Tensor.Zeros(2, 2), 50_000, 50_000)).Message);
        var x = Tensor.Zeros(2, 3);
        Assert.Contains("at least one per dimension", Assert.Throws<ArgumentException>(() => F.Repeat(x, 2)).Message);
        Assert.Contains("0 or more, got [2, -1]", Assert.Throws<ArgumentException>(() => F.Repeat(x, 2, -1)).Message);
    }
}
