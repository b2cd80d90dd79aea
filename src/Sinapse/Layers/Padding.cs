using System.Globalization;

namespace Sinapse.Layers;

/// <summary>
/// Zero padding of a convolution: a number of positions on each side, or "same" (the output as
/// large as the input, PyTorch's padding='same': stride 1, any extra position on the bottom/right),
/// or TensorFlow's "SAME" (any stride: the output is ⌈input/stride⌉, the extra position again at
/// the bottom/right, so a stride-2 3×3 convolution on an even input pads 0 before and 1 after —
/// what weights trained in TensorFlow/TFLite expect; ONNX calls it SAME_UPPER). A number pads
/// both spatial axes alike; an (h, w) pair, as PyTorch's tuple, pads the height by h and the
/// width by w (<see cref="Layers.ConvTranspose2d"/> takes one; Conv1d and Conv2d one number).
/// </summary>
public readonly record struct Padding(int Value, bool IsSame = false, bool IsTensorFlowSame = false)
{
    public static Padding Same => new(0, true);
    public static Padding Valid => new(0);
    public static Padding TensorFlowSame => new(0, true, true);

    /// <summary>The height's padding: <see cref="Value"/>.</summary>
    public int Height => Value;

    /// <summary>The width's padding: <see cref="Value"/> unless made from an (h, w) pair.</summary>
    public int Width { get; init; } = Value;

    public static implicit operator Padding((int Height, int Width) value) => new(value.Height) { Width = value.Width };

    /// <summary>
    /// Padding before and after an axis of <paramref name="size"/> positions. Only TensorFlow's
    /// "SAME" depends on the size: total = max((⌈size/stride⌉ − 1)·stride + dilation·(kernel − 1) + 1 − size, 0),
    /// the larger half after.
    /// </summary>
    public (int Begin, int End) Resolve(int size, int kernel, int dilation, int stride, string layer)
    {
        if (!IsTensorFlowSame) return Resolve(kernel, dilation, stride, layer);
        int outputs = (size + stride - 1) / stride;
        int total = Math.Max((outputs - 1) * stride + dilation * (kernel - 1) + 1 - size, 0);
        return (total / 2, total - total / 2);
    }

    public static implicit operator Padding(int value) => new(value);

    /// <summary>Padding before and after the input along an axis, for a kernel of <paramref name="kernel"/> taps.</summary>
    public (int Begin, int End) Resolve(int kernel, int dilation, int stride, string layer)
    {
        if (!IsSame)
        {
            if (Width != Value) throw new ArgumentException($"{layer}: padding {this} differs between the axes; this layer pads every axis alike, give one number.");
            if (Value < 0) throw new ArgumentException($"{layer}: padding must be 0 or more, got {Value}.");
            return (Value, Value);
        }
        // TensorFlow's "SAME" at stride 1 is PyTorch's; with a stride it depends on the input size (see the overload taking it).
        if (stride != 1 && !IsTensorFlowSame) throw new ArgumentException($"{layer}: padding 'same' needs stride 1 (as in PyTorch), got stride {stride}; TensorFlow's SAME (Padding.TensorFlowSame) allows a stride.");
        int total = dilation * (kernel - 1);
        return (total / 2, total - total / 2);
    }

    public override string ToString() => IsTensorFlowSame ? "tf_same" : IsSame ? "same"
        : Width != Value ? string.Create(CultureInfo.InvariantCulture, $"{Value}x{Width}") : Value.ToString(CultureInfo.InvariantCulture);
}
