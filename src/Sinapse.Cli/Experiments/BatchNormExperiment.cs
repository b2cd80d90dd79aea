using Sinapse.Data;
using Sinapse.Init;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// The course's batch-normalisation experiment: the MLP 784-256-128-64-10 (ReLU, softmax) on MNIST, 10 epochs, batch 128, SGD lr 0.01,
/// X/255, glorot_uniform — and three variations of it — each without and with batch normalisation
/// (Dense without bias → BN → ReLU). Test accuracy for all eight runs.
/// </summary>
internal sealed class BatchNormExperiment : Experiment
{
    public override string Name => "batchnorm";
    public override string Title => "Batch normalisation: four configurations without and with BN";

    private sealed record Configuration(string Name, int BatchSize, float LearningRate, Initializer Init, bool Normalize);

    public override void Run(ExperimentOptions options, Report report)
    {
        var configurations = new[]
        {
            new Configuration("(1) baseline: batch 128, lr 0.01", 128, 0.01f, Initializer.GlorotUniform(), true),
            new Configuration("(2) batch 1024, lr 1", 1024, 1f, Initializer.GlorotUniform(), true),
            new Configuration("(3) init uniform(-5, 5)", 128, 0.01f, Initializer.Uniform(-5, 5), true),
            new Configuration("(4) no input normalisation", 128, 0.01f, Initializer.GlorotUniform(), false),
        };
        int epochs = options.Quick ? 2 : 10;
        var (rawTrain, rawTest) = ExperimentData.Mnist(options, options.Quick ? 1000 : null, options.Quick ? 1000 : null);
        var scale = InputTransform.Scale(1f / 255f);
        report.Text($"MLP 784-256-128-64-10 (ReLU hidden layers, softmax output with cross-entropy), {epochs} epochs of plain SGD on " +
                    $"{rawTrain.Count:N0} MNIST training images, test accuracy on {rawTest.Count:N0} test images; {Budget(options)}, seed {options.Seed}. " +
                    "With BN every hidden layer is Linear without bias → BatchNorm1d → ReLU. Every run starts from the same seed.");

        var rows = new List<string[]>();
        var curves = new List<Series>();
        var csv = new List<object?[]>();
        var results = new Dictionary<(int, bool), (double? Accuracy, string? Divergence)>();
        for (int c = 0; c < configurations.Length; c++)
        {
            var config = configurations[c];
            var train = config.Normalize ? scale.Apply(rawTrain) : rawTrain;
            var test = config.Normalize ? scale.Apply(rawTest) : rawTest;
            foreach (bool batchNorm in new[] { false, true })
            {
                var rng = new Rng(options.Seed);
                var model = Mlp.Create(784, [256, 128, 64], 10, new BlockOptions("relu", config.Init, batchNorm, Rng: rng));
                var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), config.LearningRate));
                var (history, divergence) = ExperimentData.TryFit(trainer, new DataLoader(train, config.BatchSize, rng: rng), epochs, test);
                double? accuracy = divergence == null ? trainer.Evaluate(test).Accuracy : null;
                results[(c, batchNorm)] = (accuracy, divergence);
                string label = $"{config.Name[..3]} {(batchNorm ? "BN" : "no BN")}";
                curves.Add(new Series(label, history.Epochs.Select(e => (double)e.Epoch).ToArray(), history.Epochs.Select(e => e.ValidationAccuracy ?? double.NaN).ToArray()));
                foreach (var e in history.Epochs)
                    csv.Add([c + 1, batchNorm ? 1 : 0, e.Epoch, e.TrainLoss, e.TrainAccuracy, e.ValidationLoss, e.ValidationAccuracy, e.Seconds]);
                report.Figures[$"{c + 1}.{(batchNorm ? "bn" : "plain")}"] = accuracy ?? double.NaN;
                Console.WriteLine($"{config.Name}, {(batchNorm ? "with" : "without")} BN: {(divergence != null ? "diverged" : Percent(accuracy))} " +
                                  $"({history.Epochs.Sum(e => e.Seconds):F1} s)");
            }
            rows.Add([config.Name, Outcome(results[(c, false)]), Outcome(results[(c, true)])]);
        }

        report.Heading("Test accuracy");
        report.Table(["configuration", "without BN", "with BN"], rows);
        report.Csv("batchnorm.csv", "configuration,batch_norm,epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds", csv);
        Plots.Lines(report.PathOf("test-accuracy.png"), "Test accuracy after each epoch", "epoch", "test accuracy", curves, markers: true);
        report.Image("test-accuracy.png", "Test accuracy per epoch, eight runs");

        report.Heading("What the figures show");
        report.Text(Reading(configurations, results));
        foreach (var (key, (_, divergence)) in results.Where(r => r.Value.Divergence != null))
            report.Text($"Run {configurations[key.Item1].Name} {(key.Item2 ? "with" : "without")} BN stopped: {divergence}");
    }

    private static string Outcome((double? Accuracy, string? Divergence) result) => result.Divergence != null ? "diverged (NaN/Inf)" : Percent(result.Accuracy);

    private static string Reading(Configuration[] configurations, Dictionary<(int, bool), (double? Accuracy, string? Divergence)> results)
    {
        double Value(int c, bool bn) => results[(c, bn)].Accuracy ?? 0.1; // a diverged run is no better than chance
        var parts = new List<string>();
        double baseline = Value(0, false), baselineBn = Value(0, true);
        parts.Add($"On the baseline, BN moves test accuracy from {Percent(baseline)} to {Percent(baselineBn)} ({Signed(baselineBn - baseline)} points).");
        for (int c = 1; c < configurations.Length; c++)
        {
            double plain = Value(c, false), bn = Value(c, true);
            string plainText = results[(c, false)].Divergence != null ? "diverges (its gradients explode to infinity)" : $"reaches {Percent(plain)} ({Signed(plain - baseline)} points against the baseline)";
            string bnText = results[(c, true)].Divergence != null ? "diverges as well" : $"reaches {Percent(bn)}";
            parts.Add($"{configurations[c].Name}: without BN the network {plainText}; with BN it {bnText} ({Signed(bn - plain)} points from BN).");
        }
        int best = Enumerable.Range(0, configurations.Length).MaxBy(c => Value(c, true) - Value(c, false));
        parts.Add($"BN helps most where the plain network struggles most: {configurations[best].Name} gains {Signed(Value(best, true) - Value(best, false))} points. " +
                  "Normalising each layer's pre-activations over the mini-batch makes the network insensitive to the scale of its inputs and of its initial weights, and lets it take larger steps.");
        double spread = Enumerable.Range(0, configurations.Length).Max(c => Value(c, true)) - Enumerable.Range(0, configurations.Length).Min(c => Value(c, true));
        parts.Add($"With BN the four configurations end within {100 * spread:F1} points of each other.");
        return string.Join(" ", parts);
    }

    private static string Signed(double difference) => (difference >= 0 ? "+" : "−") + Math.Abs(100 * difference).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
}
