using Google.Protobuf;
using Onnx;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Xunit.Abstractions;

namespace Sinapse.Tests.Serialization;

/// <summary>
/// torchvision 0.14's MobileNetV2, MobileNetV3-Small and -Large, ResNet-18 and SqueezeNet 1.1 as
/// torch.onnx.export (PyTorch 1.13, opset 17) writes them — batch norm folded into the
/// convolutions, Identity nodes over deduplicated initializers, Clip bounds as Constant nodes,
/// ceil-mode max pooling — and a network that flattens with x.view(x.size(0), −1) (shape
/// arithmetic, dynamic batch), imported and compared with PyTorch's outputs to 1e-4.
/// </summary>
/// <remarks>
/// The files (Fixtures/torchvision_onnx, written by tools/export_torchvision_onnx.py) hold the
/// exported graphs with their initializers' names, dims and types but not their data: the
/// weights are the formula <see cref="HashUniformWeights"/>, named in each file's metadata,
/// which this test writes back into every initializer before importing. So it imports exactly
/// the graph PyTorch exported, with bitwise the weights PyTorch computed the reference with
/// (the script checks both), for ~200 KB instead of ~100 MB of weights.
/// </remarks>
public class TorchvisionOnnxTests(ITestOutputHelper output)
{
    private const string Folder = "torchvision_onnx";

    public static TheoryData<string> Models => ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "resnet18", "squeezenet1_1", "view_flatten"];

    /// <summary>The stored file with the formula's values written into every initializer that has no data.</summary>
    private static ModelProto LoadWithWeights(string name)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", Folder, name + ".onnx")));
        Assert.Equal(HashUniformWeights.Name, model.MetadataProps.Single(p => p.Key == "sinapse.weights").Value);
        int filled = 0;
        foreach (var tensor in model.Graph.Initializer.Where(t => !t.HasRawData && t.FloatData.Count == 0))
        {
            Assert.Equal((int)TensorProto.Types.DataType.Float, tensor.DataType);
            var values = HashUniformWeights.Values(tensor.Name, tensor.Dims);
            var bytes = new byte[values.Length * sizeof(float)];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            tensor.RawData = ByteString.CopyFrom(bytes);
            filled++;
        }
        Assert.True(filled > 0, $"{name}: no initializer to fill");
        return model;
    }

    [Theory, MemberData(nameof(Models))]
    public void ImportsAndMatchesPyTorch(string name)
    {
        var expected = Fixture.Case(Path.Combine(Folder, "expected.json"), name);
        var module = OnnxImport.Load(LoadWithWeights(name), name + ".onnx");
        var inputShape = expected.Ints("input_shape");
        var input = Tensor.FromArray(HashUniformWeights.Values("input", inputShape.Select(d => (long)d).ToArray(), scale: 1f), inputShape);
        var result = OnnxExportTests.Run(module, input);
        Assert.Equal(new Shape(expected.Ints("output_shape")), result.Shape);
        var reference = expected.Floats("output");
        var actual = result.ToArray();
        output.WriteLine($"{name}: max |Sinapse − PyTorch| = {reference.Zip(actual, (e, a) => Math.Abs(e - a)).Max():G3} over outputs up to {reference.Max(Math.Abs):G3}");
        OnnxExportTests.Close(reference, actual, 1e-4f);
    }

    /// <summary>The files hold what the importer must fold: Identity over initializers, Constant nodes, Shape → Gather → Unsqueeze → Concat → Reshape.</summary>
    [Fact]
    public void TheExportedGraphsHoldTheNodesThatAreFolded()
    {
        Dictionary<string, int> Count(string name) => ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", Folder, name + ".onnx")))
            .Graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        foreach (var name in new[] { "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "resnet18", "squeezenet1_1" })
            Assert.True(Count(name).GetValueOrDefault("Identity") > 0, $"{name} has no Identity node");
        Assert.True(Count("mobilenet_v2").GetValueOrDefault("Constant") > 0);
        var view = Count("view_flatten");
        foreach (var op in new[] { "Shape", "Gather", "Unsqueeze", "Concat", "Reshape" }) Assert.True(view.ContainsKey(op), $"view_flatten has no {op}");
    }

    [Fact]
    public void TheFormulaGivesBitwiseThePythonValues()
    {
        foreach (var sample in Fixture.Load(Path.Combine(Folder, "expected.json")).GetProperty("formula_samples").EnumerateArray())
        {
            var scale = sample.GetProperty("scale");
            var values = HashUniformWeights.Values(sample.GetProperty("name").GetString()!, sample.Ints("dims").Select(d => (long)d).ToArray(),
                scale.ValueKind == System.Text.Json.JsonValueKind.Null ? null : (float)scale.GetDouble());
            var bits = sample.GetProperty("bits").EnumerateArray().Select(b => b.GetUInt32()).ToArray();
            Assert.Equal(bits, values.Take(bits.Length).Select(BitConverter.SingleToUInt32Bits));
        }
    }
}
