using System.CommandLine;
using Sinapse.Diagnostics;
using Sinapse.Serialization;
using Sinapse.Tensors;

namespace Sinapse.Cli.Commands;

/// <summary><c>sinapse summary</c>: each layer's output shape and parameter count, and the totals.</summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var input = new Option<string?>("--input-shape") { Description = "One example's shape, e.g. 1,28,28 (default) or 3,224,224 (MobileNets' default)." };
        var classes = new Option<int>("--classes") { Description = "Number of output classes.", DefaultValueFactory = _ => 10 };
        var command = new Command("summary", "Print a model's layers, output shapes and parameter counts (trainable and frozen); --model also takes a saved model directory.");
        model.AddTo(command);
        command.Options.Add(input);
        command.Options.Add(classes);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            if (SavedModel.IsModelDirectory(parse.GetValue(model.Model)!))
            {
                model.RejectWeights(parse, parse.GetValue(model.Model)!);
                var saved = SavedModel.Load(parse.GetValue(model.Model)!);
                Console.Write(ModelSummary.Of(saved.Model, new Shape([1, .. saved.ExampleShape.Dimensions])));
                if (saved.ClassNames != null) Console.WriteLine($"Classes: {string.Join(", ", saved.ClassNames)}");
                if (saved.Transform != null) Console.WriteLine($"Input transform: {saved.Transform}");
                return 0;
            }
            var exampleShape = ModelOptions.ParseExampleShape(parse.GetValue(input) ?? ModelOptions.DefaultExampleShape(parse.GetValue(model.Model)!));
            int classCount = parse.GetValue(classes);
            if (classCount < 1) throw new ArgumentException($"--classes must be at least 1, got {classCount}.");
            var network = model.Build(parse, exampleShape, classCount, new Rng(0));
            Console.Write(ModelSummary.Of(network, new Shape([1, .. exampleShape.Dimensions])));
            return 0;
        }));
        return command;
    }
}
