using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

public static partial class OnnxImport
{
    /// <summary>
    /// The operators the importer computes with the tensor ops, as function steps of a
    /// <see cref="Graph"/>, where no layer computes them: elementwise arithmetic and functions
    /// between computed values, reductions, transposes, reshapes other than flattening, a product
    /// of two computed matrices, and softmax over another axis than the last. A layer written by
    /// a user from those ops therefore imports back and runs.
    /// </summary>
    public static IReadOnlyList<string> FunctionOperators { get; } =
    [
        "Abs", "Cos", "Div", "Erf", "Exp", "Log", "Max", "Min", "Neg", "Pow", "Reciprocal", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceSum", "Sign", "Sin", "Sqrt",
        "Squeeze", "Sub", "Transpose", "Unsqueeze",
    ];

    private sealed partial class Importer
    {
        /// <summary>Adds <paramref name="node"/> as a function step when the importer has one for its operator; false otherwise.</summary>
        private bool TryImportFunction(NodeReader node)
        {
            var proto = node.Node;
            var data = proto.Input.Take(DataInputs(proto.OpType, proto.Input.Count)).Select(Resolve).ToList();
            Func<IReadOnlyList<Tensor>, Tensor>? function = proto.OpType switch
            {
                "Sub" => Binary(node, F.Subtract),
                "Div" => Binary(node, F.Divide),
                "Pow" => Binary(node, F.Pow),
                "Max" => Binary(node, F.Maximum),
                "Min" => Binary(node, F.Minimum),
                "MatMul" => Binary(node, F.Matmul),
                "Neg" => Unary(node, F.Negate),
                "Exp" => Unary(node, F.Exp),
                "Erf" => Unary(node, F.Erf),
                "Log" => Unary(node, F.Log),
                "Sqrt" => Unary(node, F.Sqrt),
                "Reciprocal" => Unary(node, F.Reciprocal),
                "Abs" => Unary(node, F.Abs),
                "Sign" => Unary(node, F.Sign),
                "Sin" => Unary(node, F.Sin),
                "Cos" => Unary(node, F.Cos),
                "Softmax" or "LogSoftmax" => Softmax(node),
                "Transpose" => Transpose(node),
                "Reshape" => Reshape(node),
                "ReduceMean" or "ReduceMax" or "ReduceMin" or "ReduceSum" => Reduce(node),
                "Squeeze" or "Unsqueeze" => Squeeze(node),
                _ => null,
            };
            if (function == null) return false;
            var step = new GraphStep(GraphOperation.Function, data, node.Output, Function: function, FunctionName: $"ONNX {proto.OpType}");
            Shape shape;
            try
            {
                shape = Graph.FunctionShape(step, data.Select(ShapeOf).ToList());
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{node.Where}: {e.Message}");
            }
            AddStep(step, shape);
            return true;
        }

        /// <summary>
        /// A Cast of computed indices to integers, read by Gathers only: Sinapse's indices are
        /// whole numbers held as floats, which the cast leaves as they are.
        /// </summary>
        private void ImportIndexCast(NodeReader node)
        {
            node.Allow("to", "saturate");
            var output = node.Output;
            long to = node.Int("to", 0);
            bool integer = to is (long)Onnx.TensorProto.Types.DataType.Int64 or (long)Onnx.TensorProto.Types.DataType.Int32;
            if (!integer || !model.Graph.Node.Where(n => n.Input.Contains(output)).All(n => n.OpType == "Gather" && n.Input.IndexOf(output) == 1))
                throw new InvalidDataException($"{node.Where} casts a computed value to {(Onnx.TensorProto.Types.DataType)to}; the importer computes a Cast of computed values only as the integer indices of a Gather.");
            Alias(node);
        }

        /// <summary>A Gather of rows of a constant matrix by computed indices: an Embedding layer.</summary>
        private void ImportEmbedding(NodeReader node)
        {
            node.Allow("axis");
            var table = node.Constant(0, "data");
            if (node.Int("axis", 0) != 0 || table.Dims.Length != 2)
                throw new InvalidDataException($"{node.Where} gathers along axis {node.Int("axis", 0)} of data {table.ShapeText}; the importer supports rows (axis 0) of a matrix, an embedding.");
            var layer = new Embedding((int)table.Dims[0], (int)table.Dims[1]);
            table.AsFloats().CopyTo(layer.Weight.Span);
            AddLayer(node, layer, input: 1);
        }

        /// <summary>How many of an operator's inputs are data; the rest (shapes, axes) are read when importing.</summary>
        private static int DataInputs(string op, int count) => op is "Reshape" or "ReduceSum" or "Squeeze" or "Unsqueeze" or "ReduceMean" or "ReduceMax" or "ReduceMin" ? 1 : count;

        private static Func<IReadOnlyList<Tensor>, Tensor> Unary(NodeReader node, Func<Tensor, Tensor> op)
        {
            node.Allow();
            return values => op(values[0]);
        }

        private static Func<IReadOnlyList<Tensor>, Tensor> Binary(NodeReader node, Func<Tensor, Tensor, Tensor> op)
        {
            node.Allow();
            if (node.Count != 2) throw new InvalidDataException($"{node.Where} has {node.Count} inputs; the importer computes it on 2.");
            return values => op(values[0], values[1]);
        }

        private static Func<IReadOnlyList<Tensor>, Tensor> Softmax(NodeReader node)
        {
            node.Allow("axis");
            int axis = checked((int)node.Int("axis", -1));
            return node.Node.OpType == "Softmax" ? values => F.Softmax(values[0], axis) : values => F.LogSoftmax(values[0], axis);
        }

        private static Func<IReadOnlyList<Tensor>, Tensor> Transpose(NodeReader node)
        {
            node.Allow("perm");
            var perm = node.Ints("perm")?.Select(a => checked((int)a)).ToArray();
            return values => F.Permute(values[0], perm ?? Enumerable.Range(0, values[0].Rank).Reverse().ToArray());
        }

        /// <summary>A reshape whose 0s copy the input's size on that axis (the batch, which varies).</summary>
        private Func<IReadOnlyList<Tensor>, Tensor> Reshape(NodeReader node)
        {
            var target = ReshapeTarget(node).Select(d => checked((int)d)).ToArray();
            return values =>
            {
                var dims = (int[])target.Clone();
                for (int axis = 0; axis < dims.Length; axis++)
                    if (dims[axis] == 0) dims[axis] = values[0].Shape[axis];
                return F.Reshape(values[0], dims);
            };
        }

        /// <summary>The axes an operator reads from an attribute (before opset <paramref name="inputFrom"/>) or its second input, or null for none.</summary>
        private int[]? Axes(NodeReader node, int inputFrom)
        {
            var axes = opset < inputFrom ? node.Ints("axes")
                : node.Count > 1 && node.Node.Input[1].Length > 0 ? Parameter(node, Resolve(node.Node.Input[1]), "axes") : null;
            return axes?.Select(a => checked((int)a)).ToArray();
        }

        private Func<IReadOnlyList<Tensor>, Tensor> Reduce(NodeReader node)
        {
            var op = node.Node.OpType;
            // ReduceSum reads its axes as an input from opset 13, the others from opset 18.
            int inputFrom = op == "ReduceSum" ? 13 : 18;
            node.Allow(opset < inputFrom ? ["axes", "keepdims"] : ["keepdims", "noop_with_empty_axes"]);
            if (node.Int("noop_with_empty_axes", 0) != 0) throw new InvalidDataException($"{node.Where} has noop_with_empty_axes = 1, which is not supported.");
            bool keepDim = node.Int("keepdims", 1) != 0;
            var axes = Axes(node, inputFrom) ?? [];
            return op switch
            {
                "ReduceMean" => values => F.Mean(values[0], axes, keepDim),
                "ReduceSum" => values => F.Sum(values[0], axes, keepDim),
                // No axes reduce every axis, in ONNX as in Sinapse.
                "ReduceMax" => values => F.Amax(values[0], axes, keepDim),
                _ => values => F.Amin(values[0], axes, keepDim),
            };
        }

        private Func<IReadOnlyList<Tensor>, Tensor> Squeeze(NodeReader node)
        {
            node.Allow("axes");
            var axes = Axes(node, 13);
            if (node.Node.OpType == "Squeeze") return values => F.Squeeze(values[0], axes ?? []);
            if (axes == null) throw new InvalidDataException($"{node.Where} has no axes.");
            return values =>
            {
                // Each axis counts in the output's rank; inserted in increasing order, every one lands where ONNX puts it.
                int rank = values[0].Rank + axes.Length;
                var y = values[0];
                foreach (var axis in axes.Select(a => a < 0 ? a + rank : a).Order()) y = F.Unsqueeze(y, axis);
                return y;
            };
        }
    }
}
