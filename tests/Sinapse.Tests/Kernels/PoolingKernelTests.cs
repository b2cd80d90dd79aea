using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Tests.Kernels;

public class PoolingKernelTests
{
    // (size, kernel, stride, padding) → floor((w − f + 2b)/p) + 1, the course's formula with the +1 it forgets.
    [Theory]
    [InlineData(4, 2, 1, 0, 3)]     // the course's 4×4 example, 2×2 window, stride 1
    [InlineData(28, 2, 2, 0, 14)]   // the course CNN's first MaxPool2d(2, 2)
    [InlineData(12, 2, 2, 0, 6)]    // and its second
    [InlineData(7, 2, 2, 0, 3)]     // odd size: the last column is dropped (ceil_mode = false)
    [InlineData(7, 3, 2, 1, 4)]
    [InlineData(5, 3, 1, 1, 5)]     // "same" pooling
    [InlineData(6, 5, 3, 2, 2)]     // floor(5 / 3) + 1
    [InlineData(1, 1, 5, 0, 1)]
    [InlineData(2, 3, 1, 0, 0)]     // the window does not fit: empty
    [InlineData(1, 4, 1, 1, 0)]
    public void OutputSizeIsFloorOfWMinusFPlus2BOverPPlusOne(int size, int kernel, int stride, int padding, int expected) =>
        Assert.Equal(expected, PoolWindow.OutputSize(size, kernel, stride, padding));

    [Fact]
    public void OutputSizeWithDilationUsesTheDilatedSpan() =>
        Assert.Equal(3, PoolWindow.OutputSize(7, 3, 1, 0, dilation: 2));    // span 5

    // (size, kernel, stride, padding, dilation) → PyTorch's ceil_mode output size.
    [Theory]
    [InlineData(7, 2, 2, 0, 1, 4)]      // floor gives 3: the last column gets a window of its own
    [InlineData(6, 2, 2, 0, 1, 3)]      // divides evenly: as floor
    [InlineData(55, 3, 2, 0, 1, 27)]    // SqueezeNet 1.1's first pooling: 111 → 55 → 27 (floor: 27 too)
    [InlineData(54, 3, 2, 0, 1, 27)]    // floor: 26
    [InlineData(5, 2, 2, 1, 1, 3)]      // ceil((5 + 2 − 2) / 2) + 1 = 4, but window 3 would start at 5 = in the right padding: dropped
    [InlineData(4, 3, 3, 1, 1, 2)]      // ceil(3 / 3) + 1 = 2; window 1 starts at 2, inside
    [InlineData(10, 3, 4, 0, 2, 3)]     // span 5: ceil(5 / 4) + 1 = 3, the last starting at 8 < 10
    [InlineData(2, 3, 1, 0, 1, 0)]      // the window still does not fit
    public void CeilModeOutputSizeRoundsUpUnlessTheLastWindowStartsInThePadding(int size, int kernel, int stride, int padding, int dilation, int expected) =>
        Assert.Equal(expected, PoolWindow.OutputSize(size, kernel, stride, padding, dilation, ceilMode: true));

    public static TheoryData<int, int, int, int, int, int, int, int> Geometries => new()
    {
        // height, width, kernel h/w, stride h/w, padding h/w
        { 4, 4, 2, 2, 1, 1, 0, 0 },
        { 28, 28, 2, 2, 2, 2, 0, 0 },   // the 2×2 stride 2 fast path
        { 7, 9, 2, 2, 2, 2, 0, 0 },     // fast path on odd sizes
        { 12, 12, 2, 2, 2, 2, 0, 0 },   // the course CNN's second pooling (6 outputs a row: overlapping blocks)
        { 5, 7, 2, 2, 2, 2, 0, 0 },     // fewer than four outputs a row: the scalar loop
        { 3, 19, 2, 2, 2, 2, 0, 0 },
        { 7, 9, 3, 3, 2, 2, 1, 1 },
        { 5, 6, 3, 2, 1, 2, 1, 1 },
        { 6, 5, 4, 4, 3, 3, 2, 2 },
        { 1, 11, 1, 3, 1, 2, 0, 1 },    // 1-D pooling
        { 3, 3, 3, 3, 1, 1, 0, 0 },
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void MaxPoolingMatchesADirectReading(int height, int width, int kh, int kw, int sh, int sw, int ph, int pw)
    {
        var w = new PoolWindow(height, width, kh, kw, sh, sw, ph, pw);
        const int planes = 3;
        var x = Values(planes * w.InputPlane, 1, ties: true);
        var y = new float[planes * w.OutputPlane];
        var argmax = new float[y.Length];
        Pooling.MaxPool2d(x, y, argmax, planes, w);
        var (expected, expectedIndex) = ReferenceMax(x, planes, w);
        Assert.Equal(expected, y);
        Assert.Equal(expectedIndex, argmax);

        // Without indices (inference) the values are the same.
        var yOnly = new float[y.Length];
        Pooling.MaxPool2d(x, yOnly, [], planes, w);
        Assert.Equal(expected, yOnly);

        // Backward scatters through the arg-max, onto zeros (beta 0) or onto what is there (beta 1).
        var dy = Values(y.Length, 2, ties: false);
        var dx = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        Pooling.MaxPool2dBackward(dy, argmax, 0f, dx, planes, w);
        var expectedDx = new float[x.Length];
        for (int p = 0; p < planes; p++)
            for (int o = 0; o < w.OutputPlane; o++)
                expectedDx[p * w.InputPlane + (int)expectedIndex[p * w.OutputPlane + o]] += dy[p * w.OutputPlane + o];
        Assert.Equal(expectedDx, dx);
        Pooling.MaxPool2dBackward(dy, argmax, 1f, dx, planes, w);
        for (int i = 0; i < x.Length; i++) Assert.Equal(2 * expectedDx[i], dx[i], 1e-5f);
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void AveragePoolingDividesByTheWholeKernelIncludingPadding(int height, int width, int kh, int kw, int sh, int sw, int ph, int pw) =>
        AveragePoolingMatchesADirectReading(new PoolWindow(height, width, kh, kw, sh, sw, ph, pw));

    /// <summary>Ceil mode, dilation (max only) and count_include_pad = false, each where it changes the result.</summary>
    public static TheoryData<PoolWindow> OptionGeometries => new()
    {
        new PoolWindow(7, 9, 2, 2, 2, 2, 0, 0, CeilMode: true),                    // 2×2 stride 2 on odd sizes: partial last windows, not the fast path
        new PoolWindow(8, 8, 2, 2, 2, 2, 0, 0, CeilMode: true),                    // even sizes: the fast path
        new PoolWindow(13, 11, 3, 3, 2, 2, 0, 0, CeilMode: true),                  // SqueezeNet's MaxPool2d(3, 2, ceil_mode=True)
        new PoolWindow(6, 7, 3, 2, 2, 3, 1, 1, CeilMode: true),
        new PoolWindow(5, 5, 2, 2, 2, 2, 1, 1, CeilMode: true),                    // a window that would start in the padding is dropped
        new PoolWindow(9, 10, 3, 2, 1, 2, 1, 0, DilationHeight: 2, DilationWidth: 3),
        new PoolWindow(8, 8, 3, 3, 2, 2, 1, 1, DilationHeight: 2, DilationWidth: 2, CeilMode: true),
        new PoolWindow(1, 12, 1, 3, 1, 2, 0, 1, DilationWidth: 3, CeilMode: true), // 1-D
    };

    [Theory]
    [MemberData(nameof(OptionGeometries))]
    public void MaxPoolingOptionsMatchADirectReading(PoolWindow w)
    {
        const int planes = 2;
        var x = Values(planes * w.InputPlane, 6, ties: true);
        var y = new float[planes * w.OutputPlane];
        var argmax = new float[y.Length];
        Pooling.MaxPool2d(x, y, argmax, planes, w);
        var (expected, expectedIndex) = ReferenceMax(x, planes, w);
        Assert.Equal(expected, y);
        Assert.Equal(expectedIndex, argmax);
        var dy = Values(y.Length, 7, ties: false);
        var dx = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        Pooling.MaxPool2dBackward(dy, argmax, 0f, dx, planes, w);
        var expectedDx = new float[x.Length];
        for (int p = 0; p < planes; p++)
            for (int o = 0; o < w.OutputPlane; o++)
                expectedDx[p * w.InputPlane + (int)expectedIndex[p * w.OutputPlane + o]] += dy[p * w.OutputPlane + o];
        Assert.Equal(expectedDx, dx);
    }

    [Theory]
    [MemberData(nameof(OptionGeometries))]
    public void AveragePoolingOptionsMatchADirectReading(PoolWindow w)
    {
        if (w.DilationHeight != 1 || w.DilationWidth != 1)
        {
            Assert.Contains("no dilation", Assert.Throws<ArgumentException>(() => Pooling.AvgPool2d(new float[w.InputPlane], new float[w.OutputPlane], 1, w)).Message);
            return;
        }
        AveragePoolingMatchesADirectReading(w);
        AveragePoolingMatchesADirectReading(w with { CountIncludePad = false });
    }

    static void AveragePoolingMatchesADirectReading(PoolWindow w)
    {
        const int planes = 2;
        var x = Values(planes * w.InputPlane, 3, ties: false);
        var y = new float[planes * w.OutputPlane];
        Pooling.AvgPool2d(x, y, planes, w);
        var expected = new float[y.Length];
        var expectedDx = new float[x.Length];
        var dy = Values(y.Length, 4, ties: false);
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < w.OutputHeight; oh++)
                for (int ow = 0; ow < w.OutputWidth; ow++)
                {
                    int o = p * w.OutputPlane + oh * w.OutputWidth + ow;
                    double sum = 0;
                    var window = WindowIndices(w, oh, ow).ToArray();
                    int divisor = AverageDivisor(w, oh, ow, window.Length);
                    foreach (int i in window) { sum += x[p * w.InputPlane + i]; expectedDx[p * w.InputPlane + i] += dy[o] / divisor; }
                    expected[o] = window.Length == 0 ? 0f : (float)(sum / divisor);
                }
        for (int i = 0; i < y.Length; i++) Assert.Equal(expected[i], y[i], 5e-6f);

        var dx = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        Pooling.AvgPool2dBackward(dy, 0f, dx, planes, w);
        for (int i = 0; i < x.Length; i++) Assert.Equal(expectedDx[i], dx[i], 5e-6f);
        Pooling.AvgPool2dBackward(dy, 1f, dx, planes, w);
        for (int i = 0; i < x.Length; i++) Assert.Equal(2 * expectedDx[i], dx[i], 1e-5f);
    }

    [Fact]
    public void TheFirstMaximumWinsTiesAndNaNWins()
    {
        var w = new PoolWindow(2, 4, 2, 2, 2, 2, 0, 0);         // fast path
        var general = new PoolWindow(2, 4, 2, 2, 1, 2, 0, 0);   // same windows, general loop
        float[] x = [5, 5, 1, float.NaN,
                     5, 2, 9, 3];
        foreach (var window in new[] { w, general })
        {
            var y = new float[2];
            var argmax = new float[2];
            Pooling.MaxPool2d(x, y, argmax, 1, window);
            Assert.Equal(5f, y[0]);
            Assert.Equal(0f, argmax[0]);       // the first of three 5s
            Assert.True(float.IsNaN(y[1]));    // NaN propagates, as in PyTorch
            Assert.Equal(3f, argmax[1]);
        }
    }

    [Fact]
    public void MaxPaddingIsMinusInfinityNotZero()
    {
        // All-negative input: zero padding would win every border window.
        var w = new PoolWindow(3, 3, 3, 3, 1, 1, 1, 1);
        var x = new float[] { -9, -8, -7, -6, -5, -4, -3, -2, -1 };
        var y = new float[9];
        Pooling.MaxPool2d(x, y, [], 1, w);
        Assert.Equal([-5, -4, -4, -2, -1, -1, -2, -1, -1], y);
    }

    [Fact]
    public void ALargeBatchSplitOverThreadsGivesTheSameResultAsOnePlaneAtATime()
    {
        // The course CNN's second pooling at batch 8: large enough to run on the workers.
        var w = new PoolWindow(12, 12, 2, 2, 2, 2, 0, 0);
        const int planes = 8 * 64;
        var x = Values(planes * w.InputPlane, 5, ties: false);
        var y = new float[planes * w.OutputPlane];
        var argmax = new float[y.Length];
        Pooling.MaxPool2d(x, y, argmax, planes, w);
        var average = new float[y.Length];
        Pooling.AvgPool2d(x, average, planes, w);
        var global = new float[planes];
        Pooling.GlobalAvgPool(x, global, planes, w.InputPlane);
        for (int p = 0; p < planes; p += 37)
        {
            var plane = x.AsSpan(p * w.InputPlane, w.InputPlane);
            var single = new float[w.OutputPlane];
            var singleIndex = new float[w.OutputPlane];
            Pooling.MaxPool2d(plane, single, singleIndex, 1, w);
            Assert.Equal(single, y.AsSpan(p * w.OutputPlane, w.OutputPlane).ToArray());
            Assert.Equal(singleIndex, argmax.AsSpan(p * w.OutputPlane, w.OutputPlane).ToArray());
            Pooling.AvgPool2d(plane, single, 1, w);
            Assert.Equal(single, average.AsSpan(p * w.OutputPlane, w.OutputPlane).ToArray());
            Assert.Equal(plane.ToArray().Average(), global[p], 1e-5f);
        }
    }

    [Fact]
    public void GlobalAveragePoolingBackwardSpreadsTheMeanGradient()
    {
        float[] dy = [4, -8];
        var dx = new float[8];
        Pooling.GlobalAvgPoolBackward(dy, 0f, dx, 2, 4);
        Assert.Equal([1, 1, 1, 1, -2, -2, -2, -2], dx);
        Pooling.GlobalAvgPoolBackward(dy, 1f, dx, 2, 4);
        Assert.Equal([2, 2, 2, 2, -4, -4, -4, -4], dx);
    }

    [Theory]
    [InlineData(6, 6, 3, 3)]     // windows of 2 rows and columns, no overlap
    [InlineData(7, 5, 3, 2)]     // overlapping windows: 7 → 3 rows takes [0, 3), [2, 5), [4, 7)
    [InlineData(5, 4, 5, 4)]     // one element per window
    [InlineData(3, 2, 7, 5)]     // more outputs than inputs: windows repeat rows
    [InlineData(9, 9, 1, 1)]
    public void AdaptiveAveragePoolingAveragesPyTorchsWindows(int height, int width, int outputHeight, int outputWidth)
    {
        var w = new AdaptivePoolWindow(height, width, outputHeight, outputWidth);
        const int planes = 3;
        var x = Values(planes * w.InputPlane, 8, ties: false);
        var dy = Values(planes * w.OutputPlane, 9, ties: false);
        var expected = new float[dy.Length];
        var expectedDx = new float[x.Length];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < outputHeight; oh++)
                for (int ow = 0; ow < outputWidth; ow++)
                {
                    // floor(i·in/out) to ceil((i+1)·in/out), in floating point as PyTorch documents it.
                    int h0 = (int)Math.Floor((double)oh * height / outputHeight), h1 = (int)Math.Ceiling((double)(oh + 1) * height / outputHeight);
                    int w0 = (int)Math.Floor((double)ow * width / outputWidth), w1 = (int)Math.Ceiling((double)(ow + 1) * width / outputWidth);
                    int o = p * w.OutputPlane + oh * outputWidth + ow, count = (h1 - h0) * (w1 - w0);
                    double sum = 0;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++)
                        {
                            sum += x[p * w.InputPlane + ih * width + iw];
                            expectedDx[p * w.InputPlane + ih * width + iw] += dy[o] / count;
                        }
                    expected[o] = (float)(sum / count);
                }
        var y = new float[dy.Length];
        Pooling.AdaptiveAvgPool2d(x, y, planes, w);
        for (int i = 0; i < y.Length; i++) Assert.Equal(expected[i], y[i], 5e-6f);
        var dx = Enumerable.Repeat(float.NaN, x.Length).ToArray();
        Pooling.AdaptiveAvgPool2dBackward(dy, 0f, dx, planes, w);
        for (int i = 0; i < x.Length; i++) Assert.Equal(expectedDx[i], dx[i], 5e-6f);
        Pooling.AdaptiveAvgPool2dBackward(dy, 1f, dx, planes, w);
        for (int i = 0; i < x.Length; i++) Assert.Equal(2 * expectedDx[i], dx[i], 1e-5f);
    }

    [Fact]
    public void BuffersTooSmallOrBadGeometryAreRejected()
    {
        var w = new PoolWindow(4, 4, 2, 2, 2, 2, 0, 0);
        Assert.Throws<ArgumentException>(() => Pooling.MaxPool2d(new float[16], new float[3], [], 1, w));
        Assert.Throws<ArgumentException>(() => Pooling.MaxPool2d(new float[16], new float[4], new float[2], 1, w));
        Assert.Throws<ArgumentException>(() => Pooling.AvgPool2d(new float[15], new float[4], 1, w));
        Assert.Throws<ArgumentException>(() => Pooling.AvgPool2d(new float[16], new float[16], 1, w with { StrideHeight = 0 }));
        Assert.Throws<ArgumentException>(() => Pooling.AvgPool2d(new float[16], new float[16], 1, w with { PaddingWidth = 2 }));
        Assert.Throws<ArgumentException>(() => Pooling.GlobalAvgPool(new float[16], new float[3], 4, 4));
        Assert.Throws<ArgumentException>(() => Pooling.MaxPool2d(new float[16], new float[4], [], 1, w with { DilationWidth = 0 }));
        Assert.Throws<ArgumentException>(() => Pooling.AdaptiveAvgPool2d(new float[16], new float[3], 1, new AdaptivePoolWindow(4, 4, 2, 2)));
        Assert.Throws<ArgumentException>(() => Pooling.AdaptiveAvgPool2d(new float[16], new float[4], 1, new AdaptivePoolWindow(4, 4, 0, 2)));
    }

    // ---- a direct reading of PyTorch's definition ----

    /// <summary>The input elements under window (oh, ow): its taps, dilation apart, that fall inside the input.</summary>
    static IEnumerable<int> WindowIndices(PoolWindow w, int oh, int ow)
    {
        for (int i = 0; i < w.KernelHeight; i++)
            for (int j = 0; j < w.KernelWidth; j++)
            {
                int ih = oh * w.StrideHeight - w.PaddingHeight + i * w.DilationHeight, iw = ow * w.StrideWidth - w.PaddingWidth + j * w.DilationWidth;
                if (ih >= 0 && ih < w.Height && iw >= 0 && iw < w.Width) yield return ih * w.Width + iw;
            }
    }

    /// <summary>
    /// What PyTorch divides a window's sum by: with count_include_pad the window's extent cut at
    /// the end of the padded input (ceil mode's last window may reach past it), else the number
    /// of input elements it covers.
    /// </summary>
    static int AverageDivisor(PoolWindow w, int oh, int ow, int covered)
    {
        if (!w.CountIncludePad) return covered;
        int top = oh * w.StrideHeight - w.PaddingHeight, left = ow * w.StrideWidth - w.PaddingWidth;
        int bottom = Math.Min(top + w.KernelHeight, w.Height + w.PaddingHeight), right = Math.Min(left + w.KernelWidth, w.Width + w.PaddingWidth);
        return (bottom - top) * (right - left);
    }

    static (float[] Values, float[] Indices) ReferenceMax(float[] x, int planes, PoolWindow w)
    {
        var values = new float[planes * w.OutputPlane];
        var indices = new float[values.Length];
        for (int p = 0; p < planes; p++)
            for (int oh = 0; oh < w.OutputHeight; oh++)
                for (int ow = 0; ow < w.OutputWidth; ow++)
                {
                    int o = p * w.OutputPlane + oh * w.OutputWidth + ow;
                    var window = WindowIndices(w, oh, ow).ToArray();
                    int best = window[0];
                    foreach (int i in window) if (x[p * w.InputPlane + i] > x[p * w.InputPlane + best]) best = i;
                    values[o] = x[p * w.InputPlane + best];
                    indices[o] = best;
                }
        return (values, indices);
    }

    /// <summary>Random values; with <paramref name="ties"/>, drawn from a few integers so windows hold equal maxima.</summary>
    static float[] Values(int count, ulong seed, bool ties)
    {
        var values = new float[count];
        new Rng(seed).FillUniform(values, -3f, 3f);
        if (ties) for (int i = 0; i < count; i++) values[i] = MathF.Round(values[i]);
        return values;
    }
}
