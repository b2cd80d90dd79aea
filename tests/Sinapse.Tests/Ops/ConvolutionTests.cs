using Sinapse.Kernels;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Kernels;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class ConvolutionTests
{
    static Tensor R(int seed, params int[] shape) => Expect.Random(shape, (ulong)seed, -1f, 1f);

    // ---- the course's worked examples ----

    static readonly float[] X = [1, 3, 6, 4, 2, 2, 0, 4, 5, 0, 1, 4, 4, 4, 1, 3];
    static readonly float[] Filter = [-1, 1, -1, 1];

    [Fact]
    public void ValidCrossCorrelationOfTheCourseExample()
    {
        // By hand: y[i, j] = (X[i, j+1] − X[i, j]) + (X[i+1, j+1] − X[i+1, j]); the row differences
        // are [2, 3, −2], [0, −2, 4], [−5, 1, 3], [0, −3, 2].
        var y = F.Conv2d(Tensor.FromArray(X, 1, 1, 4, 4), Tensor.FromArray(Filter, 1, 1, 2, 2));
        Assert.Equal(new Shape(1, 1, 3, 3), y.Shape);
        Assert.Equal(new float[] { 2, 1, 2, -5, -1, 7, -5, -2, 5 }, y.ToArray());
    }

    [Fact]
    public void PaddedCrossCorrelationOfTheCourseExampleIs5x5()
    {
        // Zero-padded to 6×6; the row differences now include the zero columns on either side:
        // [1, 2, 3, −2, −4], [2, 0, −2, 4, −4], [5, −5, 1, 3, −4], [4, 0, −3, 2, −3].
        var y = F.Conv2d(Tensor.FromArray(X, 1, 1, 4, 4), Tensor.FromArray(Filter, 1, 1, 2, 2), padding: 1);
        Assert.Equal(new Shape(1, 1, 5, 5), y.Shape);
        Assert.Equal(new float[]
        {
            1, 2, 3, -2, -4,
            3, 2, 1, 2, -8,
            7, -5, -1, 7, -8,
            9, -5, -2, 5, -7,
            4, 0, -3, 2, -3,
        }, y.ToArray());
    }

    [Fact]
    public void MovingAverageAsAConv1d()
    {
        var series = Tensor.FromArray([100f, 120, 115, 200, 135, 130, 140], 1, 1, 7);
        var y = F.Conv1d(series, Tensor.FromArray([0.25f, 0.25f, 0.25f, 0.25f], 1, 1, 4));
        Expect.Close(new float[] { 133.75f, 142.5f, 145f, 151.25f }, y.Span, 1e-6, "moving average");
    }

    // ---- against the direct loops, through the op ----

    [Fact]
    public void ForwardAndGradientsMatchTheDirectLoops()
    {
        foreach (object[] row in ConvolutionKernelTests.Geometries())
        {
            var g = (ConvGeometry)row[0];
            var x = R(1, g.Batch, g.InChannels, g.InputHeight, g.InputWidth);
            var w = R(2, g.OutChannels, g.InChannelsPerGroup, g.KernelHeight, g.KernelWidth);
            var b = R(3, g.OutChannels);
            var dy = R(4, g.Batch, g.OutChannels, g.OutputHeight, g.OutputWidth);
            foreach (var t in new[] { x, w, b }) t.RequiresGrad = true;
            var y = F.Conv2d(x, w, b, new ConvGeometry2d(g.StrideHeight, g.StrideWidth, g.PadTop, g.PadLeft, g.PadBottom, g.PadRight, g.DilationHeight, g.DilationWidth, g.Groups));
            y.Backward(dy);
            var reference = ConvolutionKernelTests.Naive(g, x.ToArray(), w.ToArray(), b.ToArray(), dy.ToArray());
            Expect.Close(reference.Output.Select(v => (float)v).ToArray(), y.Span, 1e-4, $"{g} output");
            Expect.Close(reference.GradInput.Select(v => (float)v).ToArray(), x.Grad!.Span, 1e-4, $"{g} dX");
            Expect.Close(reference.GradWeight.Select(v => (float)v).ToArray(), w.Grad!.Span, 1e-4, $"{g} dW");
            Expect.Close(reference.GradBias.Select(v => (float)v).ToArray(), b.Grad!.Span, 1e-4, $"{g} db");
        }
    }

    // ---- finite differences ----

    public static IEnumerable<object[]> Conv2dSettings()
    {
        // batch, C_in, C_out, H, W, k, stride, padding, dilation, groups
        yield return [1, 1, 2, 5, 5, 3, 1, 0, 1, 1];
        yield return [3, 2, 3, 6, 5, 3, 2, 1, 1, 1];
        yield return [1, 2, 2, 7, 7, 3, 3, 2, 1, 1];
        yield return [1, 2, 2, 7, 6, 2, 1, 1, 2, 1];
        yield return [3, 4, 2, 5, 5, 3, 1, 1, 1, 2];
        yield return [1, 3, 3, 6, 7, 3, 2, 1, 1, 3];   // depthwise
        yield return [3, 2, 4, 5, 5, 3, 1, 1, 1, 2];   // depthwise, multiplier 2
        yield return [3, 4, 3, 4, 5, 1, 1, 0, 1, 1];   // pointwise
        yield return [1, 2, 2, 4, 4, 4, 1, 0, 1, 1];   // kernel = input
    }

    [Theory]
    [MemberData(nameof(Conv2dSettings))]
    public void Conv2dPassesGradCheck(int batch, int cin, int cout, int h, int w, int k, int stride, int padding, int dilation, int groups) =>
        Expect.GradientsMatch(t => F.Conv2d(t[0], t[1], t[2], stride, padding, dilation, groups),
            R(1, batch, cin, h, w), R(2, cout, cin / groups, k, k), R(3, cout));

    [Fact]
    public void Conv2dWithAsymmetricPaddingPassesGradCheck() =>
        Expect.GradientsMatch(t => F.Conv2d(t[0], t[1], t[2], new ConvGeometry2d(2, 1, 0, 1, 1, 2, 1, 2)),
            R(1, 2, 2, 5, 6), R(2, 3, 2, 3, 2), R(3, 3));

    [Theory]
    [InlineData(1, 1, 1, 7, 3, 1, 0, 1, 1)]
    [InlineData(3, 2, 3, 9, 3, 2, 1, 1, 1)]
    [InlineData(1, 2, 2, 9, 3, 1, 2, 2, 1)]
    [InlineData(3, 4, 2, 8, 2, 3, 1, 1, 2)]
    [InlineData(1, 3, 3, 10, 3, 1, 1, 1, 3)]
    [InlineData(3, 4, 6, 6, 1, 1, 0, 1, 1)]
    public void Conv1dPassesGradCheck(int batch, int cin, int cout, int length, int k, int stride, int padding, int dilation, int groups) =>
        Expect.GradientsMatch(t => F.Conv1d(t[0], t[1], t[2], stride, padding, dilation, groups),
            R(1, batch, cin, length), R(2, cout, cin / groups, k), R(3, cout));

    [Fact]
    public void Conv1dWithAsymmetricPaddingPassesGradCheck() =>
        Expect.GradientsMatch(t => F.Conv1d(t[0], t[1], t[2], 2, 0, 2, 1, 1), R(1, 2, 2, 7), R(2, 3, 2, 3), R(3, 3));

    [Fact]
    public void Conv1dIsConv2dWithHeightOne()
    {
        var x = R(1, 3, 4, 11);
        var w = R(2, 6, 2, 3);
        var b = R(3, 6);
        var y1 = F.Conv1d(x, w, b, stride: 2, padding: 1, dilation: 2, groups: 2);
        var y2 = F.Conv2d(F.Reshape(x, 3, 4, 1, 11), F.Reshape(w, 6, 2, 1, 3), b, new ConvGeometry2d(1, 2, 0, 1, 0, 1, 1, 2, 2));
        Assert.Equal(new Shape(3, 6, 5), y1.Shape);
        Assert.Equal(y2.ToArray(), y1.ToArray());
    }

    [Fact]
    public void FrozenParametersGetNoGradientButTheInputDoes()
    {
        var x = R(1, 2, 3, 6, 6);
        var w = R(2, 4, 3, 3, 3);
        var b = R(3, 4);
        x.RequiresGrad = true;
        F.Conv2d(x, w, b, padding: 1).Backward(R(4, 2, 4, 6, 6));
        Assert.NotNull(x.Grad);
        Assert.Null(w.Grad);
        Assert.Null(b.Grad);

        var x2 = R(1, 2, 3, 6, 6);
        var w2 = R(2, 4, 3, 3, 3);
        w2.RequiresGrad = true;
        F.Conv2d(x2, w2).Backward(R(4, 2, 4, 4, 4));
        Assert.Null(x2.Grad);
        Assert.NotNull(w2.Grad);
    }

    // ---- errors, before any kernel runs ----

    [Fact]
    public void ChannelMismatchNamesBothShapes()
    {
        var error = Assert.Throws<ArgumentException>(() => F.Conv2d(Tensor.Zeros(64, 3, 28, 28), Tensor.Zeros(32, 1, 3, 3)));
        Assert.Equal("Conv2d: input [64, 3, 28, 28] has 3 channels but the weight [32, 1, 3, 3] expects 1 (groups 1).", error.Message);
        error = Assert.Throws<ArgumentException>(() => F.Conv1d(Tensor.Zeros(2, 4, 10), Tensor.Zeros(6, 3, 3), groups: 2));
        Assert.Contains("Conv1d", error.Message);
        Assert.Contains("[2, 4, 10]", error.Message);
        Assert.Contains("[6, 3, 3]", error.Message);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        var x = Tensor.Zeros(2, 4, 8, 8);
        var w = Tensor.Zeros(6, 2, 3, 3);
        void Rejects(Func<Tensor> call, params string[] mentions)
        {
            var error = Assert.Throws<ArgumentException>(() => call());
            foreach (var m in mentions) Assert.Contains(m, error.Message);
        }
        Rejects(() => F.Conv2d(Tensor.Zeros(4, 8, 8), w), "Conv2d", "[4, 8, 8]");
        Rejects(() => F.Conv2d(x, Tensor.Zeros(6, 2, 3)), "Conv2d", "[6, 2, 3]");
        Rejects(() => F.Conv2d(x, Tensor.Zeros(5, 2, 3, 3), groups: 2), "groups 2", "[2, 4, 8, 8]", "[5, 2, 3, 3]");
        Rejects(() => F.Conv2d(x, w, groups: 2, stride: 0), "stride");
        Rejects(() => F.Conv2d(x, w, groups: 2, dilation: 0), "dilation");
        Rejects(() => F.Conv2d(x, w, groups: 2, padding: -1), "padding");
        Rejects(() => F.Conv2d(x, w, groups: 0), "Conv2d");
        Rejects(() => F.Conv2d(Tensor.Zeros(2, 4, 2, 2), w, groups: 2), "[2, 4, 2, 2]", "[6, 2, 3, 3]", "empty");
        Rejects(() => F.Conv2d(x, w, Tensor.Zeros(5), groups: 2), "bias", "[5]");
        Rejects(() => F.Conv1d(Tensor.Zeros(1, 1, 3), Tensor.Zeros(1, 1, 3), dilation: 2), "Conv1d", "[1, 1, 3]");
    }
    /// <summary>Batch, channels in and out, size, kernel, stride, groups: one image and chunks of images through the GEMM
    /// (pointwise and k×k; one image of more than 16K outputs splits its rows across the workers), and the depthwise kernel on narrow planes (interleaved) and on planes wider than 32 (row by row).</summary>
    public static TheoryData<int, int, int, int, int, int, int> ActivationCases => new()
    {
        { 1, 8, 6, 5, 1, 1, 1 }, { 3, 8, 6, 5, 1, 1, 1 }, { 1, 3, 5, 9, 3, 2, 1 }, { 4, 3, 5, 9, 3, 2, 1 },
        { 2, 12, 12, 7, 3, 1, 12 }, { 1, 10, 10, 40, 5, 1, 10 }, { 0, 3, 4, 5, 3, 1, 1 }, { 1, 4, 8, 48, 1, 1, 1 }, { 1, 3, 8, 46, 3, 1, 1 },
    };

    [Theory]
    [MemberData(nameof(ActivationCases))]
    public void AnActivationRunInTheConvolutionsPassEqualsItRunAfterwards(int batch, int inChannels, int outChannels, int size, int kernel, int stride, int groups)
    {
        var x = Expect.Random([batch, inChannels, size, size], 1);
        var w = Expect.Random([outChannels, inChannels / groups, kernel, kernel], 2);
        var b = Expect.Random([outChannels], 3);
        var geometry = ConvGeometry2d.Uniform(stride, kernel / 2, 1, groups);
        using var noGrad = Sinapse.Autograd.GradMode.NoGrad();
        var convolved = F.Conv2d(x, w, b, geometry);
        Assert.Equal(F.Relu(convolved).ToArray(), F.Conv2d(x, w, b, geometry, FusedActivation.Relu).ToArray());
        Assert.Equal(F.HardSwish(convolved).ToArray(), F.Conv2d(x, w, b, geometry, FusedActivation.HardSwish).ToArray());
        Assert.Equal(F.HardSwish(F.Conv2d(x, w, null, geometry)).ToArray(), F.Conv2d(x, w, null, geometry, FusedActivation.HardSwish).ToArray());
    }

    [Fact]
    public void AnActivationAfterTheConvolutionHasItsGradient()
    {
        var geometry = ConvGeometry2d.Uniform(1, 1, 1, 1);
        Expect.GradientsMatch(t => F.Conv2d(t[0], t[1], t[2], geometry, FusedActivation.HardSwish),
            Expect.Parameter([2, 2, 4, 4], 1), Expect.Parameter([3, 2, 3, 3], 2), Expect.Parameter([3], 3));
    }
}
