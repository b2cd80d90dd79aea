using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Sinapse.Data;
using Sinapse.Kernels;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Training;
using Spectre.Console;

namespace Sinapse.Cli.Commands;

/// <summary>
/// <c>sinapse transfer</c>: the course's transfer-learning experiment. A CNN learns a source task
/// (MNIST digits 0–4), then a target task with few labels (digits 5–9, a few hundred examples) is
/// learned three ways on the same budget: (a) a new head on the frozen features, (b) a new head
/// and fine-tuning of every layer with a low learning rate for the pretrained ones, (c) from scratch.
/// </summary>
internal static class TransferCommand
{
    public static Command Create()
    {
        var source = new Option<string?>("--source") { Description = "IDX directory of the source task (default: the bundled MNIST)." };
        var target = new Option<string?>("--target") { Description = "IDX directory of the target task (default: the source's)." };
        var sourceClasses = new Option<string>("--source-classes") { Description = "Classes of the source task.", DefaultValueFactory = _ => "0,1,2,3,4" };
        var targetClasses = new Option<string>("--target-classes") { Description = "Classes of the target task.", DefaultValueFactory = _ => "5,6,7,8,9" };
        var examples = new Option<int>("--target-examples") { Description = "Labelled training examples of the target task.", DefaultValueFactory = _ => 300 };
        var baseModel = new Option<string?>("--base") { Description = "A pretrained model directory to transfer from, instead of pretraining on --source." };
        var saveBase = new Option<string?>("--save-base") { Description = "Save the pretrained source model to this directory." };
        var pretrainEpochs = new Option<int>("--pretrain-epochs") { Description = "Epochs of pretraining on the source task.", DefaultValueFactory = _ => 2 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs on the target task, the same for all three methods.", DefaultValueFactory = _ => 30 };
        var batchSize = new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 32 };
        var rate = new Option<float>("--lr") { Description = "Adam learning rate of new layers and of training from scratch.", DefaultValueFactory = _ => 1e-3f };
        var fineTuneRate = new Option<float>("--fine-tune-lr") { Description = "Adam learning rate of the pretrained layers when fine-tuning.", DefaultValueFactory = _ => 1e-4f };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation, sampling and shuffling.", DefaultValueFactory = _ => 42UL };
        var threads = ThreadsOption.Create();
        var command = new Command("transfer", "Transfer learning vs fine-tuning vs training from scratch on a target task with few labels.")
            { source, target, sourceClasses, targetClasses, examples, baseModel, saveBase, pretrainEpochs, epochs, batchSize, rate, fineTuneRate, seed, threads };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            ThreadsOption.Apply(parse, threads);
            int targetCount = parse.GetValue(examples), epochCount = parse.GetValue(epochs), batch = parse.GetValue(batchSize);
            float lr = parse.GetValue(rate), lowLr = parse.GetValue(fineTuneRate);
            ulong baseSeed = parse.GetValue(seed);
            if (targetCount < 1 || epochCount < 1 || batch < 1) throw new ArgumentException("--target-examples, --epochs and --batch-size must be at least 1.");
            if (!(lr > 0) || !(lowLr > 0)) throw new ArgumentException("--lr and --fine-tune-lr must be positive.");
            var sourceDirectory = parse.GetValue(source) ?? Mnist.FindBundledDirectory();
            var targetDirectory = parse.GetValue(target) ?? sourceDirectory;
            var toSource = ParseClasses(parse.GetValue(sourceClasses)!, "--source-classes");
            var toTarget = ParseClasses(parse.GetValue(targetClasses)!, "--target-classes");
            var scale = TransferComparison.Scale;

            Sequential pretrained;
            if (parse.GetValue(baseModel) is string basePath)
            {
                var saved = SavedModel.Load(basePath);
                pretrained = saved.Model as Sequential ?? throw new ArgumentException($"--base {basePath}: transfer needs a Sequential model (its head is replaced), not {saved.Model.Describe()}.");
                Console.WriteLine($"Base model: {basePath} ({pretrained.ParameterCount():N0} parameters).");
            }
            else
            {
                var (sourceTrain, sourceTest) = Mnist.Load(sourceDirectory);
                sourceTrain = scale.Apply(sourceTrain.FilterClasses(toSource, relabel: true));
                sourceTest = scale.Apply(sourceTest.FilterClasses(toSource, relabel: true));
                Console.WriteLine($"Pretraining the course CNN on classes {string.Join(",", toSource)} of {sourceDirectory}: {sourceTrain.Count:N0} examples, {parse.GetValue(pretrainEpochs)} epochs.");
                (pretrained, var sourceAccuracy) = TransferComparison.Pretrain(sourceTrain, sourceTest, toSource.Length, parse.GetValue(pretrainEpochs), lr, baseSeed);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"source test accuracy: {sourceAccuracy:F4}"));
                if (parse.GetValue(saveBase) is string savePath)
                {
                    new SavedModel(pretrained, sourceTrain.FeatureShape, scale, null).Save(savePath);
                    Console.WriteLine($"base model: {savePath}");
                }
            }

            var (targetAll, targetTest) = Mnist.Load(targetDirectory);
            targetAll = targetAll.FilterClasses(toTarget, relabel: true);
            if (targetCount > targetAll.Count) throw new ArgumentException($"--target-examples {targetCount} is more than the {targetAll.Count} examples of the target classes.");
            var targetTrain = scale.Apply(TransferComparison.Draw(targetAll, targetCount, 0, baseSeed).Train);
            targetTest = scale.Apply(targetTest.FilterClasses(toTarget, relabel: true));
            try
            {
                pretrained.OutputShape(targetTrain.Features.Shape.WithBatch(1));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"The target examples {targetTrain.FeatureShape} do not fit the base model: {e.Message}");
            }
            Console.WriteLine($"Target task: classes {string.Join(",", toTarget)} of {targetDirectory}, {targetCount} labelled examples, {targetTest.Count:N0} test; "
                + string.Create(CultureInfo.InvariantCulture, $"{epochCount} epochs of batch {batch} each, Adam lr {lr} (pretrained layers {lowLr} when fine-tuning)."));
            var results = TransferComparison.Compare(pretrained, toTarget.Length, targetTrain, null, targetTest, new TransferBudget(epochCount, batch, lr, lowLr), baseSeed);

            var table = new Table { Title = new TableTitle($"target: {toTarget.Length} classes, {targetCount} labelled examples, {epochCount} epochs each") };
            table.AddColumns("method", "trainable parameters", "test loss", "test accuracy", "seconds");
            foreach (var (method, trainable, _, test, seconds) in results)
                table.AddRow(Markup.Escape(method), trainable.ToString("N0", CultureInfo.InvariantCulture), test.Loss.ToString("F4", CultureInfo.InvariantCulture),
                    test.Accuracy?.ToString("F4", CultureInfo.InvariantCulture) ?? "-", seconds.ToString("F1", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total time: {clock.Elapsed.TotalSeconds:F1} s"));
            return 0;
        }));
        return command;
    }

    private static int[] ParseClasses(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || !parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
            throw new ArgumentException($"{option} expects at least two class numbers separated by commas (e.g. 0,1,2,3,4), got '{text}'.");
        var classes = parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        if (classes.Distinct().Count() != classes.Length) throw new ArgumentException($"{option} names a class twice: '{text}'.");
        return classes;
    }
}
