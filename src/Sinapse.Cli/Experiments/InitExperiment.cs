using Sinapse.Data;
using Sinapse.Diagnostics;
using Sinapse.Init;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// A deep narrow MLP (12 hidden layers of 16 units) with six activation/initialisation pairs;
/// per-layer gradient norms over training show the early layers' gradients vanish with
/// sigmoid + N(0, 1) and survive with Xavier's pairing, tanh, and with He and LeCun.
/// </summary>
internal sealed class InitExperiment : Experiment
{
    public override string Name => "init";
    public override string Title => "Initialisation and activations: per-layer gradient norms in a deep network";

    public const int HiddenLayers = 12, Width = 16;

    public override void Run(ExperimentOptions options, Report report)
    {
        var (train, test) = ExperimentData.ScaledMnist(options, options.Quick ? 512 : null, options.Quick ? 1000 : null);
        int epochs = options.Quick ? 1 : 5, every = options.Quick ? 1 : 20;
        const float learningRate = 0.05f;
        report.Text($"MLP 784-{string.Join("-", Enumerable.Repeat(Width, HiddenLayers))}-10 ({HiddenLayers} hidden layers of {Width}), SGD lr {learningRate}, batch 64, " +
                    $"{epochs} epoch(s) on {train.Count:N0} MNIST images ({Budget(options)}, seed {options.Seed}). Each layer's weight-gradient norm ‖∇W‖₂ is recorded every {every} update(s).");
        var configurations = new (string Label, string File, string Activation, Initializer Init)[]
        {
            ("sigmoid + N(0, 1)", "sigmoid-normal", "sigmoid", Initializer.Normal(0, 1)),
            ("sigmoid + Xavier", "sigmoid-xavier", "sigmoid", Initializer.GlorotUniform()),
            ("tanh + Xavier", "tanh-xavier", "tanh", Initializer.GlorotUniform()),
            ("ReLU + He", "relu-he", "relu", Initializer.HeNormal()),
            ("Leaky ReLU + He", "leaky-relu-he", "leaky_relu(0.01)", Initializer.HeNormal()),
            ("SELU + LeCun", "selu-lecun", "selu", Initializer.LeCunNormal()),
        };
        var rows = new List<string[]>();
        var csv = new List<object?[]>();
        foreach (var config in configurations)
        {
            var rng = new Rng(options.Seed);
            var model = Mlp.Create(784, Enumerable.Repeat(Width, HiddenLayers).ToArray(), 10, new BlockOptions(config.Activation, config.Init, Rng: rng));
            var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), learningRate));
            trainer.Callbacks.Add(new GradientMonitor(every));
            var (history, divergence) = ExperimentData.TryFit(trainer, new DataLoader(train, 64, rng: rng), epochs);
            double? accuracy = divergence == null ? trainer.Evaluate(test).Accuracy : null;
            var layers = history.LayerNorms.Select(r => r.Layer).Distinct().ToList();
            double Mean(string layer) => history.LayerNorms.Where(r => r.Layer == layer).Average(r => r.GradientNorm);
            double first = Mean(layers[0]), last = Mean(layers[^1]);
            report.Figures[$"{config.File}.first_over_last"] = first / last;
            report.Figures[$"{config.File}.accuracy"] = accuracy ?? double.NaN;
            rows.Add([config.Label, G3(first), G3(last), G3(last / first) + "×", divergence != null ? "diverged" : Percent(accuracy)]);
            foreach (var r in history.LayerNorms) csv.Add([config.File, r.Step, r.Epoch, layers.IndexOf(r.Layer) + 1, r.GradientNorm, r.WeightNorm]);
            var series = layers.Select((layer, i) => new Series(i == layers.Count - 1 ? "output layer" : $"hidden {i + 1}",
                history.LayerNorms.Where(r => r.Layer == layer).Select(r => (double)r.Step).ToArray(),
                history.LayerNorms.Where(r => r.Layer == layer).Select(r => r.GradientNorm).ToArray()));
            Plots.Lines(report.PathOf($"gradients-{config.File}.png"), $"{config.Label}: ‖∇W‖ per layer", "update", "‖∇W‖₂ (log scale)", series, logY: true);
        }
        report.Heading("Mean gradient norm of the first and the last layer over training, and test accuracy");
        report.Table(["configuration", "first layer ‖∇W‖", "last layer ‖∇W‖", "last / first", "test accuracy"], rows);
        report.Csv("gradient-norms.csv", "configuration,step,epoch,layer,gradient_norm,weight_norm", csv);
        foreach (var config in configurations) report.Image($"gradients-{config.File}.png", $"{config.Label}: per-layer gradient norms");
        report.Heading("What the figures show");
        var ratios = configurations.Select(c => (c.Label, Ratio: report.Figures[$"{c.File}.first_over_last"], Accuracy: report.Figures[$"{c.File}.accuracy"])).ToList();
        var vanishing = ratios.Where(r => r.Ratio < 0.01).ToList();
        var healthy = ratios.Where(r => r.Ratio >= 0.01).ToList();
        var best = ratios.MaxBy(r => double.IsFinite(r.Accuracy) ? r.Accuracy : 0);
        report.Text($"The first layer's gradient norm relative to the output layer's: {string.Join(", ", ratios.Select(r => $"{r.Label} {G3(r.Ratio)}"))}. " +
                    (vanishing.Count > 0
                        ? $"In {string.Join(" and ", vanishing.Select(v => v.Label))} the early layers' gradients vanish (the lines fan out over {Math.Floor(-Math.Log10(vanishing.Min(v => v.Ratio)))} orders of magnitude): " +
                          $"each sigmoid layer multiplies the backward signal by σ'(z) ≤ 1/4, up to 4^{HiddenLayers} ≈ {Math.Pow(4, HiddenLayers):0.#E+0} over {HiddenLayers} layers, unless the weights make up for it; " +
                          "N(0, 1) weights saturate the units, and Xavier keeps the forward and backward scale of an activation with slope 1 at 0 — tanh, whose row is the fix the course means — but not the sigmoid's factor 1/4. "
                        : "No configuration's first layer fell below 1/100 of the output layer's gradient. ") +
                    (healthy.Count > 0 ? $"{string.Join(", ", healthy.Select(h => h.Label))} keep every layer's gradient within a factor {G3(healthy.Max(h => Math.Max(h.Ratio, 1 / h.Ratio)))} of the others, so all layers learn. " : "") +
                    $"Best test accuracy: {best.Label}, {Percent(best.Accuracy)}.");
    }
}
