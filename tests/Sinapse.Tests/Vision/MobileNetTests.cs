using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Vision;

namespace Sinapse.Tests.Vision;

public class MobileNetTests
{
    // torchvision 0.14's counts: sum(p.numel() for p in model.parameters()).
    [Fact] public void MobileNetV3SmallHasTorchvisionsParameterCount() => Assert.Equal(2_542_856, MobileNet.V3Small().ParameterCount());

    [Fact] public void MobileNetV2HasTorchvisionsParameterCount() => Assert.Equal(3_504_872, MobileNet.V2().ParameterCount());

    [Fact] public void MobileNetV3LargeHasTorchvisionsParameterCount() => Assert.Equal(5_483_032, MobileNet.V3Large().ParameterCount());

    [Fact]
    public void WidthMultipliersAndClassCountsMatchTorchvision()
    {
        Assert.Equal(409_394, MobileNet.V3Small(10, widthMultiplier: 0.5f).ParameterCount());
        Assert.Equal(700_490, MobileNet.V2(10, widthMultiplier: 0.5f).ParameterCount());
        Assert.Equal(2_426_186, MobileNet.V3Large(10, widthMultiplier: 0.75f).ParameterCount());
        Assert.Equal(6_108_776, MobileNet.V2(widthMultiplier: 1.4f).ParameterCount());
    }

    [Fact]
    public void MobileNetV1QuarterWidthMatchesTheTfLiteModel()
    {
        // 8…256 channels; with BN folded into biases.
        var model = MobileNet.V1(1001, 0.25f, options: new ConvNormOptions(FoldedBatchNorm: true, TensorFlowPadding: true));
        Assert.Equal(467_593, model.ParameterCount());
        Assert.Equal(new Shape(1, 1001), model.OutputShape(new Shape(1, 3, 224, 224)));
    }

    [Fact]
    public void ParameterNamesFollowTorchvisionsStateDict()
    {
        var small = MobileNet.V3Small().NamedParameters().Select(p => p.Name).ToList();
        Assert.Equal("features.0.0.weight", small[0]);
        Assert.Contains("features.1.block.1.fc1.weight", small);
        Assert.Contains("features.4.block.3.0.weight", small);
        Assert.Contains("features.12.0.weight", small);
        Assert.Equal(["classifier.0.weight", "classifier.0.bias", "classifier.3.weight", "classifier.3.bias"], small[^4..]);
        var v2 = MobileNet.V2().NamedParameters().Select(p => p.Name).ToList();
        Assert.Contains("features.1.conv.0.0.weight", v2);
        Assert.Contains("features.1.conv.1.weight", v2);
        Assert.Contains("features.17.conv.3.bias", v2);
        Assert.Contains("features.18.0.weight", v2);
        Assert.Equal(["classifier.1.weight", "classifier.1.bias"], v2[^2..]);
        Assert.Contains("features.0.1.running_var", MobileNet.V2().NamedBuffers().Select(b => b.Name));
    }

    [Theory]
    [InlineData(32, 32)]
    [InlineData(65, 47)]
    public void AnyInputSizeAndClassCount(int height, int width)
    {
        foreach (var model in new[] { MobileNet.V3Small(7, 0.5f), MobileNet.V2(7, 0.35f), MobileNet.V1(7, 0.25f) })
        {
            model.Eval();
            Assert.Equal(new Shape(2, 7), model.OutputShape(new Shape(2, 3, height, width)));
            Assert.Equal(new Shape(2, 7), model.Call(Expect.Random([2, 3, height, width], seed: 1)).Shape);
        }
    }

    [Fact]
    public void TrainsEndToEnd()
    {
        // Backpropagation through a whole (tiny) MobileNetV3 reaches every parameter.
        var model = MobileNet.V3Small(3, 0.25f, options: new ConvNormOptions(Rng: new Rng(1)));
        var x = Expect.Random([4, 3, 32, 32], seed: 2);
        var loss = Sinapse.Ops.F.CrossEntropy(model.Call(x), Tensor.FromArray([0f, 1f, 2f, 1f], 4));
        loss.Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
    }

    // tools/make_mobilenet_fixtures.py: torchvision's models at width 0.5 with 10 classes, random
    // weights (rounded to float16, which both sides then run in float32), eval mode, 2×3×64×64 inputs.
    [Theory]
    [InlineData("mobilenet_v3_small.safetensors")]
    [InlineData("mobilenet_v2.safetensors")]
    public void ReproducesTorchvisionsOutputsFromItsWeights(string fixture)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture);
        var model = fixture.Contains("v3") ? MobileNet.V3Small(10, 0.5f) : MobileNet.V2(10, 0.5f);
        // torchvision's state_dict names are the model's own: no mapping, and every tensor must be there.
        StateDict.Load(model, path, strict: false);
        var file = SafeTensors.Open(path);
        Assert.Equal(model.StateDict().Count + 2, file.Entries.Count);
        model.Eval();
        var output = model.Call(file.Read("input"));
        Expect.Close(file.Read("output").Span, output.Span, 1e-4, fixture);
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        Assert.Contains("class", Assert.Throws<ArgumentException>(() => MobileNet.V2(0)).Message);
        Assert.Contains("width multiplier", Assert.Throws<ArgumentException>(() => MobileNet.V3Small(widthMultiplier: 0f)).Message);
        Assert.Contains("[1, 1, 64, 64]", Assert.Throws<ArgumentException>(() => MobileNet.V3Small().OutputShape(new Shape(1, 1, 64, 64))).Message);
    }
}
