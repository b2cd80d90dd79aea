using Sinapse.Tensors;

namespace Sinapse.Tests.Tensors;

public class TensorTests
{
    [Fact]
    public void IndexingErrorsSayWhatIsWrong()
    {
        var t = Tensor.Zeros(2, 3);
        var outOfRange = Assert.Throws<IndexOutOfRangeException>(() => t[1, 3]);
        Assert.Contains("axis 1", outOfRange.Message);
        Assert.Contains("[2, 3]", outOfRange.Message);
        // Negative indices count from the end, as in PyTorch; past the start they are out of range.
        Assert.Contains("expected -2 to 1", Assert.Throws<IndexOutOfRangeException>(() => t[-3, 0]).Message);
        Assert.Contains("out of range for shape [2, 3]", Assert.Throws<IndexOutOfRangeException>(() => t.Shape[-3]).Message);
        var wrongCount = Assert.Throws<IndexOutOfRangeException>(() => t[1]);
        Assert.Contains("2 indices", wrongCount.Message);
        t[1, 2] = 9f;
        Assert.Equal(9f, t.ToArray()[5]);
        Assert.Equal(9f, t[-1, -1]);
        t[-2, 0] = 4f;
        Assert.Equal(4f, t.ToArray()[0]);
        Assert.Throws<InvalidOperationException>(() => t.Item());
    }

    [Fact]
    public void SliceSharesRowsAndChecksBounds()
    {
        var t = Tensor.FromArray([0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f], 4, 2);
        var slice = t.Slice(1, 2);
        Assert.Equal(new Shape(2, 2), slice.Shape);
        Assert.Equal([2f, 3f, 4f, 5f], slice.ToArray());
        slice[0, 0] = -1f;
        Assert.Equal(-1f, t[1, 0]);
        Assert.Equal([4f, 5f], t.Slice(1, 2).Slice(1, 1).ToArray());   // a slice of a slice
        Assert.Equal(0, t.Slice(4, 0).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Slice(3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Slice(-1, 1));
    }

    [Fact]
    public void GatherRowsCopiesInTheGivenOrder()
    {
        var t = Tensor.FromArray([0f, 1f, 2f, 3f, 4f, 5f], 3, 2);
        var gathered = t.GatherRows([2, 0, 2]);
        Assert.Equal(new Shape(3, 2), gathered.Shape);
        Assert.Equal([4f, 5f, 0f, 1f, 4f, 5f], gathered.ToArray());
        gathered[0, 0] = 100f;
        Assert.Equal(4f, t[2, 0]);
        Assert.Throws<IndexOutOfRangeException>(() => t.GatherRows([3]));
        Assert.Throws<ArgumentException>(() => t.GatherRows([0, 1], Tensor.Zeros(3, 2)));
    }

    [Fact]
    public void CloneCopiesAndDetachShares()
    {
        var t = Tensor.FromArray([1f, 2f]);
        t.RequiresGrad = true;
        var clone = t.Clone();
        clone[0] = 5f;
        Assert.Equal(1f, t[0]);
        var detached = t.Detach();
        Assert.False(detached.RequiresGrad);
        detached[0] = 7f;
        Assert.Equal(7f, t[0]);
    }
}
