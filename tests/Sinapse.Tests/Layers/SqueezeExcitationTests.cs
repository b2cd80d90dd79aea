using Sinapse.Layers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class SqueezeExcitationTests
{
    static SqueezeExcitation Block(ulong seed)
    {
        var block = new SqueezeExcitation(4, 3, new ConvNormOptions(Rng: new Rng(seed)));
        // Biases away from zero so that the ReLU and the hard-sigmoid see inputs on both sides.
        Tensor.Uniform(new Shape(3), -0.5f, 0.5f, new Rng(seed + 1)).Span.CopyTo(block.Reduce.Bias!.Span);
        Tensor.Uniform(new Shape(4), -1f, 1f, new Rng(seed + 2)).Span.CopyTo(block.Expand.Bias!.Span);
        return block;
    }

    [Fact]
    public void GatesEachChannelByAHardSigmoidOfItsSqueezedMean()
    {
        var block = Block(1);
        var x = Expect.Random([2, 4, 3, 3], seed: 2);
        var y = block.Call(x);
        var w1 = block.Reduce.Weight.Span; var b1 = block.Reduce.Bias!.Span;
        var w2 = block.Expand.Weight.Span; var b2 = block.Expand.Bias!.Span;
        for (int n = 0; n < 2; n++)
        {
            var mean = new double[4];
            for (int c = 0; c < 4; c++)
                for (int i = 0; i < 9; i++) mean[c] += x.Span[(n * 4 + c) * 9 + i] / 9.0;
            var hidden = new double[3];
            for (int j = 0; j < 3; j++)
            {
                double sum = b1[j];
                for (int c = 0; c < 4; c++) sum += w1[j * 4 + c] * mean[c];
                hidden[j] = Math.Max(sum, 0);
            }
            for (int c = 0; c < 4; c++)
            {
                double sum = b2[c];
                for (int j = 0; j < 3; j++) sum += w2[c * 3 + j] * hidden[j];
                double gate = Math.Clamp(sum + 3, 0, 6) / 6;
                for (int i = 0; i < 9; i++)
                    Assert.Equal(gate * x.Span[(n * 4 + c) * 9 + i], y.Span[(n * 4 + c) * 9 + i], 5);
            }
        }
    }

    [Fact]
    public void NamesItsParametersAsTorchvision()
    {
        Assert.Equal(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], Block(1).NamedParameters().Select(p => p.Name));
        Assert.Equal(4 * 3 + 3 + 3 * 4 + 4, Block(1).ParameterCount());
        Assert.Equal("SqueezeExcitation(4 -> 3 -> 4)", Block(1).Describe());
    }

    [Fact]
    public void GradientsReachTheInputAndEveryParameter()
    {
        var block = Block(3);
        Expect.GradientsMatch(x => block.Call(x[0]), Expect.Random([2, 4, 3, 3], seed: 4));
        Expect.GradientsMatch(_ => block.Call(Expect.Random([2, 4, 3, 3], seed: 4)), block.Parameters().ToArray());
    }

    [Fact]
    public void RejectsTheWrongChannelCount()
    {
        var error = Assert.Throws<ArgumentException>(() => Block(1).OutputShape(new Shape(1, 5, 3, 3)));
        Assert.Contains("[1, 5, 3, 3]", error.Message);
    }
}
