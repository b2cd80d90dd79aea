using Sinapse.Layers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class InvertedResidualTests
{
    [Theory]
    [InlineData(32 * 0.5, 16)]
    [InlineData(24 * 0.35, 8)]
    [InlineData(16 * 0.75, 16)]     // 12 rounds up to 16
    [InlineData(96 * 0.75, 72)]
    [InlineData(1280 * 1.4, 1792)]
    [InlineData(3, 8)]              // never below the divisor
    [InlineData(36, 40)]            // 32 would be more than 10% below 36
    [InlineData(120 / 4, 32)]
    public void MakeDivisibleRoundsAsTorchvision(double value, int expected) => Assert.Equal(expected, InvertedResidual.MakeDivisible(value));

    [Fact]
    public void MobileNetV2BlockLayoutAndNames()
    {
        var expanding = InvertedResidual.MobileNetV2(8, 8, 1, 6);
        Assert.True(expanding.UsesResidual);
        Assert.Equal(["conv.0.0.weight", "conv.0.1.weight", "conv.0.1.bias", "conv.1.0.weight", "conv.1.1.weight", "conv.1.1.bias", "conv.2.weight", "conv.3.weight", "conv.3.bias"],
            expanding.NamedParameters().Select(p => p.Name));
        // 1×1 8→48, depthwise 3×3 on 48, 1×1 48→8, with γ and β per BN.
        Assert.Equal(8 * 48 + 2 * 48 + 48 * 9 + 2 * 48 + 48 * 8 + 2 * 8, expanding.ParameterCount());
        var first = InvertedResidual.MobileNetV2(16, 24, 2, 1);
        Assert.False(first.UsesResidual);
        Assert.Equal("conv.0.0.weight", first.NamedParameters().First().Name);
        Assert.Equal(new Shape(2, 24, 4, 4), first.OutputShape(new Shape(2, 16, 7, 7)));
    }

    [Fact]
    public void MobileNetV3BlockLayoutAndNames()
    {
        var block = InvertedResidual.MobileNetV3(16, 5, 72, 24, true, "hard_swish", 2);
        Assert.False(block.UsesResidual);
        var names = block.NamedParameters().Select(p => p.Name).ToList();
        Assert.Equal(["block.0.0.weight", "block.0.1.weight", "block.0.1.bias", "block.1.0.weight", "block.1.1.weight", "block.1.1.bias",
            "block.2.fc1.weight", "block.2.fc1.bias", "block.2.fc2.weight", "block.2.fc2.bias", "block.3.0.weight", "block.3.1.weight", "block.3.1.bias"], names);
        Assert.Equal([72, 1, 5, 5], block.Body[1].NamedParameters().First().Tensor.Shape.ToArray());
        Assert.Equal(24, ((SqueezeExcitation)block.Body[2]).SqueezeChannels); // ⌈72/4⌉₈
        Assert.Equal(new Shape(1, 24, 8, 8), block.Call(Tensor.Zeros(1, 16, 15, 15)).Shape);
        Assert.Equal(1e-5f, ((BatchNorm2d)((Sequential)block.Body[0])[1]).Eps); // PyTorch's default unless a model says otherwise
    }

    [Fact]
    public void AddsTheInputWhenStrideOneAndChannelsMatch()
    {
        var block = InvertedResidual.MobileNetV3(8, 3, 16, 8, false, "relu", 1, new ConvNormOptions(Rng: new Rng(1)));
        block.Eval();
        var x = Expect.Random([1, 8, 4, 4], seed: 2);
        var body = block.Body.Call(x).ToArray();
        var y = block.Call(x).ToArray();
        for (int i = 0; i < y.Length; i++) Assert.Equal(x.Span[i] + body[i], y[i], 5);
    }

    // Finite differences straddling a kink (ReLU at 0) disagree with the one-sided derivative, so
    // the gradient checks use a smooth activation and keep SE's ReLU on its linear side: they check
    // the block's wiring; each activation's own gradient is checked in its own tests.
    static InvertedResidual Smooth(InvertedResidual block)
    {
        foreach (var (_, module) in block.NamedModules())
            if (module is SqueezeExcitation se) se.Reduce.Bias!.Span.Fill(1f);
        return block;
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    public void GradientsThroughTheMobileNetV3Block(int stride, bool training)
    {
        // With SE; BN with batch statistics in training, running ones in evaluation.
        var block = Smooth(InvertedResidual.MobileNetV3(4, 3, 8, 4, true, "gelu", stride, new ConvNormOptions(Rng: new Rng(5))));
        block.Train(training);
        Expect.GradientsMatch(x => block.Call(x[0]), Expect.Random([2, 4, 5, 5], seed: 6, low: -1f, high: 1f));
        // A smaller step for the weights: batch statistics make the loss curve faster in them.
        Expect.GradientsMatch(_ => block.Call(Expect.Random([2, 4, 5, 5], seed: 6, low: -1f, high: 1f)), block.Parameters().ToArray(), 3e-3);
    }

    [Fact]
    public void GradientsThroughTheMobileNetV2BlockWithFoldedNormAndTensorFlowPadding()
    {
        var block = InvertedResidual.MobileNetV2(3, 3, 2, 2, new ConvNormOptions(FoldedBatchNorm: true, TensorFlowPadding: true, Rng: new Rng(7)), "tanh");
        Assert.DoesNotContain(block.NamedModules(), m => m.Module is BatchNorm2d);
        Assert.Equal(new Shape(2, 3, 3, 2), block.OutputShape(new Shape(2, 3, 6, 4)));
        Expect.GradientsMatch(x => block.Call(x[0]), Expect.Random([2, 3, 6, 4], seed: 8, low: -1f, high: 1f));
    }
}
