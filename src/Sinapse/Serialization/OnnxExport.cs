using System.Text.Json;
using Google.Protobuf;
using Onnx;
using Sinapse.Autograd;
using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>
/// Writes a model as an ONNX file (IR version 8, opset 17) that ONNX Runtime and other tools run,
/// by tracing: the model runs once, in evaluation mode, on an example batch, and every op it runs
/// writes its ONNX node(s) (see the op's ONNX form next to its kernel in Ops/). Any model built
/// from ops that have an ONNX form therefore exports, layers written by users included; an op
/// that has none fails the export with a one-line error naming it and the layer that ran it.
/// Parameters and buffers become initializers under their state_dict names, constants made
/// during the pass initializers of their own. The input is named "input" and the output
/// "output"; the batch axis is dynamic ("batch"), the other axes fixed to the example shape.
/// The input transform, when given, becomes the graph's first nodes (x·scale + shift), so the
/// file takes raw inputs as the model directory's users give them; it and the class names are
/// also kept as metadata (metadata_props), from which <see cref="OnnxImport.LoadModel(string)"/> restores them.
/// </summary>
public static class OnnxExport
{
    public const int Opset = OnnxTrace.Opset;
    public const long IrVersion = 8;
    public const string InputName = "input";
    public const string OutputName = "output";

    /// <summary>Metadata key of the input transform's settings and statistics (JSON).</summary>
    public const string InputTransformKey = "sinapse.input_transform";

    /// <summary>Metadata key of the value the input transform's nodes compute, where the model's own graph starts.</summary>
    public const string TransformedInputKey = "sinapse.transformed_input";

    /// <summary>Metadata key of the class names (a JSON array of strings).</summary>
    public const string ClassNamesKey = "sinapse.class_names";

    /// <summary>Writes <paramref name="model"/> (run as inference runs it) to <paramref name="path"/>.</summary>
    /// <param name="inputShape">One example's shape, without the batch axis ([1, 28, 28], [3, 64, 64], [784]).</param>
    /// <param name="transform">The fitted input transform the model was trained behind, written as the graph's first nodes.</param>
    /// <param name="classNames">The output classes' names, written as metadata.</param>
    public static void Save(Module model, Shape inputShape, string path, InputTransform? transform = null, IReadOnlyList<string>? classNames = null)
    {
        var bytes = ToBytes(model, inputShape, transform, classNames);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Writes a model directory's model with its input transform and class names.</summary>
    public static void Save(SavedModel saved, string path)
    {
        ArgumentNullException.ThrowIfNull(saved);
        Save(saved.Model, saved.ExampleShape, path, saved.Transform, saved.ClassNames);
    }

    /// <summary>The ONNX file's bytes (see <see cref="Save(Module, Shape, string, InputTransform?, IReadOnlyList{string}?)"/>).</summary>
    public static byte[] ToBytes(Module model, Shape inputShape, InputTransform? transform = null, IReadOnlyList<string>? classNames = null) =>
        Build(model, inputShape, transform, classNames).ToByteArray();

    internal static ModelProto Build(Module model, Shape inputShape, InputTransform? transform = null, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var batchShape = new Shape([1, .. inputShape.Dimensions]);
        var outputShape = model.OutputShape(batchShape);
        var graph = Trace(model, batchShape, transform, out var transformed);
        graph.Input.Add(ValueInfo(InputName, batchShape));
        graph.Output.Add(ValueInfo(OutputName, outputShape));
        graph.Name = model.Describe();
        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "Sinapse",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            DocString = $"{model.Describe()} exported by Sinapse",
            Graph = graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        if (transform != null && transformed != null)
        {
            proto.MetadataProps.Add(new StringStringEntryProto { Key = InputTransformKey, Value = JsonSerializer.Serialize(transform.ToConfig()) });
            proto.MetadataProps.Add(new StringStringEntryProto { Key = TransformedInputKey, Value = transformed });
        }
        if (classNames != null) proto.MetadataProps.Add(new StringStringEntryProto { Key = ClassNamesKey, Value = JsonSerializer.Serialize(classNames) });
        return proto;
    }

    /// <summary>
    /// Runs <paramref name="model"/> once in evaluation mode on zeros of <paramref name="batchShape"/>
    /// under a trace, with gradients recorded so that a value computed by an op with no ONNX form
    /// is recognised when a traced op reads it; restores every layer's mode afterwards.
    /// </summary>
    private static GraphProto Trace(Module model, Shape batchShape, InputTransform? transform, out string? transformed)
    {
        var modes = model.NamedModules().Select(m => (m.Module, m.Module.Training)).ToList();
        var state = model.NamedParameters().Concat(model.NamedBuffers());
        using var trace = new OnnxTrace(state, batchShape[0], InputName, OutputName);
        try
        {
            model.Eval();
            var input = Tensor.Zeros(batchShape);
            input.RequiresGrad = true;
            transformed = transform == null || transform.Kind == InputTransformKind.None ? null : Transform(trace, transform, batchShape);
            trace.Bind(input, transformed ?? InputName);
            Tensor output;
            using (GradMode.EnableGrad()) output = model.Call(input);
            var result = trace.Value(output);
            // The graph's output must be a node's own output: an identity model (or a trailing dropout) still needs one.
            var last = trace.Graph.Node.Count == 0 ? null : trace.Graph.Node[^1];
            if (last == null || last.Output[0] != result || result == transformed)
            {
                trace.Node("Identity", [result]);
                last = trace.Graph.Node[^1];
            }
            last.Output[0] = OutputName;
            return trace.Graph;
        }
        finally
        {
            foreach (var (module, training) in modes) module.Train(training);
        }
    }

    /// <summary>x·scale + shift per group, as <see cref="InputTransform"/> applies it: per channel on axis 1, or one group for everything.</summary>
    private static string Transform(OnnxTrace trace, InputTransform transform, Shape batchShape)
    {
        var (scale, shift) = transform.AffineMap;
        // One value per group, shaped to broadcast over the axes after the channels.
        long[] dims = scale.Length == 1 ? [] : [scale.Length, .. Enumerable.Repeat(1L, Math.Max(batchShape.Rank - 2, 0))];
        var scaled = trace.Node("Mul", [InputName, trace.Constant("input_transform.scale", dims, scale)]);
        return trace.Node("Add", [scaled, trace.Constant("input_transform.shift", dims, shift)]);
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
}
