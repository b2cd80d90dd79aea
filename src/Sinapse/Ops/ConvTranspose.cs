using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// 2-D transposed convolution (PyTorch's conv_transpose2d): input [N, C_in, H, W], weight
    /// [C_in, C_out/groups, k, k] (PyTorch's layout), bias [C_out]; output [N, C_out, H_out, W_out]
    /// with H_out = (H − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1. It is the
    /// backward pass of the Conv2d that maps [N, C_out, H_out, W_out] back to the input's size, so
    /// it runs on the convolution kernels: forward = that Conv2d's input gradient, input gradient =
    /// that Conv2d's forward, weight gradient = that Conv2d's weight gradient with the roles swapped.
    /// Under <see cref="MixedPrecision.Autocast"/> it runs in 16 bits as Conv2d does.
    /// </summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int outputPadding = 0, int dilation = 1, int groups = 1)
    {
        const string op = "ConvTranspose2d";
        if (input.Rank != 4) throw new ArgumentException($"{op}: the input must be [batch, channels, height, width], got {input.Shape} (weight {weight.Shape}).");
        if (weight.Rank != 4) throw new ArgumentException($"{op}: the weight must be [in channels, out channels / groups, kernel height, kernel width], got {weight.Shape} (input {input.Shape}).");
        if (stride < 1 || dilation < 1 || padding < 0 || groups < 1)
            throw new ArgumentException($"{op}: stride ({stride}) and dilation ({dilation}) must be at least 1, padding ({padding}) at least 0 and groups ({groups}) at least 1.");
        if (outputPadding < 0 || (outputPadding >= stride && outputPadding >= dilation))
            throw new ArgumentException($"{op}: the output padding ({outputPadding}) must be smaller than the stride ({stride}) or the dilation ({dilation}).");
        if (input.Shape[1] != weight.Shape[0])
            throw new ArgumentException($"{op}: input {input.Shape} has {input.Shape[1]} channels but the weight {weight.Shape} expects {weight.Shape[0]}.");
        if (weight.Shape[0] % groups != 0)
            throw new ArgumentException($"{op}: groups = {groups} must divide the input channels ({weight.Shape[0]}).");
        int outChannels = weight.Shape[1] * groups;
        int OutSize(int size, int kernel) => (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1;
        int height = OutSize(input.Shape[2], weight.Shape[2]), width = OutSize(input.Shape[3], weight.Shape[3]);
        if (height < 1 || width < 1)
            throw new ArgumentException($"{op}: input {input.Shape} with weight {weight.Shape}, stride {stride}, padding {padding} gives an empty output ({height}x{width}).");
        if (bias != null && (bias.Rank != 1 || bias.Length != outChannels))
            throw new ArgumentException($"{op}: the bias must be [{outChannels}] for the weight {weight.Shape}, got {bias.Shape}.");

        // The Conv2d this op transposes: from the output [N, C_out, H_out, W_out] to the input's [N, C_in, H, W].
        var geometry = new ConvGeometry(input.Shape[0], outChannels, input.Shape[1], groups, height, width, weight.Shape[2], weight.Shape[3],
            stride, stride, padding, padding, padding, padding, dilation, dilation);
        geometry.Validate(op, input.Shape.ToString(), weight.Shape.ToString());
        int batch = input.Shape[0], plane = height * width;
        return Weighted(op, input, weight, bias, new Shape(batch, outChannels, height, width),
            (x, w, b, y) =>
            {
                // The conv's input gradient is the only one wanted, so the input span it checks is never read.
                Convolution.Backward(geometry, y, w, x, y, 0f, default, 0f, default, 0f);
                if (!b.IsEmpty) AddChannelBias(y, b, batch, plane);
            },
            (x, w, dy, dx, betaX, dw, betaW, db, betaB) =>
            {
                if (!dx.IsEmpty)
                {
                    if (betaX == 0f) Convolution.Forward(geometry, dy, w, default, dx);
                    else
                    {
                        using var scratch = TensorScope.Begin();
                        var partial = Tensor.Empty(dx.Length).Span;
                        Convolution.Forward(geometry, dy, w, default, partial);
                        System.Numerics.Tensors.TensorPrimitives.Add(dx, partial, dx);
                    }
                }
                if (!dw.IsEmpty) Convolution.Backward(geometry, dy, w, x, default, 0f, dw, betaW, default, 0f);
                if (!db.IsEmpty) SumPerChannel(dy, db, betaB, batch, plane);
            });
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
