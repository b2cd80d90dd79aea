using System.Globalization;

namespace Sinapse.Layers;

/// <summary>
/// Zero padding of a convolution: a number of positions on each side, or "same" (the output as
/// large as the input, PyTorch's padding='same': stride 1, any extra position on the bottom/right).
/// </summary>
public readonly record struct Padding(int Value, bool IsSame = false)
{
    public static Padding Same => new(0, true);
    public static Padding Valid => new(0);

    public static implicit operator Padding(int value) => new(value);

    /// <summary>Padding before and after the input along an axis, for a kernel of <paramref name="kernel"/> taps.</summary>
    public (int Begin, int End) Resolve(int kernel, int dilation, int stride, string layer)
    {
        if (!IsSame)
        {
            if (Value < 0) throw new ArgumentException($"{layer}: padding must be 0 or more, got {Value}.");
            return (Value, Value);
        }
        if (stride != 1) throw new ArgumentException($"{layer}: padding 'same' needs stride 1 (as in PyTorch), got stride {stride}.");
        int total = dilation * (kernel - 1);
        return (total / 2, total - total / 2);
    }

    public override string ToString() => IsSame ? "same" : Value.ToString(CultureInfo.InvariantCulture);
}
