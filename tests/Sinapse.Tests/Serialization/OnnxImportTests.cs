using Google.Protobuf;
using Onnx;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Serialization;
using Sinapse.Tensors;

namespace Sinapse.Tests.Serialization;

/// <summary>
/// ONNX's own conformance cases for the operators the importer supports (Fixtures/onnx, from
/// Debian's libonnx-testdata), and files that must be refused with a message that says why.
/// </summary>
public class OnnxImportTests
{
    private static string Case(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", name);

    private static Tensor ReadTensor(string path) => OnnxConstant.Read(TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)), path).ToTensor();

    /// <summary>The case's model with every input after the first bound to its test value, as a layer holds its weights.</summary>
    private static (ModelProto Model, Tensor Input, Tensor Expected) Load(string name)
    {
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(Case(name), "model.onnx")));
        var data = Path.Combine(Case(name), "test_data_set_0");
        for (int i = 1; i < model.Graph.Input.Count; i++)
        {
            var value = TensorProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(data, $"input_{i}.pb")));
            value.Name = model.Graph.Input[i].Name;
            model.Graph.Initializer.Add(value);
        }
        return (model, ReadTensor(Path.Combine(data, "input_0.pb")), ReadTensor(Path.Combine(data, "output_0.pb")));
    }

    public static TheoryData<string> Supported =>
    [
        "test_add", "test_add_bcast", "test_mul", "test_mul_bcast", "test_mul_example", "test_relu", "test_sigmoid", "test_sigmoid_example", "test_tanh", "test_tanh_example",
        "test_leakyrelu", "test_leakyrelu_default", "test_leakyrelu_example", "test_elu", "test_elu_default", "test_elu_example", "test_selu_default", "test_hardswish",
        "test_softmax_axis_1", "test_softmax_default_axis", "test_softmax_example", "test_softmax_large_number", "test_softmax_negative_axis",
        "test_logsoftmax_default_axis", "test_logsoftmax_example_1", "test_logsoftmax_large_number", "test_logsoftmax_negative_axis",
        "test_gemm_alpha", "test_gemm_beta", "test_gemm_default_no_bias", "test_gemm_default_scalar_bias", "test_gemm_default_single_elem_vector_bias",
        "test_gemm_default_vector_bias", "test_gemm_default_zero_bias", "test_gemm_transposeB", "test_matmul_2d",
        "test_basic_conv_with_padding", "test_basic_conv_without_padding", "test_conv_with_strides_no_padding", "test_conv_with_strides_padding",
        "test_maxpool_1d_default", "test_maxpool_2d_default", "test_maxpool_2d_precomputed_pads", "test_maxpool_2d_precomputed_strides", "test_maxpool_2d_strides",
        "test_averagepool_1d_default", "test_averagepool_2d_default", "test_averagepool_2d_precomputed_pads_count_include_pad", "test_averagepool_2d_precomputed_strides",
        "test_averagepool_2d_strides", "test_maxpool_2d_ceil", "test_averagepool_2d_ceil", "test_maxpool_2d_dilations", "test_averagepool_2d_precomputed_pads",
        "test_averagepool_2d_precomputed_same_upper", "test_maxpool_2d_precomputed_same_upper", "test_globalaveragepool", "test_globalaveragepool_precomputed",
        "test_batchnorm_epsilon", "test_batchnorm_example", "test_dropout_default", "test_flatten_axis1", "test_flatten_default_axis", "test_reshape_reduced_dims",
        "test_concat_1d_axis_0", "test_concat_1d_axis_negative_1", "test_concat_2d_axis_0", "test_concat_2d_axis_1", "test_concat_2d_axis_negative_1",
        "test_concat_2d_axis_negative_2", "test_concat_3d_axis_0", "test_concat_3d_axis_1", "test_concat_3d_axis_2", "test_concat_3d_axis_negative_1",
        "test_concat_3d_axis_negative_2", "test_concat_3d_axis_negative_3",
    ];

    [Theory, MemberData(nameof(Supported))]
    public void ConformanceCaseGivesTheExpectedOutput(string name)
    {
        var (model, input, expected) = Load(name);
        var module = OnnxImport.Load(model, name);
        var output = OnnxExportTests.Run(module, input);
        Assert.Equal(expected.Shape, output.Shape);
        OnnxExportTests.Close(expected.ToArray(), output.ToArray(), 1e-5f);
    }

    /// <summary>Cases whose attributes the library's layers do not compute: refused, naming what is unsupported.</summary>
    public static TheoryData<string, string> Refused => new()
    {
        { "test_conv_with_autopad_same", "auto_pad = SAME_LOWER" },
        { "test_conv_with_strides_and_asymmetric_padding", "pads [1, 0, 1, 0]" },
        { "test_averagepool_2d_same_upper", "pads [0, 0, 1, 1]" },
        { "test_averagepool_2d_pads", "at most half the kernel" },
        { "test_gemm_transposeA", "transA = 1" },
        { "test_gemm_default_matrix_bias", "the bias C 'c' has shape [3, 4]" },
        { "test_flatten_axis0", "axis = 0" },
        { "test_selu", "alpha = 2 and gamma = 3" },
        { "test_hardsigmoid", "alpha = 0.5 and beta = 0.6" },
        { "test_clip", "clips to [-1, 1]" },
        { "test_training_dropout_default", "training mode" },
    };

    [Theory, MemberData(nameof(Refused))]
    public void UnsupportedAttributesAreNamed(string name, string fragment)
    {
        var (model, _, _) = Load(name);
        var error = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model, name));
        Assert.Contains(fragment, error.Message);
        Assert.Contains(model.Graph.Node[0].OpType, error.Message);
    }

    private static byte[] CourseCnn() => OnnxExport.ToBytes(Sinapse.Models.Cnn.Course(1, 28, 28, 10, rng: new Rng(1)), new Shape(1, 28, 28));

    [Fact]
    public void TruncatedGarbageAndEmptyFilesAreRefused()
    {
        var bytes = CourseCnn();
        var truncated = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(bytes[..(bytes.Length / 2)], "cnn.onnx"));
        Assert.Contains("cnn.onnx", truncated.Message);
        Assert.Contains("truncated", truncated.Message);

        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);
        Assert.Throws<InvalidDataException>(() => OnnxImport.Load(garbage, "noise.onnx"));
        Assert.Contains("not an ONNX model", Assert.Throws<InvalidDataException>(() => OnnxImport.Load([], "empty.onnx")).Message);
        Assert.Contains("text.onnx is not", Assert.Throws<InvalidDataException>(() => OnnxImport.Load("TFL3 is not ONNX"u8.ToArray(), "text.onnx")).Message);
        Assert.Throws<FileNotFoundException>(() => OnnxImport.Load("/nonexistent/model.onnx"));
    }

    [Fact]
    public void AnUnsupportedOperatorIsNamedWithItsNode()
    {
        var model = ModelProto.Parser.ParseFrom(CourseCnn());
        var relu = model.Graph.Node.First(n => n.OpType == "Relu");
        relu.OpType = "Gelu";
        var error = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model.ToByteArray(), "cnn.onnx"));
        Assert.Contains("'Gelu'", error.Message);
        Assert.Contains($"'{relu.Name}'", error.Message);

        relu.OpType = "Relu";
        relu.Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = 1f });
        Assert.Contains("attribute 'alpha'", Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model.ToByteArray(), "cnn.onnx")).Message);
    }

    [Fact]
    public void InitializersWhoseShapesDoNotFitAreRefused()
    {
        // The first convolution's weight for 2 input channels where the images have 1.
        var model = ModelProto.Parser.ParseFrom(CourseCnn());
        var weight = model.Graph.Initializer.Single(t => t.Name == "0.weight");
        weight.Dims[1] = 2;
        weight.RawData = ByteString.CopyFrom(new byte[32 * 2 * 3 * 3 * 4]);
        var error = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model.ToByteArray(), "cnn.onnx"));
        Assert.Contains("'0.weight' [32, 2, 3, 3]", error.Message);
        Assert.Contains("[1, 1, 28, 28] has 1", error.Message);

        // Data shorter than the dimensions say.
        model = ModelProto.Parser.ParseFrom(CourseCnn());
        var bias = model.Graph.Initializer.Single(t => t.Name == "9.bias");
        bias.RawData = ByteString.CopyFrom(bias.RawData.Span[..8]);
        Assert.Contains("truncated or inconsistent", Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model.ToByteArray(), "cnn.onnx")).Message);

        // The classifier's weight for another number of features.
        model = ModelProto.Parser.ParseFrom(CourseCnn());
        var head = model.Graph.Initializer.Single(t => t.Name == "9.weight");
        head.Dims[1] = 512;
        head.RawData = ByteString.CopyFrom(new byte[10 * 512 * 4]);
        Assert.Contains("needs an input [N, 512], but the input is [1, 1024]", Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model.ToByteArray(), "cnn.onnx")).Message);

        // Batch norm statistics for the wrong number of channels.
        model = ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(Sinapse.Models.Cnn.Course(1, 28, 28, 10, new BlockOptions(BatchNorm: true)), new Shape(1, 28, 28)));
        var mean = model.Graph.Initializer.Single(t => t.Name == "1.running_mean");
        mean.Dims[0] = 16;
        mean.RawData = ByteString.CopyFrom(new byte[16 * 4]);
        Assert.Contains("mean '1.running_mean' has shape [16]", Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model.ToByteArray(), "cnn.onnx")).Message);
    }

    [Fact]
    public void GraphsWithSeveralInputsOrUndefinedValuesAreRefused()
    {
        var model = ModelProto.Parser.ParseFrom(CourseCnn());
        model.Graph.Input.Add(model.Graph.Input[0].Clone());
        model.Graph.Input[1].Name = "second";
        Assert.Contains("2 inputs", Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model.ToByteArray(), "cnn.onnx")).Message);

        model = ModelProto.Parser.ParseFrom(CourseCnn());
        model.Graph.Node[3].Input[0] = "nowhere";
        Assert.Contains("reads 'nowhere'", Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model.ToByteArray(), "cnn.onnx")).Message);
    }

    [Fact]
    public void ANaNInitializerIsRefusedNamingIt()
    {
        var model = ModelProto.Parser.ParseFrom(CourseCnn());
        var initializer = model.Graph.Initializer.First(t => t.DataType == (int)TensorProto.Types.DataType.Float);
        if (initializer.HasRawData)
        {
            var raw = initializer.RawData.ToByteArray();
            BitConverter.TryWriteBytes(raw.AsSpan(0, 4), float.NaN);
            initializer.RawData = ByteString.CopyFrom(raw);
        }
        else initializer.FloatData[0] = float.NaN;
        var error = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model.ToByteArray(), "nan.onnx"));
        Assert.Contains("nan.onnx", error.Message);
        Assert.Contains($"'{initializer.Name}'", error.Message);
        Assert.Contains("NaN", error.Message);
    }

    private static byte[] LeakyMlp() => OnnxExport.ToBytes(Mlp.Create(4, [3], 2, new BlockOptions(Activation: "leaky_relu(0.1)", Rng: new Rng(1))), new Shape(4));

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void ANonFiniteAttributeIsRefusedNamingTheNode(float bad)
    {
        var model = ModelProto.Parser.ParseFrom(LeakyMlp());
        var node = model.Graph.Node.First(n => n.OpType == "LeakyRelu");
        node.Attribute.Clear();
        node.Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = bad });
        var error = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model.ToByteArray(), "leaky.onnx"));
        Assert.Contains("leaky.onnx", error.Message);
        Assert.Contains("LeakyRelu", error.Message);
        Assert.Contains("'alpha'", error.Message);
    }

    [Fact]
    public void ANaNConstantNodeIsRefused()
    {
        var model = ModelProto.Parser.ParseFrom(LeakyMlp());
        // The first Gemm's bias becomes a Constant node's value instead of an initializer.
        var gemm = model.Graph.Node.First(n => n.OpType == "Gemm");
        var bias = model.Graph.Initializer.First(t => t.Name == gemm.Input[2]);
        model.Graph.Initializer.Remove(bias);
        if (bias.HasRawData)
        {
            var raw = bias.RawData.ToByteArray();
            BitConverter.TryWriteBytes(raw.AsSpan(0, 4), float.NaN);
            bias.RawData = ByteString.CopyFrom(raw);
        }
        else bias.FloatData[0] = float.NaN;
        var constant = new NodeProto { OpType = "Constant", Name = "nan_bias" };
        constant.Output.Add(bias.Name);
        constant.Attribute.Add(new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = bias });
        model.Graph.Node.Insert(0, constant);
        var error = Assert.Throws<InvalidDataException>(() => OnnxImport.Load(model.ToByteArray(), "constant.onnx"));
        Assert.Contains("constant.onnx", error.Message);
        Assert.Contains("nan_bias", error.Message);
        Assert.Contains("NaN", error.Message);
    }
}
