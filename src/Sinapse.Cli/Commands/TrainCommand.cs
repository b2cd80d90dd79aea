using System.CommandLine;
using System.Globalization;
using Sinapse.Data;
using Sinapse.Kernels;
using Sinapse.Losses;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;
using Spectre.Console;

namespace Sinapse.Cli.Commands;

/// <summary><c>sinapse train</c>: trains a model (by default on the bundled MNIST) and reports test accuracy.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var schedule = new ScheduleOptions();
        var data = new Option<string?>("--data") { Description = "Directory with the four standard IDX files (plain or .gz), e.g. /usr/share/datasets/fashion-mnist. Default: the bundled data/mnist." };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training set.", DefaultValueFactory = _ => 10 };
        var batchSize = new Option<int>("--batch-size") { Description = "Examples per update: 1 is online learning, the training-set size is full-batch.", DefaultValueFactory = _ => 128 };
        var learningRate = new Option<float>("--lr") { Description = "Learning rate.", DefaultValueFactory = _ => 1e-3f };
        var optimizer = new Option<string>("--optimizer") { Description = "sgd, momentum, nesterov, adam or adamw.", DefaultValueFactory = _ => "adam" };
        var momentum = new Option<float>("--momentum") { Description = "Momentum for the momentum and nesterov optimizers.", DefaultValueFactory = _ => 0.9f };
        var weightDecay = new Option<float>("--weight-decay") { Description = "Weight decay (L2 for sgd/adam, decoupled for adamw).", DefaultValueFactory = _ => 0f };
        var validation = new Option<int>("--validation") { Description = "Training examples held out (at random, by --seed) for validation.", DefaultValueFactory = _ => 5000 };
        var normalize = new Option<string>("--normalize") { Description = "Input normalisation: scale (X/255), standardize, minmax or none.", DefaultValueFactory = _ => "scale" };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation, splitting and shuffling: the same seed gives the same model.", DefaultValueFactory = _ => 42UL };
        var threads = new Option<int>("--threads") { Description = "Worker threads (default: all processors).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var output = new Option<string>("--out") { Description = "Directory for history.csv and other results.", DefaultValueFactory = _ => Path.Combine("runs", "train") };

        var command = new Command("train", "Train a model and report its test accuracy (default: an MLP on the bundled MNIST).");
        model.AddTo(command);
        schedule.AddTo(command);
        foreach (var option in new Option[] { data, epochs, batchSize, learningRate, optimizer, momentum, weightDecay, validation, normalize, seed, threads, output })
            command.Options.Add(option);

        command.SetAction(parse => CommandErrors.Run(() =>
        {
            int epochCount = parse.GetValue(epochs), batch = parse.GetValue(batchSize), held = parse.GetValue(validation);
            float rate = parse.GetValue(learningRate);
            if (epochCount <= 0) throw new ArgumentException($"--epochs must be at least 1, got {epochCount}.");
            if (batch <= 0) throw new ArgumentException($"--batch-size must be at least 1, got {batch}.");
            if (!(rate > 0) || float.IsInfinity(rate)) throw new ArgumentException($"--lr must be a positive finite number, got {rate.ToString(CultureInfo.InvariantCulture)}.");
            if (held < 0) throw new ArgumentException($"--validation must be 0 or more, got {held}.");
            Workers.Count = parse.GetValue(threads);

            var directory = parse.GetValue(data) ?? Mnist.FindBundledDirectory();
            var (train, test) = Mnist.Load(directory);
            Dataset? validationSet = null;
            if (held > 0)
            {
                if (held >= train.Count) throw new ArgumentException($"--validation {held} leaves no training examples out of {train.Count}.");
                (train, validationSet) = train.Split(1.0 - (double)held / train.Count, parse.GetValue(seed));
            }
            var transform = ParseTransform(parse.GetValue(normalize)!).Fit(train);
            train = transform.Apply(train);
            test = transform.Apply(test);
            if (validationSet != null) validationSet = transform.Apply(validationSet);

            var rng = new Rng(parse.GetValue(seed));
            var network = model.Build(parse, train.FeatureShape, train.ClassCount, rng);
            var trainer = new Trainer(network, new CrossEntropyLoss(), CreateOptimizer(parse.GetValue(optimizer)!, network.Parameters(), rate, parse.GetValue(momentum), parse.GetValue(weightDecay)));
            var loader = new DataLoader(train, batch, shuffle: true, rng: rng);
            trainer.Scheduler = schedule.Build(parse, trainer.Optimizer, epochCount, loader.BatchesPerEpoch);

            Console.WriteLine($"Training {network.Describe()} with {network.ParameterCount():N0} parameters on {train.Count:N0} examples from {directory} " +
                              $"({(validationSet?.Count ?? 0):N0} validation, {test.Count:N0} test); {epochCount} epochs of batch {batch}, {parse.GetValue(optimizer)} lr {rate.ToString(CultureInfo.InvariantCulture)} ({trainer.Scheduler.Schedule}), {Workers.Count} threads.");
            var history = TrainingProgress.Run(trainer, loader, epochCount, validationSet);
            var result = trainer.Evaluate(test);

            var outputDirectory = parse.GetValue(output)!;
            Directory.CreateDirectory(outputDirectory);
            history.SaveCsv(Path.Combine(outputDirectory, "history.csv"));
            PrintResults(history, result);
            Console.WriteLine($"history: {Path.Combine(outputDirectory, "history.csv")}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test accuracy: {result.Accuracy:F4}"));
            return 0;
        }));
        return command;
    }

    private static InputTransform ParseTransform(string name) => name.Trim().ToLowerInvariant() switch
    {
        "scale" => InputTransform.Scale(1f / 255f),
        "standardize" => InputTransform.Standardize(),
        "minmax" => InputTransform.MinMax(),
        "none" => InputTransform.None(),
        _ => throw new ArgumentException($"Unknown --normalize '{name}'. Expected scale, standardize, minmax or none."),
    };

    private static Optimizer CreateOptimizer(string name, IEnumerable<Tensor> parameters, float rate, float momentum, float weightDecay) => name.Trim().ToLowerInvariant() switch
    {
        "sgd" => new Sgd(parameters, rate, weightDecay: weightDecay),
        "momentum" => new Sgd(parameters, rate, momentum, weightDecay: weightDecay),
        "nesterov" => new Sgd(parameters, rate, momentum, nesterov: true, weightDecay: weightDecay),
        "adam" => new Adam(parameters, rate, weightDecay: weightDecay),
        "adamw" => new Adam(parameters, rate, weightDecay: weightDecay, decoupled: true),
        _ => throw new ArgumentException($"Unknown --optimizer '{name}'. Expected sgd, momentum, nesterov, adam or adamw."),
    };

    private static void PrintResults(History history, Evaluation test)
    {
        var table = new Table().AddColumns("epoch", "train loss", "train acc", "val loss", "val acc", "seconds", "samples/s");
        foreach (var e in history.Epochs)
            table.AddRow(e.Epoch.ToString(CultureInfo.InvariantCulture), Format(e.TrainLoss), Format(e.TrainAccuracy), Format(e.ValidationLoss),
                Format(e.ValidationAccuracy), e.Seconds.ToString("F1", CultureInfo.InvariantCulture), e.SamplesPerSecond.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("test", Format(test.Loss), Format(test.Accuracy), "", "", "", "");
        AnsiConsole.Write(table);
    }

    private static string Format(double? value) => value?.ToString("F4", CultureInfo.InvariantCulture) ?? "-";
}
