using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class PoolingTests
{
    // The course's worked example.
    static Tensor CourseX() => Tensor.FromArray([1, 3, 6, 4, 2, 2, 0, 4, 5, 0, 1, 4, 4, 4, 1, 3], 1, 1, 4, 4);

    [Fact]
    public void CourseExampleMaxPooling2x2Stride1()
    {
        var y = F.MaxPool2d(CourseX(), 2, stride: 1);
        Assert.Equal(new Shape(1, 1, 3, 3), y.Shape);
        Assert.Equal([3, 6, 6, 5, 2, 4, 5, 4, 4], y.ToArray());
    }

    [Fact]
    public void CourseExampleAveragePooling2x2Stride1()
    {
        var y = F.AvgPool2d(CourseX(), 2, stride: 1);
        Assert.Equal(new Shape(1, 1, 3, 3), y.Shape);
        // The course lists 2 at row 2, column 1, an arithmetic slip in the course material: that
        // window is [[0, 1], [4, 1]], whose average is 6/4 = 1.5 (PyTorch agrees). The other
        // eight values are the course's.
        Assert.Equal([2, 2.75f, 3.5f, 2.25f, 0.75f, 2.25f, 3.25f, 1.5f, 2.25f], y.ToArray());
    }

    [Fact]
    public void StrideDefaultsToTheKernel()
    {
        Assert.Equal([3, 6, 5, 4], F.MaxPool2d(CourseX(), 2).ToArray());
        Assert.Equal([2, 3.5f, 3.25f, 2.25f], F.AvgPool2d(CourseX(), 2).ToArray());
    }

    [Fact]
    public void OneDimensionalPoolingIsTwoDimensionalPoolingOfHeightOne()
    {
        var x = Distinct([2, 3, 11], 3);
        var as2d = Tensor.FromArray(x.ToArray(), 2, 3, 1, 11);
        var max = F.MaxPool1d(x, 3, 2, 1);
        Assert.Equal(new Shape(2, 3, 6), max.Shape);
        Assert.Equal(F.MaxPool2d(as2d, (1, 3), (1, 2), (0, 1)).ToArray(), max.ToArray());
        var average = F.AvgPool1d(x, 4, 3, 2);
        Assert.Equal(new Shape(2, 3, 4), average.Shape);
        Assert.Equal(F.AvgPool2d(as2d, (1, 4), (1, 3), (0, 2)).ToArray(), average.ToArray());
    }

    [Fact]
    public void GlobalAveragePoolingIsThePlaneMean()
    {
        var x = Expect.Random(2, 3, 5, 7);
        var y = F.GlobalAvgPool2d(x);
        Assert.Equal(new Shape(2, 3, 1, 1), y.Shape);
        for (int p = 0; p < 6; p++) Assert.Equal(x.ToArray().Skip(p * 35).Take(35).Average(), y.Span[p], 1e-5f);
        Assert.Equal(y.ToArray(), F.AdaptiveAvgPool2d(x, 1).ToArray());
    }

    [Fact]
    public void AdaptiveAveragePoolingWhoseWindowsDivideEvenlyIsAveragePooling()
    {
        var x = Expect.Random(2, 3, 6, 8);
        Expect.Close(F.AvgPool2d(x, (3, 2)).ToArray(), F.AdaptiveAvgPool2d(x, (2, 4)).Span, 1e-6, "6x8 → 2x4");
        Assert.Equal(new Shape(2, 3, 5, 5), F.AdaptiveAvgPool2d(x, 5).Shape);
        var error = Assert.Throws<ArgumentException>(() => F.AdaptiveAvgPool2d(x, (0, 2)));
        Assert.Contains("AdaptiveAvgPool2d", error.Message);
        Assert.Contains("at least 1x1", error.Message);
        Assert.Contains("[N, C, H, W]", Assert.Throws<ArgumentException>(() => F.AdaptiveAvgPool2d(Tensor.Zeros(3, 8, 8), 2)).Message);
    }

    [Fact]
    public void CeilModeAddsThePartialLastWindow()
    {
        // 1-D, 5 values, window 2 stride 2: floor mode drops the 5th value, ceil mode pools it alone.
        var x = Tensor.FromArray([1f, 2, 3, 4, 5], [1, 1, 5]);
        Assert.Equal([1.5f, 3.5f], F.AvgPool1d(x, 2).ToArray());
        Assert.Equal([1.5f, 3.5f, 5f], F.AvgPool1d(x, 2, ceilMode: true).ToArray());
        Assert.Equal([2f, 4f, 5f], F.MaxPool1d(x, 2, ceilMode: true).ToArray());
        // With padding 1 and count_include_pad, the first window [pad, 1] averages over 2; without, over 1.
        Assert.Equal([0.5f, 2.5f, 4.5f], F.AvgPool1d(x, 2, 2, 1).ToArray());
        Assert.Equal([1f, 2.5f, 4.5f], F.AvgPool1d(x, 2, 2, 1, countIncludePad: false).ToArray());
    }

    [Fact]
    public void DilatedMaxPoolingSkipsBetweenTaps()
    {
        var x = Tensor.FromArray([5f, 9, 1, 2, 7, 0], [1, 1, 6]);
        // Taps 0, 2, 4 and 1, 3, 5: max(5, 1, 7), max(9, 2, 0).
        Assert.Equal([7f, 9f], F.MaxPool1d(x, 3, stride: 1, dilation: 2).ToArray());
    }

    // ---- gradients against finite differences (distinct values 0.1 apart, so no window holds a
    // near-tie that a ±0.01 step could flip) ----

    public static TheoryData<int, int, int, int, int, int, int, int> Cases2d => new()
    {
        // height, width, kernel h/w, stride h/w, padding h/w
        { 4, 4, 2, 2, 1, 1, 0, 0 },
        { 6, 6, 2, 2, 2, 2, 0, 0 },
        { 7, 5, 2, 2, 2, 2, 0, 0 },
        { 7, 5, 3, 3, 2, 2, 1, 1 },
        { 5, 6, 3, 2, 1, 2, 1, 1 },
        { 6, 7, 4, 3, 3, 1, 2, 0 },
        { 3, 3, 3, 3, 1, 1, 1, 1 },
        { 5, 5, 5, 5, 1, 1, 0, 0 },
    };

    [Theory]
    [MemberData(nameof(Cases2d))]
    public void MaxPool2dGradient(int height, int width, int kh, int kw, int sh, int sw, int ph, int pw) =>
        Expect.GradientsMatch(x => F.MaxPool2d(x[0], (kh, kw), (sh, sw), (ph, pw)), Distinct([2, 2, height, width], 7));

    [Theory]
    [MemberData(nameof(Cases2d))]
    public void AvgPool2dGradient(int height, int width, int kh, int kw, int sh, int sw, int ph, int pw) =>
        Expect.GradientsMatch(x => F.AvgPool2d(x[0], (kh, kw), (sh, sw), (ph, pw)), Expect.Random(2, 2, height, width));

    [Theory]
    [InlineData(9, 2, 2, 0)]
    [InlineData(9, 3, 2, 1)]
    [InlineData(8, 4, 1, 2)]
    [InlineData(5, 5, 3, 0)]
    public void OneDimensionalGradients(int length, int kernel, int stride, int padding)
    {
        Expect.GradientsMatch(x => F.MaxPool1d(x[0], kernel, stride, padding), Distinct([2, 3, length], 9));
        Expect.GradientsMatch(x => F.AvgPool1d(x[0], kernel, stride, padding), Expect.Random(2, 3, length));
    }

    public static TheoryData<string> OptionCases => ["ceil", "ceil padded", "dilated", "dilated ceil", "no count_include_pad", "ceil no count_include_pad"];

    /// <summary>Each pooling option, 2-D with separate height and width settings and 1-D, through finite differences.</summary>
    [Theory]
    [MemberData(nameof(OptionCases))]
    public void OptionGradients(string option)
    {
        var x2 = Distinct([2, 2, 7, 8], 13);
        var x1 = Distinct([2, 3, 9], 17);
        switch (option)
        {
            case "ceil":
                Expect.GradientsMatch(x => F.MaxPool2d(x[0], (3, 2), (2, 2), ceilMode: true), x2);
                Expect.GradientsMatch(x => F.AvgPool2d(x[0], (3, 2), (2, 2), ceilMode: true), x2);
                Expect.GradientsMatch(x => F.MaxPool1d(x[0], 2, ceilMode: true), x1);
                Expect.GradientsMatch(x => F.AvgPool1d(x[0], 2, ceilMode: true), x1);
                break;
            case "ceil padded":
                Expect.GradientsMatch(x => F.MaxPool2d(x[0], (3, 3), (2, 3), (1, 1), ceilMode: true), x2);
                Expect.GradientsMatch(x => F.AvgPool2d(x[0], (3, 3), (2, 3), (1, 1), ceilMode: true), x2);
                Expect.GradientsMatch(x => F.AvgPool1d(x[0], 4, 3, 2, ceilMode: true), x1);
                break;
            case "dilated":
                Expect.GradientsMatch(x => F.MaxPool2d(x[0], (2, 3), (1, 2), (1, 1), (3, 2)), x2);
                Expect.GradientsMatch(x => F.MaxPool1d(x[0], 3, 1, 1, dilation: 3), x1);
                break;
            case "dilated ceil":
                Expect.GradientsMatch(x => F.MaxPool2d(x[0], 3, 2, 1, dilation: 2, ceilMode: true), x2);
                Expect.GradientsMatch(x => F.MaxPool1d(x[0], 2, 3, 0, dilation: 2, ceilMode: true), x1);
                break;
            case "no count_include_pad":
                Expect.GradientsMatch(x => F.AvgPool2d(x[0], (3, 2), (2, 1), (1, 1), countIncludePad: false), x2);
                Expect.GradientsMatch(x => F.AvgPool1d(x[0], 3, 2, 1, countIncludePad: false), x1);
                break;
            case "ceil no count_include_pad":
                Expect.GradientsMatch(x => F.AvgPool2d(x[0], 3, 2, 1, ceilMode: true, countIncludePad: false), x2);
                Expect.GradientsMatch(x => F.AvgPool1d(x[0], 2, 2, 1, ceilMode: true, countIncludePad: false), x1);
                break;
        }
    }

    [Theory]
    [InlineData(7, 5, 3, 2)]
    [InlineData(4, 6, 4, 4)]
    [InlineData(3, 2, 5, 3)]
    public void AdaptiveAveragePoolingGradient(int height, int width, int outputHeight, int outputWidth) =>
        Expect.GradientsMatch(x => F.AdaptiveAvgPool2d(x[0], (outputHeight, outputWidth)), Expect.Random(2, 2, height, width));

    [Fact]
    public void GlobalAveragePoolingGradient()
    {
        Expect.GradientsMatch(x => F.GlobalAvgPool2d(x[0]), Expect.Random(2, 3, 5, 3));
        Expect.GradientsMatch(x => F.AdaptiveAvgPool2d(x[0], 1), Expect.Random(1, 2, 1, 1));
    }

    [Fact]
    public void GradientsAccumulateWhenTheInputIsPooledTwice() =>
        Expect.GradientsMatch(x => F.Add(F.Add(F.MaxPool2d(x[0], 2), F.AvgPool2d(x[0], 2)), F.Multiply(F.MaxPool2d(x[0], 2), 0.5f)),
            Distinct([2, 2, 6, 4], 11));

    [Fact]
    public void WithoutGradientsNothingIsRecorded()
    {
        var x = Distinct([1, 2, 4, 4], 1);
        var y = F.MaxPool2d(x, 2);
        Assert.False(y.RequiresGrad);
        Assert.True(y.IsLeaf);
    }

    // ---- errors: named op, input shape, what was needed; thrown before any kernel runs ----

    [Fact]
    public void StrideZeroIsAClearError()
    {
        var error = Assert.Throws<ArgumentException>(() => F.MaxPool2d(CourseX(), 2, stride: 0));
        Assert.Contains("MaxPool2d", error.Message);
        Assert.Contains("stride", error.Message);
        Assert.Contains("at least 1", error.Message);
        Assert.Throws<ArgumentException>(() => F.AvgPool1d(Tensor.Zeros(1, 1, 5), 2, stride: 0));
    }

    [Fact]
    public void AKernelLargerThanThePaddedInputIsAClearError()
    {
        var error = Assert.Throws<ArgumentException>(() => F.AvgPool2d(Tensor.Zeros(2, 3, 3, 8), 4));
        Assert.Contains("AvgPool2d", error.Message);
        Assert.Contains("[2, 3, 3, 8]", error.Message);
        Assert.Contains("height", error.Message);
        Assert.Contains("at least 4", error.Message);
        // Padding 2 makes room for a 5-wide window on a 3-wide input; padding 1 not for a 6-wide one.
        Assert.Equal(new Shape(1, 1, 3), F.MaxPool1d(Tensor.Zeros(1, 1, 3), 5, 1, 2).Shape);
        error = Assert.Throws<ArgumentException>(() => F.MaxPool1d(Tensor.Zeros(1, 1, 3), 6, 1, 1));
        Assert.Contains("MaxPool1d", error.Message);
        Assert.Contains("[1, 1, 3]", error.Message);
        Assert.Contains("at least 4", error.Message);
    }

    [Fact]
    public void PaddingMoreThanHalfTheKernelIsAClearError()
    {
        var error = Assert.Throws<ArgumentException>(() => F.MaxPool2d(Tensor.Zeros(1, 1, 8, 8), 2, 1, padding: 2));
        Assert.Contains("MaxPool2d", error.Message);
        Assert.Contains("at most half", error.Message);
        Assert.Throws<ArgumentException>(() => F.AvgPool2d(Tensor.Zeros(1, 1, 8, 8), (3, 3), (1, 1), (1, 2)));
        Assert.Throws<ArgumentException>(() => F.MaxPool1d(Tensor.Zeros(1, 1, 8), 1, 1, 1));
        Assert.Throws<ArgumentException>(() => F.MaxPool2d(Tensor.Zeros(1, 1, 8, 8), 2, 1, padding: -1));
    }

    [Fact]
    public void DilationBelowOneAndWindowsSpanningPastTheInputAreClearErrors()
    {
        Assert.Contains("dilation", Assert.Throws<ArgumentException>(() => F.MaxPool2d(Tensor.Zeros(1, 1, 8, 8), 2, dilation: 0)).Message);
        var error = Assert.Throws<ArgumentException>(() => F.MaxPool1d(Tensor.Zeros(1, 1, 6), 3, dilation: 3));
        Assert.Contains("span 7", error.Message);
        Assert.Contains("at least 7", error.Message);
    }

    [Fact]
    public void WrongRanksAndKernelsAreClearErrors()
    {
        var error = Assert.Throws<ArgumentException>(() => F.MaxPool2d(Tensor.Zeros(3, 8, 8), 2));
        Assert.Contains("[N, C, H, W]", error.Message);
        Assert.Contains("[3, 8, 8]", error.Message);
        Assert.Contains("[N, C, L]", Assert.Throws<ArgumentException>(() => F.AvgPool1d(Tensor.Zeros(1, 1, 8, 8), 2)).Message);
        Assert.Contains("[N, C, H, W]", Assert.Throws<ArgumentException>(() => F.GlobalAvgPool2d(Tensor.Zeros(2, 8))).Message);
        Assert.Contains("kernel", Assert.Throws<ArgumentException>(() => F.MaxPool2d(Tensor.Zeros(1, 1, 8, 8), 0)).Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => F.MaxPool2d(Tensor.Zeros(1, 1, 0, 8), 2, 1, 1)).Message);
    }

    /// <summary>A random permutation of values 0.1 apart, shaped as given.</summary>
    internal static Tensor Distinct(int[] shape, ulong seed)
    {
        var t = Tensor.Empty(new Shape(shape));
        var values = t.Span;
        for (int i = 0; i < values.Length; i++) values[i] = 0.1f * (i - values.Length / 2);
        new Rng(seed).Shuffle(values);
        return t;
    }
}
