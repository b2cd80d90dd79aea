using System.Runtime.CompilerServices;
using Sinapse.Autograd;
using Sinapse.Kernels;

namespace Sinapse.Tensors;

/// <summary>
/// One entry of a tensor index, as in PyTorch's <c>x[...]</c>: a position (an int, negative
/// counting from the end, or an <see cref="Index"/> such as <c>^1</c>), which picks one element
/// of the dimension and removes it, or a <see cref="Range"/> such as <c>1..^1</c>, which keeps the
/// dimension and is clamped to it as a Python slice is.
/// </summary>
public readonly struct TensorIndex
{
    private readonly Index position, end;

    private TensorIndex(Index position, Index end, bool isRange)
    {
        this.position = position;
        this.end = end;
        IsRange = isRange;
    }

    /// <summary>Whether this entry keeps its dimension (a range) rather than removing it (a position).</summary>
    public bool IsRange { get; }

    public static implicit operator TensorIndex(int index) => new(index < 0 ? Index.FromEnd(-index) : Index.FromStart(index), default, false);

    public static implicit operator TensorIndex(Index index) => new(index, default, false);

    public static implicit operator TensorIndex(Range range) => new(range.Start, range.End, true);

    /// <summary>The slice of a dimension of <paramref name="size"/> this entry selects.</summary>
    internal AxisSlice Resolve(int size, int dimension, Shape shape)
    {
        if (IsRange) return AxisSlice.Clamped(Offset(position, size), Offset(end, size), 1, size);
        int at = Offset(position, size);
        if ((uint)at >= (uint)size)
            throw new IndexOutOfRangeException($"Index {this} is out of range for dimension {dimension} of size {size} (shape {shape}).");
        return new AxisSlice(at, 1, 1, Keep: false);
    }

    private static int Offset(Index index, int size) => index.IsFromEnd ? size - index.Value : index.Value;

    public override string ToString() => IsRange ? new Range(position, end).ToString() : position.ToString();
}

/// <summary>Elements Start, Start + Step, … (Count of them) of one dimension; Keep is false for a single position that removes the dimension.</summary>
internal readonly record struct AxisSlice(int Start, int Count, int Step, bool Keep = true)
{
    public static AxisSlice All(int size) => new(0, size, 1);

    /// <summary>Python's slice start:end:step on a dimension of <paramref name="size"/>: negative bounds count
    /// from the end, then both are clamped to it as in <see cref="Clamped"/>.</summary>
    public static AxisSlice Python(int start, int end, int step, int size) =>
        Clamped(start < 0 ? start + size : start, end < 0 ? end + size : end, step, size);

    /// <summary>Positions start, start + step, … before end, both bounds clamped to [0, size]; an end before the start selects nothing.</summary>
    public static AxisSlice Clamped(int start, int end, int step, int size)
    {
        start = Math.Clamp(start, 0, size);
        end = Math.Clamp(end, 0, size);
        return new AxisSlice(start, end > start ? (int)(((long)end - start + step - 1) / step) : 0, step);
    }
}

public sealed partial class Tensor
{
    /// <summary>
    /// PyTorch's basic indexing: <c>x[.., 1..3]</c>, <c>x[0, ^1]</c>, <c>x[1..^1, 2]</c>. A position
    /// removes its dimension, a range keeps it; dimensions past the last entry are kept whole.
    /// The result shares storage (a view) when the elements it picks are contiguous — a range of
    /// leading positions, say — and is a copy otherwise; either way gradients flow back to this tensor.
    /// With only ints the <c>float</c> element indexer is chosen instead: write <c>x[0, ..]</c> for row 0.
    /// </summary>
    [IndexerName("Element")]
    public Tensor this[params TensorIndex[] indices]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(indices);
            if (indices.Length > Rank)
                throw new IndexOutOfRangeException($"Too many indices for a tensor of shape {Shape}: {indices.Length} given, rank {Rank}.");
            var slices = new AxisSlice[Rank];
            for (int d = 0; d < Rank; d++)
                slices[d] = d < indices.Length ? indices[d].Resolve(Shape[d], d, Shape) : AxisSlice.All(Shape[d]);
            return SliceAxes(this, slices, "Index");
        }
    }

    /// <summary>
    /// The elements each dimension's slice picks, as one op: dimensions whose slice has Keep are
    /// kept, with the slice's Count. A view when those elements lie contiguous in storage, else a
    /// copy. The gradient goes back to the picked positions; the others get zero.
    /// </summary>
    internal static Tensor SliceAxes(Tensor x, AxisSlice[] slices, string op)
    {
        var sizes = new int[x.Rank];
        var strides = StridedCopy.RowMajorStrides(x.Shape.Dimensions);
        var kept = new List<int>(x.Rank);
        int start = 0;
        bool contiguous = true;
        long expectedStride = 1;
        for (int d = x.Rank - 1; d >= 0; d--)
        {
            var slice = slices[d];
            sizes[d] = slice.Count;
            start += slice.Start * strides[d];
            strides[d] *= slice.Step;
            // Contiguous when each dimension that moves steps over exactly the dimensions inside it.
            if (slice.Count > 1)
            {
                contiguous &= strides[d] == expectedStride;
                expectedStride *= slice.Count;
            }
        }
        for (int d = 0; d < x.Rank; d++) if (slices[d].Keep) kept.Add(slices[d].Count);
        var shape = new Shape(kept.ToArray());

        Tensor y;
        if (shape.Size == 0) y = Empty(shape);
        else if (contiguous) y = new Tensor(shape, x.Buffer, x.offset + start, x.viewOf ?? x);
        else
        {
            y = Empty(shape);
            StridedCopy.Run(x.Span[start..], strides, y.Span, StridedCopy.RowMajorStrides(sizes), sizes);
        }
        if (Tape.NeedsGrad(x))
            Tape.Record(op, y, dy =>
            {
                var dx = Tape.GradientTarget(x, out float beta);
                if (beta == 0f) dx.Clear();
                if (shape.Size > 0) StridedCopy.Run(dy.Span, StridedCopy.RowMajorStrides(sizes), dx[start..], strides, sizes, accumulate: beta != 0f);
            }, x);
        return y;
    }
}
