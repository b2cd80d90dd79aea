using Sinapse.Autograd;

namespace Sinapse.Tensors;

/// <summary>
/// A float32 array with a shape, stored contiguous and row-major (NCHW for images). A tensor
/// that requires a gradient receives one in <see cref="Grad"/> when <c>Backward</c> runs; a
/// tensor made by an op remembers, while gradients are recorded, how to push its gradient back.
/// </summary>
public sealed partial class Tensor
{
    private float[]? buffer;
    private readonly int offset;
    private readonly Tensor? viewOf;

    internal Tensor(Shape shape, float[] buffer, int offset = 0, Tensor? viewOf = null)
    {
        Shape = shape;
        this.buffer = buffer;
        this.offset = offset;
        this.viewOf = viewOf;
        Length = shape.Size;
        if (offset + Length > buffer.Length)
            throw new ArgumentException($"A buffer of {buffer.Length} floats cannot hold shape {shape} at offset {offset}.");
    }

    public Shape Shape { get; }

    public int Length { get; }

    public int Rank => Shape.Rank;

    /// <summary>A readable name (parameters get theirs from their module: "0.weight").</summary>
    public string? Name { get; set; }

    /// <summary>Whether gradients flow to this tensor; true for trainable parameters and for anything computed from them.</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The gradient accumulated by <c>Backward</c>, or null before the first backward pass.</summary>
    public Tensor? Grad { get; set; }

    /// <summary>A cleared gradient's buffer, kept so the next backward pass reuses it instead of allocating.</summary>
    internal Tensor? SpareGrad { get; set; }

    /// <summary>The op that produced this tensor, while gradients are being recorded.</summary>
    internal Node? Node { get; set; }

    /// <summary>A tensor not made by a recorded op: a parameter, an input or a constant.</summary>
    public bool IsLeaf => Node == null && !GraphFreed;

    /// <summary>Made by a recorded op whose graph a backward pass (or the end of its TensorScope) has since freed.</summary>
    internal bool GraphFreed { get; set; }

    public Span<float> Span
    {
        get
        {
            var root = viewOf ?? this;
            if (root.buffer == null) throw new ObjectDisposedException(nameof(Tensor), $"This tensor {Shape} went back to the pool: its TensorScope ended, or, in inference, the Sequential that made it had run the next layer. Keep it with TensorScope.Keep to use it afterwards.");
            return root.buffer.AsSpan(offset, Length);
        }
    }

    /// <summary>The raw storage; <see cref="Span"/> is the part this tensor covers.</summary>
    internal float[] Buffer => (viewOf ?? this).buffer ?? throw new ObjectDisposedException(nameof(Tensor));

    internal int Offset => offset;

    /// <summary>The tensor that owns the buffer this one covers: itself, or the tensor it is a view of.</summary>
    internal Tensor Storage => viewOf ?? this;

    /// <summary>Whether the two are views of one buffer (a reshape, a slice, the tensor itself).</summary>
    internal bool SharesStorageWith(Tensor other) => ReferenceEquals(viewOf ?? this, other.viewOf ?? other);

    internal void Release()
    {
        if (buffer != null) TensorPool.Return(buffer);
        buffer = null;
        if (Node != null) GraphFreed = true;
        Node = null;
    }

    public Tensor Clone()
    {
        var t = Empty(Shape);
        Span.CopyTo(t.Span);
        return t;
    }

    /// <summary>The same values without the graph: gradients will not flow back through the result.</summary>
    public Tensor Detach() => View(Shape);

    /// <summary>The same storage seen with another shape of the same size (no copy, no graph).</summary>
    internal Tensor View(Shape shape)
    {
        if (shape.Size != Length) throw new ArgumentException($"Cannot view a tensor of shape {Shape} ({Length} elements) as {shape} ({shape.Size} elements).");
        return new Tensor(shape, Buffer, offset, viewOf ?? this);
    }

    /// <summary>The same storage with another shape of the same size, outside the graph (for inspecting values).</summary>
    public Tensor ReshapedTo(params int[] shape) => View(new Shape(shape));

    // ---- reading ----

    public float[] ToArray() => Span.ToArray();

    /// <summary>The values of a matrix as a float[rows, columns] (the inverse of <see cref="FromArray(Array)"/> for rank 2).</summary>
    public float[,] ToArray2D()
    {
        if (Rank != 2) throw new InvalidOperationException($"ToArray2D() needs a tensor of rank 2, this one has shape {Shape}.");
        var result = new float[Shape[0], Shape[1]];
        Span.CopyTo(Elements<float>(result));
        return result;
    }

    /// <summary>The single value of a one-element tensor (a loss, say).</summary>
    public float Item()
    {
        if (Length != 1) throw new InvalidOperationException($"Item() needs a tensor with one element, this one has shape {Shape}.");
        return Span[0];
    }

    [System.Runtime.CompilerServices.IndexerName("Element")]
    public float this[params int[] index]
    {
        get => Span[FlatIndex(index)];
        set => Span[FlatIndex(index)] = value;
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != Rank) throw new IndexOutOfRangeException($"Tensor of shape {Shape} needs {Rank} indices for one element, got {index.Length}; for a sub-tensor index with a range as well, x[0, ..].");
        int flat = 0;
        for (int axis = 0; axis < Rank; axis++)
        {
            // Negative indices count from the end, as in PyTorch: x[-1] is the last element.
            int size = Shape[axis], at = index[axis] < 0 ? index[axis] + size : index[axis];
            if ((uint)at >= (uint)size)
                throw new IndexOutOfRangeException($"Index {index[axis]} is out of range for axis {axis} of size {size} (shape {Shape}; expected {-size} to {size - 1}).");
            flat = flat * size + at;
        }
        return flat;
    }

    /// <summary>
    /// Rows [start, start+count) along the first axis, sharing storage (free: the data is contiguous),
    /// outside the graph: for cutting data into batches. Inside a model use <c>x[start..end]</c> or
    /// <c>F.Slice</c>, which pass gradients back.
    /// </summary>
    public Tensor Slice(int start, int count)
    {
        if (Rank == 0 || start < 0 || count < 0 || start + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Rows [{start}, {start + count}) are outside the first axis of shape {Shape}.");
        int rowLength = Shape[0] == 0 ? 0 : Length / Shape[0];
        return new Tensor(Shape.WithBatch(count), Buffer, offset + start * rowLength, viewOf ?? this);
    }

    /// <summary>Copies the given rows (along the first axis) into <paramref name="destination"/>, in order.</summary>
    public void GatherRows(ReadOnlySpan<int> rows, Tensor destination)
    {
        int rowLength = Shape[0] == 0 ? 0 : Length / Shape[0];
        if (destination.Length != rows.Length * rowLength)
            throw new ArgumentException($"Gathering {rows.Length} rows of {rowLength} values needs a destination of {rows.Length * rowLength}, got shape {destination.Shape}.");
        var source = Span;
        var target = destination.Span;
        for (int i = 0; i < rows.Length; i++)
        {
            int row = rows[i];
            if ((uint)row >= (uint)Shape[0]) throw new IndexOutOfRangeException($"Row {row} is outside the first axis of shape {Shape}.");
            source.Slice(row * rowLength, rowLength).CopyTo(target.Slice(i * rowLength, rowLength));
        }
    }

    /// <summary>A new tensor holding the given rows (along the first axis), in order.</summary>
    public Tensor GatherRows(ReadOnlySpan<int> rows)
    {
        var result = Empty(Shape.WithBatch(rows.Length));
        GatherRows(rows, result);
        return result;
    }
}
