using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// The inverted residual with a linear bottleneck (Sandler et al., 2018): a 1×1 expansion to
/// many channels, a depthwise k×k convolution (carrying the stride), optionally
/// squeeze-and-excitation (MobileNetV3), and a linear 1×1 projection back to few channels —
/// each convolution followed by batch norm — with the input added to the output when the stride
/// is 1 and the channel counts match. The body is a Sequential whose name follows torchvision
/// ("conv" in MobileNetV2, "block" in V3), so parameter names match its state_dict.
/// </summary>
/// <param name="BodyName">The body's child name ("conv" in MobileNetV2, "block" in V3).</param>
public sealed record InvertedResidualConfig(int InChannels, int OutChannels, int Stride, Sequential Body, string BodyName = "block");

public sealed class InvertedResidual : Module, IConfigurable<InvertedResidual, InvertedResidualConfig>
{
    public InvertedResidualConfig GetConfig() => new(InChannels, OutChannels, Stride, Body, Children[0].Name);
    public static InvertedResidual FromConfig(InvertedResidualConfig c, Rng? rng) => new(c.Body, c.InChannels, c.OutChannels, c.Stride, c.BodyName);

    public InvertedResidual(Sequential body, int inChannels, int outChannels, int stride, string bodyName = "block")
    {
        ArgumentNullException.ThrowIfNull(body);
        (InChannels, OutChannels, Stride) = (inChannels, outChannels, stride);
        Body = RegisterModule(bodyName, body);
    }

    public Sequential Body { get; }

    public int InChannels { get; }

    public int OutChannels { get; }

    public int Stride { get; }

    /// <summary>Whether the input is added to the body's output: stride 1 and as many channels out as in.</summary>
    public bool UsesResidual => Stride == 1 && InChannels == OutChannels;

    /// <summary>
    /// MobileNetV2's block: [1×1 expansion to round(in·t) → BN → ReLU6, when t ≠ 1] → 3×3
    /// depthwise (stride) → BN → ReLU6 → 1×1 projection → BN. The projection is a bare Conv2d
    /// and BatchNorm2d in the body, as torchvision lays it out ("conv.2.weight", "conv.3.running_mean").
    /// Another <paramref name="activation"/> than "relu6" builds a variant.
    /// </summary>
    public static InvertedResidual MobileNetV2(int inChannels, int outChannels, int stride, int expandRatio, ConvNormOptions? options = null, string activation = "relu6")
    {
        if (stride is not (1 or 2)) throw new ArgumentException($"InvertedResidual: MobileNetV2's stride is 1 or 2, got {stride}.");
        options ??= new ConvNormOptions();
        int hidden = (int)Math.Round(inChannels * (double)expandRatio, MidpointRounding.ToEven);
        var body = new Sequential();
        if (expandRatio != 1) body.Add(options.ConvNormActivation(inChannels, hidden, 1, activation: activation));
        body.Add(options.ConvNormActivation(hidden, hidden, 3, stride, groups: hidden, activation: activation));
        body.Add(options.Conv(hidden, outChannels));
        if (!options.FoldedBatchNorm) body.Add(options.Norm(outChannels));
        return new InvertedResidual(body, inChannels, outChannels, stride, "conv");
    }

    /// <summary>
    /// MobileNetV3's block (one row of its table): [1×1 expansion → BN → act, when expanded ≠ in]
    /// → k×k depthwise (stride) → BN → act → [squeeze-and-excitation to ⌈expanded/4⌉₈] → 1×1
    /// projection → BN, with act ReLU or hard-swish ("relu", "hard_swish").
    /// </summary>
    public static InvertedResidual MobileNetV3(int inChannels, int kernelSize, int expandedChannels, int outChannels, bool squeezeExcitation, string activation, int stride,
        ConvNormOptions? options = null)
    {
        if (stride is not (1 or 2)) throw new ArgumentException($"InvertedResidual: MobileNetV3's stride is 1 or 2, got {stride}.");
        options ??= new ConvNormOptions();
        var body = new Sequential();
        if (expandedChannels != inChannels) body.Add(options.ConvNormActivation(inChannels, expandedChannels, 1, activation: activation));
        body.Add(options.ConvNormActivation(expandedChannels, expandedChannels, kernelSize, stride, groups: expandedChannels, activation: activation));
        if (squeezeExcitation) body.Add(new SqueezeExcitation(expandedChannels, MakeDivisible(expandedChannels / 4), options));
        body.Add(options.ConvNormActivation(expandedChannels, outChannels, 1, activation: null));
        return new InvertedResidual(body, inChannels, outChannels, stride, "block");
    }

    /// <summary>
    /// The channel count nearest to <paramref name="value"/> that is a multiple of
    /// <paramref name="divisor"/>, at least <paramref name="minimum"/> (the divisor by default)
    /// and never more than 10% below the value — TensorFlow's and torchvision's
    /// <c>_make_divisible</c>, used by the width multiplier.
    /// </summary>
    public static int MakeDivisible(double value, int divisor = 8, int? minimum = null)
    {
        int rounded = Math.Max(minimum ?? divisor, (int)(value + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * value ? rounded + divisor : rounded;
    }

    protected override Tensor Forward(Tensor input)
    {
        var output = Body.Call(input);
        return UsesResidual ? F.Add(input, output) : output;
    }

    public override Shape OutputShape(Shape input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{Describe()} expects [batch, channels, height, width], got {input}.");
        ExpectFeatures(input, 1, InChannels, "input channels");
        return Body.OutputShape(input);
    }

    /// <summary>The depthwise window's, widened by any others in the body; the squeeze-and-excitation gate's global context is not counted.</summary>
    public override (int Kernel, int Stride, int Dilation)? Window => Body.Window;

    public override string Describe() =>
        $"InvertedResidual({InChannels} -> {OutChannels}" + (Stride != 1 ? $", stride {Stride}" : "") + (UsesResidual ? ", residual" : "") + ")";
}
