using Sinapse.Kernels;

namespace Sinapse.Tests.Kernels;

[Collection(Sinapse.Tests.Support.WorkerPoolCollection.Name)]
public class ConvolutionKernelTests
{
    /// <summary>The gradients and output of a direct seven-loop convolution, in double precision.</summary>
    internal sealed record Reference(double[] Output, double[] GradInput, double[] GradWeight, double[] GradBias);

    internal static Reference Naive(ConvGeometry g, float[] x, float[] w, float[]? b, float[] dy)
    {
        int oh_ = g.OutputHeight, ow_ = g.OutputWidth, cg = g.InChannelsPerGroup, og = g.OutChannelsPerGroup;
        var y = new double[g.OutputLength];
        var dx = new double[g.InputLength];
        var dw = new double[g.WeightLength];
        var db = new double[g.OutChannels];
        for (int n = 0; n < g.Batch; n++)
            for (int oc = 0; oc < g.OutChannels; oc++)
                for (int oh = 0; oh < oh_; oh++)
                    for (int ow = 0; ow < ow_; ow++)
                    {
                        int o = ((n * g.OutChannels + oc) * oh_ + oh) * ow_ + ow;
                        double sum = b?[oc] ?? 0;
                        double gradient = dy[o];
                        db[oc] += gradient;
                        for (int c = 0; c < cg; c++)
                            for (int kh = 0; kh < g.KernelHeight; kh++)
                                for (int kw = 0; kw < g.KernelWidth; kw++)
                                {
                                    int ih = oh * g.StrideHeight - g.PadTop + kh * g.DilationHeight;
                                    int iw = ow * g.StrideWidth - g.PadLeft + kw * g.DilationWidth;
                                    if (ih < 0 || ih >= g.InputHeight || iw < 0 || iw >= g.InputWidth) continue;
                                    int ic = oc / og * cg + c;
                                    int i = ((n * g.InChannels + ic) * g.InputHeight + ih) * g.InputWidth + iw;
                                    int k = ((oc * cg + c) * g.KernelHeight + kh) * g.KernelWidth + kw;
                                    sum += (double)x[i] * w[k];
                                    dx[i] += gradient * w[k];
                                    dw[k] += gradient * x[i];
                                }
                        y[o] = sum;
                    }
        return new Reference(y, dx, dw, db);
    }

    internal static float[] Random(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary>Agreement within float32 rounding of sums of a few hundred terms, relative to the largest value.</summary>
    static void AssertClose(double[] expected, float[] actual, string what)
    {
        double scale = 1e-3;
        foreach (var e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-5 * scale + 1e-4 * Math.Abs(expected[i]),
                $"{what}[{i}]: expected {expected[i]:G9}, got {actual[i]:G9}");
    }

    static ConvGeometry G(int batch, int cin, int cout, int groups, int h, int w, int kh, int kw,
        int stride = 1, int pad = 0, int dilation = 1) =>
        new(batch, cin, cout, groups, h, w, kh, kw, stride, stride, pad, pad, pad, pad, dilation, dilation);

    public static IEnumerable<object[]> Geometries()
    {
        // Plain, strided, padded, dilated, odd sizes.
        yield return [G(1, 1, 1, 1, 4, 4, 2, 2)];
        yield return [G(3, 2, 3, 1, 7, 5, 3, 3, pad: 1)];
        yield return [G(3, 3, 4, 1, 9, 8, 3, 2, stride: 2)];
        // A first layer's stride-2 rows, wide enough for whole vectors of even columns and a tail.
        yield return [G(2, 3, 4, 1, 5, 71, 3, 3, stride: 2, pad: 1)];
        yield return [G(1, 2, 2, 1, 10, 11, 3, 3, stride: 3, pad: 2)];
        yield return [G(3, 2, 5, 1, 9, 9, 3, 3, pad: 2, dilation: 2)];
        yield return [G(3, 4, 2, 1, 8, 7, 2, 3, stride: 2, pad: 1, dilation: 2)];
        yield return [new ConvGeometry(3, 3, 4, 1, 6, 7, 3, 3, 1, 2, 0, 2, 1, 0, 2, 1)];     // asymmetric everything
        yield return [new ConvGeometry(1, 2, 2, 1, 5, 5, 2, 2, 2, 2, 0, 0, 1, 1)];             // TensorFlow-"SAME"-like
        yield return [new ConvGeometry(3, 2, 3, 1, 7, 9, 3, 3, 2, 1, 1, 0, 2, 1, 1, 2)];       // narrow rows, vertical stride only
        // Tiny planes (the course CNN's third layer, 6×6 → 4×4; a vertical stride): one permute per tap.
        yield return [G(3, 4, 5, 1, 6, 6, 3, 3)];
        yield return [new ConvGeometry(3, 2, 3, 1, 7, 5, 3, 2, 2, 1, 0, 0, 0, 0, 1, 1)];
        // Kernel = input size (a 1×1 output), and a 1-row (Conv1d) geometry.
        yield return [G(3, 3, 4, 1, 5, 5, 5, 5)];
        yield return [G(3, 3, 4, 1, 1, 17, 1, 4, stride: 2, pad: 0)];
        // Pointwise 1×1 (no im2col), with groups too; 1×1 with stride or padding takes im2col.
        yield return [G(3, 6, 4, 1, 5, 7, 1, 1)];
        yield return [G(1, 4, 6, 2, 9, 9, 1, 1)];
        yield return [G(3, 3, 2, 1, 6, 5, 1, 1, stride: 2, pad: 1)];
        // A first layer on grey images: more filters than taps, so dW is computed transposed.
        yield return [G(3, 1, 32, 1, 10, 19, 3, 3, pad: 1)];
        yield return [G(1, 2, 24, 2, 6, 6, 2, 2, stride: 2)];
        // Groups.
        yield return [G(3, 4, 6, 2, 7, 6, 3, 3, pad: 1)];
        yield return [G(1, 6, 3, 3, 8, 8, 3, 3, stride: 2, pad: 1)];
        // Depthwise (multiplier 1 and 2, C_in = 1) on the direct kernel: 3×3 and general k,
        // stride 1 and 2, widths under, at and over a vector.
        yield return [G(3, 4, 4, 4, 9, 9, 3, 3, pad: 1)];
        yield return [G(3, 3, 3, 3, 11, 21, 3, 3, stride: 2, pad: 1)];
        yield return [G(1, 2, 2, 2, 20, 37, 3, 3, pad: 1)];
        yield return [G(3, 3, 6, 3, 12, 18, 5, 5, pad: 2)];
        yield return [G(1, 2, 4, 2, 17, 33, 5, 3, stride: 2, pad: 1, dilation: 2)];
        yield return [G(3, 1, 5, 1, 28, 28, 3, 3, pad: 1)];
        yield return [new ConvGeometry(3, 3, 3, 3, 9, 19, 4, 3, 2, 3, 0, 1, 2, 2, 1, 2)];
        yield return [G(2, 5, 5, 5, 3, 3, 3, 3)];
    }

    static float[] Run(ConvGeometry g, float[] x, float[] w, float[]? b)
    {
        var y = new float[g.OutputLength];
        Array.Fill(y, float.NaN);
        Convolution.Forward(g, x, w, b, y);
        return y;
    }

    static (float[] Dx, float[] Dw, float[] Db) RunBackward(ConvGeometry g, float[] x, float[] w, float[] dy)
    {
        // Beta 0: the buffers start as garbage (NaN) and must be overwritten.
        var dx = new float[g.InputLength];
        var dw = new float[g.WeightLength];
        var db = new float[g.OutChannels];
        Array.Fill(dx, float.NaN); Array.Fill(dw, float.NaN); Array.Fill(db, float.NaN);
        Convolution.Backward(g, x, w, dy, dx, 0f, dw, 0f, db, 0f);
        return (dx, dw, db);
    }

    static void CheckAll(ConvGeometry g, string what)
    {
        var x = Random(g.InputLength, 1);
        var w = Random(g.WeightLength, 2);
        var b = Random(g.OutChannels, 3);
        var dy = Random(g.OutputLength, 4);
        var reference = Naive(g, x, w, b, dy);
        AssertClose(reference.Output, Run(g, x, w, b), what + " output");
        var (dx, dw, db) = RunBackward(g, x, w, dy);
        AssertClose(reference.GradInput, dx, what + " dX");
        AssertClose(reference.GradWeight, dw, what + " dW");
        AssertClose(reference.GradBias, db, what + " db");
    }

    /// <summary>Every geometry on every code path: 1 and 2 threads, one image per GEMM or wide
    /// chunks, the depthwise kernel on and off, and its portable (non-AVX-512) loops.</summary>
    [Theory]
    [MemberData(nameof(Geometries))]
    public void MatchesTheDirectLoops(ConvGeometry g)
    {
        int savedThreads = Workers.Count, savedColumns = Convolution.TargetColumns;
        bool savedWide = DepthwiseConvolution.UseVector512;
        try
        {
            foreach (int threads in new[] { 1, 2 })
                foreach (int columns in new[] { 1, 4096 })
                {
                    Workers.Count = threads;
                    Convolution.TargetColumns = columns;
                    CheckAll(g, $"{g} threads {threads} columns {columns}");
                }
            if (g.IsDepthwise)
            {
                Convolution.UseDepthwiseKernel = false;
                CheckAll(g, $"{g} through im2col");
                Convolution.UseDepthwiseKernel = true;
                DepthwiseConvolution.UseVector512 = false;
                CheckAll(g, $"{g} portable loops");
            }
        }
        finally
        {
            Workers.Count = savedThreads;
            Convolution.TargetColumns = savedColumns;
            Convolution.UseDepthwiseKernel = true;
            DepthwiseConvolution.UseVector512 = savedWide;
        }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void BetaOneAccumulatesOntoExistingGradients(ConvGeometry g)
    {
        var x = Random(g.InputLength, 5);
        var w = Random(g.WeightLength, 6);
        var dy = Random(g.OutputLength, 7);
        var reference = Naive(g, x, w, null, dy);
        var dx = new float[g.InputLength]; Array.Fill(dx, 1f);
        var dw = new float[g.WeightLength]; Array.Fill(dw, 1f);
        var db = new float[g.OutChannels]; Array.Fill(db, 1f);
        Convolution.Backward(g, x, w, dy, dx, 1f, dw, 1f, db, 1f);
        AssertClose(reference.GradInput.Select(v => v + 1).ToArray(), dx, "dX");
        AssertClose(reference.GradWeight.Select(v => v + 1).ToArray(), dw, "dW");
        AssertClose(reference.GradBias.Select(v => v + 1).ToArray(), db, "db");
    }

    [Fact]
    public void GradientsCanBeLeftOut()
    {
        var g = G(3, 4, 6, 2, 7, 6, 3, 3, pad: 1);
        var x = Random(g.InputLength, 1);
        var w = Random(g.WeightLength, 2);
        var dy = Random(g.OutputLength, 4);
        var reference = Naive(g, x, w, null, dy);
        var dw = new float[g.WeightLength];
        Convolution.Backward(g, x, w, dy, default, 0f, dw, 0f, default, 0f);
        AssertClose(reference.GradWeight, dw, "dW alone");
        var dx = new float[g.InputLength];
        Convolution.Backward(g, x, w, dy, dx, 0f, default, 0f, default, 0f);
        AssertClose(reference.GradInput, dx, "dX alone");
    }

    /// <summary>Geometries the forward pass packs straight into the GEMM's panels: odd batches
    /// (a half-empty last panel), odd channel counts, a single image, 16-, 144- and 784-pixel
    /// planes, dilation, a vertical stride, and 32 → 64 channels (288 taps, whole 32-wide panels
    /// of the weight gradient's transposed columns).</summary>
    public static IEnumerable<object[]> PackableGeometries()
    {
        yield return [G(5, 3, 7, 1, 6, 6, 3, 3)];
        yield return [G(3, 5, 9, 1, 14, 14, 3, 3)];
        yield return [G(1, 5, 13, 1, 14, 14, 3, 3)];
        yield return [G(2, 3, 5, 1, 30, 30, 3, 3)];
        yield return [G(7, 3, 6, 1, 8, 8, 3, 3, dilation: 2)];
        yield return [new ConvGeometry(3, 2, 3, 1, 9, 10, 3, 3, 2, 1)];
        yield return [G(33, 4, 11, 1, 6, 6, 3, 3)];
        yield return [G(3, 32, 64, 1, 14, 14, 3, 3)];
    }

    [Theory]
    [MemberData(nameof(PackableGeometries))]
    public void PackedColumnsGiveBitwiseTheUnpackedResults(ConvGeometry g)
    {
        // Without AVX-512 the packed path never runs; with it, every geometry here takes it.
        if (!System.Runtime.Intrinsics.X86.Avx512F.IsSupported || Gemm.Kernel != GemmKernel.Vector512) return;
        Assert.True(Convolution.CanPackColumns(g), $"{g} should take the packed path");
        int savedThreads = Workers.Count, savedColumns = Convolution.TargetColumns;
        try
        {
            var x = Random(g.InputLength, 1);
            var w = Random(g.WeightLength, 2);
            var b = Random(g.OutChannels, 3);
            foreach (int threads in new[] { 1, 2 })
                foreach (int columns in new[] { 1, 512, 4096 })
                {
                    Workers.Count = threads;
                    Convolution.TargetColumns = columns;
                    var packed = new float[g.OutputLength];
                    var unpacked = new float[g.OutputLength];
                    Array.Fill(packed, float.NaN);
                    Array.Fill(unpacked, float.NaN);
                    Convolution.UsePackedColumns = true;
                    Convolution.Forward(g, x, w, b, packed);
                    Convolution.UsePackedColumns = false;
                    Convolution.Forward(g, x, w, b, unpacked);
                    Convolution.UsePackedColumns = true;
                    for (int i = 0; i < packed.Length; i++)
                        Assert.True(BitConverter.SingleToInt32Bits(packed[i]) == BitConverter.SingleToInt32Bits(unpacked[i]),
                            $"{g} threads {threads} columns {columns}: output {i} is {packed[i]} packed, {unpacked[i]} unpacked");
                    // Backward re-runs im2col the same way (one panel as wide as the matrix).
                    var dy = Random(g.OutputLength, 4);
                    var gradients = new float[2][][];
                    foreach (bool usePacked in new[] { true, false })
                    {
                        Convolution.UsePackedColumns = usePacked;
                        var dx = new float[g.InputLength];
                        var dw = new float[g.WeightLength];
                        var db = new float[g.OutChannels];
                        Convolution.Backward(g, x, w, dy, dx, 0f, dw, 0f, db, 0f);
                        gradients[usePacked ? 0 : 1] = [dx, dw, db];
                    }
                    Convolution.UsePackedColumns = true;
                    for (int t = 0; t < 3; t++)
                        for (int i = 0; i < gradients[0][t].Length; i++)
                            Assert.True(BitConverter.SingleToInt32Bits(gradients[0][t][i]) == BitConverter.SingleToInt32Bits(gradients[1][t][i]),
                                $"{g} threads {threads} columns {columns}: gradient {t} element {i} is {gradients[0][t][i]} packed, {gradients[1][t][i]} unpacked");
                    var reference = Naive(g, x, w, b, new float[g.OutputLength]).Output;
                    for (int i = 0; i < packed.Length; i++)
                        Assert.True(Math.Abs(packed[i] - reference[i]) <= 1e-4 * (1 + Math.Abs(reference[i])),
                            $"{g}: output {i} is {packed[i]}, expected {reference[i]}");
                }
        }
        finally
        {
            Workers.Count = savedThreads;
            Convolution.TargetColumns = savedColumns;
            Convolution.UsePackedColumns = true;
        }
    }

    [Fact]
    public void TwoThreadsGiveBitwiseTheSameResultsTwice()
    {
        int saved = Workers.Count;
        try
        {
            Workers.Count = 2;
            foreach (var g in new[] { G(8, 6, 8, 1, 10, 10, 3, 3, pad: 1), G(8, 8, 8, 8, 20, 20, 3, 3, pad: 1), G(5, 8, 12, 1, 9, 9, 1, 1) })
            {
                var x = Random(g.InputLength, 1);
                var w = Random(g.WeightLength, 2);
                var b = Random(g.OutChannels, 3);
                var dy = Random(g.OutputLength, 4);
                var first = (Run(g, x, w, b), RunBackward(g, x, w, dy));
                var second = (Run(g, x, w, b), RunBackward(g, x, w, dy));
                Assert.Equal(first.Item1, second.Item1);
                Assert.Equal(first.Item2.Dx, second.Item2.Dx);
                Assert.Equal(first.Item2.Dw, second.Item2.Dw);
                Assert.Equal(first.Item2.Db, second.Item2.Db);
            }
        }
        finally
        {
            Workers.Count = saved;
        }
    }

    /// <summary>Small depthwise planes (multiplier 1, narrow output rows): odd sizes, kernels 3
    /// and 5, strides 1 and 2, channel counts that split the lane groups across images.</summary>
    public static IEnumerable<object[]> SmallDepthwisePlanes()
    {
        foreach (int size in new[] { 3, 5, 7, 9, 13, 15 })
            foreach (int kernel in new[] { 3, 5 })
                foreach (int stride in new[] { 1, 2 })
                {
                    int channels = (size * 7 + kernel + stride) % 23 + 1;   // 1 to 23: under, at and over a lane group
                    yield return [G(3, channels, channels, channels, size, size, kernel, kernel, stride, pad: kernel / 2)];
                }
        yield return [G(2, 17, 17, 17, 7, 7, 5, 5, pad: 0)];                                       // no padding
        yield return [new ConvGeometry(3, 9, 9, 9, 7, 11, 3, 5, 2, 1, 0, 2, 1, 1, 2, 1)];        // asymmetric, dilated
        yield return [G(1, 5, 5, 5, 2, 2, 3, 3, pad: 1)];                                          // output narrower than 4
        yield return [G(2, 19, 19, 19, 28, 28, 3, 3, pad: 1)];                                     // MobileNet's 28×28
        yield return [G(1, 9, 9, 9, 33, 32, 5, 5, pad: 2)];                                        // the widest taken
    }

    /// <summary>The plane-interleaved loops: the forward one gives bitwise the row loops' results (same FMAs
    /// in the same order) and the double-precision reference to 1e-5, with and without bias, on
    /// 1 and 2 threads, with 16- and 8-lane vectors; and it is the loop taken.</summary>
    [Theory]
    [MemberData(nameof(SmallDepthwisePlanes))]
    public void SmallDepthwisePlanesMatchTheRowLoops(ConvGeometry g)
    {
        int savedThreads = Workers.Count;
        bool savedWide = DepthwiseConvolution.UseVector512;
        try
        {
            var x = Random(g.InputLength, 11);
            var w = Random(g.WeightLength, 12);
            var b = Random(g.OutChannels, 13);
            var dy = Random(g.OutputLength, 14);
            foreach (bool wide in new[] { true, false })
                foreach (var bias in new[] { b, null })
                    foreach (int threads in new[] { 1, 2 })
                    {
                        DepthwiseConvolution.UseVector512 = wide && savedWide;
                        Workers.Count = threads;
                        string what = $"{g} wide {wide} bias {bias != null} threads {threads}";
                        DepthwiseConvolution.UseSmallPlanes = false;
                        Assert.False(DepthwiseConvolution.TakesSmallPlanePath(g));
                        var rows = Run(g, x, w, bias);
                        DepthwiseConvolution.UseSmallPlanes = true;
                        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
                            Assert.True(DepthwiseConvolution.TakesSmallPlanePath(g), what);
                        int calls = DepthwiseConvolution.SmallPlaneCalls;
                        var small = Run(g, x, w, bias);
                        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
                            Assert.True(DepthwiseConvolution.SmallPlaneCalls > calls, what + ": small-plane loop not taken");
                        Assert.Equal(rows, small);
                        var naive = Naive(g, x, w, bias, dy);
                        var reference = naive.Output;
                        for (int i = 0; i < reference.Length; i++)
                            Assert.True(Math.Abs(reference[i] - small[i]) <= 1e-5 * Math.Max(1, Math.Abs(reference[i])),
                                $"{what} output[{i}]: expected {reference[i]:G9}, got {small[i]:G9}");
                        // The input gradient (interleaved too), overwritten and accumulated.
                        foreach (float beta in new[] { 0f, 1f })
                        {
                            var dx = new float[g.InputLength];
                            Array.Fill(dx, beta == 0f ? float.NaN : 1f);
                            Convolution.Backward(g, x, w, dy, dx, beta, default, 0f, default, 0f);
                            for (int i = 0; i < dx.Length; i++)
                            {
                                double expected = naive.GradInput[i] + beta;
                                Assert.True(Math.Abs(expected - dx[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected)),
                                    $"{what} beta {beta} dX[{i}]: expected {expected:G9}, got {dx[i]:G9}");
                            }
                            // The weight gradient (interleaved too), relative to its largest value (sums of hundreds of terms).
                            var dw = new float[g.WeightLength];
                            Array.Fill(dw, beta == 0f ? float.NaN : 1f);
                            Convolution.Backward(g, x, w, dy, default, 0f, dw, beta, default, 0f);
                            double scale = Math.Max(1, naive.GradWeight.Max(Math.Abs));
                            for (int i = 0; i < dw.Length; i++)
                            {
                                double expected = naive.GradWeight[i] + beta;
                                Assert.True(Math.Abs(expected - dw[i]) <= 1e-5 * scale,
                                    $"{what} beta {beta} dW[{i}]: expected {expected:G9}, got {dw[i]:G9}");
                            }
                        }
                    }
        }
        finally
        {
            Workers.Count = savedThreads;
            DepthwiseConvolution.UseVector512 = savedWide;
            DepthwiseConvolution.UseSmallPlanes = true;
        }
    }

    [Fact]
    public void LargeDepthwisePlanesKeepTheRowLoops()
    {
        Assert.True(DepthwiseConvolution.TakesSmallPlanePath(G(32, 576, 576, 576, 7, 7, 5, 5, pad: 2))
            || !System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated);
        Assert.False(DepthwiseConvolution.TakesSmallPlanePath(G(32, 16, 16, 16, 112, 112, 3, 3, pad: 1)));
        Assert.False(DepthwiseConvolution.TakesSmallPlanePath(G(32, 16, 16, 16, 56, 56, 3, 3, pad: 1)));
        Assert.False(DepthwiseConvolution.TakesSmallPlanePath(G(2, 4, 8, 4, 7, 7, 3, 3, pad: 1)));   // multiplier 2
    }

    [Fact]
    public void SteadyStateCallsAllocateNothing()
    {
        int saved = Workers.Count;
        try
        {
            foreach (int threads in new[] { 1, 2 })
            {
                Workers.Count = threads;
                foreach (var g in new[] { G(4, 6, 8, 1, 10, 10, 3, 3, pad: 1), G(4, 8, 8, 8, 20, 20, 3, 3, pad: 1), G(4, 8, 12, 1, 9, 9, 1, 1), G(8, 4, 4, 1, 6, 6, 3, 3), G(4, 19, 19, 19, 7, 7, 5, 5, pad: 2) })
                {
                    var x = Random(g.InputLength, 1);
                    var w = Random(g.WeightLength, 2);
                    var b = Random(g.OutChannels, 3);
                    var y = new float[g.OutputLength];
                    var dx = new float[g.InputLength];
                    var dw = new float[g.WeightLength];
                    var db = new float[g.OutChannels];
                    void Step()
                    {
                        Convolution.Forward(g, x, w, b, y);
                        Convolution.Backward(g, x, w, y, dx, 0f, dw, 0f, db, 0f);
                    }
                    // Steady state: past the JIT's tiering (30 calls), whose recompilation can allocate on this thread.
                    for (int i = 0; i < 50; i++) Step();
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    for (int i = 0; i < 5; i++) Step();
                    Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
                }
            }
        }
        finally
        {
            Workers.Count = saved;
        }
    }

    [Fact]
    public void OutputSizeFollowsTheFloorFormula()
    {
        // floor((in + padBegin + padEnd − dilation·(k − 1) − 1) / stride) + 1
        Assert.Equal(3, G(1, 1, 1, 1, 4, 4, 2, 2).OutputHeight);
        Assert.Equal(5, G(1, 1, 1, 1, 4, 4, 2, 2, pad: 1).OutputWidth);
        Assert.Equal(14, G(1, 1, 1, 1, 28, 28, 3, 3, stride: 2, pad: 1).OutputHeight);
        Assert.Equal(3, new ConvGeometry(1, 1, 1, 1, 5, 5, 2, 2, 2, 2, 0, 0, 1, 1).OutputHeight);
        Assert.Equal(2, G(1, 1, 1, 1, 7, 7, 3, 3, stride: 2, dilation: 2).OutputWidth);
    }

    [Fact]
    public void InvalidGeometriesNameTheShapes()
    {
        var error = Assert.Throws<ArgumentException>(() => G(2, 3, 4, 2, 8, 8, 3, 3).Validate());
        Assert.Contains("groups 2", error.Message);
        Assert.Contains("[2, 3, 8, 8]", error.Message);
        Assert.Throws<ArgumentException>(() => G(1, 2, 2, 1, 8, 8, 3, 3, stride: 0).Validate());
        Assert.Throws<ArgumentException>(() => G(1, 2, 2, 1, 8, 8, 3, 3, dilation: 0).Validate());
        Assert.Throws<ArgumentException>(() => G(1, 2, 2, 1, 8, 8, 3, 3, pad: -1).Validate());
        error = Assert.Throws<ArgumentException>(() => G(1, 2, 2, 1, 4, 4, 3, 3, dilation: 2).Validate());
        Assert.Contains("5x5", error.Message);
        var g = G(1, 2, 2, 1, 4, 4, 3, 3);
        error = Assert.Throws<ArgumentException>(() => Convolution.Forward(g, new float[5], new float[g.WeightLength], default, new float[g.OutputLength]));
        Assert.Contains("input", error.Message);
    }
}
