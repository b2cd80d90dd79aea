using Sinapse.Init;
using Sinapse.Kernels;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>The arguments of a <see cref="Conv1d"/> or <see cref="Conv2d"/> (the initialisers are not saved: the weights are).</summary>
public sealed record ConvolutionConfig(int InChannels, int OutChannels, int KernelSize, int Stride = 1, Padding Padding = default, int Dilation = 1, int Groups = 1, bool Bias = true);

/// <summary>
/// What Conv1d and Conv2d share: C_out filters of C_in/groups × k (× k) weights and C_out
/// biases, the argument checks, the padding, the initialisation and the output-size formula.
/// </summary>
public abstract class ConvolutionLayer : Module
{
    private protected ConvolutionLayer(string kind, int spatialAxes, int inChannels, int outChannels, int kernelSize, int stride, Padding padding, int dilation, int groups,
        bool useBias, Initializer? weightInit, Initializer? biasInit, Rng? rng)
    {
        if (inChannels <= 0 || outChannels <= 0) throw new ArgumentException($"{kind} needs positive channel counts, got {inChannels} -> {outChannels}.");
        if (kernelSize <= 0) throw new ArgumentException($"{kind} needs a kernel size of at least 1, got {kernelSize}.");
        if (stride <= 0) throw new ArgumentException($"{kind} needs a stride of at least 1, got {stride}.");
        if (dilation <= 0) throw new ArgumentException($"{kind} needs a dilation of at least 1, got {dilation}.");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{kind}: groups = {groups} must divide both the input channels ({inChannels}) and the output channels ({outChannels}).");
        (Kind, InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups) = (kind, inChannels, outChannels, kernelSize, stride, padding, dilation, groups);
        (PadBegin, PadEnd) = padding.Resolve(kernelSize, dilation, stride, Describe());
        WeightInit = weightInit ?? Initializer.GlorotUniform();
        BiasInit = biasInit ?? Initializer.Zeros();
        Taps = spatialAxes == 2 ? kernelSize * kernelSize : kernelSize;
        int[] weightShape = spatialAxes == 2 ? [outChannels, inChannels / groups, kernelSize, kernelSize] : [outChannels, inChannels / groups, kernelSize];
        Weight = RegisterParameter("weight", Tensor.Empty(weightShape));
        if (useBias) Bias = RegisterParameter("bias", Tensor.Empty(outChannels));
        ResetParameters(rng);
    }

    public ConvolutionConfig GetConfig() => new(InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups, Bias != null);

    private string Kind { get; }
    private int Taps { get; }
    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public Padding Padding { get; }
    public int Dilation { get; }
    public int Groups { get; }
    /// <summary>Zero padding before and after the input along each spatial axis ("same" may pad one more after); under
    /// TensorFlow's "SAME" with a stride the padding depends on the input size: see <see cref="PaddingFor"/>.</summary>
    public int PadBegin { get; }
    public int PadEnd { get; }
    public Initializer WeightInit { get; }
    public Initializer BiasInit { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    /// <summary>Fan-in C_in/groups·taps and fan-out C_out/groups·taps, (taps = k·k in 2-D, k in 1-D), as the course defines them for convolutions.</summary>
    public void ResetParameters(Rng? rng = null)
    {
        rng ??= Rng.Global;
        int fanIn = InChannels / Groups * Taps, fanOut = OutChannels / Groups * Taps;
        WeightInit.Fill(Weight.Span, fanIn, fanOut, rng);
        if (Bias != null) BiasInit.Fill(Bias.Span, fanIn, fanOut, rng);
    }

    public override (int Kernel, int Stride, int Dilation)? Window => (KernelSize, Stride, Dilation);

    /// <summary>The padding before and after an axis of <paramref name="size"/> positions: <see cref="PadBegin"/> and
    /// <see cref="PadEnd"/>, except under TensorFlow's "SAME" with a stride, where it depends on the size.</summary>
    public (int Begin, int End) PaddingFor(int size) =>
        Padding.IsTensorFlowSame ? Padding.Resolve(size, KernelSize, Dilation, Stride, Kind) : (PadBegin, PadEnd);

    /// <summary>⌊(w + padding − d·(f − 1) − 1) / p⌋ + 1, i.e. the course's ⌊(w − f + 2b)/p⌋ + 1 for d = 1.</summary>
    private protected int OutputSize(Shape input, int size)
    {
        int span = Dilation * (KernelSize - 1) + 1;
        var (begin, end) = PaddingFor(size);
        int padded = size + begin + end;
        if (padded < span)
            throw new ArgumentException($"{Describe()}: the input {input} is too small: a kernel spanning {span} positions needs at least {span} (padded) positions per axis, the input has {padded}.");
        return (padded - span) / Stride + 1;
    }

    private protected void ExpectInput(Shape input, int rank, string layout)
    {
        if (input.Rank != rank) throw new ArgumentException($"{Describe()} expects [{layout}], got {input}.");
        ExpectFeatures(input, 1, InChannels, "input channels");
    }

    public override string Describe() =>
        $"{Kind}({InChannels} -> {OutChannels}, k={KernelSize}" + (Stride != 1 ? $", stride {Stride}" : "") + (Padding != Padding.Valid ? $", pad {Padding}" : "") +
        (Dilation != 1 ? $", dilation {Dilation}" : "") + (Groups != 1 ? (Groups == InChannels && Groups == OutChannels ? ", depthwise" : $", groups {Groups}") : "") +
        (Bias != null || Weight == null ? "" : ", no bias") + ")";
}

/// <summary>
/// 2-D convolution (cross-correlation) over [N, C_in, H, W]: C_out filters of C_in/groups × k × k
/// weights and C_out biases; groups = C_in = C_out is a depthwise convolution.
/// </summary>
public sealed class Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, Padding padding = default, int dilation = 1, int groups = 1,
    bool useBias = true, Initializer? weightInit = null, Initializer? biasInit = null, Rng? rng = null)
    : ConvolutionLayer("Conv2d", 2, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, useBias, weightInit, biasInit, rng), IConfigurable<Conv2d, ConvolutionConfig>
{
    public static Conv2d FromConfig(ConvolutionConfig c, Rng? rng) => new(c.InChannels, c.OutChannels, c.KernelSize, c.Stride, c.Padding, c.Dilation, c.Groups, c.Bias, rng: rng);

    protected override Tensor Forward(Tensor input) => Forward(input, FusedActivation.None);

    /// <summary>The forward pass with a ReLU or hard-swish applied to the output (in the convolution's own pass, in inference).</summary>
    internal Tensor Forward(Tensor input, FusedActivation activation)
    {
        if (!Padding.IsTensorFlowSame || input.Rank != 4)
            return F.Conv2d(input, Weight, Bias, new ConvGeometry2d(Stride, Stride, PadBegin, PadBegin, PadEnd, PadEnd, Dilation, Dilation, Groups), activation);
        var (top, bottom) = PaddingFor(input.Shape[2]);
        var (left, right) = PaddingFor(input.Shape[3]);
        return F.Conv2d(input, Weight, Bias, new ConvGeometry2d(Stride, Stride, top, left, bottom, right, Dilation, Dilation, Groups), activation);
    }

    public override Shape OutputShape(Shape input)
    {
        ExpectInput(input, 4, "batch, channels, height, width");
        return new Shape(input[0], OutChannels, OutputSize(input, input[2]), OutputSize(input, input[3]));
    }
}

/// <summary>1-D convolution over [N, C_in, L] (a moving average is one with weights 1/k).</summary>
public sealed class Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, Padding padding = default, int dilation = 1, int groups = 1,
    bool useBias = true, Initializer? weightInit = null, Initializer? biasInit = null, Rng? rng = null)
    : ConvolutionLayer("Conv1d", 1, inChannels, outChannels, kernelSize, stride, padding, dilation, groups, useBias, weightInit, biasInit, rng), IConfigurable<Conv1d, ConvolutionConfig>
{
    public static Conv1d FromConfig(ConvolutionConfig c, Rng? rng) => new(c.InChannels, c.OutChannels, c.KernelSize, c.Stride, c.Padding, c.Dilation, c.Groups, c.Bias, rng: rng);

    protected override Tensor Forward(Tensor input)
    {
        var (begin, end) = input.Rank == 3 ? PaddingFor(input.Shape[2]) : (PadBegin, PadEnd);
        return F.Conv1d(input, Weight, Bias, Stride, begin, end, Dilation, Groups);
    }

    public override Shape OutputShape(Shape input)
    {
        ExpectInput(input, 3, "batch, channels, length");
        return new Shape(input[0], OutChannels, OutputSize(input, input[2]));
    }
}
