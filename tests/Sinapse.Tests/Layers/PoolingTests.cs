using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class PoolingTests
{
    [Fact]
    public void TheCourseCnnPoolingShapes()
    {
        var pool = new MaxPool2d(2, 2);
        Assert.Equal(new Shape(64, 32, 14, 14), pool.OutputShape(new Shape(64, 32, 28, 28)));
        Assert.Equal(new Shape(64, 64, 6, 6), pool.OutputShape(new Shape(64, 64, 12, 12)));
        Assert.Equal(new Shape(64, 64, 5, 5), pool.OutputShape(new Shape(64, 64, 11, 11)));
    }

    [Fact]
    public void OutputShapeAgreesWithForward()
    {
        var x2 = Expect.Random(2, 3, 7, 9);
        var x1 = Expect.Random(2, 3, 10);
        Module[] layers2d = [new MaxPool2d(2), new MaxPool2d(3, 2, 1), new AvgPool2d(2, 1), new AvgPool2d((3, 2), (2, 1), (1, 0)), new MaxPool2d((1, 4), (1, 2)), new GlobalAvgPool2d()];
        foreach (var layer in layers2d) Assert.Equal(layer.OutputShape(x2.Shape), layer.Call(x2).Shape);
        Module[] options2d = [new MaxPool2d(2, ceilMode: true), new MaxPool2d(3, 2, 1, dilation: 2, ceilMode: true), new AvgPool2d((3, 2), (2, 2), (1, 1), ceilMode: true, countIncludePad: false),
            new AdaptiveAvgPool2d((3, 4)), new AdaptiveAvgPool2d(1)];
        foreach (var layer in options2d) Assert.Equal(layer.OutputShape(x2.Shape), layer.Call(x2).Shape);
        Assert.Equal(new Shape(2, 3, 4, 5), new MaxPool2d(2, ceilMode: true).OutputShape(x2.Shape));
        Module[] layers1d = [new MaxPool1d(2), new MaxPool1d(3, 1, 1), new AvgPool1d(4, 3, 2), new AvgPool1d(3), new MaxPool1d(3, 2, 1, dilation: 2, ceilMode: true),
            new AvgPool1d(3, 2, 1, ceilMode: true, countIncludePad: false)];
        foreach (var layer in layers1d) Assert.Equal(layer.OutputShape(x1.Shape), layer.Call(x1).Shape);
    }

    [Fact]
    public void ForwardIsTheFunctionalOp()
    {
        var x = Expect.Random(2, 2, 6, 5);
        Assert.Equal(F.MaxPool2d(x, 3, 2, 1).ToArray(), new MaxPool2d(3, 2, 1).Call(x).ToArray());
        Assert.Equal(F.AvgPool2d(x, 2).ToArray(), new AvgPool2d(2).Call(x).ToArray());
        Assert.Equal(F.GlobalAvgPool2d(x).ToArray(), new GlobalAvgPool2d().Call(x).ToArray());
        var x1 = Expect.Random(2, 2, 9);
        Assert.Equal(F.MaxPool1d(x1, 3, 2).ToArray(), new MaxPool1d(3, 2).Call(x1).ToArray());
        Assert.Equal(F.AvgPool1d(x1, 3, 1, 1).ToArray(), new AvgPool1d(3, 1, 1).Call(x1).ToArray());
    }

    [Fact]
    public void PoolingLayersHaveNoParameters()
    {
        Module[] layers = [new MaxPool2d(2), new AvgPool2d(2), new MaxPool1d(2), new AvgPool1d(2), new GlobalAvgPool2d(), new AdaptiveAvgPool2d(3)];
        foreach (var layer in layers) Assert.Equal(0, layer.ParameterCount());
    }

    [Fact]
    public void Descriptions()
    {
        Assert.Equal("MaxPool2d(2, stride 2)", new MaxPool2d(2).Describe());
        Assert.Equal("MaxPool2d(2, stride 2)", new MaxPool2d(2, 2).Describe());
        Assert.Equal("AvgPool2d(3, stride 1, padding 1)", new AvgPool2d(3, 1, 1).Describe());
        Assert.Equal("MaxPool2d(2x3, stride 1x2)", new MaxPool2d((2, 3), (1, 2)).Describe());
        Assert.Equal("MaxPool1d(4, stride 2, padding 1)", new MaxPool1d(4, 2, 1).Describe());
        Assert.Equal("AvgPool1d(3, stride 3)", new AvgPool1d(3).Describe());
        Assert.Equal("GlobalAvgPool2d", new GlobalAvgPool2d().Describe());
        Assert.Equal("MaxPool2d(3, stride 2, ceil mode)", new MaxPool2d(3, 2, ceilMode: true).Describe());
        Assert.Equal("MaxPool1d(3, stride 1, padding 1, dilation 2)", new MaxPool1d(3, 1, 1, dilation: 2).Describe());
        Assert.Equal("AvgPool2d(3, stride 2, padding 1, ceil mode, padding not counted)", new AvgPool2d(3, 2, 1, ceilMode: true, countIncludePad: false).Describe());
        Assert.Equal("AdaptiveAvgPool2d(7)", new AdaptiveAvgPool2d(7).Describe());
        Assert.Equal("AdaptiveAvgPool2d(2x3)", new AdaptiveAvgPool2d((2, 3)).Describe());
    }

    [Fact]
    public void WindowsForTheReceptiveField()
    {
        Assert.Equal<(int, int, int)?>((2, 2, 1), new MaxPool2d(2).Window);
        Assert.Equal<(int, int, int)?>((3, 1, 1), new AvgPool2d(3, 1, 1).Window);
        Assert.Equal<(int, int, int)?>((4, 2, 1), new MaxPool1d(4, 2).Window);
        Assert.Equal<(int, int, int)?>((5, 5, 1), new AvgPool1d(5).Window);
        Assert.Null(new GlobalAvgPool2d().Window);
        Assert.Null(new AdaptiveAvgPool2d(2).Window);
        Assert.Equal<(int, int, int)?>((3, 2, 2), new MaxPool2d(3, 2, dilation: 2).Window);
    }

    [Fact]
    public void ConstructorsRejectWhatNoInputCanFix()
    {
        Assert.Contains("stride", Assert.Throws<ArgumentException>(() => new MaxPool2d(2, 0)).Message);
        Assert.Contains("kernel", Assert.Throws<ArgumentException>(() => new AvgPool1d(0)).Message);
        Assert.Contains("at most half", Assert.Throws<ArgumentException>(() => new AvgPool2d(2, 1, 2)).Message);
        Assert.Throws<ArgumentException>(() => new MaxPool1d(3, 1, 2));
        Assert.Throws<ArgumentException>(() => new MaxPool2d((2, 2), (1, 1), (0, -1)));
        Assert.Contains("dilation", Assert.Throws<ArgumentException>(() => new MaxPool1d(2, dilation: 0)).Message);
        Assert.Contains("output size", Assert.Throws<ArgumentException>(() => new AdaptiveAvgPool2d((2, 0))).Message);
    }

    [Fact]
    public void OutputShapeThrowsTheSameClearErrorsAsForward()
    {
        var layer = new MaxPool2d(4);
        var small = new Shape(2, 3, 3, 8);
        var error = Assert.Throws<ArgumentException>(() => layer.OutputShape(small));
        Assert.Contains("MaxPool2d(4, stride 4)", error.Message);
        Assert.Contains("[2, 3, 3, 8]", error.Message);
        Assert.Contains("at least 4", error.Message);
        Assert.Contains("at least 4", Assert.Throws<ArgumentException>(() => layer.Call(Tensor.Zeros(2, 3, 3, 8))).Message);
        Assert.Contains("[N, C, H, W]", Assert.Throws<ArgumentException>(() => layer.OutputShape(new Shape(3, 8, 8))).Message);
        Assert.Contains("[N, C, L]", Assert.Throws<ArgumentException>(() => new AvgPool1d(2).OutputShape(new Shape(3, 8, 8, 1))).Message);
        Assert.Contains("[N, C, H, W]", Assert.Throws<ArgumentException>(() => new GlobalAvgPool2d().OutputShape(new Shape(3, 8))).Message);
    }

    [Fact]
    public void GradientFlowsThroughALayer() =>
        Expect.GradientsMatch(x => new MaxPool2d(3, 2, 1).Call(x[0]), Sinapse.Tests.Ops.PoolingTests.Distinct([1, 2, 5, 5], 3));
}
