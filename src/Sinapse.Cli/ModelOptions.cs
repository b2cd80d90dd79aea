using System.CommandLine;
using Sinapse.IO;
using Sinapse.Init;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Vision;

namespace Sinapse.Cli;

/// <summary>The options that describe a model, shared by every command that builds one.</summary>
internal sealed class ModelOptions
{
    public Option<string> Model { get; } = new("--model")
    {
        Description = "Architecture: cnn (the course's custom_3_layer), lenet5, mlp (hidden sizes from --hidden), or mobilenet_v1, mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large (width from --width).",
        DefaultValueFactory = _ => "cnn",
    };
    public Option<string> Hidden { get; } = new("--hidden") { Description = "MLP hidden layer sizes, comma-separated.", DefaultValueFactory = _ => "256,128,64" };
    public Option<string?> Activation { get; } = new("--activation") { Description = "Hidden activation: relu (default; tanh for lenet5), leaky_relu(0.01), elu, selu, sigmoid, tanh, gelu, gelu_tanh, hard_swish…" };
    public Option<string?> Init { get; } = new("--init") { Description = "Weight initialiser: glorot_uniform (default), he_normal, lecun_normal, uniform(-5,5), normal(0,1)…" };
    public Option<bool> BatchNorm { get; } = new("--batch-norm") { Description = "Batch normalisation after every hidden layer (the layer then has no bias)." };
    public Option<float?> BatchNormEps { get; } = new("--batch-norm-eps") { Description = "BN's ε added to the variance (default 1e-5, PyTorch's; Keras uses 1e-3)." };
    public Option<float?> BatchNormMomentum { get; } = new("--batch-norm-momentum")
    {
        Description = "BN's running-statistics momentum as PyTorch counts it, the weight of each new batch (default 0.1; Keras's momentum=0.99 is 0.01 here).",
    };
    public Option<float> Dropout { get; } = new("--dropout") { Description = "Dropout probability after each hidden dense block (before the head of a CNN; a MobileNet's head keeps its own unless given).", DefaultValueFactory = _ => 0f };
    public Option<float> Width { get; } = new("--width") { Description = "Width multiplier of a MobileNet (channels scaled by it).", DefaultValueFactory = _ => 1f };
    public Option<string?> Weights { get; } = new("--weights")
    {
        Description = "Start the architecture from these weights: PyTorch's .pth (torch.save(model.state_dict())) or safetensors, matched by name "
            + "(torchvision's names for the MobileNets); every tensor of the model must be in the file, with its shape, and nothing else.",
    };

    /// <summary>The MobileNets of the zoo by command-line name; they take images of any size and channel count.</summary>
    private static readonly Dictionary<string, Func<int, float, float?, ConvNormOptions, int, MobileNet>> MobileNets = new()
    {
        ["mobilenet_v1"] = MobileNet.V1,
        ["mobilenet_v2"] = MobileNet.V2,
        ["mobilenet_v3_small"] = MobileNet.V3Small,
        ["mobilenet_v3_large"] = MobileNet.V3Large,
    };

    /// <summary>Every architecture name, for error messages.</summary>
    public static string ArchitectureNames => "cnn, lenet5, mlp, " + string.Join(", ", MobileNets.Keys);

    private static string Key(string name) => name.Trim().ToLowerInvariant().Replace('-', '_');

    /// <summary>Whether <paramref name="name"/> is an architecture this class builds.</summary>
    public static bool IsArchitecture(string name) => Key(name) is "mlp" or "cnn" or "lenet5" || MobileNets.ContainsKey(Key(name));

    /// <summary>The example shape an architecture is usually given: ImageNet's 3×224×224 for a MobileNet, MNIST's 1×28×28 otherwise.</summary>
    public static string DefaultExampleShape(string name) => MobileNets.ContainsKey(Key(name)) ? "3,224,224" : "1,28,28";

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Hidden);
        command.Options.Add(Activation);
        command.Options.Add(Init);
        command.Options.Add(BatchNorm);
        command.Options.Add(BatchNormEps);
        command.Options.Add(BatchNormMomentum);
        command.Options.Add(Dropout);
        command.Options.Add(Width);
        command.Options.Add(Weights);
    }

    /// <summary>Refuses --weights for a model that brings its own (a model directory, a pretrained model).</summary>
    public void RejectWeights(ParseResult parse, string model)
    {
        if (parse.GetValue(Weights) is { } weights)
            throw new ArgumentException($"--weights {weights} applies to a zoo architecture ({ArchitectureNames}), but {model} has weights of its own.");
    }

    /// <summary>The checks that need no data (sizes, ranges, files named), so a command can make them before it loads any.</summary>
    public void Validate(ParseResult parse)
    {
        float dropout = parse.GetValue(Dropout);
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentException($"--dropout must be in [0, 1), got {dropout}.");
        if (parse.GetValue(BatchNormEps) is float eps && !(eps >= 0)) throw new ArgumentException($"--batch-norm-eps must be >= 0, got {eps}.");
        if (parse.GetValue(BatchNormMomentum) is float momentum && !(momentum >= 0 && momentum <= 1))
            throw new ArgumentException($"--batch-norm-momentum must be in [0, 1] (PyTorch's sense: the weight of each new batch), got {momentum}.");
        if (parse.GetValue(Init) is { } text) Initializer.Parse(text);
        ParseSizes(parse.GetValue(Hidden)!);
        var weights = parse.GetValue(Weights);
        if (weights != null && !File.Exists(weights)) throw new FileNotFoundException($"--weights {weights}: no such file.", weights);
    }

    /// <summary>Builds the model for examples of <paramref name="exampleShape"/> and <paramref name="classes"/> outputs.</summary>
    public Module Build(ParseResult parse, Shape exampleShape, int classes, Rng rng)
    {
        Validate(parse);
        var name = Key(parse.GetValue(Model)!);
        if (exampleShape.Rank == 1 && parse.GetResult(Model) is not { Implicit: false }) name = "mlp";   // tables: the default CNN needs images
        var init = parse.GetValue(Init) is { } text ? Initializer.Parse(text) : null;
        float dropout = parse.GetValue(Dropout);
        float? eps = parse.GetValue(BatchNormEps), momentum = parse.GetValue(BatchNormMomentum);
        var options = new BlockOptions(parse.GetValue(Activation) ?? (name == "lenet5" ? "tanh" : "relu"), init, parse.GetValue(BatchNorm), dropout, rng,
            BatchNormEps: eps ?? 1e-5f, BatchNormMomentum: momentum ?? 0.1f);
        if (name != "mlp" && IsArchitecture(name) && exampleShape.Rank != 3)
            throw new ArgumentException($"--model {name} needs images [channels, height, width], the data has examples of shape {exampleShape}.");
        bool isMobileNet = MobileNets.ContainsKey(name);
        if (!isMobileNet && !options.BatchNorm && (eps != null || momentum != null))
            throw new ArgumentException($"{(eps != null ? "--batch-norm-eps" : "--batch-norm-momentum")} sets the batch normalisation that --batch-norm adds; give --batch-norm as well.");
        var ignored = new (Option Option, bool Applies)[] { (Hidden, name == "mlp"), (Width, isMobileNet), (Activation, !isMobileNet), (Init, !isMobileNet), (BatchNorm, !isMobileNet) }
            .Where(o => !o.Applies && parse.GetResult(o.Option) is { Implicit: false }).Select(o => o.Option.Name).ToList();
        if (ignored.Count > 0 && IsArchitecture(name))
            throw new ArgumentException($"{string.Join(", ", ignored)} do{(ignored.Count == 1 ? "es" : "")} not apply to --model {name} "
                + "(--hidden is the MLP's, --width a MobileNet's, --activation, --init and --batch-norm the MLP's and the CNNs').");
        var weights = parse.GetValue(Weights);
        Module model;
        if (MobileNets.TryGetValue(name, out var mobileNet))
        {
            float? headDropout = parse.GetResult(Dropout) is { Implicit: false } ? dropout : null;
            model = mobileNet(classes, parse.GetValue(Width), headDropout, new ConvNormOptions(eps, momentum, Rng: rng), exampleShape[0]);
        }
        else
            model = name switch
            {
                "mlp" => Mlp.Create(exampleShape.Size, ParseSizes(parse.GetValue(Hidden)!), classes, options),
                "cnn" => Cnn.Course(exampleShape[0], exampleShape[1], exampleShape[2], classes, options),
                "lenet5" => Cnn.LeNet5(exampleShape[0], exampleShape[1], exampleShape[2], classes, options),
                _ => throw new ArgumentException($"Unknown model '{name}'. Expected {ArchitectureNames}."),
            };
        if (weights != null) StateDict.Load(model, weights);
        return model;
    }

    /// <summary>The widest hidden layer --hidden accepts: wider ones would take gigabytes of weights before training showed the mistake.</summary>
    public const int MaxHiddenSize = 1 << 16;

    private static int[] ParseSizes(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        // TryParse refuses what overflows an int; the bound keeps a layer within memory.
        if (parts.Length == 0 || !parts.All(p => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int size) && size is > 0 and <= MaxHiddenSize))
            throw new ArgumentException($"--hidden expects layer sizes 1 to {MaxHiddenSize:N0} separated by commas (e.g. 256,128,64), got {InputFile.Quote(text, 60)}.");
        return Array.ConvertAll(parts, p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture));
    }


    /// <summary>One example's shape as the --input-shape options write it: "1,28,28".</summary>
    public static Shape ParseExampleShape(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || !parts.All(p => int.TryParse(p, out var d) && d > 0))
            throw new ArgumentException($"--input-shape expects positive sizes separated by commas (e.g. 1,28,28), got '{text}'.");
        return new Shape(parts.Select(int.Parse).ToArray());
    }
}
