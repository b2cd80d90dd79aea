using Onnx;
using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// 2-D max pooling of x [N, C, H, W] with a square window; the stride defaults to the kernel
    /// (non-overlapping windows, as in PyTorch), padding counts as −∞, the window's taps are
    /// <paramref name="dilation"/> apart, and <paramref name="ceilMode"/> rounds the output size
    /// up (a last window may then hang past the input, as long as it starts inside it or the left padding).
    /// </summary>
    public static Tensor MaxPool2d(Tensor x, int kernel, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) =>
        MaxPool2d(x, (kernel, kernel), stride is int s ? (s, s) : null, (padding, padding), (dilation, dilation), ceilMode);

    /// <summary>2-D max pooling with separate (height, width) kernel, stride, padding and dilation (default 1).</summary>
    public static Tensor MaxPool2d(Tensor x, (int Height, int Width) kernel, (int Height, int Width)? stride = null, (int Height, int Width) padding = default,
        (int Height, int Width)? dilation = null, bool ceilMode = false) =>
        MaxPool("MaxPool2d", x, Pool2dWindow("MaxPool2d", x.Shape, kernel, stride ?? kernel, padding, dilation ?? (1, 1), ceilMode, countIncludePad: true));

    /// <summary>
    /// 2-D average pooling. With <paramref name="countIncludePad"/> (PyTorch's default) padding
    /// counts as zeros in the average; without it each window averages only the input elements it
    /// covers. <paramref name="ceilMode"/> as in <see cref="MaxPool2d(Tensor, int, int?, int, int, bool)"/>.
    /// </summary>
    public static Tensor AvgPool2d(Tensor x, int kernel, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        AvgPool2d(x, (kernel, kernel), stride is int s ? (s, s) : null, (padding, padding), ceilMode, countIncludePad);

    public static Tensor AvgPool2d(Tensor x, (int Height, int Width) kernel, (int Height, int Width)? stride = null, (int Height, int Width) padding = default,
        bool ceilMode = false, bool countIncludePad = true) =>
        AvgPool("AvgPool2d", x, Pool2dWindow("AvgPool2d", x.Shape, kernel, stride ?? kernel, padding, (1, 1), ceilMode, countIncludePad));

    /// <summary>1-D max pooling of x [N, C, L]: the 2-D kernel on planes of height 1.</summary>
    public static Tensor MaxPool1d(Tensor x, int kernel, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) =>
        MaxPool("MaxPool1d", x, Pool1dWindow("MaxPool1d", x.Shape, kernel, stride ?? kernel, padding, dilation, ceilMode, countIncludePad: true));

    /// <summary>1-D average pooling of x [N, C, L] (<paramref name="countIncludePad"/>: padding counts as zeros in the average).</summary>
    public static Tensor AvgPool1d(Tensor x, int kernel, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        AvgPool("AvgPool1d", x, Pool1dWindow("AvgPool1d", x.Shape, kernel, stride ?? kernel, padding, 1, ceilMode, countIncludePad));

    /// <summary>The mean of each channel's plane: [N, C, H, W] → [N, C, 1, 1].</summary>
    public static Tensor GlobalAvgPool2d(Tensor x) => GlobalAvgPool("GlobalAvgPool2d", x);

    /// <summary>Adaptive average pooling to an output of <paramref name="outputSize"/>×<paramref name="outputSize"/>.</summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, int outputSize) => AdaptiveAvgPool2d(x, (outputSize, outputSize));

    /// <summary>
    /// Adaptive average pooling of x [N, C, H, W] to [N, C, OH, OW]: output (i, j) averages input
    /// rows floor(i·H/OH) to ceil((i+1)·H/OH) − 1 and the columns likewise (PyTorch's windows,
    /// which overlap when OH does not divide H). 1×1 is global average pooling.
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor x, (int Height, int Width) outputSize)
    {
        var shape = AdaptiveAvgPool2dOutputShape("AdaptiveAvgPool2d", x.Shape, outputSize);
        if (outputSize == (1, 1)) return GlobalAvgPool("AdaptiveAvgPool2d", x);
        var window = new AdaptivePoolWindow(x.Shape[2], x.Shape[3], outputSize.Height, outputSize.Width);
        var y = Tensor.Empty(shape);
        // ONNX has no adaptive pooling; when the output divides the input its windows are a plain average pooling's, as PyTorch's exporter writes it.
        if (OnnxTrace.Current is { } trace)
        {
            if (x.Shape[2] % outputSize.Height != 0 || x.Shape[3] % outputSize.Width != 0)
                throw OnnxTrace.Unsupported("AdaptiveAvgPool2d", $"its {outputSize.Height}x{outputSize.Width} windows over the input {x.Shape} have different sizes, " +
                    "which ONNX's AveragePool cannot express (it can when the output size divides the input's)");
            int kernelHeight = x.Shape[2] / outputSize.Height, kernelWidth = x.Shape[3] / outputSize.Width;
            trace.Node("AveragePool", y, x, OnnxTrace.Ints("kernel_shape", kernelHeight, kernelWidth), OnnxTrace.Ints("strides", kernelHeight, kernelWidth));
        }
        int planes = x.Shape[0] * x.Shape[1];
        Pooling.AdaptiveAvgPool2d(x.Span, y.Span, planes, window);
        if (Tape.NeedsGrad(x))
            Tape.Record("AdaptiveAvgPool2d", y, dy =>
            {
                var dx = Tape.GradientTarget(x, out float beta);
                Pooling.AdaptiveAvgPool2dBackward(dy.Span, beta, dx, planes, window);
            }, x);
        return y;
    }

    // ---- shapes and validation, shared with the layers (they compute shapes without running) ----

    /// <summary>The output shape of 2-D pooling, or the error the op would throw.</summary>
    internal static Shape Pool2dOutputShape(string op, Shape input, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width) dilation, bool ceilMode) =>
        PoolOutputShape(input, Pool2dWindow(op, input, kernel, stride, padding, dilation, ceilMode, countIncludePad: true));

    internal static Shape Pool1dOutputShape(string op, Shape input, int kernel, int stride, int padding, int dilation, bool ceilMode) =>
        PoolOutputShape(input, Pool1dWindow(op, input, kernel, stride, padding, dilation, ceilMode, countIncludePad: true));

    internal static Shape GlobalAvgPoolOutputShape(string op, Shape input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{op}: expects an input [N, C, H, W], got {input}.");
        if (input[2] == 0 || input[3] == 0) throw new ArgumentException($"{op}: cannot average the empty planes of {input}.");
        return new Shape(input[0], input[1], 1, 1);
    }

    internal static Shape AdaptiveAvgPool2dOutputShape(string op, Shape input, (int Height, int Width) outputSize)
    {
        if (outputSize.Height < 1 || outputSize.Width < 1) throw new ArgumentException($"{op}: the output size must be at least 1x1, got {outputSize.Height}x{outputSize.Width}.");
        GlobalAvgPoolOutputShape(op, input);
        CheckPlaneSize(op, input, (long)input[2] * input[3]);
        return new Shape(input[0], input[1], outputSize.Height, outputSize.Width);
    }

    private static PoolWindow Pool2dWindow(string op, Shape input, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width) dilation, bool ceilMode, bool countIncludePad)
    {
        if (input.Rank != 4) throw new ArgumentException($"{op}: expects an input [N, C, H, W], got {input}.");
        CheckPoolAxis(op, input, "height", input[2], kernel.Height, stride.Height, padding.Height, dilation.Height, ceilMode);
        CheckPoolAxis(op, input, "width", input[3], kernel.Width, stride.Width, padding.Width, dilation.Width, ceilMode);
        CheckPlaneSize(op, input, (long)input[2] * input[3]);
        return new PoolWindow(input[2], input[3], kernel.Height, kernel.Width, stride.Height, stride.Width, padding.Height, padding.Width,
            dilation.Height, dilation.Width, ceilMode, countIncludePad);
    }

    private static void CheckPlaneSize(string op, Shape input, long planeSize)
    {
        if (planeSize > Pooling.MaxPlaneSize)
            throw new ArgumentException($"{op}: the planes of the input {input} hold more than {Pooling.MaxPlaneSize} elements, which the arg-max indices (floats) cannot address exactly.");
    }

    private static PoolWindow Pool1dWindow(string op, Shape input, int kernel, int stride, int padding, int dilation, bool ceilMode, bool countIncludePad)
    {
        if (input.Rank != 3) throw new ArgumentException($"{op}: expects an input [N, C, L], got {input}.");
        CheckPoolAxis(op, input, "length", input[2], kernel, stride, padding, dilation, ceilMode);
        CheckPlaneSize(op, input, input[2]);
        return new PoolWindow(1, input[2], 1, kernel, 1, stride, 0, padding, 1, dilation, ceilMode, countIncludePad);
    }

    private static void CheckPoolAxis(string op, Shape input, string axis, int size, int kernel, int stride, int padding, int dilation, bool ceilMode)
    {
        if (kernel < 1) throw new ArgumentException($"{op}: the kernel {axis} must be at least 1, got {kernel}.");
        if (stride < 1) throw new ArgumentException($"{op}: the stride along the {axis} must be at least 1, got {stride} (a stride of 0 would never move the window).");
        if (dilation < 1) throw new ArgumentException($"{op}: the dilation along the {axis} must be at least 1, got {dilation}.");
        if (padding < 0) throw new ArgumentException($"{op}: the padding along the {axis} must be non-negative, got {padding}.");
        // PyTorch's rule: with more padding a window could lie entirely in the padding.
        if (padding > kernel / 2)
            throw new ArgumentException($"{op}: the padding along the {axis} ({padding}) must be at most half the kernel {axis} ({kernel}), i.e. at most {kernel / 2}.");
        if (size < 1) throw new ArgumentException($"{op}: the input {input} has an empty {axis}.");
        int outputs = PoolWindow.OutputSize(size, kernel, stride, padding, dilation, ceilMode);
        if (outputs < 1)
        {
            long span = (long)dilation * (kernel - 1) + 1;
            throw new ArgumentException($"{op}: the input {input} is too small along its {axis}: {size} + 2·{padding} padding = {size + 2 * padding} is less than the " +
                (dilation == 1 ? $"kernel {axis} {kernel}" : $"window's span {span} (kernel {kernel}, dilation {dilation})") + $"; the {axis} must be at least {span - 2 * padding}.");
        }
        // Dilated taps can step over a small input: a window with no tap inside it has no maximum
        // (PyTorch returns −∞ and an index outside the input, which its backward then writes to).
        for (int i = 0; dilation > 1 && i < outputs; i++)
        {
            int begin = i * stride - padding, first = begin < 0 ? begin + (-begin + dilation - 1) / dilation * dilation : begin;
            if (first >= size || first > begin + dilation * (kernel - 1))
                throw new ArgumentException($"{op}: window {i} along the {axis} of the input {input} (taps {begin}, {begin + dilation}, … with dilation {dilation}) has no tap inside the input; " +
                    "use less padding or dilation.");
        }
    }

    // ---- the ops ----

    /// <summary>The attributes MaxPool and AveragePool share; a 1-D pooling (run as 2-D of height 1) has only the width axis.</summary>
    private static AttributeProto[] PoolOnnx(Tensor x, PoolWindow w) => x.Rank == 4
        ? [OnnxTrace.Ints("kernel_shape", w.KernelHeight, w.KernelWidth), OnnxTrace.Ints("strides", w.StrideHeight, w.StrideWidth),
            OnnxTrace.Ints("pads", w.PaddingHeight, w.PaddingWidth, w.PaddingHeight, w.PaddingWidth), OnnxTrace.Int("ceil_mode", w.CeilMode ? 1 : 0)]
        : [OnnxTrace.Ints("kernel_shape", w.KernelWidth), OnnxTrace.Ints("strides", w.StrideWidth), OnnxTrace.Ints("pads", w.PaddingWidth, w.PaddingWidth),
            OnnxTrace.Int("ceil_mode", w.CeilMode ? 1 : 0)];

    private static Shape PoolOutputShape(Shape input, PoolWindow w) =>
        input.Rank == 4 ? new Shape(input[0], input[1], w.OutputHeight, w.OutputWidth) : new Shape(input[0], input[1], w.OutputWidth);

    private static Tensor MaxPool(string op, Tensor x, PoolWindow window)
    {
        int planes = x.Shape[0] * x.Shape[1];
        var y = Tensor.Empty(PoolOutputShape(x.Shape, window));
        OnnxTrace.Current?.Node("MaxPool", y, x, [.. PoolOnnx(x, window), x.Rank == 4 ? OnnxTrace.Ints("dilations", window.DilationHeight, window.DilationWidth) : OnnxTrace.Ints("dilations", window.DilationWidth)]);
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
        OnnxTrace.Current?.Node("AveragePool", y, x, [.. PoolOnnx(x, window), OnnxTrace.Int("count_include_pad", window.CountIncludePad ? 1 : 0)]);
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
        OnnxTrace.Current?.Node("GlobalAveragePool", y, x);
        if (Tape.NeedsGrad(x))
            Tape.Record(op, y, dy =>
            {
                var dx = Tape.GradientTarget(x, out float beta);
                Pooling.GlobalAvgPoolBackward(dy.Span, beta, dx, planes, planeSize);
            }, x);
        return y;
    }
}
