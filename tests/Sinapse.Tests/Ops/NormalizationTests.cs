using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class NormalizationTests
{
    static Tensor Zeros(int c) => Tensor.Zeros(c);

    static Tensor Ones(int c) => Tensor.Ones(c);

    // ---- gradients (finite differences), training and evaluation ----

    [Theory]
    [InlineData(new[] { 5, 3 })]          // BatchNorm1d on a dense layer
    [InlineData(new[] { 7, 1 })]          // one feature
    [InlineData(new[] { 3, 4, 5 })]       // BatchNorm1d on a sequence
    [InlineData(new[] { 2, 3, 3, 5 })]    // BatchNorm2d, odd planes
    [InlineData(new[] { 3, 2, 1, 1 })]    // 1×1 planes: statistics over the batch only
    public void GradientInTrainingModeWithAffine(int[] shape)
    {
        int c = shape[1];
        Expect.GradientsMatch(x => F.BatchNorm(x[0], Zeros(c), Ones(c), x[1], x[2], training: true),
            Expect.Random(shape, 1), Expect.Random([c], 2, 0.5f, 1.5f), Expect.Random([c], 3));
    }

    [Theory]
    [InlineData(new[] { 6, 4 })]
    [InlineData(new[] { 2, 3, 7 })]
    [InlineData(new[] { 3, 3, 2, 3 })]
    public void GradientInTrainingModeWithoutAffine(int[] shape) =>
        Expect.GradientsMatch(x => F.BatchNorm(x[0], null, null, null, null, training: true), Expect.Random(shape, 4));

    [Theory]
    [InlineData(new[] { 5, 3 })]
    [InlineData(new[] { 2, 3, 2, 3 })]
    public void GradientInEvaluationMode(int[] shape)
    {
        int c = shape[1];
        var runningMean = Expect.Random([c], 5, -0.5f, 0.5f);
        var runningVar = Expect.Random([c], 6, 0.5f, 2f);
        Expect.GradientsMatch(x => F.BatchNorm(x[0], runningMean, runningVar, x[1], x[2], training: false),
            Expect.Random(shape, 7), Expect.Random([c], 8, 0.5f, 1.5f), Expect.Random([c], 9));
    }

    [Fact]
    public void GradientInEvaluationModeWithFrozenAffineParameters()
    {
        var weight = Expect.Random([3], 22, 0.5f, 1.5f);
        var bias = Expect.Random([3], 23);
        Expect.GradientsMatch(x => F.BatchNorm(x[0], Tensor.FromArray([0.1f, -0.2f, 0.3f]), Tensor.FromArray([0.5f, 1f, 2f]), weight, bias, training: false),
            Expect.Random([4, 3, 2], 24));
        Assert.Null(weight.Grad);
    }

    [Fact]
    public void GradientAccumulatesWhenTheInputIsUsedTwice() =>
        // The second use makes the backward pass add into an existing gradient (beta = 1), in both layouts.
        Expect.GradientsMatch(x => F.Add(F.BatchNorm(x[0], null, null, x[1], null, training: true), F.Multiply(x[0], 0.5f)),
            Expect.Random([4, 3], 10), Expect.Random([3], 11, 0.5f, 1.5f));

    [Fact]
    public void GradientAccumulatesForPlanesToo() =>
        Expect.GradientsMatch(x => F.Add(F.BatchNorm(x[0], null, null, x[1], x[2], training: true), F.Multiply(x[0], 0.5f)),
            Expect.Random([2, 3, 2, 2], 12), Expect.Random([3], 13, 0.5f, 1.5f), Expect.Random([3], 14));

    // [N, C] takes the unfused route (the kernels fuse over planes only); [2, 3, 1, 1] is planes of one.
    [Theory]
    [InlineData(FusedActivation.HardSwish, true, new[] { 2, 3, 3, 5 })]
    [InlineData(FusedActivation.Relu, true, new[] { 3, 2, 1, 1 })]
    [InlineData(FusedActivation.HardSwish, false, new[] { 2, 3, 2, 3 })]
    [InlineData(FusedActivation.Relu, true, new[] { 5, 3 })]
    public void AFusedActivationMatchesTheActivationOfTheOutput(FusedActivation activation, bool training, int[] shape)
    {
        int c = shape[1];
        Func<Tensor, Tensor> act = activation == FusedActivation.Relu ? F.Relu : F.HardSwish;
        var inputs = new[] { Expect.Random(shape, 30, -3f, 3f), Expect.Random([c], 31, 0.5f, 3f), Expect.Random([c], 32) };
        var runningMean = Expect.Random([c], 33, -0.5f, 0.5f);
        var runningVar = Expect.Random([c], 34, 0.5f, 2f);
        Tensor[] Run(bool fused)
        {
            var x = inputs.Select(t => { var p = t.Clone(); p.RequiresGrad = true; return p; }).ToArray();
            var y = fused ? F.BatchNorm(x[0], runningMean.Clone(), runningVar.Clone(), x[1], x[2], training, activation: activation)
                : act(F.BatchNorm(x[0], runningMean.Clone(), runningVar.Clone(), x[1], x[2], training));
            F.Sum(F.Multiply(y, Expect.Random(shape, 35))).Backward();
            return [y, x[0].Grad!, x[1].Grad!, x[2].Grad!];
        }
        var (expected, actual) = (Run(false), Run(true));
        Assert.Equal(expected[0].ToArray(), actual[0].ToArray());
        for (int i = 1; i < expected.Length; i++) Expect.Close(expected[i].Span, actual[i].Span, 1e-5, $"gradient {i}");
    }

    [Fact]
    public void GradientWithAFusedHardSwish() =>
        Expect.GradientsMatch(x => F.BatchNorm(x[0], null, null, x[1], x[2], training: true, activation: FusedActivation.HardSwish),
            Expect.Random([2, 3, 2, 3], 36), Expect.Random([3], 37, 0.5f, 1.5f), Expect.Random([3], 38));

    [Fact]
    public void WeightAndBiasGetGradientsWhenTheInputDoesNot()
    {
        // BN right on the data: x needs no gradient, γ and β do.
        var x = Expect.Random([4, 3, 2, 2], 15);
        var weight = Expect.Random([3], 16, 0.5f, 1.5f);
        var bias = Expect.Random([3], 17);
        weight.RequiresGrad = bias.RequiresGrad = true;
        var y = F.BatchNorm(x, null, null, weight, bias, training: true);
        var upstream = Expect.Random([4, 3, 2, 2], 18);
        y.Backward(upstream);
        Assert.Null(x.Grad);
        // dβ = Σ dy, dγ = Σ dy·x̂ per channel.
        var normalized = F.BatchNorm(x, null, null, null, null, training: true);
        for (int c = 0; c < 3; c++)
        {
            double sum = 0, sumXhat = 0;
            for (int n = 0; n < 4; n++)
                for (int s = 0; s < 4; s++)
                {
                    int i = (n * 3 + c) * 4 + s;
                    sum += upstream.Span[i];
                    sumXhat += upstream.Span[i] * normalized.Span[i];
                }
            Expect.Close((float)sum, bias.Grad!.Span[c], 1e-5, "dβ");
            Expect.Close((float)sumXhat, weight.Grad!.Span[c], 1e-4, "dγ");
        }
    }

    // ---- exact behaviour ----

    [Theory]
    [InlineData(new[] { 64, 5 })]
    [InlineData(new[] { 8, 4, 6, 7 })]
    public void TrainingOutputHasZeroMeanAndUnitVariancePerChannel(int[] shape)
    {
        var x = Expect.Random(shape, 20, -3f, 7f);
        var y = F.BatchNorm(x, null, null, null, null, training: true, eps: 0f).Span;
        int channels = shape[1], spatial = x.Length / (shape[0] * channels);
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            int count = 0;
            for (int n = 0; n < shape[0]; n++)
                for (int s = 0; s < spatial; s++, count++)
                {
                    double v = y[(n * channels + c) * spatial + s];
                    sum += v;
                    squares += v * v;
                }
            Assert.InRange(sum / count, -1e-6, 1e-6);
            Assert.InRange(squares / count, 1 - 1e-5, 1 + 1e-5);
        }
    }

    [Fact]
    public void AffineParametersScaleAndShiftTheNormalizedOutput()
    {
        var x = Expect.Random([10, 2], 21);
        var plain = F.BatchNorm(x, null, null, null, null, training: true).ToArray();
        var y = F.BatchNorm(x, null, null, Tensor.FromArray([2f, -1f]), Tensor.FromArray([3f, 0.5f]), training: true).ToArray();
        for (int i = 0; i < y.Length; i++)
            Expect.Close(i % 2 == 0 ? 2f * plain[i] + 3f : -plain[i] + 0.5f, y[i], 1e-6);
    }

    [Fact]
    public void EvaluationUsesTheRunningStatisticsAndLeavesThemAlone()
    {
        var x = Tensor.FromArray([1f, 10f, 3f, 20f], 2, 2);
        var runningMean = Tensor.FromArray([1f, 10f]);
        var runningVar = Tensor.FromArray([4f, 25f]);
        var y = F.BatchNorm(x, runningMean, runningVar, Tensor.FromArray([1f, 2f]), Tensor.FromArray([0f, 1f]), training: false, eps: 0f);
        Assert.Equal([0f, 1f, 1f, 5f], y.ToArray());
        Assert.Equal([1f, 10f], runningMean.ToArray());
        Assert.Equal([4f, 25f], runningVar.ToArray());
    }

    [Fact]
    public void RunningStatisticsFollowPyTorchsUpdateOverSteps()
    {
        // Per step: running = (1 − m)·running + m·batch, with the unbiased batch variance.
        const float momentum = 0.25f;
        var runningMean = Tensor.Zeros(2);
        var runningVar = Tensor.Ones(2);
        double[] expectedMean = [0, 0], expectedVar = [1, 1];
        for (int step = 0; step < 4; step++)
        {
            var x = Expect.Random([5, 2, 3], (ulong)(30 + step), -1f + step, 3f + step);
            F.BatchNorm(x, runningMean, runningVar, null, null, training: true, momentum);
            for (int c = 0; c < 2; c++)
            {
                var values = new List<double>();
                for (int n = 0; n < 5; n++)
                    for (int s = 0; s < 3; s++) values.Add(x.Span[(n * 2 + c) * 3 + s]);
                double mean = values.Average();
                double unbiased = values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1);
                expectedMean[c] = (1 - momentum) * expectedMean[c] + momentum * mean;
                expectedVar[c] = (1 - momentum) * expectedVar[c] + momentum * unbiased;
            }
        }
        Expect.Close(expectedMean.Select(v => (float)v).ToArray(), runningMean.Span, 1e-5, "running mean");
        Expect.Close(expectedVar.Select(v => (float)v).ToArray(), runningVar.Span, 1e-5, "running var");
    }

    [Fact]
    public void StatisticsStayAccurateForALargeMeanAndASmallSpread()
    {
        // E[x²] − E[x]² would lose every digit here; the two-pass variance does not.
        var x = Expect.Random([256, 3], 40, 999f, 1001f);
        var y = F.BatchNorm(x, null, null, null, null, training: true).Span;
        for (int c = 0; c < 3; c++)
        {
            double sum = 0, squares = 0;
            for (int n = 0; n < 256; n++) { sum += y[n * 3 + c]; squares += (double)y[n * 3 + c] * y[n * 3 + c]; }
            Assert.InRange(sum / 256, -1e-3, 1e-3);
            Assert.InRange(squares / 256, 0.999, 1.001);
        }
    }

    [Fact]
    public void RunningStatisticsUpdateEvenWithoutGradients()
    {
        var runningMean = Tensor.Zeros(1);
        var runningVar = Tensor.Ones(1);
        using (GradMode.NoGrad())
            F.BatchNorm(Tensor.FromArray([1f, 3f], 2, 1), runningMean, runningVar, null, null, training: true, momentum: 1f);
        Assert.Equal([2f], runningMean.ToArray());
        Assert.Equal([2f], runningVar.ToArray()); // unbiased: ((1 − 2)² + (3 − 2)²) / 1
    }

    [Fact]
    public void ErrorsNameTheShapes()
    {
        var error = Assert.Throws<ArgumentException>(() => F.BatchNorm(Tensor.Zeros(4, 3), Tensor.Zeros(5), Tensor.Ones(5), null, null, training: true));
        Assert.Contains("[4, 3]", error.Message);
        Assert.Contains("[5]", error.Message);
        Assert.Throws<ArgumentException>(() => F.BatchNorm(Tensor.Zeros(4, 3), null, null, Tensor.Ones(2), null, training: true));
        Assert.Throws<ArgumentException>(() => F.BatchNorm(Tensor.Zeros(4), null, null, null, null, training: true));
        Assert.Throws<ArgumentException>(() => F.BatchNorm(Tensor.Zeros(4, 3), Tensor.Zeros(3), null, null, null, training: true));
        Assert.Throws<ArgumentException>(() => F.BatchNorm(Tensor.Zeros(4, 3), null, null, null, null, training: false));
        var single = Assert.Throws<ArgumentException>(() => F.BatchNorm(Tensor.Zeros(1, 3), null, null, null, null, training: true));
        Assert.Contains("more than 1 value per channel", single.Message);
        // Evaluation mode normalises a single example.
        Assert.Equal(3, F.BatchNorm(Tensor.Zeros(1, 3), Tensor.Zeros(3), Tensor.Ones(3), null, null, training: false).Length);
    }
}
