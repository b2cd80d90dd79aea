using Onnx;
using Sinapse.IO;
using Sinapse.Tensors;

namespace Sinapse.Serialization;

public static partial class OnnxImport
{
    /// <summary>
    /// The operators the importer computes itself when everything they read is known before the
    /// model runs: constants (initializers, Constant nodes, what earlier folding produced) and
    /// the shapes of computed values. Exporters emit such subgraphs: PyTorch's writes Identity
    /// over shared or deduplicated parameters, and x.view(x.size(0), -1) as Shape → Gather →
    /// Unsqueeze → Concat → Reshape.
    /// </summary>
    public static IReadOnlyList<string> FoldedOperators { get; } =
        ["Add", "Cast", "Concat", "Constant", "Div", "Gather", "Identity", "Mul", "Reshape", "Shape", "Slice", "Squeeze", "Sub", "Unsqueeze"];

    private sealed partial class Importer
    {
        /// <summary>
        /// Folded integer values that hold the batch size, flagged per element, when the input's
        /// batch axis is symbolic: they are computed with a batch of one, which is right only
        /// where a Reshape keeps the batch axis first, so any other use is refused.
        /// </summary>
        private readonly Dictionary<string, bool[]> batchSized = new(StringComparer.Ordinal);

        /// <summary>
        /// Computes <paramref name="node"/> into a constant if everything it reads is known (a
        /// Shape only needs its input's shape); false if it reads a computed value, so a layer
        /// must compute it.
        /// </summary>
        private bool TryFold(NodeReader node)
        {
            var proto = node.Node;
            if (!FoldedOperators.Contains(proto.OpType)) return false;
            if (proto.OpType == "Constant")
            {
                Fold(node, ReadConstant(node), null);
                return true;
            }
            if (proto.OpType == "Shape")
            {
                FoldShape(node);
                return true;
            }
            var inputs = proto.Input.Select(name => name.Length == 0 ? "" : Resolve(name)).ToList();
            // Only Slice's and (Un)Squeeze's later inputs may be left out (an empty name).
            bool optional = proto.OpType is "Slice" or "Squeeze" or "Unsqueeze";
            if (inputs.Count == 0 || inputs.Select((name, i) => name.Length > 0 ? constants.ContainsKey(name) : optional && i > 0).Contains(false)) return false;
            switch (proto.OpType)
            {
                case "Identity":
                    node.Allow();
                    Fold(node, constants[inputs[0]], Batch(inputs[0]));
                    break;
                case "Cast": FoldCast(node, inputs[0]); break;
                case "Reshape": FoldReshape(node, inputs); break;
                case "Unsqueeze" or "Squeeze": FoldSqueeze(node, inputs); break;
                case "Gather": FoldGather(node, inputs); break;
                case "Slice": FoldSlice(node, inputs); break;
                case "Concat": FoldConcat(node, inputs); break;
                default: FoldArithmetic(node, inputs); break;
            }
            return true;
        }

        private bool[]? Batch(string name) => batchSized.GetValueOrDefault(name);

        private void Fold(NodeReader node, OnnxConstant value, bool[]? batch)
        {
            constants[node.Output] = value;
            if (batch != null && batch.Any(b => b)) batchSized[node.Output] = batch;
        }

        /// <summary>A constant that sets sizes, indices or axes: it may not hold the batch size, which the importer does not know.</summary>
        private long[] Parameter(NodeReader node, string name, string role)
        {
            if (batchSized.ContainsKey(name)) throw BatchDependent(node, role, name);
            return constants[name].AsIntegers($"{node.Where}: {role} '{name}'");
        }

        private static InvalidDataException BatchDependent(NodeReader node, string role, string name) =>
            new($"{node.Where}: {role} '{name}' depends on the batch size, which is symbolic in this file; the importer follows the batch size only into the first axis of a Reshape's target.");

        private OnnxConstant ReadConstant(NodeReader node)
        {
            node.Allow("value", "value_float", "value_floats", "value_int", "value_ints");
            var attribute = node.Node.Attribute.FirstOrDefault() ?? throw new InvalidDataException($"{node.Where} has no value.");
            var constant = attribute.Name switch
            {
                "value" => OnnxConstant.Read(attribute.T ?? throw new InvalidDataException($"{node.Where}: its value is not a tensor."), $"{node.Where} (its value)"),
                "value_float" => new OnnxConstant([], [attribute.F], null),
                "value_floats" => new OnnxConstant([attribute.Floats.Count], attribute.Floats.ToArray(), null),
                "value_int" => new OnnxConstant([], null, [attribute.I]),
                _ => new OnnxConstant([attribute.Ints.Count], null, attribute.Ints.ToArray()),
            };
            if (constant.Floats != null) InputFile.CheckFinite(constant.Floats, node.Where, "its value");
            return constant;
        }

        private void FoldShape(NodeReader node)
        {
            node.Allow("start", "end");
            var name = Resolve(node.Node.Input.Count > 0 ? node.Node.Input[0] : "");
            bool computed = !constants.ContainsKey(name);
            var dims = computed ? shapes[name].ToArray().Select(d => (long)d).ToArray() : constants[name].Dims;
            int rank = dims.Length;
            int Clamp(long axis) => (int)Math.Clamp(axis < 0 ? axis + rank : axis, 0, rank);
            int start = Clamp(node.Int("start", 0)), end = Clamp(node.Int("end", rank));
            var values = dims[start..Math.Max(start, end)];
            // Every computed value keeps the batch on its first axis.
            var batch = symbolicBatch && computed ? values.Select((_, i) => start + i == 0).ToArray() : null;
            Fold(node, new OnnxConstant([values.Length], null, values), batch);
        }

        private void FoldCast(NodeReader node, string input)
        {
            node.Allow("to", "saturate");
            var value = constants[input];
            var to = (TensorProto.Types.DataType)node.Int("to", 0);
            OnnxConstant result = to switch
            {
                TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double or TensorProto.Types.DataType.Float16 => value with { Floats = value.AsFloats(), Integers = null },
                TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32 => value with
                {
                    Floats = null, Integers = value.Integers ?? value.Floats!.Select(v => (long)MathF.Truncate(v)).ToArray(),
                },
                TensorProto.Types.DataType.Bool => value with { Floats = null, Integers = (value.Integers?.Select(v => v != 0) ?? value.Floats!.Select(v => v != 0f)).Select(b => b ? 1L : 0L).ToArray() },
                _ => throw new InvalidDataException($"{node.Where} casts to {to}; the importer folds casts to float, double, float16, int32, int64 and bool."),
            };
            Fold(node, result, Batch(input));
        }

        private void FoldReshape(NodeReader node, List<string> inputs)
        {
            node.Allow("allowzero");
            var data = constants[inputs[0]];
            if (inputs.Count < 2 || inputs[1].Length == 0) throw new InvalidDataException($"{node.Where} has no shape (input 1).");
            var target = Parameter(node, inputs[1], "the shape");
            bool allowZero = node.Int("allowzero", 0) != 0;
            var dims = new long[target.Length];
            int inferred = -1;
            for (int i = 0; i < target.Length; i++)
            {
                if (target[i] == -1 && inferred < 0) inferred = i;
                else if (target[i] == 0 && !allowZero && i < data.Dims.Length) dims[i] = data.Dims[i];
                else if (target[i] >= 0) dims[i] = target[i];
                else throw new InvalidDataException($"{node.Where} reshapes {data.ShapeText} to [{string.Join(", ", target)}], which is not a shape.");
            }
            if (inferred >= 0)
            {
                long known = dims.Where((_, i) => i != inferred).Aggregate(1L, (a, b) => a * b);
                dims[inferred] = known == 0 ? 0 : data.Count / known;
            }
            if (dims.Aggregate(1L, (a, b) => a * b) != data.Count)
                throw new InvalidDataException($"{node.Where} reshapes {data.ShapeText} ({data.Count} values) to [{string.Join(", ", target)}].");
            Fold(node, data with { Dims = dims }, Batch(inputs[0]));
        }

        private void FoldSqueeze(NodeReader node, List<string> inputs)
        {
            bool unsqueeze = node.Node.OpType == "Unsqueeze";
            // From opset 13 the axes are an input rather than an attribute.
            long[]? axes;
            if (opset < 13)
            {
                node.Allow("axes");
                axes = node.Ints("axes");
            }
            else
            {
                node.Allow();
                axes = inputs.Count > 1 && inputs[1].Length > 0 ? Parameter(node, inputs[1], "the axes") : null;
            }
            var data = constants[inputs[0]];
            var dims = data.Dims.ToList();
            if (unsqueeze)
            {
                if (axes == null) throw new InvalidDataException($"{node.Where} has no axes.");
                int rank = dims.Count + axes.Length;
                foreach (var axis in axes.Select(a => a < 0 ? a + rank : a).Order())
                {
                    if (axis < 0 || axis > dims.Count) throw new InvalidDataException($"{node.Where} has the axes [{string.Join(", ", axes)}] for a result of rank {rank}.");
                    dims.Insert((int)axis, 1);
                }
            }
            else
            {
                var remove = axes?.Select(a => a < 0 ? a + dims.Count : a).ToHashSet() ?? Enumerable.Range(0, dims.Count).Where(i => dims[i] == 1).Select(i => (long)i).ToHashSet();
                if (remove.Any(a => a < 0 || a >= dims.Count || dims[(int)a] != 1))
                    throw new InvalidDataException($"{node.Where} squeezes the axes [{string.Join(", ", axes!)}] of {data.ShapeText}; each must exist and have size 1.");
                dims = dims.Where((_, i) => !remove.Contains(i)).ToList();
            }
            Fold(node, data with { Dims = dims.ToArray() }, Batch(inputs[0]));
        }

        private void FoldGather(NodeReader node, List<string> inputs)
        {
            node.Allow("axis");
            var data = constants[inputs[0]];
            var indices = constants[Expect(node, inputs, 1, "indices")];
            var at = Parameter(node, inputs[1], "the indices");
            int rank = data.Dims.Length;
            long axis = node.Int("axis", 0);
            if (axis < 0) axis += rank;
            if (axis < 0 || axis >= rank) throw new InvalidDataException($"{node.Where} gathers along axis {node.Int("axis", 0)} of {data.ShapeText}.");
            long size = data.Dims[axis];
            long inner = data.Dims[(int)(axis + 1)..].Aggregate(1L, (a, b) => a * b), outer = data.Dims[..(int)axis].Aggregate(1L, (a, b) => a * b);
            long[] dims = [.. data.Dims[..(int)axis], .. indices.Dims, .. data.Dims[(int)(axis + 1)..]];
            CheckSize(node, dims);
            var from = new List<int>();
            for (long o = 0; o < outer; o++)
                foreach (var index in at)
                {
                    long i = index < 0 ? index + size : index;
                    if (i < 0 || i >= size) throw new InvalidDataException($"{node.Where}: the index {index} is outside axis {axis} of {data.ShapeText}.");
                    for (long j = 0; j < inner; j++) from.Add((int)((o * size + i) * inner + j));
                }
            var (value, batch) = Take([inputs[0]], dims, from);
            Fold(node, value, batch);
        }

        private void FoldSlice(NodeReader node, List<string> inputs)
        {
            long[] starts, ends;
            long[]? axes, steps = null;
            // Before opset 10 the bounds are attributes.
            if (opset < 10)
            {
                node.Allow("starts", "ends", "axes");
                (starts, ends, axes) = (node.Ints("starts") ?? [], node.Ints("ends") ?? [], node.Ints("axes"));
            }
            else
            {
                node.Allow();
                starts = Parameter(node, Expect(node, inputs, 1, "starts"), "the starts");
                ends = Parameter(node, Expect(node, inputs, 2, "ends"), "the ends");
                axes = inputs.Count > 3 && inputs[3].Length > 0 ? Parameter(node, inputs[3], "the axes") : null;
                steps = inputs.Count > 4 && inputs[4].Length > 0 ? Parameter(node, inputs[4], "the steps") : null;
            }
            var data = constants[inputs[0]];
            int rank = data.Dims.Length;
            axes ??= Enumerable.Range(0, starts.Length).Select(a => (long)a).ToArray();
            if (ends.Length != starts.Length || axes.Length != starts.Length || steps != null && steps.Length != starts.Length)
                throw new InvalidDataException($"{node.Where} has {starts.Length} starts, {ends.Length} ends, {axes.Length} axes and {steps?.Length ?? starts.Length} steps; they must agree.");
            var first = new long[rank];
            var step = Enumerable.Repeat(1L, rank).ToArray();
            var dims = data.Dims.ToArray();
            for (int k = 0; k < starts.Length; k++)
            {
                long axis = axes[k] < 0 ? axes[k] + rank : axes[k];
                if (axis < 0 || axis >= rank) throw new InvalidDataException($"{node.Where} slices axis {axes[k]} of {data.ShapeText}.");
                long size = data.Dims[axis], by = steps?[k] ?? 1;
                if (by == 0) throw new InvalidDataException($"{node.Where} has a step of 0.");
                // ONNX's clamping: into [0, size] going forward, [−1, size − 1] going backward.
                long Bound(long v, long low, long high) => Math.Clamp(v < 0 ? v + size : v, low, high);
                long begin = by > 0 ? Bound(starts[k], 0, size) : Bound(starts[k], 0, size - 1);
                long end = by > 0 ? Bound(ends[k], 0, size) : Bound(ends[k], -1, size - 1);
                (first[axis], step[axis]) = (begin, by);
                dims[axis] = Math.Max(0, by > 0 ? (end - begin + by - 1) / by : (begin - end - by - 1) / -by);
            }
            CheckSize(node, dims);
            var from = new List<int>();
            var strides = Strides(data.Dims);
            var position = new long[rank];
            long count = dims.Aggregate(1L, (a, b) => a * b);
            for (long i = 0; i < count; i++)
            {
                long rest = i, source = 0;
                for (int a = rank - 1; a >= 0; a--)
                {
                    position[a] = rest % dims[a];
                    rest /= dims[a];
                    source += (first[a] + position[a] * step[a]) * strides[a];
                }
                from.Add((int)source);
            }
            var (value, batch) = Take([inputs[0]], dims, from);
            Fold(node, value, batch);
        }

        private void FoldConcat(NodeReader node, List<string> inputs)
        {
            node.Allow("axis");
            var values = inputs.Select(name => constants[name]).ToList();
            int rank = values[0].Dims.Length;
            long axis = node.Int("axis", opset < 4 ? 1 : 0);
            if (axis < 0) axis += rank;
            if (axis < 0 || axis >= rank || values.Any(v => v.Dims.Length != rank || v.Dims.Where((d, i) => i != axis && d != values[0].Dims[i]).Any()))
                throw new InvalidDataException($"{node.Where} joins {string.Join(", ", values.Select(v => v.ShapeText))} along axis {node.Int("axis", 0)}.");
            long outer = values[0].Dims[..(int)axis].Aggregate(1L, (a, b) => a * b);
            var blocks = values.Select(v => v.Count / Math.Max(outer, 1)).ToArray();
            var offsets = values.Select((v, i) => values.Take(i).Sum(p => p.Count)).ToArray();
            var from = new List<int>();
            for (long o = 0; o < outer; o++)
                for (int v = 0; v < values.Count; v++)
                    for (long j = 0; j < blocks[v]; j++) from.Add((int)(offsets[v] + o * blocks[v] + j));
            var dims = values[0].Dims.ToArray();
            dims[axis] = values.Sum(v => v.Dims[axis]);
            var (value, batch) = Take(inputs, dims, from);
            Fold(node, value, batch);
        }

        /// <summary>Add, Sub, Mul and Div with NumPy broadcasting; integer division truncates, as ONNX Runtime's.</summary>
        private void FoldArithmetic(NodeReader node, List<string> inputs)
        {
            node.Allow("broadcast", "axis");
            if (inputs.Count != 2) throw new InvalidDataException($"{node.Where} has {inputs.Count} inputs; it needs 2.");
            if (opset < 7 && node.Node.Attribute.Any(x => x.Name == "axis"))
                throw new InvalidDataException($"{node.Where} broadcasts along an axis (opset {opset}), which is not supported.");
            var (a, b) = (constants[inputs[0]], constants[inputs[1]]);
            foreach (var name in inputs)
                if (batchSized.ContainsKey(name)) throw BatchDependent(node, "the operand", name);
            int rank = Math.Max(a.Dims.Length, b.Dims.Length);
            long Dim(OnnxConstant c, int axis) => axis < rank - c.Dims.Length ? 1 : c.Dims[axis - (rank - c.Dims.Length)];
            var dims = new long[rank];
            for (int axis = 0; axis < rank; axis++)
            {
                long da = Dim(a, axis), db = Dim(b, axis);
                if (da != db && da != 1 && db != 1) throw new InvalidDataException($"{node.Where}: the shapes {a.ShapeText} and {b.ShapeText} do not broadcast.");
                dims[axis] = da == 1 ? db : da;
            }
            CheckSize(node, dims);
            var (fromA, fromB) = (Broadcast(a.Dims, dims), Broadcast(b.Dims, dims));
            var op = node.Node.OpType;
            OnnxConstant result;
            if (a.Integers != null && b.Integers != null)
            {
                var (x, y) = (a.Integers, b.Integers);
                result = new OnnxConstant(dims, null, fromA.Select((i, k) => op switch
                {
                    "Add" => x[i] + y[fromB[k]],
                    "Sub" => x[i] - y[fromB[k]],
                    "Mul" => x[i] * y[fromB[k]],
                    _ => y[fromB[k]] != 0 ? x[i] / y[fromB[k]] : throw new InvalidDataException($"{node.Where} divides by zero."),
                }).ToArray());
            }
            else
            {
                var (x, y) = (a.AsFloats(), b.AsFloats());
                result = new OnnxConstant(dims, fromA.Select((i, k) => op switch
                {
                    "Add" => x[i] + y[fromB[k]],
                    "Sub" => x[i] - y[fromB[k]],
                    "Mul" => x[i] * y[fromB[k]],
                    _ => x[i] / y[fromB[k]],
                }).ToArray(), null);
            }
            Fold(node, result, null);
        }

        /// <summary>Folding builds shapes, indices and small weights; a result this large is a mistake in the file, refused before it is allocated.</summary>
        private static void CheckSize(NodeReader node, long[] dims)
        {
            const long limit = 1L << 26;
            long count = 1;
            foreach (var d in dims)
                if ((count *= Math.Max(d, 0)) > limit)
                    throw new InvalidDataException($"{node.Where} would compute a constant of shape [{string.Join(", ", dims)}]; the importer computes constants of up to {limit} values.");
        }

        private static string Expect(NodeReader node, List<string> inputs, int index, string role) =>
            index < inputs.Count && inputs[index].Length > 0 ? inputs[index] : throw new InvalidDataException($"{node.Where} has no {role} (input {index}).");

        /// <summary>The elements at <paramref name="from"/> in the sources laid end to end, shaped <paramref name="dims"/>, with their batch flags.</summary>
        private (OnnxConstant Value, bool[]? Batch) Take(IReadOnlyList<string> sources, long[] dims, List<int> from)
        {
            var values = sources.Select(name => constants[name]).ToList();
            bool[]? batch = null;
            if (sources.Any(batchSized.ContainsKey))
            {
                var flags = sources.SelectMany(name => batchSized.GetValueOrDefault(name) ?? new bool[constants[name].Count]).ToArray();
                batch = from.Select(i => flags[i]).ToArray();
            }
            if (values.All(v => v.Integers != null))
            {
                var all = values.SelectMany(v => v.Integers!).ToArray();
                return (new OnnxConstant(dims, null, from.Select(i => all[i]).ToArray()), batch);
            }
            var floats = values.SelectMany(v => v.AsFloats()).ToArray();
            return (new OnnxConstant(dims, from.Select(i => floats[i]).ToArray(), null), batch);
        }

        private static long[] Strides(long[] dims)
        {
            var strides = new long[dims.Length];
            for (long a = dims.Length - 1, stride = 1; a >= 0; stride *= dims[a], a--) strides[a] = stride;
            return strides;
        }

        /// <summary>For each element of a result shaped <paramref name="dims"/>, the element of an operand shaped <paramref name="operand"/> that broadcasts to it.</summary>
        private static int[] Broadcast(long[] operand, long[] dims)
        {
            int rank = dims.Length, offset = rank - operand.Length;
            var strides = Strides(operand);
            long count = dims.Aggregate(1L, (a, b) => a * b);
            var from = new int[count];
            for (long i = 0; i < count; i++)
            {
                long rest = i, source = 0;
                for (int a = rank - 1; a >= 0; a--)
                {
                    long position = rest % dims[a];
                    rest /= dims[a];
                    if (a >= offset && operand[a - offset] != 1) source += position * strides[a - offset];
                }
                from[i] = (int)source;
            }
            return from;
        }
    }
}
