using System.Globalization;
using Google.Protobuf;
using Onnx;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>
/// Writes a model built from the library's layers as an ONNX file (IR version 8, opset 17) that
/// ONNX Runtime and other tools run: the layers become Gemm, Conv, ConvTranspose, pooling,
/// BatchNormalization (running statistics: inference), activation, Flatten/Reshape, Resize and
/// Add/Mul (residuals, squeeze-and-excitation gates) nodes, the parameters initializers under
/// their state_dict names. The input is named "input" and the output "output"; the batch axis is
/// dynamic ("batch"), the other axes fixed to the example shape. Dropout is the identity at
/// inference and writes no node. A layer with no ONNX equivalent in opset 17 (GELU, either form)
/// fails the export with its path and kind.
/// </summary>
public static class OnnxExport
{
    public const int Opset = 17;
    public const long IrVersion = 8;
    public const string InputName = "input";
    public const string OutputName = "output";

    /// <summary>Writes <paramref name="model"/> (in evaluation mode, as inference runs it) to <paramref name="path"/>.</summary>
    /// <param name="inputShape">One example's shape, without the batch axis ([1, 28, 28], [3, 64, 64], [784]).</param>
    public static void Save(Module model, Shape inputShape, string path)
    {
        var bytes = ToBytes(model, inputShape);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>The ONNX file's bytes (see <see cref="Save"/>).</summary>
    public static byte[] ToBytes(Module model, Shape inputShape) => Build(model, inputShape).ToByteArray();

    internal static ModelProto Build(Module model, Shape inputShape)
    {
        ArgumentNullException.ThrowIfNull(model);
        var batchShape = new Shape([1, .. inputShape.Dimensions]);
        model.OutputShape(batchShape);
        var writer = new Writer();
        var (output, shape) = writer.Emit(model, InputName, batchShape);
        // The graph's output must be a node's output: an identity model (or a trailing dropout) still needs one.
        if (output == InputName || writer.Graph.Node.Count == 0 || writer.Graph.Node[^1].Output[0] != output) output = writer.Node("Identity", [output], null);
        writer.Graph.Node[^1].Output[0] = OutputName;
        writer.Graph.Input.Add(ValueInfo(InputName, batchShape));
        writer.Graph.Output.Add(ValueInfo(OutputName, shape));
        writer.Graph.Name = model.Describe();
        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Sinapse",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            DocString = $"{model.Describe()} exported by Sinapse",
            Graph = writer.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return proto;
    }

    /// <summary>A float tensor's type with a dynamic first axis.</summary>
    private static ValueInfoProto ValueInfo(string name, Shape shape)
    {
        var tensorShape = new TensorShapeProto();
        for (int axis = 0; axis < shape.Rank; axis++)
            tensorShape.Dim.Add(axis == 0 ? new TensorShapeProto.Types.Dimension { DimParam = "batch" } : new TensorShapeProto.Types.Dimension { DimValue = shape[axis] });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = tensorShape } },
        };
    }

    private sealed class Writer
    {
        public GraphProto Graph { get; } = new();
        private readonly HashSet<string> names = new(StringComparer.Ordinal) { InputName, OutputName };
        private int counter;

        private string Fresh(string hint)
        {
            var name = hint;
            while (!names.Add(name)) name = $"{hint}_{++counter}";
            return name;
        }

        /// <summary>Adds a node and returns its (first) output's name.</summary>
        public string Node(string op, IEnumerable<string> inputs, string? hint, params AttributeProto[] attributes)
        {
            var node = new NodeProto { OpType = op, Name = Fresh((hint ?? op.ToLowerInvariant()) + "/" + op) };
            node.Input.AddRange(inputs);
            node.Output.Add(Fresh((hint ?? op.ToLowerInvariant()) + "/" + op + "_output"));
            node.Attribute.AddRange(attributes);
            Graph.Node.Add(node);
            return node.Output[0];
        }

        public string Initializer(string hint, Tensor value) => Initializer(hint, value.Shape.ToArray().Select(d => (long)d), value.Span);

        public string Initializer(string hint, IEnumerable<long> dims, ReadOnlySpan<float> values)
        {
            var tensor = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values)) };
            tensor.Dims.AddRange(dims);
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian.");
            Graph.Initializer.Add(tensor);
            return tensor.Name;
        }

        public string Int64Initializer(string hint, long[] values)
        {
            var tensor = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Int64 };
            tensor.Dims.Add(values.Length);
            tensor.Int64Data.AddRange(values);
            Graph.Initializer.Add(tensor);
            return tensor.Name;
        }

        private readonly Dictionary<float, string> scalars = [];

        private string Scalar(float value)
        {
            if (!scalars.TryGetValue(value, out var name))
                scalars[value] = name = Initializer("constant_" + value.ToString(CultureInfo.InvariantCulture), [], [value]);
            return name;
        }

        private static string Prefix(Module m) => m.Path.Length == 0 ? "" : m.Path + ".";

        /// <summary>Writes the nodes computing <paramref name="m"/> on the value <paramref name="x"/> of shape <paramref name="shape"/>; returns the output's name and shape.</summary>
        public (string Name, Shape Shape) Emit(Module m, string x, Shape shape)
        {
            var output = m.OutputShape(shape);
            var hint = m.Path.Length == 0 ? null : m.Path;
            string Unary(string op, params AttributeProto[] attributes) => Node(op, [x], hint, attributes);
            switch (m)
            {
                case { Stages: { } stages }:
                    foreach (var stage in stages) (x, shape) = Emit(stage, x, shape);
                    return (x, shape);
                case Residual residual:
                {
                    var skip = residual.Shortcut == null ? x : Emit(residual.Shortcut, x, shape).Name;
                    var body = Emit(residual.Body, x, shape).Name;
                    return (Node("Add", [skip, body], hint), output);
                }
                case InvertedResidual block:
                {
                    var body = Emit(block.Body, x, shape).Name;
                    return (block.UsesResidual ? Node("Add", [x, body], hint) : body, output);
                }
                case SqueezeExcitation se:
                {
                    var pooled = Node("GlobalAveragePool", [x], hint);
                    var (squeezed, squeezedShape) = Emit(se.Reduce, pooled, new Shape(shape[0], shape[1], 1, 1));
                    var relu = Node("Relu", [squeezed], hint);
                    var expanded = Emit(se.Expand, relu, squeezedShape).Name;
                    var gate = Node("HardSigmoid", [expanded], hint, Float("alpha", 1f / 6f), Float("beta", 0.5f));
                    return (Node("Mul", [x, gate], hint), output);
                }
                case Layers.Graph graph:
                    return (EmitGraph(graph, x, shape), output);
                case Linear linear:
                {
                    var weight = Initializer(Prefix(m) + "weight", linear.Weight);
                    if (shape.Rank == 2)
                    {
                        List<string> inputs = [x, weight];
                        if (linear.Bias != null) inputs.Add(Initializer(Prefix(m) + "bias", linear.Bias));
                        return (Node("Gemm", inputs, hint, Int("transB", 1)), output);
                    }
                    // [..., in] · Wᵀ: MatMul broadcasts over the leading axes, with the weight stored transposed.
                    var transposed = new float[linear.InFeatures * linear.OutFeatures];
                    var w = linear.Weight.Span;
                    for (int o = 0; o < linear.OutFeatures; o++)
                        for (int i = 0; i < linear.InFeatures; i++) transposed[i * linear.OutFeatures + o] = w[o * linear.InFeatures + i];
                    long[] dims = [linear.InFeatures, linear.OutFeatures];
                    var product = Node("MatMul", [x, Initializer(Prefix(m) + "weight_transposed", dims, transposed)], hint);
                    return (linear.Bias == null ? product : Node("Add", [product, Initializer(Prefix(m) + "bias", linear.Bias)], hint), output);
                }
                case Conv2d conv:
                {
                    var attributes = new List<AttributeProto> { Ints("kernel_shape", conv.KernelSize, conv.KernelSize), Ints("strides", conv.Stride, conv.Stride),
                        Ints("dilations", conv.Dilation, conv.Dilation), Int("group", conv.Groups) };
                    if (conv.Padding.IsTensorFlowSame)
                    {
                        var (top, bottom) = conv.PaddingFor(shape[2]);
                        var (left, right) = conv.PaddingFor(shape[3]);
                        attributes.Add(Ints("pads", top, left, bottom, right));
                    }
                    else attributes.Add(Ints("pads", conv.PadBegin, conv.PadBegin, conv.PadEnd, conv.PadEnd));
                    return (Node("Conv", ConvInputs(x, m, conv.Weight, conv.Bias), hint, [.. attributes]), output);
                }
                case Conv1d conv:
                {
                    var (begin, end) = conv.PaddingFor(shape[2]);
                    return (Node("Conv", ConvInputs(x, m, conv.Weight, conv.Bias), hint, Ints("kernel_shape", conv.KernelSize), Ints("strides", conv.Stride),
                        Ints("dilations", conv.Dilation), Int("group", conv.Groups), Ints("pads", begin, end)), output);
                }
                case ConvTranspose2d conv:
                {
                    var (bottom, extraHeight) = TransposedEnd(m, conv.Padding.Height, conv.OutputPadding.Height, conv.Stride.Height);
                    var (right, extraWidth) = TransposedEnd(m, conv.Padding.Width, conv.OutputPadding.Width, conv.Stride.Width);
                    return (Node("ConvTranspose", ConvInputs(x, m, conv.Weight, conv.Bias), hint, Ints("kernel_shape", conv.KernelSize.Height, conv.KernelSize.Width),
                        Ints("strides", conv.Stride.Height, conv.Stride.Width), Ints("dilations", conv.Dilation.Height, conv.Dilation.Width), Int("group", conv.Groups),
                        Ints("pads", conv.Padding.Height, conv.Padding.Width, bottom, right), Ints("output_padding", extraHeight, extraWidth)), output);
                }
                case MaxPool2d pool:
                    return (Unary("MaxPool", Ints("kernel_shape", pool.KernelSize.Height, pool.KernelSize.Width), Ints("strides", pool.Stride.Height, pool.Stride.Width),
                        Ints("pads", pool.Padding.Height, pool.Padding.Width, pool.Padding.Height, pool.Padding.Width),
                        Ints("dilations", pool.Dilation.Height, pool.Dilation.Width), Int("ceil_mode", pool.CeilMode ? 1 : 0)), output);
                case AvgPool2d pool:
                    return (Unary("AveragePool", Ints("kernel_shape", pool.KernelSize.Height, pool.KernelSize.Width), Ints("strides", pool.Stride.Height, pool.Stride.Width),
                        Ints("pads", pool.Padding.Height, pool.Padding.Width, pool.Padding.Height, pool.Padding.Width),
                        Int("ceil_mode", pool.CeilMode ? 1 : 0), Int("count_include_pad", pool.CountIncludePad ? 1 : 0)), output);
                case MaxPool1d pool:
                    return (Unary("MaxPool", Ints("kernel_shape", pool.KernelSize), Ints("strides", pool.Stride), Ints("pads", pool.Padding, pool.Padding),
                        Ints("dilations", pool.Dilation), Int("ceil_mode", pool.CeilMode ? 1 : 0)), output);
                case AvgPool1d pool:
                    return (Unary("AveragePool", Ints("kernel_shape", pool.KernelSize), Ints("strides", pool.Stride), Ints("pads", pool.Padding, pool.Padding),
                        Int("ceil_mode", pool.CeilMode ? 1 : 0), Int("count_include_pad", pool.CountIncludePad ? 1 : 0)), output);
                case GlobalAvgPool2d:
                case AdaptiveAvgPool2d { OutputSize: (1, 1) }:
                    return (Unary("GlobalAveragePool"), output);
                case AdaptiveAvgPool2d adaptive:
                {
                    // ONNX has no adaptive pooling; when the output divides the input its windows are a plain average pooling's, as PyTorch's exporter writes it.
                    var (height, width) = adaptive.OutputSize;
                    if (shape[2] % height != 0 || shape[3] % width != 0)
                        throw Unsupported(m, $"its {height}x{width} windows over the input {shape} have different sizes, which ONNX's AveragePool cannot express (it can when the output size divides the input's)");
                    int kernelHeight = shape[2] / height, kernelWidth = shape[3] / width;
                    return (Unary("AveragePool", Ints("kernel_shape", kernelHeight, kernelWidth), Ints("strides", kernelHeight, kernelWidth)), output);
                }
                case Flatten:
                    return (Unary("Flatten", Int("axis", 1)), output);
                case Unflatten unflatten:
                    return (Node("Reshape", [x, Int64Initializer(Prefix(m) + "shape", [-1, .. unflatten.Dimensions.Select(d => (long)d)])], hint), output);
                case Upsample upsample:
                    return (Node("Resize", [x, "", Initializer(Prefix(m) + "scales", [4], [1f, 1f, upsample.Scale, upsample.Scale])], hint,
                        Text("mode", "nearest"), Text("coordinate_transformation_mode", "asymmetric"), Text("nearest_mode", "floor")), output);
                case BatchNormBase norm:
                {
                    if (norm.RunningMean == null || norm.RunningVar == null)
                        throw Unsupported(m, "it keeps no running statistics, so inference normalises with each batch's own, which ONNX's BatchNormalization does not do");
                    var scale = norm.Weight ?? Tensor.Ones(norm.NumFeatures);
                    var bias = norm.Bias ?? Tensor.Zeros(norm.NumFeatures);
                    return (Node("BatchNormalization", [x, Initializer(Prefix(m) + "weight", scale), Initializer(Prefix(m) + "bias", bias),
                        Initializer(Prefix(m) + "running_mean", norm.RunningMean), Initializer(Prefix(m) + "running_var", norm.RunningVar)], hint, Float("epsilon", norm.Eps)), output);
                }
                case Dropout or Dropout2d or Identity:
                    return (x, output);
                case Relu: return (Unary("Relu"), output);
                case Relu6: return (Node("Clip", [x, Scalar(0f), Scalar(6f)], hint), output);
                case Sigmoid: return (Unary("Sigmoid"), output);
                case Tanh: return (Unary("Tanh"), output);
                case LeakyRelu leaky: return (Unary("LeakyRelu", Float("alpha", leaky.NegativeSlope)), output);
                case Elu elu: return (Unary("Elu", Float("alpha", elu.Alpha)), output);
                case Selu: return (Unary("Selu", Float("alpha", F.SeluAlpha), Float("gamma", F.SeluScale)), output);
                case HardSigmoid: return (Unary("HardSigmoid", Float("alpha", 1f / 6f), Float("beta", 0.5f)), output);
                case HardSwish: return (Unary("HardSwish"), output);
                case Layers.Softmax: return (Unary("Softmax", Int("axis", -1)), output);
                case LogSoftmax: return (Unary("LogSoftmax", Int("axis", -1)), output);
                case Gelu:
                    throw Unsupported(m, $"ONNX has a Gelu operator only from opset 20, and this exporter writes opset {Opset}");
                default:
                    throw Unsupported(m, "ONNX export knows no equivalent for it");
            }
        }

        private List<string> ConvInputs(string x, Module m, Tensor weight, Tensor? bias)
        {
            List<string> inputs = [x, Initializer(Prefix(m) + "weight", weight)];
            if (bias != null) inputs.Add(Initializer(Prefix(m) + "bias", bias));
            return inputs;
        }

        private string EmitGraph(Layers.Graph graph, string x, Shape shape)
        {
            var values = new Dictionary<string, (string Name, Shape Shape)>(StringComparer.Ordinal) { [graph.Input] = (x, shape) };
            for (int i = 0; i < graph.ConstantNames.Count; i++)
            {
                var constant = graph.Constant(graph.ConstantNames[i]);
                values[graph.ConstantNames[i]] = (Initializer(Prefix(graph) + Layers.Graph.ConstantBufferName(i), constant), constant.Shape);
            }
            foreach (var step in graph.Steps)
            {
                if (step.Layer != null)
                {
                    var (name, stepShape) = values[step.Inputs[0]];
                    values[step.Output] = Emit(step.Layer, name, stepShape);
                    continue;
                }
                var hint = graph.Path.Length == 0 ? null : graph.Path;
                var inputs = step.Inputs.Select(input => values[input]).ToList();
                values[step.Output] = step.Operation switch
                {
                    GraphOperation.Concat => (Node("Concat", inputs.Select(i => i.Name).ToList(), hint, Int("axis", step.Axis)), F.ConcatShape(inputs.Select(i => i.Shape).ToList(), step.Axis)),
                    _ => (Node(step.Operation == GraphOperation.Add ? "Add" : "Mul", [inputs[0].Name, inputs[1].Name], hint),
                        Shape.Broadcast(inputs[0].Shape, inputs[1].Shape, step.Operation.ToString())),
                };
            }
            return values[graph.Output].Name;
        }

        /// <summary>
        /// The end padding and output padding of one axis of a ConvTranspose node. ONNX Runtime refuses
        /// an output padding at or above the stride, which PyTorch allows below the dilation; since no
        /// input reaches the positions output padding adds, cropping that many fewer at the end is the
        /// same output: pads end p − op and no output padding, or, when op > p, none and op − p.
        /// </summary>
        private static (int PadEnd, int OutputPadding) TransposedEnd(Module m, int padding, int outputPadding, int stride)
        {
            if (outputPadding < stride) return (padding, outputPadding);
            if (outputPadding <= padding) return (padding - outputPadding, 0);
            if (outputPadding - padding < stride) return (0, outputPadding - padding);
            throw Unsupported(m, $"its output padding {outputPadding} exceeds its padding {padding} by the stride {stride} or more, which ONNX Runtime's ConvTranspose refuses");
        }

        private static NotSupportedException Unsupported(Module m, string why) =>
            new($"OnnxExport: cannot export the layer '{(m.Path.Length == 0 ? "(the model)" : m.Path)}' ({m.Describe()}, type {m.GetType().Name}): {why}.");
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto Text(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }
}
