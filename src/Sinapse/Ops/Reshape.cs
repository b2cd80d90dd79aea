using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Ops;

/// <summary>
/// Ops that change only the shape: the data is contiguous row-major, so the result is a view of
/// the same storage (no copy), and its gradient is the output's gradient read with the input's shape.
/// </summary>
public static partial class F
{
    /// <summary>torch.reshape: the same values with another shape (no copy); one dimension may be −1 and is inferred.</summary>
    public static Tensor Reshape(Tensor x, params int[] shape) => ViewAs(x, InferShape(x, shape), "Reshape");

    /// <summary>torch's Tensor.view, the same as <see cref="Reshape"/>: every tensor is contiguous, so every reshape is a view.</summary>
    public static Tensor View(Tensor x, params int[] shape) => ViewAs(x, InferShape(x, shape), "View");

    /// <summary>
    /// Keeps the batch axis and flattens the rest, [N, C, H, W] → [N, C·H·W], as the Flatten layer
    /// (nn.Flatten, start 1) does; a 2-D input is returned as it is. For torch.flatten, which starts
    /// at dimension 0 by default, pass the start: <c>Flatten(x, 0)</c>.
    /// </summary>
    public static Tensor Flatten(Tensor x)
    {
        if (x.Rank < 1) throw new ArgumentException($"Flatten needs a batch axis, got a scalar.");
        // ONNX's Flatten keeps the batch axis dynamic without a shape constant.
        return x.Rank == 2 ? x : ViewAs(x, InferShape(x, [x.Shape[0], -1]), "Flatten", static (trace, x, y) => trace.Node("Flatten", y, x, OnnxTrace.Int("axis", 1)));
    }

    /// <summary>
    /// torch.flatten(x, startDim, endDim): dimensions startDim..endDim (inclusive, negative counting
    /// from the end) merged into one, a view. A scalar becomes a vector of one element.
    /// The start has no default, unlike torch's 0: <see cref="Flatten(Tensor)"/> keeps the batch axis.
    /// </summary>
    public static Tensor Flatten(Tensor x, int startDim, int endDim = -1)
    {
        if (x.Rank == 0)
        {
            if (startDim is not (0 or -1) || endDim is not (0 or -1))
                throw new ArgumentException($"Flatten: a scalar has only dimension 0 (or -1), got startDim {startDim} and endDim {endDim}.");
            return ViewAs(x, new Shape(1), "Flatten");
        }
        int start = Axis("Flatten", startDim, x.Shape), end = Axis("Flatten", endDim, x.Shape);
        if (start > end) throw new ArgumentException($"Flatten: startDim {startDim} comes after endDim {endDim} in a tensor of shape {x.Shape}.");
        var dims = x.Shape.Dimensions;
        int merged = 1;
        for (int d = start; d <= end; d++) merged *= dims[d];
        return ViewAs(x, new Shape([.. dims[..start], merged, .. dims[(end + 1)..]]), "Flatten");
    }

    /// <summary>
    /// torch.squeeze: without dims, every dimension of size 1 removed; with dims, those of them that
    /// have size 1 (a listed dimension of another size stays, as in PyTorch). A view.
    /// </summary>
    public static Tensor Squeeze(Tensor x, params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        var shape = x.Shape.Dimensions;
        var remove = new bool[x.Rank];
        if (dims.Length == 0)
            for (int d = 0; d < x.Rank; d++) remove[d] = shape[d] == 1;
        var listed = new bool[x.Rank];
        foreach (var dim in dims)
        {
            // torch lets a scalar be squeezed along 0 or -1, which leaves it as it is.
            if (x.Rank == 0 && dim is 0 or -1) continue;
            int d = Axis("Squeeze", dim, x.Shape);
            if (listed[d]) throw new ArgumentException($"Squeeze: dimension {d} is listed twice in [{string.Join(", ", dims)}].");
            listed[d] = true;
            remove[d] = shape[d] == 1;
        }
        var kept = new List<int>(x.Rank);
        for (int d = 0; d < x.Rank; d++) if (!remove[d]) kept.Add(shape[d]);
        return ViewAs(x, new Shape(kept.ToArray()), "Squeeze");
    }

    /// <summary>torch.unsqueeze: a dimension of size 1 inserted at <paramref name="dim"/>, in [−rank − 1, rank]. A view.</summary>
    public static Tensor Unsqueeze(Tensor x, int dim)
    {
        int d = InsertionAxis("Unsqueeze", dim, x.Shape);
        var dims = x.Shape.Dimensions;
        return ViewAs(x, new Shape([.. dims[..d], 1, .. dims[d..]]), "Unsqueeze");
    }

    /// <summary>Where a new dimension goes among those of <paramref name="shape"/>: [−rank − 1, rank], negative counting from the end of the result.</summary>
    private static int InsertionAxis(string op, int dim, Shape shape)
    {
        if (dim < -shape.Rank - 1 || dim > shape.Rank)
            throw new ArgumentException($"{op}: dim {dim} is outside [{-shape.Rank - 1}, {shape.Rank}], where a new dimension can go in a tensor of shape {shape}.");
        return dim < 0 ? dim + shape.Rank + 1 : dim;
    }

    /// <summary>x's storage seen as <paramref name="shape"/>, recorded as <paramref name="op"/>.</summary>
    /// <summary>x's values with another shape; in ONNX a Reshape unless <paramref name="onnx"/> gives another form.</summary>
    private static Tensor ViewAs(Tensor x, Shape shape, string op, OnnxForm? onnx = null)
    {
        var y = x.View(shape);
        if (OnnxTrace.Current is { } trace)
        {
            if (onnx != null) onnx(trace, x, y);
            else trace.Reshape(x, y);
        }
        if (Tape.NeedsGrad(x)) Tape.Record(op, y, dy => Tape.Accumulate(x, dy.Span), x);
        return y;
    }

    private static Shape InferShape(Tensor x, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        int inferred = Array.IndexOf(shape, -1);
        if (inferred >= 0 && Array.LastIndexOf(shape, -1) != inferred) throw new ArgumentException($"Reshape: only one dimension can be -1, got [{string.Join(", ", shape)}].");
        var dims = (int[])shape.Clone();
        if (inferred >= 0)
        {
            long known = 1;
            for (int i = 0; i < dims.Length; i++) if (i != inferred) known *= dims[i];
            if (known == 0 || x.Length % known != 0) throw new ArgumentException($"Reshape: cannot infer -1 in [{string.Join(", ", shape)}] for {x.Length} elements (shape {x.Shape}).");
            dims[inferred] = (int)(x.Length / known);
        }
        var result = new Shape(dims);
        if (result.Size != x.Length) throw new ArgumentException($"Reshape: shape {x.Shape} ({x.Length} elements) cannot become {result} ({result.Size} elements).");
        return result;
    }
}

public static partial class TensorExtensions
{
    extension(Tensor x)
    {
        /// <summary>The same values with another shape, a view; one dimension may be −1. See <see cref="F.Reshape"/>.</summary>
        public Tensor Reshape(params int[] shape) => F.Reshape(x, shape);

        /// <summary>torch's Tensor.view: the same as <see cref="F.Reshape"/> (every tensor is contiguous).</summary>
        public Tensor View(params int[] shape) => F.View(x, shape);

        /// <summary>torch.flatten with an explicit start (0 flattens everything); see <see cref="F.Flatten(Tensor, int, int)"/>.</summary>
        public Tensor Flatten(int startDim, int endDim = -1) => F.Flatten(x, startDim, endDim);

        /// <summary>Size-1 dimensions removed: all of them, or those among <paramref name="dims"/>. A view.</summary>
        public Tensor Squeeze(params int[] dims) => F.Squeeze(x, dims);

        /// <summary>A dimension of size 1 inserted at <paramref name="dim"/>. A view.</summary>
        public Tensor Unsqueeze(int dim) => F.Unsqueeze(x, dim);
    }
}
