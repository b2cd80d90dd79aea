using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// torch's Tensor.repeat: x tiled repeats[d] times along each dimension d. With more repeats than
    /// dimensions, x is first given leading dimensions of size 1: a [3] tensor repeated (2, 2) is
    /// [2, 6]. A repeat of 0 gives an empty dimension. A copy; x's gradient is the sum of the
    /// output's over the copies.
    /// </summary>
    public static Tensor Repeat(Tensor x, params int[] repeats)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        if (repeats.Length < x.Rank)
            throw new ArgumentException($"Repeat: {repeats.Length} repeats [{string.Join(", ", repeats)}] for a tensor of shape {x.Shape}; give at least one per dimension.");
        if (repeats.Any(r => r < 0)) throw new ArgumentException($"Repeat: repeats must be 0 or more, got [{string.Join(", ", repeats)}].");
        int lead = repeats.Length - x.Rank;
        var sizes = new int[repeats.Length];
        for (int d = 0; d < sizes.Length; d++) sizes[d] = d < lead ? 1 : x.Shape[d - lead];
        var shape = new int[repeats.Length];
        for (int d = 0; d < shape.Length; d++)
        {
            long size = (long)sizes[d] * repeats[d];
            if (size > Array.MaxLength) throw new ArgumentException($"Repeat: repeating dimension {d} of size {sizes[d]} {repeats[d]} times gives {size:N0} positions, more than a tensor holds (shape {x.Shape}).");
            shape[d] = (int)size;
        }
        long total = shape.Aggregate(1L, (product, size) => product * size);
        if (total > Array.MaxLength) throw new ArgumentException($"Repeat: [{string.Join(", ", repeats)}] repeats of shape {x.Shape} give {total:N0} elements, more than a tensor holds.");
        // The output as a box of (copy, position) pairs per dimension; the input's stride along a copy is 0.
        var inputStrides = StridedCopy.RowMajorStrides(sizes);
        var outputStrides = StridedCopy.RowMajorStrides(shape);
        var box = new int[2 * shape.Length];
        var fromInput = new int[box.Length];
        var toOutput = new int[box.Length];
        for (int d = 0; d < shape.Length; d++)
        {
            (box[2 * d], fromInput[2 * d], toOutput[2 * d]) = (repeats[d], 0, sizes[d] * outputStrides[d]);
            (box[2 * d + 1], fromInput[2 * d + 1], toOutput[2 * d + 1]) = (sizes[d], inputStrides[d], outputStrides[d]);
        }
        var y = Tensor.Empty(new Shape(shape));
        StridedCopy.Run(x.Span, fromInput, y.Span, toOutput, box);
        // ONNX's Tile wants one repeat per dimension: the new leading ones are added first.
        if (OnnxTrace.Current is { } trace)
        {
            var input = lead == 0 ? trace.Value(x) : trace.Node("Reshape", [trace.Value(x), trace.Integers("shape", sizes.Select(d => (long)d).ToArray())]);
            trace.Bind(y, trace.Node("Tile", [input, trace.Integers("repeats", repeats.Select(r => (long)r).ToArray())]));
        }
        if (Tape.NeedsGrad(x))
            Tape.Record("Repeat", y, dy =>
            {
                var dx = Tape.GradientTarget(x, out float beta);
                if (beta == 0f) dx.Clear();
                StridedCopy.Run(dy.Span, toOutput, dx, fromInput, box, accumulate: true);
            }, x);
        return y;
    }
}

public static partial class TensorExtensions
{
    extension(Tensor x)
    {
        /// <summary>This tensor tiled repeats[d] times along each dimension; see <see cref="F.Repeat"/>.</summary>
        public Tensor Repeat(params int[] repeats) => F.Repeat(x, repeats);
    }
}
