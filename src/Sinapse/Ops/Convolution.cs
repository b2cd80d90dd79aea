using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

/// <summary>
/// A 2-D convolution's hyper-parameters per axis: strides, zero padding on each side (top, left,
/// bottom, right — asymmetric allowed, as TensorFlow's "SAME" needs), dilations and groups.
/// </summary>
public readonly record struct ConvGeometry2d(
    int StrideHeight, int StrideWidth, int PadTop, int PadLeft, int PadBottom, int PadRight,
    int DilationHeight, int DilationWidth, int Groups = 1)
{
    /// <summary>The same value on both axes and all sides, as PyTorch's int arguments.</summary>
    public static ConvGeometry2d Uniform(int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        new(stride, stride, padding, padding, padding, padding, dilation, dilation, groups);
}

public static partial class F
{
    /// <summary>
    /// 2-D cross-correlation of input [N, C_in, H, W] with weight [C_out, C_in/groups, kH, kW]
    /// (PyTorch's layout), plus bias [C_out]: output [N, C_out, H_out, W_out] with
    /// H_out = ⌊(H + 2·padding − dilation·(kH − 1) − 1) / stride⌋ + 1. groups = C_in = C_out is a
    /// depthwise convolution.
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv2d(input, weight, bias, ConvGeometry2d.Uniform(stride, padding, dilation, groups));

    /// <summary><see cref="Conv2d(Tensor, Tensor, Tensor?, int, int, int, int)"/> with per-axis
    /// strides and dilations and per-side padding.</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, ConvGeometry2d options) =>
        Conv2d(input, weight, bias, options, FusedActivation.None);

    /// <summary>
    /// <see cref="Conv2d(Tensor, Tensor, Tensor?, ConvGeometry2d)"/> followed by a ReLU or hard-swish.
    /// In inference (nothing to record, float32, no export trace) the convolution applies it to each
    /// output row while the row is in cache; otherwise it runs as its own op.
    /// </summary>
    internal static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, ConvGeometry2d options, FusedActivation activation)
    {
        const string op = "Conv2d";
        if (input.Rank != 4) throw new ArgumentException($"{op}: the input must be [batch, channels, height, width], got {input.Shape} (weight {weight.Shape}).");
        if (weight.Rank != 4) throw new ArgumentException($"{op}: the weight must be [out channels, in channels / groups, kernel height, kernel width], got {weight.Shape} (input {input.Shape}).");
        var geometry = new ConvGeometry(input.Shape[0], input.Shape[1], weight.Shape[0], options.Groups,
            input.Shape[2], input.Shape[3], weight.Shape[2], weight.Shape[3],
            options.StrideHeight, options.StrideWidth, options.PadTop, options.PadLeft, options.PadBottom, options.PadRight,
            options.DilationHeight, options.DilationWidth);
        Check(op, input, weight, bias, geometry);
        var outputShape = new Shape(geometry.Batch, geometry.OutChannels, geometry.OutputHeight, geometry.OutputWidth);
        if (activation == FusedActivation.None) return Convolve(op, input, weight, bias, geometry, outputShape);
        if (Tape.NeedsGrad(input, weight, bias) || MixedPrecision.Current != Precision.Float32 || OnnxTrace.Current != null)
        {
            var convolved = Convolve(op, input, weight, bias, geometry, outputShape);
            return activation == FusedActivation.Relu ? Relu(convolved) : HardSwish(convolved);
        }
        var output = Tensor.Empty(outputShape);
        Convolution.Forward(geometry, input.Span, weight.Span, bias != null ? bias.Span : default, output.Span, activation);
        return output;
    }

    /// <summary>
    /// 1-D cross-correlation of input [N, C_in, L] with weight [C_out, C_in/groups, k], plus bias
    /// [C_out]: output [N, C_out, L_out]. Runs on the 2-D kernels with height 1 (no copies).
    /// </summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv1d(input, weight, bias, stride, padding, padding, dilation, groups);

    /// <summary><see cref="Conv1d(Tensor, Tensor, Tensor?, int, int, int, int)"/> with different
    /// padding before and after the sequence.</summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias, int stride, int padBegin, int padEnd, int dilation, int groups)
    {
        const string op = "Conv1d";
        if (input.Rank != 3) throw new ArgumentException($"{op}: the input must be [batch, channels, length], got {input.Shape} (weight {weight.Shape}).");
        if (weight.Rank != 3) throw new ArgumentException($"{op}: the weight must be [out channels, in channels / groups, kernel size], got {weight.Shape} (input {input.Shape}).");
        var geometry = new ConvGeometry(input.Shape[0], input.Shape[1], weight.Shape[0], groups,
            1, input.Shape[2], 1, weight.Shape[2], 1, stride, 0, padBegin, 0, padEnd, 1, dilation);
        Check(op, input, weight, bias, geometry);
        return Convolve(op, input, weight, bias, geometry, new Shape(geometry.Batch, geometry.OutChannels, geometry.OutputWidth));
    }

    /// <summary>Every argument error, before a kernel runs, naming the op and both shapes.</summary>
    private static void Check(string op, Tensor input, Tensor weight, Tensor? bias, in ConvGeometry geometry)
    {
        int groups = geometry.Groups;
        if (groups >= 1 && geometry.InChannels != weight.Shape[1] * groups)
            throw new ArgumentException($"{op}: input {input.Shape} has {geometry.InChannels} channels but the weight {weight.Shape} expects {weight.Shape[1] * groups} (groups {groups}).");
        if (!geometry.IsValid) geometry.Validate(op, input.Shape.ToString(), weight.Shape.ToString());
        if (bias != null && (bias.Rank != 1 || bias.Length != geometry.OutChannels))
            throw new ArgumentException($"{op}: the bias must be [{geometry.OutChannels}] for the weight {weight.Shape}, got {bias.Shape}.");
    }

    private static Tensor Convolve(string op, Tensor input, Tensor weight, Tensor? bias, ConvGeometry geometry, Shape outputShape)
    {
        var output = Weighted(op, input, weight, bias, outputShape,
            (x, w, b, y) => Convolution.Forward(geometry, x, w, b, y),
            (x, w, dy, dx, betaX, dw, betaW, db, betaB) => Convolution.Backward(geometry, x, w, dy, dx, betaX, dw, betaW, db, betaB));
        if (OnnxTrace.Current is { } trace)
        {
            var g = geometry;
            // A 1-D convolution runs as a 2-D one of height 1; its node has only the width axis.
            trace.Node("Conv", output, [input, weight, bias], input.Rank == 3
                ? [OnnxTrace.Ints("kernel_shape", g.KernelWidth), OnnxTrace.Ints("strides", g.StrideWidth), OnnxTrace.Ints("dilations", g.DilationWidth),
                    OnnxTrace.Int("group", g.Groups), OnnxTrace.Ints("pads", g.PadLeft, g.PadRight)]
                : [OnnxTrace.Ints("kernel_shape", g.KernelHeight, g.KernelWidth), OnnxTrace.Ints("strides", g.StrideHeight, g.StrideWidth),
                    OnnxTrace.Ints("dilations", g.DilationHeight, g.DilationWidth), OnnxTrace.Int("group", g.Groups), OnnxTrace.Ints("pads", g.PadTop, g.PadLeft, g.PadBottom, g.PadRight)]);
        }
        return output;
    }
}
