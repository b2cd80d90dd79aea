using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Sinapse.Autograd;
using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Vision;

namespace Sinapse.Tests.Serialization;

/// <summary>
/// The ONNX round trip: every zoo model exported, run in ONNX Runtime and imported back gives
/// Sinapse's outputs to 1e-4, at the exported batch size and another (the batch axis is dynamic).
/// </summary>
public class OnnxExportTests
{
    public static TheoryData<string> Models => [.. Zoo.Keys];

    private static readonly Dictionary<string, Func<(Module Model, Shape Example)>> Zoo = new()
    {
        ["mlp"] = () => (Mlp.Create(784, [64, 32], 10, rng: new Rng(1)), new Shape(1, 28, 28)),
        ["mlp-bn-dropout-selu"] = () => (Mlp.Create(20, [16, 8], 3, new BlockOptions("selu", BatchNorm: true, Dropout: 0.3f, Rng: new Rng(2))), new Shape(20)),
        ["activations"] = () => (new Sequential(new Linear(12, 16, rng: new Rng(3)), new LeakyRelu(0.2f), new Linear(16, 16, rng: new Rng(4)), new Elu(0.7f),
            new Linear(16, 16, rng: new Rng(5)), new HardSigmoid(), new Linear(16, 16, rng: new Rng(6)), new Relu6(), new Linear(16, 16, rng: new Rng(7)), new HardSwish(),
            new Sigmoid(), new Linear(16, 8, rng: new Rng(8)), new Tanh(), new Identity(), new LogSoftmax()), new Shape(12)),
        // Opset 17 has no Gelu: both forms are written with primitive nodes (Erf; Tanh and products).
        ["gelu"] = () => (new Sequential(new Linear(6, 8, rng: new Rng(31)), new Gelu(), new Linear(8, 8, rng: new Rng(32)), new Gelu("tanh")), new Shape(6)),
        ["softmax"] = () => (new Sequential(new Flatten(), new Linear(6, 5, rng: new Rng(9)), new Softmax()), new Shape(2, 3)),
        ["cnn"] = () => (Cnn.Course(1, 28, 28, 10, rng: new Rng(10)), new Shape(1, 28, 28)),
        ["cnn-bn-dropout"] = () => (Cnn.Course(3, 20, 20, 5, new BlockOptions(BatchNorm: true, Dropout: 0.5f, Rng: new Rng(11))), new Shape(3, 20, 20)),
        ["lenet5"] = () => (Cnn.LeNet5(1, 28, 28, 10, rng: new Rng(12)), new Shape(1, 28, 28)),
        ["conv1d"] = () => (new Sequential(new Conv1d(2, 4, 3, padding: 1, rng: new Rng(13)), new MaxPool1d(2), new Conv1d(4, 4, 3, stride: 2, dilation: 2, groups: 2, rng: new Rng(14)),
            new AvgPool1d(2, 1, 1), new Flatten(), new Linear(20, 3, rng: new Rng(15))), new Shape(2, 24)),
        ["residual"] = () => (new Sequential(new Conv2d(3, 8, 3, padding: 1, rng: new Rng(16)), new Residual(new Sequential(new Conv2d(8, 8, 3, padding: 1, rng: new Rng(17)), new BatchNorm2d(8), new Relu()),
            new Conv2d(8, 8, 1, rng: new Rng(18))), new MaxPool2d(3, 2, 1), new AvgPool2d(2), new GlobalAvgPool2d(), new Flatten(), new Linear(8, 4, rng: new Rng(19))), new Shape(3, 16, 16)),
        // Ceil mode, dilation, count_include_pad = false, and adaptive pooling whose windows divide the input (exported as AveragePool).
        ["pooling-options"] = () => (new Sequential(new Conv2d(3, 4, 3, rng: new Rng(27)), new MaxPool2d(3, 2, ceilMode: true), new AvgPool2d(3, 2, 1, ceilMode: true, countIncludePad: false),
            new MaxPool2d((2, 3), (1, 1), dilation: (2, 1)), new AdaptiveAvgPool2d(2), new Flatten(), new Linear(16, 3, rng: new Rng(28))), new Shape(3, 23, 23)),
        ["pooling-options-1d"] = () => (new Sequential(new Conv1d(2, 4, 3, rng: new Rng(29)), new MaxPool1d(3, 2, 1, ceilMode: true), new AvgPool1d(2, 2, 1, ceilMode: true, countIncludePad: false),
            new MaxPool1d(2, 1, 0, dilation: 3), new Flatten(), new Linear(16, 3, rng: new Rng(30))), new Shape(2, 24)),
        ["dense-block-concat"] = () => (Ops.ConcatTests.DenseBlock(new Rng(25)), new Shape(3, 8, 8)),
        ["mobilenet_v2"] = () => (MobileNet.V2(10, 0.5f, options: new ConvNormOptions(Rng: new Rng(20))), new Shape(3, 64, 64)),
        ["mobilenet_v3_small"] = () => (MobileNet.V3Small(10, 0.5f, options: new ConvNormOptions(Rng: new Rng(21))), new Shape(3, 64, 64)),
        ["mobilenet_v3_large"] = () => (MobileNet.V3Large(10, 0.35f, options: new ConvNormOptions(Rng: new Rng(22))), new Shape(3, 48, 48)),
        // TensorFlow's SAME padding and folded batch norm, as the pretrained TFLite models are built.
        ["mobilenet_v1_tf"] = () => (MobileNet.V1(10, 0.25f, options: new ConvNormOptions(FoldedBatchNorm: true, TensorFlowPadding: true, Rng: new Rng(23))), new Shape(3, 66, 66)),
        ["autoencoder_dense"] = () => (Autoencoder.Dense(new Shape(1, 12, 12), [32], 8, rng: new Rng(24)), new Shape(1, 12, 12)),
        ["autoencoder_conv"] = () => (Autoencoder.Convolutional(1, 16, 16, 8, rng: new Rng(25)), new Shape(1, 16, 16)),
        ["autoencoder_nearest"] = () => (Autoencoder.Convolutional(1, 16, 16, 8, DecoderUpsampling.Nearest, rng: new Rng(26)), new Shape(1, 16, 16)),
        // Per-axis hyper-parameters and output padding at or above the stride (allowed below the dilation), which ONNX
        // Runtime takes as less cropping at the end: up to the padding, then as an output padding below the stride.
        ["conv_transpose_per_axis"] = () => (new Sequential(new ConvTranspose2d(2, 4, (3, 2), stride: (2, 1), padding: (1, 2), outputPadding: (1, 2), dilation: (1, 3), rng: new Rng(27)),
            new Relu(), new ConvTranspose2d(4, 2, 3, stride: 2, padding: 1, outputPadding: 2, dilation: 3, groups: 2, rng: new Rng(28))), new Shape(2, 5, 4)),
    };

    /// <summary>Batch norm with its initial statistics (mean 0, variance 1, γ = 1, β = 0) is the identity: give it some to check.</summary>
    internal static Module Prepared(Module model)
    {
        var rng = new Rng(99);
        foreach (var (_, module) in model.NamedModules())
            if (module is BatchNormBase norm)
            {
                Fill(norm.RunningMean!, -0.5f, 0.5f);
                Fill(norm.RunningVar!, 0.5f, 2f);
                if (norm.Weight != null) Fill(norm.Weight, 0.5f, 1.5f);
                if (norm.Bias != null) Fill(norm.Bias, -0.5f, 0.5f);
            }
        model.Eval();
        return model;

        void Fill(Tensor t, float low, float high) => Tensor.Uniform(t.Shape, low, high, rng).Span.CopyTo(t.Span);
    }

    internal static Tensor Run(Module model, Tensor input)
    {
        using var noGrad = GradMode.NoGrad();
        return model.Call(input);
    }

    internal static float[] RunOnnxRuntime(byte[] onnx, Tensor input)
    {
        using var session = new InferenceSession(onnx);
        var tensor = new DenseTensor(input.ToArray(), input.Shape.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExport.InputName, tensor)]);
        return results.Single(r => r.Name == OnnxExport.OutputName).AsEnumerable<float>().ToArray();
    }

    internal static void Close(float[] expected, float[] actual, float tolerance = 1e-4f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1f, Math.Abs(expected[i]))))
                Assert.Fail($"Element {i}: expected {expected[i]}, got {actual[i]} (tolerance {tolerance}).");
    }

    [Theory, MemberData(nameof(Models))]
    public void ExportedModelRunsInOnnxRuntimeAndImportsBackWithTheSameOutputs(string name)
    {
        var (model, example) = Zoo[name]();
        Prepared(model);
        var bytes = OnnxExport.ToBytes(model, example);
        var imported = OnnxImport.Load(bytes, name);
        foreach (int batch in new[] { 2, 3 })
        {
            var input = Tensor.Uniform(new Shape([batch, .. example.Dimensions]), -1f, 1f, new Rng((ulong)batch));
            var expected = Run(model, input).ToArray();
            Close(expected, RunOnnxRuntime(bytes, input));
            Close(expected, Run(imported, input).ToArray());
        }
    }

    public static TheoryData<string, string> Transforms => new()
    {
        { "cnn", "scale" },
        { "cnn-bn-dropout", "standardize per channel" },
        { "mlp-bn-dropout-selu", "minmax per feature" },
        { "cnn", "standardize overall" },
    };

    [Theory, MemberData(nameof(Transforms))]
    public void TheInputTransformBecomesTheFirstNodesAndComesBackWithTheClassNames(string name, string kind)
    {
        var (model, example) = Zoo[name]();
        Prepared(model);
        var raw = Tensor.Uniform(new Shape([4, .. example.Dimensions]), 0f, 255f, new Rng(7));
        var transform = kind switch
        {
            "scale" => InputTransform.Scale(1f / 255),
            "standardize per channel" => InputTransform.Standardize().Fit(raw),
            "minmax per feature" => InputTransform.MinMax(-1f, 1f).Fit(raw),
            _ => InputTransform.Standardize(perChannel: false).Fit(raw),
        };
        var classes = Enumerable.Range(0, model.OutputShape(raw.Shape)[1]).Select(i => $"class {i}").ToList();
        var bytes = OnnxExport.ToBytes(model, example, transform, classes);
        var expected = Run(model, transform.Apply(raw)).ToArray();
        // ONNX Runtime and the plain import take raw inputs: the file scales them itself.
        Close(expected, RunOnnxRuntime(bytes, raw));
        Close(expected, Run(OnnxImport.Load(bytes, name), raw).ToArray());
        // Read as a model directory holds it, the transform is split off again, with the class names.
        var saved = OnnxImport.LoadModel(bytes, name);
        Assert.Equal(classes, saved.ClassNames);
        Assert.Equal(System.Text.Json.JsonSerializer.Serialize(transform.ToConfig()), System.Text.Json.JsonSerializer.Serialize(saved.Transform!.ToConfig()));
        Assert.Equal(model.ParameterCount(), saved.Model.ParameterCount());
        Close(expected, Run(saved.Model, saved.Transform.Apply(raw)).ToArray());
        Assert.Equal(example, saved.ExampleShape);
    }

    [Fact]
    public void PretrainedMobileNetV1RunsInOnnxRuntimeWithTheSameLogits()
    {
        // The ImageNet weights, on the cat photo and on noise: logits of a trained network, not of a random one.
        var model = Pretrained.MobileNetV1();
        var cat = Pretrained.Preprocess(Images.Load(Path.Combine(AppContext.BaseDirectory, "Photos", "cat.png")));
        var input = Tensor.Uniform(new Shape(2, 3, Pretrained.ImageSize, Pretrained.ImageSize), -1f, 1f, new Rng(5));
        cat.Span.CopyTo(input.Span);
        var expected = Run(model, input).ToArray();
        Assert.Equal(2 * 1001, expected.Length);
        Close(expected, RunOnnxRuntime(OnnxExport.ToBytes(model, new Shape(3, Pretrained.ImageSize, Pretrained.ImageSize)), input));
    }

    [Fact]
    public void ChainsImportAsSequentialAndBranchesAsAGraph()
    {
        var (cnn, cnnShape) = Zoo["cnn"]();
        var sequential = Assert.IsType<Sequential>(OnnxImport.Load(OnnxExport.ToBytes(cnn, cnnShape)));
        Assert.Equal(cnn.ParameterCount(), sequential.ParameterCount());
        Assert.Equal(["Conv2d", "Relu", "MaxPool2d", "Conv2d", "Relu", "MaxPool2d", "Conv2d", "Relu", "Flatten", "Linear"], sequential.Layers.Select(l => l.GetType().Name));

        var (mobileNet, shape) = Zoo["mobilenet_v3_small"]();
        var graph = Assert.IsType<Graph>(OnnxImport.Load(OnnxExport.ToBytes(mobileNet, shape)));
        Assert.Equal(mobileNet.ParameterCount(), graph.ParameterCount());
        Assert.False(graph.Training);
    }

    [Fact]
    public void FileHasNamedInputOutputDynamicBatchAndInitializers()
    {
        var (model, example) = Zoo["lenet5"]();
        using var directory = new TempDirectory();
        var path = directory.File("lenet.onnx");
        OnnxExport.Save(model, example, path);
        var proto = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.Equal(OnnxExport.Opset, proto.OpsetImport.Single().Version);
        Assert.Equal("input", proto.Graph.Input.Single().Name);
        Assert.Equal("output", proto.Graph.Output.Single().Name);
        Assert.Equal("batch", proto.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal([1L, 28, 28], proto.Graph.Input[0].Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue));
        Assert.Equal(model.NamedParameters().Select(p => p.Name).Order(), proto.Graph.Initializer.Select(i => i.Name).Order());
        Assert.Contains(proto.Graph.Node, n => n.OpType == "AveragePool" && n.Attribute.Single(a => a.Name == "count_include_pad").I == 1);
    }

    [Fact]
    public void AnOpWithoutAnOnnxFormIsNamedWithItsLayer()
    {
        // The variance has no ONNX operator and no ONNX form here: the export names it and the layer that ran it, in one line.
        var model = new Sequential(new Linear(4, 4), new Lambda(x => Sinapse.Ops.F.Var(x, 1, keepDim: true)));
        var error = Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(model, new Shape(4)));
        Assert.Contains("'Var'", error.Message);
        Assert.Contains("'1'", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        // The model is left in the mode it was in, and nothing traces afterwards.
        Assert.True(model.Training);
        Assert.Null(OnnxTrace.Current);
    }

    /// <summary>A user layer made of one function of the ops.</summary>
    internal sealed class Lambda(Func<Tensor, Tensor> function) : Module
    {
        protected override Tensor Forward(Tensor input) => function(input);

        public override Shape OutputShape(Shape input)
        {
            using var noGrad = GradMode.NoGrad();
            return function(Tensor.Zeros(input)).Shape;
        }
    }

    [Fact]
    public void AnOutputPaddingOnnxRuntimeCannotTakeIsNamed()
    {
        // Output padding 2 with padding 0 and stride 1: 2 more positions at the end than the padding crops, at or above the stride.
        var model = new Sequential(new ConvTranspose2d(2, 2, 3, stride: 1, outputPadding: 2, dilation: 3));
        var error = Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(model, new Shape(2, 4, 4)));
        Assert.Contains("'0'", error.Message);
        Assert.Contains("output padding 2 exceeds its padding 0 by the stride 1 or more", error.Message);
    }

    [Fact]
    public void ImportedGraphSavesAndLoadsAsAModelDirectory()
    {
        var (model, example) = Zoo["mobilenet_v3_small"]();
        Prepared(model);
        var imported = OnnxImport.Load(OnnxExport.ToBytes(model, example));
        using var directory = new TempDirectory();
        new SavedModel(imported, example).Save(directory.Path);
        var loaded = SavedModel.Load(directory.Path).Model;
        loaded.Eval();
        var input = Tensor.Uniform(new Shape([2, .. example.Dimensions]), -1f, 1f, new Rng(5));
        Close(Run(model, input).ToArray(), Run(loaded, input).ToArray());
    }
}
