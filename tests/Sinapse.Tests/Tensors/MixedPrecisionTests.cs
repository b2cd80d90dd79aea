using Sinapse.Tensors;

namespace Sinapse.Tests.Tensors;

public class MixedPrecisionTests
{
    [Fact]
    public void AutocastScopesNestAndRestore()
    {
        Assert.Equal(Precision.Float32, MixedPrecision.Current);
        using (MixedPrecision.Autocast(Precision.BFloat16))
        {
            using (MixedPrecision.Autocast(Precision.Float16)) Assert.Equal(Precision.Float16, MixedPrecision.Current);
            Assert.Equal(Precision.BFloat16, MixedPrecision.Current);
        }
        Assert.Equal(Precision.Float32, MixedPrecision.Current);
        Assert.Throws<ArgumentOutOfRangeException>(() => MixedPrecision.Autocast((Precision)7));
    }

    [Fact]
    public void TheScopeBelongsToItsThread()
    {
        using var autocast = MixedPrecision.Autocast(Precision.BFloat16);
        var other = Precision.BFloat16;
        var thread = new Thread(() => other = MixedPrecision.Current);
        thread.Start();
        thread.Join();
        Assert.Equal(Precision.Float32, other);
    }

    [Theory]
    [InlineData("fp32", Precision.Float32)]
    [InlineData("BF16", Precision.BFloat16)]
    [InlineData(" fp16 ", Precision.Float16)]
    [InlineData("float16", Precision.Float16)]
    public void ParsesTheCommandLineNames(string name, Precision expected) => Assert.Equal(expected, MixedPrecision.Parse(name));

    [Fact]
    public void AnUnknownNameListsTheValidOnes() =>
        Assert.Equal("Unknown --precision 'fp8'. Expected fp32, bf16 or fp16.", Assert.Throws<ArgumentException>(() => MixedPrecision.Parse("fp8")).Message);

    [Fact]
    public void RoundingGivesTheNearestSixteenBitValueAsFloat()
    {
        // 1 + 2^-9 lies between bfloat16's 1 and 1 + 2^-7 (rounds to 1), and is a float16 exactly.
        float[] values = [1f + 1f / 512, 3000.7f, 1e-9f, 70000f];
        var brain = new float[values.Length];
        var half = new float[values.Length];
        MixedPrecision.Round(Precision.BFloat16, values, brain);
        MixedPrecision.Round(Precision.Float16, values, half);
        Assert.Equal([1f, 3008f, (float)BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(1e-9f) + 0x7FFF >> 16 << 16), 70144f], brain);
        Assert.Equal([1f + 1f / 512, 3000f, 0f, float.PositiveInfinity], half);
        Assert.Throws<ArgumentException>(() => MixedPrecision.Round(Precision.Float16, values, new float[3]));
        Assert.Throws<ArgumentException>(() => MixedPrecision.Narrow(Precision.Float32, values, new ushort[4]));
        var same = new float[values.Length];
        MixedPrecision.Round(Precision.Float32, values, same);
        Assert.Equal(values, same);
    }
}
