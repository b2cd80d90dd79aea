using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

/// <summary>
/// Slicing and index-driven selection. Tensors hold float32 only, so an index tensor holds
/// integral values: each is checked (an integer, inside the dimension it indexes) before any data
/// moves, and a bad one is reported with the op, its position and its value. Selections copy
/// (a slice that picks contiguous elements is a view); their gradients scatter-add the output's
/// gradient back to the positions read, so an index used twice receives both contributions.
/// </summary>
public static partial class F
{
    /// <summary>
    /// x[start:end:step] along <paramref name="dim"/>, Python's rules: negative bounds count from the
    /// end, then both are clamped to the dimension (an end before the start gives an empty result);
    /// the step must be positive. A view when the elements picked are contiguous (step 1 on the
    /// first dimension larger than 1), else a copy. The tensor indexer, <c>x[.., 1..3]</c>, is the same op.
    /// </summary>
    public static Tensor Slice(Tensor x, int dim, int start = 0, int end = int.MaxValue, int step = 1)
    {
        int d = Axis("Slice", dim, x.Shape);
        if (step < 1) throw new ArgumentException($"Slice: the step must be positive, got {step}.");
        var slices = new AxisSlice[x.Rank];
        for (int i = 0; i < x.Rank; i++) slices[i] = i == d ? AxisSlice.Python(start, end, step, x.Shape[i]) : AxisSlice.All(x.Shape[i]);
        var y = Tensor.SliceAxes(x, slices, "Slice");
        if (OnnxTrace.Current is { } trace)
        {
            var picked = slices[d];
            long first = picked.Start, last = (long)picked.Start + (long)picked.Count * picked.Step;
            trace.Bind(y, trace.Node("Slice", [trace.Value(x), trace.Integers("starts", first), trace.Integers("ends", last), trace.Integers("axes", d), trace.Integers("steps", step)]));
        }
        return y;
    }

    /// <summary>torch.index_select: the entries index[i] of <paramref name="dim"/>, in order (repeats allowed). A copy.
    /// <paramref name="index"/> is a vector (or a scalar) of integers in [0, size of dim).</summary>
    public static Tensor IndexSelect(Tensor x, int dim, Tensor index)
    {
        int d = Axis("IndexSelect", dim, x.Shape);
        if (index.Rank > 1) throw new ArgumentException($"IndexSelect: the index must be a vector, got shape {index.Shape}.");
        return IndexSelected(x, d, IndexValues("IndexSelect", index, x.Shape[d], d, x.Shape));
    }

    /// <summary>torch.index_select with the positions given as ints, each in [0, size of dim). A copy.</summary>
    public static Tensor IndexSelect(Tensor x, int dim, int[] index)
    {
        ArgumentNullException.ThrowIfNull(index);
        int d = Axis("IndexSelect", dim, x.Shape);
        for (int i = 0; i < index.Length; i++)
            if ((uint)index[i] >= (uint)x.Shape[d]) throw OutOfRange("IndexSelect", $"[{i}]", index[i], x.Shape[d], d, x.Shape);
        return IndexSelected(x, d, (int[])index.Clone());
    }

    private static Tensor IndexSelected(Tensor x, int dim, int[] index)
    {
        var dims = x.Shape.ToArray();
        int size = dims[dim];
        dims[dim] = index.Length;
        var y = Tensor.Empty(dims);
        int outer = 1, inner = 1;
        for (int d = 0; d < dim; d++) outer *= dims[d];
        for (int d = dim + 1; d < dims.Length; d++) inner *= dims[d];
        var xs = x.Span;
        var ys = y.Span;
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < index.Length; i++)
                xs.Slice((o * size + index[i]) * inner, inner).CopyTo(ys.Slice((o * index.Length + i) * inner, inner));
        if (Tape.NeedsGrad(x))
            Tape.Record("IndexSelect", y, dy =>
            {
                var dx = Tape.GradientTarget(x, out float beta);
                if (beta == 0f) dx.Clear();
                var dys = dy.Span;
                for (int o = 0; o < outer; o++)
                    for (int i = 0; i < index.Length; i++)
                    {
                        var target = dx.Slice((o * size + index[i]) * inner, inner);
                        TensorPrimitives.Add(target, dys.Slice((o * index.Length + i) * inner, inner), target);
                    }
            }, x);
        return y;
    }

    /// <summary>
    /// torch.gather: out[i][j][k] = x[i][index[i][j][k]][k] for dim 1 (likewise for any dim). The
    /// index has x's rank and, outside <paramref name="dim"/>, no dimension larger than x's; the
    /// result has the index's shape. A copy; x's gradient is the output's scatter-added back.
    /// </summary>
    public static Tensor Gather(Tensor x, int dim, Tensor index)
    {
        int d = Axis("Gather", dim, x.Shape);
        CheckIndexShape("Gather", x.Shape, d, index.Shape, null);
        var read = PointedOffsets("Gather", x.Shape, d, index);
        var y = Tensor.Empty(index.Shape);
        var xs = x.Span;
        var ys = y.Span;
        for (int p = 0; p < read.Length; p++) ys[p] = xs[read[p]];
        if (Tape.NeedsGrad(x))
            Tape.Record("Gather", y, dy =>
            {
                var dx = Tape.GradientTarget(x, out float beta);
                if (beta == 0f) dx.Clear();
                var dys = dy.Span;
                for (int p = 0; p < read.Length; p++) dx[read[p]] += dys[p];
            }, x);
        return y;
    }

    /// <summary>
    /// torch.scatter_add (out of place): a copy of x with src[i][j][k] added to out[i][index[i][j][k]][k]
    /// for dim 1 (likewise for any dim), for every position of the index; several positions may add into
    /// one. The index has x's rank, no dimension larger than src's, and outside <paramref name="dim"/> none
    /// larger than x's. The gradient to x is the output's; to src, the output's gathered at the index
    /// (zero where src lies outside the index's shape).
    /// </summary>
    public static Tensor ScatterAdd(Tensor x, int dim, Tensor index, Tensor src)
    {
        int d = Axis("ScatterAdd", dim, x.Shape);
        CheckIndexShape("ScatterAdd", x.Shape, d, index.Shape, src.Shape);
        var written = PointedOffsets("ScatterAdd", x.Shape, d, index);
        var read = BoxOffsets(index.Shape, StridedCopy.RowMajorStrides(src.Shape.Dimensions));
        var y = x.Clone();
        var ys = y.Span;
        var sources = src.Span;
        for (int p = 0; p < written.Length; p++) ys[written[p]] += sources[read[p]];
        if (Tape.NeedsGrad(x, src))
            Tape.Record("ScatterAdd", y, dy =>
            {
                if (x.RequiresGrad) Tape.Accumulate(x, dy.Span);
                if (!src.RequiresGrad) return;
                var dsrc = Tape.GradientTarget(src, out float beta);
                if (beta == 0f) dsrc.Clear();
                var dys = dy.Span;
                for (int p = 0; p < read.Length; p++) dsrc[read[p]] += dys[written[p]];
            }, x, src);
        return y;
    }

    /// <summary>
    /// torch.nn.functional.one_hot: for indices of any shape, a tensor of shape indices.shape + [numClasses]
    /// with 1 at each index's class and 0 elsewhere. With numClasses = −1 the count is the largest index + 1.
    /// Indices are integers in [0, numClasses). No gradient flows through it.
    /// </summary>
    public static Tensor OneHot(Tensor indices, int numClasses = -1)
    {
        if (numClasses < -1) throw new ArgumentException($"OneHot: numClasses must be -1 (inferred) or at least 0, got {numClasses}.");
        if (numClasses == -1 && indices.Length == 0) throw new ArgumentException($"OneHot: cannot infer the number of classes from an empty tensor (shape {indices.Shape}); pass numClasses.");
        var classes = IndexValues("OneHot", indices, numClasses == -1 ? int.MaxValue : numClasses, -1, indices.Shape);
        if (numClasses == -1) numClasses = classes.Max() + 1;
        var y = Tensor.Zeros(new Shape([.. indices.Shape.Dimensions, numClasses]));
        var ys = y.Span;
        for (int i = 0; i < classes.Length; i++) ys[i * numClasses + classes[i]] = 1f;
        if (OnnxTrace.Current is { } trace)
            trace.Bind(y, trace.Node("OneHot", [trace.Node("Cast", [trace.Value(indices)], OnnxTrace.Int("to", (long)Onnx.TensorProto.Types.DataType.Int64)),
                trace.Integers("depth", numClasses), trace.Constant("values", [2], [0f, 1f])], OnnxTrace.Int("axis", -1)));
        return y;
    }

    /// <summary>
    /// The values of an index tensor as ints, each an integer in [0, <paramref name="size"/>), the size
    /// of dimension <paramref name="dim"/> of <paramref name="shape"/> (−1: the number of classes of a one-hot).
    /// </summary>
    private static int[] IndexValues(string op, Tensor index, int size, int dim, Shape shape)
    {
        var values = index.Span;
        var result = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            float v = values[i];
            if (!float.IsInteger(v)) throw new ArgumentException($"{op}: index{Position(index.Shape, i)} = {v} is not an integer (index tensors hold whole numbers).");
            if (v < 0 || v >= size) throw OutOfRange(op, Position(index.Shape, i), v, size, dim, shape);
            result[i] = (int)v;
        }
        return result;
    }

    private static ArgumentException OutOfRange(string op, string position, float value, int size, int dim, Shape shape) => new(dim < 0
        ? $"{op}: index{position} = {value} is outside [0, {size})."
        : $"{op}: index{position} = {value} is out of range for dimension {dim} of size {size} (shape {shape}).");

    /// <summary>Element <paramref name="flat"/> of a tensor of <paramref name="shape"/> as coordinates, "[1, 0, 2]".</summary>
    private static string Position(Shape shape, int flat)
    {
        var coordinates = new int[shape.Rank];
        for (int d = shape.Rank - 1; d >= 0; d--)
        {
            coordinates[d] = flat % shape[d];
            flat /= shape[d];
        }
        return $"[{string.Join(", ", coordinates)}]";
    }

    /// <summary>torch's rule for gather and scatter: the index has the target's rank; no dimension of it is larger
    /// than the target's outside <paramref name="dim"/>, nor (scatter) than the source's anywhere.</summary>
    private static void CheckIndexShape(string op, Shape target, int dim, Shape index, Shape? source)
    {
        if (index.Rank != target.Rank || source is { } s && s.Rank != target.Rank)
            throw new ArgumentException($"{op}: the index{(source == null ? "" : " and src")} must have the rank of x, got index {index}{(source == null ? "" : $", src {source}")} and x {target}.");
        for (int d = 0; d < index.Rank; d++)
        {
            if (d != dim && index[d] > target[d])
                throw new ArgumentException($"{op}: index {index} is larger than x {target} in dimension {d} (only dimension {dim} may differ).");
            if (source is { } src && index[d] > src[d])
                throw new ArgumentException($"{op}: index {index} is larger than src {src} in dimension {d}.");
        }
    }

    /// <summary>For each element of <paramref name="index"/> (row-major), the flat position in a tensor of
    /// <paramref name="target"/> it points at: its own coordinates, with coordinate <paramref name="dim"/> replaced by its value.</summary>
    private static int[] PointedOffsets(string op, Shape target, int dim, Tensor index)
    {
        var values = IndexValues(op, index, target[dim], dim, target);
        var strides = StridedCopy.RowMajorStrides(target.Dimensions);
        int step = strides[dim];
        strides[dim] = 0;
        var offsets = BoxOffsets(index.Shape, strides);
        for (int p = 0; p < offsets.Length; p++) offsets[p] += values[p] * step;
        return offsets;
    }

    /// <summary>Σ coordinate·stride for every element of a box of <paramref name="box"/>, in row-major order.</summary>
    private static int[] BoxOffsets(Shape box, int[] strides)
    {
        var offsets = new int[box.Size];
        var coordinates = new int[box.Rank];
        int offset = 0;
        for (int p = 0; p < offsets.Length; p++)
        {
            offsets[p] = offset;
            for (int d = box.Rank - 1; d >= 0; d--)
            {
                offset += strides[d];
                if (++coordinates[d] < box[d]) break;
                offset -= box[d] * strides[d];
                coordinates[d] = 0;
            }
        }
        return offsets;
    }
}

public static partial class TensorExtensions
{
    extension(Tensor x)
    {
        /// <summary>The entries <paramref name="index"/> of dimension <paramref name="dim"/>, in order. A copy; see <see cref="F.IndexSelect(Tensor, int, Tensor)"/>.</summary>
        public Tensor IndexSelect(int dim, Tensor index) => F.IndexSelect(x, dim, index);

        /// <summary>The entries <paramref name="index"/> of dimension <paramref name="dim"/>, in order. A copy.</summary>
        public Tensor IndexSelect(int dim, int[] index) => F.IndexSelect(x, dim, index);

        /// <summary>Values picked along <paramref name="dim"/> at the positions <paramref name="index"/> holds. A copy; see <see cref="F.Gather"/>.</summary>
        public Tensor Gather(int dim, Tensor index) => F.Gather(x, dim, index);

        /// <summary>A copy with <paramref name="src"/> added at the positions <paramref name="index"/> holds along <paramref name="dim"/>; see <see cref="F.ScatterAdd"/>.</summary>
        public Tensor ScatterAdd(int dim, Tensor index, Tensor src) => F.ScatterAdd(x, dim, index, src);
    }
}
