using Sinapse.Kernels;

namespace Sinapse.Tensors;

/// <summary>The number format the compute-heavy ops (linear, convolution) run in.</summary>
public enum Precision
{
    Float32,

    /// <summary>bfloat16: float32's 8-bit exponent with 8 bits of mantissa; no loss scaling needed.</summary>
    BFloat16,

    /// <summary>IEEE binary16: 5-bit exponent, 11 bits of mantissa; small gradients underflow without loss scaling.</summary>
    Float16,
}

/// <summary>
/// Automatic mixed precision, as torch.autocast: inside <c>using (MixedPrecision.Autocast(Precision.BFloat16)) { ... }</c>
/// <see cref="Ops.F.Linear"/> and the convolutions (transposed ones too) round their input, weight and bias to the
/// 16-bit format, multiply them with float32 accumulation, round their output to the format
/// and keep their input and weight for backward as 16-bit copies (half the bytes of float32);
/// the gradients they pass back are rounded to the format as well, as PyTorch's are. Everything
/// else — parameters (the master weights), the optimizer, the other ops — stays float32.
/// The scope is per thread, like <see cref="Autograd.GradMode"/>.
/// </summary>
public static class MixedPrecision
{
    [ThreadStatic] private static Precision current;

    /// <summary>The format autocast ops use on this thread now (Float32 outside any scope).</summary>
    public static Precision Current => current;

    public static Restore Autocast(Precision precision)
    {
        if (!Enum.IsDefined(precision)) throw new ArgumentOutOfRangeException(nameof(precision), precision, "Expected Float32, BFloat16 or Float16.");
        var previous = current;
        current = precision;
        return new Restore(previous);
    }

    public readonly struct Restore(Precision previous) : IDisposable
    {
        public void Dispose() => current = previous;
    }

    /// <summary>The command-line spelling: fp32, bf16 or fp16.</summary>
    public static Precision Parse(string name, string option = "--precision") => name.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" => Precision.Float32,
        "bf16" or "bfloat16" => Precision.BFloat16,
        "fp16" or "float16" => Precision.Float16,
        _ => throw new ArgumentException($"Unknown {option} '{name}'. Expected fp32, bf16 or fp16."),
    };

    public static string ShortName(Precision precision) => precision switch
    {
        Precision.BFloat16 => "bf16",
        Precision.Float16 => "fp16",
        _ => "fp32",
    };

    /// <summary>Rounds float32 values to the 16-bit <paramref name="precision"/>'s bit patterns.</summary>
    public static void Narrow(Precision precision, ReadOnlySpan<float> source, Span<ushort> destination)
    {
        if (precision == Precision.BFloat16) HalfPrecision.ToBFloat16(source, destination);
        else if (precision == Precision.Float16) HalfPrecision.ToFloat16(source, destination);
        else throw new ArgumentException($"Narrow converts to BFloat16 or Float16, not {precision}.");
    }

    /// <summary>Widens 16-bit <paramref name="precision"/> bit patterns to float32 (exactly).</summary>
    public static void Widen(Precision precision, ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (precision == Precision.BFloat16) HalfPrecision.FromBFloat16(source, destination);
        else if (precision == Precision.Float16) HalfPrecision.FromFloat16(source, destination);
        else throw new ArgumentException($"Widen converts from BFloat16 or Float16, not {precision}.");
    }

    /// <summary>Rounds float32 values in place to the nearest value the 16-bit <paramref name="precision"/> holds.</summary>
    public static void Round(Precision precision, Span<float> values) => Round(precision, values, values);

    /// <summary>
    /// The values of <paramref name="source"/> rounded to the 16-bit <paramref name="precision"/>,
    /// as float32, into <paramref name="destination"/> (which may be the source).
    /// </summary>
    public static void Round(Precision precision, ReadOnlySpan<float> source, Span<float> destination)
    {
        if (precision == Precision.BFloat16)
        {
            HalfPrecision.RoundToBFloat16(source, destination);
            return;
        }
        if (source.Length != destination.Length) throw new ArgumentException($"Rounding {source.Length} values needs a destination of {source.Length}, got {destination.Length}.");
        if (precision == Precision.Float32)
        {
            source.CopyTo(destination);   // float32 values are their own rounding
            return;
        }
        Span<ushort> chunk = stackalloc ushort[1024];
        for (int start = 0; start < source.Length; start += chunk.Length)
        {
            int length = Math.Min(chunk.Length, source.Length - start);
            var bits = chunk[..length];
            Narrow(precision, source.Slice(start, length), bits);
            Widen(precision, bits, destination.Slice(start, length));
        }
    }
}

/// <summary>A tensor's values held as 16-bit bit patterns: what an autocast op keeps for its backward pass.</summary>
internal sealed class Tensor16
{
    private readonly ushort[] bits;

    /// <summary>Rounds <paramref name="source"/> to <paramref name="precision"/>; the storage comes from the current <see cref="TensorScope"/>'s pool.</summary>
    public Tensor16(Tensor source, Precision precision)
    {
        Shape = source.Shape;
        Precision = precision;
        bits = TensorScope.Rent16(source.Length);
        MixedPrecision.Narrow(precision, source.Span, bits);
    }

    public Shape Shape { get; }
    public Precision Precision { get; }

    /// <summary>The bytes of storage this copy keeps.</summary>
    public long Bytes => (long)bits.Length * sizeof(ushort);

    /// <summary>The values as a float32 tensor of the current scope, for the float32 kernels.</summary>
    public Tensor Widen()
    {
        var values = Tensor.Empty(Shape);
        MixedPrecision.Widen(Precision, bits, values.Span);
        return values;
    }
}
