using Sinapse.Init;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// Transposed 2-D convolution (PyTorch's nn.ConvTranspose2d), the learned upsampling of a
/// decoder: weight [C_in, C_out/groups, k, k], bias [C_out]; each axis grows to
/// (size − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1, so k = stride = 2 doubles it.
/// </summary>
public sealed class ConvTranspose2d : Module
{
    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int outputPadding = 0, int dilation = 1, int groups = 1,
        bool useBias = true, Initializer? weightInit = null, Initializer? biasInit = null, Rng? rng = null)
    {
        if (inChannels <= 0 || outChannels <= 0) throw new ArgumentException($"ConvTranspose2d needs positive channel counts, got {inChannels} -> {outChannels}.");
        if (kernelSize <= 0 || stride <= 0 || dilation <= 0 || padding < 0)
            throw new ArgumentException($"ConvTranspose2d needs kernel size, stride and dilation of at least 1 and padding of at least 0, got k={kernelSize}, stride {stride}, dilation {dilation}, padding {padding}.");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"ConvTranspose2d: groups = {groups} must divide both the input channels ({inChannels}) and the output channels ({outChannels}).");
        if (outputPadding < 0 || (outputPadding >= stride && outputPadding >= dilation))
            throw new ArgumentException($"ConvTranspose2d: the output padding ({outputPadding}) must be smaller than the stride ({stride}) or the dilation ({dilation}).");
        (InChannels, OutChannels, KernelSize, Stride, Padding, OutputPadding, Dilation, Groups) = (inChannels, outChannels, kernelSize, stride, padding, outputPadding, dilation, groups);
        WeightInit = weightInit ?? Initializer.GlorotUniform();
        BiasInit = biasInit ?? Initializer.Zeros();
        Weight = RegisterParameter("weight", Tensor.Empty(inChannels, outChannels / groups, kernelSize, kernelSize));
        if (useBias) Bias = RegisterParameter("bias", Tensor.Empty(outChannels));
        ResetParameters(rng);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelSize { get; }
    public int Stride { get; }
    public int Padding { get; }
    public int OutputPadding { get; }
    public int Dilation { get; }
    public int Groups { get; }
    public Initializer WeightInit { get; }
    public Initializer BiasInit { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    /// <summary>Fans as PyTorch computes them from the weight's dimensions 1 and 0: fan-in = C_out/groups·k², fan-out = C_in·k².</summary>
    public void ResetParameters(Rng? rng = null)
    {
        rng ??= Rng.Global;
        int taps = KernelSize * KernelSize, fanIn = OutChannels / Groups * taps, fanOut = InChannels * taps;
        WeightInit.Fill(Weight.Span, fanIn, fanOut, rng);
        if (Bias != null) BiasInit.Fill(Bias.Span, fanIn, fanOut, rng);
    }

    public override Tensor Forward(Tensor input) => F.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding, Dilation, Groups);

    public override Shape OutputShape(Shape input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{Describe()} expects [batch, channels, height, width], got {input}.");
        ExpectFeatures(input, 1, InChannels, "input channels");
        int Size(int size) => (size - 1) * Stride - 2 * Padding + Dilation * (KernelSize - 1) + OutputPadding + 1;
        if (Size(input[2]) < 1 || Size(input[3]) < 1) throw new ArgumentException($"{Describe()}: the input {input} gives an empty output.");
        return new Shape(input[0], OutChannels, Size(input[2]), Size(input[3]));
    }

    public override string Describe() =>
        $"ConvTranspose2d({InChannels} -> {OutChannels}, k={KernelSize}" + (Stride != 1 ? $", stride {Stride}" : "") + (Padding != 0 ? $", pad {Padding}" : "") +
        (OutputPadding != 0 ? $", output pad {OutputPadding}" : "") + (Dilation != 1 ? $", dilation {Dilation}" : "") + (Groups != 1 ? $", groups {Groups}" : "") +
        (Bias != null ? "" : ", no bias") + ")";
}

/// <summary>Nearest-neighbour upsampling of [N, C, H, W] by an integer factor (PyTorch's nn.Upsample(scale_factor, mode="nearest")); no parameters.</summary>
public sealed class Upsample(int scale = 2) : Module
{
    public int Scale { get; } = scale >= 1 ? scale : throw new ArgumentException($"Upsample needs a scale factor of at least 1, got {scale}.");

    public override Tensor Forward(Tensor input) => F.UpsampleNearest2d(input, Scale);

    public override Shape OutputShape(Shape input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{Describe()} expects [batch, channels, height, width], got {input}.");
        return new Shape(input[0], input[1], input[2] * Scale, input[3] * Scale);
    }

    public override string Describe() => $"Upsample(x{Scale}, nearest)";
}

/// <summary>The inverse of <see cref="Flatten"/>: [N, F] → [N, ...dimensions] with F their product (PyTorch's nn.Unflatten(1, sizes)).</summary>
public sealed class Unflatten(params int[] dimensions) : Module
{
    public IReadOnlyList<int> Dimensions { get; } = dimensions.Length > 0 && dimensions.All(d => d > 0)
        ? dimensions : throw new ArgumentException($"Unflatten needs positive sizes, got [{string.Join(", ", dimensions)}].");

    public override Tensor Forward(Tensor input)
    {
        OutputShape(input.Shape);
        return F.Reshape(input, [input.Shape[0], .. Dimensions]);
    }

    public override Shape OutputShape(Shape input)
    {
        int size = Dimensions.Aggregate(1, (a, b) => a * b);
        if (input.Rank != 2 || input[1] != size)
            throw new ArgumentException($"{Describe()} expects [batch, {size}], got {input}.");
        return new Shape([input[0], .. Dimensions]);
    }

    public override string Describe() => $"Unflatten({string.Join("x", Dimensions)})";
}
