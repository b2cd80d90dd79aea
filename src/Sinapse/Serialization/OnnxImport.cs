using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Onnx;
using Sinapse.Data;
using Sinapse.IO;
using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

/// <summary>
/// Reads an ONNX model into a Sinapse module (in evaluation mode) made of the library's layers:
/// a <see cref="Sequential"/> when the graph is a chain, otherwise a <see cref="Graph"/> that
/// runs the same layers wired by name (residual Add, squeeze-and-excitation Mul, Concat, constants).
/// Either can be saved as a model directory. The operators are those the library's layers
/// compute — Conv, ConvTranspose, Gemm, MatMul, MaxPool and AveragePool (with ceil_mode,
/// count_include_pad and max-pooling dilations), GlobalAveragePool, BatchNormalization, Relu,
/// Clip (as ReLU6 or ReLU), Sigmoid, Tanh, LeakyRelu, Elu, Selu, HardSigmoid, HardSwish, Softmax,
/// LogSoftmax, Flatten, Reshape, Resize (nearest, integer scale), Add, Mul, Concat, Dropout,
/// Identity and Gather of rows by computed indices (Embedding) — with weights that must be
/// constants; the <see cref="FunctionOperators"/>, computed with the tensor ops as function steps
/// of a Graph where no layer computes them (an exported user layer: attention's products of two
/// computed values, transposes, reductions); and the <see cref="FoldedOperators"/>, which
/// the importer computes itself where they read only constants and shapes (files written by
/// torch.onnx.export hold Identity over deduplicated initializers, Constant nodes, and shape
/// arithmetic for x.view(x.size(0), −1)). A graph with function steps runs, but model.json cannot
/// describe it, so it is not saved as a model directory.
/// </summary>
/// <remarks>
/// Everything is checked before a layer is built, and each error names the file, the node and
/// the operator: a truncated or non-ONNX file, operators the library does not implement (all of
/// them, in one error), an attribute value the layers cannot compute (auto_pad SAME_LOWER, a
/// transposed Gemm input, padding that differs between sides…), and initializers whose shapes
/// do not fit their node or its input.
/// </remarks>
public static partial class OnnxImport
{
    /// <summary>The newest opset whose operators the importer knows the meaning of.</summary>
    public const int MaxOpset = 21;

    public static IReadOnlyList<string> SupportedOperators { get; } =
    [
        "Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Constant", "Conv", "ConvTranspose", "Dropout", "Elu", "Flatten", "Gemm", "GlobalAveragePool",
        "HardSigmoid", "HardSwish", "Identity", "LeakyRelu", "LogSoftmax", "MatMul", "MaxPool", "Mul", "Relu", "Reshape", "Resize", "Selu", "Sigmoid", "Softmax", "Tanh",
    ];

    public static Module Load(string path) => Load(path, out _);

    /// <summary>Reads <paramref name="path"/>; <paramref name="exampleShape"/> is one example's shape, the file's input without its batch axis.</summary>
    public static Module Load(string path, out Shape exampleShape)
    {
        InputFile.Length(path, "ONNX file", Array.MaxLength);
        return Load(Parse(File.ReadAllBytes(path), path), path, out exampleShape);
    }

    public static Module Load(byte[] data, string source = "the ONNX model") => Load(Parse(data, source), source, out _);

    internal static ModelProto Parse(byte[] data, string source)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(data);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{source} is not a readable ONNX model (truncated, or not an ONNX file): {e.Message}");
        }
        if (model.IrVersion <= 0) throw new InvalidDataException($"{source} is not an ONNX model: it has no IR version ({data.Length} bytes).");
        if (model.Graph == null || model.Graph.Node.Count == 0 && model.Graph.Output.Count == 0)
            throw new InvalidDataException($"{source} is not an ONNX model: it has no graph.");
        return model;
    }

    internal static Module Load(ModelProto model, string source) => Load(model, source, out _);

    internal static Module Load(ModelProto model, string source, out Shape exampleShape) => Load(model, source, splitTransform: false, out exampleShape);

    private static Module Load(ModelProto model, string source, bool splitTransform, out Shape exampleShape)
    {
        var importer = new Importer(model, source);
        var module = importer.Build(splitTransform);
        module.Eval();
        exampleShape = importer.BatchInputShape.Features;
        return module;
    }

    /// <summary>
    /// Reads <paramref name="path"/> as a model directory holds a model: the module, one example's
    /// shape, and the input transform and class names a Sinapse export carries as metadata. The
    /// transform's nodes are then left out of the module, which takes transformed inputs, as a
    /// trained model does; <see cref="Load(string)"/> keeps them in, for raw inputs.
    /// </summary>
    public static SavedModel LoadModel(string path)
    {
        InputFile.Length(path, "ONNX file", Array.MaxLength);
        return LoadModel(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads an ONNX model's bytes as <see cref="LoadModel(string)"/> reads a file.</summary>
    public static SavedModel LoadModel(byte[] data, string source = "the ONNX model")
    {
        var proto = Parse(data, source);
        var metadata = proto.MetadataProps.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        var transform = metadata.TryGetValue(OnnxExport.InputTransformKey, out var transformJson) ? ReadTransform(transformJson, source) : null;
        var classNames = metadata.TryGetValue(OnnxExport.ClassNamesKey, out var namesJson) ? ReadClassNames(namesJson, source) : null;
        var module = Load(proto, source, splitTransform: transform != null, out var exampleShape);
        return new SavedModel(module, exampleShape, transform, classNames);
    }

    private static InputTransform ReadTransform(string json, string source)
    {
        try
        {
            var config = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException("not a JSON object");
            return InputTransform.FromConfig(config.ToDictionary(p => p.Key, p => SavedModel.ToPlain(p.Value)));
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidDataException or InvalidOperationException)
        {
            throw new InvalidDataException($"{source}: the metadata '{OnnxExport.InputTransformKey}' is not a valid input transform: {e.Message}");
        }
    }

    private static List<string> ReadClassNames(string json, string source)
    {
        List<string>? names;
        try
        {
            names = JsonSerializer.Deserialize<List<string>>(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: the metadata '{OnnxExport.ClassNamesKey}' is not a JSON array of strings: {e.Message}");
        }
        if (names == null || names.Any(n => n == null || n.Length > SavedModel.MaxClassNameLength))
            throw new InvalidDataException($"{source}: the metadata '{OnnxExport.ClassNamesKey}' must hold names of at most {SavedModel.MaxClassNameLength} characters.");
        return names;
    }

    private sealed partial class Importer
    {
        private readonly ModelProto model;
        private readonly string source;
        private readonly int opset;
        private readonly Dictionary<string, OnnxConstant> constants = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Shape> shapes = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> aliases = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> producers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> consumers = new(StringComparer.Ordinal);
        private readonly List<GraphStep> steps = [];
        private readonly List<(string Name, Tensor Value)> usedConstants = [];
        private string input = "";
        private bool symbolicBatch;

        /// <summary>The input's shape, with a batch of one where the file leaves it open.</summary>
        public Shape BatchInputShape => shapes[input];

        public Importer(ModelProto model, string source)
        {
            this.model = model;
            this.source = source;
            var onnxOpsets = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").ToList();
            if (onnxOpsets.Count == 0) throw new InvalidDataException($"{source} imports no version of the standard ONNX operator set.");
            long version = onnxOpsets.Max(o => o.Version);
            if (version < 1 || version > MaxOpset)
                throw new InvalidDataException($"{source} uses ONNX opset {version}; the importer knows opsets 1 to {MaxOpset}.");
            opset = (int)version;
        }

        /// <param name="splitTransform">Leave out the nodes that compute the exported input transform (metadata), so the module takes transformed inputs.</param>
        public Module Build(bool splitTransform)
        {
            var graph = model.Graph;
            foreach (var (initializer, i) in graph.Initializer.Select((t, i) => (t, i)))
            {
                var constant = OnnxConstant.Read(initializer, $"{source}: initializer {i} '{initializer.Name}'");
                if (constant.Floats != null) InputFile.CheckFinite(constant.Floats, source, $"initializer {i} '{initializer.Name}'");
                constants[initializer.Name] = constant;
            }
            var inputs = graph.Input.Where(v => !constants.ContainsKey(v.Name)).ToList();
            if (inputs.Count != 1)
                throw new InvalidDataException($"{source} has {inputs.Count} inputs ({string.Join(", ", inputs.Select(v => v.Name))}) besides its initializers; a Sinapse module takes one.");
            if (graph.Output.Count != 1)
                throw new InvalidDataException($"{source} has {graph.Output.Count} outputs ({string.Join(", ", graph.Output.Select(v => v.Name))}); a Sinapse module gives one.");
            input = inputs[0].Name;
            shapes[input] = InputShape(inputs[0]);
            RefuseMissingOperators(graph);
            foreach (var node in graph.Node)
                foreach (var name in node.Input.Where(n => n.Length > 0)) consumers[name] = consumers.GetValueOrDefault(name) + 1;
            consumers[graph.Output[0].Name] = consumers.GetValueOrDefault(graph.Output[0].Name) + 1;

            var transformNodes = splitTransform ? TransformNodes(graph) : [];
            foreach (var (node, index) in TopologicalOrder(graph))
                if (!transformNodes.Contains(node)) Import(node, index);

            var output = Resolve(graph.Output[0].Name);
            if (constants.ContainsKey(output)) throw new InvalidDataException($"{source}: the output '{graph.Output[0].Name}' is a constant; there is nothing to compute.");
            if (output == input) return new Sequential();
            bool chain = usedConstants.Count == 0 && steps.All(s => s.Operation == GraphOperation.Layer) && steps[^1].Output == output
                && steps.Select((s, i) => s.Inputs[0] == (i == 0 ? input : steps[i - 1].Output)).All(x => x);
            if (chain) return new Sequential(steps.Select(s => s.Layer!).ToArray());
            return new Graph(input, output, usedConstants, steps);
        }

        private Shape InputShape(ValueInfoProto value)
        {
            string where = $"{source}: the input '{value.Name}'";
            var tensor = value.Type?.TensorType ?? throw new InvalidDataException($"{where} is not a tensor.");
            if (tensor.ElemType != (int)TensorProto.Types.DataType.Float)
                throw new InvalidDataException($"{where} holds {(TensorProto.Types.DataType)tensor.ElemType}; Sinapse models take float32.");
            if (tensor.Shape == null) throw new InvalidDataException($"{where} has no shape; the importer needs the sizes of its axes (all but the batch axis).");
            var dims = new int[tensor.Shape.Dim.Count];
            for (int axis = 0; axis < dims.Length; axis++)
            {
                var dim = tensor.Shape.Dim[axis];
                if (dim.HasDimValue && dim.DimValue > 0 && dim.DimValue <= int.MaxValue) dims[axis] = (int)dim.DimValue;
                // A symbolic batch axis: shapes are followed through the graph with a batch of one.
                else if (axis == 0 && !dim.HasDimValue) (dims[axis], symbolicBatch) = (1, true);
                else throw new InvalidDataException($"{where} has {(dim.HasDimValue ? $"the size {dim.DimValue}" : $"the symbolic size '{dim.DimParam}'")} on axis {axis}; only the batch axis (0) may vary.");
            }
            return new Shape(dims);
        }

        /// <summary>
        /// The nodes that compute the value the export named as the transformed input, back to the
        /// input; that value becomes the input itself.
        /// </summary>
        private HashSet<NodeProto> TransformNodes(GraphProto graph)
        {
            var transformed = model.MetadataProps.LastOrDefault(p => p.Key == OnnxExport.TransformedInputKey)?.Value
                ?? throw new InvalidDataException($"{source} has an input transform in its metadata but no '{OnnxExport.TransformedInputKey}' naming the value it computes.");
            var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).GroupBy(p => p.o).ToDictionary(g => g.Key, g => g.First().n);
            var nodes = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
            var pending = new Stack<string>([transformed]);
            while (pending.Count > 0)
            {
                var name = pending.Pop();
                if (name == input || constants.ContainsKey(name)) continue;
                if (!producers.TryGetValue(name, out var node))
                    throw new InvalidDataException($"{source}: the transformed input '{transformed}' named in the metadata is not computed from the input '{input}'.");
                if (nodes.Add(node)) foreach (var read in node.Input.Where(n => n.Length > 0)) pending.Push(read);
            }
            aliases[transformed] = input;
            return nodes;
        }

        /// <summary>The nodes in an order where each reads only values defined before it (ONNX requires it; checked rather than trusted).</summary>
        private IEnumerable<(NodeProto Node, int Index)> TopologicalOrder(GraphProto graph)
        {
            var defined = new HashSet<string>(constants.Keys, StringComparer.Ordinal) { input };
            var pending = graph.Node.Select((n, i) => (n, i)).ToList();
            while (pending.Count > 0)
            {
                int ready = pending.FindIndex(p => p.n.Input.All(name => name.Length == 0 || defined.Contains(name)));
                if (ready < 0)
                {
                    var (node, index) = pending[0];
                    var missing = node.Input.First(name => name.Length > 0 && !defined.Contains(name));
                    throw new InvalidDataException($"{Where(node, index)} reads '{missing}', which no node, initializer or input defines (or the graph has a cycle).");
                }
                var next = pending[ready];
                pending.RemoveAt(ready);
                foreach (var name in next.n.Output.Where(n => n.Length > 0)) defined.Add(name);
                yield return next;
            }
        }

        /// <summary>
        /// One error that lists every operator the importer does not implement, each with its
        /// first node (and how many more use it), before any node is read: a model that needs
        /// several is refused once, not once per operator.
        /// </summary>
        private void RefuseMissingOperators(GraphProto graph)
        {
            var missing = graph.Node.Select((node, index) => (Node: node, Index: index))
                .Where(n => n.Node.Domain is not ("" or "ai.onnx") || !SupportedOperators.Contains(n.Node.OpType) && !FoldedOperators.Contains(n.Node.OpType) && !FunctionOperators.Contains(n.Node.OpType))
                .GroupBy(n => n.Node.Domain is "" or "ai.onnx" ? n.Node.OpType : $"{n.Node.Domain}.{n.Node.OpType}")
                .Select(g => $"'{g.Key}' (node {g.First().Index}{(g.First().Node.Name.Length > 0 ? $" '{g.First().Node.Name}'" : "")}{(g.Count() > 1 ? $", and {g.Count() - 1} more" : "")})")
                .ToList();
            if (missing.Count > 0)
                throw new InvalidDataException($"{source}: cannot import: the model uses operators Sinapse does not implement: {string.Join(", ", missing)}.");
        }

        private string Where(NodeProto node, int index) =>
            $"{source}: node {index}{(node.Name.Length > 0 ? $" '{node.Name}'" : "")} ({node.OpType})";

        private string Resolve(string name) => aliases.TryGetValue(name, out var target) ? target : name;

        private void Import(NodeProto node, int index)
        {
            var where = Where(node, index);
            if (node.Output.Count == 0 || node.Output[0].Length == 0) throw new InvalidDataException($"{where} has no output.");
            for (int i = 1; i < node.Output.Count; i++)
                if (node.Output[i].Length > 0 && consumers.ContainsKey(node.Output[i]))
                    throw new InvalidDataException($"{where}: its output {i} ('{node.Output[i]}') is used, but the importer only computes the first output of {node.OpType}.");
            var node_ = new NodeReader(node, where, this);
            if (TryFold(node_)) return;
            switch (node.OpType)
            {
                case "Identity": node_.Allow(); Alias(node_); break;
                case "Dropout": ImportDropout(node_); break;
                case "Relu": node_.Allow(); AddLayer(node_, new Relu()); break;
                case "Sigmoid": node_.Allow(); AddLayer(node_, new Sigmoid()); break;
                case "Tanh": node_.Allow(); AddLayer(node_, new Tanh()); break;
                case "HardSwish": node_.Allow(); AddLayer(node_, new HardSwish()); break;
                case "LeakyRelu": node_.Allow("alpha"); AddLayer(node_, new LeakyRelu(node_.Float("alpha", 0.01f))); break;
                case "Elu": node_.Allow("alpha"); AddLayer(node_, new Elu(node_.Float("alpha", 1f))); break;
                case "Selu":
                {
                    node_.Allow("alpha", "gamma");
                    float alpha = node_.Float("alpha", 1.67326319217681884765625f), gamma = node_.Float("gamma", 1.05070102214813232421875f);
                    if (!Close(alpha, F.SeluAlpha) || !Close(gamma, F.SeluScale))
                        throw new InvalidDataException($"{where} has alpha = {Format(alpha)} and gamma = {Format(gamma)}; Sinapse's SELU has the fixed constants {Format(F.SeluAlpha)} and {Format(F.SeluScale)}.");
                    AddLayer(node_, new Selu());
                    break;
                }
                case "HardSigmoid":
                {
                    node_.Allow("alpha", "beta");
                    float alpha = node_.Float("alpha", 0.2f), beta = node_.Float("beta", 0.5f);
                    if (!Close(alpha, 1f / 6f) || !Close(beta, 0.5f))
                        throw new InvalidDataException($"{where} has alpha = {Format(alpha)} and beta = {Format(beta)}; Sinapse's hard sigmoid is PyTorch's, alpha = 1/6 and beta = 0.5.");
                    AddLayer(node_, new HardSigmoid());
                    break;
                }
                case "Clip": ImportClip(node_); break;
                case "Softmax" or "LogSoftmax": ImportSoftmax(node_); break;
                case "Flatten": ImportFlatten(node_); break;
                case "Reshape": ImportReshape(node_); break;
                case "GlobalAveragePool": node_.Allow(); AddLayer(node_, new GlobalAvgPool2d()); break;
                case "MaxPool" or "AveragePool": ImportPool(node_); break;
                case "Conv": ImportConv(node_); break;
                case "ConvTranspose": ImportConvTranspose(node_); break;
                case "Gemm": ImportGemm(node_); break;
                case "MatMul": ImportMatMul(node_); break;
                case "BatchNormalization": ImportBatchNorm(node_); break;
                case "Add": ImportBinary(node_, GraphOperation.Add); break;
                case "Mul": ImportBinary(node_, GraphOperation.Multiply); break;
                case "Concat": ImportConcat(node_); break;
                case "Resize": ImportResize(node_); break;
                case "Cast": ImportIndexCast(node_); break;
                case "Gather" when node.Input.Count > 0 && constants.ContainsKey(Resolve(node.Input[0])): ImportEmbedding(node_); break;
                default:
                    if (TryImportFunction(node_)) break;
                    // What is left of the folded operators: those that read a computed value.
                    var computed = node.Input.FirstOrDefault(name => name.Length > 0 && !constants.ContainsKey(Resolve(name)));
                    throw new InvalidDataException(computed == null ? $"{where} lacks an input it needs."
                        : $"{where} reads '{computed}', computed from the model's input; the importer computes {node.OpType} only on constants and shapes.");
            }
        }

        private static bool Close(float a, float b) => Math.Abs(a - b) <= 1e-6f * Math.Max(1f, Math.Abs(b));

        private static string Format(float value) => value.ToString("G7", CultureInfo.InvariantCulture);

        // ---- the operators ----

        private void Alias(NodeReader node) => aliases[node.Output] = node.Dynamic(0);

        private void ImportDropout(NodeReader node)
        {
            // The ratio and the seed only matter in training; is_test (opset < 7) says inference.
            node.Allow("ratio", "seed", "is_test", "consumed_inputs");
            if (node.Count > 2 && node.Node.Input[2].Length > 0)
            {
                var training = node.Constant(2, "training_mode");
                if (training.AsFloats().Any(v => v != 0f)) throw new InvalidDataException($"{node.Where} runs in training mode; the importer builds inference models.");
            }
            Alias(node);
        }

        private void ImportClip(NodeReader node)
        {
            float min, max;
            if (opset < 11)
            {
                node.Allow("min", "max", "consumed_inputs");
                (min, max) = (node.Float("min", float.NegativeInfinity, infinityAllowed: true), node.Float("max", float.PositiveInfinity, infinityAllowed: true));
            }
            else
            {
                node.Allow();
                min = node.Count > 1 && node.Node.Input[1].Length > 0 ? node.Scalar(1, "min") : float.NegativeInfinity;
                max = node.Count > 2 && node.Node.Input[2].Length > 0 ? node.Scalar(2, "max") : float.PositiveInfinity;
            }
            Module layer = (min, max) switch
            {
                (0f, 6f) => new Relu6(),
                (0f, float.PositiveInfinity) => new Relu(),
                _ => throw new InvalidDataException($"{node.Where} clips to [{Format(min)}, {Format(max)}]; the importer supports [0, 6] (ReLU6) and [0, ∞) (ReLU)."),
            };
            AddLayer(node, layer);
        }

        private void ImportSoftmax(NodeReader node)
        {
            node.Allow("axis");
            var shape = shapes[node.Dynamic(0)];
            // Before opset 13 the axis (default 1) split the input into rows and columns; from 13 on it is one axis (default −1). Both are Sinapse's last-axis softmax when they name the last axis.
            long axis = node.Int("axis", opset < 13 ? 1 : -1);
            long resolved = axis < 0 ? axis + shape.Rank : axis;
            if (opset < 13 && resolved != shape.Rank - 1)
                throw new InvalidDataException($"{node.Where} has axis = {axis} for the input {shape}; before opset 13 the importer supports the last axis ({shape.Rank - 1}) only.");
            // Over another axis it is the op, as a function step; the layers run over the last.
            if (resolved != shape.Rank - 1)
            {
                TryImportFunction(node);
                return;
            }
            AddLayer(node, node.Node.OpType == "Softmax" ? new Layers.Softmax() : new LogSoftmax());
        }

        private void ImportFlatten(NodeReader node)
        {
            node.Allow("axis");
            var shape = shapes[node.Dynamic(0)];
            long axis = node.Int("axis", 1);
            if ((axis < 0 ? axis + shape.Rank : axis) != 1 || shape.Rank < 2)
                throw new InvalidDataException($"{node.Where} has axis = {axis} for the input {shape}; Sinapse's Flatten keeps the batch axis (axis = 1).");
            AddLayer(node, new Flatten());
        }

        private void ImportReshape(NodeReader node)
        {
            if (opset < 5) throw new InvalidDataException($"{node.Where}: Reshape of opset {opset} (shape as an attribute) is not supported; opset 5 or later is.");
            node.Allow("allowzero");
            if (node.Int("allowzero", 0) != 0) throw new InvalidDataException($"{node.Where} has allowzero = 1, which is not supported.");
            var shape = shapes[node.Dynamic(0)];
            var target = ReshapeTarget(node);
            // The batch axis must stay first: 0 (copy) or −1 (inferred) or the batch itself, the rest fixed.
            var rest = target.Skip(1).ToArray();
            long features = shape.Size / Math.Max(shape[0], 1);
            bool keepsBatch = target.Length >= 2 && (target[0] is 0 or -1 || target[0] == shape[0]) && rest.All(d => d > 0) && rest.Aggregate(1L, (a, b) => a * b) == features
                || target.Length == 2 && (target[0] is 0 || target[0] == shape[0]) && target[1] == -1;
            // Any other reshape (of attention heads, say) is the op itself, as a function step.
            if (keepsBatch && target.Length == 2) AddLayer(node, new Flatten());
            else if (keepsBatch && shape.Rank == 2) AddLayer(node, new Unflatten(rest.Select(d => (int)d).ToArray()));
            else TryImportFunction(node);
        }

        /// <summary>
        /// A Reshape's target shape; where it holds the symbolic batch size (x.view(x.size(0), −1)
        /// exported with a dynamic batch), that can only be its first axis, read as 0: keep the batch.
        /// </summary>
        private long[] ReshapeTarget(NodeReader node)
        {
            var name = node.Count > 1 ? Resolve(node.Node.Input[1]) : "";
            if (!batchSized.TryGetValue(name, out var batch)) return node.Constant(1, "shape").AsIntegers($"{node.Where}: the shape");
            if (!batch[0] || batch.Skip(1).Any(b => b)) throw BatchDependent(node, "the shape", node.Node.Input[1]);
            return [0, .. constants[name].Integers![1..]];
        }

        private void ImportPool(NodeReader node)
        {
            bool max = node.Node.OpType == "MaxPool";
            node.Allow(max ? ["kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "dilations", "storage_order"] : ["kernel_shape", "strides", "pads", "auto_pad", "ceil_mode", "count_include_pad", "dilations"]);
            var shape = shapes[node.Dynamic(0)];
            var kernel = node.Ints("kernel_shape") ?? throw new InvalidDataException($"{node.Where} has no kernel_shape.");
            int axes = kernel.Length;
            if (axes is not (1 or 2) || shape.Rank != axes + 2)
                throw new InvalidDataException($"{node.Where} pools {axes} axes of the input {shape}; the importer supports 1-D ([N, C, L]) and 2-D ([N, C, H, W]) pooling.");
            var strides = node.Ints("strides") ?? Enumerable.Repeat(1L, axes).ToArray();
            var dilations = node.Ints("dilations") ?? Enumerable.Repeat(1L, axes).ToArray();
            if (strides.Length != axes || dilations.Length != axes) throw new InvalidDataException($"{node.Where} has strides or dilations for another number of axes than {axes}.");
            if (!max && dilations.Any(d => d != 1)) throw new InvalidDataException($"{node.Where} has dilations [{string.Join(", ", dilations)}]; Sinapse's average pooling, as PyTorch's, has none.");
            if (max && node.Int("storage_order", 0) != 0) throw new InvalidDataException($"{node.Where} has storage_order = 1, which is not supported.");
            bool ceilMode = node.Int("ceil_mode", 0) != 0;
            // ONNX's default is to leave the padding out of the average (PyTorch's is to count it).
            bool countIncludePad = node.Int("count_include_pad", 0) != 0;
            var pads = Pads(node, shape, kernel, strides, dilations, allowTensorFlowSame: false).Explicit!;
            if (Enumerable.Range(0, axes).Any(a => pads[a] != pads[a + axes]))
                throw new InvalidDataException($"{node.Where} has pads [{string.Join(", ", pads)}]; Sinapse's pooling pads both ends of an axis alike.");
            int I(long v) => checked((int)v);
            Module layer;
            try
            {
                layer = axes == 2
                    ? max ? new MaxPool2d((I(kernel[0]), I(kernel[1])), (I(strides[0]), I(strides[1])), (I(pads[0]), I(pads[1])), (I(dilations[0]), I(dilations[1])), ceilMode)
                          : new AvgPool2d((I(kernel[0]), I(kernel[1])), (I(strides[0]), I(strides[1])), (I(pads[0]), I(pads[1])), ceilMode, countIncludePad)
                    : max ? new MaxPool1d(I(kernel[0]), I(strides[0]), I(pads[0]), I(dilations[0]), ceilMode)
                          : new AvgPool1d(I(kernel[0]), I(strides[0]), I(pads[0]), ceilMode, countIncludePad);
            }
            catch (ArgumentException e)
            {
                // Settings PyTorch's pooling refuses too, such as padding over half the kernel.
                throw new InvalidDataException($"{node.Where}: {e.Message}");
            }
            AddLayer(node, layer);
        }

        /// <summary>
        /// Explicit pads [begin…, end…] from pads or auto_pad; SAME_UPPER is TensorFlow's "SAME"
        /// (returned as such for convolutions, which follow the input size at run time).
        /// </summary>
        private (long[]? Explicit, bool TensorFlowSame) Pads(NodeReader node, Shape shape, long[] kernel, long[] strides, long[] dilations, bool allowTensorFlowSame)
        {
            int axes = kernel.Length;
            var autoPad = node.Text("auto_pad", "NOTSET");
            switch (autoPad)
            {
                case "NOTSET" or "":
                    var pads = node.Ints("pads") ?? new long[2 * axes];
                    if (pads.Length != 2 * axes || pads.Any(p => p < 0))
                        throw new InvalidDataException($"{node.Where} has pads [{string.Join(", ", pads)}]; {2 * axes} non-negative values are needed for {axes} axes.");
                    return (pads, false);
                case "VALID":
                    return (new long[2 * axes], false);
                case "SAME_UPPER":
                    if (allowTensorFlowSame) return (null, true);
                    var same = new long[2 * axes];
                    for (int a = 0; a < axes; a++)
                    {
                        var (begin, end) = Layers.Padding.TensorFlowSame.Resolve(shape[2 + a], (int)kernel[a], (int)dilations[a], (int)strides[a], node.Where);
                        (same[a], same[a + axes]) = (begin, end);
                    }
                    return (same, false);
                default:
                    throw new InvalidDataException($"{node.Where} has auto_pad = {autoPad}, which is not supported (NOTSET, SAME_UPPER and VALID are).");
            }
        }

        private void ImportConv(NodeReader node)
        {
            node.Allow("kernel_shape", "strides", "pads", "auto_pad", "dilations", "group");
            var x = node.Dynamic(0);
            var shape = shapes[x];
            var weight = node.Constant(1, "W");
            var bias = node.Count > 2 && node.Node.Input[2].Length > 0 ? node.Constant(2, "B") : null;
            int axes = weight.Dims.Length - 2;
            if (axes is not (1 or 2) || shape.Rank != axes + 2)
                throw new InvalidDataException($"{node.Where}: the weight {weight.ShapeText} and the input {shape} make a {axes}-D convolution; the importer supports 1-D and 2-D ones.");
            var kernel = weight.Dims[2..];
            if (node.Ints("kernel_shape") is { } declared && !declared.SequenceEqual(kernel))
                throw new InvalidDataException($"{node.Where} has kernel_shape [{string.Join(", ", declared)}] but its weight is {weight.ShapeText}.");
            var strides = node.Ints("strides") ?? Enumerable.Repeat(1L, axes).ToArray();
            var dilations = node.Ints("dilations") ?? Enumerable.Repeat(1L, axes).ToArray();
            long group = node.Int("group", 1);
            if (strides.Length != axes || dilations.Length != axes) throw new InvalidDataException($"{node.Where} has strides or dilations for another number of axes than {axes}.");
            if (kernel.Distinct().Count() > 1 || strides.Distinct().Count() > 1 || dilations.Distinct().Count() > 1)
                throw new InvalidDataException($"{node.Where} has kernel [{string.Join(", ", kernel)}], strides [{string.Join(", ", strides)}] and dilations [{string.Join(", ", dilations)}]; " +
                    "Sinapse's convolutions have square kernels and the same stride and dilation on both axes.");
            var (pads, tensorFlowSame) = Pads(node, shape, kernel, strides, dilations, allowTensorFlowSame: true);
            int k = (int)kernel[0], stride = (int)strides[0], dilation = (int)dilations[0];
            Padding padding;
            if (tensorFlowSame || pads!.Distinct().Count() == 1) padding = tensorFlowSame ? Layers.Padding.TensorFlowSame : (int)pads![0];
            else if (axes == 2 && SameAsTensorFlow(pads!, shape, k, dilation, stride)) padding = Layers.Padding.TensorFlowSame;
            else throw new InvalidDataException($"{node.Where} has pads [{string.Join(", ", pads!)}] for the input {shape}; Sinapse's convolutions pad every side alike, or as TensorFlow's SAME (SAME_UPPER).");
            long outChannels = weight.Dims[0];
            if (group < 1 || outChannels % group != 0)
                throw new InvalidDataException($"{node.Where} has group = {group}, which does not divide the weight's {outChannels} output channels ({weight.ShapeText}).");
            int inChannels = checked((int)(weight.Dims[1] * group));
            if (shape[1] != inChannels)
                throw new InvalidDataException($"{node.Where}: the weight '{node.Node.Input[1]}' {weight.ShapeText} with group = {group} needs {inChannels} input channels, but the input {shape} has {shape[1]}.");
            CheckBias(node, bias, outChannels, "B");
            ConvolutionLayer layer = axes == 2
                ? new Conv2d(inChannels, (int)outChannels, k, stride, padding, dilation, (int)group, useBias: bias != null)
                : new Conv1d(inChannels, (int)outChannels, k, stride, padding, dilation, (int)group, useBias: bias != null);
            weight.AsFloats().CopyTo(layer.Weight.Span);
            bias?.AsFloats().CopyTo(layer.Bias!.Span);
            AddLayer(node, layer);
        }

        /// <summary>Whether explicit pads [top, left, bottom, right] are what TensorFlow's SAME gives for this input.</summary>
        private static bool SameAsTensorFlow(long[] pads, Shape shape, int kernel, int dilation, int stride)
        {
            var (top, bottom) = Layers.Padding.TensorFlowSame.Resolve(shape[2], kernel, dilation, stride, "");
            var (left, right) = Layers.Padding.TensorFlowSame.Resolve(shape[3], kernel, dilation, stride, "");
            return pads.SequenceEqual(new long[] { top, left, bottom, right });
        }

        private void CheckBias(NodeReader node, OnnxConstant? bias, long channels, string role)
        {
            if (bias != null && (bias.Dims.Length != 1 || bias.Dims[0] != channels))
                throw new InvalidDataException($"{node.Where}: the bias {role} '{node.Node.Input[2]}' has shape {bias.ShapeText}; it needs [{channels}].");
        }

        private void ImportConvTranspose(NodeReader node)
        {
            node.Allow("kernel_shape", "strides", "pads", "auto_pad", "dilations", "group", "output_padding", "output_shape");
            var shape = shapes[node.Dynamic(0)];
            var weight = node.Constant(1, "W");
            var bias = node.Count > 2 && node.Node.Input[2].Length > 0 ? node.Constant(2, "B") : null;
            if (weight.Dims.Length != 4 || shape.Rank != 4)
                throw new InvalidDataException($"{node.Where}: the weight {weight.ShapeText} and the input {shape}: the importer supports 2-D transposed convolutions.");
            if (node.Ints("output_shape") != null) throw new InvalidDataException($"{node.Where} has output_shape, which is not supported (give pads and output_padding).");
            if (node.Text("auto_pad", "NOTSET") is not ("NOTSET" or "")) throw new InvalidDataException($"{node.Where} has auto_pad = {node.Text("auto_pad", "")}, which is not supported for ConvTranspose.");
            var kernel = weight.Dims[2..];
            if (node.Ints("kernel_shape") is { } declared && !declared.SequenceEqual(kernel))
                throw new InvalidDataException($"{node.Where} has kernel_shape [{string.Join(", ", declared)}] but its weight is {weight.ShapeText}.");
            long[] PerAxis(string name, long fallback)
            {
                var values = node.Ints(name) ?? [fallback, fallback];
                if (values.Length != 2) throw new InvalidDataException($"{node.Where} has {name} [{string.Join(", ", values)}]; a 2-D transposed convolution needs one value per axis.");
                return values;
            }
            var (strides, dilations, outputPadding) = (PerAxis("strides", 1), PerAxis("dilations", 1), PerAxis("output_padding", 0));
            var pads = node.Ints("pads") ?? new long[4];
            if (pads.Length != 4) throw new InvalidDataException($"{node.Where} has pads [{string.Join(", ", pads)}]; a 2-D transposed convolution needs [top, left, bottom, right].");
            // ONNX crops pads[begin] and pads[end] - output_padding at the ends; PyTorch crops p at the
            // start and p - output_padding at the end, so p = pads[begin] and the output padding takes the difference.
            for (int a = 0; a < 2; a++)
            {
                outputPadding[a] += pads[a] - pads[a + 2];
                if (outputPadding[a] < 0)
                    throw new InvalidDataException($"{node.Where} has pads [{string.Join(", ", pads)}] and output_padding [{string.Join(", ", node.Ints("output_padding") ?? [0, 0])}]: " +
                        "it crops more at the end of an axis than at its start, which Sinapse's ConvTranspose2d (as PyTorch's) cannot.");
            }
            long group = node.Int("group", 1);
            if (group < 1 || weight.Dims[0] % group != 0 || shape[1] != weight.Dims[0])
                throw new InvalidDataException($"{node.Where}: the weight '{node.Node.Input[1]}' {weight.ShapeText} with group = {group} does not fit the input {shape} (it needs {weight.Dims[0]} input channels).");
            long outChannels = weight.Dims[1] * group;
            CheckBias(node, bias, outChannels, "B");
            int I(long v) => checked((int)v);
            ConvTranspose2d layer;
            try
            {
                layer = new ConvTranspose2d(I(weight.Dims[0]), I(outChannels), (I(kernel[0]), I(kernel[1])), (I(strides[0]), I(strides[1])), (I(pads[0]), I(pads[1])),
                    (I(outputPadding[0]), I(outputPadding[1])), (I(dilations[0]), I(dilations[1])), I(group), useBias: bias != null);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{node.Where}: {e.Message}");
            }
            weight.AsFloats().CopyTo(layer.Weight.Span);
            bias?.AsFloats().CopyTo(layer.Bias!.Span);
            AddLayer(node, layer);
        }

        private void ImportGemm(NodeReader node)
        {
            node.Allow("alpha", "beta", "transA", "transB", "broadcast");
            var shape = shapes[node.Dynamic(0)];
            if (node.Int("transA", 0) != 0) throw new InvalidDataException($"{node.Where} has transA = 1 (a transposed input), which is not supported: the batch must be the first axis of A.");
            var b = node.Constant(1, "B");
            if (b.Dims.Length != 2) throw new InvalidDataException($"{node.Where}: B '{node.Node.Input[1]}' has shape {b.ShapeText}; Gemm needs a matrix.");
            bool transB = node.Int("transB", 0) != 0;
            float alpha = node.Float("alpha", 1f), beta = node.Float("beta", 1f);
            int outFeatures = (int)(transB ? b.Dims[0] : b.Dims[1]), inFeatures = (int)(transB ? b.Dims[1] : b.Dims[0]);
            if (shape.Rank != 2 || shape[1] != inFeatures)
                throw new InvalidDataException($"{node.Where}: B '{node.Node.Input[1]}' {b.ShapeText}{(transB ? " (transposed)" : "")} needs an input [N, {inFeatures}], but the input is {shape}.");
            var c = node.Count > 2 && node.Node.Input[2].Length > 0 ? node.Constant(2, "C") : null;
            if (c != null && !(c.Count == 1 || c.Count == outFeatures && c.Dims.Length >= 1 && c.Dims[^1] == outFeatures && c.Dims.SkipLast(1).All(d => d == 1)))
                throw new InvalidDataException($"{node.Where}: the bias C '{node.Node.Input[2]}' has shape {c.ShapeText}; the importer needs one value per output ([{outFeatures}] or [1, {outFeatures}]) or a scalar.");
            var layer = new Linear(inFeatures, outFeatures, useBias: c != null);
            var w = b.AsFloats();
            var target = layer.Weight.Span;
            for (int o = 0; o < outFeatures; o++)
                for (int i = 0; i < inFeatures; i++) target[o * inFeatures + i] = alpha * (transB ? w[o * inFeatures + i] : w[i * outFeatures + o]);
            if (c != null)
            {
                var values = c.AsFloats();
                var biasSpan = layer.Bias!.Span;
                for (int o = 0; o < outFeatures; o++) biasSpan[o] = beta * values[values.Length == 1 ? 0 : o];
            }
            AddLayer(node, layer);
        }

        private void ImportMatMul(NodeReader node)
        {
            // A product with a constant matrix is a Linear layer; one of two computed values, a function step.
            if (constants.ContainsKey(Resolve(node.Node.Input[0])) || node.Count < 2 || !constants.TryGetValue(Resolve(node.Node.Input[1]), out var matrix) || matrix.Dims.Length != 2)
            {
                TryImportFunction(node);
                return;
            }
            node.Allow();
            var shape = shapes[node.Dynamic(0)];
            var b = node.Constant(1, "B");
            if (b.Dims.Length != 2 || shape.Rank < 2 || shape[^1] != b.Dims[0])
                throw new InvalidDataException($"{node.Where}: B '{node.Node.Input[1]}' has shape {b.ShapeText} and the input {shape}; the importer supports [..., K] · [K, M] with a constant matrix.");
            int inFeatures = (int)b.Dims[0], outFeatures = (int)b.Dims[1];
            var layer = new Linear(inFeatures, outFeatures, useBias: false);
            var w = b.AsFloats();
            var target = layer.Weight.Span;
            for (int o = 0; o < outFeatures; o++)
                for (int i = 0; i < inFeatures; i++) target[o * inFeatures + i] = w[i * outFeatures + o];
            AddLayer(node, layer);
        }

        private void ImportBatchNorm(NodeReader node)
        {
            node.Allow("epsilon", "momentum", "training_mode", "spatial", "is_test", "consumed_inputs");
            if (node.Int("training_mode", 0) != 0) throw new InvalidDataException($"{node.Where} has training_mode = 1; the importer builds inference models (running statistics).");
            if (node.Int("spatial", 1) != 1) throw new InvalidDataException($"{node.Where} has spatial = 0 (statistics per position), which is not supported.");
            var shape = shapes[node.Dynamic(0)];
            if (node.Count != 5) throw new InvalidDataException($"{node.Where} has {node.Count} inputs; BatchNormalization needs X, scale, B, mean and var.");
            if (shape.Rank is < 2 or > 4) throw new InvalidDataException($"{node.Where}: the input {shape} is not [N, C], [N, C, L] or [N, C, H, W].");
            int channels = shape[1];
            var parameters = new[] { "scale", "B", "mean", "var" }.Select((role, i) =>
            {
                var value = node.Constant(i + 1, role);
                if (value.Count != channels || value.Dims.Length != 1)
                    throw new InvalidDataException($"{node.Where}: {role} '{node.Node.Input[i + 1]}' has shape {value.ShapeText}; the input {shape} has {channels} channels, so it needs [{channels}].");
                return value.AsFloats();
            }).ToArray();
            float eps = node.Float("epsilon", 1e-5f);
            BatchNormBase layer = shape.Rank == 4 ? new BatchNorm2d(channels, eps) : new BatchNorm1d(channels, eps);
            parameters[0].CopyTo(layer.Weight!.Span);
            parameters[1].CopyTo(layer.Bias!.Span);
            parameters[2].CopyTo(layer.RunningMean!.Span);
            parameters[3].CopyTo(layer.RunningVar!.Span);
            AddLayer(node, layer);
        }

        private void ImportResize(NodeReader node)
        {
            if (opset < 10) throw new InvalidDataException($"{node.Where}: Resize needs opset 10 or later.");
            node.Allow("mode", "coordinate_transformation_mode", "nearest_mode", "cubic_coeff_a", "exclude_outside", "extrapolation_value");
            var shape = shapes[node.Dynamic(0)];
            var mode = node.Text("mode", "nearest");
            if (mode != "nearest") throw new InvalidDataException($"{node.Where} has mode = {mode}; the importer supports nearest-neighbour Resize.");
            // With opset 10 the coordinates are implicitly asymmetric and rounded down.
            var coordinates = opset < 11 ? "asymmetric" : node.Text("coordinate_transformation_mode", "half_pixel");
            var rounding = opset < 11 ? "floor" : node.Text("nearest_mode", "round_prefer_floor");
            int scalesInput = opset < 11 ? 1 : 2;
            if (node.Count <= scalesInput || node.Node.Input[scalesInput].Length == 0)
                throw new InvalidDataException($"{node.Where} gives sizes instead of scales, which is not supported.");
            if (node.Count > scalesInput + 1 && node.Node.Input[scalesInput + 1].Length > 0 && constants.TryGetValue(node.Node.Input[scalesInput + 1], out var sizes) && sizes.Count > 0)
                throw new InvalidDataException($"{node.Where} gives sizes, which is not supported (give scales).");
            var scales = node.Constant(scalesInput, "scales").AsFloats();
            bool integer = scales.Length == 4 && scales[0] == 1f && scales[1] == 1f && scales[2] == scales[3] && scales[2] >= 1f && scales[2] == MathF.Floor(scales[2]);
            bool exact = (coordinates, rounding) is ("asymmetric", "floor") or ("half_pixel" or "pytorch_half_pixel", "round_prefer_floor" or "round_prefer_ceil");
            if (!integer || !exact || shape.Rank != 4)
                throw new InvalidDataException($"{node.Where} resizes {shape} by [{string.Join(", ", scales.Select(Format))}] with {coordinates} coordinates and {rounding} rounding; " +
                    "the importer supports nearest upsampling of [N, C, H, W] by one integer factor on both axes (asymmetric + floor, or half_pixel + round).");
            AddLayer(node, new Upsample((int)scales[2]));
        }

        private void ImportBinary(NodeReader node, GraphOperation operation)
        {
            node.Allow("broadcast", "axis", "consumed_inputs");
            if (node.Count != 2) throw new InvalidDataException($"{node.Where} has {node.Count} inputs; it needs 2.");
            var a = Resolve(node.Node.Input[0]);
            var b = Resolve(node.Node.Input[1]);
            bool aConstant = constants.ContainsKey(a), bConstant = constants.ContainsKey(b);
            if (opset < 7 && node.Node.Attribute.Any(x => x.Name == "axis"))
                throw new InvalidDataException($"{node.Where} broadcasts along an axis (opset {opset}), which is not supported.");
            // MatMul followed by the addition of a bias: one Linear with a bias.
            var dynamic = aConstant ? b : a;
            var constantName = aConstant ? a : bConstant ? b : null;
            if (operation == GraphOperation.Add && constantName != null && producers.TryGetValue(dynamic, out int step) && steps[step].Layer is Linear { Bias: null } linear
                && consumers.GetValueOrDefault(dynamic) == 1 && constants[constantName] is { } biasValue && biasValue.Count == linear.OutFeatures
                && biasValue.Dims.Length >= 1 && biasValue.Dims[^1] == linear.OutFeatures && biasValue.Dims.SkipLast(1).All(d => d == 1) && biasValue.Dims.Length <= shapes[dynamic].Rank)
            {
                var fused = new Linear(linear.InFeatures, linear.OutFeatures, useBias: true);
                linear.Weight.Span.CopyTo(fused.Weight.Span);
                biasValue.AsFloats().CopyTo(fused.Bias!.Span);
                steps[step] = steps[step] with { Layer = fused, Output = node.Output };
                producers.Remove(dynamic);
                producers[node.Output] = step;
                shapes[node.Output] = shapes[dynamic];
                return;
            }
            Shape result;
            try
            {
                result = Shape.Broadcast(ShapeOf(a), ShapeOf(b), node.Node.OpType);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{node.Where}: {e.Message}");
            }
            AddStep(new GraphStep(operation, [a, b], node.Output), result);
        }

        private void ImportConcat(NodeReader node)
        {
            node.Allow("axis");
            if (node.Count == 0) throw new InvalidDataException($"{node.Where} has no inputs.");
            var inputs = node.Node.Input.Select(Resolve).ToList();
            int axis = checked((int)node.Int("axis", 1));
            Shape result;
            try
            {
                result = F.ConcatShape(inputs.Select(ShapeOf).ToList(), axis);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{node.Where}: {e.Message}");
            }
            AddStep(new GraphStep(GraphOperation.Concat, inputs, node.Output, Axis: axis), result);
        }

        private Shape ShapeOf(string name) => constants.TryGetValue(name, out var c) ? new Shape(c.Shape) : shapes[name];

        /// <summary>Appends a step that combines values, binding the constants it reads as the graph's buffers.</summary>
        private void AddStep(GraphStep step, Shape output)
        {
            foreach (var name in step.Inputs.Where(constants.ContainsKey).Where(n => usedConstants.All(u => u.Name != n)))
                usedConstants.Add((name, constants[name].ToTensor()));
            producers[step.Output] = steps.Count;
            steps.Add(step);
            shapes[step.Output] = output;
        }

        /// <summary>Appends <paramref name="layer"/> run on the node's computed input <paramref name="input"/>.</summary>
        private void AddLayer(NodeReader node, Module layer, int input = 0)
        {
            var x = node.Dynamic(input);
            Shape output;
            try
            {
                output = layer.OutputShape(shapes[x]);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{node.Where}: {e.Message}");
            }
            producers[node.Output] = steps.Count;
            steps.Add(new GraphStep(GraphOperation.Layer, [x], node.Output, layer));
            shapes[node.Output] = output;
        }

        /// <summary>A node's attributes and inputs, read with checks whose errors name the node.</summary>
        private sealed class NodeReader(NodeProto node, string where, Importer importer)
        {
            public NodeProto Node => node;
            public string Where => where;
            public int Count => node.Input.Count;
            public string Output => node.Output[0];

            /// <summary>Rejects any attribute not in <paramref name="names"/>: one the importer does not know may change the result.</summary>
            public void Allow(params string[] names)
            {
                foreach (var attribute in node.Attribute)
                    if (!names.Contains(attribute.Name))
                        throw new InvalidDataException($"{where} has the attribute '{attribute.Name}', which the importer does not support for {node.OpType}" +
                            (names.Length > 0 ? $" (it reads {string.Join(", ", names)})." : "."));
            }

            private AttributeProto? Find(string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

            public long Int(string name, long fallback) => Find(name) is { } a ? Expect(a, AttributeProto.Types.AttributeType.Int).I : fallback;

            /// <summary>A float attribute; NaN is refused, and so is an infinity unless <paramref name="infinityAllowed"/> (a bound that means "none").</summary>
            public float Float(string name, float fallback, bool infinityAllowed = false)
            {
                if (Find(name) is not { } attribute) return fallback;
                float value = Expect(attribute, AttributeProto.Types.AttributeType.Float).F;
                if (float.IsNaN(value) || float.IsInfinity(value) && !infinityAllowed)
                    throw new InvalidDataException($"{where}: attribute '{name}': expected a finite number, found {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
                return value;
            }

            public string Text(string name, string fallback) => Find(name) is { } a ? Expect(a, AttributeProto.Types.AttributeType.String).S.ToStringUtf8() : fallback;

            public long[]? Ints(string name) => Find(name) is { } a ? Expect(a, AttributeProto.Types.AttributeType.Ints).Ints.ToArray() : null;

            private AttributeProto Expect(AttributeProto attribute, AttributeProto.Types.AttributeType type)
            {
                // Files from before IR version 3 may leave the type unset.
                if (attribute.Type != type && attribute.Type != AttributeProto.Types.AttributeType.Undefined)
                    throw new InvalidDataException($"{where}: the attribute '{attribute.Name}' is {attribute.Type}; it should be {type}.");
                return attribute;
            }

            /// <summary>The computed value feeding input <paramref name="index"/> (the data, never a weight).</summary>
            public string Dynamic(int index)
            {
                if (index >= node.Input.Count || node.Input[index].Length == 0) throw new InvalidDataException($"{where} has no input {index}.");
                var name = importer.Resolve(node.Input[index]);
                if (importer.constants.ContainsKey(name))
                    throw new InvalidDataException($"{where}: its input {index} '{node.Input[index]}' is a constant; the importer needs it computed from the model's input.");
                return name;
            }

            /// <summary>The constant (initializer or Constant node) feeding input <paramref name="index"/>, whose role is <paramref name="role"/>.</summary>
            public OnnxConstant Constant(int index, string role)
            {
                if (index >= node.Input.Count || node.Input[index].Length == 0) throw new InvalidDataException($"{where} has no {role} (input {index}).");
                var name = importer.Resolve(node.Input[index]);
                if (importer.batchSized.ContainsKey(name)) throw BatchDependent(this, role, node.Input[index]);
                return importer.constants.TryGetValue(name, out var value) ? value
                    : throw new InvalidDataException($"{where}: its {role} '{node.Input[index]}' is computed in the graph; the importer needs it to be a constant (an initializer).");
            }

            public float Scalar(int index, string role)
            {
                var value = Constant(index, role);
                if (value.Count != 1) throw new InvalidDataException($"{where}: {role} '{node.Input[index]}' has shape {value.ShapeText}; it must be a single value.");
                return value.AsFloats()[0];
            }
        }
    }
}
