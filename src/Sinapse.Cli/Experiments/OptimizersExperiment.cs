using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Cli.Experiments;

/// <summary>The course's optimiser comparison: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam and AdamW from the same initial weights on the same data order.</summary>
internal sealed class OptimizersExperiment : Experiment
{
    public override string Name => "optimizers";
    public override string Title => "Optimizers: loss curves from the same initial weights";

    public override void Run(ExperimentOptions options, Report report)
    {
        var (train, test) = ExperimentData.ScaledMnist(options, options.Quick ? 2000 : null, options.Quick ? 1000 : null);
        int epochs = options.Quick ? 2 : 5, batch = options.Quick ? 64 : 128;
        var optimizers = new (string Name, float Rate, Func<List<Tensor>, Optimizer> Create)[]
        {
            ("SGD", 0.01f, p => new Sgd(p, 0.01f)),
            ("momentum 0.9", 0.01f, p => new Sgd(p, 0.01f, 0.9f)),
            ("Nesterov 0.9", 0.01f, p => new Sgd(p, 0.01f, 0.9f, nesterov: true)),
            ("AdaGrad", 0.01f, p => new AdaGrad(p, 0.01f)),
            ("RMSProp", 0.001f, p => new RmsProp(p, 0.001f)),
            ("Adam", 0.001f, p => new Adam(p, 0.001f)),
            ("AdamW (decay 0.01)", 0.001f, p => new Adam(p, 0.001f, weightDecay: 0.01f, decoupled: true)),
        };
        report.Text($"MLP 784-128-64-10 (ReLU, glorot_uniform), batch {batch}, {epochs} epochs on {train.Count:N0} MNIST images ({Budget(options)}, seed {options.Seed}). " +
                    "Every optimizer starts from the same initial weights and sees the batches in the same order; each uses its usual learning rate.");
        var rows = new List<string[]>();
        var perIteration = new List<Series>();
        var perEpoch = new List<Series>();
        var csv = new List<object?[]>();
        foreach (var (name, rate, create) in optimizers)
        {
            var model = Mlp.Create(784, [128, 64], 10, new BlockOptions(Rng: new Rng(options.Seed)));
            var trainer = new Trainer(model, new CrossEntropyLoss(), create(model.Parameters()));
            var (history, divergence) = ExperimentData.TryFit(trainer, new DataLoader(train, batch, rng: new Rng(options.Seed + 1)), epochs);
            var evaluation = divergence == null ? trainer.Evaluate(test) : null;
            int window = Math.Max(1, history.StepLosses.Count / 50);
            perIteration.Add(new Series(name, ExperimentData.Steps(history.StepLosses.Count), ExperimentData.Smooth(history.StepLosses, window)));
            perEpoch.Add(new Series(name, history.Epochs.Select(e => (double)e.Epoch).ToArray(), history.Epochs.Select(e => e.TrainLoss).ToArray()));
            for (int i = 0; i < history.StepLosses.Count; i++) csv.Add([name, i + 1, history.StepLosses[i]]);
            double final = history.Epochs.Count > 0 ? history.Epochs[^1].TrainLoss : double.NaN;
            report.Figures[$"{name.Split(' ')[0].ToLowerInvariant()}.loss"] = final;
            report.Figures[$"{name.Split(' ')[0].ToLowerInvariant()}.accuracy"] = evaluation?.Accuracy ?? double.NaN;
            rows.Add([name, G3(rate), F4(history.Epochs.FirstOrDefault()?.TrainLoss), F4(final), divergence != null ? "diverged" : Percent(evaluation?.Accuracy),
                      history.Epochs.Sum(e => e.Seconds).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)]);
        }
        report.Heading("Results");
        report.Table(["optimizer", "learning rate", "epoch 1 loss", "last epoch loss", "test accuracy", "seconds"], rows);
        Plots.Lines(report.PathOf("loss-per-iteration.png"), "Training loss per iteration (moving average)", "iteration", "loss (log scale)", perIteration, logY: true);
        Plots.Lines(report.PathOf("loss-per-epoch.png"), "Mean training loss per epoch", "epoch", "loss (log scale)", perEpoch, logY: true, markers: true);
        report.Image("loss-per-iteration.png", "Loss per iteration");
        report.Image("loss-per-epoch.png", "Loss per epoch");
        report.Csv("step-losses.csv", "optimizer,iteration,loss", csv);
        report.Heading("What the figures show");
        var ranked = optimizers.Select(o => (o.Name, Loss: report.Figures[$"{o.Name.Split(' ')[0].ToLowerInvariant()}.loss"])).OrderBy(o => o.Loss).ToList();
        report.Text($"Ranked by the last epoch's training loss: {string.Join(", ", ranked.Select(r => $"{r.Name} {F4(r.Loss)}"))}. " +
                    $"Plain SGD at lr 0.01 is the slowest{(ranked[^1].Name == "SGD" ? "" : " of the momentum-free methods")}: momentum accumulates a velocity along the consistent " +
                    "directions of the gradient and Nesterov evaluates it one step ahead; the adaptive methods (AdaGrad, RMSProp, Adam) scale every weight's step by its gradient history, " +
                    $"so they descend fastest in the first iterations. {ranked[0].Name} ends lowest here.");
    }
}
