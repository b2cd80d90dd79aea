using Sinapse.Kernels;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Kernels;

public class NormalizationTests
{
    // Shapes on both layouts (spatial = 1: rows; spatial > 1: planes), with channel counts past the
    // 512-float chunks and element counts past the parallel threshold.
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 3, 5, 1 }, { 64, 700, 1 }, { 2, 3, 7 }, { 4, 8, 1100 }, { 16, 32, 64 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesADoublePrecisionReference(int batch, int channels, int spatial)
    {
        var x = Expect.Random([batch * channels * spatial], 1, -3f, 5f).ToArray();
        var dy = Expect.Random([batch * channels * spatial], 2).ToArray();
        const float eps = 1e-5f;
        float[] mean = new float[channels], residual = new float[channels], variance = new float[channels], invStd = new float[channels];
        Normalization.Statistics(x, batch, channels, spatial, eps, mean, residual, variance, invStd);

        var scale = Expect.Random([channels], 3, 0.5f, 1.5f).ToArray();
        var shift = Expect.Random([channels], 4).ToArray();
        var y = new float[x.Length];
        Normalization.Normalize(x, batch, channels, spatial, mean, scale, shift, y);
        float[] sumGrad = new float[channels], sumGradCentered = new float[channels];
        Normalization.GradientSums(x, dy, batch, channels, spatial, mean, sumGrad, sumGradCentered);
        var p = Expect.Random([channels], 5).ToArray();
        var q = Expect.Random([channels], 6).ToArray();
        var dx = Expect.Random([x.Length], 7).ToArray();
        var initial = (float[])dx.Clone();
        var accumulated = (float[])dx.Clone();
        Normalization.InputGradient(x, dy, batch, channels, spatial, mean, scale, p, q, 0f, dx);
        Normalization.InputGradient(x, dy, batch, channels, spatial, mean, scale, p, q, 1f, accumulated);

        int count = batch * spatial;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0, grad = 0, gradCentered = 0;
            foreach (int i in Indices(c)) sum += x[i];
            double m = sum / count;
            foreach (int i in Indices(c)) { squares += (x[i] - m) * (x[i] - m); grad += dy[i]; gradCentered += dy[i] * (x[i] - m); }
            Expect.Close((float)m, mean[c], 1e-5, "mean");
            Assert.True(Math.Abs(m - mean[c] - residual[c]) < 1e-12 * (1 + Math.Abs(m)), "mean residual");
            Expect.Close((float)(squares / count), variance[c], 1e-5, "variance");
            Expect.Close((float)(1 / Math.Sqrt(squares / count + eps)), invStd[c], 1e-5, "1/σ");
            Expect.Close((float)grad, sumGrad[c], 1e-4, "Σdy");
            Expect.Close((float)gradCentered, sumGradCentered[c], 1e-4, "Σdy·(x − μ)");
            foreach (int i in Indices(c))
            {
                // y is formed from the float mean the kernel was given.
                double expectedY = (x[i] - mean[c]) * scale[c] + shift[c];
                Assert.True(Math.Abs(expectedY - y[i]) < 1e-6 * (1 + Math.Abs(expectedY)), $"y[{i}]: expected {expectedY}, got {y[i]}");
                double expected = scale[c] * dy[i] + (x[i] - m) * p[c] + q[c];
                Assert.True(Math.Abs(expected - dx[i]) < 1e-4 * (1 + Math.Abs(expected)), $"dx[{i}]");
                Assert.True(Math.Abs(expected + initial[i] - accumulated[i]) < 1e-4 * (1 + Math.Abs(expected)), $"accumulated dx[{i}]");
            }
        }

        IEnumerable<int> Indices(int c)
        {
            for (int n = 0; n < batch; n++)
                for (int s = 0; s < spatial; s++) yield return (n * channels + c) * spatial + s;
        }
    }

    [Theory]
    [InlineData(64, 700, 1)]
    [InlineData(16, 32, 64)]
    public void ResultsAreBitwiseTheSameOnOneThreadAndMany(int batch, int channels, int spatial)
    {
        var x = Expect.Random([batch * channels * spatial], 8).ToArray();
        var parallel = Run();
        var saved = Normalization.ParallelThreshold;
        float[] serial;
        try
        {
            // Only changes how many threads later calls use (never their results), so other tests may run meanwhile.
            Normalization.ParallelThreshold = long.MaxValue;
            serial = Run();
        }
        finally
        {
            Normalization.ParallelThreshold = saved;
        }
        Assert.Equal(parallel, serial);

        float[] Run()
        {
            float[] mean = new float[channels], residual = new float[channels], variance = new float[channels], invStd = new float[channels];
            Normalization.Statistics(x, batch, channels, spatial, 1e-5f, mean, residual, variance, invStd);
            var y = new float[x.Length];
            Normalization.Normalize(x, batch, channels, spatial, mean, invStd, variance, y);
            return [.. mean, .. residual, .. variance, .. invStd, .. y];
        }
    }

    // Odd planes leave a scalar tail after the vectors; values straddle hard-swish's kinks at ±3.
    [Theory]
    [InlineData(FusedActivation.Relu, 3, 5, 7)]
    [InlineData(FusedActivation.HardSwish, 3, 5, 7)]
    [InlineData(FusedActivation.HardSwish, 4, 6, 49)]
    [InlineData(FusedActivation.Relu, 4, 8, 1100)]
    [InlineData(FusedActivation.HardSwish, 16, 32, 64)]
    public void AFusedActivationIsBitwiseTheNormalisationThenTheActivation(FusedActivation activation, int batch, int channels, int spatial)
    {
        int length = batch * channels * spatial;
        var x = Expect.Random([length], 11, -3f, 5f).ToArray();
        var gradOutput = Expect.Random([length], 12).ToArray();
        float[] center = Expect.Random([channels], 13, 0f, 1f).ToArray(), scale = Expect.Random([channels], 14, 0.5f, 4f).ToArray();
        float[] shift = Expect.Random([channels], 15).ToArray(), p = Expect.Random([channels], 16).ToArray(), q = Expect.Random([channels], 17).ToArray();

        // The reference: normalise, then the activation's own kernels.
        var normalized = new float[length];
        Normalization.Normalize(x, batch, channels, spatial, center, scale, shift, normalized);
        float[] expectedY = new float[length], gradNormalized = new float[length];
        if (activation == FusedActivation.Relu)
        {
            System.Numerics.Tensors.TensorPrimitives.Max(normalized, 0f, expectedY);
            Elementwise.ScaleBySign(normalized, gradOutput, 1f, 0f, gradNormalized);
        }
        else
        {
            Elementwise.HardSwish(normalized, expectedY);
            Elementwise.HardSwishBackward(normalized, gradOutput, gradNormalized);
        }

        var y = new float[length];
        Normalization.Normalize(x, batch, channels, spatial, center, scale, shift, y, activation);
        Assert.Equal(expectedY, y);

        float[] expectedSums = new float[channels], expectedSumsCentered = new float[channels], sums = new float[channels], sumsCentered = new float[channels];
        Normalization.GradientSums(x, gradNormalized, batch, channels, spatial, center, expectedSums, expectedSumsCentered);
        Normalization.GradientSums(x, gradOutput, batch, channels, spatial, center, sums, sumsCentered, activation, scale, shift);
        Assert.Equal(expectedSums, sums);
        Assert.Equal(expectedSumsCentered, sumsCentered);

        foreach (float beta in new[] { 0f, 1f })
        {
            var expectedDx = Expect.Random([length], 18).ToArray();
            var dx = (float[])expectedDx.Clone();
            Normalization.InputGradient(x, gradNormalized, batch, channels, spatial, center, scale, p, q, beta, expectedDx);
            Normalization.InputGradient(x, gradOutput, batch, channels, spatial, center, scale, p, q, beta, dx, activation, scale, shift);
            Assert.Equal(expectedDx, dx);
        }
    }

    // Rows and planes, with and without batch statistics, affine or not, beta 0 and 1.
    [Theory]
    [InlineData(FusedActivation.None, 64, 700, 1, true, true)]
    [InlineData(FusedActivation.None, 3, 5, 7, false, true)]
    [InlineData(FusedActivation.HardSwish, 4, 6, 49, true, true)]
    [InlineData(FusedActivation.Relu, 4, 8, 1100, true, false)]
    [InlineData(FusedActivation.HardSwish, 16, 32, 64, false, false)]
    public void ForwardAndBackwardAreBitwiseTheirSteps(FusedActivation activation, int batch, int channels, int spatial, bool batchStatistics, bool affine)
    {
        int length = batch * channels * spatial;
        var x = Expect.Random([length], 21, -3f, 5f).ToArray();
        var gradOutput = Expect.Random([length], 22).ToArray();
        float[] weight = affine ? Expect.Random([channels], 23, 0.5f, 2f).ToArray() : [], bias = affine ? Expect.Random([channels], 24).ToArray() : [];

        // The steps: statistics (or given ones), the affine factors, normalise.
        float[] mean = Expect.Random([channels], 25).ToArray(), residual = new float[channels], variance = new float[channels];
        float[] invStd = Expect.Random([channels], 26, 0.5f, 2f).ToArray();
        if (batchStatistics) Normalization.Statistics(x, batch, channels, spatial, 1e-3f, mean, residual, variance, invStd);
        float[] scale = new float[channels], shift = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            scale[c] = (affine ? weight[c] : 1f) * invStd[c];
            shift[c] = (affine ? bias[c] : 0f) - residual[c] * scale[c];
        }
        var expectedY = new float[length];
        Normalization.Normalize(x, batch, channels, spatial, mean, scale, shift, expectedY, activation);

        float[] actualMean = batchStatistics ? new float[channels] : mean, actualResidual = new float[channels], actualVariance = new float[channels];
        float[] actualInvStd = batchStatistics ? new float[channels] : invStd, actualScale = new float[channels], actualShift = new float[channels];
        var y = new float[length];
        Normalization.Forward(x, batch, channels, spatial, 1e-3f, batchStatistics, weight, bias, actualMean, actualResidual, actualVariance, actualInvStd,
            actualScale, actualShift, y, activation);
        Assert.Equal(mean, actualMean);
        Assert.Equal(residual, actualResidual);
        Assert.Equal(invStd, actualInvStd);
        Assert.Equal(scale, actualScale);
        Assert.Equal(shift, actualShift);
        Assert.Equal(expectedY, y);
        if (batchStatistics) Assert.Equal(variance, actualVariance);

        // Backward: the sums about the center corrected to the mean, the factors, the input gradient.
        float[] sums = new float[channels], sumsCentered = new float[channels], p = new float[channels], q = new float[channels];
        bool fused = activation != FusedActivation.None;
        Normalization.GradientSums(x, gradOutput, batch, channels, spatial, mean, sums, sumsCentered, activation, fused ? scale : default, fused ? shift : default);
        double count = (double)batch * spatial;
        for (int c = 0; c < channels; c++)
        {
            sumsCentered[c] -= residual[c] * sums[c];
            if (!batchStatistics) continue;
            double pc = -(double)scale[c] * sumsCentered[c] * invStd[c] * invStd[c] / count;
            p[c] = (float)pc;
            q[c] = (float)(-(double)scale[c] * sums[c] / count - residual[c] * pc);
        }
        foreach (float beta in new[] { 0f, 1f })
        {
            var expectedDx = Expect.Random([length], 27).ToArray();
            var dx = (float[])expectedDx.Clone();
            Normalization.InputGradient(x, gradOutput, batch, channels, spatial, mean, scale, p, q, beta, expectedDx, activation, fused ? scale : default, fused ? shift : default);
            float[] actualSums = new float[channels], actualSumsCentered = new float[channels], actualP = new float[channels], actualQ = new float[channels];
            Normalization.Backward(x, gradOutput, batch, channels, spatial, batchStatistics, mean, residual, invStd, scale, shift,
                actualSums, actualSumsCentered, actualP, actualQ, beta, dx, activation);
            Assert.Equal(sums, actualSums);
            Assert.Equal(sumsCentered, actualSumsCentered);
            Assert.Equal(p, actualP);
            Assert.Equal(q, actualQ);
            Assert.Equal(expectedDx, dx);
        }
    }

    [Fact]
    public void RejectsInconsistentSizes()
    {
        float[] perChannel = new float[3];
        Assert.Throws<ArgumentException>(() => Normalization.Statistics(new float[10], 2, 3, 2, 1e-5f, perChannel, perChannel, perChannel, perChannel));
        Assert.Throws<ArgumentException>(() => Normalization.Statistics(new float[12], 2, 3, 2, 1e-5f, new float[2], perChannel, perChannel, perChannel));
        Assert.Throws<ArgumentException>(() => Normalization.Normalize(new float[12], 2, 3, 2, perChannel, perChannel, perChannel, new float[11]));
        // Fused activations run over planes only.
        Assert.Throws<ArgumentException>(() => Normalization.Normalize(new float[6], 2, 3, 1, perChannel, perChannel, perChannel, new float[6], FusedActivation.Relu));
        Assert.Throws<ArgumentException>(() => Normalization.GradientSums(new float[12], new float[12], 2, 3, 2, perChannel, perChannel, perChannel, FusedActivation.Relu));
    }
}
