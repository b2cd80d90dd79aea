using System.Numerics.Tensors;

namespace Sinapse.Kernels;

/// <summary>
/// Σx² of a buffer, the square of an L2 norm (of a gradient, for clipping and monitoring):
/// a large buffer is cut into slices summed on the worker threads and added in a fixed order, so
/// the result does not depend on timing.
/// </summary>
public static class SumOfSquares
{
    /// <summary>Below this many values the sum runs on the calling thread.</summary>
    const int ParallelLength = 16_384;

    [ThreadStatic] static double[]? partials;

    /// <summary>
    /// Σx² over <paramref name="values"/>[<paramref name="offset"/>, +<paramref name="length"/>), in double.
    /// The vectorised float sum overflows near 1e19; a slice of finite values that large is summed in double.
    /// </summary>
    public static double Of(float[] values, int offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, values.Length - offset);
        int slices = length >= ParallelLength ? Math.Max(1, Math.Min(Workers.Available, 64)) : 1;
        if (slices == 1) return Slice(values.AsSpan(offset, length));
        var sums = partials is { Length: >= 64 } reused ? reused : partials = new double[64];
        Workers.For(slices, slice =>
        {
            int start = (int)((long)length * slice / slices), end = (int)((long)length * (slice + 1) / slices);
            sums[slice] = Slice(values.AsSpan(offset + start, end - start));
        });
        double sum = 0;
        for (int slice = 0; slice < slices; slice++) sum += sums[slice];
        return sum;
    }

    static double Slice(ReadOnlySpan<float> values)
    {
        float squares = TensorPrimitives.SumOfSquares(values);
        if (!float.IsPositiveInfinity(squares) || !TensorPrimitives.IsFiniteAll(values)) return squares;
        double exact = 0;
        foreach (var x in values) exact += (double)x * x;
        return exact;
    }
}
