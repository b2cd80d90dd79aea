using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

/// <summary>
/// Reductions that select elements: max, min and where they are, with PyTorch's rules. A NaN
/// beats every number, so a slice holding one gives NaN (and the index of its first NaN); among
/// equal values the first index wins (−0 and +0 are equal). Indices come back as float tensors
/// holding whole numbers, since Sinapse tensors are float32: they are exact below 2^24, and a
/// reduction over a longer axis is refused rather than rounded.
/// </summary>
public static partial class F
{
    /// <summary>Largest axis length whose indices a float32 holds exactly.</summary>
    const int MaxExactIndex = 1 << 24;

    /// <summary>
    /// The largest element, as a scalar (NaN if any element is NaN). Its gradient is split evenly
    /// over the elements equal to it (over the NaNs, when it is NaN), as torch.max() does.
    /// </summary>
    public static Tensor Max(Tensor x) => Extreme<Largest>(x, "Max");

    /// <summary>The smallest element, as a scalar; NaN and gradient as in <see cref="Max(Tensor)"/>.</summary>
    public static Tensor Min(Tensor x) => Extreme<Smallest>(x, "Min");

    /// <summary>
    /// The largest value along <paramref name="dim"/> and the index of its first occurrence (of the
    /// first NaN, when there is one), as torch.max(x, dim). The gradient goes to that index only.
    /// </summary>
    public static (Tensor Values, Tensor Indices) Max(Tensor x, int dim, bool keepDim = false) => SelectAlong<Largest>(x, dim, keepDim, "Max");

    /// <summary>The smallest value along <paramref name="dim"/> and its first index, as torch.min(x, dim).</summary>
    public static (Tensor Values, Tensor Indices) Min(Tensor x, int dim, bool keepDim = false) => SelectAlong<Smallest>(x, dim, keepDim, "Min");

    /// <summary>
    /// The largest value over <paramref name="dims"/> (every axis when empty), NaN if the slice
    /// holds one. The gradient is split evenly over the elements equal to the maximum; a slice
    /// whose maximum is NaN has no such element and gets NaN everywhere, as torch.amax.
    /// </summary>
    public static Tensor Amax(Tensor x, int[] dims, bool keepDim = false) => SelectionOver<Largest>(x, dims, keepDim, "Amax");

    /// <summary>The largest value along one axis (<see cref="Amax(Tensor, int[], bool)"/>).</summary>
    public static Tensor Amax(Tensor x, int dim, bool keepDim = false) => Amax(x, [dim], keepDim);

    /// <summary>The smallest value over <paramref name="dims"/>, as torch.amin.</summary>
    public static Tensor Amin(Tensor x, int[] dims, bool keepDim = false) => SelectionOver<Smallest>(x, dims, keepDim, "Amin");

    /// <summary>The smallest value along one axis.</summary>
    public static Tensor Amin(Tensor x, int dim, bool keepDim = false) => Amin(x, [dim], keepDim);

    /// <summary>The index of the largest element in row-major order (the first NaN, else the first maximum), as a scalar; no gradient.</summary>
    public static Tensor Argmax(Tensor x) => IndexOfExtreme<Largest>(x, "Argmax");

    /// <summary>The index of the smallest element in row-major order, as a scalar; no gradient.</summary>
    public static Tensor Argmin(Tensor x) => IndexOfExtreme<Smallest>(x, "Argmin");

    /// <summary>The index of the largest value along <paramref name="dim"/>; no gradient.</summary>
    public static Tensor Argmax(Tensor x, int dim, bool keepDim = false) => SelectAlong<Largest>(x, dim, keepDim, "Argmax", differentiable: false).Indices;

    /// <summary>The index of the smallest value along <paramref name="dim"/>; no gradient.</summary>
    public static Tensor Argmin(Tensor x, int dim, bool keepDim = false) => SelectAlong<Smallest>(x, dim, keepDim, "Argmin", differentiable: false).Indices;

    private static Tensor Extreme<TSelection>(Tensor x, string op) where TSelection : ISelection
    {
        if (x.Length == 0) throw new ArgumentException($"{op}: the tensor {x.Shape} is empty, and the {op.ToLowerInvariant()} of no elements is undefined; reduce over a dim that is not empty.");
        var y = Tensor.Scalar(TSelection.Best(x.Span));
        OnnxTrace.Current?.Node(op == "Max" ? "ReduceMax" : "ReduceMin", y, x, OnnxTrace.Int("keepdims", 0));
        if (Tape.NeedsGrad(x))
            Tape.Record(op, y, dy =>
            {
                float value = y.Span[0];
                bool nan = float.IsNaN(value);
                bool Ties(float v) => v == value || (nan && float.IsNaN(v));
                var values = x.Span;
                int ties = 0;
                foreach (var v in values) if (Ties(v)) ties++;
                float share = dy.Span[0] / ties;
                var dx = Tape.GradientTarget(x, out float beta);
                for (int i = 0; i < dx.Length; i++) dx[i] = (beta == 0f ? 0f : dx[i]) + (Ties(values[i]) ? share : 0f);
            }, x);
        return y;
    }

    /// <summary>The values and indices along one axis; the values' gradient goes to the indices when <paramref name="differentiable"/>.</summary>
    private static (Tensor Values, Tensor Indices) SelectAlong<TSelection>(Tensor x, int dim, bool keepDim, string op, bool differentiable = true) where TSelection : ISelection
    {
        var (layout, kept, removed) = SelectionAxis(x, dim, op);
        var values = Tensor.Empty(kept);
        var indices = Tensor.Empty(kept);
        Reductions.Select<TSelection>(x.Buffer, x.Offset, layout, values.Buffer, values.Offset, indices.Buffer, indices.Offset);
        if (OnnxTrace.Current is { } trace)
        {
            bool largest = op is "Max" or "Argmax";
            long axis = x.Rank == 0 ? 0 : NormalizedAxis(dim, x.Shape, op);
            trace.Node(largest ? "ReduceMax" : "ReduceMin", values, x, OnnxTrace.Ints("axes", axis), OnnxTrace.Int("keepdims", 1));
            trace.Bind(indices, IndexOnnx(trace, trace.Node(largest ? "ArgMax" : "ArgMin", [trace.Value(x)], OnnxTrace.Int("axis", axis), OnnxTrace.Int("keepdims", 1))));
        }
        if (differentiable && Tape.NeedsGrad(x))
            Tape.Record(op, values, dy =>
            {
                Tape.GradientTarget(x, out float beta);
                Reductions.ScatterAlong(dy.Buffer, dy.Offset, indices.Buffer, indices.Offset, layout, x.Grad!.Buffer, x.Grad.Offset, beta);
            }, x);
        return keepDim ? (values, indices) : (Reshaped(values, removed), Reshaped(indices, removed));
    }

    /// <summary>ONNX's indices are int64; Sinapse's are whole floats.</summary>
    private static string IndexOnnx(OnnxTrace trace, string indices) => trace.Node("Cast", [indices], OnnxTrace.Int("to", (long)Onnx.TensorProto.Types.DataType.Float));

    private static Tensor IndexOfExtreme<TSelection>(Tensor x, string op) where TSelection : ISelection
    {
        if (x.Length == 0) throw new ArgumentException($"{op}: the tensor {x.Shape} is empty, so no element can be chosen; reduce over a dim that is not empty.");
        RequireExactIndices(x.Length, op, $"the tensor {x.Shape} has {x.Length} elements");
        var indices = Tensor.Scalar(0f);
        Reductions.Select<TSelection>(x.Buffer, x.Offset, new AxisLayout(1, x.Length, 1), new float[1], 0, indices.Buffer, indices.Offset);
        // The index into the flattened tensor, as torch.argmax without a dim.
        if (OnnxTrace.Current is { } trace)
        {
            var flat = trace.Node("Reshape", [trace.Value(x), trace.Integers("shape", -1)]);
            trace.Bind(indices, IndexOnnx(trace, trace.Node(op == "Argmax" ? "ArgMax" : "ArgMin", [flat], OnnxTrace.Int("axis", 0), OnnxTrace.Int("keepdims", 0))));
        }
        return indices;
    }

    /// <summary>The [outer, size, inner] layout around one axis, and the result's shape with that axis kept (size 1) and removed; refuses an empty axis.</summary>
    private static (AxisLayout Layout, Shape Kept, Shape Removed) SelectionAxis(Tensor x, int dim, string op)
    {
        var reduced = ReducedAxes(x.Shape, [dim], op);
        var kept = KeptShape(x.Shape, reduced);
        if (x.Rank == 0) return (new AxisLayout(1, 1, 1), kept, kept);
        int axis = NormalizedAxis(dim, x.Shape, op);
        RequireNonEmpty(x.Shape, reduced, op);
        RequireExactIndices(x.Shape[axis], op, $"axis {dim} of shape {x.Shape} has {x.Shape[axis]} elements");
        return (AxisLayout.Of(x.Shape, axis, axis + 1), kept, RemovedAxes(x.Shape, reduced));
    }

    private static void RequireExactIndices(int length, string op, string found)
    {
        if (length > MaxExactIndex) throw new ArgumentException($"{op}: indices are float32, which hold whole numbers exactly only up to 2^24 = {MaxExactIndex}, but {found}.");
    }

    /// <summary>A max or min of no elements has no value (no identity): PyTorch refuses a reduced axis of size 0, and so do these.</summary>
    private static void RequireNonEmpty(Shape shape, bool[] reduced, string op)
    {
        for (int axis = 0; axis < shape.Rank; axis++)
            if (reduced[axis] && shape[axis] == 0)
                throw new ArgumentException($"{op}: cannot reduce over axis {axis} of shape {shape}, which is empty (the operation has no identity).");
    }

    private static Tensor SelectionOver<TSelection>(Tensor x, int[] dims, bool keepDim, string op) where TSelection : ISelection
    {
        var reduced = ReducedAxes(x.Shape, dims, op);
        var kept = KeptShape(x.Shape, reduced);
        RequireNonEmpty(x.Shape, reduced, op);
        var y = ExtremeOver<TSelection>(x, reduced);
        OnnxTrace.Current?.Node(op == "Amax" ? "ReduceMax" : "ReduceMin", y, x, OnnxTrace.Ints("axes", ReducedIndices(reduced)), OnnxTrace.Int("keepdims", 1));
        if (Tape.NeedsGrad(x))
            Tape.Record(op, y, dy =>
            {
                var ties = Zip(x.Shape, x, y, y, (v, extreme, _) => v == extreme ? 1f : 0f);
                AccumulateSummed(x, SplitOverMarked(ties, dy), owned: true);
            }, x);
        return keepDim ? y : Reshaped(y, RemovedAxes(x.Shape, reduced));
    }

    /// <summary>
    /// The largest (or smallest) of x over the reduced axes, shaped with those axes kept at size 1;
    /// outside the tape. Each run of neighbouring reduced axes is one reduction, of their product.
    /// </summary>
    private static Tensor ExtremeOver<TSelection>(Tensor x, bool[] reduced) where TSelection : ISelection
    {
        var current = x;
        var dims = x.Shape.ToArray();
        for (int first = 0; first < dims.Length; first++)
        {
            if (!reduced[first]) continue;
            int end = first;
            while (end < dims.Length && reduced[end]) end++;
            var layout = AxisLayout.Of(new Shape(dims), first, end);
            for (int axis = first; axis < end; axis++) dims[axis] = 1;
            var next = Tensor.Empty(new Shape(dims));
            Reductions.Extreme<TSelection>(current.Buffer, current.Offset, layout, next.Buffer, next.Offset);
            current = next;
            first = end;
        }
        // A scalar has nothing to reduce; the result is still a tensor of its own.
        return ReferenceEquals(current, x) ? x.Clone() : current;
    }

    /// <summary>
    /// dy shared evenly among the marked elements of each reduced slice: mark·dy/count, count being
    /// the marks in the slice (PyTorch's scale_grad_by_count). A slice with no mark gets NaN.
    /// </summary>
    private static Tensor SplitOverMarked(Tensor marks, Tensor dy)
    {
        var counts = Tensor.Empty(dy.Shape);
        Reductions.SumTo(marks.Buffer, marks.Offset, marks.Shape, counts.Buffer, counts.Offset, dy.Shape, 0f);
        return Zip(marks.Shape, marks, dy, counts, (mark, g, count) => g / count * mark);
    }
}

public static partial class TensorExtensions
{
    extension(Tensor a)
    {
        public Tensor Max() => F.Max(a);
        public (Tensor Values, Tensor Indices) Max(int dim, bool keepDim = false) => F.Max(a, dim, keepDim);
        public Tensor Min() => F.Min(a);
        public (Tensor Values, Tensor Indices) Min(int dim, bool keepDim = false) => F.Min(a, dim, keepDim);
        public Tensor Amax(int[] dims, bool keepDim = false) => F.Amax(a, dims, keepDim);
        public Tensor Amax(int dim, bool keepDim = false) => F.Amax(a, dim, keepDim);
        public Tensor Amin(int[] dims, bool keepDim = false) => F.Amin(a, dims, keepDim);
        public Tensor Amin(int dim, bool keepDim = false) => F.Amin(a, dim, keepDim);
        public Tensor Argmax() => F.Argmax(a);
        public Tensor Argmax(int dim, bool keepDim = false) => F.Argmax(a, dim, keepDim);
        public Tensor Argmin() => F.Argmin(a);
        public Tensor Argmin(int dim, bool keepDim = false) => F.Argmin(a, dim, keepDim);
    }
}
