using System.CommandLine;
using System.Globalization;
using System.Text;
using Sinapse.Data;
using Sinapse.IO;
using Sinapse.Ops;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Training;
using Sinapse.Vision;

namespace Sinapse.Cli.Commands;

/// <summary><c>sinapse predict</c>: class probabilities from a saved model for .npy arrays, images or CSV rows.</summary>
internal static class PredictCommand
{
    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    public static Command Create()
    {
        var architecture = new ModelOptions();
        var model = architecture.Model;
        model.Description = "Model directory (model.json + weights.safetensors); a pretrained ImageNet model: mobilenet_v2, mobilenet_v1_0.25; "
            + $"or a zoo architecture ({ModelOptions.ArchitectureNames}) with --weights.";
        (model.DefaultValueFactory, model.Required) = (null, true);   // no default architecture here: predicting needs trained weights
        var inputShape = new Option<string?>("--input-shape") { Description = "One example's shape for a zoo architecture, e.g. 1,28,28 (default) or 3,224,224 (MobileNets' default)." };
        var classCount = new Option<int>("--classes") { Description = "Number of output classes of a zoo architecture.", DefaultValueFactory = _ => 10 };
        var input = new Option<string>("--input") { Description = "Inputs: a .npy array (one example or a batch, float32/float64/uint8, C order), a PNG/JPEG image, or a CSV file of one flattened example per row.", Required = true };
        var output = new Option<string?>("--output") { Description = "Where to write the class probabilities: .npy or .csv." };
        var top = new Option<int>("--top") { Description = "Print the K most probable classes of each input.", DefaultValueFactory = _ => 0 };
        var command = new Command("predict", "Predict with a saved model: class probabilities for each input.");
        architecture.AddTo(command);
        foreach (var option in new Option[] { input, output, top, inputShape, classCount }) command.Options.Add(option);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            int k = parse.GetValue(top);
            var outputPath = parse.GetValue(output);
            if (k < 0) throw new ArgumentException($"--top must be 0 or more, got {k}.");
            var modelPath = parse.GetValue(model)!;
            // A name that is both a pretrained model and an architecture (mobilenet_v2) means the architecture only with --weights.
            bool isPretrained = !Directory.Exists(modelPath) && Pretrained.Exists(modelPath)
                && !(ModelOptions.IsArchitecture(modelPath) && parse.GetValue(architecture.Weights) != null);
            bool isArchitecture = !Directory.Exists(modelPath) && !isPretrained && ModelOptions.IsArchitecture(modelPath);
            if (!isArchitecture) architecture.RejectWeights(parse, modelPath);
            if (isPretrained)
            {
                // A pretrained ImageNet model classifies one image: its top K labels (5 by default).
                var pretrained = Pretrained.Load(modelPath);
                foreach (var (label, _, probability) in Pretrained.Classify(pretrained, Images.Load(parse.GetValue(input)!), k == 0 ? 5 : k))
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{probability,7:P2}  {label}"));
                return 0;
            }
            if (outputPath == null && k == 0) throw new ArgumentException("Give --output FILE (.npy or .csv), --top K, or both.");
            var saved = isArchitecture ? FromWeights(parse, architecture, modelPath, inputShape, classCount) : SavedModel.Load(modelPath);
            var inputs = ReadInputs(parse.GetValue(input)!, saved.ExampleShape);
            if (saved.Transform != null) inputs = saved.Transform.Apply(inputs);
            var logits = Trainer.Predict(saved.Model, inputs);
            if (logits.Rank != 2) throw new InvalidOperationException($"The model outputs {logits.Shape}, not one row of class scores per input.");
            var probabilities = F.Softmax(logits);
            int classes = probabilities.Shape[1];
            string Name(int c) => saved.ClassNames != null && c < saved.ClassNames.Count ? saved.ClassNames[c] : c.ToString(CultureInfo.InvariantCulture);
            if (outputPath != null)
            {
                var extension = Path.GetExtension(outputPath).ToLowerInvariant();
                if (extension == ".npy") Npy.Write(outputPath, probabilities);
                else if (extension == ".csv")
                {
                    var text = new StringBuilder(string.Join(',', Enumerable.Range(0, classes).Select(Name)) + ",predicted\n");
                    for (int i = 0; i < probabilities.Shape[0]; i++)
                    {
                        var row = probabilities.Span.Slice(i * classes, classes);
                        text.AppendLine(string.Join(',', row.ToArray().Select(p => p.ToString("R", CultureInfo.InvariantCulture))) + "," + Name(Metrics.ArgMax(row)));
                    }
                    AtomicFile.WriteAllText(outputPath, text.ToString());
                }
                else throw new ArgumentException($"--output {outputPath}: write .npy or .csv.");
                Console.WriteLine($"{probabilities.Shape[0]} predictions written to {outputPath}");
            }
            for (int i = 0; i < probabilities.Shape[0] && k > 0; i++)
            {
                var row = probabilities.Span.Slice(i * classes, classes).ToArray();
                var best = Enumerable.Range(0, classes).OrderByDescending(c => row[c]).Take(k);
                Console.WriteLine($"{i}: " + string.Join("  ", best.Select(c => string.Create(CultureInfo.InvariantCulture, $"{Name(c)} {row[c]:P1}"))));
            }
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// A zoo architecture with the weights of --weights, as a saved model without class names or
    /// input transform: inputs go in as given.
    /// </summary>
    private static SavedModel FromWeights(ParseResult parse, ModelOptions architecture, string name, Option<string?> inputShape, Option<int> classes)
    {
        if (parse.GetValue(architecture.Weights) == null)
            throw new ArgumentException($"--model {name} is an architecture without trained weights: give --weights FILE (.pth or .safetensors), or a model directory.");
        int classCount = parse.GetValue(classes);
        if (classCount < 1) throw new ArgumentException($"--classes must be at least 1, got {classCount}.");
        var example = ModelOptions.ParseExampleShape(parse.GetValue(inputShape) ?? ModelOptions.DefaultExampleShape(name));
        var network = architecture.Build(parse, example, classCount, new Rng(0));
        network.Eval();
        return new SavedModel(network, example, null, null);
    }

    /// <summary>The inputs as a batch [N, ...example shape], raw (before the model's input transform).</summary>
    internal static Tensor ReadInputs(string path, Shape example)
    {
        InputFile.Length(path, "input file");
        var extension = Path.GetExtension(path).ToLowerInvariant();
        Tensor values;
        if (extension == ".npy") values = Npy.Read(path);
        else if (ImageExtensions.Contains(extension))
        {
            if (example.Rank != 3 || example[0] is not (1 or 3)) throw new ArgumentException($"{path}: the model takes examples of shape {example}, not images.");
            values = Images.Load(path, grayscale: example[0] == 1);
            if (values.Shape != example) throw new ArgumentException($"{path}: the image is {values.Shape[2]}x{values.Shape[1]} pixels; the model expects {example[2]}x{example[1]} ({example}).");
        }
        else if (extension == ".csv") values = ReadCsv(path, example.Size);
        else throw new ArgumentException($"{path}: inputs must be .npy, an image (PNG/JPEG) or .csv.");
        // A NaN or infinity would come out as NaN probabilities with no word of where it came from.
        var span = values.Span;
        // IsFiniteAll is false for an empty span, which has nothing to report.
        if (span.Length > 0 && !System.Numerics.Tensors.TensorPrimitives.IsFiniteAll<float>(span))
        {
            int index = 0;
            while (float.IsFinite(span[index])) index++;
            int rowLength = Math.Max(1, example.Size);
            throw new InvalidDataException($"{path}: example {index / rowLength} holds {span[index]} at position {index % rowLength} of {rowLength}; inputs must be finite numbers.");
        }
        if (values.Shape == example) return values.ReshapedTo([1, .. example.Dimensions]);
        if (values.Rank >= 1 && values.Shape[0] > 0 && values.Length == values.Shape[0] * (long)example.Size)
            return values.ReshapedTo([values.Shape[0], .. example.Dimensions]);
        throw new ArgumentException($"{path}: an array of shape {values.Shape} is neither one example {example} nor a batch of them.");
    }

    private static Tensor ReadCsv(string path, int width)
    {
        var rows = new List<float[]>();
        int number = 0;
        foreach (var line in InputFile.ReadLines(path, "CSV file", InputFile.MaxCsvBytes, InputFile.MaxCsvLineLength))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var cells = line.Split(',');
            var row = new float[cells.Length];
            bool numeric = true;
            for (int i = 0; i < cells.Length && numeric; i++) numeric = float.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out row[i]);
            if (!numeric)
            {
                if (rows.Count == 0 && number == 1) continue; // a header
                throw new InvalidDataException($"{path}, line {number}: not all values are numbers.");
            }
            if (row.Length != width) throw new InvalidDataException($"{path}, line {number}: {row.Length} values, but the model takes {width} per example.");
            rows.Add(row);
        }
        if (rows.Count == 0) throw new InvalidDataException($"{path} has no rows of numbers.");
        return Tensor.FromArray(rows.SelectMany(r => r).ToArray(), rows.Count, width);
    }
}
