using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Sinapse.Tensors;

/// <summary>
/// PyTorch's factory functions (torch.zeros, torch.arange, torch.rand, torch.tensor...), as static
/// methods of <see cref="Tensor"/>. Every tensor they make is a leaf that does not require a
/// gradient; random ones draw from an <see cref="Rng"/>, <see cref="Rng.Global"/> when none is given.
/// </summary>
public sealed partial class Tensor
{
    // ---- filled ----

    /// <summary>An uninitialised tensor: from the pool inside a <see cref="TensorScope"/>, else a new array.</summary>
    public static Tensor Empty(Shape shape)
    {
        var scope = TensorScope.Current;
        if (scope == null) return new Tensor(shape, GC.AllocateUninitializedArray<float>(shape.Size));
        var tensor = new Tensor(shape, TensorPool.Rent(shape.Size));
        scope.Adopt(tensor);
        return tensor;
    }

    public static Tensor Empty(params int[] shape) => Empty(new Shape(shape));

    /// <summary>An uninitialised tensor of the shape of <paramref name="like"/>.</summary>
    public static Tensor EmptyLike(Tensor like) => Empty(like.Shape);

    public static Tensor Zeros(params int[] shape) => Zeros(new Shape(shape));

    public static Tensor Zeros(Shape shape) => Full(shape, 0f);

    public static Tensor ZerosLike(Tensor like) => Full(like.Shape, 0f);

    public static Tensor Ones(params int[] shape) => Full(new Shape(shape), 1f);

    public static Tensor Ones(Shape shape) => Full(shape, 1f);

    public static Tensor OnesLike(Tensor like) => Full(like.Shape, 1f);

    public static Tensor Full(Shape shape, float value)
    {
        var t = Empty(shape);
        t.Span.Fill(value);
        return t;
    }

    public static Tensor Full(int[] shape, float value) => Full(new Shape(shape), value);

    public static Tensor FullLike(Tensor like, float value) => Full(like.Shape, value);

    public static Tensor Scalar(float value) => new(new Shape(), [value]);

    /// <summary>An <paramref name="n"/>×<paramref name="m"/> matrix (square when m is not given) with ones on the diagonal, zeros elsewhere.</summary>
    public static Tensor Eye(int n, int? m = null)
    {
        int columns = m ?? n;
        if (n < 0 || columns < 0) throw new ArgumentException($"Eye needs non-negative sizes, got n = {n}, m = {columns}.");
        var t = Zeros(n, columns);
        var values = t.Span;
        for (int i = 0; i < Math.Min(n, columns); i++) values[i * columns + i] = 1f;
        return t;
    }

    // ---- ranges ----

    /// <summary>0, 1, 2, ... up to but excluding <paramref name="end"/>.</summary>
    public static Tensor Arange(double end) => Arange(0, end);

    /// <summary>
    /// start, start + step, ... up to but excluding <paramref name="end"/>: ⌈(end − start)/step⌉
    /// values with torch.arange's float32 values to the bit: the bounds and the step are float64,
    /// as Python numbers are, and each value is computed in float64 and rounded to float32.
    /// </summary>
    public static Tensor Arange(double start, double end, double step = 1)
    {
        if (step == 0 || double.IsNaN(step)) throw new ArgumentException($"Arange needs a nonzero step, got {step}.");
        if (!double.IsFinite(start) || !double.IsFinite(end)) throw new ArgumentException($"Arange needs a finite range, got {start} to {end}.");
        if (step > 0 ? end < start : end > start)
            throw new ArgumentException($"Arange cannot reach {end} from {start} with step {step}: the step must point from start towards end.");
        double length = Math.Ceiling((end - start) / step);
        if (!(length <= Array.MaxLength)) throw new ArgumentException($"Arange from {start} to {end} with step {step} would have {length} values, more than a .NET array holds.");
        var t = Empty((int)length);
        // torch's compiled kernel rounds start + step·i once: a fused multiply-add.
        FillAsTorchRangeKernel(t.Span,
            i => (float)Math.FusedMultiplyAdd(step, i, start),
            (first, lane) => (float)Math.FusedMultiplyAdd(lane, step, first));
        return t;
    }

    /// <summary>
    /// <paramref name="steps"/> evenly spaced values from <paramref name="start"/> to
    /// <paramref name="end"/>, both included, with torch.linspace's float32 values to the bit: the
    /// step is (end − start)/(steps − 1) in float32; the first half of the values counts up from
    /// start and the second half down from end, so both ends come out exact.
    /// </summary>
    public static Tensor Linspace(double start, double end, int steps)
    {
        if (steps < 0) throw new ArgumentException($"Linspace needs a non-negative number of steps, got {steps}.");
        var t = Empty(steps);
        float from = (float)start, to = (float)end;
        if (steps == 1) t.Span[0] = from;
        if (steps <= 1) return t;
        float step = (to - from) / (steps - 1);
        int halfway = steps / 2;
        // torch's compiled kernel rounds start + step·i once: a fused multiply-add.
        FillAsTorchRangeKernel(t.Span,
            i => i < halfway ? MathF.FusedMultiplyAdd(step, i, from) : MathF.FusedMultiplyAdd(-step, steps - 1 - i, to),
            (first, lane) => first + lane * step);
        return t;
    }

    /// <summary>
    /// Fills <paramref name="values"/> in the order and with the roundings of torch's CPU range
    /// kernels (AVX2), so that the float32 results agree to the bit: whole blocks of 16 values as
    /// two vectors of 8 lanes, each vector starting from <paramref name="first"/> at its first
    /// index and stepping by <paramref name="lane"/>(start, k) from there; the values after the
    /// last whole block are <paramref name="first"/> of their own index. (Beyond 32768 values torch
    /// splits the output between its threads and each restarts the blocks, so its own last bits
    /// then depend on its thread count; these are its one-thread values.)
    /// </summary>
    private static void FillAsTorchRangeKernel(Span<float> values, Func<int, float> first, Func<float, int, float> lane)
    {
        const int VectorLanes = 8, Block = 2 * VectorLanes;
        int blocked = values.Length / Block * Block;
        for (int i = 0; i < blocked; i += VectorLanes)
        {
            float start = first(i);
            for (int k = 0; k < VectorLanes; k++) values[i + k] = lane(start, k);
        }
        for (int i = blocked; i < values.Length; i++) values[i] = first(i);
    }

    // ---- random ----

    /// <summary>Uniform in [0, 1) from <see cref="Rng.Global"/> (never 1).</summary>
    public static Tensor Rand(params int[] shape) => Rand(new Shape(shape));

    /// <summary>Uniform in [0, 1) (never 1).</summary>
    public static Tensor Rand(Shape shape, Rng? rng = null) => Uniform(shape, 0f, 1f, rng);

    /// <summary>Standard normal values from <see cref="Rng.Global"/>.</summary>
    public static Tensor Randn(params int[] shape) => Randn(new Shape(shape));

    public static Tensor Randn(Shape shape, Rng? rng = null) => Normal(shape, 0f, 1f, rng);

    /// <summary>Integers drawn uniformly from [0, <paramref name="high"/>), held as floats.</summary>
    public static Tensor RandInt(int high, Shape shape, Rng? rng = null) => RandInt(0, high, shape, rng);

    /// <summary>
    /// Integers drawn uniformly from [<paramref name="low"/>, <paramref name="high"/>), held as
    /// floats; the range must lie within ±2^24, where float32 still holds every integer.
    /// </summary>
    public static Tensor RandInt(int low, int high, Shape shape, Rng? rng = null)
    {
        const int ExactLimit = 1 << 24;
        if (low >= high) throw new ArgumentException($"RandInt needs low < high, got low = {low}, high = {high}.");
        if (low < -ExactLimit || high - 1 > ExactLimit)
            throw new ArgumentException($"RandInt makes float32 integers, exact only within [-2^24, 2^24]; got the range [{low}, {high}).");
        var t = Empty(shape);
        var values = t.Span;
        var source = rng ?? Rng.Global;
        for (int i = 0; i < values.Length; i++) values[i] = low + source.NextInt(high - low);
        return t;
    }

    /// <summary>Uniform in [<paramref name="low"/>, <paramref name="high"/>), as torch's uniform_.</summary>
    public static Tensor Uniform(Shape shape, float low, float high, Rng? rng = null)
    {
        var t = Empty(shape);
        (rng ?? Rng.Global).FillUniform(t.Span, low, high);
        return t;
    }

    public static Tensor Normal(Shape shape, float mean, float standardDeviation, Rng? rng = null)
    {
        var t = Empty(shape);
        (rng ?? Rng.Global).FillNormal(t.Span, mean, standardDeviation);
        return t;
    }

    // ---- from .NET arrays ----

    /// <summary>A tensor over a copy of <paramref name="values"/>, shaped as given (a vector when no shape is given).</summary>
    public static Tensor FromArray(float[] values, params int[] shape)
    {
        var s = shape.Length == 0 ? new Shape(values.Length) : new Shape(shape);
        if (s.Size != values.Length) throw new ArgumentException($"{values.Length} values cannot fill shape {s} ({s.Size} elements).");
        return new Tensor(s, (float[])values.Clone());
    }

    /// <summary>
    /// A tensor with the shape and a float32 copy of the values of a rectangular .NET array of any
    /// rank (float[,,], double[,], int[], ...), as torch.tensor makes one from nested lists.
    /// Elements of another number type are rounded to the nearest float32.
    /// </summary>
    public static Tensor FromArray(Array values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var dimensions = new int[values.Rank];
        for (int axis = 0; axis < dimensions.Length; axis++) dimensions[axis] = values.GetLength(axis);
        var tensor = new Tensor(new Shape(dimensions), new float[values.Length]);
        var target = tensor.buffer.AsSpan();
        var type = values.GetType().GetElementType()!;
        if (type == typeof(float)) Elements<float>(values).CopyTo(target);
        else if (type == typeof(double)) ConvertElements<double>(values, target);
        else if (type == typeof(Half)) ConvertElements<Half>(values, target);
        else if (type == typeof(int)) ConvertElements<int>(values, target);
        else if (type == typeof(long)) ConvertElements<long>(values, target);
        else if (type == typeof(short)) ConvertElements<short>(values, target);
        else if (type == typeof(byte)) ConvertElements<byte>(values, target);
        else if (type == typeof(sbyte)) ConvertElements<sbyte>(values, target);
        else throw new ArgumentException(
            $"FromArray takes a rectangular array of float, double, Half, int, long, short, byte or sbyte; got {values.GetType().Name}" +
            (type.IsArray ? " (a jagged array: copy it into a rectangular one, float[,] rather than float[][])." : "."));
        return tensor;
    }

    private static void ConvertElements<T>(Array values, Span<float> target) where T : unmanaged, INumberBase<T> =>
        TensorPrimitives.ConvertTruncating<T, float>(Elements<T>(values), target);

    /// <summary>The elements of an array of any rank, in row-major order (how .NET lays them out).</summary>
    private static Span<T> Elements<T>(Array values) where T : unmanaged =>
        MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference(values)), values.Length);
}
