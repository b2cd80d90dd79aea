using System.Numerics;

namespace Sinapse.Tensors;

/// <summary>
/// The only source of randomness in Sinapse: xoshiro256** (Blackman and Vigna), seeded through
/// SplitMix64. Its whole state is four 64-bit words, so a checkpoint can save and restore it and
/// a resumed run draws exactly the numbers the uninterrupted run would have drawn.
/// </summary>
public sealed class Rng : IStateful<RngState>
{
    private ulong s0, s1, s2, s3;

    public Rng(ulong seed) => Reseed(seed);

    /// <summary>The process-wide generator that layers and loaders use when given none (like torch.manual_seed).</summary>
    public static Rng Global { get; } = new(42);

    public void Reseed(ulong seed)
    {
        s0 = SplitMix(ref seed);
        s1 = SplitMix(ref seed);
        s2 = SplitMix(ref seed);
        s3 = SplitMix(ref seed);
    }

    public RngState StateDict() => new(s0, s1, s2, s3);

    public void LoadStateDict(RngState state)
    {
        if ((state.S0 | state.S1 | state.S2 | state.S3) == 0) throw new ArgumentException("An Rng state of all zeros is invalid for xoshiro256**.");
        (s0, s1, s2, s3) = (state.S0, state.S1, state.S2, state.S3);
    }

    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = BitOperations.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 24 random bits, the resolution of a float.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, maxExclusive), without modulo bias (Lemire's method).</summary>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0) throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "must be positive");
        ulong range = (ulong)maxExclusive;
        UInt128 product = (UInt128)NextUInt64() * range;
        if ((ulong)product < range)
        {
            ulong threshold = (0 - range) % range;
            while ((ulong)product < threshold) product = (UInt128)NextUInt64() * range;
        }
        return (int)(product >> 64);
    }

    /// <summary>Standard normal by Box–Muller; both values are drawn fresh so the state stays four words.</summary>
    public float NextNormal()
    {
        double u1 = 1.0 - NextDouble(); // (0, 1]: the log is finite
        double u2 = NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
    }

    public void FillUniform(Span<float> destination, float low, float high)
    {
        if (!(low <= high)) throw new ArgumentException($"Uniform range needs low <= high, got [{low}, {high}).");
        float width = high - low;
        // An infinite width would turn the draw u = 0 into ∞·0 = NaN and every other draw into ∞.
        if (!float.IsFinite(width)) throw new ArgumentException($"Uniform range [{low}, {high}) needs a width high - low that is a finite float, got {width}.");
        // low + width·u can round up to high (e.g. on [1, 2)); the range is half-open, as PyTorch's uniform_.
        float below = low < high ? MathF.BitDecrement(high) : low;
        for (int i = 0; i < destination.Length; i++) destination[i] = MathF.Min(low + width * NextFloat(), below);
    }

    public void FillNormal(Span<float> destination, float mean, float standardDeviation)
    {
        if (!(standardDeviation >= 0)) throw new ArgumentException($"A normal distribution needs a standard deviation >= 0, got {standardDeviation}.");
        for (int i = 0; i < destination.Length; i++) destination[i] = mean + standardDeviation * NextNormal();
    }

    /// <summary>Fisher–Yates shuffle.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

/// <summary>The four words of an <see cref="Rng"/>'s xoshiro256** state.</summary>
public readonly record struct RngState(ulong S0, ulong S1, ulong S2, ulong S3)
{
    /// <summary>The words as 16-digit hexadecimal strings, as a checkpoint stores them.</summary>
    public string[] ToHex() => [.. new[] { S0, S1, S2, S3 }.Select(w => w.ToString("x16", System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>Parses <see cref="ToHex"/>'s four words.</summary>
    public static RngState FromHex(IReadOnlyList<string> words)
    {
        if (words.Count != 4) throw new ArgumentException($"An Rng state has 4 words, got {words.Count}.");
        var values = words.Select(w => ulong.TryParse(w, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var v) && w.Length <= 16
            ? v : throw new ArgumentException($"An Rng state word is up to 16 hexadecimal digits, got '{w}'.")).ToArray();
        return new RngState(values[0], values[1], values[2], values[3]);
    }
}
