using Sinapse.Autograd;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class IndexingTests
{
    static Tensor Counting(params int[] shape) => Tensor.FromArray(Enumerable.Range(0, new Shape(shape).Size).Select(i => (float)i).ToArray(), shape);

    static Tensor Indices(params float[] values) => Tensor.FromArray(values);

    [Fact]
    public void SliceFollowsPythonsBoundsAndSteps()
    {
        var x = Counting(2, 6);
        Assert.Equal([1f, 2f, 3f, 7f, 8f, 9f], F.Slice(x, 1, 1, 4).ToArray());
        Assert.Equal([1f, 3f, 5f, 7f, 9f, 11f], F.Slice(x, -1, 1, step: 2).ToArray());
        Assert.Equal([4f, 10f], F.Slice(x, 1, -2, -1).ToArray());                         // negative bounds count from the end
        Assert.Equal(x.ToArray(), F.Slice(x, 1, -100, 100).ToArray());                     // clamped
        Assert.Equal(new Shape(2, 0), F.Slice(x, 1, 4, 2).Shape);                          // end before start: empty
        Assert.Equal(new Shape(2, 0), F.Slice(x, 1, 7, 9).Shape);
        Assert.Equal(new Shape(2, 2), F.Slice(x, 1, 0, 6, 4).Shape);                       // ⌈6 / 4⌉
        Assert.Equal(new Shape(1, 6), F.Slice(x, 0, 1).Shape);
    }

    [Fact]
    public void AContiguousSliceIsAViewAndAnyOtherACopy()
    {
        var x = Counting(4, 3);
        var rows = F.Slice(x, 0, 1, 3);
        Assert.True(rows.SharesStorageWith(x));
        x[1, 0] = 100f;
        Assert.Equal(100f, rows[0, 0]);
        Assert.True(F.Slice(x.Reshape(1, 4, 3), 1, 2, 4).SharesStorageWith(x));           // leading size-1 dimensions do not break contiguity
        Assert.False(F.Slice(x, 1, 0, 2).SharesStorageWith(x));
        Assert.False(F.Slice(x, 0, 0, 4, 2).SharesStorageWith(x));
    }

    [Fact]
    public void SliceGradients()
    {
        Expect.GradientsMatch(x => F.Square(F.Slice(x[0], -2, 1, -1, 2)), Expect.Random(2, 6, 3));
        Expect.GradientsMatch(x => F.Square(F.Slice(x[0], 0, 1, 3)), Expect.Random(4, 3));        // a view
        Expect.GradientsMatch(x => F.Add(F.Slice(x[0], 1, 1), F.Slice(x[0], 1, 0, 2)), Expect.Random(3, 3));
        Expect.GradientsMatch(x => F.Concat([F.Slice(x[0], 1, 3, 1), F.Slice(x[0], 1, 0, 1)], 1), Expect.Random(2, 3));   // the empty slice's gradient is zero
    }

    [Fact]
    public void UnpickedPositionsGetAZeroGradientInARecycledBuffer()
    {
        var x = Expect.Parameter([4, 6], 3);
        using (TensorScope.Begin())
            for (int i = 0; i < 3; i++) Tensor.Empty(4, 6).Span.Fill(float.NaN);           // back to the pool, full of NaN
        using var scope = TensorScope.Begin();
        var hidden = F.Multiply(x, 2f);                                                     // an intermediate: its gradient buffer comes from the pool
        Tape.Backward(F.Sum(F.Add(F.Slice(hidden, 1, 1, 5, 3), F.Slice(hidden, 1, 2, 6, 3))));
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 6; c++) Assert.Equal(c is 1 or 2 or 4 or 5 ? 2f : 0f, x.Grad![r, c]);
    }

    [Fact]
    public void IndexSelectPicksEntriesInOrderWithRepeats()
    {
        var x = Counting(2, 4);
        Assert.Equal([3f, 0f, 3f, 7f, 4f, 7f], F.IndexSelect(x, 1, Indices(3, 0, 3)).ToArray());
        Assert.Equal(F.IndexSelect(x, 1, Indices(3, 0, 3)).ToArray(), F.IndexSelect(x, -1, [3, 0, 3]).ToArray());
        Assert.Equal([4f, 5f, 6f, 7f], x.IndexSelect(0, [1]).ToArray());
        Assert.Equal(new Shape(1, 4), F.IndexSelect(x, 0, Tensor.Scalar(1f)).Shape);       // a scalar index keeps the dimension, as in torch
        Assert.Equal(new Shape(2, 0), F.IndexSelect(x, 1, Array.Empty<int>()).Shape);
    }

    [Fact]
    public void IndexSelectGradientAddsRepeats()
    {
        Expect.GradientsMatch(x => F.Square(F.IndexSelect(x[0], 1, Indices(2, 0, 2, 2))), Expect.Random(2, 3, 2));
        Expect.GradientsMatch(x => F.Add(F.IndexSelect(x[0], 0, [1, 1]), F.IndexSelect(x[0], 0, [0, 1])), Expect.Random(3, 2));
        Expect.GradientsMatch(x => F.Concat([F.IndexSelect(x[0], 1, Array.Empty<int>()), x[0]], 1), Expect.Random(2, 3));
    }

    [Fact]
    public void GatherReadsAlongTheDimensionAtTheIndexPositions()
    {
        var x = Counting(2, 3);                                                             // [[0, 1, 2], [3, 4, 5]]
        var index = Tensor.FromArray([2f, 0f, 0f, 1f, 1f, 1f], 2, 3);
        Assert.Equal([2f, 0f, 0f, 4f, 4f, 4f], F.Gather(x, 1, index).ToArray());
        Assert.Equal([0f, 4f, 0f, 4f], x.Gather(0, Tensor.FromArray([0f, 1f, 0f, 1f], 2, 2)).ToArray());    // an index smaller than x
        Assert.Equal([0f, 4f, 5f], F.Gather(x, -2, Tensor.FromArray([0f, 1f, 1f], 1, 3)).ToArray());
    }

    [Fact]
    public void GatherGradientScatterAddsRepeats() =>
        Expect.GradientsMatch(x => F.Square(F.Gather(x[0], 1, Tensor.FromArray([2f, 0f, 2f, 1f, 1f, 1f, 0f, 0f], 2, 4, 1))), Expect.Random(2, 3, 2));

    [Fact]
    public void ScatterAddAddsSourceValuesAtTheIndexPositions()
    {
        var x = Tensor.Zeros(2, 3);
        var src = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var index = Tensor.FromArray([0f, 0f, 2f, 1f, 1f, 1f], 2, 3);
        Assert.Equal([3f, 0f, 3f, 0f, 15f, 0f], F.ScatterAdd(x, 1, index, src).ToArray());
        // A larger src: only the part the index covers is read.
        var wide = Tensor.FromArray([1f, 2f, 9f, 3f, 4f, 9f], 2, 3);
        Assert.Equal([1f, 2f, 0f, 3f, 4f, 0f], x.ScatterAdd(-1, Tensor.FromArray([0f, 1f, 0f, 1f], 2, 2), wide).ToArray());
        Assert.Equal(0f, x[0, 0]);                                                          // out of place
    }

    [Fact]
    public void ScatterAddGradients()
    {
        var index = Tensor.FromArray([0f, 2f, 2f, 1f, 0f, 0f], 3, 2);
        Expect.GradientsMatch(t => F.Square(F.ScatterAdd(t[0], 0, index, t[1])), Expect.Random(3, 2), Expect.Random([3, 2], 12));
        // src larger than the index: its uncovered part gets zero.
        Expect.GradientsMatch(t => F.Square(F.ScatterAdd(t[0], 1, Tensor.FromArray([1f, 1f], 2, 1), t[1])), Expect.Random(2, 3), Expect.Random([3, 2], 13));
    }

    [Fact]
    public void OneHotMarksEachClassAndRecordsNoGradient()
    {
        var labels = Tensor.FromArray([2f, 0f, 1f, 2f], 2, 2);
        labels.RequiresGrad = true;
        var y = F.OneHot(labels);
        Assert.Equal(new Shape(2, 2, 3), y.Shape);
        Assert.Equal([0f, 0f, 1f, 1f, 0f, 0f, 0f, 1f, 0f, 0f, 0f, 1f], y.ToArray());
        Assert.False(y.RequiresGrad);
        Assert.Equal(new Shape(4, 5), F.OneHot(Indices(0, 1, 4, 0), 5).Shape);
        Assert.Equal(new Shape(0, 3), F.OneHot(Tensor.Zeros(0), 3).Shape);
        Assert.Equal([0f, 1f], F.OneHot(Tensor.Scalar(1f), 2).ToArray());
    }

    [Fact]
    public void BadIndicesAreReportedWithOpPositionAndValue()
    {
        var x = Tensor.Zeros(2, 3);
        var error = Assert.Throws<ArgumentException>(() => F.Gather(x, 1, Tensor.FromArray([0f, 1f, 1.5f, 0f], 2, 2)));
        Assert.Contains("Gather: index[1, 0] = 1.5 is not an integer", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.IndexSelect(x, 1, Indices(0, 3)));
        Assert.Contains("IndexSelect: index[1] = 3 is out of range for dimension 1 of size 3", error.Message);
        Assert.Contains("index[0] = -1", Assert.Throws<ArgumentException>(() => F.IndexSelect(x, 0, [-1])).Message);
        Assert.Contains("not an integer", Assert.Throws<ArgumentException>(() => F.IndexSelect(x, 0, Indices(float.NaN))).Message);
        Assert.Contains("ScatterAdd: index[0, 1] = 2", Assert.Throws<ArgumentException>(() => F.ScatterAdd(x, 0, Tensor.FromArray([0f, 2f], 1, 2), x)).Message);
        Assert.Contains("OneHot: index[1] = 4 is outside [0, 3)", Assert.Throws<ArgumentException>(() => F.OneHot(Indices(0, 4), 3)).Message);
        Assert.Contains("index[0] = -2", Assert.Throws<ArgumentException>(() => F.OneHot(Indices(-2))).Message);
    }

    [Fact]
    public void BadShapesAndArgumentsAreNamed()
    {
        var x = Tensor.Zeros(2, 3);
        Assert.Contains("step must be positive, got 0", Assert.Throws<ArgumentException>(() => F.Slice(x, 1, 0, 2, 0)).Message);
        Assert.Contains("Slice: axis 2", Assert.Throws<ArgumentException>(() => F.Slice(x, 2, 0, 1)).Message);
        Assert.Contains("must be a vector", Assert.Throws<ArgumentException>(() => F.IndexSelect(x, 0, Tensor.Zeros(1, 1))).Message);
        Assert.Contains("rank of x", Assert.Throws<ArgumentException>(() => F.Gather(x, 0, Tensor.Zeros(2))).Message);
        Assert.Contains("larger than x [2, 3] in dimension 1", Assert.Throws<ArgumentException>(() => F.Gather(x, 0, Tensor.Zeros(1, 4))).Message);
        Assert.Contains("larger than src [2, 1] in dimension 1", Assert.Throws<ArgumentException>(() => F.ScatterAdd(x, 0, Tensor.Zeros(1, 2), Tensor.Zeros(2, 1))).Message);
        Assert.Contains("cannot infer the number of classes", Assert.Throws<ArgumentException>(() => F.OneHot(Tensor.Zeros(0))).Message);
    }
}
