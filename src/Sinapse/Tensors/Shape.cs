namespace Sinapse.Tensors;

/// <summary>The dimensions of a tensor, outermost first (NCHW for images).</summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly int[]? dimensions;

    public Shape(params int[] dimensions)
    {
        foreach (var d in dimensions)
            if (d < 0) throw new ArgumentException($"Shape dimensions must be non-negative, got {Format(dimensions)}.");
        this.dimensions = (int[])dimensions.Clone();
    }

    public static implicit operator Shape(int[] dimensions) => new(dimensions);

    public int Rank => dimensions?.Length ?? 0;

    /// <summary>The size of an axis; negative axes count from the end, as in PyTorch.</summary>
    public int this[int axis] => axis >= -Rank && axis < Rank
        ? dimensions![axis < 0 ? axis + Rank : axis]
        : throw new IndexOutOfRangeException($"Axis {axis} is out of range for shape {this} (expected {-Rank} to {Rank - 1}).");

    public int this[Index axis] => Dimensions[axis];

    /// <summary>Number of elements; a rank-0 shape is a scalar with one element.</summary>
    public int Size
    {
        get
        {
            long size = 1;
            if (dimensions != null) foreach (var d in dimensions) size *= d;
            if (size > Array.MaxLength) throw new ArgumentException($"Shape {this} has {size} elements, more than a .NET array holds.");
            return (int)size;
        }
    }

    public ReadOnlySpan<int> Dimensions => dimensions;

    public int[] ToArray() => dimensions == null ? [] : (int[])dimensions.Clone();

    /// <summary>The shape with the first dimension replaced, e.g. a batch of another size.</summary>
    public Shape WithBatch(int batch)
    {
        var d = ToArray();
        d[0] = batch;
        return new Shape(d);
    }

    /// <summary>Everything after the batch dimension.</summary>
    public Shape Features => new(Dimensions[1..].ToArray());

    /// <summary>
    /// NumPy's and PyTorch's broadcast of two shapes: aligned at the last axis, each pair of sizes
    /// equal or one of them 1 (a missing axis counts as 1); the result takes the larger of each pair.
    /// </summary>
    public static Shape Broadcast(Shape a, Shape b, string operation)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var result = new int[rank];
        for (int i = 1; i <= rank; i++)
        {
            int x = i <= a.Rank ? a[a.Rank - i] : 1, y = i <= b.Rank ? b[b.Rank - i] : 1;
            if (x != y && x != 1 && y != 1) throw new ArgumentException($"{operation}: the shapes {a} and {b} cannot be broadcast together (axis {rank - i}: {x} vs {y}).");
            result[rank - i] = x == 1 ? y : x;
        }
        return new Shape(result);
    }

    public bool Equals(Shape other) => Dimensions.SequenceEqual(other.Dimensions);
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dimensions) h.Add(d);
        return h.ToHashCode();
    }
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    public override string ToString() => Format(Dimensions);

    private static string Format(ReadOnlySpan<int> dimensions) => "[" + string.Join(", ", dimensions.ToArray()) + "]";
}
