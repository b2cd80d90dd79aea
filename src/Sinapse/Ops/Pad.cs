using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// torch.nn.functional.pad in constant mode: <paramref name="pad"/> holds (before, after) pairs
    /// starting from the last dimension — [left, right] pads the last one, [left, right, top, bottom]
    /// the last two — and each added position holds <paramref name="value"/>. A negative pad removes
    /// that many positions instead (a crop), at most all of them. A copy; x's gradient is the
    /// output's at x's positions (zero where x was cropped away).
    /// </summary>
    public static Tensor Pad(Tensor x, int[] pad, float value = 0f)
    {
        ArgumentNullException.ThrowIfNull(pad);
        if (pad.Length % 2 != 0 || pad.Length > 2 * x.Rank)
            throw new ArgumentException($"Pad: [{string.Join(", ", pad)}] must hold (before, after) pairs for at most the {x.Rank} dimensions of a tensor of shape {x.Shape}.");
        var shape = x.Shape.ToArray();
        // The box of x that survives the crops, and where it is read from and written to.
        var box = x.Shape.ToArray();
        var before = new int[x.Rank];
        for (int k = 0; k < pad.Length / 2; k++)
        {
            int d = x.Rank - 1 - k, after = pad[2 * k + 1];
            before[d] = pad[2 * k];
            long size = (long)x.Shape[d] + before[d] + after;
            if (size > Array.MaxLength) throw new ArgumentException($"Pad: padding dimension {d} of size {x.Shape[d]} by ({before[d]}, {after}) gives {size:N0} positions, more than a tensor holds (shape {x.Shape}).");
            shape[d] = (int)size;
            box[d] = x.Shape[d] + Math.Min(before[d], 0) + Math.Min(after, 0);
            if (box[d] < 0)
                throw new ArgumentException($"Pad: padding dimension {d} of size {x.Shape[d]} by ({before[d]}, {after}) crops more positions than it has (shape {x.Shape}).");
        }
        var inputStrides = StridedCopy.RowMajorStrides(x.Shape.Dimensions);
        var outputStrides = StridedCopy.RowMajorStrides(shape);
        int readAt = 0, writeAt = 0;
        for (int d = 0; d < x.Rank; d++)
        {
            readAt += Math.Max(0, -before[d]) * inputStrides[d];
            writeAt += Math.Max(0, before[d]) * outputStrides[d];
        }
        var y = Tensor.Empty(new Shape(shape));
        int kept = new Shape(box).Size;
        bool empty = kept == 0;
        if (kept != y.Length) y.Span.Fill(value);
        if (!empty) StridedCopy.Run(x.Span[readAt..], inputStrides, y.Span[writeAt..], outputStrides, box);
        if (OnnxTrace.Current is { } trace)
        {
            // ONNX lists every axis's begin, then every axis's end; a negative pad crops there too.
            var pads = new long[2 * x.Rank];
            for (int d = 0; d < x.Rank; d++) (pads[d], pads[x.Rank + d]) = (before[d], shape[d] - x.Shape[d] - before[d]);
            trace.Bind(y, trace.Node("Pad", [trace.Value(x), trace.Integers("pads", pads), trace.Scalar(value)]));
        }
        if (Tape.NeedsGrad(x))
            Tape.Record("Pad", y, dy =>
            {
                var dx = Tape.GradientTarget(x, out float beta);
                if (beta == 0f && kept != x.Length) dx.Clear();
                if (!empty) StridedCopy.Run(dy.Span[writeAt..], outputStrides, dx[readAt..], inputStrides, box, accumulate: beta != 0f);
            }, x);
        return y;
    }
}
