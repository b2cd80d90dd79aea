using Sinapse.Data;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// Gradient clipping: a network whose gradients explode — the course MLP fed raw pixels 0..255 — trained
/// without clipping (the trainer stops it with a <see cref="TrainingDivergedException"/>), with
/// clipping by value (the course's c = 1) and by global norm.
/// </summary>
internal sealed class ClippingExperiment : Experiment
{
    public override string Name => "clipping";
    public override string Title => "Gradient clipping on a network that explodes";

    public override void Run(ExperimentOptions options, Report report)
    {
        var (train, test) = ExperimentData.Mnist(options, options.Quick ? 1000 : null, options.Quick ? 1000 : null);
        int epochs = options.Quick ? 2 : 5;
        const float learningRate = 0.01f;
        var configurations = new (string Label, string Key, GradientClipping? Clipping)[]
        {
            ("no clipping", "none", null),
            ("clip by value, c = 1", "value", GradientClipping.ByValue(1f)),
            ("clip by global norm, 1", "norm", GradientClipping.ByNorm(1f)),
        };
        report.Text($"MLP 784-256-128-64-10 (ReLU, glorot_uniform), SGD lr {learningRate}, batch 128, {epochs} epochs on {train.Count:N0} MNIST images given as raw pixels 0..255 " +
                    $"(no input normalisation), {Budget(options)}, seed {options.Seed}. The same run without clipping, with every gradient component clipped to [−1, 1], " +
                    "and with all gradients rescaled whenever their global L2 norm exceeds 1. The trainer checks the loss and the gradient norm before every update.");
        var rows = new List<string[]>();
        var curves = new List<Series>();
        var csv = new List<object?[]>();
        string? explosion = null;
        foreach (var (label, key, clipping) in configurations)
        {
            var rng = new Rng(options.Seed);
            var model = Mlp.Create(784, [256, 128, 64], 10, new BlockOptions(Rng: rng));
            var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), learningRate)) { Clipping = clipping };
            var (history, divergence) = ExperimentData.TryFit(trainer, new DataLoader(train, 128, rng: rng), epochs);
            explosion ??= divergence;
            double? accuracy = divergence == null ? trainer.Evaluate(test).Accuracy : null;
            var norms = history.GradientNorms;
            curves.Add(new Series(label, ExperimentData.Steps(norms.Count), norms.Select(n => (double)n).ToArray()));
            for (int i = 0; i < norms.Count; i++) csv.Add([key, i + 1, norms[i], i < history.StepLosses.Count ? history.StepLosses[i] : null]);
            report.Figures[$"{key}.diverged"] = divergence != null ? 1 : 0;
            report.Figures[$"{key}.accuracy"] = accuracy ?? double.NaN;
            report.Figures[$"{key}.updates"] = history.StepLosses.Count;
            string outcome = divergence != null ? $"diverged after {history.StepLosses.Count} updates" : $"trained {history.StepLosses.Count} updates";
            rows.Add([label, outcome, G3(norms.Where(float.IsFinite).DefaultIfEmpty(0).Max()), (history.StepLosses.Count > 0 ? G3(history.StepLosses[^1]) : "—"), divergence != null ? "—" : Percent(accuracy)]);
        }
        report.Heading("Outcome");
        report.Table(["clipping", "outcome", "largest finite ‖∇‖ (before clipping)", "last loss", "test accuracy"], rows);
        Plots.Lines(report.PathOf("gradient-norms.png"), "Global gradient norm per update (before clipping)", "update", "‖∇‖₂ (log scale)", curves, logY: true);
        report.Image("gradient-norms.png", "Gradient norms over time");
        report.Csv("gradient-norms.csv", "clipping,update,gradient_norm,loss", csv);
        report.Heading("What the figures show");
        report.Text((explosion != null
                ? $"Without clipping the gradient norm grows by orders of magnitude in a few updates and training stops after {report.Figures["none.updates"]} updates with: \"{explosion}\" "
                : "Without clipping this run did not diverge with this seed and budget. ") +
            $"With clipping the same network {(report.Figures["value.diverged"] == 0 ? $"trains by value (test accuracy {Percent(report.Figures["value.accuracy"])})" : "still diverges by value")} and " +
            $"{(report.Figures["norm.diverged"] == 0 ? $"by norm ({Percent(report.Figures["norm.accuracy"])})" : "diverges by norm")}: " +
            "the gradient itself may still be huge (the plot shows it before clipping), but each update is bounded, so the weights cannot be thrown to infinity by one bad step. " +
            "Clipping treats the symptom; normalising the inputs (or batch norm, see the batchnorm experiment) removes the cause.");
    }
}
