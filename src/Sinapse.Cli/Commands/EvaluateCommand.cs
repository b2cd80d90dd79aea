using System.CommandLine;
using System.Globalization;
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
        var command = new Command("evaluate", "Evaluate a saved model on a test set: loss, accuracy and the confusion matrix.") { model, data };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var saved = SavedModel.Load(parse.GetValue(model)!);
            var directory = parse.GetValue(data) ?? Mnist.FindBundledDirectory();
            var (_, test) = Mnist.Load(directory);
            if (saved.Transform != null) test = saved.Transform.Apply(test);
            var trainer = new Trainer(saved.Model, new CrossEntropyLoss(), new Sgd(saved.Model.Parameters(), 0f));
            var evaluation = trainer.Evaluate(test);
            var outputs = Trainer.Predict(saved.Model, test.Features);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{test.Count:N0} test examples from {directory}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loss: {evaluation.Loss:F4}"));
            if (evaluation.Accuracy is double accuracy) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy: {accuracy:F4}"));
            if (outputs.Rank == 2 && test.HasLabels) AnsiConsole.Write(ConfusionMatrix(outputs, test, saved.ClassNames));
            return 0;
        }));
        return command;
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
