using System.CommandLine;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Vision;

namespace Sinapse.Cli.Commands;

/// <summary><c>sinapse export</c>: a model directory, a pretrained model or a zoo architecture written as an ONNX file.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        model.Model.Description = "A model directory (model.json + weights.safetensors); a pretrained ImageNet model (mobilenet_v2, mobilenet_v1_0.25); "
            + "or a zoo architecture with fresh weights or those of --weights: mlp, cnn, lenet5, mobilenet_v1, mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large.";
        var format = new Option<string>("--format") { Description = "The file format: onnx.", DefaultValueFactory = _ => "onnx" };
        var output = new Option<string>("--output") { Description = "The file to write (model.onnx).", Required = true };
        var inputShape = new Option<string?>("--input-shape") { Description = "One example's shape for a zoo architecture, e.g. 1,28,28 (default) or 3,224,224 (MobileNets' default)." };
        var classes = new Option<int>("--classes") { Description = "Number of output classes of a zoo architecture.", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of a zoo architecture's fresh weights.", DefaultValueFactory = _ => 0UL };
        var command = new Command("export", "Write a model as an ONNX file (opset 17, dynamic batch axis) that ONNX Runtime and other tools run; a model directory's input scaling becomes the graph's first nodes, so the file takes raw inputs, and its class names are kept as metadata.");
        model.AddTo(command);
        command.Options.Add(format);
        command.Options.Add(output);
        command.Options.Add(inputShape);
        command.Options.Add(classes);
        command.Options.Add(seed);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var formatName = parse.GetValue(format)!.Trim().ToLowerInvariant();
            if (formatName != "onnx") throw new ArgumentException($"--format {formatName} is not supported; the export format is onnx.");
            var path = parse.GetValue(output)!;
            if (Directory.Exists(path)) throw new ArgumentException($"--output {path}: expected a file name, found a directory.");
            OutputDirectory.Prepare(Path.GetDirectoryName(Path.GetFullPath(path))!, "--output's directory");
            var name = parse.GetValue(model.Model)!;
            var shapeText = parse.GetValue(inputShape);
            Module network;
            Shape example;
            SavedModel? saved = null;
            // With --weights, a name that is both a pretrained model and an architecture (mobilenet_v2) means the architecture.
            bool withWeights = parse.GetValue(model.Weights) != null && ModelOptions.IsArchitecture(name) && !Directory.Exists(name);
            if (!withWeights && (SavedModel.IsModelDirectory(name) || Pretrained.Exists(name))) model.RejectWeights(parse, name);
            if (SavedModel.IsModelDirectory(name))
            {
                saved = SavedModel.Load(name);
                (network, example) = (saved.Model, saved.ExampleShape);
            }
            else if (Pretrained.Exists(name) && !withWeights)
                (network, example) = (Pretrained.Load(name), new Shape(3, Pretrained.ImageSize, Pretrained.ImageSize));
            else
            {
                int classCount = parse.GetValue(classes);
                if (classCount < 1) throw new ArgumentException($"--classes must be at least 1, got {classCount}.");
                var rng = new Rng(parse.GetValue(seed));
                if (!ModelOptions.IsArchitecture(name))
                    throw new ArgumentException(Directory.Exists(name) ? $"{name} is not a model directory: it has no {SavedModel.SpecFile}."
                        : $"Unknown model '{name}': expected a model directory, a pretrained model ({string.Join(", ", Pretrained.Names)}) or {ModelOptions.ArchitectureNames}.");
                example = ModelOptions.ParseExampleShape(shapeText ?? ModelOptions.DefaultExampleShape(name));
                network = model.Build(parse, example, classCount, rng);
            }
            network.Eval();
            // A model directory's input transform becomes the graph's first nodes, so the file takes raw inputs; its class names travel as metadata.
            OnnxExport.Save(network, example, path, saved?.Transform, saved?.ClassNames);
            Console.WriteLine($"Wrote {path}: {network.Describe()}, input [batch, {string.Join(", ", example.ToArray())}], {network.ParameterCount():N0} parameters, ONNX opset {OnnxExport.Opset}.");
            return 0;
        }));
        return command;
    }
}
