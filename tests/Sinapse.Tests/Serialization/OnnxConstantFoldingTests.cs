using Google.Protobuf;
using Onnx;
using Sinapse.Layers;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Serialization;

/// <summary>
/// The importer computes what is known before the model runs (constants, and the shapes of
/// computed values) and refuses, in one error, a model that needs operators it lacks.
/// torch.onnx.export's own graphs are in <see cref="TorchvisionOnnxTests"/>.
/// </summary>
public class OnnxConstantFoldingTests
{
    private static NodeProto Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static TensorProto Integers(string name, long[] dims, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        return tensor;
    }

    private static TensorProto Floats(string name, long[] dims, params float[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        return tensor;
    }

    /// <summary>A model reading x of <paramref name="inputDims"/> (null: a symbolic axis) and giving <paramref name="output"/>.</summary>
    private static ModelProto Model(long?[] inputDims, string output, IEnumerable<NodeProto> nodes, params TensorProto[] initializers)
    {
        var shape = new TensorShapeProto();
        foreach (var d in inputDims) shape.Dim.Add(d is long value ? new TensorShapeProto.Types.Dimension { DimValue = value } : new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        var graph = new GraphProto { Name = "folding" };
        graph.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } });
        graph.Output.Add(new ValueInfoProto { Name = output });
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(initializers);
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model;
    }

    /// <summary>x.reshape(x.size(0), C·H·W − 0) with the size computed by Shape, Slice, Gather, Mul, Div, Sub, Cast, Squeeze and Unsqueeze: a Flatten.</summary>
    [Theory]
    [InlineData(2L)]
    [InlineData(null)]
    public void ShapeArithmeticFoldsIntoTheReshapeTarget(long? batch)
    {
        NodeProto[] nodes =
        [
            Node("Shape", ["x"], "shape"),
            Node("Slice", ["shape", "one", "end"], "features"),                  // [C, H, W]
            Node("Gather", ["features", "zero_scalar"], "c"),
            Node("Gather", ["features", "one_scalar"], "h"),
            Node("Gather", ["features", "two_scalar"], "w"),
            Node("Mul", ["c", "h"], "ch"),
            Node("Mul", ["ch", "w"], "chw"),
            Node("Div", ["chw", "one_scalar"], "chw_1"),
            Node("Sub", ["chw_1", "zero_scalar"], "chw_2"),
            Node("Cast", ["chw_2"], "chw_float", Int("to", (long)TensorProto.Types.DataType.Float)),
            Node("Cast", ["chw_float"], "chw_integer", Int("to", (long)TensorProto.Types.DataType.Int64)),
            Node("Unsqueeze", ["chw_integer", "axes"], "chw_vector"),
            Node("Unsqueeze", ["chw_vector", "axes"], "chw_matrix"),
            Node("Squeeze", ["chw_matrix", "axes"], "chw_again"),
            Node("Gather", ["shape", "zero_scalar"], "n"),
            Node("Unsqueeze", ["n", "axes"], "n_vector"),
            Node("Concat", ["n_vector", "chw_again"], "target", Int("axis", 0)),
            Node("Reshape", ["x", "target"], "y"),
        ];
        var model = Model([batch, 3, 4, 5], "y", nodes, Integers("one", [1], 1), Integers("end", [1], long.MaxValue), Integers("axes", [1], 0),
            Integers("zero_scalar", [], 0), Integers("one_scalar", [], 1), Integers("two_scalar", [], 2));
        var module = OnnxImport.Load(model, "folding.onnx");
        Assert.IsType<Flatten>(Assert.IsType<Sequential>(module).Layers.Single());
        var x = Expect.Random(2, 3, 4, 5);
        Assert.Equal(x.ToArray(), OnnxExportTests.Run(module, x).ToArray());
        Assert.Equal(new Shape(2, 60), OnnxExportTests.Run(module, x).Shape);
    }

    [Fact]
    public void ASymbolicBatchSizeIsFollowedOnlyIntoTheFirstAxisOfAReshape()
    {
        // x.reshape(-1, x.size(0)): the batch size lands on the second axis.
        NodeProto[] nodes =
        [
            Node("Shape", ["x"], "shape"),
            Node("Gather", ["shape", "zero"], "n"),
            Node("Unsqueeze", ["n", "axes"], "n_vector"),
            Node("Concat", ["minus_one", "n_vector"], "target", Int("axis", 0)),
            Node("Reshape", ["x", "target"], "y"),
        ];
        var model = Model([null, 6], "y", nodes, Integers("zero", [], 0), Integers("axes", [1], 0), Integers("minus_one", [1], -1));
        var error = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model, "batch.onnx"));
        Assert.Contains("node 4 'y' (Reshape)", error.Message);
        Assert.Contains("depends on the batch size", error.Message);

        // Arithmetic on it cannot be followed either.
        var unsqueeze = model.Graph.Node[2];
        model.Graph.Node[2] = Node("Mul", ["n", "zero"], "n_vector");
        error = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model, "batch.onnx"));
        Assert.Contains("node 2 'n_vector' (Mul): the operand 'n' depends on the batch size", error.Message);

        // With a fixed batch the same graph is plain arithmetic on constants: the target [-1, 2], a reshape no layer does, computed by the op.
        model.Graph.Node[2] = unsqueeze;
        model.Graph.Input[0].Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimValue = 2 };
        var input = Tensor.Uniform(new Shape(2, 6), -1f, 1f, new Rng(3));
        var output = OnnxExportTests.Run(OnnxImport.Load(model, "batch.onnx"), input);
        Assert.Equal(new Shape(6, 2), output.Shape);
        Assert.Equal(input.ToArray(), output.ToArray());
    }

    [Fact]
    public void IdentityAndArithmeticOverConstantsBecomeConstants()
    {
        // y = x + (a · b), with the product behind an Identity, as an exporter writes shared parameters.
        NodeProto[] nodes = [Node("Mul", ["a", "b"], "ab"), Node("Identity", ["ab"], "bias"), Node("Add", ["x", "bias"], "y")];
        var model = Model([null, 3], "y", nodes, Floats("a", [3], 1f, 2f, 3f), Floats("b", [1], 0.5f));
        var module = OnnxImport.Load(model, "constants.onnx");
        var x = Tensor.FromArray([1f, 1f, 1f, 2f, 2f, 2f], [2, 3]);
        Assert.Equal([1.5f, 2f, 2.5f, 2.5f, 3f, 3.5f], OnnxExportTests.Run(module, x).ToArray());
    }

    [Fact]
    public void AConstantTooLargeToFoldIsRefusedBeforeItIsAllocated()
    {
        // [8192, 1] + [1, 16384] broadcasts to 2^27 values.
        NodeProto[] nodes = [Node("Add", ["a", "b"], "ab"), Node("Add", ["x", "ab"], "y")];
        var model = Model([null, 8192, 16384], "y", nodes, Floats("a", [8192, 1], new float[8192]), Floats("b", [1, 16384], new float[16384]));
        var error = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model, "huge.onnx"));
        Assert.Contains("node 0 'ab' (Add) would compute a constant of shape [8192, 16384]", error.Message);
    }

    [Fact]
    public void AFoldedOperatorOnAComputedValueIsNamed()
    {
        var model = Model([null, 4], "y", [Node("Gather", ["x", "index"], "y", Int("axis", 1))], Integers("index", [1], 2));
        var error = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model, "gather.onnx"));
        Assert.Contains("node 0 'y' (Gather) reads 'x', computed from the model's input", error.Message);
        Assert.Contains("only on constants and shapes", error.Message);
    }

    [Fact]
    public void EveryMissingOperatorIsListedInOneLine()
    {
        NodeProto[] nodes =
        [
            Node("Relu", ["x"], "r"),
            Node("GridSample", ["r", "grid"], "g1"),
            Node("NonMaxSuppression", ["g1"], "boxes"),
            Node("GridSample", ["boxes", "grid"], "g2"),
            new NodeProto { OpType = "FusedConv", Domain = "com.microsoft", Name = "fused", Input = { "g2" }, Output = { "y" } },
        ];
        var model = Model([null, 4], "y", nodes, Floats("grid", [1], 0f));
        var error = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model.ToByteArray(), "detector.onnx"));
        Assert.Equal("detector.onnx: cannot import: the model uses operators Sinapse does not implement: 'GridSample' (node 1 'g1', and 1 more), " +
            "'NonMaxSuppression' (node 2 'boxes'), 'com.microsoft.FusedConv' (node 4 'fused').", error.Message);
    }
}
