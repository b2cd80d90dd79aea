using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Cli.Experiments;

/// <summary>The course's regularisation comparison: no regularisation, L1, L2, dropout and batch norm on a training set small enough to overfit.</summary>
internal sealed class RegularizationExperiment : Experiment
{
    public override string Name => "regularization";
    public override string Title => "Regularisation on a small training set that overfits";

    public const float NearZero = 1e-3f;

    public override void Run(ExperimentOptions options, Report report)
    {
        var (train, validation) = ExperimentData.ScaledMnist(options, options.Quick ? 300 : 1000, options.Quick ? 1000 : null);
        int epochs = options.Quick ? 4 : 100;
        const float l1 = 1e-4f, l2 = 1e-3f, dropout = 0.5f;
        var configurations = new (string Label, string Key, BlockOptions Options, Regularization? Penalty)[]
        {
            ("none", "none", new BlockOptions(), null),
            ($"L1 λ = {l1}", "l1", new BlockOptions(), new Regularization(l1, 0)),
            ($"L2 λ = {l2}", "l2", new BlockOptions(), new Regularization(0, l2)),
            ($"dropout {dropout}", "dropout", new BlockOptions(Dropout: dropout), null),
            ("batch norm", "bn", new BlockOptions(BatchNorm: true), null),
        };
        report.Text($"MLP 784-256-128-10 (ReLU), Adam lr 0.001, batch 32, {epochs} epochs on only {train.Count:N0} MNIST images, validated on {validation.Count:N0} test images " +
                    $"({Budget(options)}, seed {options.Seed}). The penalties are λ·Σ|w| (L1) and λ·Σw² (L2) over the weights (not the biases), added to the mean loss. " +
                    $"Near-zero weights: |w| < {NearZero}.");
        var rows = new List<string[]>();
        var trainCurves = new List<Series>();
        var validationCurves = new List<Series>();
        var histograms = new List<(string, float[])>();
        var csv = new List<object?[]>();
        foreach (var (label, key, blockOptions, penalty) in configurations)
        {
            var rng = new Rng(options.Seed);
            var model = Mlp.Create(784, [256, 128], 10, blockOptions with { Rng = rng });
            var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), 1e-3f)) { Regularization = penalty };
            var history = trainer.Fit(new DataLoader(train, 32, rng: rng), epochs, validation);
            var epochsAxis = history.Epochs.Select(e => (double)e.Epoch).ToArray();
            trainCurves.Add(new Series(label, epochsAxis, history.Epochs.Select(e => e.TrainAccuracy ?? double.NaN).ToArray()));
            validationCurves.Add(new Series(label, epochsAxis, history.Epochs.Select(e => e.ValidationAccuracy ?? double.NaN).ToArray()));
            foreach (var e in history.Epochs) csv.Add([key, e.Epoch, e.TrainLoss, e.TrainAccuracy, e.ValidationLoss, e.ValidationAccuracy]);
            var weights = model.NamedModules().SelectMany(m => m.Module.OwnParameters.Where(p => Regularization.IsWeight(m.Module, p.Name)).SelectMany(p => p.Tensor.ToArray())).ToArray();
            histograms.Add((label, weights));
            double share = Regularization.Sparsity(model, NearZero).Share;
            var last = history.Epochs[^1];
            double best = history.Epochs.Max(e => e.ValidationAccuracy ?? 0);
            report.Figures[$"{key}.validation_accuracy"] = last.ValidationAccuracy ?? double.NaN;
            report.Figures[$"{key}.gap"] = (last.TrainAccuracy ?? 0) - (last.ValidationAccuracy ?? 0);
            report.Figures[$"{key}.near_zero"] = share;
            rows.Add([label, Percent(last.TrainAccuracy), Percent(last.ValidationAccuracy), Percent(best), Percent(report.Figures[$"{key}.gap"]), Percent(share)]);
        }
        report.Heading("Results after the last epoch");
        report.Table(["regularisation", "train accuracy", "validation accuracy", "best validation", "train − validation", "near-zero weights"], rows);
        Plots.Lines(report.PathOf("train-accuracy.png"), "Training accuracy", "epoch", "accuracy", trainCurves);
        Plots.Lines(report.PathOf("validation-accuracy.png"), "Validation accuracy", "epoch", "accuracy", validationCurves);
        Plots.Histograms(report.PathOf("weights.png"), "Weight histograms after training", "weight value", histograms);
        report.Image("train-accuracy.png", "Training accuracy per epoch");
        report.Image("validation-accuracy.png", "Validation accuracy per epoch");
        report.Image("weights.png", "Histograms of the weights");
        report.Csv("curves.csv", "regularisation,epoch,train_loss,train_accuracy,validation_loss,validation_accuracy", csv);
        report.Heading("What the figures show");
        var keys = configurations.Select(c => (c.Label, c.Key)).ToList();
        var bestKey = keys.MaxBy(k => report.Figures[$"{k.Key}.validation_accuracy"]);
        report.Text($"Without regularisation the network fits its {train.Count:N0} training images to {Percent(report.Figures["none.gap"] + report.Figures["none.validation_accuracy"])} " +
                    $"but reaches {Percent(report.Figures["none.validation_accuracy"])} on unseen images (a gap of {Percent(report.Figures["none.gap"])}). " +
                    $"Gaps with regularisation: {string.Join(", ", keys.Skip(1).Select(k => $"{k.Label} {Percent(report.Figures[$"{k.Key}.gap"])}"))}; " +
                    $"the best validation accuracy is {bestKey.Label}'s {Percent(report.Figures[$"{bestKey.Key}.validation_accuracy"])}. " +
                    $"L1 drives weights to (near) zero — {Percent(report.Figures["l1.near_zero"])} of them below {NearZero}, against {Percent(report.Figures["none.near_zero"])} without a penalty and " +
                    $"{Percent(report.Figures["l2.near_zero"])} with L2, which shrinks all weights but rarely to zero: the histogram shows L1's spike at 0 and L2's narrower bell.");
    }
}
