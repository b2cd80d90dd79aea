using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class SoftmaxTests
{
    [Fact]
    public void SoftmaxGradientMatchesFiniteDifferences() =>
        Expect.GradientsMatch(x => F.Softmax(x[0]), Expect.Random(3, 5));

    [Fact]
    public void LogSoftmaxGradientMatchesFiniteDifferences() =>
        Expect.GradientsMatch(x => F.LogSoftmax(x[0]), Expect.Random(3, 5));

    [Fact]
    public void WorksOverTheLastAxisOfA3DTensor()
    {
        Expect.GradientsMatch(x => F.Softmax(x[0]), Expect.Random(2, 3, 5));
        Expect.GradientsMatch(x => F.LogSoftmax(x[0]), Expect.Random(2, 3, 5));
    }

    [Fact]
    public void GradientsAccumulateWhenTheInputIsUsedTwice()
    {
        Expect.GradientsMatch(x => F.Add(F.Softmax(x[0]), F.Softmax(x[0])), Expect.Random(3, 5));
        Expect.GradientsMatch(x => F.Add(F.LogSoftmax(x[0]), F.Multiply(F.LogSoftmax(x[0]), 2f)), Expect.Random(3, 5));
    }

    /// <summary>
    /// The course's worked example: scores (5.1, 3.2, −1.7, −2.0) become probabilities (0.87, 0.13, 0.00, 0.00).
    /// The unrounded values are e^zᵢ / Σe^z evaluated in double precision.
    /// </summary>
    [Fact]
    public void CoursesWorkedExample()
    {
        var probabilities = F.Softmax(Tensor.FromArray([5.1f, 3.2f, -1.7f, -2.0f], 1, 4)).ToArray();
        Assert.Equal([0.87, 0.13, 0.00, 0.00], probabilities.Select(p => Math.Round(p, 2)));
        Expect.Close([0.868426824f, 0.129889401f, 0.000967232214f, 0.000716543248f], probabilities);
    }

    [Fact]
    public void RowsSumToOne()
    {
        var y = F.Softmax(Expect.Random([4, 9], seed: 3, low: -10f, high: 10f));
        for (int r = 0; r < 4; r++)
        {
            float sum = 0;
            for (int c = 0; c < 9; c++) sum += y[r, c];
            Assert.Equal(1f, sum, 5);
        }
    }

    [Fact]
    public void HugeLogitsDoNotOverflow()
    {
        var logits = Tensor.FromArray(new float[,] { { 1000f, 0f, -1000f }, { -1000f, -1000f, -1001f }, { 1000f, 1000f, 999f } });
        var y = F.Softmax(logits);
        Assert.All(y.ToArray(), v => Assert.True(float.IsFinite(v), $"softmax gave {v}"));
        Assert.Equal(1f, y[0, 0], 6);
        Assert.Equal(0f, y[0, 2], 6);
        // Rows shifted by a constant give the softmax of the shifted values.
        double e = Math.Exp(-1);
        Assert.Equal(1 / (2 + e), y[1, 0], 6);
        Assert.Equal(e / (2 + e), y[1, 2], 6);
        Assert.Equal(1 / (2 + e), y[2, 1], 6);

        var logY = F.LogSoftmax(logits);
        Assert.All(logY.ToArray(), v => Assert.True(float.IsFinite(v), $"log-softmax gave {v}"));
        Assert.Equal(-2000f, logY[0, 2], 3);
        // −1000 − (−1000 + log(2 + e^−1)): float32's absolute precision at 1000 is 6e-5, as in PyTorch.
        Assert.Equal(-Math.Log(2 + e), logY[1, 0], 1e-4);
    }

    [Fact]
    public void LogSoftmaxIsTheLogOfSoftmax()
    {
        var x = Expect.Random(3, 6);
        var p = F.Softmax(x).ToArray();
        var logP = F.LogSoftmax(x).ToArray();
        for (int i = 0; i < p.Length; i++) Assert.Equal(MathF.Log(p[i]), logP[i], 5);
    }

    [Fact]
    public void EmptyAxesAndScalarsBehaveAsInPyTorch()
    {
        // torch.softmax(torch.zeros(2, 0), -1) and torch.softmax(torch.zeros(0, 3), 0) are empty tensors of the input's shape.
        Assert.Equal(new Shape(2, 0), F.Softmax(Tensor.Zeros(2, 0)).Shape);
        Assert.Equal(new Shape(0, 3), F.LogSoftmax(Tensor.Zeros(0, 3), 0).Shape);
        // A scalar is one slice of one value: torch.softmax(tensor(3.), 0) is 1, log_softmax 0, and the gradient 0.
        var scalar = Tensor.Scalar(3f);
        Assert.Equal(1f, F.Softmax(scalar, 0).Item());
        Assert.Equal(0f, F.LogSoftmax(scalar).Item());
        Expect.GradientsMatch(x => F.Softmax(x[0]), Tensor.Scalar(3f));
        var error = Assert.Throws<ArgumentException>(() => F.Softmax(Tensor.Scalar(1f), 1));
        Assert.Contains("axis 1", error.Message);
    }

    [Fact]
    public void EveryAxisMatchesFiniteDifferences()
    {
        foreach (var dim in new[] { 0, 1, -1, -3 })
        {
            Expect.GradientsMatch(x => F.Softmax(x[0], dim), Expect.Random(2, 3, 4));
            Expect.GradientsMatch(x => F.LogSoftmax(x[0], dim), Expect.Random(2, 3, 4));
            // beta = 1: the input's gradient already holds a value.
            Expect.GradientsMatch(x => F.Add(F.Softmax(x[0], dim), F.LogSoftmax(x[0], dim)), Expect.Random(2, 3, 4));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(-2)]
    public void EveryAxisOfA4DTensorMatchesFiniteDifferences(int dim)
    {
        Expect.GradientsMatch(x => F.Softmax(x[0], dim), Expect.Random(2, 3, 2, 3));
        Expect.GradientsMatch(x => F.LogSoftmax(x[0], dim), Expect.Random(2, 3, 2, 3));
        // The axis of size 1: softmax is 1 there whatever x is, so its gradient is 0.
        int[] single = [2, 3, 2, 3];
        single[dim < 0 ? dim + 4 : dim] = 1;
        Expect.GradientsMatch(x => F.Softmax(x[0], dim), Expect.Random(single, 86));
        Expect.GradientsMatch(x => F.LogSoftmax(x[0], dim), Expect.Random(single, 87));
    }

    [Fact]
    public void AnAxisOutOfRangeIsNamed()
    {
        var error = Assert.Throws<ArgumentException>(() => F.Softmax(Tensor.Zeros(2, 3, 4), 3));
        Assert.Contains("axis 3", error.Message);
        Assert.Contains("[2, 3, 4]", error.Message);
        Assert.Throws<ArgumentException>(() => F.LogSoftmax(Tensor.Zeros(2, 3, 4), -4));
    }

    [Fact]
    public void AnInnerAxisWiderThanOneBlockMatchesTheDefinition()
    {
        // [3, 7, 1100] along axis 1: slices run in blocks of 512 neighbours, two whole blocks and a part.
        var x = Expect.Random([3, 7, 1100], seed: 41, low: -6f, high: 6f);
        var y = F.Softmax(x, 1).ToArray();
        var logY = F.LogSoftmax(x, 1).ToArray();
        var values = x.ToArray();
        var expected = new float[values.Length];
        var expectedLog = new float[values.Length];
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 1100; i++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int r = 0; r < 7; r++) max = Math.Max(max, values[(o * 7 + r) * 1100 + i]);
                for (int r = 0; r < 7; r++) sum += Math.Exp(values[(o * 7 + r) * 1100 + i] - max);
                for (int r = 0; r < 7; r++)
                {
                    int at = (o * 7 + r) * 1100 + i;
                    expected[at] = (float)(Math.Exp(values[at] - max) / sum);
                    expectedLog[at] = (float)(values[at] - max - Math.Log(sum));
                }
            }
        Expect.Close(expected, y, 1e-5, "softmax");
        Expect.Close(expectedLog, logY, 1e-5, "log-softmax");
        Expect.GradientsMatch(v => F.Softmax(v[0], 1), Expect.Random([2, 3, 530], seed: 42));
    }
}
