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
            for (int k = 0; k < v.Length; k++)
                r[k] = v[k] * Vector.ConditionalSelect(Vector.GreaterThan(s[k], Vector<float>.Zero), positive, other);
            i = v.Length * Vector<float>.Count;
        }
        for (; i < values.Length; i++) result[i] = values[i] * (sign[i] > 0 ? positiveScale : otherScale);
    }
}
