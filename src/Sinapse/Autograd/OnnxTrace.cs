using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using Sinapse.Tensors;

namespace Sinapse.Autograd;

/// <summary>
/// A forward pass recorded as an ONNX graph (opset 17), as torch.onnx's tracer records one: while
/// a trace is active on the thread, each op that has an ONNX form writes its node(s) next to its
/// kernel (<c>OnnxTrace.Current?.Node(...)</c>, which costs one thread-static read when nothing
/// traces) and binds its output tensor to the node's output. A tensor an op reads is the traced
/// input, an earlier op's output, a parameter or buffer (an initializer under its state_dict
/// name) or a constant made during the pass (an initializer of its own). A tensor computed by an
/// op with no ONNX form still carries that op on the autograd tape, because the traced input
/// requires a gradient, so the first traced op that reads it names the op in a one-line error.
/// </summary>
internal sealed class OnnxTrace : IDisposable
{
    public const int Opset = 17;

    [ThreadStatic] private static OnnxTrace? current;

    /// <summary>The trace recording on this thread, or null.</summary>
    public static OnnxTrace? Current => current;

    private readonly OnnxTrace? outer;
    private readonly Dictionary<Tensor, string> values = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, string> stateNames = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> taken = new(StringComparer.Ordinal);
    private readonly Dictionary<float, string> scalars = [];
    private int counter;

    /// <summary>Starts recording on this thread; <paramref name="state"/> names the parameters and buffers, <paramref name="batch"/> is the traced batch size.</summary>
    public OnnxTrace(IEnumerable<(string Name, Tensor Tensor)> state, int batch, params string[] reservedNames)
    {
        foreach (var (name, tensor) in state) stateNames.TryAdd(tensor, name);
        foreach (var name in reservedNames) taken.Add(name);
        Batch = batch;
        outer = current;
        current = this;
    }

    public void Dispose() => current = outer;

    public GraphProto Graph { get; } = new();

    /// <summary>The batch size of the traced input: a reshape that keeps it first writes 0 (copy the input's), so the batch axis stays dynamic.</summary>
    public int Batch { get; }

    /// <summary>Names <paramref name="tensor"/> <paramref name="name"/> (the graph's input, or a node's output).</summary>
    public void Bind(Tensor tensor, string name) => values[tensor] = name;

    /// <summary>
    /// The name of the value <paramref name="tensor"/>: an input or node output bound before, else an
    /// initializer added now (under its state_dict name for a parameter or buffer).
    /// </summary>
    public string Value(Tensor tensor)
    {
        if (values.TryGetValue(tensor, out var name)) return name;
        // Computed from the traced input (it is on the tape) by an op that wrote no node.
        if (tensor.Node is { } node) throw Unsupported(node.Op, "it has no ONNX form", node.Layer);
        name = stateNames.TryGetValue(tensor, out var path) ? Fresh(path) : Fresh("constant");
        AddInitializer(name, tensor.Shape.ToArray().Select(d => (long)d), tensor.Span);
        values[tensor] = name;
        return name;
    }

    /// <summary>The initializer holding <paramref name="parameter"/>'s current values under a name derived from its state_dict name plus <paramref name="suffix"/>.</summary>
    public string Derived(Tensor parameter, string suffix, IEnumerable<long> dims, ReadOnlySpan<float> data)
    {
        var name = Fresh((stateNames.GetValueOrDefault(parameter) ?? "constant") + suffix);
        AddInitializer(name, dims, data);
        return name;
    }

    /// <summary>A float initializer of shape <paramref name="dims"/>.</summary>
    public string Constant(string hint, IEnumerable<long> dims, ReadOnlySpan<float> data)
    {
        var name = Fresh(hint);
        AddInitializer(name, dims, data);
        return name;
    }

    /// <summary>A float scalar initializer, shared by every node that uses the same value.</summary>
    public string Scalar(float value)
    {
        if (!scalars.TryGetValue(value, out var name))
            scalars[value] = name = Constant("constant_" + value.ToString("R", CultureInfo.InvariantCulture), [], [value]);
        return name;
    }

    /// <summary>A 1-D int64 initializer (shapes, axes, pads).</summary>
    public string Integers(string hint, params long[] data)
    {
        var tensor = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(data.Length);
        tensor.Int64Data.AddRange(data);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a node reading <paramref name="inputs"/> ("" for an optional input left out) and returns its output's name.</summary>
    public string Node(string op, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        var scope = Scope();
        var node = new NodeProto { OpType = op, Name = Fresh(scope + op) };
        var names = inputs.ToList();
        // Optional inputs left out at the end are not written at all (a Conv without bias has two).
        while (names.Count > 0 && names[^1].Length == 0) names.RemoveAt(names.Count - 1);
        node.Input.AddRange(names);
        node.Output.Add(Fresh(scope + op + "_output"));
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return node.Output[0];
    }

    /// <summary>One node computing <paramref name="output"/> from tensors (null: an optional input left out).</summary>
    public void Node(string op, Tensor output, IEnumerable<Tensor?> inputs, params AttributeProto[] attributes) =>
        Bind(output, Node(op, inputs.Select(t => t == null ? "" : Value(t)).ToList(), attributes));

    public void Node(string op, Tensor output, Tensor input, params AttributeProto[] attributes) => Node(op, output, [input], attributes);

    /// <summary>A reshape of <paramref name="input"/> to <paramref name="output"/>'s shape; a leading batch axis is copied (0), not fixed.</summary>
    public void Reshape(Tensor input, Tensor output)
    {
        var dims = output.Shape.ToArray().Select(d => (long)d).ToArray();
        if (dims.Length > 0 && input.Rank > 0 && input.Shape[0] == Batch && dims[0] == Batch) dims[0] = 0;
        Bind(output, Node("Reshape", [Value(input), Integers("shape", dims)]));
    }

    /// <summary>The error for an op with no ONNX form: one line naming the op and the layer that ran it.</summary>
    public static NotSupportedException Unsupported(string op, string why, string? layer = null)
    {
        layer ??= AnomalyDetection.CurrentLayer;
        return new($"OnnxExport: cannot export the op '{op}'{(layer == null ? "" : $" in the layer {layer}")}: {why}.");
    }

    /// <summary>The running layer's path, for readable node names ("features.0/Conv").</summary>
    private static string Scope()
    {
        var layer = AnomalyDetection.CurrentLayer;
        // The label is "'path' (description)".
        if (layer == null || !layer.StartsWith('\'')) return "";
        var path = layer[1..layer.IndexOf('\'', 1)];
        return path.Length == 0 ? "" : path + "/";
    }

    private string Fresh(string hint)
    {
        var name = hint;
        while (!taken.Add(name)) name = $"{hint}_{++counter}";
        return name;
    }

    private void AddInitializer(string name, IEnumerable<long> dims, ReadOnlySpan<float> data)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw data is little-endian.");
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data)) };
        tensor.Dims.AddRange(dims);
        Graph.Initializer.Add(tensor);
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Text(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Ints(string name, IEnumerable<int> values) => Ints(name, values.Select(v => (long)v).ToArray());
}
