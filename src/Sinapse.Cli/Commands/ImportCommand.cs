using System.CommandLine;
using Sinapse.Layers;
using Sinapse.Serialization;

namespace Sinapse.Cli.Commands;

/// <summary><c>sinapse import</c>: an ONNX file read into the library's layers and saved as a model directory.</summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = "The ONNX file to read.", Required = true };
        var output = new Option<string>("--out") { Description = "The model directory to write (model.json + weights.safetensors).", Required = true };
        var command = new Command("import", "Read an ONNX model (the operators of the library's layers) and save it as a Sinapse model directory, with the input scaling and class names a Sinapse export carries.") { input, output };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var path = parse.GetValue(input)!;
            var directory = OutputDirectory.Prepare(parse.GetValue(output)!, "--out");
            // A Sinapse export's input transform and class names come back with the model, so evaluate and predict see what they saw before the export.
            var saved = OnnxImport.LoadModel(path);
            var (model, example) = (saved.Model, saved.ExampleShape);
            try
            {
                saved.Save(directory);
            }
            catch (NotSupportedException e)
            {
                throw new NotSupportedException($"{path} was read, but the model cannot be saved as a model directory: {e.Message}");
            }
            var layers = model is Graph graph ? $"a graph of {graph.Steps.Count} steps" : model is Sequential sequential ? $"{sequential.Count} layers in sequence" : model.Describe();
            Console.WriteLine($"Imported {path}: {layers}, input [batch, {string.Join(", ", example.ToArray())}], {model.ParameterCount():N0} parameters -> {directory}");
            return 0;
        }));
        return command;
    }
}
