using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Tensors;

public class TensorIndexingTests
{
    /// <summary>[[0, 1, 2, 3, 4], [5, …], …]: each value tells its position.</summary>
    static Tensor Counting(params int[] shape) => Tensor.FromArray(Enumerable.Range(0, new Shape(shape).Size).Select(i => (float)i).ToArray(), shape);

    [Fact]
    public void RangesKeepDimensionsAndPositionsRemoveThem()
    {
        var x = Counting(4, 5);
        var columns = x[.., 1..3];
        Assert.Equal(new Shape(4, 2), columns.Shape);
        Assert.Equal([1f, 2f, 6f, 7f, 11f, 12f, 16f, 17f], columns.ToArray());
        var corner = x[0, ^1];
        Assert.Equal(new Shape(), corner.Shape);
        Assert.Equal(4f, corner.Item());
        Assert.Equal([7f, 12f], x[1..^1, 2].ToArray());
        Assert.Equal([15f, 16f, 17f, 18f, 19f], x[^1, ..].ToArray());
        Assert.Equal(x[^1, ..].ToArray(), x[-1, ..].ToArray());                     // a negative int counts from the end, as ^
        Assert.Equal(x.ToArray(), x[..].ToArray());
        Assert.Equal([5f, 6f, 7f, 8f, 9f], x[1..2].Reshape(-1).ToArray());          // missing dimensions are kept whole
    }

    [Fact]
    public void AllIntsStillReadOneElementAsAFloat()
    {
        var x = Counting(2, 3, 4);
        float value = x[1, 2, 3];                                                    // the params int[] indexer, not the tensor one
        Assert.Equal(23f, value);
        x[0, 1, 2] = -1f;
        Assert.Equal(-1f, x.ToArray()[6]);
        Assert.Equal(-1f, x[0, 1, 2]);
        // Fewer ints than dimensions still pick the element indexer: its error says how to get a sub-tensor.
        Assert.Contains("x[0, ..]", Assert.Throws<IndexOutOfRangeException>(() => x[0]).Message);
        Assert.Equal(new Shape(3, 4), x[0, ..].Shape);
        // A TensorIndex array is always the tensor indexer, even when every entry is a position.
        Assert.Equal(new Shape(), x[new TensorIndex[] { 1, 2, 3 }].Shape);
    }

    [Fact]
    public void RangesAreClampedAsPythonSlicesAre()
    {
        var x = Counting(3, 4);
        Assert.Equal(x.ToArray(), x[0..100].ToArray());
        Assert.Equal(new Shape(3, 0), x[.., 3..1].Shape);
        Assert.Equal(new Shape(0, 4), x[^10..^5].Shape);
        Assert.Equal([0f, 1f], x[0, ^10..2].ToArray());
    }

    [Fact]
    public void ContiguousPicksAreViewsOthersCopies()
    {
        var x = Counting(4, 5);
        Assert.True(x[1..3].SharesStorageWith(x));
        Assert.True(x[2, ..].SharesStorageWith(x));
        Assert.True(x[2, 1..4].SharesStorageWith(x));
        Assert.False(x[.., 1..4].SharesStorageWith(x));
        var row = x[3, ..];
        x[3, 0] = 42f;
        Assert.Equal(42f, row[0]);
    }

    [Fact]
    public void IndexingGradients()
    {
        Expect.GradientsMatch(t => F.Square(t[0][.., 1..3]), Expect.Random(3, 4));
        Expect.GradientsMatch(t => F.Square(t[0][1..^1, 2]), Expect.Random(4, 3));
        Expect.GradientsMatch(t => F.Multiply(t[0][0, ..], t[0][^1, ..]), Expect.Random(3, 2, 2));
        Expect.GradientsMatch(t => F.Reshape(t[0][1, ^1], 1), Expect.Random(2, 3));
    }

    [Fact]
    public void BadIndicesAreNamed()
    {
        var x = Counting(2, 3);
        var error = Assert.Throws<IndexOutOfRangeException>(() => x[.., 3]);
        Assert.Contains("Index 3 is out of range for dimension 1 of size 3", error.Message);
        Assert.Contains("Index ^3 is out of range for dimension 0", Assert.Throws<IndexOutOfRangeException>(() => x[-3, ..]).Message);
        Assert.Contains("Index ^0", Assert.Throws<IndexOutOfRangeException>(() => x[^0, ..]).Message);
        Assert.Contains("Too many indices", Assert.Throws<IndexOutOfRangeException>(() => x[.., .., ..]).Message);
    }
}
