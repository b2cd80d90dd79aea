using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>2-D max pooling over [N, C, H, W]; the stride defaults to the kernel. No parameters.</summary>
public sealed class MaxPool2d : Module
{
    public MaxPool2d(int kernelSize, int? stride = null, int padding = 0)
        : this((kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding)) { }

    public MaxPool2d((int Height, int Width) kernelSize, (int Height, int Width)? stride = null, (int Height, int Width) padding = default)
    {
        (KernelSize, Stride, Padding) = (kernelSize, stride ?? kernelSize, padding);
        PoolingConfig.Validate("MaxPool2d", KernelSize, Stride, Padding);
    }

    public (int Height, int Width) KernelSize { get; }
    public (int Height, int Width) Stride { get; }
    public (int Height, int Width) Padding { get; }

    public override Tensor Forward(Tensor input) => F.MaxPool2d(input, KernelSize, Stride, Padding);

    public override Shape OutputShape(Shape input) => F.Pool2dOutputShape(Describe(), input, KernelSize, Stride, Padding);

    public override (int Kernel, int Stride, int Dilation)? Window => PoolingConfig.Window(KernelSize, Stride);

    public override string Describe() => PoolingConfig.Describe("MaxPool2d", KernelSize, Stride, Padding);
}

/// <summary>2-D average pooling over [N, C, H, W] (padding counts as zeros in the average). No parameters.</summary>
public sealed class AvgPool2d : Module
{
    public AvgPool2d(int kernelSize, int? stride = null, int padding = 0)
        : this((kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding)) { }

    public AvgPool2d((int Height, int Width) kernelSize, (int Height, int Width)? stride = null, (int Height, int Width) padding = default)
    {
        (KernelSize, Stride, Padding) = (kernelSize, stride ?? kernelSize, padding);
        PoolingConfig.Validate("AvgPool2d", KernelSize, Stride, Padding);
    }

    public (int Height, int Width) KernelSize { get; }
    public (int Height, int Width) Stride { get; }
    public (int Height, int Width) Padding { get; }

    public override Tensor Forward(Tensor input) => F.AvgPool2d(input, KernelSize, Stride, Padding);

    public override Shape OutputShape(Shape input) => F.Pool2dOutputShape(Describe(), input, KernelSize, Stride, Padding);

    public override (int Kernel, int Stride, int Dilation)? Window => PoolingConfig.Window(KernelSize, Stride);

    public override string Describe() => PoolingConfig.Describe("AvgPool2d", KernelSize, Stride, Padding);
}

/// <summary>1-D max pooling over [N, C, L]; the stride defaults to the kernel. No parameters.</summary>
public sealed class MaxPool1d : Module
{
    public MaxPool1d(int kernelSize, int? stride = null, int padding = 0)
    {
        (KernelSize, Stride, Padding) = (kernelSize, stride ?? kernelSize, padding);
        PoolingConfig.Validate("MaxPool1d", (1, KernelSize), (1, Stride), (0, Padding));
    }

    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }

    public override Tensor Forward(Tensor input) => F.MaxPool1d(input, KernelSize, Stride, Padding);

    public override Shape OutputShape(Shape input) => F.Pool1dOutputShape(Describe(), input, KernelSize, Stride, Padding);

    public override (int Kernel, int Stride, int Dilation)? Window => (KernelSize, Stride, 1);

    public override string Describe() => PoolingConfig.Describe("MaxPool1d", (KernelSize, KernelSize), (Stride, Stride), (Padding, Padding));
}

/// <summary>1-D average pooling over [N, C, L] (padding counts as zeros in the average). No parameters.</summary>
public sealed class AvgPool1d : Module
{
    public AvgPool1d(int kernelSize, int? stride = null, int padding = 0)
    {
        (KernelSize, Stride, Padding) = (kernelSize, stride ?? kernelSize, padding);
        PoolingConfig.Validate("AvgPool1d", (1, KernelSize), (1, Stride), (0, Padding));
    }

    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }

    public override Tensor Forward(Tensor input) => F.AvgPool1d(input, KernelSize, Stride, Padding);

    public override Shape OutputShape(Shape input) => F.Pool1dOutputShape(Describe(), input, KernelSize, Stride, Padding);

    public override (int Kernel, int Stride, int Dilation)? Window => (KernelSize, Stride, 1);

    public override string Describe() => PoolingConfig.Describe("AvgPool1d", (KernelSize, KernelSize), (Stride, Stride), (Padding, Padding));
}

/// <summary>
/// The mean of each channel: [N, C, H, W] → [N, C, 1, 1] (PyTorch's AdaptiveAvgPool2d(1)). No
/// parameters. It has no fixed <see cref="Module.Window"/>: its window is the whole input, so
/// its receptive field is the whole image.
/// </summary>
public sealed class GlobalAvgPool2d : Module
{
    public override Tensor Forward(Tensor input) => F.GlobalAvgPool2d(input);

    public override Shape OutputShape(Shape input) => F.GlobalAvgPoolOutputShape(Describe(), input);

    public override string Describe() => "GlobalAvgPool2d";
}

/// <summary>What the pooling layers share: the constructor checks (those that need no input shape), the window, the description.</summary>
internal static class PoolingConfig
{
    public static void Validate(string layer, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding)
    {
        if (kernel.Height < 1 || kernel.Width < 1) throw new ArgumentException($"{layer} needs a kernel size of at least 1, got {Format(kernel)}.");
        if (stride.Height < 1 || stride.Width < 1) throw new ArgumentException($"{layer} needs a stride of at least 1, got {Format(stride)} (a stride of 0 would never move the window).");
        if (padding.Height < 0 || padding.Width < 0) throw new ArgumentException($"{layer} needs a non-negative padding, got {Format(padding)}.");
        if (padding.Height > kernel.Height / 2 || padding.Width > kernel.Width / 2)
            throw new ArgumentException($"{layer}: the padding {Format(padding)} must be at most half the kernel size {Format(kernel)}.");
    }

    /// <summary>The window along the width (the only axis of 1-D pooling; the same as the height for square windows).</summary>
    public static (int Kernel, int Stride, int Dilation) Window((int Height, int Width) kernel, (int Height, int Width) stride) =>
        (kernel.Width, stride.Width, 1);

    /// <summary>"MaxPool2d(2, stride 2)", "AvgPool2d(3, stride 1, padding 1)", "MaxPool2d(2x3, stride 1x2)".</summary>
    public static string Describe(string layer, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding) =>
        $"{layer}({Format(kernel)}, stride {Format(stride)}" + (padding != (0, 0) ? $", padding {Format(padding)}" : "") + ")";

    static string Format((int Height, int Width) size) => size.Height == size.Width ? $"{size.Height}" : $"{size.Height}x{size.Width}";
}
