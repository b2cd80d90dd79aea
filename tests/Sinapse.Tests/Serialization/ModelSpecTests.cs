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

    /// <summary>
    /// A spec as the previous writer laid it out: pairs always as [h, w], the inverted residual's
    /// body name before its body, graph steps with "layer": null and no axis, a GELU without its
    /// form. It still loads, into the model that code builds.
    /// </summary>
    [Fact]
    public void SpecsOfThePreviousLayoutStillLoad()
    {
        const string previous = """
            {"type":"Sequential","layers":[
              {"type":"Conv2d","inChannels":3,"outChannels":4,"kernelSize":3,"stride":2,"padding":"tf_same","dilation":1,"groups":1,"bias":true},
              {"type":"BatchNorm2d","numFeatures":4,"eps":1E-05,"momentum":null,"affine":true,"trackRunningStats":true},
              {"type":"Gelu"},
              {"type":"MaxPool2d","kernelSize":[2,2],"stride":[2,2],"padding":[0,0],"dilation":[1,1],"ceilMode":false},
              {"type":"AvgPool2d","kernelSize":[3,2],"stride":[1,1],"padding":[1,1],"ceilMode":true,"countIncludePad":false},
              {"type":"Residual","body":{"type":"Sequential","layers":[{"type":"Conv2d","inChannels":4,"outChannels":4,"kernelSize":3,"stride":1,"padding":"same","dilation":1,"groups":4,"bias":false}]},"shortcut":null,"dropPath":0},
              {"type":"InvertedResidual","inChannels":4,"outChannels":4,"stride":1,"bodyName":"conv","body":{"type":"Sequential","layers":[{"type":"Identity"}]}},
              {"type":"GlobalAvgPool2d"},{"type":"Flatten"},
              {"type":"Graph","input":"x","output":"y","constants":[{"name":"c","shape":[1]}],"steps":[
                {"operation":"Layer","inputs":["x"],"output":"h","layer":{"type":"Relu"}},
                {"operation":"Add","inputs":["h","c"],"output":"y","layer":null}]},
              {"type":"Linear","inFeatures":4,"outFeatures":2,"bias":true}]}
            """;
        var built = new Sequential(
            new Conv2d(3, 4, 3, stride: 2, padding: Padding.TensorFlowSame), new BatchNorm2d(4, momentum: null), new Gelu(), new MaxPool2d(2),
            new AvgPool2d((3, 2), (1, 1), (1, 1), ceilMode: true, countIncludePad: false),
            new Residual(new Sequential(new Conv2d(4, 4, 3, padding: Padding.Same, groups: 4, useBias: false))),
            new InvertedResidual(new Sequential(new Identity()), 4, 4, 1, "conv"), new GlobalAvgPool2d(), new Flatten(),
            new Graph("x", "y", [("c", Tensor.Zeros(1))], [new GraphStep(GraphOperation.Layer, ["x"], "h", new Relu()), new GraphStep(GraphOperation.Add, ["h", "c"], "y")]),
            new Linear(4, 2));
        var loaded = ModelSpec.FromJson(JsonNode.Parse(previous));
        Assert.Equal(ModelSpec.ToJson(built).ToJsonString(), ModelSpec.ToJson(loaded).ToJsonString());
        Assert.Equal(built.StateDict().Keys, loaded.StateDict().Keys);
        Assert.Equal("conv", Assert.IsType<InvertedResidual>(((Sequential)loaded)[6]).Children[0].Name);
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
        Assert.Contains("missing required properties including: 'outFeatures'", Assert.Throws<InvalidDataException>(() => ModelSpec.FromJson(missing)).Message);
        var text = JsonNode.Parse("""{"type":"Sequential","layers":[{"type":"Linear","inFeatures":"three","outFeatures":2}]}""");
        Assert.Contains("at model.layers[0].inFeatures: Linear:", Assert.Throws<InvalidDataException>(() => ModelSpec.FromJson(text)).Message);
        var padding = JsonNode.Parse("""{"type":"Residual","body":{"type":"Conv2d","inChannels":1,"outChannels":1,"kernelSize":3,"padding":"valid"}}""");
        var paddingError = Assert.Throws<InvalidDataException>(() => ModelSpec.FromJson(padding)).Message;
        Assert.Contains("at model.body.padding: Conv2d:", paddingError);
        Assert.Contains("got \"valid\"", paddingError);
    }

    private sealed class Custom : Module
    {
        protected override Tensor Forward(Tensor input) => input;
        public override Shape OutputShape(Shape input) => input;
    }

    [Fact]
    public void AnUnregisteredLayerCannotBeSaved()
    {
        var error = Assert.Throws<NotSupportedException>(() => ModelSpec.ToJson(new Sequential(new Relu(), new Custom())));
        Assert.Contains("'1'", error.Message);
        Assert.Contains("ModuleRegistry.Register", error.Message);
    }
}
