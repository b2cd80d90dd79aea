using Sinapse.Init;
using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

/// <summary>The course's worked examples, through the layers as a user would build them.</summary>
public class ConvolutionTests
{
    private static readonly float[,] X = { { 1, 3, 6, 4 }, { 2, 2, 0, 4 }, { 5, 0, 1, 4 }, { 4, 4, 1, 3 } };

    private static Conv2d CourseFilter(Padding padding)
    {
        var conv = new Conv2d(1, 1, 2, padding: padding, useBias: false);
        conv.Weight.Span.Clear();
        new float[] { -1, 1, -1, 1 }.CopyTo(conv.Weight.Span);
        return conv;
    }

    private static float[,] Run(Module layer, float[,] image)
    {
        var input = Tensor.FromArray(image).ReshapedTo(1, 1, image.GetLength(0), image.GetLength(1));
        var output = layer.Call(input);
        int height = output.Shape[2], width = output.Shape[3];
        var result = new float[height, width];
        for (int i = 0; i < height; i++)
            for (int j = 0; j < width; j++) result[i, j] = output[0, 0, i, j];
        return result;
    }

    [Fact]
    public void ValidCrossCorrelationOfTheCourseMatrix()
    {
        // By hand: out[i, j] = −X[i, j] + X[i, j+1] − X[i+1, j] + X[i+1, j+1].
        float[,] expected = { { 2, 1, 2 }, { -5, -1, 7 }, { -5, -2, 5 } };
        Assert.Equal(expected, Run(CourseFilter(0), X));
    }

    [Fact]
    public void PaddedCrossCorrelationOfTheCourseMatrixIsFiveByFive()
    {
        // The 6×6 zero-padded X with the same filter.
        float[,] expected =
        {
            { 1, 2, 3, -2, -4 }, { 3, 2, 1, 2, -8 }, { 7, -5, -1, 7, -8 }, { 9, -5, -2, 5, -7 }, { 4, 0, -3, 2, -3 },
        };
        Assert.Equal(expected, Run(CourseFilter(1), X));
    }

    [Fact]
    public void AOneDimensionalConvolutionIsAMovingAverage()
    {
        var conv = new Conv1d(1, 1, 4, useBias: false, weightInit: Initializer.Constant(0.25f));
        var series = Tensor.FromArray([100f, 120, 115, 200, 135, 130, 140], 1, 1, 7);
        Assert.Equal([133.75f, 142.5f, 145f, 151.25f], conv.Call(series).ToArray());
    }

    [Theory]
    [InlineData(28, 3, 1, 1, 28)]   // the course CNN's first layer keeps 28×28
    [InlineData(14, 3, 0, 1, 12)]
    [InlineData(6, 3, 0, 1, 4)]
    [InlineData(7, 3, 0, 2, 3)]     // ⌊(7 − 3 + 0)/2⌋ + 1
    [InlineData(8, 3, 1, 2, 4)]     // ⌊(8 − 3 + 2)/2⌋ + 1: the lecture's (w − f + 2b)/p alone would say 3.5
    [InlineData(224, 7, 3, 2, 112)]
    public void OutputSizeIsFloorOfWMinusFPlusTwoBOverPPlusOne(int w, int f, int b, int p, int expected)
    {
        var conv = new Conv2d(1, 1, f, stride: p, padding: b);
        Assert.Equal(new Shape(2, 1, expected, expected), conv.OutputShape(new Shape(2, 1, w, w)));
        Assert.Equal(new Shape(2, 1, expected, expected), conv.Call(Tensor.Zeros(2, 1, w, w)).Shape);
    }

    [Fact]
    public void SamePaddingKeepsTheSizeAlsoForEvenKernels()
    {
        Assert.Equal(new Shape(1, 2, 9, 9), new Conv2d(3, 2, 3, padding: Padding.Same).Call(Tensor.Zeros(1, 3, 9, 9)).Shape);
        Assert.Equal(new Shape(1, 2, 9, 9), new Conv2d(3, 2, 4, padding: Padding.Same).Call(Tensor.Zeros(1, 3, 9, 9)).Shape);
        Assert.Equal(new Shape(1, 2, 9), new Conv1d(3, 2, 2, padding: Padding.Same, dilation: 3).Call(Tensor.Zeros(1, 3, 9)).Shape);
        Assert.Throws<ArgumentException>(() => new Conv2d(3, 2, 3, stride: 2, padding: Padding.Same));
    }

    [Theory]
    [InlineData(224, 3, 2, 0, 1)]   // TensorFlow pads a stride-2 3×3 on an even input 0 before, 1 after
    [InlineData(7, 3, 2, 1, 1)]     // … and on an odd one 1 and 1
    [InlineData(112, 3, 1, 1, 1)]
    [InlineData(10, 5, 2, 1, 2)]
    [InlineData(9, 1, 2, 0, 0)]
    public void TensorFlowSamePaddingDependsOnTheInputSize(int size, int kernel, int stride, int before, int after)
    {
        var conv = new Conv2d(2, 3, kernel, stride, Padding.TensorFlowSame);
        Assert.Equal((before, after), conv.PaddingFor(size));
        int expected = (size + stride - 1) / stride;
        Assert.Equal(new Shape(1, 3, expected, expected), conv.OutputShape(new Shape(1, 2, size, size)));
        // The same numbers as the functional op with that padding written out.
        var x = Expect.Random([1, 2, size, size], seed: 31);
        var reference = F.Conv2d(x, conv.Weight, conv.Bias, new ConvGeometry2d(stride, stride, before, before, after, after, 1, 1));
        Assert.Equal(reference.ToArray(), conv.Call(x).ToArray());
    }

    [Fact]
    public void TensorFlowSamePaddingGradient()
    {
        var conv = new Conv2d(2, 3, 3, 2, Padding.TensorFlowSame, rng: new Rng(3));
        Expect.GradientsMatch(x => conv.Call(x[0]), Expect.Random([2, 2, 6, 5], seed: 32));
        Expect.GradientsMatch(_ => conv.Call(Expect.Random([2, 2, 6, 5], seed: 32)), conv.Weight, conv.Bias!);
        var conv1d = new Conv1d(2, 2, 3, 2, Padding.TensorFlowSame, rng: new Rng(4));
        Assert.Equal(new Shape(1, 2, 4), conv1d.Call(Tensor.Zeros(1, 2, 8)).Shape);
        Assert.Equal("Conv2d(2 -> 3, k=3, stride 2, pad tf_same)", conv.Describe());
    }

    [Fact]
    public void ParameterCountsFollowTheFormula()
    {
        // C_out·(C_in/groups)·k·k weights + C_out biases
        Assert.Equal(32 * 1 * 9 + 32, new Conv2d(1, 32, 3).ParameterCount());
        Assert.Equal(32 * 3 * 9 + 32, new Conv2d(3, 32, 3).ParameterCount());
        Assert.Equal(16 * 1 * 9 + 16, new Conv2d(16, 16, 3, groups: 16).ParameterCount());
        Assert.Equal(72 * 16, new Conv2d(16, 72, 1, useBias: false).ParameterCount());
        Assert.Equal(8 * 2 * 5 + 8, new Conv1d(4, 8, 5, groups: 2).ParameterCount());
    }

    [Fact]
    public void BadConfigurationsFailWithClearMessages()
    {
        Assert.Contains("stride", Assert.Throws<ArgumentException>(() => new Conv2d(1, 1, 3, stride: 0)).Message);
        Assert.Contains("groups = 3", Assert.Throws<ArgumentException>(() => new Conv2d(4, 6, 3, groups: 3)).Message);
        var tooSmall = Assert.Throws<ArgumentException>(() => new Conv2d(1, 1, 5).OutputShape(new Shape(1, 1, 3, 3)));
        Assert.Contains("[1, 1, 3, 3]", tooSmall.Message);
        var channels = Assert.Throws<ArgumentException>(() => new Conv2d(3, 8, 3).OutputShape(new Shape(1, 1, 28, 28)));
        Assert.Contains("Conv2d(3 -> 8", channels.Message);
        Assert.Contains("[1, 1, 28, 28]", channels.Message);
    }
}
