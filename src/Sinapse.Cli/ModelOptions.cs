using System.CommandLine;
using Sinapse.Init;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Tensors;

namespace Sinapse.Cli;

/// <summary>The options that describe a model, shared by every command that builds one.</summary>
internal sealed class ModelOptions
{
    public Option<string> Model { get; } = new("--model") { Description = "Architecture: mlp (hidden sizes from --hidden).", DefaultValueFactory = _ => "mlp" };
    public Option<string> Hidden { get; } = new("--hidden") { Description = "MLP hidden layer sizes, comma-separated.", DefaultValueFactory = _ => "256,128,64" };
    public Option<string> Activation { get; } = new("--activation") { Description = "Hidden activation: relu, leaky_relu(0.01), elu, selu, sigmoid, tanh, gelu, hard_swish…", DefaultValueFactory = _ => "relu" };
    public Option<string?> Init { get; } = new("--init") { Description = "Weight initialiser: glorot_uniform (default), he_normal, lecun_normal, uniform(-5,5), normal(0,1)…" };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Hidden);
        command.Options.Add(Activation);
        command.Options.Add(Init);
    }

    /// <summary>Builds the model for examples of <paramref name="exampleShape"/> and <paramref name="classes"/> outputs.</summary>
    public Module Build(ParseResult parse, Shape exampleShape, int classes, Rng rng)
    {
        var name = parse.GetValue(Model)!.Trim().ToLowerInvariant();
        var init = parse.GetValue(Init) is { } text ? Initializer.Parse(text) : null;
        return name switch
        {
            "mlp" => Mlp.Create(exampleShape.Size, ParseSizes(parse.GetValue(Hidden)!), classes, parse.GetValue(Activation)!, init, rng),
            _ => throw new ArgumentException($"Unknown model '{name}'. Expected: mlp."),
        };
    }

    private static int[] ParseSizes(string text)
    {
        try
        {
            var sizes = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            if (sizes.Any(s => s <= 0)) throw new FormatException();
            return sizes;
        }
        catch (FormatException)
        {
            throw new ArgumentException($"--hidden expects positive layer sizes separated by commas (e.g. 256,128,64), got '{text}'.");
        }
    }
}
