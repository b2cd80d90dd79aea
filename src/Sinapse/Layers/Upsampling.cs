using Sinapse.Init;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// Transposed 2-D convolution (PyTorch's nn.ConvTranspose2d), the learned upsampling of a
/// decoder: weight [C_in, C_out/groups, kH, kW], bias [C_out]; each axis grows to
/// (size − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1, so k = stride = 2 doubles
/// it. Every hyper-parameter is one number for both axes or a (height, width) pair; the output
/// padding must be smaller than the stride or the dilation on each axis.
/// </summary>
/// <summary>The arguments of a <see cref="ConvTranspose2d"/> (the initialisers are not saved: the weights are).</summary>
public sealed record ConvTranspose2dConfig(int InChannels, int OutChannels, (int Height, int Width) KernelSize, (int Height, int Width)? Stride = null, Padding Padding = default,
    (int Height, int Width) OutputPadding = default, (int Height, int Width)? Dilation = null, int Groups = 1, bool Bias = true);

public sealed class ConvTranspose2d : Module, IConfigurable<ConvTranspose2d, ConvTranspose2dConfig>
{
    public ConvTranspose2dConfig GetConfig() => new(InChannels, OutChannels, KernelSize, Stride, Padding, OutputPadding, Dilation, Groups, Bias != null);
    public static ConvTranspose2d FromConfig(ConvTranspose2dConfig c, Rng? rng) =>
        new(c.InChannels, c.OutChannels, c.KernelSize, c.Stride, c.Padding, c.OutputPadding, c.Dilation, c.Groups, c.Bias, rng: rng);

    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride = 1, Padding padding = default, int outputPadding = 0, int dilation = 1, int groups = 1,
        bool useBias = true, Initializer? weightInit = null, Initializer? biasInit = null, Rng? rng = null)
        : this(inChannels, outChannels, (kernelSize, kernelSize), (stride, stride), padding, (outputPadding, outputPadding), (dilation, dilation), groups,
            useBias, weightInit, biasInit, rng) { }

    public ConvTranspose2d(int inChannels, int outChannels, (int Height, int Width) kernelSize, (int Height, int Width)? stride = null, Padding padding = default,
        (int Height, int Width) outputPadding = default, (int Height, int Width)? dilation = null, int groups = 1,
        bool useBias = true, Initializer? weightInit = null, Initializer? biasInit = null, Rng? rng = null)
    {
        (InChannels, OutChannels, KernelSize, Stride, Padding, OutputPadding, Dilation, Groups) =
            (inChannels, outChannels, kernelSize, stride ?? (1, 1), padding, outputPadding, dilation ?? (1, 1), groups);
        Validate();
        WeightInit = weightInit ?? Initializer.GlorotUniform();
        BiasInit = biasInit ?? Initializer.Zeros();
        Weight = RegisterParameter("weight", Tensor.Empty(inChannels, outChannels / groups, kernelSize.Height, kernelSize.Width));
        if (useBias) Bias = RegisterParameter("bias", Tensor.Empty(outChannels));
        ResetParameters(rng);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public (int Height, int Width) KernelSize { get; }
    public (int Height, int Width) Stride { get; }
    public Padding Padding { get; }
    public (int Height, int Width) OutputPadding { get; }
    public (int Height, int Width) Dilation { get; }
    public int Groups { get; }
    public Initializer WeightInit { get; }
    public Initializer BiasInit { get; }
    public Tensor Weight { get; }
    public Tensor? Bias { get; }

    private void Validate()
    {
        if (InChannels <= 0 || OutChannels <= 0) throw new ArgumentException($"ConvTranspose2d needs positive channel counts, got {InChannels} -> {OutChannels}.");
        if (KernelSize.Height <= 0 || KernelSize.Width <= 0 || Stride.Height <= 0 || Stride.Width <= 0 || Dilation.Height <= 0 || Dilation.Width <= 0)
            throw new ArgumentException($"ConvTranspose2d needs a kernel size, stride and dilation of at least 1, got k={Format(KernelSize)}, stride {Format(Stride)}, dilation {Format(Dilation)}.");
        if (Padding.IsSame) throw new ArgumentException($"ConvTranspose2d takes a number of positions as padding (as PyTorch's), got '{Padding}'.");
        if (Padding.Height < 0 || Padding.Width < 0 || OutputPadding.Height < 0 || OutputPadding.Width < 0)
            throw new ArgumentException($"ConvTranspose2d needs a padding and an output padding of 0 or more, got padding {Padding} and output padding {Format(OutputPadding)}.");
        if (Groups <= 0 || InChannels % Groups != 0 || OutChannels % Groups != 0)
            throw new ArgumentException($"ConvTranspose2d: groups = {Groups} must divide both the input channels ({InChannels}) and the output channels ({OutChannels}).");
        if (OutputPadding.Height >= Math.Max(Stride.Height, Dilation.Height) || OutputPadding.Width >= Math.Max(Stride.Width, Dilation.Width))
            throw new ArgumentException($"ConvTranspose2d: the output padding ({Format(OutputPadding)}) must be smaller than the stride ({Format(Stride)}) or the dilation ({Format(Dilation)}) on each axis.");
    }

    /// <summary>Fans as PyTorch computes them from the weight's dimensions 1 and 0: fan-in = C_out/groups·kH·kW, fan-out = C_in·kH·kW.</summary>
    public void ResetParameters(Rng? rng = null)
    {
        rng ??= Rng.Global;
        int taps = KernelSize.Height * KernelSize.Width, fanIn = OutChannels / Groups * taps, fanOut = InChannels * taps;
        WeightInit.Fill(Weight.Span, fanIn, fanOut, rng);
        if (Bias != null) BiasInit.Fill(Bias.Span, fanIn, fanOut, rng);
    }

    protected override Tensor Forward(Tensor input) =>
        F.ConvTranspose2d(input, Weight, Bias, Stride, (Padding.Height, Padding.Width), OutputPadding, Dilation, Groups);

    public override Shape OutputShape(Shape input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{Describe()} expects [batch, channels, height, width], got {input}.");
        ExpectFeatures(input, 1, InChannels, "input channels");
        int height = Size(input[2], KernelSize.Height, Stride.Height, Padding.Height, OutputPadding.Height, Dilation.Height);
        int width = Size(input[3], KernelSize.Width, Stride.Width, Padding.Width, OutputPadding.Width, Dilation.Width);
        if (height < 1 || width < 1) throw new ArgumentException($"{Describe()}: the input {input} gives an empty output ({height}x{width}).");
        return new Shape(input[0], OutChannels, height, width);
    }

    private static int Size(int size, int kernel, int stride, int padding, int outputPadding, int dilation) =>
        (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1;

    public override string Describe() =>
        $"ConvTranspose2d({InChannels} -> {OutChannels}, k={Format(KernelSize)}" + (Stride != (1, 1) ? $", stride {Format(Stride)}" : "") +
        (Padding != Padding.Valid ? $", pad {Padding}" : "") + (OutputPadding != (0, 0) ? $", output pad {Format(OutputPadding)}" : "") +
        (Dilation != (1, 1) ? $", dilation {Format(Dilation)}" : "") + (Groups != 1 ? $", groups {Groups}" : "") + (Bias != null ? "" : ", no bias") + ")";

    /// <summary>"2" for the same value on both axes, "2x1" otherwise (as the pooling layers describe theirs).</summary>
    private static string Format((int Height, int Width) value) => value.Height == value.Width ? $"{value.Height}" : $"{value.Height}x{value.Width}";
}

/// <summary>Nearest-neighbour upsampling of [N, C, H, W] by an integer factor (PyTorch's nn.Upsample(scale_factor, mode="nearest")); no parameters.</summary>
public sealed record UpsampleConfig(int Scale = 2);

public sealed class Upsample(int scale = 2) : Module, IConfigurable<Upsample, UpsampleConfig>
{
    public UpsampleConfig GetConfig() => new(Scale);
    public static Upsample FromConfig(UpsampleConfig c, Rng? rng) => new(c.Scale);

    public int Scale { get; } = scale >= 1 ? scale : throw new ArgumentException($"Upsample needs a scale factor of at least 1, got {scale}.");

    protected override Tensor Forward(Tensor input) => F.UpsampleNearest2d(input, Scale);

    public override Shape OutputShape(Shape input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{Describe()} expects [batch, channels, height, width], got {input}.");
        return new Shape(input[0], input[1], input[2] * Scale, input[3] * Scale);
    }

    public override string Describe() => $"Upsample(x{Scale}, nearest)";
}

/// <summary>The inverse of <see cref="Flatten"/>: [N, F] → [N, ...dimensions] with F their product (PyTorch's nn.Unflatten(1, sizes)).</summary>
public sealed record UnflattenConfig(IReadOnlyList<int> Dimensions);

public sealed class Unflatten(params int[] dimensions) : Module, IConfigurable<Unflatten, UnflattenConfig>
{
    public UnflattenConfig GetConfig() => new(Dimensions);
    public static Unflatten FromConfig(UnflattenConfig c, Rng? rng) => new([.. c.Dimensions]);

    public IReadOnlyList<int> Dimensions { get; } = dimensions.Length > 0 && dimensions.All(d => d > 0)
        ? dimensions : throw new ArgumentException($"Unflatten needs positive sizes, got [{string.Join(", ", dimensions)}].");

    protected override Tensor Forward(Tensor input)
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
