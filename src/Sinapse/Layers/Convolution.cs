using Sinapse.Init;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// 2-D convolution (cross-correlation) over [N, C_in, H, W]: C_out filters of C_in/groups × k × k
/// weights and C_out biases; groups = C_in = C_out is a depthwise convolution.
/// </summary>
public sealed class Conv2d : Module
{
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, Padding padding = default, int dilation = 1, int groups = 1,
        bool useBias = true, Initializer? weightInit = null, Initializer? biasInit = null, Rng? rng = null)
    {
        ConvolutionConfig.Validate("Conv2d", inChannels, outChannels, kernelSize, stride, dilation, groups);
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups) = (inChannels, outChannels, kernelSize, stride, padding, dilation, groups);
        (PadBegin, PadEnd) = padding.Resolve(kernelSize, dilation, stride, Describe());
        WeightInit = weightInit ?? Initializer.GlorotUniform();
        BiasInit = biasInit ?? Initializer.Zeros();
        Weight = RegisterParameter("weight", Tensor.Empty(outChannels, inChannels / groups, kernelSize, kernelSize));
        if (useBias) Bias = RegisterParameter("bias", Tensor.Empty(outChannels));
        ResetParameters(rng);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public Padding Padding { get; }
    public int Dilation { get; }
    public int Groups { get; }
    public int PadBegin { get; }
    public int PadEnd { get; }
    public Initializer WeightInit { get; }
    public Initializer BiasInit { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    /// <summary>Fan-in C_in/groups·k·k and fan-out C_out/groups·k·k, as SPEC §2 defines them for convolutions.</summary>
    public void ResetParameters(Rng? rng = null)
    {
        rng ??= Rng.Global;
        int taps = KernelSize * KernelSize;
        WeightInit.Fill(Weight.Span, InChannels / Groups * taps, OutChannels / Groups * taps, rng);
        if (Bias != null) BiasInit.Fill(Bias.Span, InChannels / Groups * taps, OutChannels / Groups * taps, rng);
    }

    public override Tensor Forward(Tensor input) => F.Conv2d(input, Weight, Bias,
        new ConvGeometry2d(Stride, Stride, PadBegin, PadBegin, PadEnd, PadEnd, Dilation, Dilation, Groups));

    public override Shape OutputShape(Shape input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{Describe()} expects [batch, channels, height, width], got {input}.");
        ExpectFeatures(input, 1, InChannels, "input channels");
        int height = ConvolutionConfig.OutputSize(Describe(), input, input[2], KernelSize, Stride, PadBegin, PadEnd, Dilation);
        int width = ConvolutionConfig.OutputSize(Describe(), input, input[3], KernelSize, Stride, PadBegin, PadEnd, Dilation);
        return new Shape(input[0], OutChannels, height, width);
    }

    public override (int Kernel, int Stride, int Dilation)? Window => (KernelSize, Stride, Dilation);

    public override string Describe() => ConvolutionConfig.Describe("Conv2d", InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups, Bias != null);
}

/// <summary>1-D convolution over [N, C_in, L] (a moving average is one with weights 1/k).</summary>
public sealed class Conv1d : Module
{
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, Padding padding = default, int dilation = 1, int groups = 1,
        bool useBias = true, Initializer? weightInit = null, Initializer? biasInit = null, Rng? rng = null)
    {
        ConvolutionConfig.Validate("Conv1d", inChannels, outChannels, kernelSize, stride, dilation, groups);
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups) = (inChannels, outChannels, kernelSize, stride, padding, dilation, groups);
        (PadBegin, PadEnd) = padding.Resolve(kernelSize, dilation, stride, Describe());
        WeightInit = weightInit ?? Initializer.GlorotUniform();
        BiasInit = biasInit ?? Initializer.Zeros();
        Weight = RegisterParameter("weight", Tensor.Empty(outChannels, inChannels / groups, kernelSize));
        if (useBias) Bias = RegisterParameter("bias", Tensor.Empty(outChannels));
        ResetParameters(rng);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public Padding Padding { get; }
    public int Dilation { get; }
    public int Groups { get; }
    public int PadBegin { get; }
    public int PadEnd { get; }
    public Initializer WeightInit { get; }
    public Initializer BiasInit { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    public void ResetParameters(Rng? rng = null)
    {
        rng ??= Rng.Global;
        WeightInit.Fill(Weight.Span, InChannels / Groups * KernelSize, OutChannels / Groups * KernelSize, rng);
        if (Bias != null) BiasInit.Fill(Bias.Span, InChannels / Groups * KernelSize, OutChannels / Groups * KernelSize, rng);
    }

    public override Tensor Forward(Tensor input) => F.Conv1d(input, Weight, Bias, Stride, PadBegin, PadEnd, Dilation, Groups);

    public override Shape OutputShape(Shape input)
    {
        if (input.Rank != 3) throw new ArgumentException($"{Describe()} expects [batch, channels, length], got {input}.");
        ExpectFeatures(input, 1, InChannels, "input channels");
        return new Shape(input[0], OutChannels, ConvolutionConfig.OutputSize(Describe(), input, input[2], KernelSize, Stride, PadBegin, PadEnd, Dilation));
    }

    public override (int Kernel, int Stride, int Dilation)? Window => (KernelSize, Stride, Dilation);

    public override string Describe() => ConvolutionConfig.Describe("Conv1d", InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups, Bias != null);
}

/// <summary>What Conv1d and Conv2d share: argument checks, the output-size formula, the description.</summary>
internal static class ConvolutionConfig
{
    public static void Validate(string layer, int inChannels, int outChannels, int kernelSize, int stride, int dilation, int groups)
    {
        if (inChannels <= 0 || outChannels <= 0) throw new ArgumentException($"{layer} needs positive channel counts, got {inChannels} -> {outChannels}.");
        if (kernelSize <= 0) throw new ArgumentException($"{layer} needs a kernel size of at least 1, got {kernelSize}.");
        if (stride <= 0) throw new ArgumentException($"{layer} needs a stride of at least 1, got {stride}.");
        if (dilation <= 0) throw new ArgumentException($"{layer} needs a dilation of at least 1, got {dilation}.");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{layer}: groups = {groups} must divide both the input channels ({inChannels}) and the output channels ({outChannels}).");
    }

    /// <summary>⌊(w + padding − d·(f − 1) − 1) / p⌋ + 1, i.e. the course's ⌊(w − f + 2b)/p⌋ + 1 for d = 1.</summary>
    public static int OutputSize(string layer, Shape input, int size, int kernel, int stride, int padBegin, int padEnd, int dilation)
    {
        int span = dilation * (kernel - 1) + 1;
        int padded = size + padBegin + padEnd;
        if (padded < span)
            throw new ArgumentException($"{layer}: the input {input} is too small: a kernel spanning {span} positions needs at least {span} (padded) positions per axis, the input has {padded}.");
        return (padded - span) / stride + 1;
    }

    public static string Describe(string layer, int inChannels, int outChannels, int kernel, int stride, Padding padding, int dilation, int groups, bool bias) =>
        $"{layer}({inChannels} -> {outChannels}, k={kernel}" + (stride != 1 ? $", stride {stride}" : "") + (padding != Padding.Valid ? $", pad {padding}" : "") +
        (dilation != 1 ? $", dilation {dilation}" : "") + (groups != 1 ? (groups == inChannels && groups == outChannels ? ", depthwise" : $", groups {groups}") : "") +
        (bias ? "" : ", no bias") + ")";
}
