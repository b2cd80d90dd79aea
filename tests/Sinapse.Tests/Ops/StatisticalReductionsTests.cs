using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class StatisticalReductionsTests
{
    public static TheoryData<int[], int[]> AxisSets => new()
    {
        { [2, 3, 4], [0] }, { [2, 3, 4], [1, 2] }, { [2, 3, 4], [-1, 0] }, { [2, 3, 4], [] },
        { [3, 1, 4], [1, 2] }, { [3, 1, 4], [-3] }, { [5], [0] }, { [2, 19], [-1] },
    };

    [Theory]
    [MemberData(nameof(AxisSets))]
    public void VarAndStdMatchFiniteDifferences(int[] shape, int[] dims)
    {
        foreach (var keepDim in new[] { false, true })
            foreach (var unbiased in new[] { true, false })
            {
                Expect.GradientsMatch(x => F.Var(x[0], dims, unbiased, keepDim), Expect.Random(shape, 21));
                Expect.GradientsMatch(x => F.Std(x[0], dims, unbiased, keepDim), Expect.Random(shape, 22));
            }
        // Correction 2 divides by N − 2: where a slice has 2 or fewer values the variance is infinite and
        // has no derivative to check (finite differences give NaN), so those axis sets check only the others.
        int count = dims.Length == 0 ? shape.Aggregate(1, (a, b) => a * b) : dims.Aggregate(1, (a, d) => a * shape[d < 0 ? d + shape.Length : d]);
        if (count > 2) Expect.GradientsMatch(x => F.Var(x[0], dims, correction: 2), Expect.Random(shape, 23));
    }

    [Theory]
    [MemberData(nameof(AxisSets))]
    public void LogSumExpMatchesFiniteDifferences(int[] shape, int[] dims)
    {
        Expect.GradientsMatch(x => F.LogSumExp(x[0], dims), Expect.Random(shape, 24));
        Expect.GradientsMatch(x => F.LogSumExp(x[0], dims, keepDim: true), Expect.Random(shape, 25));
    }

    [Theory]
    [MemberData(nameof(AxisSets))]
    public void NormsMatchFiniteDifferences(int[] shape, int[] dims)
    {
        // Distinct magnitudes away from 0: the kinks of |x| and of the largest |x| stay out of reach.
        foreach (var p in new[] { 1f, 2f, float.PositiveInfinity })
            foreach (var keepDim in new[] { false, true })
                Expect.GradientsMatch(x => F.Norm(x[0], p, dims, keepDim), SelectionReductionsTests.Distinct(shape, 26));
    }

    [Fact]
    public void AllElementOverloadsReduceEveryAxis()
    {
        var x = Expect.Random(3, 4);
        Assert.Equal(new Shape(), F.Var(x).Shape);
        Assert.Equal(F.Var(x, [0, 1]).Item(), F.Var(x).Item());
        Assert.Equal(F.Std(x, [0, 1], unbiased: false).Item(), F.Std(x, unbiased: false).Item());
        Assert.Equal(F.Norm(x, 2f, [0, 1]).Item(), F.Norm(x).Item());
        // PyTorch 1.13 raises for logsumexp over dims=[] (newer versions reduce every axis, as Sum does here).
        Assert.Equal(F.LogSumExp(x, [0, 1]).Item(), F.LogSumExp(x, []).Item());
        Expect.GradientsMatch(t => F.Var(t[0]), Expect.Random(3, 4));
        Expect.GradientsMatch(t => F.Std(t[0], unbiased: false), Expect.Random(3, 4));
        Expect.GradientsMatch(t => F.Norm(t[0]), Expect.Random(3, 4));
    }

    [Fact]
    public void VarianceMatchesTheTextbookFormula()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 2f, 2f, 2f, 10f], 2, 4);
        // Squared deviations: 2.25, 0.25, 0.25, 2.25 (sum 5) and 4, 4, 4, 36 (sum 48).
        Assert.Equal([5f / 3, 16f], F.Var(x, 1).ToArray());
        Assert.Equal([1.25f, 12f], F.Var(x, 1, unbiased: false).ToArray());
        Assert.Equal([MathF.Sqrt(5f / 3), 4f], F.Std(x, [1]).ToArray());
        Assert.Equal([2.5f, 24f], F.Var(x, [1], correction: 2).ToArray());
    }

    [Fact]
    public void AConstantSliceHasZeroStdAndZeroStdGradient()
    {
        var x = Tensor.FromArray([2f, 2f, 2f, 1f, 3f, 5f], 2, 3);
        x.RequiresGrad = true;
        var std = F.Std(x, 1);
        Assert.Equal(0f, std[0]);
        std.Backward(Tensor.FromArray([1f, 1f]));
        Assert.Equal([0f, 0f, 0f], x.Grad!.ToArray()[..3]);
    }

    [Fact]
    public void OneElementPerSliceGivesNaNAsInPyTorch()
    {
        var x = Tensor.FromArray([2f, 3f], 2, 1);
        x.RequiresGrad = true;
        var variance = F.Var(x, 1);
        Assert.All(variance.ToArray(), v => Assert.True(float.IsNaN(v)));
        variance.Backward(Tensor.FromArray([1f, 1f]));
        Assert.All(x.Grad!.ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.Equal([0f, 0f], F.Var(x, 1, unbiased: false).ToArray());
    }

    [Fact]
    public void AMeanLargeAgainstTheSpreadKeepsItsDigits()
    {
        // 10⁴ + {−0.25, 0, 0.5}: the mean, 10⁴ + 1/12, is off by up to 5e-4 in float32 (0.6% of the
        // smallest deviation); the corrected deviations keep the gradient to float32 precision.
        var values = new float[999];
        for (int i = 0; i < values.Length; i++) values[i] = 10_000f + (i % 3 == 0 ? -0.25f : i % 3 == 1 ? 0f : 0.5f);
        double mean = values.Average(v => (double)v);
        double variance = values.Sum(v => (v - mean) * (v - mean)) / values.Length;
        var x = Tensor.FromArray(values);
        x.RequiresGrad = true;
        var y = F.Var(x, [0], unbiased: false);
        Expect.Close((float)variance, y.Item(), 1e-5, "variance");
        y.Backward();
        Expect.Close(values.Select(v => (float)(2 * (v - mean) / values.Length)).ToArray(), x.Grad!.ToArray(), 1e-5, "gradient");
    }

    [Fact]
    public void LogSumExpIsStableAndHandlesInfinities()
    {
        var x = Tensor.FromArray([1000f, 1000f, -1000f, -1000f, float.NegativeInfinity, float.NegativeInfinity, 1f, float.PositiveInfinity], 4, 2);
        var y = F.LogSumExp(x, 1).ToArray();
        Assert.Equal(1000f + MathF.Log(2f), y[0], 1e-3f);
        Assert.Equal(-1000f + MathF.Log(2f), y[1], 1e-3f);
        Assert.Equal(float.NegativeInfinity, y[2]);
        Assert.Equal(float.PositiveInfinity, y[3]);
        Assert.Equal([float.NegativeInfinity, float.NegativeInfinity], F.LogSumExp(Tensor.Zeros(2, 0), [1]).ToArray());
    }

    [Fact]
    public void TheTwoNormAtZeroHasZeroGradient()
    {
        var x = Tensor.FromArray([0f, 0f, 3f, -4f], 2, 2);
        x.RequiresGrad = true;
        var norm = F.Norm(x, 2f, [1]);
        Assert.Equal([0f, 5f], norm.ToArray());
        norm.Backward(Tensor.FromArray([1f, 1f]));
        Assert.Equal([0f, 0f, 0.6f, -0.8f], x.Grad!.ToArray());
    }

    [Fact]
    public void NormsOfKnownVectors()
    {
        var x = Tensor.FromArray([3f, -4f, 0f, -1f]);
        Assert.Equal(8f, F.Norm(x, 1f).Item());
        Assert.Equal(MathF.Sqrt(26f), F.Norm(x).Item());
        Assert.Equal(4f, F.Norm(x, float.PositiveInfinity).Item());
        Assert.Equal(0f, F.Norm(Tensor.Zeros(0)).Item());
        Assert.Equal(new Shape(1, 1), F.Norm(x.ReshapedTo(2, 2), 2f, null, keepDim: true).Shape);
    }

    [Fact]
    public void BadArgumentsAreRefusedClearly()
    {
        var error = Assert.Throws<ArgumentException>(() => F.Norm(Tensor.Zeros(3), 3f));
        Assert.Equal("Norm: p must be 1, 2 or float.PositiveInfinity, got 3.", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.Norm(Tensor.Zeros(2, 0), float.PositiveInfinity, [1]));
        Assert.StartsWith("Norm: cannot reduce over axis 1 of shape [2, 0]", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.Var(Tensor.Zeros(2, 3), [3]));
        Assert.Contains("Var: axis 3 is out of range for shape [2, 3]", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.LogSumExp(Tensor.Zeros(2, 3), [0, -2]));
        Assert.Contains("named twice", error.Message);
    }

    [Fact]
    public void GradientsAccumulateWhenTheInputIsUsedTwice()
    {
        Expect.GradientsMatch(x => F.Add(F.Var(x[0], 1), F.Std(x[0], 1)), Expect.Random(3, 4));
        Expect.GradientsMatch(x => F.Add(F.LogSumExp(x[0], 0), F.Norm(x[0], 2f, [0])), Expect.Random(3, 4));
        Expect.GradientsMatch(x => F.Add(F.Norm(x[0], 1f, [1]), F.Norm(x[0], float.PositiveInfinity, [1])), SelectionReductionsTests.Distinct([3, 4], 27));
    }

    [Fact]
    public void TensorMethodsAreTheFunctions()
    {
        var x = Expect.Random(3, 4, 2);
        Assert.Equal(F.Var(x).ToArray(), x.Var().ToArray());
        Assert.Equal(F.Var(x, 1, false, true).ToArray(), x.Var(1, false, true).ToArray());
        Assert.Equal(F.Var(x, [0, 2]).ToArray(), x.Var([0, 2]).ToArray());
        Assert.Equal(F.Var(x, [2], correction: 0).ToArray(), x.Var([2], correction: 0).ToArray());
        Assert.Equal(F.Std(x, unbiased: false).ToArray(), x.Std(unbiased: false).ToArray());
        Assert.Equal(F.Std(x, -1).ToArray(), x.Std(-1).ToArray());
        Assert.Equal(F.Std(x, [1], keepDim: true).ToArray(), x.Std([1], keepDim: true).ToArray());
        Assert.Equal(F.Std(x, [1], correction: 2).ToArray(), x.Std([1], correction: 2).ToArray());
        Assert.Equal(F.LogSumExp(x, 1).ToArray(), x.LogSumExp(1).ToArray());
        Assert.Equal(F.LogSumExp(x, [0, 1], true).ToArray(), x.LogSumExp([0, 1], true).ToArray());
        Assert.Equal(F.Norm(x, 1f, [2]).ToArray(), x.Norm(1f, [2]).ToArray());
    }
}
