using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

/// <summary>
/// Ops that reorder dimensions. Tensors stay row-major, so the result is a copy in the new order
/// (<see cref="StridedCopy"/>: contiguous runs where dimensions keep their order, cache-tiled
/// register transposes where the innermost one moves); only a reordering that leaves the elements
/// in the same order — when just dimensions of size 1 move — is a view. The gradient is the
/// output's gradient put back in the input's order by the inverse permutation.
/// </summary>
public static partial class F
{
    /// <summary>torch.permute: dimension i of the result is dimension dims[i] of x (negative counting from the end). A copy.</summary>
    public static Tensor Permute(Tensor x, params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        var order = new int[x.Rank];
        var taken = new bool[x.Rank];
        if (dims.Length != x.Rank) throw new ArgumentException($"Permute: [{string.Join(", ", dims)}] must list each of the {x.Rank} dimensions of a tensor of shape {x.Shape} once.");
        for (int i = 0; i < dims.Length; i++)
        {
            order[i] = Axis("Permute", dims[i], x.Shape);
            if (taken[order[i]]) throw new ArgumentException($"Permute: [{string.Join(", ", dims)}] lists dimension {order[i]} twice (shape {x.Shape}).");
            taken[order[i]] = true;
        }
        return Permuted(x, order, "Permute");
    }

    /// <summary>torch.transpose: dimensions <paramref name="dim0"/> and <paramref name="dim1"/> swapped. A copy; see <see cref="Permute"/>.</summary>
    public static Tensor Transpose(Tensor x, int dim0, int dim1)
    {
        int a = Axis("Transpose", dim0, x.Shape), b = Axis("Transpose", dim1, x.Shape);
        var order = IdentityPermutation(x.Rank);
        (order[a], order[b]) = (b, a);
        return Permuted(x, order, "Transpose");
    }

    /// <summary>torch.movedim: dimension <paramref name="source"/> moved to position <paramref name="destination"/>, the others keeping their order. A copy.</summary>
    public static Tensor MoveDim(Tensor x, int source, int destination) => MoveDim(x, [source], [destination]);

    /// <summary>torch.movedim: each dimension source[i] moved to position destination[i], the others filling the remaining positions in their order. A copy.</summary>
    public static Tensor MoveDim(Tensor x, int[] source, int[] destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (source.Length != destination.Length)
            throw new ArgumentException($"MoveDim: {source.Length} source dimensions [{string.Join(", ", source)}] need as many destinations, got [{string.Join(", ", destination)}].");
        var order = new int[x.Rank];
        Array.Fill(order, -1);
        var moved = new bool[x.Rank];
        for (int i = 0; i < source.Length; i++)
        {
            int from = Axis("MoveDim", source[i], x.Shape), to = Axis("MoveDim", destination[i], x.Shape);
            if (moved[from] || order[to] >= 0)
                throw new ArgumentException($"MoveDim: source [{string.Join(", ", source)}] and destination [{string.Join(", ", destination)}] must each name a dimension of shape {x.Shape} at most once.");
            moved[from] = true;
            order[to] = from;
        }
        int next = 0;
        for (int to = 0; to < x.Rank; to++)
        {
            if (order[to] >= 0) continue;
            while (moved[next]) next++;
            order[to] = next++;
        }
        return Permuted(x, order, "MoveDim");
    }

    /// <summary>x with its dimensions in <paramref name="order"/> (a valid permutation), recorded as <paramref name="op"/>.</summary>
    private static Tensor Permuted(Tensor x, int[] order, string op)
    {
        var dims = x.Shape.Dimensions;
        var shape = new int[x.Rank];
        for (int i = 0; i < order.Length; i++) shape[i] = dims[order[i]];
        if (KeepsElementOrder(dims, order)) return ViewAs(x, new Shape(shape), op);
        var inverse = new int[order.Length];
        for (int i = 0; i < order.Length; i++) inverse[order[i]] = i;
        var y = Tensor.Empty(new Shape(shape));
        CopyPermuted(x.Span, dims, order, y.Span, accumulate: false);
        OnnxTrace.Current?.Node("Transpose", y, x, OnnxTrace.Ints("perm", order));
        if (Tape.NeedsGrad(x))
            Tape.Record(op, y, dy =>
            {
                var dx = Tape.GradientTarget(x, out float beta);
                CopyPermuted(dy.Span, shape, inverse, dx, accumulate: beta != 0f);
            }, x);
        return y;
    }

    /// <summary>destination (row-major) = source of <paramref name="sourceShape"/> with its dimensions in <paramref name="order"/>.</summary>
    private static void CopyPermuted(ReadOnlySpan<float> source, ReadOnlySpan<int> sourceShape, int[] order, Span<float> destination, bool accumulate)
    {
        var sourceStrides = StridedCopy.RowMajorStrides(sourceShape);
        var sizes = new int[order.Length];
        var strides = new int[order.Length];
        for (int i = 0; i < order.Length; i++) (sizes[i], strides[i]) = (sourceShape[order[i]], sourceStrides[order[i]]);
        StridedCopy.Run(source, strides, destination, StridedCopy.RowMajorStrides(sizes), sizes, accumulate);
    }

    /// <summary>Whether the dimensions of size other than 1 stay in their order: then so do the elements.</summary>
    private static bool KeepsElementOrder(ReadOnlySpan<int> dims, int[] order)
    {
        int previous = -1;
        foreach (int d in order)
        {
            if (dims[d] == 1) continue;
            if (d < previous) return false;
            previous = d;
        }
        return true;
    }

    private static int[] IdentityPermutation(int rank)
    {
        var order = new int[rank];
        for (int i = 0; i < rank; i++) order[i] = i;
        return order;
    }
}

public static partial class TensorExtensions
{
    extension(Tensor x)
    {
        /// <summary>Dimension i of the result is dimension dims[i] of this tensor. A copy; see <see cref="F.Permute"/>.</summary>
        public Tensor Permute(params int[] dims) => F.Permute(x, dims);

        /// <summary>Dimensions <paramref name="dim0"/> and <paramref name="dim1"/> swapped. A copy.</summary>
        public Tensor Transpose(int dim0, int dim1) => F.Transpose(x, dim0, dim1);

        /// <summary>Dimension <paramref name="source"/> moved to position <paramref name="destination"/>. A copy.</summary>
        public Tensor MoveDim(int source, int destination) => F.MoveDim(x, source, destination);

        /// <summary>Dimensions source[i] moved to positions destination[i]. A copy.</summary>
        public Tensor MoveDim(int[] source, int[] destination) => F.MoveDim(x, source, destination);
    }
}
