using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class SelectionReductionsTests
{
    /// <summary>
    /// Values of distinct magnitudes 0.05, 0.15, 0.25, … with random signs, shuffled: no two
    /// elements are within the finite-difference step of each other (or of 0), so the selected
    /// element stays the same while a gradient check nudges the input.
    /// </summary>
    internal static Tensor Distinct(int[] shape, ulong seed)
    {
        var x = Tensor.Empty(new Shape(shape));
        var values = x.Span;
        var rng = new Rng(seed);
        for (int i = 0; i < values.Length; i++) values[i] = (0.05f + 0.1f * i) * (rng.NextFloat() < 0.5f ? -1f : 1f);
        rng.Shuffle(values);
        return x;
    }

    public static TheoryData<int[], int> Axes => new()
    {
        { [2, 3, 4], 0 }, { [2, 3, 4], 1 }, { [2, 3, 4], -1 }, { [2, 3, 4], -3 },
        { [3, 1, 4], 1 }, { [3, 1, 4], 2 }, { [5], 0 }, { [2, 19], 0 },
    };

    public static TheoryData<int[], int[]> AxisSets => new()
    {
        { [2, 3, 4], [0] }, { [2, 3, 4], [1, 2] }, { [2, 3, 4], [-1, 0] }, { [2, 3, 4], [] },
        { [3, 1, 4], [1] }, { [3, 1, 4], [0, 1] }, { [4, 2], [-2] },
    };

    [Fact]
    public void MaxAndMinOfAllElementsMatchFiniteDifferences()
    {
        Expect.GradientsMatch(x => F.Max(x[0]), Distinct([3, 4], 1));
        Expect.GradientsMatch(x => F.Min(x[0]), Distinct([3, 4], 2));
        Expect.GradientsMatch(x => F.Max(x[0]), Distinct([1], 3));
    }

    [Theory]
    [MemberData(nameof(Axes))]
    public void MaxAndMinAlongADimMatchFiniteDifferences(int[] shape, int dim)
    {
        foreach (var keepDim in new[] { false, true })
        {
            Expect.GradientsMatch(x => F.Max(x[0], dim, keepDim).Values, Distinct(shape, 4));
            Expect.GradientsMatch(x => F.Min(x[0], dim, keepDim).Values, Distinct(shape, 5));
        }
    }

    [Theory]
    [MemberData(nameof(AxisSets))]
    public void AmaxAndAminMatchFiniteDifferences(int[] shape, int[] dims)
    {
        foreach (var keepDim in new[] { false, true })
        {
            Expect.GradientsMatch(x => F.Amax(x[0], dims, keepDim), Distinct(shape, 6));
            Expect.GradientsMatch(x => F.Amin(x[0], dims, keepDim), Distinct(shape, 7));
        }
    }

    [Fact]
    public void GradientsAccumulateWhenTheInputIsUsedTwice()
    {
        // The second use finds the input's gradient already there (beta = 1).
        Expect.GradientsMatch(x => F.Add(F.Max(x[0], 1).Values, F.Sum(x[0], 1)), Distinct([3, 4], 8));
        Expect.GradientsMatch(x => F.Add(F.Min(x[0]), F.Max(x[0])), Distinct([3, 4], 9));
        Expect.GradientsMatch(x => F.Add(F.Amax(x[0], [0]), F.Amin(x[0], [0])), Distinct([3, 4], 10));
    }

    [Fact]
    public void TiesShareTheGradientOfAnAllElementMaxButOnlyTheFirstGetsTheDimsOne()
    {
        var x = Tensor.FromArray([1f, 3f, 3f, 2f, 3f, 0f], 2, 3);
        x.RequiresGrad = true;
        F.Max(x).Backward();
        Assert.Equal([0f, 1f / 3, 1f / 3, 0f, 1f / 3, 0f], x.Grad!.ToArray());

        x.Grad = null;
        var (values, indices) = F.Max(x, 1);
        Assert.Equal([3f, 3f], values.ToArray());
        Assert.Equal([1f, 1f], indices.ToArray());
        values.Backward(Tensor.FromArray([10f, 20f]));
        Assert.Equal([0f, 10f, 0f, 0f, 20f, 0f], x.Grad!.ToArray());

        x.Grad = null;
        F.Amax(x, [0, 1]).Backward();
        Assert.Equal([0f, 1f / 3, 1f / 3, 0f, 1f / 3, 0f], x.Grad!.ToArray());
    }

    [Fact]
    public void NaNWinsAndItsFirstIndexIsChosen()
    {
        var x = Tensor.FromArray([1f, float.NaN, 5f, float.NaN, 3f, 2f, 0f, 4f, 7f, 7f], 2, 5);
        var (maxima, where) = F.Max(x, -1);
        Assert.True(float.IsNaN(maxima[0]));
        Assert.Equal(7f, maxima[1]);
        Assert.Equal([1f, 3f], where.ToArray());
        var (minima, whereMin) = F.Min(x, 0);
        Assert.Equal([1f, float.NaN, 4f, float.NaN, 3f], minima.ToArray());
        Assert.Equal([0f, 0f, 1f, 0f, 0f], whereMin.ToArray());
        Assert.Equal(1f, F.Argmax(x).Item());
        Assert.Equal(1f, F.Argmin(x).Item());
        Assert.True(float.IsNaN(F.Amax(x, [1])[0]));
    }

    [Fact]
    public void SignedZerosTieAndTheFirstWins()
    {
        // TensorPrimitives ranks +0 above −0; PyTorch does not.
        var x = Tensor.FromArray([-0f, 0f, -1f, 0f, -0f, -1f], 2, 3);
        Assert.Equal([0f, 0f], F.Max(x, 1).Indices.ToArray());
        Assert.Equal(0f, F.Argmax(x).Item());
        Assert.Equal([0f, 0f, 0f], F.Argmin(F.Negate(x), 0).ToArray());
    }

    [Fact]
    public void IndicesAreWholeNumbersWithoutGradient()
    {
        var x = Distinct([3, 5, 2], 11);
        x.RequiresGrad = true;
        var (values, indices) = F.Max(x, 1, keepDim: true);
        Assert.True(values.RequiresGrad);
        Assert.False(indices.RequiresGrad);
        Assert.Equal(new Shape(3, 1, 2), indices.Shape);
        Assert.False(F.Argmax(x, 1).RequiresGrad);
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 2; i++)
            {
                int index = (int)indices[o, 0, i];
                Assert.Equal(indices[o, 0, i], index);
                Assert.Equal(values[o, 0, i], x[o, index, i]);
                for (int s = 0; s < 5; s++) Assert.True(x[o, s, i] <= values[o, 0, i]);
            }
        Assert.Equal(F.Max(x, 1).Indices.ToArray(), F.Argmax(x, 1).ToArray());
        Assert.Equal(F.Min(x, -2).Indices.ToArray(), F.Argmin(x, -2).ToArray());
    }

    [Fact]
    public void AScalarReducesOverAxisZeroOrMinusOne()
    {
        var x = Tensor.Scalar(2.5f);
        var (values, indices) = F.Max(x, 0);
        Assert.Equal(new Shape(), values.Shape);
        Assert.Equal(2.5f, values.Item());
        Assert.Equal(0f, indices.Item());
        Assert.Equal(0f, F.Argmin(x, -1, keepDim: true).Item());
        Assert.Equal(2.5f, F.Amax(x, []).Item());
        Expect.GradientsMatch(t => F.Min(t[0], -1).Values, Tensor.Scalar(-1f));
    }

    [Fact]
    public void BadAxesAndEmptyReductionsAreRefusedClearly()
    {
        var error = Assert.Throws<ArgumentException>(() => F.Max(Tensor.Zeros(2, 3), 2));
        Assert.Contains("axis 2 is out of range for shape [2, 3]", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.Amax(Tensor.Zeros(2, 3), [1, -1]));
        Assert.Contains("named twice", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.Max(Tensor.Zeros(2, 0)));
        Assert.StartsWith("Max: the tensor [2, 0] is empty", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.Argmin(Tensor.Zeros(0)));
        Assert.StartsWith("Argmin: the tensor [0] is empty", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.Min(Tensor.Zeros(4, 0, 2), 1));
        Assert.StartsWith("Min: cannot reduce over axis 1 of shape [4, 0, 2], which is empty", error.Message);
        // Empty elsewhere is fine: nothing to choose from, nothing to return.
        Assert.Equal(new Shape(0, 2), F.Min(Tensor.Zeros(0, 3, 2), 1).Values.Shape);
        Assert.Equal(new Shape(4, 0), F.Amin(Tensor.Zeros(4, 0, 2), [-1]).Shape);
    }

    [Fact]
    public void AnAxisLongerThanAFloatCountsExactlyIsRefused()
    {
        var x = Tensor.Empty((1 << 24) + 1);
        var error = Assert.Throws<ArgumentException>(() => F.Argmax(x));
        Assert.Contains("2^24", error.Message);
        Assert.Throws<ArgumentException>(() => F.Max(x, 0));
    }

    [Fact]
    public void LargeTensorsMatchAScalarReference()
    {
        // Past the parallel threshold, along a contiguous row, along inner lines, and over a long single slice.
        foreach (var (shape, dim) in new[] { (new[] { 3, 20_000 }, 1), (new[] { 20_000, 3 }, 0), (new[] { 6, 700, 37 }, 1), (new[] { 2, 40, 900 }, -2) })
        {
            var x = Tensor.Uniform(new Shape(shape), -4f, 4f, new Rng(12));
            var values = x.Span;
            for (int i = 0; i < values.Length; i++) values[i] = MathF.Round(values[i]);    // many ties
            for (int i = 5; i < values.Length; i += 997) values[i] = float.NaN;
            var (maxima, where) = F.Max(x, dim);
            var (minima, whereMin) = F.Min(x, dim);
            var (expectedMax, expectedWhere) = Reference(x, dim, (a, b) => a > b);
            var (expectedMin, expectedWhereMin) = Reference(x, dim, (a, b) => a < b);
            Assert.Equal(expectedMax, maxima.ToArray());
            Assert.Equal(expectedWhere, where.ToArray());
            Assert.Equal(expectedMin, minima.ToArray());
            Assert.Equal(expectedWhereMin, whereMin.ToArray());
            Assert.Equal(expectedMax, F.Amax(x, dim).ToArray());
        }
    }

    /// <summary>PyTorch's rule written out: the first NaN, else the first element no other beats.</summary>
    static (float[] Values, float[] Indices) Reference(Tensor x, int dim, Func<float, float, bool> beats)
    {
        int axis = dim < 0 ? dim + x.Rank : dim, size = x.Shape[axis], inner = 1;
        for (int a = axis + 1; a < x.Rank; a++) inner *= x.Shape[a];
        int outer = x.Length / (size * inner);
        var values = new float[outer * inner];
        var indices = new float[outer * inner];
        var xs = x.Span;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                for (int s = 1; s < size; s++)
                {
                    float candidate = xs[(o * size + s) * inner + i], current = xs[(o * size + best) * inner + i];
                    if (float.IsNaN(current)) break;
                    if (float.IsNaN(candidate) || beats(candidate, current)) best = s;
                }
                values[o * inner + i] = xs[(o * size + best) * inner + i];
                indices[o * inner + i] = best;
            }
        return (values, indices);
    }

    [Fact]
    public void TensorMethodsAreTheFunctions()
    {
        var x = Distinct([3, 4, 2], 13);
        Assert.Equal(F.Max(x).ToArray(), x.Max().ToArray());
        Assert.Equal(F.Min(x).ToArray(), x.Min().ToArray());
        Assert.Equal(F.Max(x, 1, true).Indices.ToArray(), x.Max(1, true).Indices.ToArray());
        Assert.Equal(F.Min(x, -1).Values.ToArray(), x.Min(-1).Values.ToArray());
        Assert.Equal(F.Amax(x, [0, 2]).ToArray(), x.Amax([0, 2]).ToArray());
        Assert.Equal(F.Amax(x, 1, true).ToArray(), x.Amax(1, true).ToArray());
        Assert.Equal(F.Amin(x, [1]).ToArray(), x.Amin([1]).ToArray());
        Assert.Equal(F.Amin(x, 2).ToArray(), x.Amin(2).ToArray());
        Assert.Equal(F.Argmax(x).Item(), x.Argmax().Item());
        Assert.Equal(F.Argmin(x).Item(), x.Argmin().Item());
        Assert.Equal(F.Argmax(x, 0).ToArray(), x.Argmax(0).ToArray());
        Assert.Equal(F.Argmin(x, 2, true).ToArray(), x.Argmin(2, true).ToArray());
    }
}
