using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class PermuteTests
{
    /// <summary>Element (i_0, …) of the result is element i_k at position order[k] of x, read one by one.</summary>
    internal static float[] PermuteByReading(Tensor x, int[] order)
    {
        var shape = order.Select(d => x.Shape[d]).ToArray();
        var result = new float[x.Length];
        var index = new int[x.Rank];
        var source = new int[x.Rank];
        for (int flat = 0; flat < result.Length; flat++)
        {
            int rest = flat;
            for (int d = x.Rank - 1; d >= 0; d--)
            {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            for (int d = 0; d < x.Rank; d++) source[order[d]] = index[d];
            result[flat] = x[source];
        }
        return result;
    }

    public static TheoryData<int[], int[]> Permutations => new()
    {
        { [2, 3], [1, 0] },
        { [2, 3, 4], [2, 0, 1] },
        { [2, 3, 4, 5], [0, 2, 1, 3] },        // inner runs of 5
        { [2, 3, 4, 5], [0, 3, 1, 2] },        // NCHW -> NHWC: a transpose of 3x20 planes
        { [3, 1, 4, 2], [3, 1, 0, 2] },        // size-1 dimension moved along
        { [19, 37], [1, 0] },                  // ragged 8x8 edges on both sides
        { [3, 70, 45], [0, 2, 1] },            // several 64-wide tiles per plane, with ragged edges
        { [5, 9, 17], [2, 1, 0] },
        { [2, 0, 3], [2, 0, 1] },              // empty
    };

    [Theory]
    [MemberData(nameof(Permutations))]
    public void PermuteMatchesADirectReading(int[] shape, int[] order)
    {
        var x = Expect.Random(shape);
        var y = F.Permute(x, order);
        Assert.Equal(new Shape(order.Select(d => shape[d]).ToArray()), y.Shape);
        Assert.Equal(PermuteByReading(x, order), y.ToArray());
        // Negative dims name the same permutation.
        Assert.Equal(y.ToArray(), x.Permute(order.Select(d => d - shape.Length).ToArray()).ToArray());
    }

    [Fact]
    public void TransposeAndMoveDimAreThePermutationsTheyName()
    {
        var x = Expect.Random(2, 3, 4, 5);
        Assert.Equal(PermuteByReading(x, [0, 3, 2, 1]), F.Transpose(x, 1, -1).ToArray());
        Assert.Equal(x.ToArray(), x.Transpose(2, 2).ToArray());
        Assert.Equal(PermuteByReading(x, [0, 2, 3, 1]), F.MoveDim(x, 1, -1).ToArray());          // channels last
        Assert.Equal(PermuteByReading(x, [3, 0, 1, 2]), x.MoveDim(-1, 0).ToArray());
        // torch.movedim(x, (0, 1), (2, 0)): 0 goes to 2, 1 to 0, the rest (2, 3) fill 1 and 3.
        Assert.Equal(PermuteByReading(x, [1, 2, 0, 3]), F.MoveDim(x, [0, 1], [2, 0]).ToArray());
        Assert.Equal(new Shape(4, 2, 3, 5), x.MoveDim([2], [0]).Shape);
    }

    [Fact]
    public void APermutationThatKeepsTheElementOrderIsAView()
    {
        var x = Expect.Random(3, 1, 4);
        Assert.True(F.Permute(x, 1, 0, 2).SharesStorageWith(x));
        Assert.True(F.Transpose(x, 0, 0).SharesStorageWith(x));
        Assert.False(F.Permute(x, 2, 1, 0).SharesStorageWith(x));
        Assert.Equal(new Shape(1, 3, 4), F.Permute(x, 1, 0, 2).Shape);
    }

    [Fact]
    public void PermuteGradient() => Expect.GradientsMatch(x => F.Square(F.Permute(x[0], -1, 0, 2, 1)), Expect.Random(2, 3, 1, 4));

    [Fact]
    public void TransposeGradientAccumulatesWhenUsedTwice() =>
        // The second transpose's backward adds into the gradient the first one wrote.
        Expect.GradientsMatch(x => F.Multiply(F.Transpose(x[0], 0, 1), F.Transpose(x[0], -1, -2)), Expect.Random(3, 5));

    [Fact]
    public void MoveDimGradient() => Expect.GradientsMatch(x => F.Square(F.MoveDim(x[0], [0, -1], [-1, 1])), Expect.Random(2, 3, 4));

    [Fact]
    public void BadPermutationsAreNamed()
    {
        var x = Tensor.Zeros(2, 3, 4);
        Assert.Contains("each of the 3 dimensions", Assert.Throws<ArgumentException>(() => F.Permute(x, 0, 1)).Message);
        Assert.Contains("lists dimension 2 twice", Assert.Throws<ArgumentException>(() => F.Permute(x, 0, 2, -1)).Message);
        Assert.Contains("axis 3", Assert.Throws<ArgumentException>(() => F.Permute(x, 0, 1, 3)).Message);
        Assert.Contains("axis -4", Assert.Throws<ArgumentException>(() => F.Transpose(x, 0, -4)).Message);
        Assert.Contains("as many destinations", Assert.Throws<ArgumentException>(() => F.MoveDim(x, [0, 1], [2])).Message);
        Assert.Contains("at most once", Assert.Throws<ArgumentException>(() => F.MoveDim(x, [0, 1], [2, -1])).Message);
    }
}
