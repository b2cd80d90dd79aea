using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Tests.Layers;

public class UpsamplingTests
{
    [Fact]
    public void ConvTranspose2dHasPyTorchsShapesAndParameters()
    {
        var layer = new ConvTranspose2d(32, 16, 2, stride: 2, rng: new Rng(1));
        Assert.Equal(new Shape(32, 16, 2, 2), layer.Weight.Shape);
        Assert.Equal(32 * 16 * 4 + 16, layer.ParameterCount());
        Assert.Equal(new Shape(5, 16, 14, 14), layer.OutputShape(new Shape(5, 32, 7, 7)));
        Assert.Equal(layer.OutputShape(new Shape(2, 32, 7, 7)), layer.Call(Tensor.Zeros(2, 32, 7, 7)).Shape);
        Assert.Equal("ConvTranspose2d(32 -> 16, k=2, stride 2)", layer.Describe());
        Assert.Equal(new Shape(1, 4, 8, 10), new ConvTranspose2d(3, 4, 3, stride: 2, padding: 1, outputPadding: 1).OutputShape(new Shape(1, 3, 4, 5)));
        Assert.Contains("input channels = 32", Assert.Throws<ArgumentException>(() => layer.OutputShape(new Shape(1, 3, 7, 7))).Message);
    }

    /// <summary>Output padding at or above the stride (PyTorch allows it below the dilation): the forward gives the shape OutputShape promises.</summary>
    [Fact]
    public void OutputPaddingAtOrAboveTheStrideRunsWithPyTorchsShape()
    {
        var rng = new Rng(2);
        var dilated = new ConvTranspose2d(3, 2, 3, stride: 1, padding: 0, outputPadding: 1, dilation: 2, rng: rng);
        Assert.Equal(new Shape(1, 2, 9, 10), dilated.OutputShape(new Shape(1, 3, 4, 5)));
        Assert.Equal(new Shape(1, 2, 9, 10), dilated.Call(Tensor.Uniform(new Shape(1, 3, 4, 5), -1, 1, rng)).Shape);
        var strided = new ConvTranspose2d(2, 2, 3, stride: 2, padding: 3, outputPadding: 2, dilation: 3, rng: rng);
        Assert.Equal(new Shape(2, 2, 7, 9), strided.OutputShape(new Shape(2, 2, 3, 4)));
        Assert.Equal(new Shape(2, 2, 7, 9), strided.Call(Tensor.Uniform(new Shape(2, 2, 3, 4), -1, 1, rng)).Shape);
    }

    [Fact]
    public void ConvTranspose2dTakesAPairPerAxis()
    {
        var rng = new Rng(3);
        var layer = new ConvTranspose2d(4, 6, (3, 2), stride: (2, 1), padding: (1, 0), outputPadding: (1, 0), dilation: (1, 2), groups: 2, rng: rng);
        Assert.Equal(new Shape(4, 3, 3, 2), layer.Weight.Shape);
        Assert.Equal("ConvTranspose2d(4 -> 6, k=3x2, stride 2x1, pad 1x0, output pad 1x0, dilation 1x2, groups 2)", layer.Describe());
        // Height: (5 − 1)·2 − 2 + 2 + 1 + 1 = 10; width: (4 − 1)·1 − 0 + 2·1 + 0 + 1 = 6.
        var input = Tensor.Uniform(new Shape(2, 4, 5, 4), -1, 1, rng);
        Assert.Equal(new Shape(2, 6, 10, 6), layer.OutputShape(input.Shape));
        var expected = Sinapse.Ops.F.ConvTranspose2d(input, layer.Weight, layer.Bias, (2, 1), (1, 0), (1, 0), (1, 2), 2);
        Assert.Equal(expected.ToArray(), layer.Call(input).ToArray());
        // An int for some, a pair for others, as PyTorch's arguments.
        Assert.Equal(new Shape(1, 2, 5, 7), new ConvTranspose2d(2, 2, 3, stride: 2, padding: (1, 0)).OutputShape(new Shape(1, 2, 3, 3)));
    }

    [Fact]
    public void ConvTranspose2dRefusesWhatPyTorchRefuses()
    {
        string Error(Func<object> make) => Assert.Throws<ArgumentException>(make).Message;
        Assert.Contains("smaller than the stride (2) or the dilation (1)", Error(() => new ConvTranspose2d(2, 2, 3, stride: 2, outputPadding: 2)));
        Assert.Contains("output padding (0x2) must be smaller than the stride (1x2) or the dilation (2x1)",
            Error(() => new ConvTranspose2d(2, 2, (3, 3), stride: (1, 2), outputPadding: (0, 2), dilation: (2, 1))));
        Assert.Contains("takes a number of positions as padding", Error(() => new ConvTranspose2d(2, 2, 3, padding: Padding.Same)));
        Assert.Contains("padding 0x-1", Error(() => new ConvTranspose2d(2, 2, 3, padding: (0, -1))));
        Assert.Contains("kernel size, stride and dilation of at least 1", Error(() => new ConvTranspose2d(2, 2, (3, 0))));
        Assert.Contains("groups = 2", Error(() => new ConvTranspose2d(3, 2, 3, groups: 2)));
        Assert.Contains("empty output", Error(() => new ConvTranspose2d(2, 2, 3, padding: 3).OutputShape(new Shape(1, 2, 4, 5))));
        // Conv2d pads both axes alike: a pair is refused rather than half ignored.
        Assert.Contains("differs between the axes", Error(() => new Conv2d(2, 2, 3, padding: (1, 0))));
    }

    [Fact]
    public void UpsampleAndUnflatten()
    {
        var up = new Upsample(2);
        Assert.Equal(new Shape(1, 1, 4, 4), up.OutputShape(new Shape(1, 1, 2, 2)));
        Assert.Equal([1f, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], up.Call(Tensor.FromArray([1f, 2, 3, 4], 1, 1, 2, 2)).ToArray());
        Assert.Equal("Upsample(x2, nearest)", up.Describe());
        var unflatten = new Unflatten(2, 3, 4);
        Assert.Equal(new Shape(5, 2, 3, 4), unflatten.OutputShape(new Shape(5, 24)));
        Assert.Contains("expects [batch, 24]", Assert.Throws<ArgumentException>(() => unflatten.OutputShape(new Shape(5, 25))).Message);
    }
}
