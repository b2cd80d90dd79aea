using System.Text.Json.Nodes;
using Sinapse.Layers;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Tests.Serialization;

public class ModelSpecTests
{
    /// <summary>Every library layer in one model; rebuilt from its spec with the same weights, it gives the same outputs.</summary>
    [Fact]
    public void EveryLayerRoundTrips()
    {
        var rng = new Rng(7);
        var model = new Sequential(
            new Conv2d(3, 8, 3, padding: Padding.Same, rng: rng), new BatchNorm2d(8, momentum: null), new LeakyRelu(0.2f), new MaxPool2d(2),
            new Residual(new Sequential(new Conv2d(8, 8, 3, padding: 1, groups: 8, useBias: false, rng: rng), new Elu(0.5f)), dropPath: 0.1f),
            new Dropout2d(0.1f), new AvgPool2d((2, 2), (1, 1), (1, 1)), new Conv2d(8, 4, 1, stride: 2, rng: rng), new Gelu(), new GlobalAvgPool2d(), new Flatten(),
            new Gelu("tanh"),
            new Linear(4, 6, rng: rng), new BatchNorm1d(6, eps: 1e-3f, affine: false), new Selu(), new Dropout(0.3f), new Tanh(), new Sigmoid(), new HardSwish(),
            new HardSigmoid(), new Relu6(), new Relu(), new Identity(), new Linear(6, 5, useBias: false, rng: rng), new LogSoftmax(), new Softmax());
        var sequence = new Sequential(new Conv1d(2, 4, 3, dilation: 2, rng: rng), new MaxPool1d(2), new AvgPool1d(2, 1, 1),
            new MaxPool1d(2, 2, 1, dilation: 2, ceilMode: true), new AvgPool1d(2, 1, 1, ceilMode: true, countIncludePad: false), new Flatten());
        var pooling = new Sequential(new MaxPool2d(3, 2, 1, dilation: 2, ceilMode: true), new AvgPool2d((3, 2), (2, 1), (1, 1), ceilMode: true, countIncludePad: false),
            new AdaptiveAvgPool2d((2, 3)));
        var inputs = new Dictionary<Module, Shape> { [model] = new(2, 3, 8, 8), [sequence] = new(2, 2, 12), [pooling] = new(2, 3, 11, 12) };
        foreach (var (original, shape) in inputs)
        {
            var json = ModelSpec.ToJson(original);
            var text = json.ToJsonString();
            var rebuilt = ModelSpec.FromJson(JsonNode.Parse(text), new Rng(99));
            Assert.Equal(text, ModelSpec.ToJson(rebuilt).ToJsonString());
            Assert.Equal(original.Describe(), rebuilt.Describe());
            Assert.Equal(original.NamedModules().Select(m => m.Module.Describe()), rebuilt.NamedModules().Select(m => m.Module.Describe()));
            rebuilt.LoadStateDict(original.StateDict());
            var input = Tensor.Uniform(shape, -1, 1, new Rng(1));
            Assert.Equal(Trainer.Predict(original, input).ToArray(), Trainer.Predict(rebuilt, input).ToArray());
        }
    }

    [Fact]
    public void TheMobileNetBlocksAndTheAutoencoderLayersRoundTrip()
    {
        var rng = new Rng(8);
        var model = new Sequential(
            new Conv2d(3, 16, 3, stride: 2, padding: Padding.TensorFlowSame, rng: rng),
            InvertedResidual.MobileNetV3(16, 3, 32, 16, true, "hard_swish", 1),
            new SqueezeExcitation(16, 8), new ConvTranspose2d(16, 4, 3, stride: 2, padding: 1, outputPadding: 1, rng: rng), new Upsample(2),
            new ConvTranspose2d(4, 4, (3, 2), stride: (1, 2), padding: (2, 0), outputPadding: (1, 1), dilation: (2, 1), groups: 2, useBias: false, rng: rng),
            new Flatten(), new Unflatten(4, 33, 65), new GlobalAvgPool2d(), new Flatten());
        var text = ModelSpec.ToJson(model).ToJsonString();
        Assert.Contains("tf_same", text);
        Assert.Contains("\"kernelSize\":[3,2],\"stride\":[1,2],\"padding\":[2,0],\"outputPadding\":1,\"dilation\":[2,1]", text);
        var rebuilt = ModelSpec.FromJson(JsonNode.Parse(text), new Rng(1));
        Assert.Equal(text, ModelSpec.ToJson(rebuilt).ToJsonString());
        Assert.Equal(model.StateDict().Keys, rebuilt.StateDict().Keys);
        rebuilt.LoadStateDict(model.StateDict());
        var input = Tensor.Uniform(new Shape(2, 3, 15, 15), -1, 1, new Rng(2));
        Assert.Equal(Trainer.Predict(model, input).ToArray(), Trainer.Predict(rebuilt, input).ToArray());
    }

    [Fact]
    public void GeluKeepsItsFormAndOlderFilesLoadTheExactOne()
    {
        Assert.Equal("""{"type":"Gelu","approximate":"tanh"}""", ModelSpec.ToJson(new Gelu("tanh")).ToJsonString());
        Assert.Equal("tanh", Assert.IsType<Gelu>(ModelSpec.FromJson(JsonNode.Parse("""{"type":"Gelu","approximate":"tanh"}"""))).Approximate);
        // A file written before the tanh form existed names no form.
        Assert.Equal("none", Assert.IsType<Gelu>(ModelSpec.FromJson(JsonNode.Parse("""{"type":"Gelu"}"""))).Approximate);
        var error = Assert.Throws<InvalidDataException>(() => ModelSpec.FromJson(JsonNode.Parse("""{"type":"Sequential","layers":[{"type":"Gelu","approximate":"fast"}]}"""), source: "m.json"));
        Assert.Contains("m.json", error.Message);
        Assert.Contains("layers[0]", error.Message);
        Assert.Contains("'fast'", error.Message);
    }

    [Fact]
    public void ErrorsNameThePlaceInTheSpec()
    {
        var unknown = JsonNode.Parse("""{"type":"Sequential","layers":[{"type":"Relu"},{"type":"Wobble"}]}""");
        var error = Assert.Throws<InvalidDataException>(() => ModelSpec.FromJson(unknown, source: "x.json"));
        Assert.Contains("x.json", error.Message);
        Assert.Contains("layers[1]", error.Message);
        Assert.Contains("'Wobble'", error.Message);

        var bad = JsonNode.Parse("""{"type":"Linear","inFeatures":-3,"outFeatures":2}""");
        Assert.Contains("positive sizes", Assert.Throws<InvalidDataException>(() => ModelSpec.FromJson(bad)).Message);
        var missing = JsonNode.Parse("""{"type":"Linear","inFeatures":3}""");
        Assert.Contains("\"outFeatures\" is missing", Assert.Throws<InvalidDataException>(() => ModelSpec.FromJson(missing)).Message);
    }

    private sealed class Custom : Module
    {
        public override Tensor Forward(Tensor input) => input;
        public override Shape OutputShape(Shape input) => input;
    }

    [Fact]
    public void AnUnregisteredLayerCannotBeSaved()
    {
        var error = Assert.Throws<NotSupportedException>(() => ModelSpec.ToJson(new Sequential(new Relu(), new Custom())));
        Assert.Contains("'1'", error.Message);
        Assert.Contains("ModelSpec.Register", error.Message);
    }
}
