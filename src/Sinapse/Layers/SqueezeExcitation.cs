using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Layers;

/// <summary>
/// Squeeze-and-excitation (Hu et al., 2018) as MobileNetV3 uses it (torchvision's
/// SqueezeExcitation with a hard-sigmoid gate): each channel's mean (squeeze) → 1×1 convolution
/// down to <see cref="SqueezeChannels"/> → ReLU → 1×1 convolution back → hard-sigmoid, and the
/// input's channels multiplied by the result. Parameters "fc1.weight", "fc1.bias", "fc2.weight",
/// "fc2.bias", as in torchvision.
/// </summary>
public sealed record SqueezeExcitationConfig(int Channels, int SqueezeChannels);

public sealed class SqueezeExcitation : Module, IConfigurable<SqueezeExcitation, SqueezeExcitationConfig>
{
    public SqueezeExcitationConfig GetConfig() => new(Channels, SqueezeChannels);
    public static SqueezeExcitation FromConfig(SqueezeExcitationConfig c, Rng? rng) => new(c.Channels, c.SqueezeChannels, new ConvNormOptions(Rng: rng));

    public SqueezeExcitation(int channels, int squeezeChannels, ConvNormOptions? options = null)
    {
        options ??= new ConvNormOptions();
        Channels = channels;
        SqueezeChannels = squeezeChannels;
        Reduce = RegisterModule("fc1", options.Conv(channels, squeezeChannels, bias: true));
        Expand = RegisterModule("fc2", options.Conv(squeezeChannels, channels, bias: true));
    }

    public int Channels { get; }

    public int SqueezeChannels { get; }

    public Conv2d Reduce { get; }

    public Conv2d Expand { get; }

    protected override Tensor Forward(Tensor input)
    {
        var scale = F.HardSigmoid(Expand.Call(F.Relu(Reduce.Call(F.GlobalAvgPool2d(input)))));
        return F.MultiplyChannels(input, scale);
    }

    public override Shape OutputShape(Shape input)
    {
        if (input.Rank != 4) throw new ArgumentException($"{Describe()} expects [batch, channels, height, width], got {input}.");
        ExpectFeatures(input, 1, Channels, "input channels");
        return input;
    }

    public override string Describe() => $"SqueezeExcitation({Channels} -> {SqueezeChannels} -> {Channels})";
}
