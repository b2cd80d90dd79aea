using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// 2-D transposed convolution (PyTorch's conv_transpose2d): input [N, C_in, H, W], weight
    /// [C_in, C_out/groups, kH, kW] (PyTorch's layout), bias [C_out]; output [N, C_out, H_out, W_out]
    /// with H_out = (H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1, and
    /// outputPadding smaller than the stride or the dilation. It is the backward pass of the Conv2d
    /// that maps [N, C_out, H_out, W_out] back to the input's size, so it runs on the convolution
    /// kernels: forward = that Conv2d's input gradient, input gradient = that Conv2d's forward,
    /// weight gradient = that Conv2d's weight gradient with the roles swapped. Under
    /// <see cref="MixedPrecision.Autocast"/> it runs in 16 bits as Conv2d does.
    /// </summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int outputPadding = 0, int dilation = 1, int groups = 1) =>
        ConvTranspose2d(input, weight, bias, (stride, stride), (padding, padding), (outputPadding, outputPadding), (dilation, dilation), groups);

    /// <summary><see cref="ConvTranspose2d(Tensor, Tensor, Tensor?, int, int, int, int, int)"/> with a
    /// (height, width) value of each hyper-parameter, as PyTorch's tuples.</summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width) outputPadding, (int Height, int Width) dilation, int groups = 1)
    {
        var output = TransposedConvolution(input, weight, bias, stride, padding, outputPadding, dilation, groups);
        if (OnnxTrace.Current is { } trace)
        {
            var (bottom, extraHeight) = TransposedEnd(padding.Height, outputPadding.Height, stride.Height);
            var (right, extraWidth) = TransposedEnd(padding.Width, outputPadding.Width, stride.Width);
            trace.Node("ConvTranspose", output, [input, weight, bias], OnnxTrace.Ints("kernel_shape", weight.Shape[2], weight.Shape[3]),
                OnnxTrace.Ints("strides", stride.Height, stride.Width), OnnxTrace.Ints("dilations", dilation.Height, dilation.Width), OnnxTrace.Int("group", groups),
                OnnxTrace.Ints("pads", padding.Height, padding.Width, bottom, right), OnnxTrace.Ints("output_padding", extraHeight, extraWidth));
        }
        return output;
    }

    /// <summary>
    /// The end padding and output padding of one axis of a ConvTranspose node. ONNX Runtime refuses
    /// an output padding at or above the stride, which PyTorch allows below the dilation; since no
    /// input reaches the positions output padding adds, cropping that many fewer at the end is the
    /// same output: pads end p − op and no output padding, or, when op > p, none and op − p.
    /// </summary>
    private static (int PadEnd, int OutputPadding) TransposedEnd(int padding, int outputPadding, int stride)
    {
        if (outputPadding < stride) return (padding, outputPadding);
        if (outputPadding <= padding) return (padding - outputPadding, 0);
        if (outputPadding - padding < stride) return (0, outputPadding - padding);
        throw OnnxTrace.Unsupported("ConvTranspose2d",
            $"its output padding {outputPadding} exceeds its padding {padding} by the stride {stride} or more, which ONNX Runtime's ConvTranspose refuses");
    }

    private static Tensor TransposedConvolution(Tensor input, Tensor weight, Tensor? bias, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width) outputPadding, (int Height, int Width) dilation, int groups)
    {
        const string op = "ConvTranspose2d";
        if (input.Rank != 4) throw new ArgumentException($"{op}: the input must be [batch, channels, height, width], got {input.Shape} (weight {weight.Shape}).");
        if (weight.Rank != 4) throw new ArgumentException($"{op}: the weight must be [in channels, out channels / groups, kernel height, kernel width], got {weight.Shape} (input {input.Shape}).");
        var height = new TransposedAxis(input.Shape[2], weight.Shape[2], stride.Height, padding.Height, outputPadding.Height, dilation.Height);
        var width = new TransposedAxis(input.Shape[3], weight.Shape[3], stride.Width, padding.Width, outputPadding.Width, dilation.Width);
        CheckTransposed(op, input, weight, bias, height, width, groups);

        int batch = input.Shape[0], outChannels = weight.Shape[1] * groups, plane = height.Output * width.Output;
        var outputShape = new Shape(batch, outChannels, height.Output, width.Output);
        if (height.Reached < 1 || width.Reached < 1) return BiasOnly(op, input, weight, bias, outputShape);
        // The Conv2d this op transposes, from the outputs some input reaches back to the input's [N, C_in, H, W].
        var geometry = new ConvGeometry(batch, outChannels, input.Shape[1], groups, height.Reached, width.Reached, weight.Shape[2], weight.Shape[3],
            stride.Height, stride.Width, padding.Height, padding.Width, height.PadEnd, width.PadEnd, dilation.Height, dilation.Width);
        bool cropped = height.Reached < height.Output || width.Reached < width.Output;
        return Weighted(op, input, weight, bias, outputShape,
            (x, w, b, y) =>
            {
                // The conv's input gradient is the only one wanted, so the input span it checks is never read.
                if (!cropped) Convolution.Backward(geometry, y, w, x, y, 0f, default, 0f, default, 0f);
                else
                {
                    using var scratch = TensorScope.Begin();
                    var reached = Tensor.Empty(geometry.InputLength).Span;
                    Convolution.Backward(geometry, reached, w, x, reached, 0f, default, 0f, default, 0f);
                    y.Clear();
                    CopyPlanes(reached, height.Reached, width.Reached, y, height.Output, width.Output, batch * outChannels);
                }
                if (!b.IsEmpty) AddChannelBias(y, b, batch, plane);
            },
            (x, w, dy, dx, betaX, dw, betaW, db, betaB) =>
            {
                using var scratch = TensorScope.Begin();
                ReadOnlySpan<float> reachedGradient = dy;
                if (cropped)
                {
                    var gathered = Tensor.Empty(geometry.InputLength).Span;
                    CopyPlanes(dy, height.Output, width.Output, gathered, height.Reached, width.Reached, batch * outChannels);
                    reachedGradient = gathered;
                }
                if (!dx.IsEmpty)
                {
                    if (betaX == 0f) Convolution.Forward(geometry, reachedGradient, w, default, dx);
                    else
                    {
                        var partial = Tensor.Empty(dx.Length).Span;
                        Convolution.Forward(geometry, reachedGradient, w, default, partial);
                        System.Numerics.Tensors.TensorPrimitives.Add(dx, partial, dx);
                    }
                }
                if (!dw.IsEmpty) Convolution.Backward(geometry, reachedGradient, w, x, default, 0f, dw, betaW, default, 0f);
                if (!db.IsEmpty) SumPerChannel(dy, db, betaB, batch, plane);
            });
    }

    /// <summary>
    /// One spatial axis of a transposed convolution. Its Conv2d, padded by p at both ends, would
    /// make ⌊outputPadding/stride⌋ outputs too many (outputPadding may reach the stride when the
    /// dilation is larger). No input reaches the last outputPadding positions of the padded output
    /// (the last one reached is (size − 1)·stride + dilation·(k − 1)), so the kernels' geometry pads
    /// the end by stride·⌊outputPadding/stride⌋ fewer, which removes exactly the extra outputs, and
    /// when that is negative runs on the <see cref="Reached"/> positions alone: the ones after them
    /// hold only the bias. Below the stride (PyTorch's usual case) nothing changes.
    /// </summary>
    private readonly record struct TransposedAxis(int Size, int Kernel, int Stride, int Padding, int OutputPadding, int Dilation)
    {
        public int Output => (Size - 1) * Stride - 2 * Padding + Dilation * (Kernel - 1) + OutputPadding + 1;

        /// <summary>How much less the end is padded (past the padding, cropped): stride·⌊outputPadding/stride⌋ ≤ outputPadding, so only unreached positions go.</summary>
        private int Excess => OutputPadding / Stride * Stride;

        /// <summary>The output positions the kernels compute: all but the last Excess − padding when that is positive. May be ≤ 0: then no input reaches the output.</summary>
        public int Reached => Output - Math.Max(Excess - Padding, 0);

        public int PadEnd => Math.Max(Padding - Excess, 0);

        public override string ToString() => $"stride {Stride}, padding {Padding}, output padding {OutputPadding}, dilation {Dilation}";
    }

    /// <summary>Every argument error, before a kernel runs, naming the op, the shapes and the values PyTorch refuses.</summary>
    private static void CheckTransposed(string op, Tensor input, Tensor weight, Tensor? bias, TransposedAxis height, TransposedAxis width, int groups)
    {
        string shapes = $"input {input.Shape}, weight {weight.Shape}";
        string Pair(Func<TransposedAxis, int> value) => $"({value(height)}, {value(width)})";
        if (height.Stride < 1 || width.Stride < 1) throw new ArgumentException($"{op}: the stride must be at least 1, got {Pair(a => a.Stride)}; {shapes}.");
        if (height.Dilation < 1 || width.Dilation < 1) throw new ArgumentException($"{op}: the dilation must be at least 1, got {Pair(a => a.Dilation)}; {shapes}.");
        if (height.Padding < 0 || width.Padding < 0) throw new ArgumentException($"{op}: the padding must be 0 or more, got {Pair(a => a.Padding)}; {shapes}.");
        if (height.OutputPadding < 0 || width.OutputPadding < 0) throw new ArgumentException($"{op}: the output padding must be 0 or more, got {Pair(a => a.OutputPadding)}; {shapes}.");
        foreach (var (axis, name) in new[] { (height, "height"), (width, "width") })
            if (axis.OutputPadding >= Math.Max(axis.Stride, axis.Dilation))
                throw new ArgumentException($"{op}: the output padding must be smaller than the stride or the dilation, but on the {name} axis it is {axis.OutputPadding} " +
                    $"with stride {axis.Stride} and dilation {axis.Dilation}; {shapes}.");
        if (groups < 1) throw new ArgumentException($"{op}: groups must be at least 1, got {groups}; {shapes}.");
        if (input.Shape[1] < 1 || height.Size < 1 || width.Size < 1 || weight.Shape[1] < 1 || height.Kernel < 1 || width.Kernel < 1)
            throw new ArgumentException($"{op}: the input's channels, height and width and every weight dimension must be at least 1 (only the batch may be 0); {shapes}.");
        if (input.Shape[1] != weight.Shape[0])
            throw new ArgumentException($"{op}: input {input.Shape} has {input.Shape[1]} channels but the weight {weight.Shape} expects {weight.Shape[0]}.");
        if (weight.Shape[0] % groups != 0)
            throw new ArgumentException($"{op}: groups = {groups} must divide the input channels ({weight.Shape[0]}); {shapes}.");
        if (height.Output < 1 || width.Output < 1)
            throw new ArgumentException($"{op}: {shapes} with {height} on the height axis and {width} on the width gives an empty output ({height.Output}x{width.Output}).");
        int outChannels = weight.Shape[1] * groups;
        if (bias != null && (bias.Rank != 1 || bias.Length != outChannels))
            throw new ArgumentException($"{op}: the bias must be [{outChannels}] for the weight {weight.Shape} and groups {groups}, got {bias.Shape}.");
    }

    /// <summary>When no input position reaches any output position (a dilated kernel entirely in the padding), the output is the bias alone and the input and weight get zero gradients.</summary>
    private static Tensor BiasOnly(string op, Tensor input, Tensor weight, Tensor? bias, Shape outputShape)
    {
        int batch = outputShape[0], plane = outputShape[2] * outputShape[3];
        return Weighted(op, input, weight, bias, outputShape,
            (x, w, b, y) =>
            {
                y.Clear();
                if (!b.IsEmpty) AddChannelBias(y, b, batch, plane);
            },
            (x, w, dy, dx, betaX, dw, betaW, db, betaB) =>
            {
                if (betaX == 0f) dx.Clear();
                if (betaW == 0f) dw.Clear();
                if (!db.IsEmpty) SumPerChannel(dy, db, betaB, batch, plane);
            });
    }

    /// <summary>The top-left min(H)×min(W) corner of each of <paramref name="planes"/> source planes into the destination's planes (its other positions untouched).</summary>
    private static void CopyPlanes(ReadOnlySpan<float> source, int sourceHeight, int sourceWidth, Span<float> destination, int destinationHeight, int destinationWidth, int planes)
    {
        int rows = Math.Min(sourceHeight, destinationHeight), columns = Math.Min(sourceWidth, destinationWidth);
        for (int p = 0; p < planes; p++)
            for (int r = 0; r < rows; r++)
                source.Slice((p * sourceHeight + r) * sourceWidth, columns).CopyTo(destination.Slice((p * destinationHeight + r) * destinationWidth, columns));
    }

    /// <summary>
    /// Nearest-neighbour upsampling of [N, C, H, W] by an integer <paramref name="scale"/>:
    /// every value becomes a scale × scale block (PyTorch's interpolate(mode="nearest")).
    /// The backward pass sums each block's gradients into its source value.
    /// </summary>
    public static Tensor UpsampleNearest2d(Tensor input, int scale)
    {
        if (input.Rank != 4) throw new ArgumentException($"UpsampleNearest2d: the input must be [batch, channels, height, width], got {input.Shape}.");
        if (scale < 1) throw new ArgumentException($"UpsampleNearest2d: the scale factor must be at least 1, got {scale}.");
        int planes = input.Shape[0] * input.Shape[1], height = input.Shape[2], width = input.Shape[3];
        int outWidth = width * scale, planeIn = height * width, planeOut = planeIn * scale * scale;
        var output = Tensor.Empty(input.Shape[0], input.Shape[1], height * scale, width * scale);
        var x = input.Span;
        var y = output.Span;
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < height; i++)
            {
                var row = y.Slice(p * planeOut + i * scale * outWidth, outWidth);
                var source = x.Slice(p * planeIn + i * width, width);
                for (int j = 0; j < width; j++) row.Slice(j * scale, scale).Fill(source[j]);
                for (int r = 1; r < scale; r++) row.CopyTo(y.Slice(p * planeOut + (i * scale + r) * outWidth, outWidth));
            }

        if (Tape.NeedsGrad(input))
            Tape.Record("UpsampleNearest2d", output, gradOutput =>
            {
                var dx = Tape.GradientTarget(input, out float beta);
                var dy = gradOutput.Span;
                for (int p = 0; p < planes; p++)
                    for (int i = 0; i < height; i++)
                        for (int j = 0; j < width; j++)
                        {
                            float sum = 0;
                            for (int r = 0; r < scale; r++)
                            {
                                int start = p * planeOut + (i * scale + r) * outWidth + j * scale;
                                for (int c = 0; c < scale; c++) sum += dy[start + c];
                            }
                            int index = p * planeIn + i * width + j;
                            dx[index] = beta == 0f ? sum : dx[index] + sum;
                        }
            }, input);
        if (OnnxTrace.Current is { } trace)
            trace.Bind(output, trace.Node("Resize", [trace.Value(input), "", trace.Constant("scales", [4], [1f, 1f, scale, scale])],
                OnnxTrace.Text("mode", "nearest"), OnnxTrace.Text("coordinate_transformation_mode", "asymmetric"), OnnxTrace.Text("nearest_mode", "floor")));
        return output;
    }

    private static void AddChannelBias(Span<float> output, ReadOnlySpan<float> bias, int batch, int plane)
    {
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < bias.Length; c++)
            {
                var slice = output.Slice((n * bias.Length + c) * plane, plane);
                System.Numerics.Tensors.TensorPrimitives.Add(slice, bias[c], slice);
            }
    }

    private static void SumPerChannel(ReadOnlySpan<float> gradOutput, Span<float> db, float beta, int batch, int plane)
    {
        for (int c = 0; c < db.Length; c++)
        {
            double sum = 0;
            for (int n = 0; n < batch; n++) sum += System.Numerics.Tensors.TensorPrimitives.Sum(gradOutput.Slice((n * db.Length + c) * plane, plane));
            db[c] = beta == 0f ? (float)sum : db[c] + (float)sum;
        }
    }
}
