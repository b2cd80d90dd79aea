using System.CommandLine;
using System.Globalization;
using Sinapse.IO;
using Sinapse.Vision;
using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Optimizers;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Training;
using Spectre.Console;

namespace Sinapse.Cli.Commands;

/// <summary><c>sinapse evaluate</c>: a saved model's loss, accuracy and confusion matrix on a test set.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory (model.json + weights.safetensors), e.g. runs/train/model.", Required = true };
        var data = new Option<string?>("--data") { Description = "Directory with the four IDX files; its test set is used. Default: the bundled data/mnist." };
        var csv = new Option<string?>("--csv") { Description = "Evaluate on every row of this CSV table instead (header row, numeric feature columns), for a model trained with train --csv." };
        var target = new Option<string?>("--target") { Description = "With --csv: the name of the column holding the classes." };
        var images = new Option<string?>("--images") { Description = "Evaluate on a folder of images instead, one sub-folder per class (root/cat/1.jpg, root/dog/2.png …), resized and centre-cropped to the model's size." };
        var command = new Command("evaluate", "Evaluate a saved model on a test set: loss, accuracy and the confusion matrix.") { model, data, csv, target, images };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var sources = new Option[] { data, csv, images }.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
            if (sources.Count > 1) throw new ArgumentException($"Give one test set, not {string.Join(" and ", sources)}.");
            var table = parse.GetValue(csv);
            if ((table == null) != (parse.GetValue(target) == null))
                throw new ArgumentException(table == null ? "--target names a column of the --csv table; give --csv FILE too." : "--csv needs --target COLUMN, the name of the column holding the classes.");
            var saved = SavedModel.Load(parse.GetValue(model)!);
            var directory = table ?? parse.GetValue(images) ?? parse.GetValue(data) ?? Mnist.FindBundledDirectory();
            var test = table != null ? Csv.Load(table, parse.GetValue(target)!)
                : parse.GetValue(images) != null ? ImagesFor(directory, saved.ExampleShape)
                : Mnist.Load(directory).Test;
            if (test.FeatureShape != saved.ExampleShape)
                throw new ArgumentException($"{directory}: the model takes examples of shape {saved.ExampleShape}, the test set has {test.FeatureShape}; "
                    + "give --csv FILE --target COLUMN for a model trained on a table, --images DIR for one trained on images, or --data DIR for IDX files.");
            test = InModelClasses(test, saved.ClassNames, directory);
            if (saved.Transform != null) test = saved.Transform.Apply(test);
            var trainer = new Trainer(saved.Model, new CrossEntropyLoss(), new Sgd(saved.Model.Parameters(), 0f));
            var evaluation = trainer.Evaluate(test);
            var outputs = Trainer.Predict(saved.Model, test.Features);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{test.Count:N0} {(table != null ? "rows" : "test examples")} from {directory}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loss: {evaluation.Loss:F4}"));
            if (evaluation.Accuracy is double accuracy) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy: {accuracy:F4}"));
            if (outputs.Rank == 2 && test.HasLabels) AnsiConsole.Write(ConfusionMatrix(outputs, test, saved.ClassNames));
            return 0;
        }));
        return command;
    }

    /// <summary>A folder of class folders as the model's examples [C, H, W]: raw pixels 0..255, gray for one channel, the model's transform still to apply.</summary>
    private static Dataset ImagesFor(string root, Shape example)
    {
        if (example.Rank != 3 || example[0] is not (1 or 3) || example[1] != example[2])
            throw new ArgumentException($"--images {root}: the model takes examples of shape {example}, not square images of 1 or 3 channels.");
        return ImageFolder.Load(root, size: example[1], normalization: ImageNormalization.None, channels: example[0] == 1 ? ImageChannels.Grayscale : ImageChannels.Rgb);
    }

    /// <summary>
    /// The test set with its labels renumbered as the model numbers its classes, matched by name: a
    /// test set may hold fewer classes than the model, so the same index can name another class.
    /// </summary>
    internal static Dataset InModelClasses(Dataset test, IReadOnlyList<string>? modelClasses, string source)
    {
        if (test.ClassNames is not { } testClasses || modelClasses == null || testClasses.SequenceEqual(modelClasses)) return test;
        var known = modelClasses.ToList();
        var index = new int[testClasses.Count];
        for (int c = 0; c < testClasses.Count; c++)
        {
            index[c] = known.IndexOf(testClasses[c]);
            if (index[c] < 0)
                throw new ArgumentException($"{source}: expected the model's classes ({string.Join(", ", modelClasses.Take(20))}), found class {InputFile.Quote(testClasses[c])}.");
        }
        var labels = Tensor.FromArray(test.Targets.ToArray().Select(label => (float)index[(int)label]).ToArray());
        return new Dataset(test.Features, labels, modelClasses.Count, modelClasses);
    }

    /// <summary>Rows are the true classes, columns the predicted ones.</summary>
    internal static Table ConfusionMatrix(Tensor outputs, Dataset data, IReadOnlyList<string>? names)
    {
        int classes = outputs.Shape[1];
        var counts = new long[classes, classes];
        for (int i = 0; i < data.Count; i++)
        {
            int actual = (int)data.Targets.Span[i];
            if (actual < classes) counts[actual, Metrics.ArgMax(outputs.Span.Slice(i * classes, classes))]++;
        }
        string Name(int c) => names != null && c < names.Count ? names[c] : c.ToString(CultureInfo.InvariantCulture);
        var table = new Table { Title = new TableTitle("confusion matrix (rows: true class, columns: predicted)") };
        table.AddColumn("true \\ predicted");
        for (int c = 0; c < classes; c++) table.AddColumn(new TableColumn(Markup.Escape(Name(c))).RightAligned());
        for (int r = 0; r < classes; r++)
            table.AddRow([Markup.Escape(Name(r)), .. Enumerable.Range(0, classes).Select(c => r == c ? $"[bold]{counts[r, c]}[/]" : counts[r, c].ToString(CultureInfo.InvariantCulture))]);
        return table;
    }
}
