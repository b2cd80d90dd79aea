using System.Globalization;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// Transfer learning: what a network learned on digits 0–4 is worth for digits 5–9
/// with a few hundred labels — a new head on frozen features, every layer fine-tuned, or nothing
/// reused — on the same budget. The same comparison as <c>sinapse transfer</c> (<see cref="TransferComparison"/>),
/// with validation accuracy recorded after every epoch.
/// </summary>
internal sealed class TransferExperiment : Experiment
{
    public override string Name => "transfer";
    public override string Title => "Transfer learning: frozen features vs fine-tuning vs from scratch";

    public override void Run(ExperimentOptions options, Report report)
    {
        int[] sourceClasses = [0, 1, 2, 3, 4], targetClasses = [5, 6, 7, 8, 9];
        int pretrainEpochs = options.Quick ? 1 : 2, labelled = options.Quick ? 100 : 300, validationCount = options.Quick ? 200 : 1000;
        var budget = new TransferBudget(Epochs: options.Quick ? 5 : 30, BatchSize: 32, LearningRate: 1e-3f, FineTuneRate: 1e-4f);
        var scale = TransferComparison.Scale;
        var (train, test) = ExperimentData.Mnist(options);
        var source = scale.Apply(ExperimentData.First(train.FilterClasses(sourceClasses, relabel: true), options.Quick ? 3000 : null));
        var sourceTest = scale.Apply(ExperimentData.First(test.FilterClasses(sourceClasses, relabel: true), options.Quick ? 500 : null));
        var (targetTrain, targetValidation) = TransferComparison.Draw(train.FilterClasses(targetClasses, relabel: true), labelled, validationCount, options.Seed);
        targetTrain = scale.Apply(targetTrain);
        var validation = scale.Apply(targetValidation!);
        var targetTest = scale.Apply(ExperimentData.First(test.FilterClasses(targetClasses, relabel: true), options.Quick ? 500 : null));

        report.Text($"Source task: the course CNN (Conv 32 → MaxPool → Conv 64 → MaxPool → Conv 64 → Dense) trained with Adam lr {G3(budget.LearningRate)} for {pretrainEpochs} epoch(s) of batch 64 " +
                    $"on the {source.Count:N0} MNIST training images of digits 0–4. Target task: digits 5–9 from only {labelled} labelled images, " +
                    $"{budget.Epochs} epochs of batch {budget.BatchSize} for each method, validation accuracy on {validation.Count:N0} other images of digits 5–9 after every epoch, " +
                    $"test accuracy on the {targetTest.Count:N0} test images of digits 5–9 ({Budget(options)}, seed {options.Seed}). " +
                    $"(a) replaces the 5-class head by a new one and trains only it (Adam lr {G3(budget.LearningRate)}); (b) replaces the head and trains every layer, " +
                    $"the pretrained ones at lr {G3(budget.FineTuneRate)} and the head at {G3(budget.LearningRate)}; (c) trains a new course CNN from random weights at lr {G3(budget.LearningRate)}. " +
                    "All three see the same batches in the same order.");
        var (pretrained, sourceAccuracy) = TransferComparison.Pretrain(source, sourceTest, sourceClasses.Length, pretrainEpochs, budget.LearningRate, options.Seed);
        report.Figures["source.accuracy"] = sourceAccuracy ?? double.NaN;
        var results = TransferComparison.Compare(pretrained, targetClasses.Length, targetTrain, validation, targetTest, budget, options.Seed);

        var rows = new List<string[]>();
        var curves = new List<Series>();
        var losses = new List<Series>();
        var csv = new List<object?[]>();
        foreach (var result in results)
        {
            var epochs = result.History.Epochs;
            curves.Add(TransferComparison.AccuracyCurve(result));
            losses.Add(new Series(result.Method, epochs.Select(e => (double)e.Epoch).ToArray(), epochs.Select(e => e.TrainLoss).ToArray()));
            csv.AddRange(TransferComparison.CsvRows(result));
            var best = epochs.MaxBy(e => e.ValidationAccuracy ?? 0)!;
            string key = Key(result.Method);
            report.Figures[$"{key}.accuracy"] = result.Test.Accuracy ?? double.NaN;
            report.Figures[$"{key}.first_validation_accuracy"] = epochs[0].ValidationAccuracy ?? double.NaN;
            report.Figures[$"{key}.best_validation_accuracy"] = best.ValidationAccuracy ?? double.NaN;
            report.Figures[$"{key}.trainable"] = result.TrainableParameters;
            rows.Add([result.Method, result.TrainableParameters.ToString("N0", CultureInfo.InvariantCulture), Percent(epochs[0].ValidationAccuracy),
                      $"{Percent(best.ValidationAccuracy)} (epoch {best.Epoch})", Percent(result.Test.Accuracy), result.Seconds.ToString("F1", CultureInfo.InvariantCulture)]);
        }
        report.Heading($"Digits 5–9 from {labelled} labels, {budget.Epochs} epochs each (pretrained on digits 0–4: source test accuracy {Percent(sourceAccuracy)})");
        report.Table(["method", "trainable parameters", "validation accuracy after epoch 1", "best validation accuracy", "test accuracy", "seconds"], rows);
        Plots.Lines(report.PathOf("validation-accuracy.png"), "Validation accuracy per epoch on the target task", "epoch", "validation accuracy", curves, markers: true);
        Plots.Lines(report.PathOf("training-loss.png"), "Training loss per epoch on the target task", "epoch", "loss (log scale)", losses, logY: true, markers: true);
        report.Image("validation-accuracy.png", "Validation accuracy per epoch, three methods");
        report.Image("training-loss.png", "Training loss per epoch, three methods");
        report.Csv("transfer.csv", "method,epoch,train_loss,train_accuracy,validation_loss,validation_accuracy", csv);

        report.Heading("What the figures show");
        double frozen = report.Figures["frozen.accuracy"], tuned = report.Figures["fine-tune.accuracy"], scratch = report.Figures["scratch.accuracy"];
        var ranked = results.OrderByDescending(r => r.Test.Accuracy ?? 0).ToList();
        double frozenStart = report.Figures["frozen.first_validation_accuracy"], tunedStart = report.Figures["fine-tune.first_validation_accuracy"], scratchStart = report.Figures["scratch.first_validation_accuracy"];
        var seconds = results.ToDictionary(r => Key(r.Method), r => r.Seconds);
        report.Text($"After one epoch the validation accuracy is {Percent(frozenStart)} with the frozen features, {Percent(tunedStart)} fine-tuned and {Percent(scratchStart)} from scratch" +
                    (Math.Min(frozenStart, tunedStart) > scratchStart
                        ? ": filters that learned strokes and loops on digits 0–4 describe 5–9 too, so the reused networks start with only the head to learn. "
                        : ". ") +
                    $"On the test set: {string.Join(", ", ranked.Select(r => $"{r.Method} {Percent(r.Test.Accuracy)}"))}. " +
                    (Math.Abs(tuned - frozen) < 0.005
                        ? $"Fine-tuning every layer at a low rate ends level with the frozen features ({Points(tuned - frozen)}): with {labelled} labels there is little to gain from moving filters that already fit, "
                        : tuned > frozen
                        ? $"Fine-tuning every layer at a low rate adapts the features to the new digits and ends {Points(tuned - frozen)} above the frozen features, "
                        : $"Fine-tuning every layer does not beat the frozen features here ({Points(tuned - frozen)}): with {labelled} labels the pretrained filters are worth keeping as they are, ") +
                    (Math.Max(frozen, tuned) > scratch
                        ? $"and reusing the source network beats training from scratch by {Points(Math.Max(frozen, tuned) - scratch)} on the same budget — the point of transfer learning when labels are few. "
                        : $"and training from scratch ends {Points(scratch - Math.Max(frozen, tuned))} ahead on this budget: the head start of the reused features does not last once the new network has had enough epochs on these digits. ") +
                    $"The frozen network trains {report.Figures["frozen.trainable"]:N0} parameters instead of {report.Figures["fine-tune.trainable"]:N0}" +
                    (seconds["frozen"] < seconds["fine-tune"] ? $", and its {budget.Epochs} epochs took {seconds["frozen"]:F1} s against {seconds["fine-tune"]:F1} s for fine-tuning (no gradients for the frozen layers' weights)." : "."));
    }

    private static string Key(string method) => method switch
    {
        TransferComparison.Frozen => "frozen",
        TransferComparison.FineTuned => "fine-tune",
        _ => "scratch",
    };

    private static string Points(double difference) => (100 * difference).ToString("+0.00;−0.00;0.00", CultureInfo.InvariantCulture) + " points";
}
