using System.CommandLine;
using System.Globalization;
using Sinapse.IO;
using Sinapse.Data;
using Sinapse.Diagnostics;
using Sinapse.Kernels;
using Sinapse.Losses;
using Sinapse.Optimizers;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Training;
using Spectre.Console;
using Sinapse.Vision;

namespace Sinapse.Cli.Commands;

/// <summary><c>sinapse train</c>: trains a model (by default the course CNN on the bundled MNIST) and reports test accuracy.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var optimizer = new OptimizerOptions();
        var loss = new LossOptions();
        var schedule = new ScheduleOptions();
        var data = new Option<string?>("--data") { Description = "Directory with the four standard IDX files (plain or .gz), e.g. /usr/share/datasets/fashion-mnist. Default: the bundled data/mnist." };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training set.", DefaultValueFactory = _ => 5 };
        var batchSize = new Option<int>("--batch-size") { Description = "Examples per update: 1 is online learning, the training-set size is full-batch.", DefaultValueFactory = _ => 64 };
        var validation = new Option<int>("--validation") { Description = "Training examples held out (at random, by --seed) for validation.", DefaultValueFactory = _ => 5000 };
        var normalize = new Option<string>("--normalize") { Description = "Input normalisation: scale (X/255), standardize, minmax (onto --minmax-range) or none.", DefaultValueFactory = _ => "scale" };
        var minMaxRange = new Option<string?>("--minmax-range") { Description = "LOW,HIGH: the range --normalize minmax maps the training set's minimum and maximum onto (default 0,1; -1,1 gives the course's [−1, 1])." };
        var earlyStopping = new Option<int?>("--early-stopping") { Description = "PATIENCE: stop once the validation loss has not improved for this many epochs in a row, and keep the weights of the epoch with the lowest validation loss (needs --validation > 0; a resumed run counts afresh)." };
        var seed = new Option<ulong>("--seed") { Description = "Seed for initialisation, splitting and shuffling: the same seed gives the same model.", DefaultValueFactory = _ => 42UL };
        var restarts = new Option<int>("--restarts") { Description = "Train from this many random initialisations (seeds seed, seed+1, …) and keep the best on validation.", DefaultValueFactory = _ => 1 };
        var monitor = new Option<int>("--monitor-gradients") { Description = "Every k updates, record each layer's gradient and weight norms (gradient-norms.csv) and print them.", DefaultValueFactory = _ => 0 };
        var precisionOption = new Option<string>("--precision") { Description = "Number format of the linear and convolution layers: fp32, bf16 or fp16 (mixed precision: float32 master weights and accumulation; fp16 adds dynamic loss scaling).", DefaultValueFactory = _ => "fp32" };
        var threads = ThreadsOption.Create();
        var output = new Option<string>("--out") { Description = "Directory for the trained model (model/), history.csv, filters.png, checkpoints/ and other results.", DefaultValueFactory = _ => Path.Combine("runs", "train") };
        var saveEvery = new Option<int>("--save-every") { Description = "Write a checkpoint to <out>/checkpoints every N epochs (0: none).", DefaultValueFactory = _ => 0 };
        var keep = new Option<int>("--keep") { Description = "Keep only the newest K checkpoints (0: all).", DefaultValueFactory = _ => 0 };
        var stopAfter = new Option<int>("--stop-after") { Description = "End this session after epoch N (checkpointed), to continue later with --resume; the schedule still spans --epochs.", DefaultValueFactory = _ => 0 };
        var csv = new Option<string?>("--csv") { Description = "Train on a CSV table instead (header row, numeric feature columns), split 75/25 by --seed into training and test; defaults become --model mlp, --normalize standardize, --validation 0." };
        var target = new Option<string?>("--target") { Description = "With --csv: the name of the column to predict (class names or whole-number labels)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run whose checkpoint (or checkpoints folder, or --out directory) this is, with its options; --epochs may raise the total." };

        var command = new Command("train", "Train a model and report its test accuracy (default: the course CNN on the bundled MNIST).");
        model.AddTo(command);
        optimizer.AddTo(command);
        loss.AddTo(command);
        schedule.AddTo(command);
        foreach (var option in new Option[] { data, epochs, batchSize, validation, normalize, minMaxRange, seed, earlyStopping, restarts, monitor, precisionOption, threads, output, saveEvery, keep, stopAfter, resume, csv, target })
            command.Options.Add(option);

        command.SetAction(given => CommandErrors.Run(() =>
        {
            // A resumed run takes its options from the checkpoint, so it continues exactly as it began.
            var (parse, resumed) = RunArguments.Resolve(command, given, resume, epochs);
            int everyEpochs = parse.GetValue(saveEvery), keepCount = parse.GetValue(keep), stopEpoch = parse.GetValue(stopAfter);
            int epochCount = parse.GetValue(epochs), batch = parse.GetValue(batchSize), held = parse.GetValue(validation);
            int runs = parse.GetValue(restarts), monitorEvery = parse.GetValue(monitor);
            var table = parse.GetValue(csv);
            if (table != null && parse.GetResult(validation) is not { Implicit: false }) held = 0;   // a table of a few hundred rows has none to spare
            if (epochCount <= 0) throw new ArgumentException($"--epochs must be at least 1, got {epochCount}.");
            if (batch <= 0) throw new ArgumentException($"--batch-size must be at least 1, got {batch}.");
            if (held < 0) throw new ArgumentException($"--validation must be 0 or more, got {held}.");
            if (runs < 1) throw new ArgumentException($"--restarts must be at least 1, got {runs}.");
            if (monitorEvery < 0) throw new ArgumentException($"--monitor-gradients must be 0 (off) or more, got {monitorEvery}.");
            if (everyEpochs < 0 || keepCount < 0 || stopEpoch < 0) throw new ArgumentException($"--save-every, --keep and --stop-after must be 0 or more, got {everyEpochs}, {keepCount} and {stopEpoch}.");
            if ((everyEpochs > 0 || stopEpoch > 0 || resumed != null) && runs > 1) throw new ArgumentException("Checkpoints and --resume follow one run: use --restarts 1.");
            var outputDirectory = OutputDirectory.Prepare(parse.GetValue(output)!);
            var modelDirectory = Path.Combine(outputDirectory, "model");
            // A run killed between its last checkpoint and writing model/ has finished training: resuming it only writes the model.
            bool finished = resumed != null && resumed.Epoch >= epochCount;
            if (finished && File.Exists(Path.Combine(modelDirectory, SavedModel.WeightsFile)))
                throw new ArgumentException($"{resumed!.Directory} is already at epoch {resumed.Epoch} of {epochCount}; give a larger --epochs to train on.");
            int? patience = parse.GetValue(earlyStopping);
            if (patience != null && (patience < 0 || held == 0))
                throw new ArgumentException(patience < 0 ? $"--early-stopping takes a patience of 0 or more epochs, got {patience}."
                    : "--early-stopping watches the validation loss; hold out examples with --validation N (N > 0).");
            var precision = MixedPrecision.Parse(parse.GetValue(precisionOption)!);
            // Building the optimizer for no parameters checks every optimizer option before any data is loaded.
            schedule.Validate(parse, optimizer.Build(parse, []), epochCount);
            loss.Validate(parse);
            model.Validate(parse);
            var unfitted = ParseTransform(table != null && parse.GetResult(normalize) is not { Implicit: false } ? "standardize" : parse.GetValue(normalize)!, parse.GetValue(minMaxRange));
            ThreadsOption.Apply(parse, threads);

            if (table == null && parse.GetValue(target) != null) throw new ArgumentException("--target names a column of the --csv table; give --csv FILE too.");
            var directory = table ?? parse.GetValue(data) ?? Mnist.FindBundledDirectory();
            var (train, test) = table != null
                ? Csv.Load(table, parse.GetValue(target) ?? throw new ArgumentException("--csv needs --target COLUMN, the name of the column to predict.")).Split(0.75, parse.GetValue(seed))
                : Mnist.Load(directory);
            // One class leaves nothing to tell apart: the model would learn a constant and the accuracy would be undefined.
            if (train.HasLabels && train.ClassCount < 2)
                throw new InvalidDataException($"{directory}: expected at least two classes to tell apart, found {(train.ClassNames is { } names ? $"only {InputFile.Quote(names[0])}" : "one")}.");
            Dataset? validationSet = null;
            ulong baseSeed = parse.GetValue(seed);
            if (held > 0)
            {
                if (held >= train.Count) throw new ArgumentException($"--validation {held} leaves no training examples out of {train.Count}.");
                (train, validationSet) = train.Split(1.0 - (double)held / train.Count, baseSeed);
            }
            // Fitted on the training part only, so the test rows never leak into the statistics.
            var transform = unfitted.Fit(train);
            train = transform.Apply(train);
            test = transform.Apply(test);
            if (validationSet != null) validationSet = transform.Apply(validationSet);

            // Each run draws its initial weights and then its shuffling from one Rng seeded by its number.
            Rng runRng = null!;
            Trainer CreateTrainer(int run)
            {
                var rng = runRng = new Rng(baseSeed + (ulong)run);
                var network = model.Build(parse, train.FeatureShape, train.ClassCount, rng);
                var trainer = new Trainer(network, loss.Build(parse, train.ClassCount), optimizer.Build(parse, network.Parameters()));
                optimizer.Configure(parse, trainer);
                trainer.Precision = precision;
                if (precision == Precision.Float16) trainer.LossScaler = new LossScaler();
                if (monitorEvery > 0) trainer.Callbacks.Add(new GradientMonitor(monitorEvery, Console.Out));
                if (patience != null) trainer.Callbacks.Add(new EarlyStopping("val_loss", patience.Value));
                return trainer;
            }

            foreach (var leftover in Checkpoint.RemoveInterrupted(Path.Combine(outputDirectory, "checkpoints")))
                Console.WriteLine($"Removed {leftover}, the remains of a checkpoint write that was interrupted.");
            History Fit(Trainer trainer)
            {
                var loader = new DataLoader(train, batch, shuffle: true, rng: runRng);
                trainer.Scheduler = schedule.Build(parse, trainer.Optimizer, epochCount, loader.BatchesPerEpoch);
                // The run's Rng draws the initial weights, the dropout masks and each epoch's order; Rng.Global serves any layer given none.
                var rngs = new Dictionary<string, Rng> { ["run"] = runRng, ["global"] = Rng.Global };
                var history = resumed?.Restore(trainer, rngs);
                foreach (var skipped in resumed?.Skipped ?? [])
                    Console.WriteLine($"Passed over the newer checkpoint {skipped}");
                if (finished)
                {
                    Console.WriteLine($"{resumed!.Directory} finished training (epoch {resumed.Epoch} of {epochCount}) but {modelDirectory} was never written; writing it from the checkpoint.");
                    return history!;
                }
                if (resumed != null) Console.WriteLine($"Resuming from {resumed.Directory} after epoch {resumed.Epoch}.");
                if (everyEpochs > 0 || stopEpoch > 0)
                    trainer.Callbacks.Add(new CheckpointCallback(Path.Combine(outputDirectory, "checkpoints"), everyEpochs > 0 ? everyEpochs : stopEpoch, rngs,
                        train.FeatureShape, transform, train.ClassNames, RunArguments.ToJson(parse, outputDirectory), keepCount, loader));
                if (stopEpoch > 0) trainer.Callbacks.Add(new StopAfter(stopEpoch));
                Console.WriteLine($"Training {trainer.Model.Describe()} with {trainer.Model.ParameterCount():N0} parameters on {train.Count:N0} examples from {directory} " +
                                  $"({(validationSet?.Count ?? 0):N0} validation, {test.Count:N0} test); {epochCount} epochs of batch {batch}, " +
                                  $"{optimizer.Describe(parse, trainer)} ({trainer.Scheduler.Schedule}){LossOptions.Describe(trainer.Loss)}, {Workers.Count} threads" +
                                  (precision == Precision.Float32 ? "." : $", {MixedPrecision.ShortName(precision)} mixed precision{(trainer.LossScaler != null ? " with dynamic loss scaling" : "")}."));
                return TrainingProgress.Run(trainer, loader, epochCount, validationSet, history);
            }

            var result = Restarts.Run(runs, CreateTrainer, Fit, (trainer, history) =>
                history.Last!.ValidationAccuracy ?? history.Last.TrainAccuracy ?? -history.Last.TrainLoss);
            var best = result.Best;
            // Saved before anything else can fail, so the trained model is never lost.
            new SavedModel(best.Model, train.FeatureShape, transform, train.ClassNames).Save(modelDirectory);
            result.BestHistory.SaveCsv(Path.Combine(outputDirectory, "history.csv"));
            var evaluation = best.Evaluate(test);
            PrintResults(result.BestHistory, evaluation);
            if (best.Callbacks.OfType<EarlyStopping>().SingleOrDefault() is { } stopper)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"early stopping: {(stopper.StoppedEpoch is int stopped ? $"stopped after epoch {stopped}" : "ran all epochs")}; kept the weights of epoch {stopper.BestEpoch} (validation loss {stopper.Best:F4})"));
            if (runs > 1)
                Console.WriteLine($"restarts: kept run {result.BestRun + 1} of {runs} (validation scores {string.Join(", ", result.Scores.Select(s => s.ToString("F4", CultureInfo.InvariantCulture)))})");
            Console.WriteLine($"model: {modelDirectory}");
            Console.WriteLine($"history: {Path.Combine(outputDirectory, "history.csv")}");
            if (monitorEvery > 0)
            {
                File.WriteAllText(Path.Combine(outputDirectory, "gradient-norms.csv"), GradientMonitor.ToCsv(result.BestHistory.LayerNorms));
                Console.WriteLine($"gradient norms: {Path.Combine(outputDirectory, "gradient-norms.csv")}");
            }
            if (FilterImages.FirstConvolution(best.Model) is { } convolution)
            {
                FilterImages.Save(convolution, Path.Combine(outputDirectory, "filters.png"));
                Console.WriteLine($"first-layer filters: {Path.Combine(outputDirectory, "filters.png")}");
            }
            if (best.LossScaler is { } scaler)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loss scale: {scaler.Scale} ({scaler.SkippedSteps} steps skipped because their float16 gradients overflowed)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test accuracy: {evaluation.Accuracy:F4}"));
            return 0;
        }));
        return command;
    }

    /// <summary>Ends the session after an epoch, leaving its checkpoint to resume from.</summary>
    private sealed class StopAfter(int epoch) : Callback
    {
        public override void OnEpochEnd(Trainer trainer, EpochRecord record)
        {
            if (record.Epoch >= epoch) trainer.StopRequested = true;
        }
    }

    /// <summary>The unfitted input transform of --normalize, with --minmax-range's LOW,HIGH for minmax.</summary>
    internal static InputTransform ParseTransform(string name, string? range)
    {
        name = name.Trim().ToLowerInvariant();
        if (range != null && name != "minmax") throw new ArgumentException($"--minmax-range sets the range of --normalize minmax, not of '{name}'.");
        return name switch
        {
            "scale" => InputTransform.Scale(1f / 255f),
            "standardize" => InputTransform.Standardize(),
            "minmax" when range == null => InputTransform.MinMax(),
            "minmax" => ParseRange(range) is var (low, high) && low < high ? InputTransform.MinMax(low, high)
                : throw new ArgumentException($"--minmax-range needs LOW < HIGH, got {range}."),
            "none" => InputTransform.None(),
            _ => throw new ArgumentException($"Unknown --normalize '{name}'. Expected scale, standardize, minmax or none."),
        };
    }

    private static (float Low, float High) ParseRange(string range)
    {
        var parts = range.Split(',');
        return parts.Length == 2 && float.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out float low) && float.IsFinite(low)
               && float.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out float high) && float.IsFinite(high)
            ? (low, high)
            : throw new ArgumentException($"--minmax-range takes two finite numbers LOW,HIGH such as -1,1, got '{range}'.");
    }

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
