using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// torch.cat: tensors of one shape except along <paramref name="axis"/> (negative counts from
    /// the end), joined along it in order — the channel concatenation of Inception and DenseNet
    /// blocks when axis is 1. Each input's gradient is its slice of the output's.
    /// </summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int axis = 1)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var output = Tensor.Empty(ConcatShape(tensors.Select(t => t.Shape).ToList(), axis));
        axis = Axis("Concat", axis, output.Shape);
        var parts = tensors.ToArray();
        Blocks.Join(parts, output, axis);
        OnnxTrace.Current?.Node("Concat", output, parts, OnnxTrace.Int("axis", axis));
        if (parts.Any(Tape.NeedsGrad))
            Tape.Record("Concat", output, dy => Blocks.Scatter(dy, parts, axis), parts);
        return output;
    }

    /// <summary>The shape <see cref="Concat"/> gives for inputs of <paramref name="shapes"/>, or an error naming the one that does not fit.</summary>
    public static Shape ConcatShape(IReadOnlyList<Shape> shapes, int axis)
    {
        if (shapes.Count == 0) throw new ArgumentException("Concat needs at least one tensor.");
        var first = shapes[0];
        axis = Axis("Concat", axis, first);
        var dims = first.ToArray();
        dims[axis] = 0;
        for (int i = 0; i < shapes.Count; i++)
        {
            var shape = shapes[i];
            bool fits = shape.Rank == first.Rank;
            for (int d = 0; fits && d < shape.Rank; d++) fits = d == axis || shape[d] == first[d];
            if (!fits) throw new ArgumentException($"Concat: input {i} has shape {shape}, which differs from input 0's {first} on an axis other than {axis}.");
            dims[axis] += shape[axis];
        }
        return new Shape(dims);
    }

    /// <summary>
    /// torch.split with sizes: <paramref name="x"/> cut along <paramref name="axis"/> into pieces
    /// of <paramref name="sizes"/> (summing to that axis's length), each a copy whose gradient goes
    /// back to its slice of <paramref name="x"/>.
    /// </summary>
    public static Tensor[] Split(Tensor x, IReadOnlyList<int> sizes, int axis = 1)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        axis = Axis("Split", axis, x.Shape);
        if (sizes.Count == 0 || sizes.Any(s => s < 1) || sizes.Sum() != x.Shape[axis])
            throw new ArgumentException($"Split: the sizes [{string.Join(", ", sizes)}] must be positive and add up to {x.Shape[axis]}, axis {axis} of {x.Shape}.");
        var pieces = sizes.Select(size =>
        {
            var dims = x.Shape.ToArray();
            dims[axis] = size;
            return Tensor.Empty(dims);
        }).ToArray();
        Blocks.Scatter(x, pieces, axis, gradients: false);
        if (Tape.NeedsGrad(x))
            for (int i = 0; i < pieces.Length; i++)
            {
                int piece = i;
                Tape.Record("Split", pieces[piece], dy => Blocks.AccumulateSlice(dy, x, pieces, piece, axis), x);
            }
        return pieces;
    }

    /// <summary>
    /// torch.stack: tensors of one shape joined along a new dimension <paramref name="dim"/> (in
    /// [−rank − 1, rank]), so stacking n tensors of [A, B] along 1 gives [A, n, B]. A copy; each
    /// input's gradient is its slice of the output's.
    /// </summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0) throw new ArgumentException("Stack needs at least one tensor.");
        var shape = tensors[0].Shape;
        for (int i = 1; i < tensors.Count; i++)
            if (tensors[i].Shape != shape) throw new ArgumentException($"Stack: input {i} has shape {tensors[i].Shape}, input 0 has {shape}; stacked tensors must have one shape.");
        int d = InsertionAxis("Stack", dim, shape);
        return Concat(tensors.Select(t => Unsqueeze(t, d)).ToList(), d);
    }

    /// <summary>
    /// torch.chunk: x cut along <paramref name="dim"/> into pieces of ⌈size / chunks⌉ (the last one
    /// smaller), so there may be fewer than <paramref name="chunks"/> pieces: 6 in 4 chunks gives
    /// three of 2. An empty dimension gives <paramref name="chunks"/> empty pieces. Each piece is a
    /// <see cref="Slice"/>: a view when cut along the first dimension larger than 1, else a copy.
    /// </summary>
    public static Tensor[] Chunk(Tensor x, int chunks, int dim = 0)
    {
        if (chunks < 1) throw new ArgumentException($"Chunk: the number of chunks must be at least 1, got {chunks}.");
        int d = Axis("Chunk", dim, x.Shape), size = x.Shape[d];
        if (size == 0) return Enumerable.Range(0, chunks).Select(_ => Slice(x, d, 0, 0)).ToArray();
        int chunkSize = (size + chunks - 1) / chunks;
        int count = (size + chunkSize - 1) / chunkSize;
        return Enumerable.Range(0, count).Select(i => Slice(x, d, i * chunkSize, (i + 1) * chunkSize)).ToArray();
    }

    private static int Axis(string op, int axis, Shape shape)
    {
        // These ops need an axis to work along: a scalar has none (NormalizedAxis alone would take 0 and -1 for it).
        if (shape.Rank == 0) throw new ArgumentException($"{op}: axis {axis} is outside a tensor of rank 0 (a scalar).");
        return NormalizedAxis(axis, shape, op);
    }

    /// <summary>
    /// Copies between a whole tensor and its parts along one axis. Seen as [outer, axis, inner], a
    /// part is one block of (its axis length)·inner values in each of the outer rows.
    /// </summary>
    private static class Blocks
    {
        public static void Join(Tensor[] parts, Tensor whole, int axis) => Each(parts, whole.Shape, axis, (part, outer, row, offset, block) =>
        {
            var source = part.Span;
            var target = whole.Span;
            for (int o = 0; o < outer; o++) source.Slice(o * block, block).CopyTo(target.Slice(o * row + offset, block));
        });

        /// <summary>The whole's blocks into the parts: values (a split), or gradients added to what the parts' inputs already hold (a concatenation's backward).</summary>
        public static void Scatter(Tensor whole, Tensor[] parts, int axis, bool gradients = true) => Each(parts, whole.Shape, axis, (part, outer, row, offset, block) =>
        {
            if (gradients && !part.RequiresGrad) return;
            float beta = 0f;
            var target = gradients ? Tape.GradientTarget(part, out beta) : part.Span;
            var source = whole.Span;
            for (int o = 0; o < outer; o++) Add(source.Slice(o * row + offset, block), target.Slice(o * block, block), beta);
        });

        /// <summary>Piece <paramref name="index"/>'s gradient added into its slice of the whole's gradient; the rest of a fresh gradient buffer is cleared.</summary>
        public static void AccumulateSlice(Tensor gradient, Tensor whole, Tensor[] pieces, int index, int axis)
        {
            var fresh = Tape.GradientTarget(whole, out float beta);
            if (beta == 0f) fresh.Clear();
            Each(pieces, whole.Shape, axis, (piece, outer, row, offset, block) =>
            {
                if (!ReferenceEquals(piece, pieces[index])) return;
                var source = gradient.Span;
                var target = whole.Grad!.Span;
                for (int o = 0; o < outer; o++) Add(source.Slice(o * block, block), target.Slice(o * row + offset, block), 1f);
            });
        }

        private static void Add(ReadOnlySpan<float> source, Span<float> target, float beta)
        {
            if (beta == 0f) source.CopyTo(target);
            else TensorPrimitives.Add(target, source, target);
        }

        private delegate void BlockCopy(Tensor part, int outer, int row, int offset, int block);

        private static void Each(Tensor[] parts, Shape whole, int axis, BlockCopy copy)
        {
            int outer = 1, inner = 1;
            for (int d = 0; d < axis; d++) outer *= whole[d];
            for (int d = axis + 1; d < whole.Rank; d++) inner *= whole[d];
            int row = whole[axis] * inner, offset = 0;
            foreach (var part in parts)
            {
                int block = part.Shape[axis] * inner;
                copy(part, outer, row, offset, block);
                offset += block;
            }
        }
    }
}

public static partial class TensorExtensions
{
    extension(Tensor x)
    {
        /// <summary>Pieces of ⌈size / chunks⌉ along <paramref name="dim"/>; see <see cref="F.Chunk"/>.</summary>
        public Tensor[] Chunk(int chunks, int dim = 0) => F.Chunk(x, chunks, dim);
    }
}
