using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// 2-D max pooling over [N, C, H, W]; the stride defaults to the kernel, the window's taps are
/// <see cref="Dilation"/> apart, and <see cref="CeilMode"/> rounds the output size up (PyTorch's
/// MaxPool2d). No parameters.
/// </summary>
public sealed record MaxPool2dConfig((int Height, int Width) KernelSize, (int Height, int Width)? Stride = null, (int Height, int Width) Padding = default,
    (int Height, int Width)? Dilation = null, bool CeilMode = false);

public sealed class MaxPool2d : Module, IConfigurable<MaxPool2d, MaxPool2dConfig>
{
    public MaxPool2dConfig GetConfig() => new(KernelSize, Stride, Padding, Dilation, CeilMode);
    public static MaxPool2d FromConfig(MaxPool2dConfig c, Rng? rng) => new(c.KernelSize, c.Stride, c.Padding, c.Dilation, c.CeilMode);

    public MaxPool2d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
        : this((kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding), (dilation, dilation), ceilMode) { }

    public MaxPool2d((int Height, int Width) kernelSize, (int Height, int Width)? stride = null, (int Height, int Width) padding = default,
        (int Height, int Width)? dilation = null, bool ceilMode = false)
    {
        (KernelSize, Stride, Padding, Dilation, CeilMode) = (kernelSize, stride ?? kernelSize, padding, dilation ?? (1, 1), ceilMode);
        PoolingConfig.Validate("MaxPool2d", KernelSize, Stride, Padding, Dilation);
    }

    public (int Height, int Width) KernelSize { get; }
    public (int Height, int Width) Stride { get; }
    public (int Height, int Width) Padding { get; }
    public (int Height, int Width) Dilation { get; }
    public bool CeilMode { get; }

    protected override Tensor Forward(Tensor input) => F.MaxPool2d(input, KernelSize, Stride, Padding, Dilation, CeilMode);

    public override Shape OutputShape(Shape input) => F.Pool2dOutputShape(Describe(), input, KernelSize, Stride, Padding, Dilation, CeilMode);

    public override (int Kernel, int Stride, int Dilation)? Window => (KernelSize.Width, Stride.Width, Dilation.Width);

    public override string Describe() => PoolingConfig.Describe("MaxPool2d", KernelSize, Stride, Padding, Dilation, CeilMode, countIncludePad: true);
}

/// <summary>
/// 2-D average pooling over [N, C, H, W]: padding counts as zeros in the average unless
/// <see cref="CountIncludePad"/> is false; <see cref="CeilMode"/> rounds the output size up
/// (PyTorch's AvgPool2d). No parameters.
/// </summary>
public sealed record AvgPool2dConfig((int Height, int Width) KernelSize, (int Height, int Width)? Stride = null, (int Height, int Width) Padding = default,
    bool CeilMode = false, bool CountIncludePad = true);

public sealed class AvgPool2d : Module, IConfigurable<AvgPool2d, AvgPool2dConfig>
{
    public AvgPool2dConfig GetConfig() => new(KernelSize, Stride, Padding, CeilMode, CountIncludePad);
    public static AvgPool2d FromConfig(AvgPool2dConfig c, Rng? rng) => new(c.KernelSize, c.Stride, c.Padding, c.CeilMode, c.CountIncludePad);

    public AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
        : this((kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding), ceilMode, countIncludePad) { }

    public AvgPool2d((int Height, int Width) kernelSize, (int Height, int Width)? stride = null, (int Height, int Width) padding = default,
        bool ceilMode = false, bool countIncludePad = true)
    {
        (KernelSize, Stride, Padding, CeilMode, CountIncludePad) = (kernelSize, stride ?? kernelSize, padding, ceilMode, countIncludePad);
        PoolingConfig.Validate("AvgPool2d", KernelSize, Stride, Padding, (1, 1));
    }

    public (int Height, int Width) KernelSize { get; }
    public (int Height, int Width) Stride { get; }
    public (int Height, int Width) Padding { get; }
    public bool CeilMode { get; }
    public bool CountIncludePad { get; }

    protected override Tensor Forward(Tensor input) => F.AvgPool2d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad);

    public override Shape OutputShape(Shape input) => F.Pool2dOutputShape(Describe(), input, KernelSize, Stride, Padding, (1, 1), CeilMode);

    public override (int Kernel, int Stride, int Dilation)? Window => (KernelSize.Width, Stride.Width, 1);

    public override string Describe() => PoolingConfig.Describe("AvgPool2d", KernelSize, Stride, Padding, (1, 1), CeilMode, CountIncludePad);
}

/// <summary>1-D max pooling over [N, C, L]; the stride defaults to the kernel (PyTorch's MaxPool1d). No parameters.</summary>
public sealed record MaxPool1dConfig(int KernelSize, int? Stride = null, int Padding = 0, int Dilation = 1, bool CeilMode = false);

public sealed class MaxPool1d : Module, IConfigurable<MaxPool1d, MaxPool1dConfig>
{
    public MaxPool1dConfig GetConfig() => new(KernelSize, Stride, Padding, Dilation, CeilMode);
    public static MaxPool1d FromConfig(MaxPool1dConfig c, Rng? rng) => new(c.KernelSize, c.Stride, c.Padding, c.Dilation, c.CeilMode);

    public MaxPool1d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
    {
        (KernelSize, Stride, Padding, Dilation, CeilMode) = (kernelSize, stride ?? kernelSize, padding, dilation, ceilMode);
        PoolingConfig.Validate("MaxPool1d", (1, KernelSize), (1, Stride), (0, Padding), (1, Dilation));
    }

    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int Dilation { get; }
    public bool CeilMode { get; }

    protected override Tensor Forward(Tensor input) => F.MaxPool1d(input, KernelSize, Stride, Padding, Dilation, CeilMode);

    public override Shape OutputShape(Shape input) => F.Pool1dOutputShape(Describe(), input, KernelSize, Stride, Padding, Dilation, CeilMode);

    public override (int Kernel, int Stride, int Dilation)? Window => (KernelSize, Stride, Dilation);

    public override string Describe() =>
        PoolingConfig.Describe("MaxPool1d", (KernelSize, KernelSize), (Stride, Stride), (Padding, Padding), (Dilation, Dilation), CeilMode, countIncludePad: true);
}

/// <summary>1-D average pooling over [N, C, L] (PyTorch's AvgPool1d, options as <see cref="AvgPool2d"/>). No parameters.</summary>
public sealed record AvgPool1dConfig(int KernelSize, int? Stride = null, int Padding = 0, bool CeilMode = false, bool CountIncludePad = true);

public sealed class AvgPool1d : Module, IConfigurable<AvgPool1d, AvgPool1dConfig>
{
    public AvgPool1dConfig GetConfig() => new(KernelSize, Stride, Padding, CeilMode, CountIncludePad);
    public static AvgPool1d FromConfig(AvgPool1dConfig c, Rng? rng) => new(c.KernelSize, c.Stride, c.Padding, c.CeilMode, c.CountIncludePad);

    public AvgPool1d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
    {
        (KernelSize, Stride, Padding, CeilMode, CountIncludePad) = (kernelSize, stride ?? kernelSize, padding, ceilMode, countIncludePad);
        PoolingConfig.Validate("AvgPool1d", (1, KernelSize), (1, Stride), (0, Padding), (1, 1));
    }

    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }
    public bool CeilMode { get; }
    public bool CountIncludePad { get; }

    protected override Tensor Forward(Tensor input) => F.AvgPool1d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad);

    public override Shape OutputShape(Shape input) => F.Pool1dOutputShape(Describe(), input, KernelSize, Stride, Padding, 1, CeilMode);

    public override (int Kernel, int Stride, int Dilation)? Window => (KernelSize, Stride, 1);

    public override string Describe() =>
        PoolingConfig.Describe("AvgPool1d", (KernelSize, KernelSize), (Stride, Stride), (Padding, Padding), (1, 1), CeilMode, CountIncludePad);
}

/// <summary>
/// The mean of each channel: [N, C, H, W] → [N, C, 1, 1] (PyTorch's AdaptiveAvgPool2d(1)). No
/// parameters. It has no fixed <see cref="Module.Window"/>: its window is the whole input, so
/// its receptive field is the whole image.
/// </summary>
public sealed class GlobalAvgPool2d : Module, IConfigless<GlobalAvgPool2d>
{
    protected override Tensor Forward(Tensor input) => F.GlobalAvgPool2d(input);

    public override Shape OutputShape(Shape input) => F.GlobalAvgPoolOutputShape(Describe(), input);

    public override string Describe() => "GlobalAvgPool2d";
}

/// <summary>
/// Average pooling of [N, C, H, W] to a fixed [N, C, OH, OW] whatever the input's size
/// (PyTorch's AdaptiveAvgPool2d): output (i, j) averages rows floor(i·H/OH) to
/// ceil((i+1)·H/OH) − 1 and the columns likewise. No parameters, and no fixed
/// <see cref="Module.Window"/> (its windows follow the input's size).
/// </summary>
public sealed record AdaptiveAvgPool2dConfig((int Height, int Width) OutputSize);

public sealed class AdaptiveAvgPool2d : Module, IConfigurable<AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig>
{
    public AdaptiveAvgPool2dConfig GetConfig() => new(OutputSize);
    public static AdaptiveAvgPool2d FromConfig(AdaptiveAvgPool2dConfig c, Rng? rng) => new(c.OutputSize);

    public AdaptiveAvgPool2d(int outputSize) : this((outputSize, outputSize)) { }

    public AdaptiveAvgPool2d((int Height, int Width) outputSize)
    {
        if (outputSize.Height < 1 || outputSize.Width < 1)
            throw new ArgumentException($"AdaptiveAvgPool2d needs an output size of at least 1, got {PoolingConfig.Format(outputSize)}.");
        OutputSize = outputSize;
    }

    public (int Height, int Width) OutputSize { get; }

    protected override Tensor Forward(Tensor input) => F.AdaptiveAvgPool2d(input, OutputSize);

    public override Shape OutputShape(Shape input) => F.AdaptiveAvgPool2dOutputShape(Describe(), input, OutputSize);

    public override string Describe() => $"AdaptiveAvgPool2d({PoolingConfig.Format(OutputSize)})";
}

/// <summary>What the pooling layers share: the constructor checks (those that need no input shape), the description.</summary>
internal static class PoolingConfig
{
    public static void Validate(string layer, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding, (int Height, int Width) dilation)
    {
        if (kernel.Height < 1 || kernel.Width < 1) throw new ArgumentException($"{layer} needs a kernel size of at least 1, got {Format(kernel)}.");
        if (stride.Height < 1 || stride.Width < 1) throw new ArgumentException($"{layer} needs a stride of at least 1, got {Format(stride)} (a stride of 0 would never move the window).");
        if (dilation.Height < 1 || dilation.Width < 1) throw new ArgumentException($"{layer} needs a dilation of at least 1, got {Format(dilation)}.");
        if (padding.Height < 0 || padding.Width < 0) throw new ArgumentException($"{layer} needs a non-negative padding, got {Format(padding)}.");
        if (padding.Height > kernel.Height / 2 || padding.Width > kernel.Width / 2)
            throw new ArgumentException($"{layer}: the padding {Format(padding)} must be at most half the kernel size {Format(kernel)}.");
    }

    /// <summary>"MaxPool2d(2, stride 2)", "AvgPool2d(3, stride 1, padding 1, padding not counted)", "MaxPool2d(3, stride 2, ceil mode)", "MaxPool2d(2x3, stride 1x2)".</summary>
    public static string Describe(string layer, (int Height, int Width) kernel, (int Height, int Width) stride, (int Height, int Width) padding,
        (int Height, int Width) dilation, bool ceilMode, bool countIncludePad) =>
        $"{layer}({Format(kernel)}, stride {Format(stride)}" + (padding != (0, 0) ? $", padding {Format(padding)}" : "")
        + (dilation != (1, 1) ? $", dilation {Format(dilation)}" : "") + (ceilMode ? ", ceil mode" : "") + (countIncludePad ? "" : ", padding not counted") + ")";

    public static string Format((int Height, int Width) size) => size.Height == size.Width ? $"{size.Height}" : $"{size.Height}x{size.Width}";
}
