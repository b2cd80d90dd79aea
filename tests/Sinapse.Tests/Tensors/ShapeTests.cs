using Sinapse.Tensors;

namespace Sinapse.Tests.Tensors;

public class ShapeTests
{
    [Fact]
    public void SizeRankAndAxes()
    {
        var s = new Shape(2, 3, 4);
        Assert.Equal(24, s.Size);
        Assert.Equal(3, s.Rank);
        Assert.Equal(4, s[-1]);
        Assert.Equal(3, s[^2]);
        Assert.Equal(new Shape(3, 4), s.Features);
        Assert.Equal(new Shape(7, 3, 4), s.WithBatch(7));
        Assert.Equal(1, new Shape().Size);
        Assert.Equal("[2, 3, 4]", s.ToString());
        Assert.True(new Shape(2, 3) == new Shape([2, 3]));
        Assert.Equal(new Shape(2, 3).GetHashCode(), new Shape(2, 3).GetHashCode());
        Assert.True(new Shape(2, 3) != new Shape(3, 2));
    }

    [Fact]
    public void RejectsNegativeAndHugeShapes()
    {
        Assert.Contains("[2, -1]", Assert.Throws<ArgumentException>(() => new Shape(2, -1)).Message);
        Assert.Throws<ArgumentException>(() => new Shape(100_000, 100_000).Size);
    }
}
