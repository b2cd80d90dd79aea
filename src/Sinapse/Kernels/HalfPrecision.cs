using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Sinapse.Kernels;

/// <summary>
/// float32 ↔ 16-bit conversions for mixed precision, on bit patterns held as ushort.
/// bfloat16 is float32's top half: rounding to nearest even is an integer add before the
/// shift, done here with Vector512 → Vector256 → scalar at run time, and every NaN becomes
/// PyTorch's canonical quiet NaN 0x7FC0 (so a NaN payload cannot round into an infinity).
/// float16 (IEEE binary16: overflow to ±Inf, gradual underflow through subnormals) goes through
/// <see cref="TensorPrimitives.ConvertToHalf"/>, which is vectorised and rounds as <c>(Half)x</c>.
/// </summary>
public static class HalfPrecision
{
    private const uint CanonicalNaN = 0x7FC0;

    /// <summary>Rounds each float to bfloat16 (nearest, ties to even).</summary>
    public static void ToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        CheckLengths(source.Length, destination.Length);
        var bits = MemoryMarshal.Cast<float, uint>(source);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 2 * Vector512<uint>.Count <= bits.Length; i += 2 * Vector512<uint>.Count)
            {
                var low = RoundBFloat16(Vector512.Create(bits.Slice(i, Vector512<uint>.Count)));
                var high = RoundBFloat16(Vector512.Create(bits.Slice(i + Vector512<uint>.Count, Vector512<uint>.Count)));
                Vector512.Narrow(low, high).CopyTo(destination.Slice(i));
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + 2 * Vector256<uint>.Count <= bits.Length; i += 2 * Vector256<uint>.Count)
            {
                var low = RoundBFloat16(Vector256.Create(bits.Slice(i, Vector256<uint>.Count)));
                var high = RoundBFloat16(Vector256.Create(bits.Slice(i + Vector256<uint>.Count, Vector256<uint>.Count)));
                Vector256.Narrow(low, high).CopyTo(destination.Slice(i));
            }
        for (; i < bits.Length; i++) destination[i] = ToBFloat16(bits[i]);
    }

    /// <summary>
    /// Rounds each float to the nearest bfloat16 and stores it widened back to float32: in one pass,
    /// what <see cref="ToBFloat16(ReadOnlySpan{float}, Span{ushort})"/> then <see cref="FromBFloat16"/>
    /// give. <paramref name="destination"/> may be <paramref name="source"/>.
    /// </summary>
    public static void RoundToBFloat16(ReadOnlySpan<float> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        var from = MemoryMarshal.Cast<float, uint>(source);
        var to = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + Vector512<uint>.Count <= from.Length; i += Vector512<uint>.Count)
                (RoundBFloat16(Vector512.Create(from.Slice(i, Vector512<uint>.Count))) << 16).CopyTo(to.Slice(i));
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<uint>.Count <= from.Length; i += Vector256<uint>.Count)
                (RoundBFloat16(Vector256.Create(from.Slice(i, Vector256<uint>.Count))) << 16).CopyTo(to.Slice(i));
        for (; i < from.Length; i++) to[i] = (uint)ToBFloat16(from[i]) << 16;
    }

    /// <summary>Widens bfloat16 to float32 (exact: a 16-bit shift).</summary>
    public static void FromBFloat16(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        var bits = MemoryMarshal.Cast<float, uint>(destination);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + Vector512<ushort>.Count <= source.Length; i += Vector512<ushort>.Count)
            {
                var (low, high) = Vector512.Widen(Vector512.Create(source.Slice(i, Vector512<ushort>.Count)));
                (low << 16).CopyTo(bits.Slice(i));
                (high << 16).CopyTo(bits.Slice(i + Vector512<uint>.Count));
            }
        if (Vector256.IsHardwareAccelerated)
            for (; i + Vector256<ushort>.Count <= source.Length; i += Vector256<ushort>.Count)
            {
                var (low, high) = Vector256.Widen(Vector256.Create(source.Slice(i, Vector256<ushort>.Count)));
                (low << 16).CopyTo(bits.Slice(i));
                (high << 16).CopyTo(bits.Slice(i + Vector256<uint>.Count));
            }
        for (; i < source.Length; i++) bits[i] = (uint)source[i] << 16;
    }

    /// <summary>Rounds each float to IEEE float16 (nearest, ties to even; ±Inf beyond 65504; subnormals below 2^-14).</summary>
    public static void ToFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        CheckLengths(source.Length, destination.Length);
        TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<ushort, Half>(destination));
    }

    /// <summary>Widens float16 to float32 (exact).</summary>
    public static void FromFloat16(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        CheckLengths(source.Length, destination.Length);
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(source), destination);
    }

    /// <summary>The bfloat16 nearest to the float with bits <paramref name="bits"/>, as PyTorch's c10::BFloat16 rounds.</summary>
    public static ushort ToBFloat16(uint bits)
    {
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) return (ushort)CanonicalNaN;
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    // Adding 0x7FFF plus the lowest kept bit rounds to nearest with ties to even; a carry out of
    // the mantissa correctly bumps the exponent (and the largest finite values up to infinity).
    private static Vector512<uint> RoundBFloat16(Vector512<uint> bits)
    {
        var rounded = (bits + Vector512.Create(0x7FFFu) + ((bits >> 16) & Vector512<uint>.One)) >> 16;
        var nan = Vector512.GreaterThan(bits & Vector512.Create(0x7FFF_FFFFu), Vector512.Create(0x7F80_0000u));
        return Vector512.ConditionalSelect(nan, Vector512.Create(CanonicalNaN), rounded);
    }

    private static Vector256<uint> RoundBFloat16(Vector256<uint> bits)
    {
        var rounded = (bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One)) >> 16;
        var nan = Vector256.GreaterThan(bits & Vector256.Create(0x7FFF_FFFFu), Vector256.Create(0x7F80_0000u));
        return Vector256.ConditionalSelect(nan, Vector256.Create(CanonicalNaN), rounded);
    }

    private static void CheckLengths(int source, int destination)
    {
        if (source != destination) throw new ArgumentException($"Converting {source} values needs a destination of {source}, got {destination}.");
    }
}
