using Sinapse.Init;
using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Vision;

/// <summary>
/// The MobileNets: a convolutional trunk (<see cref="Features"/>), global average pooling and a
/// classifier head, laid out as torchvision lays them out so that parameter names match its
/// state_dict ("features.0.0.weight", "features.3.block.2.fc1.bias", "classifier.3.weight").
/// Any input size (the pooling is global) and any number of classes.
/// </summary>
public sealed record MobileNetConfig(string Architecture, Sequential Features, Sequential Classifier);

public sealed class MobileNet : Module, IConfigurable<MobileNet, MobileNetConfig>
{
    public MobileNetConfig GetConfig() => new(Architecture, Features, Classifier);
    public static MobileNet FromConfig(MobileNetConfig c, Rng? rng) => new(c.Architecture, c.Features, c.Classifier);

    public MobileNet(string architecture, Sequential features, Sequential classifier)
    {
        Architecture = architecture;
        Features = RegisterModule("features", features);
        Pool = RegisterModule("avgpool", new GlobalAvgPool2d());
        Classifier = RegisterModule("classifier", classifier);
    }

    /// <summary>"MobileNetV2", "MobileNetV3-Small"…</summary>
    public string Architecture { get; }

    public Sequential Features { get; }

    public GlobalAvgPool2d Pool { get; }

    public Sequential Classifier { get; }

    protected override Tensor Forward(Tensor input) => Classifier.Call(F.Flatten(Pool.Call(Features.Call(input))));

    public override Shape OutputShape(Shape input) => Classifier.OutputShape(flatten.OutputShape(Pool.OutputShape(Features.OutputShape(input))));

    /// <summary>Not a child: torchvision flattens in forward, so no "flatten" appears in the state_dict.</summary>
    private readonly Flatten flatten = new();

    public override IReadOnlyList<Module> Stages => [Features, Pool, flatten, Classifier];

    public override string Describe() => Architecture;

    /// <summary>
    /// Trunk, pooling, flattening and classifier as one Sequential of the same layer objects, so
    /// <see cref="Sequential.SplitHead"/> and <see cref="Sequential.ReplaceHead"/> apply to it.
    /// </summary>
    public Sequential ToSequential() => new([.. Features.Layers, Pool, new Flatten(), .. Classifier.Layers]);

    /// <summary>
    /// This architecture (V1 or V2 at the same width) with <paramref name="classes"/> outputs and
    /// random weights, with batch norm after every convolution: the baseline trained from scratch
    /// against a pretrained network, whose imported file has batch norm folded into its convolutions.
    /// </summary>
    public MobileNet UntrainedCopy(int classes, Rng rng)
    {
        if (Architecture is not ("MobileNetV1" or "MobileNetV2"))
            throw new NotSupportedException($"UntrainedCopy rebuilds MobileNetV1 or MobileNetV2, got {Architecture}.");
        // The stem has 32·α channels in both architectures, as the importer reads the width.
        float width = Features.NamedModules().Select(m => m.Module).OfType<Conv2d>().First().OutChannels / 32f;
        // PyTorch's batch-norm momentum 0.1 for both: V1's default 0.01 (Keras's 0.99) suits long ImageNet runs, but over a few
        // hundred steps its running statistics lag the moving weights so far that the network predicts one class in eval mode.
        var options = new ConvNormOptions(BatchNormMomentum: 0.1f, TensorFlowPadding: true, Rng: rng);
        return Architecture == "MobileNetV1" ? V1(classes, width, options: options) : V2(classes, width, options: options);
    }

    /// <summary>
    /// MobileNetV1 (Howard et al., 2017): a 3×3 stride-2 convolution to 32·α channels and 13
    /// depthwise-separable blocks (3×3 depthwise → BN → ReLU6, 1×1 pointwise → BN → ReLU6), each a
    /// Sequential of the two ("features.1.0.0.weight" is the first depthwise filter), then
    /// dropout (0.001 unless given, as Keras) and a linear classifier. Channels are ⌊c·α⌋, at least 8, as in TensorFlow's
    /// reference (the ImageNet-trained α = 0.25 has 8…256 channels). BN ε = 1e-3, momentum 0.01,
    /// as Keras's MobileNet.
    /// </summary>
    public static MobileNet V1(int classes = 1000, float widthMultiplier = 1f, float? dropout = null, ConvNormOptions? options = null, int inChannels = 3)
    {
        float headDropout = dropout ?? 1e-3f;
        CheckArguments("MobileNetV1", classes, widthMultiplier, headDropout, inChannels);
        options = (options ?? new ConvNormOptions()).WithDefaults(1e-3f, 0.01f);
        int Width(int channels) => Math.Max((int)(channels * widthMultiplier), 8);
        (int Channels, int Stride)[] table = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)];
        int input = Width(32);
        var features = new Sequential(options.ConvNormActivation(inChannels, input, 3, 2, activation: "relu6"));
        foreach (var (channels, stride) in table)
        {
            int output = Width(channels);
            features.Add(new Sequential(
                options.ConvNormActivation(input, input, 3, stride, groups: input, activation: "relu6"),
                options.ConvNormActivation(input, output, 1, activation: "relu6")));
            input = output;
        }
        return new MobileNet("MobileNetV1", features, Head(input, classes, headDropout, options.Rng));
    }

    /// <summary>
    /// MobileNetV2 (Sandler et al., 2018) as torchvision builds it: a 3×3 stride-2 convolution to
    /// 32 channels, the inverted residuals of the table (expansion t, channels c, repeats n,
    /// first stride s) — (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2)
    /// (6,320,1,1) — a 1×1 convolution to 1280, dropout (0.2 unless given) and a linear classifier; ReLU6
    /// throughout. Channels scale by the width multiplier rounded with
    /// <see cref="InvertedResidual.MakeDivisible"/>, the last never below 1280. 3,504,872
    /// parameters for 1000 classes.
    /// </summary>
    public static MobileNet V2(int classes = 1000, float widthMultiplier = 1f, float? dropout = null, ConvNormOptions? options = null, int inChannels = 3)
    {
        float headDropout = dropout ?? 0.2f;
        CheckArguments("MobileNetV2", classes, widthMultiplier, headDropout, inChannels);
        options = (options ?? new ConvNormOptions()).WithDefaults(1e-5f, 0.1f);
        (int Expansion, int Channels, int Repeats, int Stride)[] table =
            [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];
        int input = InvertedResidual.MakeDivisible(32 * widthMultiplier);
        int last = InvertedResidual.MakeDivisible(1280 * Math.Max(1f, widthMultiplier));
        var features = new Sequential(options.ConvNormActivation(inChannels, input, 3, 2, activation: "relu6"));
        foreach (var (expansion, channels, repeats, stride) in table)
        {
            int output = InvertedResidual.MakeDivisible(channels * widthMultiplier);
            for (int i = 0; i < repeats; i++)
            {
                features.Add(InvertedResidual.MobileNetV2(input, output, i == 0 ? stride : 1, expansion, options));
                input = output;
            }
        }
        features.Add(options.ConvNormActivation(input, last, 1, activation: "relu6"));
        return new MobileNet("MobileNetV2", features, Head(last, classes, headDropout, options.Rng));
    }

    /// <summary>One row of MobileNetV3's table: input channels, kernel, expanded channels, output channels, SE, activation ("RE" ReLU, "HS" hard-swish), stride.</summary>
    private readonly record struct Bottleneck(int In, int Kernel, int Expanded, int Out, bool SqueezeExcitation, string Activation, int Stride);

    /// <summary>
    /// MobileNetV3-Small (Howard et al., 2019) with torchvision's table and head: 11 bottlenecks,
    /// a 1×1 convolution to 576, then Linear(576 → 1024) → hard-swish → dropout (0.2 unless given) → Linear(→ classes).
    /// BN ε = 1e-3, momentum 0.01. 2,542,856 parameters for 1000 classes.
    /// </summary>
    public static MobileNet V3Small(int classes = 1000, float widthMultiplier = 1f, float? dropout = null, ConvNormOptions? options = null, int inChannels = 3) =>
        V3("MobileNetV3-Small", [
            new(16, 3, 16, 16, true, "RE", 2), new(16, 3, 72, 24, false, "RE", 2), new(24, 3, 88, 24, false, "RE", 1),
            new(24, 5, 96, 40, true, "HS", 2), new(40, 5, 240, 40, true, "HS", 1), new(40, 5, 240, 40, true, "HS", 1),
            new(40, 5, 120, 48, true, "HS", 1), new(48, 5, 144, 48, true, "HS", 1), new(48, 5, 288, 96, true, "HS", 2),
            new(96, 5, 576, 96, true, "HS", 1), new(96, 5, 576, 96, true, "HS", 1)],
            1024, classes, widthMultiplier, dropout ?? 0.2f, options, inChannels);

    /// <summary>
    /// MobileNetV3-Large with torchvision's table and head: 15 bottlenecks, a 1×1 convolution to
    /// 960, then Linear(960 → 1280) → hard-swish → dropout (0.2 unless given) → Linear(→ classes). 5,483,032
    /// parameters for 1000 classes.
    /// </summary>
    public static MobileNet V3Large(int classes = 1000, float widthMultiplier = 1f, float? dropout = null, ConvNormOptions? options = null, int inChannels = 3) =>
        V3("MobileNetV3-Large", [
            new(16, 3, 16, 16, false, "RE", 1), new(16, 3, 64, 24, false, "RE", 2), new(24, 3, 72, 24, false, "RE", 1),
            new(24, 5, 72, 40, true, "RE", 2), new(40, 5, 120, 40, true, "RE", 1), new(40, 5, 120, 40, true, "RE", 1),
            new(40, 3, 240, 80, false, "HS", 2), new(80, 3, 200, 80, false, "HS", 1), new(80, 3, 184, 80, false, "HS", 1),
            new(80, 3, 184, 80, false, "HS", 1), new(80, 3, 480, 112, true, "HS", 1), new(112, 3, 672, 112, true, "HS", 1),
            new(112, 5, 672, 160, true, "HS", 2), new(160, 5, 960, 160, true, "HS", 1), new(160, 5, 960, 160, true, "HS", 1)],
            1280, classes, widthMultiplier, dropout ?? 0.2f, options, inChannels);

    private static MobileNet V3(string architecture, Bottleneck[] table, int lastChannels, int classes, float widthMultiplier, float dropout, ConvNormOptions? options, int inChannels)
    {
        CheckArguments(architecture, classes, widthMultiplier, dropout, inChannels);
        options = (options ?? new ConvNormOptions()).WithDefaults(1e-3f, 0.01f);
        int Width(int channels) => InvertedResidual.MakeDivisible(channels * widthMultiplier);
        var features = new Sequential(options.ConvNormActivation(inChannels, Width(table[0].In), 3, 2, activation: "hard_swish"));
        foreach (var row in table)
            features.Add(InvertedResidual.MobileNetV3(Width(row.In), row.Kernel, Width(row.Expanded), Width(row.Out), row.SqueezeExcitation,
                row.Activation == "HS" ? "hard_swish" : "relu", row.Stride, options));
        int lastConvIn = Width(table[^1].Out), lastConvOut = 6 * lastConvIn, last = Width(lastChannels);
        features.Add(options.ConvNormActivation(lastConvIn, lastConvOut, 1, activation: "hard_swish"));
        var classifier = new Sequential(Linear(lastConvOut, last, options.Rng), new HardSwish(), new Dropout(dropout, options.Rng), Linear(last, classes, options.Rng));
        return new MobileNet(architecture, features, classifier);
    }

    /// <summary>Dropout → Linear, torchvision's MobileNetV2 head (named "classifier.1.weight").</summary>
    private static Sequential Head(int features, int classes, float dropout, Rng? rng) => new(new Dropout(dropout, rng), Linear(features, classes, rng));

    /// <summary>A Linear initialised as torchvision's MobileNets: N(0, 0.01²) weights, zero biases.</summary>
    private static Linear Linear(int inputs, int outputs, Rng? rng) => new(inputs, outputs, true, Initializer.Normal(0f, 0.01f), Initializer.Zeros(), rng);

    private static void CheckArguments(string architecture, int classes, float widthMultiplier, float dropout, int inChannels)
    {
        if (classes < 1) throw new ArgumentException($"{architecture} needs at least one class, got {classes}.");
        if (!(widthMultiplier > 0f && widthMultiplier <= 16f)) throw new ArgumentException($"{architecture}: the width multiplier must be in (0, 16], got {widthMultiplier}.");
        if (!(dropout >= 0f && dropout < 1f)) throw new ArgumentException($"{architecture}: the dropout probability must be in [0, 1), got {dropout}.");
        if (inChannels < 1) throw new ArgumentException($"{architecture} needs at least one input channel, got {inChannels}.");
    }
}
