using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Tests.Kernels;

public class StridedCopyTests
{
    /// <summary>The definition, one element at a time: destination[Σ i·destinationStrides] (+)= source[Σ i·sourceStrides].</summary>
    internal static void Reference(float[] source, int[] sourceStrides, float[] destination, int[] destinationStrides, int[] sizes, bool accumulate)
    {
        int count = new Shape(sizes).Size;
        var index = new int[sizes.Length];
        for (int flat = 0; flat < count; flat++)
        {
            int rest = flat, from = 0, to = 0;
            for (int d = sizes.Length - 1; d >= 0; d--)
            {
                index[d] = rest % sizes[d];
                rest /= sizes[d];
                from += index[d] * sourceStrides[d];
                to += index[d] * destinationStrides[d];
            }
            destination[to] = accumulate ? destination[to] + source[from] : source[from];
        }
    }

    static float[] Values(int count, ulong seed) => Tensor.Uniform(new Shape(count), -1f, 1f, new Rng(seed)).ToArray();

    static int Reach(int[] sizes, int[] strides) => sizes.Zip(strides, (s, t) => (s - 1) * t).Sum() + 1;

    public static TheoryData<int[], int[], int[]> Boxes => new()
    {
        // sizes, source strides, destination strides
        { [4, 5], [5, 1], [5, 1] },                           // one run
        { [3, 4, 5], [20, 5, 1], [40, 10, 1] },               // runs into a larger destination (a pad)
        { [3, 4, 5], [1, 15, 3], [20, 5, 1] },                // a permute: the source's contiguous dimension is not the last
        { [9, 17], [1, 9], [17, 1] },                         // a transpose with ragged 8x8 edges
        { [2, 70, 130], [9100, 1, 70], [9100, 130, 1] },      // batched transposes across several tiles
        { [3, 1, 6], [12, 5, 2], [6, 6, 1] },                 // a stepped slice: element by element
        { [2, 3, 2, 4], [0, 4, 0, 1], [24, 8, 4, 1] },        // a repeat: source stride 0
        { [1, 1, 1], [7, 3, 1], [1, 1, 1] },                  // one element
    };

    [Theory]
    [MemberData(nameof(Boxes))]
    public void CopiesMatchTheDefinition(int[] sizes, int[] sourceStrides, int[] destinationStrides)
    {
        var source = Values(Reach(sizes, sourceStrides), 1);
        var expected = Values(Reach(sizes, destinationStrides), 2);
        var actual = (float[])expected.Clone();
        Reference(source, sourceStrides, expected, destinationStrides, sizes, accumulate: false);
        StridedCopy.Run(source, sourceStrides, actual, destinationStrides, sizes);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void AccumulationAddsEvenIntoOneElementFromMany()
    {
        // The gradient of a repeat: the destination's stride 0 sums the copies.
        int[] sizes = [3, 2, 4], sourceStrides = [8, 4, 1], destinationStrides = [0, 4, 1];
        var source = Values(24, 3);
        var expected = Values(8, 4);
        var actual = (float[])expected.Clone();
        Reference(source, sourceStrides, expected, destinationStrides, sizes, accumulate: true);
        StridedCopy.Run(source, sourceStrides, actual, destinationStrides, sizes, accumulate: true);
        Assert.Equal(expected, actual);
        // A transpose accumulated (a permute's gradient added to an earlier one).
        (sizes, sourceStrides, destinationStrides) = ([11, 13], [1, 11], [13, 1]);
        source = Values(143, 5);
        expected = Values(143, 6);
        actual = (float[])expected.Clone();
        Reference(source, sourceStrides, expected, destinationStrides, sizes, accumulate: true);
        StridedCopy.Run(source, sourceStrides, actual, destinationStrides, sizes, accumulate: true);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void ABoxReachingPastItsSpansIsRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => StridedCopy.Run(new float[10], [5, 1], new float[12], [4, 1], [3, 4]));
        Assert.Contains("reaches element 13 of a source of 10", error.Message);
        Assert.Throws<ArgumentException>(() => StridedCopy.Run(new float[10], [-1], new float[10], [1], [2]));
        Assert.Throws<ArgumentException>(() => StridedCopy.Run(new float[10], [1], new float[10], [1, 1], [2]));
    }
}

/// <summary>Large copies split their tiles over the worker threads: the result must not depend on it.</summary>
[Collection(Sinapse.Tests.Support.WorkerPoolCollection.Name)]
public class ParallelStridedCopyTests
{
    [Theory]
    [InlineData(517, 1031)]     // one plane, many rows of tiles, ragged on both sides
    [InlineData(3, 40000)]      // a wide plane whose 3 rows are narrower than one 8x8 block
    public void ALargeTransposeIsTheSameOnOneOrTwoThreads(int rows, int columns)
    {
        var source = Tensor.Uniform(new Shape(rows * columns), -1f, 1f, new Rng(7)).ToArray();
        int[] sizes = [columns, rows], sourceStrides = [1, columns], destinationStrides = [rows, 1];
        var expected = new float[source.Length];
        StridedCopyTests.Reference(source, sourceStrides, expected, destinationStrides, sizes, accumulate: false);
        foreach (int threads in new[] { 1, 2 })
        {
            int saved = Workers.Count;
            try
            {
                Workers.Count = threads;
                var actual = new float[source.Length];
                StridedCopy.Run(source, sourceStrides, actual, destinationStrides, sizes);
                Assert.Equal(expected, actual);
            }
            finally
            {
                Workers.Count = saved;
            }
        }
    }
}
