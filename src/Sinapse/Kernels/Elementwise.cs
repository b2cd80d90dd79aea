using System.Numerics;
using System.Runtime.InteropServices;

namespace Sinapse.Kernels;

/// <summary>Elementwise kernels that System.Numerics.Tensors has no single function for.</summary>
public static class Elementwise
{
    /// <summary>
    /// result[i] = values[i]·(sign[i] > 0 ? positiveScale : otherScale): ReLU and Leaky ReLU
    /// forward (values = x) and backward (values = dy) in one vectorised select.
    /// </summary>
    public static void ScaleBySign(ReadOnlySpan<float> sign, ReadOnlySpan<float> values, float positiveScale, float otherScale, Span<float> result)
    {
        if (sign.Length != values.Length || result.Length < values.Length)
            throw new ArgumentException($"ScaleBySign: lengths differ ({sign.Length}, {values.Length}, {result.Length}).");
        int i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var s = MemoryMarshal.Cast<float, Vector<float>>(sign);
            var v = MemoryMarshal.Cast<float, Vector<float>>(values);
            var r = MemoryMarshal.Cast<float, Vector<float>>(result);
            var positive = new Vector<float>(positiveScale);
            var other = new Vector<float>(otherScale);
            // A zero scale selects zero rather than multiplying: as PyTorch's ReLU, an infinite value there gives 0, not NaN.
            bool zero = otherScale == 0f;
            for (int k = 0; k < v.Length; k++)
                r[k] = Vector.ConditionalSelect(Vector.GreaterThan(s[k], Vector<float>.Zero), v[k] * positive, zero ? Vector<float>.Zero : v[k] * other);
            i = v.Length * Vector<float>.Count;
        }
        for (; i < values.Length; i++) result[i] = sign[i] > 0 ? values[i] * positiveScale : otherScale == 0f ? 0f : values[i] * otherScale;
    }

    /// <summary>y = x·clamp(x + 3, 0, 6)/6, MobileNetV3's hard swish, in one vectorised pass.</summary>
    public static void HardSwish(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckLengths("HardSwish", x.Length, x.Length, y.Length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var xs = MemoryMarshal.Cast<float, Vector<float>>(x);
            var ys = MemoryMarshal.Cast<float, Vector<float>>(y);
            var three = new Vector<float>(3f);
            var six = new Vector<float>(6f);
            // The same operations in the same order as the scalar tail, so every element rounds alike.
            for (int k = 0; k < xs.Length; k++) ys[k] = xs[k] * Vector.Min(Vector.Max(xs[k] + three, Vector<float>.Zero), six) / six;
            i = xs.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++) y[i] = x[i] * Math.Clamp(x[i] + 3f, 0f, 6f) / 6f;
    }

    /// <summary>dx = dy·hardswish'(x): 0 below −3, x/3 + 1/2 from −3 up to and including 3, 1 above (PyTorch's choice at the kinks).</summary>
    public static void HardSwishBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths("HardSwishBackward", x.Length, dy.Length, dx.Length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var xs = MemoryMarshal.Cast<float, Vector<float>>(x);
            var ds = MemoryMarshal.Cast<float, Vector<float>>(dy);
            var rs = MemoryMarshal.Cast<float, Vector<float>>(dx);
            var three = new Vector<float>(3f);
            var minusThree = new Vector<float>(-3f);
            var half = new Vector<float>(0.5f);
            for (int k = 0; k < xs.Length; k++)
            {
                var middle = ds[k] * (xs[k] / three + half);
                var inside = Vector.ConditionalSelect(Vector.LessThanOrEqual(xs[k], three), middle, ds[k]);
                rs[k] = Vector.ConditionalSelect(Vector.LessThan(xs[k], minusThree), Vector<float>.Zero, inside);
            }
            i = xs.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++) dx[i] = x[i] < -3f ? 0f : x[i] <= 3f ? dy[i] * (x[i] / 3f + 0.5f) : dy[i];
    }

    /// <summary>y = clamp(x + 3, 0, 6)/6, the hard sigmoid (PyTorch's and MobileNetV3's).</summary>
    public static void HardSigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckLengths("HardSigmoid", x.Length, x.Length, y.Length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var xs = MemoryMarshal.Cast<float, Vector<float>>(x);
            var ys = MemoryMarshal.Cast<float, Vector<float>>(y);
            var three = new Vector<float>(3f);
            var six = new Vector<float>(6f);
            for (int k = 0; k < xs.Length; k++) ys[k] = Vector.Min(Vector.Max(xs[k] + three, Vector<float>.Zero), six) / six;
            i = xs.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++) y[i] = Math.Clamp(x[i] + 3f, 0f, 6f) / 6f;
    }

    /// <summary>dx = dy/6 where −3 &lt; x &lt; 3, else 0.</summary>
    public static void HardSigmoidBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths("HardSigmoidBackward", x.Length, dy.Length, dx.Length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var xs = MemoryMarshal.Cast<float, Vector<float>>(x);
            var ds = MemoryMarshal.Cast<float, Vector<float>>(dy);
            var rs = MemoryMarshal.Cast<float, Vector<float>>(dx);
            var three = new Vector<float>(3f);
            var minusThree = new Vector<float>(-3f);
            var six = new Vector<float>(6f);
            for (int k = 0; k < xs.Length; k++)
            {
                var inside = Vector.BitwiseAnd(Vector.GreaterThan(xs[k], minusThree), Vector.LessThan(xs[k], three));
                rs[k] = Vector.ConditionalSelect(inside, ds[k] / six, Vector<float>.Zero);
            }
            i = xs.Length * Vector<float>.Count;
        }
        for (; i < x.Length; i++) dx[i] = x[i] > -3f && x[i] < 3f ? dy[i] / 6f : 0f;
    }

    static void CheckLengths(string op, int x, int other, int result)
    {
        if (other != x || result < x) throw new ArgumentException($"{op}: lengths differ ({x}, {other}, {result}).");
    }
}
