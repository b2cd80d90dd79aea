using Sinapse.Kernels;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Kernels;

public class HalfPrecisionTests
{
    private static uint[] FixtureInputs() => Fixture.Load("precision.json").GetProperty("float32").EnumerateArray().Select(v => v.GetUInt32()).ToArray();

    private static ushort[] FixtureOutputs(string format) => Fixture.Load("precision.json").GetProperty(format).EnumerateArray().Select(v => (ushort)v.GetUInt32()).ToArray();

    /// <summary>
    /// Converts every suffix of the inputs starting within the first 40 values, so each value is
    /// converted in a Vector512 lane, a Vector256 lane and the scalar tail at some offset.
    /// </summary>
    private static void AtEveryOffset(float[] values, Action<ReadOnlySpan<float>, Span<ushort>> convert, Action<int, ushort> check)
    {
        for (int offset = 0; offset < 40; offset++)
        {
            var result = new ushort[values.Length - offset];
            convert(values.AsSpan(offset), result);
            for (int i = 0; i < result.Length; i++) check(offset + i, result[i]);
        }
    }

    private static bool IsBFloat16NaN(ushort bits) => (bits & 0x7FFF) > 0x7F80;

    [Fact]
    public void BFloat16RoundsAsPyTorch()
    {
        var inputs = FixtureInputs();
        var expected = FixtureOutputs("bfloat16");
        var values = inputs.Select(BitConverter.UInt32BitsToSingle).ToArray();
        AtEveryOffset(values, HalfPrecision.ToBFloat16, (i, bits) =>
        {
            // PyTorch's own NaN differs between its scalar (0x7FC0) and vectorised (0xFFFF) paths: only NaN-ness is defined.
            if (float.IsNaN(values[i])) Assert.Equal(0x7FC0, bits);
            else Assert.True(expected[i] == bits, $"{values[i]:R} (0x{inputs[i]:X8}): expected 0x{expected[i]:X4}, got 0x{bits:X4}.");
        });
    }

    [Fact]
    public void Float16RoundsAsPyTorchAndHalf()
    {
        var inputs = FixtureInputs();
        var expected = FixtureOutputs("float16");
        var values = inputs.Select(BitConverter.UInt32BitsToSingle).ToArray();
        AtEveryOffset(values, HalfPrecision.ToFloat16, (i, bits) =>
        {
            ushort reference = BitConverter.HalfToUInt16Bits((Half)values[i]);
            if (float.IsNaN(values[i])) Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(bits)), $"0x{inputs[i]:X8} must stay NaN, got 0x{bits:X4}.");
            else
            {
                Assert.True(expected[i] == bits, $"{values[i]:R} (0x{inputs[i]:X8}): PyTorch gives 0x{expected[i]:X4}, got 0x{bits:X4}.");
                Assert.Equal(reference, bits);
            }
        });
    }

    [Fact]
    public void EdgeCasesSaturateFlushAndKeepSigns()
    {
        float[] values = [65504f, 65519.99f, 65520f, -1e6f, 5.9604645e-8f, 2.9802322e-8f, 2.9802326e-8f, -1e-30f, -0f, float.PositiveInfinity, 1.00390625f, 1.01171875f];
        var half = new ushort[values.Length];
        var brain = new ushort[values.Length];
        HalfPrecision.ToFloat16(values, half);
        HalfPrecision.ToBFloat16(values, brain);
        // float16: largest finite, rounds down to it, first to overflow, -overflow, smallest subnormal, its tie to even (0), just above the tie, -underflow to -0, -0, +Inf.
        Assert.Equal(new ushort[] { 0x7BFF, 0x7BFF, 0x7C00, 0xFC00, 0x0001, 0x0000, 0x0001, 0x8000, 0x8000, 0x7C00 }, half[..10]);
        // bfloat16: ties 1 + 2^-8 (down to the even 1) and 1 + 3·2^-8 (up to the even 1 + 2^-6).
        Assert.Equal(new ushort[] { 0x3F80, 0x3F82 }, brain[10..]);
        Assert.Equal(0x8000, brain[8]);
    }

    /// <summary>The nearest bfloat16 found by comparing distances in double: a reference independent of the bit trick.</summary>
    private static ushort NearestBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        ushort below = (ushort)(bits >> 16), above = (ushort)(below + 1);
        double low = BitConverter.UInt32BitsToSingle((uint)below << 16), high = BitConverter.UInt32BitsToSingle((uint)above << 16);
        double distanceLow = Math.Abs(value - low), distanceHigh = Math.Abs(high - value);
        if (distanceLow != distanceHigh) return distanceLow < distanceHigh ? below : above;
        return (below & 1) == 0 ? below : above;
    }

    [Fact]
    public void BothFormatsRoundToNearestEvenOverAMillionPatterns()
    {
        // Every 4099th float32 bit pattern: all exponents, signs and mantissa endings.
        var values = new List<float>();
        for (long bits = 0; bits <= uint.MaxValue; bits += 4099)
        {
            float value = BitConverter.UInt32BitsToSingle((uint)bits);
            if (float.IsFinite(value) && float.IsFinite(BitConverter.UInt32BitsToSingle(((uint)bits & 0xFFFF0000) + 0x10000))) values.Add(value);
        }
        var array = values.ToArray();
        var brain = new ushort[array.Length];
        var half = new ushort[array.Length];
        HalfPrecision.ToBFloat16(array, brain);
        HalfPrecision.ToFloat16(array, half);
        for (int i = 0; i < array.Length; i++)
        {
            ushort expected = NearestBFloat16(array[i]);
            if (expected != brain[i]) Assert.Fail($"bfloat16 of {array[i]:R}: expected 0x{expected:X4}, got 0x{brain[i]:X4}.");
            ushort reference = BitConverter.HalfToUInt16Bits((Half)array[i]);
            if (reference != half[i]) Assert.Fail($"float16 of {array[i]:R}: expected 0x{reference:X4}, got 0x{half[i]:X4}.");
        }
    }

    [Fact]
    public void EverySixteenBitPatternWidensExactlyAndRoundTrips()
    {
        var patterns = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();
        var widened = new float[patterns.Length];
        var back = new ushort[patterns.Length];

        HalfPrecision.FromBFloat16(patterns, widened);
        HalfPrecision.ToBFloat16(widened, back);
        for (int i = 0; i < patterns.Length; i++)
        {
            Assert.Equal((uint)i << 16, BitConverter.SingleToUInt32Bits(widened[i]));
            if (IsBFloat16NaN(patterns[i])) Assert.Equal(0x7FC0, back[i]);
            else Assert.Equal(patterns[i], back[i]);
        }

        HalfPrecision.FromFloat16(patterns, widened);
        HalfPrecision.ToFloat16(widened, back);
        for (int i = 0; i < patterns.Length; i++)
        {
            var half = BitConverter.UInt16BitsToHalf(patterns[i]);
            if (Half.IsNaN(half)) { Assert.True(float.IsNaN(widened[i])); continue; }
            Assert.Equal((float)half, widened[i]);
            Assert.Equal(patterns[i], back[i]);
        }
    }

    [Fact]
    public void RoundingToBFloat16InOnePassEqualsNarrowingThenWidening()
    {
        var values = FixtureInputs().Select(BitConverter.UInt32BitsToSingle).ToArray();
        var bits = new ushort[values.Length];
        var expected = new float[values.Length];
        HalfPrecision.ToBFloat16(values, bits);
        HalfPrecision.FromBFloat16(bits, expected);
        for (int offset = 0; offset < 40; offset++)
        {
            var rounded = values[offset..];
            HalfPrecision.RoundToBFloat16(rounded, rounded);   // in place
            Assert.Equal(expected[offset..].Select(BitConverter.SingleToUInt32Bits), rounded.Select(BitConverter.SingleToUInt32Bits));
        }
    }

    [Fact]
    public void MismatchedLengthsAreRejected()
    {
        var error = Assert.Throws<ArgumentException>(() => HalfPrecision.ToBFloat16(new float[3], new ushort[2]));
        Assert.Contains("destination of 3, got 2", error.Message);
        Assert.Throws<ArgumentException>(() => HalfPrecision.FromFloat16(new ushort[3], new float[4]));
    }
}
