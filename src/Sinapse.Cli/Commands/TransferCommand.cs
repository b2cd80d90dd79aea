using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Sinapse.Cli.Experiments;
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
using Sinapse.Vision;

namespace Sinapse.Cli.Commands;

/// <summary>
/// <c>sinapse transfer</c>: the course's transfer-learning experiment. A CNN learns a source task
/// (MNIST digits 0–4), then a target task with few labels (digits 5–9, a few hundred examples) is
/// learned three ways on the same budget: (a) a new head on the frozen features, (b) a new head
/// and fine-tuning of every layer with a low learning rate for the pretrained ones, (c) from scratch.
/// With <c>--base mobilenet_v2</c> (or <c>mobilenet_v1</c>) the source is the ImageNet-pretrained
/// MobileNet that ships with Sinapse and the target an image folder with train/ and test/ (by
/// default data/fashion-photos); (b) then fine-tunes the last blocks only, and the command writes
/// the table, the per-epoch test accuracy curves (PNG and CSV) and a report.
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
        var baseModel = new Option<string?>("--base") { Description = $"The network to transfer from instead of pretraining on --source: an ImageNet-pretrained {string.Join(" or ", BaseNames)}, or a saved model directory." };
        var images = new Option<string?>("--images") { Description = "With a pretrained --base: the image folder of the target task, holding train/ and test/ with one sub-folder per class (default: the bundled data/fashion-photos)." };
        var imageSize = new Option<int>("--image-size") { Description = "With a pretrained --base: the side the images are resized to.", DefaultValueFactory = _ => DefaultImageSize };
        var fineTuneBlocks = new Option<int>("--fine-tune-blocks") { Description = "With a pretrained --base: how many of the last blocks (b) fine-tunes.", DefaultValueFactory = _ => DefaultFineTuneBlocks };
        var output = new Option<string>("--out") { Description = "With a pretrained --base: directory for report.md, the curves (PNG) and the numbers (CSV).", DefaultValueFactory = _ => Path.Combine("runs", "transfer") };
        var saveBase = new Option<string?>("--save-base") { Description = "Save the pretrained source model to this directory." };
        var pretrainEpochs = new Option<int>("--pretrain-epochs") { Description = "Epochs of pretraining on the source task.", DefaultValueFactory = _ => 2 };
        var epochs = new Option<int?>("--epochs") { Description = $"Epochs on the target task, the same for all three methods (default {DefaultEpochs}, {DefaultImageEpochs} with a pretrained --base)." };
        var batchSize = new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 32 };
        var rate = new Option<float>("--lr") { Description = "Adam learning rate of new layers and of training from scratch.", DefaultValueFactory = _ => 1e-3f };
        var fineTuneRate = new Option<float>("--fine-tune-lr") { Description = "Adam learning rate of the pretrained layers when fine-tuning.", DefaultValueFactory = _ => 1e-4f };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation, sampling and shuffling.", DefaultValueFactory = _ => 42UL };
        var threads = ThreadsOption.Create();
        var command = new Command("transfer", "Transfer learning vs fine-tuning vs training from scratch on a target task with few labels.")
            { source, target, sourceClasses, targetClasses, examples, baseModel, saveBase, pretrainEpochs, images, imageSize, fineTuneBlocks, output, epochs, batchSize, rate, fineTuneRate, seed, threads };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            ThreadsOption.Apply(parse, threads);
            var baseName = parse.GetValue(baseModel);
            bool imageNet = baseName != null && Pretrained.Exists(baseName);
            int targetCount = parse.GetValue(examples), epochCount = parse.GetValue(epochs) ?? (imageNet ? DefaultImageEpochs : DefaultEpochs), batch = parse.GetValue(batchSize);
            float lr = parse.GetValue(rate), lowLr = parse.GetValue(fineTuneRate);
            ulong baseSeed = parse.GetValue(seed);
            if (targetCount < 1 || epochCount < 1 || batch < 1) throw new ArgumentException("--target-examples, --epochs and --batch-size must be at least 1.");
            if (!(lr > 0) || !(lowLr > 0)) throw new ArgumentException("--lr and --fine-tune-lr must be positive.");
            string Given(params Option[] options) => string.Join(", ", options.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name));
            if (imageNet)
            {
                if (Given(source, target, sourceClasses, targetClasses, examples, saveBase, pretrainEpochs) is { Length: > 0 } digitOptions)
                    throw new ArgumentException($"{digitOptions}: not with the pretrained --base {baseName}, whose target task is the image folder of --images.");
                var budget = new TransferBudget(epochCount, batch, lr, lowLr, parse.GetValue(fineTuneBlocks));
                return TransferImages(baseName!, parse.GetValue(images), parse.GetValue(imageSize), budget, parse.GetValue(output)!, baseSeed, clock);
            }
            if (Given(images, imageSize, fineTuneBlocks, output) is { Length: > 0 } imageOptions)
                throw new ArgumentException($"{imageOptions}: only with an ImageNet-pretrained --base ({string.Join(" or ", BaseNames)}).");
            var sourceDirectory = parse.GetValue(source) ?? Mnist.FindBundledDirectory();
            var targetDirectory = parse.GetValue(target) ?? sourceDirectory;
            var toSource = ParseClasses(parse.GetValue(sourceClasses)!, "--source-classes");
            var toTarget = ParseClasses(parse.GetValue(targetClasses)!, "--target-classes");
            if (parse.GetValue(saveBase) is string saveTo) OutputDirectory.Prepare(saveTo, "--save-base");
            var scale = TransferComparison.Scale;
            // The target task is read and checked first, so a bad path, class or count fails before the minutes of pretraining, not after them.
            var (targetAll, targetTest) = Mnist.Load(targetDirectory);
            var targetPool = targetAll.FilterClasses(toTarget, relabel: true);
            if (targetCount > targetPool.Count) throw new ArgumentException($"--target-examples {targetCount} is more than the {targetPool.Count} examples of the target classes.");

            Sequential pretrained;
            if (baseName is string basePath)
            {
                if (!Directory.Exists(basePath))
                    throw new ArgumentException($"--base {basePath}: no such pretrained model or saved model directory; the pretrained models are {string.Join(", ", BaseNames)}.");
                var saved = SavedModel.Load(basePath);
                pretrained = saved.Model as Sequential ?? throw new ArgumentException($"--base {basePath}: transfer needs a Sequential model (its head is replaced), not {saved.Model.Describe()}.");
                Console.WriteLine($"Base model: {basePath} ({pretrained.ParameterCount():N0} parameters).");
            }
            else
            {
                var (sourceTrain, sourceTest) = SameDirectory(sourceDirectory, targetDirectory) ? (targetAll, targetTest) : Mnist.Load(sourceDirectory);
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

            var targetTrain = scale.Apply(TransferComparison.Draw(targetPool, targetCount, 0, baseSeed).Train);
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
            table.AddColumns(Header);
            foreach (var result in results) table.AddRow(Row(result).Select(Markup.Escape).ToArray());
            AnsiConsole.Write(table);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total time: {clock.Elapsed.TotalSeconds:F1} s"));
            return 0;
        }));
        return command;
    }

    private const int DefaultEpochs = 30, DefaultImageEpochs = 8, DefaultImageSize = 64, DefaultFineTuneBlocks = 3;

    /// <summary>The share of train/ held out to draw the curves, so that the test images are used once, for the table.</summary>
    private const double ValidationShare = 0.1;

    /// <summary>The pretrained networks --base names, in the short form the help shows.</summary>
    private static readonly string[] BaseNames = ["mobilenet_v2", "mobilenet_v1"];

    /// <summary>
    /// The comparison from an ImageNet-pretrained MobileNet to the image folder <paramref name="root"/>
    /// (train/ and test/ with the same classes); prints the table and writes the report with the curves.
    /// </summary>
    private static int TransferImages(string baseName, string? root, int size, TransferBudget budget, string output, ulong seed, Stopwatch clock)
    {
        if (size < 8) throw new ArgumentException($"--image-size must be at least 8 pixels, got {size}.");
        if (budget.FineTuneLayers < 1) throw new ArgumentException($"--fine-tune-blocks must be at least 1, got {budget.FineTuneLayers}.");
        OutputDirectory.Prepare(output, "--out");
        root ??= BundledData.Find("fashion-photos", "give an image folder with --images DIR");
        // The TFLite MobileNets were trained on x/127.5 − 1; grey images become three equal channels.
        Dataset Read(string split) => ImageFolder.Load(Path.Combine(root, split), size, normalization: ImageNormalization.PlusMinusOne, channels: ImageChannels.Rgb);
        foreach (var split in new[] { "train", "test" })
            if (!Directory.Exists(Path.Combine(root, split)))
                throw new DirectoryNotFoundException($"--images {root} has no {split}/ folder; it needs train/ and test/, each with one sub-folder of images per class.");
        var (train, validation) = Read("train").Split(1 - ValidationShare, seed);
        var test = Read("test");
        if (train.ClassCount < 2) throw new InvalidDataException($"{Path.Combine(root, "train")} has one class folder ('{train.ClassNames![0]}'); telling classes apart needs at least two.");
        if (!train.ClassNames!.SequenceEqual(test.ClassNames!))
            throw new InvalidDataException($"{root}: train/ has the classes {string.Join(", ", train.ClassNames!)} but test/ has {string.Join(", ", test.ClassNames!)}; they must be the same.");
        if (validation.Count == 0)
            throw new InvalidDataException($"{Path.Combine(root, "train")} has {train.Count} images: too few to hold a tenth out for validation.");
        int blocks = budget.FineTuneLayers!.Value;
        // Flips and shifts of up to an eighth of the side; a shifted crop is filled with black (−1 after scaling), the photos' background.
        budget = budget with { Augmentation = Augmentation.Compose(Augmentation.HorizontalFlip(), Augmentation.RandomCrop(Math.Max(1, size / 8), fill: -1f)) };

        var report = new Report(output, $"Transfer learning from the ImageNet-pretrained {baseName} to {Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)))}");
        report.Text($"Images: {root}, {train.ClassCount} classes ({string.Join(", ", train.ClassNames!)}), {train.Count} for training, {validation.Count} of train/ held out for validation and {test.Count} for testing, " +
                    $"resized to {size}×{size} as RGB (a grey image as three equal channels) and scaled to [−1, 1] as the pretrained network expects. " +
                    string.Create(CultureInfo.InvariantCulture, $"Each method gets {budget.Epochs} epochs of batch {budget.BatchSize} (the same shuffles, but for (a), which draws no augmentation, after the first epoch), Adam lr {budget.LearningRate} for new weights and for training from scratch. ") +
                    $"(a) replaces the 1001-class head by a {train.ClassCount}-class one and trains only that, on the frozen trunk's features computed once (so without augmentation); " +
                    string.Create(CultureInfo.InvariantCulture, $"(b) also fine-tunes the last {blocks} blocks of the trunk at lr {budget.FineTuneRate}, with random flips and shifts; ") +
                    $"(c) trains the same architecture (with batch norm, which the pretrained file has folded away) from random weights, with the same augmentation. " +
                    "The curves are the validation images' accuracy after every epoch; the test images are used once per method, at the end: the table gives the last epoch's network, " +
                    "trunk and head together, not the best one.");
        var results = TransferComparison.Compare(baseName, train, validation, test, budget, seed);

        report.Table(Header, results.Select(Row));
        double scratch = results[^1].Test.Accuracy ?? double.NaN;
        report.Text(string.Join("; ", results.SkipLast(1).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Method} − (c): {100 * ((r.Test.Accuracy ?? double.NaN) - scratch):+0.0;−0.0} points"))) +
                    ". Validation accuracy after the first epoch: " + string.Join(", ", results.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Method} {r.History.Epochs[0].ValidationAccuracy:P1}"))) + ".");
        Plots.Lines(report.PathOf("validation-accuracy.png"), "Validation accuracy per epoch", "epoch", "validation accuracy",
            results.Select(TransferComparison.AccuracyCurve), markers: true, legend: ScottPlot.Alignment.LowerRight);
        report.Image("validation-accuracy.png", "Validation accuracy per epoch, three methods");
        report.Csv("transfer.csv", "method,epoch,train_loss,train_accuracy,validation_loss,validation_accuracy",
            results.SelectMany(TransferComparison.CsvRows));
        report.Save();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total time: {clock.Elapsed.TotalSeconds:F1} s"));
        return 0;
    }

    private static readonly string[] Header = ["method", "trainable parameters", "test loss", "test accuracy", "seconds"];

    private static string[] Row(TransferResult result) =>
        [result.Method, result.TrainableParameters.ToString("N0", CultureInfo.InvariantCulture), result.Test.Loss.ToString("F4", CultureInfo.InvariantCulture),
         result.Test.Accuracy?.ToString("F4", CultureInfo.InvariantCulture) ?? "-", result.Seconds.ToString("F1", CultureInfo.InvariantCulture)];

    private static bool SameDirectory(string first, string second) =>
        Path.TrimEndingDirectorySeparator(Path.GetFullPath(first)) == Path.TrimEndingDirectorySeparator(Path.GetFullPath(second));

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
