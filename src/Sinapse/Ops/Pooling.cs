using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// 2-D max pooling of x [N, C, H, W] with a square window; the stride defaults to the kernel
    /// (non-overlapping windows, as in PyTorch), padding counts as −∞.
    /// </summary>
    public static Tensor MaxPool2d(Tensor x, int kernel, int? stride = null, int padding = 0) =>
        MaxPool2d(x, (kernel, kernel), stride is int s ? (s, s) : null, (padding, padding));

    /// <summary>2-D max pooling with separate (height, width) kernel, stride and padding.</summary>
    public static Tensor MaxPool2d(Tensor x, (int Height, int Width) kernel, (int Height, int Width)? stride = null, (int Height, int Width) padding = default) =>
        MaxPool("MaxPool2d", x, Pool2dWindow("MaxPool2d", x.Shape, kernel, stride ?? kernel, padding));

    /// <summary>2-D average pooling (padding counts as zeros in the average, PyTorch's count_include_pad = true).</summary>
    public static Tensor AvgPool2d(Tensor x, int kernel, int? stride = null, int padding = 0) =>
        AvgPool2d(x, (kernel, kernel), stride is int s ? (s, s) : null, (padding, padding));

    public static Tensor AvgPool2d(Tensor x, (int Height, int Width) kernel, (int Height, int Width)? stride = null, (int Height, int Width) padding = default) =>
        AvgPool("AvgPool2d", x, Pool2dWindow("AvgPool2d", x.Shape, kernel, stride ?? kernel, padding));

    /// <summary>1-D max pooling of x [N, C, L]: the 2-D kernel on planes of height 1.</summary>
    public static Tensor MaxPool1d(Tensor x, int kernel, int? stride = null, int padding = 0) =>
        MaxPool("MaxPool1d", x, Pool1dWindow("MaxPool1d", x.Shape, kernel, stride ?? kernel, padding));

    /// <summary>1-D average pooling of x [N, C, L] (padding counts as zeros in the average).</summary>
    public static Tensor AvgPool1d(Tensor x, int kernel, int? stride = null, int padding = 0) =>
        AvgPool("AvgPool1d", x, Pool1dWindow("AvgPool1d", x.Shape, kernel, stride ?? kernel, padding));

    /// <summary>The mean of each channel's plane: [N, C, H, W] → [N, C, 1, 1].</summary>
    public static Tensor GlobalAvgPool2d(Tensor x) => GlobalAvgPool("GlobalAvgPool2d", x);

    /// <summary>
    /// Adaptive average pooling to an output of <paramref name="outputSize"/>×<paramref name="outputSize"/>;
    /// only 1 (global average pooling, as in MobileNetV3's head) is supported for now.
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, int outputSize)
    {
        if (outputSize != 1)
            throw new NotSupportedException($"AdaptiveAvgPool2d: only output size 1 (global average pooling) is supported for now, got {outputSize}.");
        return GlobalAvgPool("AdaptiveAvgPool2d", x);
    }

    // ---- shapes and validation, shared with the layers (they compute shapes without running) ----

    /// <summary>The output shape of 2-D pooling, or the error the op would throw.</summary>
    internal static Shape Pool2dOutputShape(string op, Shape input, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding)
    {
        var w = Pool2dWindow(op, input, kernel, stride, padding);
        return new Shape(input[0], input[1], w.OutputHeight, w.OutputWidth);
    }

    internal static Shape Pool1dOutputShape(string op, Shape input, int kernel, int stride, int padding)
    {
        var w = Pool1dWindow(op, input, kernel, stride, padding);
        return new Shape(input[0], input[1], w.OutputWidth);
    }

    internal static Shape GlobalAvgPoolOutputShape(string op, Shape input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{op}: expects an input [N, C, H, W], got {input}.");
        if (input[2] == 0 || input[3] == 0) throw new ArgumentException($"{op}: cannot average the empty planes of {input}.");
        return new Shape(input[0], input[1], 1, 1);
    }

    private static PoolWindow Pool2dWindow(string op, Shape input, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding)
    {
        if (input.Rank != 4) throw new ArgumentException($"{op}: expects an input [N, C, H, W], got {input}.");
        CheckPoolAxis(op, input, "height", input[2], kernel.Height, stride.Height, padding.Height);
        CheckPoolAxis(op, input, "width", input[3], kernel.Width, stride.Width, padding.Width);
        CheckPlaneSize(op, input, (long)input[2] * input[3]);
        return new PoolWindow(input[2], input[3], kernel.Height, kernel.Width, stride.Height, stride.Width, padding.Height, padding.Width);
    }

    private static void CheckPlaneSize(string op, Shape input, long planeSize)
    {
        if (planeSize > Pooling.MaxPlaneSize)
            throw new ArgumentException($"{op}: the planes of the input {input} hold more than {Pooling.MaxPlaneSize} elements, which the arg-max indices (floats) cannot address exactly.");
    }

    private static PoolWindow Pool1dWindow(string op, Shape input, int kernel, int stride, int padding)
    {
        if (input.Rank != 3) throw new ArgumentException($"{op}: expects an input [N, C, L], got {input}.");
        CheckPoolAxis(op, input, "length", input[2], kernel, stride, padding);
        CheckPlaneSize(op, input, input[2]);
        return new PoolWindow(1, input[2], 1, kernel, 1, stride, 0, padding);
    }

    private static void CheckPoolAxis(string op, Shape input, string axis, int size, int kernel, int stride, int padding)
    {
        if (kernel < 1) throw new ArgumentException($"{op}: the kernel {axis} must be at least 1, got {kernel}.");
        if (stride < 1) throw new ArgumentException($"{op}: the stride along the {axis} must be at least 1, got {stride} (a stride of 0 would never move the window).");
        if (padding < 0) throw new ArgumentException($"{op}: the padding along the {axis} must be non-negative, got {padding}.");
        // PyTorch's rule: with more padding a window could lie entirely in the padding.
        if (padding > kernel / 2)
            throw new ArgumentException($"{op}: the padding along the {axis} ({padding}) must be at most half the kernel {axis} ({kernel}), i.e. at most {kernel / 2}.");
        if (size < 1) throw new ArgumentException($"{op}: the input {input} has an empty {axis}.");
        if (PoolWindow.OutputSize(size, kernel, stride, padding) < 1)
            throw new ArgumentException($"{op}: the input {input} is too small along its {axis}: {size} + 2·{padding} padding = {size + 2 * padding} is less than the kernel {axis} {kernel}; the {axis} must be at least {kernel - 2 * padding}.");
    }

    // ---- the ops ----

    private static Shape PoolOutputShape(Shape input, PoolWindow w) =>
        input.Rank == 4 ? new Shape(input[0], input[1], w.OutputHeight, w.OutputWidth) : new Shape(input[0], input[1], w.OutputWidth);

    private static Tensor MaxPool(string op, Tensor x, PoolWindow window)
    {
        int planes = x.Shape[0] * x.Shape[1];
        var y = Tensor.Empty(PoolOutputShape(x.Shape, window));
        if (!Tape.NeedsGrad(x))
        {
            Pooling.MaxPool2d(x.Span, y.Span, [], planes, window);
            return y;
        }
        // Arg-max indices within each input plane, as floats in a pooled buffer (exact below 2^24).
        var argmax = Tensor.Empty(y.Shape);
        Pooling.MaxPool2d(x.Span, y.Span, argmax.Span, planes, window);
        Tape.Record(op, y, dy =>
        {
            var dx = Tape.GradientTarget(x, out float beta);
            Pooling.MaxPool2dBackward(dy.Span, argmax.Span, beta, dx, planes, window);
        }, x);
        return y;
    }

    private static Tensor AvgPool(string op, Tensor x, PoolWindow window)
    {
        int planes = x.Shape[0] * x.Shape[1];
        var y = Tensor.Empty(PoolOutputShape(x.Shape, window));
        Pooling.AvgPool2d(x.Span, y.Span, planes, window);
        if (Tape.NeedsGrad(x))
            Tape.Record(op, y, dy =>
            {
                var dx = Tape.GradientTarget(x, out float beta);
                Pooling.AvgPool2dBackward(dy.Span, beta, dx, planes, window);
            }, x);
        return y;
    }

    private static Tensor GlobalAvgPool(string op, Tensor x)
    {
        var shape = GlobalAvgPoolOutputShape(op, x.Shape);
        int planes = x.Shape[0] * x.Shape[1], planeSize = x.Shape[2] * x.Shape[3];
        var y = Tensor.Empty(shape);
        Pooling.GlobalAvgPool(x.Span, y.Span, planes, planeSize);
        if (Tape.NeedsGrad(x))
            Tape.Record(op, y, dy =>
            {
                var dx = Tape.GradientTarget(x, out float beta);
                Pooling.GlobalAvgPoolBackward(dy.Span, beta, dx, planes, planeSize);
            }, x);
        return y;
    }
}
