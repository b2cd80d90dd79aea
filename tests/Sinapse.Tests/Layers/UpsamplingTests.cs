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
        Assert.Equal(layer.OutputShape(new Shape(2, 32, 7, 7)), layer.Forward(Tensor.Zeros(2, 32, 7, 7)).Shape);
        Assert.Equal("ConvTranspose2d(32 -> 16, k=2, stride 2)", layer.Describe());
        Assert.Equal(new Shape(1, 4, 8, 10), new ConvTranspose2d(3, 4, 3, stride: 2, padding: 1, outputPadding: 1).OutputShape(new Shape(1, 3, 4, 5)));
        Assert.Contains("input channels = 32", Assert.Throws<ArgumentException>(() => layer.OutputShape(new Shape(1, 3, 7, 7))).Message);
    }

    [Fact]
    public void UpsampleAndUnflatten()
    {
        var up = new Upsample(2);
        Assert.Equal(new Shape(1, 1, 4, 4), up.OutputShape(new Shape(1, 1, 2, 2)));
        Assert.Equal([1f, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], up.Forward(Tensor.FromArray([1f, 2, 3, 4], 1, 1, 2, 2)).ToArray());
        Assert.Equal("Upsample(x2, nearest)", up.Describe());
        var unflatten = new Unflatten(2, 3, 4);
        Assert.Equal(new Shape(5, 2, 3, 4), unflatten.OutputShape(new Shape(5, 24)));
        Assert.Contains("expects [batch, 24]", Assert.Throws<ArgumentException>(() => unflatten.OutputShape(new Shape(5, 25))).Message);
    }
}
