using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

/// <summary>
/// Reductions over chosen axes, as in PyTorch: negative axes count from the end, and the reduced
/// axes are removed from the result unless <c>keepDim</c> keeps them with size 1. Their
/// gradients broadcast the output gradient back over the reduced axes.
/// </summary>
public static partial class F
{
    /// <summary>The sum over <paramref name="dims"/> (every axis when empty).</summary>
    public static Tensor Sum(Tensor x, int[] dims, bool keepDim = false) => ScaledSum(x, dims, keepDim, "Sum", mean: false);

    /// <summary>The sum over one axis.</summary>
    public static Tensor Sum(Tensor x, int dim, bool keepDim = false) => Sum(x, [dim], keepDim);

    /// <summary>The mean over <paramref name="dims"/> (every axis when empty); NaN over zero elements, as in PyTorch.</summary>
    public static Tensor Mean(Tensor x, int[] dims, bool keepDim = false) => ScaledSum(x, dims, keepDim, "Mean", mean: true);

    /// <summary>The mean over one axis.</summary>
    public static Tensor Mean(Tensor x, int dim, bool keepDim = false) => Mean(x, [dim], keepDim);

    /// <summary>
    /// <paramref name="x"/> repeated along its size-1 axes (and new leading axes) up to
    /// <paramref name="shape"/>, by NumPy's broadcasting rules; −1 keeps an axis's size. Copies:
    /// Sinapse tensors are contiguous, so the repeated values are written out. The gradient is
    /// summed back over the repeated axes.
    /// </summary>
    public static Tensor BroadcastTo(Tensor x, params int[] shape)
    {
        var target = ExpandedShape(x.Shape, shape);
        var y = Tensor.Empty(target);
        ComputeInto<MultiplyOperator>(x, One, y);
        if (OnnxTrace.Current is { } trace)
        {
            // ONNX's Expand broadcasts both ways: a 1 keeps the input's size, so an axis that is not expanded (the batch) stays dynamic.
            var dims = target.ToArray().Select(d => (long)d).ToArray();
            for (int d = 0; d < x.Rank; d++)
                if (x.Shape[d] == target[target.Rank - x.Rank + d]) dims[target.Rank - x.Rank + d] = 1;
            trace.Bind(y, trace.Node("Expand", [trace.Value(x), trace.Integers("shape", dims)]));
        }
        if (Tape.NeedsGrad(x)) Tape.Record("BroadcastTo", y, dy => AccumulateSummed(x, dy, owned: false), x);
        return y;
    }

    /// <summary>PyTorch's name for <see cref="BroadcastTo"/>.</summary>
    public static Tensor Expand(Tensor x, params int[] shape) => BroadcastTo(x, shape);

    /// <summary>
    /// <paramref name="x"/> with <paramref name="value"/> wherever <paramref name="mask"/> is nonzero;
    /// the mask broadcasts to x's shape. The filled places get no gradient.
    /// </summary>
    public static Tensor MaskedFill(Tensor x, Tensor mask, float value)
    {
        if (Shape.Broadcast(x.Shape, mask.Shape, "MaskedFill") != x.Shape)
            throw new ArgumentException($"MaskedFill: the mask {mask.Shape} must broadcast to the input's shape {x.Shape}.");
        return Where(mask, Tensor.Scalar(value), x);
    }

    private static Tensor ScaledSum(Tensor x, int[] dims, bool keepDim, string op, bool mean)
    {
        var reduced = ReducedAxes(x.Shape, dims, op);
        var kept = KeptShape(x.Shape, reduced);
        float scale = mean ? 1f / ReducedCount(x.Shape, reduced) : 1f;
        var y = Tensor.Empty(kept);
        Reductions.SumTo(x.Buffer, x.Offset, x.Shape, y.Buffer, y.Offset, kept, 0f);
        if (mean) y = Scaled(y, scale);
        if (OnnxTrace.Current is { } trace)
        {
            // Opset 17's ReduceSum reads its axes as an input, ReduceMean as an attribute.
            long[] axes = ReducedIndices(reduced);
            trace.Bind(y, mean ? trace.Node("ReduceMean", [trace.Value(x)], OnnxTrace.Ints("axes", axes), OnnxTrace.Int("keepdims", 1))
                : trace.Node("ReduceSum", [trace.Value(x), trace.Integers("axes", axes)], OnnxTrace.Int("keepdims", 1)));
        }
        if (Tape.NeedsGrad(x))
            Tape.Record(op, y, dy => AccumulateComputed(x, destination => ComputeInto<MultiplyOperator>(dy.View(kept), Tensor.Scalar(scale), destination)), x);
        return keepDim ? y : Reshaped(y, RemovedAxes(x.Shape, reduced));
    }

    /// <summary>The indices of the reduced axes, for an ONNX reduction's axes.</summary>
    internal static long[] ReducedIndices(bool[] reduced) => Enumerable.Range(0, reduced.Length).Where(axis => reduced[axis]).Select(axis => (long)axis).ToArray();

    /// <summary>y·scale in place on a tensor no graph holds yet (mean of zero elements: 0·∞ gives NaN, as it should).</summary>
    private static Tensor Scaled(Tensor y, float scale)
    {
        TensorPrimitives.Multiply(y.Span, scale, y.Span);
        return y;
    }

    /// <summary>A view of y with the reduced axes dropped, carrying y's graph.</summary>
    private static Tensor Reshaped(Tensor y, Shape shape) => y.Shape == shape ? y : Reshape(y, shape.ToArray());

    /// <summary>Which axes of <paramref name="shape"/> <paramref name="dims"/> name (all when empty); negative ones count from the end.</summary>
    internal static bool[] ReducedAxes(Shape shape, int[] dims, string op)
    {
        var reduced = new bool[shape.Rank];
        if (shape.Rank == 0)
        {
            // A scalar has no axes; PyTorch still accepts 0 and -1 for it.
            foreach (var dim in dims) NormalizedAxis(dim, shape, op);
            return reduced;
        }
        if (dims.Length == 0) Array.Fill(reduced, true);
        foreach (var dim in dims)
        {
            int axis = NormalizedAxis(dim, shape, op);
            if (reduced[axis]) throw new ArgumentException($"{op}: axis {dim} is named twice in [{string.Join(", ", dims)}] for shape {shape}.");
            reduced[axis] = true;
        }
        return reduced;
    }

    /// <summary>An axis of <paramref name="shape"/>, counted from the end when negative; a clear error when out of range.</summary>
    internal static int NormalizedAxis(int dim, Shape shape, string op)
    {
        int rank = Math.Max(shape.Rank, 1);
        if (dim < -rank || dim >= rank) throw new ArgumentException($"{op}: axis {dim} is out of range for shape {shape} (expected {-rank} to {rank - 1}).");
        return dim < 0 ? dim + rank : dim;
    }

    /// <summary>How many elements each reduced slice holds: the product of the reduced axes' sizes.</summary>
    private static int ReducedCount(Shape shape, bool[] reduced)
    {
        int count = 1;
        for (int axis = 0; axis < shape.Rank; axis++) if (reduced[axis]) count *= shape[axis];
        return count;
    }

    /// <summary>The shape with reduced axes set to 1.</summary>
    internal static Shape KeptShape(Shape shape, bool[] reduced)
    {
        var dims = shape.ToArray();
        for (int axis = 0; axis < dims.Length; axis++) if (reduced[axis]) dims[axis] = 1;
        return new Shape(dims);
    }

    /// <summary>The shape with reduced axes removed.</summary>
    internal static Shape RemovedAxes(Shape shape, bool[] reduced)
    {
        var dims = new List<int>();
        for (int axis = 0; axis < shape.Rank; axis++) if (!reduced[axis]) dims.Add(shape[axis]);
        return new Shape(dims.ToArray());
    }

    private static Shape ExpandedShape(Shape from, int[] shape)
    {
        if (shape.Length < from.Rank) throw new ArgumentException($"BroadcastTo: shape {from} cannot expand to [{string.Join(", ", shape)}], which has fewer axes.");
        var dims = (int[])shape.Clone();
        int offset = shape.Length - from.Rank;
        for (int axis = 0; axis < dims.Length; axis++)
        {
            int size = axis < offset ? 1 : from[axis - offset];
            if (dims[axis] == -1)
            {
                if (axis < offset) throw new ArgumentException($"BroadcastTo: -1 is not allowed for the new leading axis {axis} in [{string.Join(", ", shape)}].");
                dims[axis] = size;
            }
            if (size != dims[axis] && size != 1) throw new ArgumentException($"BroadcastTo: shape {from} cannot expand to [{string.Join(", ", shape)}] (axis {axis}: {size} vs {dims[axis]}).");
        }
        return new Shape(dims);
    }
}
