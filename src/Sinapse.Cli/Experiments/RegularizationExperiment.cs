using Sinapse.Autograd;
using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Ops;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// The course's regularisation comparison on a training set small enough to overfit: no regularisation, L1 and L2 on the weights,
/// L1 on the activations (sparse representations), dropout, batch norm, and stochastic depth on a residual variant of the network.
/// </summary>
internal sealed class RegularizationExperiment : Experiment
{
    public override string Name => "regularization";
    public override string Title => "Regularisation on a small training set that overfits";

    public const float NearZero = 1e-3f;

    private enum Architecture { Plain, ActivityL1, Residual }

    public override void Run(ExperimentOptions options, Report report)
    {
        var (train, validation) = ExperimentData.ScaledMnist(options, options.Quick ? 300 : 1000, options.Quick ? 1000 : null);
        int epochs = options.Quick ? 4 : 100;
        const float l1 = 1e-4f, l2 = 1e-3f, activityL1 = 1e-3f, dropout = 0.5f, dropPath = 0.2f;
        var configurations = new (string Label, string Key, BlockOptions Options, Regularization? Penalty, Architecture Architecture)[]
        {
            ("none", "none", new BlockOptions(), null, Architecture.Plain),
            ($"L1 λ = {l1}", "l1", new BlockOptions(), new Regularization(l1, 0), Architecture.Plain),
            ($"L2 λ = {l2}", "l2", new BlockOptions(), new Regularization(0, l2), Architecture.Plain),
            ($"L1 on activations λ = {activityL1}", "activity-l1", new BlockOptions(), null, Architecture.ActivityL1),
            ($"dropout {dropout}", "dropout", new BlockOptions(Dropout: dropout), null, Architecture.Plain),
            ("batch norm", "bn", new BlockOptions(BatchNorm: true), null, Architecture.Plain),
            ("residual blocks", "residual", new BlockOptions(), null, Architecture.Residual),
            ($"residual + stochastic depth {dropPath}", "stochastic-depth", new BlockOptions(), null, Architecture.Residual),
        };
        report.Text($"MLP 784-256-128-10 (ReLU), Adam lr 0.001, batch 32, {epochs} epochs on only {train.Count:N0} MNIST images, validated on {validation.Count:N0} test images " +
                    $"({Budget(options)}, seed {options.Seed}). The penalties are λ·Σ|w| (L1) and λ·Σw² (L2) over the weights (not the biases), added to the mean loss. " +
                    $"Near-zero weights: |w| < {NearZero}. L1 on the activations adds λ·Σ|h| over the units of each hidden ReLU's output h, averaged over the batch " +
                    "(Keras's activity_regularizer), which pushes units to output exactly 0: a sparse representation. Zero activations: the fraction of the hidden ReLU outputs " +
                    "that are exactly 0 on the validation images (for the residual rows, the ReLUs outside the blocks). The residual rows add two blocks h ← h + ReLU(Linear 256→256 h) " +
                    $"after the first layer; stochastic depth (torchvision's StochasticDepth(p={dropPath}, mode=row) at the end of each block) skips each block for each training " +
                    $"example with probability {dropPath} — layers ignored at random during training — and uses every block at test time.");
        var rows = new List<string[]>();
        var trainCurves = new List<Series>();
        var validationCurves = new List<Series>();
        var histograms = new List<(string, float[])>();
        var csv = new List<object?[]>();
        foreach (var (label, key, blockOptions, penalty, architecture) in configurations)
        {
            var rng = new Rng(options.Seed);
            var model = architecture == Architecture.Residual
                ? ResidualMlp(key == "stochastic-depth" ? dropPath : 0f, rng)
                : Mlp.Create(784, [256, 128], 10, blockOptions with { Rng = rng });
            Loss loss = new CrossEntropyLoss();
            if (architecture == Architecture.ActivityL1) (model, loss) = WithActivityL1(model, loss, activityL1);
            var trainer = new Trainer(model, loss, new Adam(model.Parameters(), 1e-3f)) { Regularization = penalty };
            var history = trainer.Fit(new DataLoader(train, 32, rng: rng), epochs, validation);
            var epochsAxis = history.Epochs.Select(e => (double)e.Epoch).ToArray();
            trainCurves.Add(new Series(label, epochsAxis, history.Epochs.Select(e => e.TrainAccuracy ?? double.NaN).ToArray()));
            validationCurves.Add(new Series(label, epochsAxis, history.Epochs.Select(e => e.ValidationAccuracy ?? double.NaN).ToArray()));
            foreach (var e in history.Epochs) csv.Add([key, e.Epoch, e.TrainLoss, e.TrainAccuracy, e.ValidationLoss, e.ValidationAccuracy]);
            var weights = model.NamedModules().SelectMany(m => m.Module.OwnParameters.Where(p => Regularization.IsWeight(m.Module, p.Name)).SelectMany(p => p.Tensor.ToArray())).ToArray();
            histograms.Add((label, weights));
            double share = Regularization.Sparsity(model, NearZero).Share;
            double zeros = ActivationZeros(model, validation);
            var last = history.Epochs[^1];
            double best = history.Epochs.Max(e => e.ValidationAccuracy ?? 0);
            report.Figures[$"{key}.validation_accuracy"] = last.ValidationAccuracy ?? double.NaN;
            report.Figures[$"{key}.gap"] = (last.TrainAccuracy ?? 0) - (last.ValidationAccuracy ?? 0);
            report.Figures[$"{key}.near_zero"] = share;
            report.Figures[$"{key}.activation_zeros"] = zeros;
            rows.Add([label, Percent(last.TrainAccuracy), Percent(last.ValidationAccuracy), Percent(best), Percent(report.Figures[$"{key}.gap"]), Percent(share), Percent(zeros)]);
        }
        report.Heading("Results after the last epoch");
        report.Table(["regularisation", "train accuracy", "validation accuracy", "best validation", "train − validation", "near-zero weights", "zero activations"], rows);
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
        double plainZeros = report.Figures["none.activation_zeros"], sparseZeros = report.Figures["activity-l1.activation_zeros"];
        report.Text($"L1 on the activations {(sparseZeros > plainZeros ? "makes the representation sparser" : "does not make the representation sparser here")}: " +
                    $"{Percent(sparseZeros)} of the hidden ReLU outputs are exactly 0 on the validation images, against {Percent(plainZeros)} without it " +
                    $"(validation accuracy {Percent(report.Figures["activity-l1.validation_accuracy"])} against {Percent(report.Figures["none.validation_accuracy"])}). " +
                    $"Stochastic depth on the residual network gives a validation accuracy of {Percent(report.Figures["stochastic-depth.validation_accuracy"])} and a train − validation gap of " +
                    $"{Percent(report.Figures["stochastic-depth.gap"])}, against {Percent(report.Figures["residual.validation_accuracy"])} and {Percent(report.Figures["residual.gap"])} " +
                    "for the same residual network trained with every block.");
    }

    /// <summary>Linear 784→256 → ReLU → two residual blocks h + ReLU(Linear 256→256 h), each ending in stochastic depth → Linear 256→128 → ReLU → Linear 128→10.</summary>
    private static Sequential ResidualMlp(float dropPath, Rng rng)
    {
        var options = new BlockOptions(Rng: rng);
        Module Block() => new Residual(new Sequential(options.Linear(256, 256), new Relu(), new StochasticDepth(dropPath, "row", rng)));
        return new Sequential(new Flatten(), options.Linear(784, 256), new Relu(), Block(), Block(), options.Linear(256, 128), new Relu(), options.Linear(128, 10));
    }

    /// <summary>The model with a tap after each hidden ReLU, and a loss that adds λ·Σ|h| (mean over the batch) of what the taps saw in the training pass.</summary>
    private static (Sequential Model, Loss Loss) WithActivityL1(Sequential model, Loss data, float lambda)
    {
        var seen = new List<Tensor>();
        var tapped = new Sequential();
        foreach (var layer in model.Layers)
        {
            tapped.Add(layer);
            if (layer is Relu) tapped.Add(new ActivationTap(seen));
        }
        return (tapped, new ActivityL1Loss(data, seen, lambda));
    }

    /// <summary>The identity that keeps its input in training passes, for <see cref="ActivityL1Loss"/>.</summary>
    private sealed class ActivationTap(List<Tensor> seen) : Module
    {
        protected override Tensor Forward(Tensor input)
        {
            if (Training) seen.Add(input);
            return input;
        }

        public override Shape OutputShape(Shape input) => input;

        public override string Describe() => "ActivationTap";
    }

    /// <summary>The data loss plus λ·Σ|h| per example, averaged over the batch, for each activation the taps kept in this pass.</summary>
    private sealed class ActivityL1Loss(Loss data, List<Tensor> seen, float lambda) : Loss(data.Reduction)
    {
        public override Tensor Forward(Tensor prediction, Tensor target)
        {
            var loss = data.Forward(prediction, target);
            foreach (var activation in seen) loss = F.Add(loss, F.Multiply(F.Sum(F.Abs(activation)), lambda / activation.Shape[0]));
            seen.Clear();
            return loss;
        }

        public override string Name => data.Name;
    }

    /// <summary>The fraction of the top-level hidden ReLUs' outputs that are exactly 0 on <paramref name="data"/>, in evaluation mode.</summary>
    private static double ActivationZeros(Sequential model, Dataset data)
    {
        model.Eval();
        using var noGrad = GradMode.NoGrad();
        long zeros = 0, total = 0;
        var h = data.Features;
        foreach (var layer in model.Layers)
        {
            h = layer.Call(h);
            if (layer is not Relu) continue;
            foreach (var v in h.Span) if (v == 0f) zeros++;
            total += h.Length;
        }
        return (double)zeros / total;
    }
}
