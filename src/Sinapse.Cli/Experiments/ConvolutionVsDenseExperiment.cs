using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// Why convolutions suit images: the parameter count of a dense and a convolutional layer on the same input (a dense layer
/// from n inputs to m outputs has n·m weights, a convolution k·k·C_in per filter, whatever the image size), and the accuracy
/// of an MLP and the course CNN, trained on centred digits, on test digits shifted by a few pixels.
/// </summary>
internal sealed class ConvolutionVsDenseExperiment : Experiment
{
    public override string Name => "cnn-vs-dense";
    public override string Title => "Convolution versus dense layers: parameters and shifted digits";

    private static readonly int[] Shifts = [0, 1, 2, 3, 4, 5, 6];

    public override void Run(ExperimentOptions options, Report report)
    {
        report.Heading("Parameters of one layer on a 28×28×1 image");
        var layers = new (string Label, Module Layer, string Formula)[]
        {
            ("dense 784 → 128", new Linear(784, 128), "n·m + m = 784·128 + 128"),
            ("dense 784 → 28·28·32 (the convolution's output size)", new Linear(784, 28 * 28 * 32), "n·m + m = 784·25,088 + 25,088"),
            ("conv 32 filters 3×3, padding 1 (output 28×28×32)", new Conv2d(1, 32, 3, padding: 1), "k·k·C_in·C_out + C_out = 3·3·1·32 + 32"),
            ("conv 64 filters 3×3 on 28×28×32", new Conv2d(32, 64, 3, padding: 1), "3·3·32·64 + 64"),
        };
        var parameterRows = new List<string[]>();
        var csv = new List<object?[]>();
        foreach (var (label, layer, formula) in layers)
        {
            long count = layer.Parameters().Sum(p => (long)p.Length);
            parameterRows.Add([label, formula, count.ToString("N0")]);
            csv.Add(["parameters", label, count, null, null]);
        }
        report.Figures["dense-same-output.parameters"] = layers[1].Layer.Parameters().Sum(p => (double)p.Length);
        report.Figures["conv.parameters"] = layers[2].Layer.Parameters().Sum(p => (double)p.Length);
        report.Table(["layer", "formula", "parameters"], parameterRows);
        report.Text("A dense layer connects each of its n inputs to each of its m outputs: n·m weights, which grow with the image. A convolution slides the same k×k " +
                    "filters over every position: its weights depend on the filter size and the channels only, and each output sees a small neighbourhood. " +
                    $"For the same 28×28×32 output the dense layer needs {report.Figures["dense-same-output.parameters"]:N0} parameters and the convolution " +
                    $"{report.Figures["conv.parameters"]:N0}, {report.Figures["dense-same-output.parameters"] / report.Figures["conv.parameters"]:N0} times fewer.");

        var (train, test) = ExperimentData.ScaledMnist(options, options.Quick ? 1000 : 20_000, options.Quick ? 1000 : null);
        int epochs = options.Quick ? 1 : 3;
        report.Heading("Accuracy on shifted test digits");
        report.Text($"Both networks train on the centred digits only: {epochs} epoch(s) of Adam lr 0.001, batch 64, on {train.Count:N0} MNIST images ({Budget(options)}, seed {options.Seed}). " +
                    "The MLP is 784-256-128-10 (ReLU); the CNN is the course's (three 3×3 convolutions with 2×2 max pooling after the first two, then one dense layer). " +
                    $"Each test image is then moved right and down by the same number of pixels (0 to {Shifts[^1]}; the pixels moved in are black) and classified again.");
        var networks = new (string Label, string Key, Func<Rng, Module> Build)[]
        {
            ("MLP", "mlp", rng => Mlp.Create(784, [256, 128], 10, new BlockOptions(Rng: rng))),
            ("CNN", "cnn", rng => Cnn.Course(1, 28, 28, 10, new BlockOptions(Rng: rng))),
        };
        var curves = new List<Series>();
        var accuracies = new Dictionary<(string, int), double>();
        foreach (var (label, key, build) in networks)
        {
            var rng = new Rng(options.Seed);
            var model = build(rng);
            var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), 1e-3f));
            trainer.Fit(new DataLoader(train, 64, rng: rng), epochs);
            foreach (var shift in Shifts)
            {
                double accuracy = trainer.Evaluate(Shifted(test, shift)).Accuracy ?? double.NaN;
                accuracies[(key, shift)] = accuracy;
                report.Figures[$"{key}.shift{shift}"] = accuracy;
                csv.Add(["shifted", label, null, shift, accuracy]);
            }
            curves.Add(new Series(label, Shifts.Select(s => (double)s).ToArray(), Shifts.Select(s => accuracies[(key, s)]).ToArray()));
        }
        report.Table(["shift (pixels right and down)", .. networks.Select(n => n.Label)],
            Shifts.Select(s => (IReadOnlyList<string>)[s.ToString(), .. networks.Select(n => Percent(accuracies[(n.Key, s)]))]));
        report.Csv("cnn-vs-dense.csv", "part,layer_or_network,parameters,shift,accuracy", csv);
        Plots.Lines(report.PathOf("shifted-accuracy.png"), "Test accuracy on shifted digits", "shift (pixels right and down)", "test accuracy", curves, markers: true);
        report.Image("shifted-accuracy.png", "Test accuracy against the shift, MLP and CNN");

        report.Heading("What the figures show");
        int largest = Shifts[^1], middle = Shifts[Shifts.Length / 2];
        double mlpDrop = accuracies[("mlp", 0)] - accuracies[("mlp", middle)], cnnDrop = accuracies[("cnn", 0)] - accuracies[("cnn", middle)];
        report.Text($"Centred, the MLP reaches {Percent(accuracies[("mlp", 0)])} and the CNN {Percent(accuracies[("cnn", 0)])}. Shifted by {middle} pixels, the MLP " +
                    $"{(mlpDrop >= 0 ? "loses" : "gains")} {Math.Abs(100 * mlpDrop):F1} points and the CNN {(cnnDrop >= 0 ? "loses" : "gains")} {Math.Abs(100 * cnnDrop):F1}; " +
                    $"at {largest} pixels they reach {Percent(accuracies[("mlp", largest)])} and {Percent(accuracies[("cnn", largest)])}. " +
                    (cnnDrop < mlpDrop
                        ? $"At {middle} pixels the CNN has lost less: its filters respond to a stroke wherever it lies, and max pooling forgives a small displacement, whereas each of the MLP's weights is tied to one pixel position it saw during training." +
                          (accuracies[("mlp", largest)] < 0.5 && accuracies[("cnn", largest)] < 0.5
                              ? $" Neither network is translation-invariant, though: at {largest} pixels both are below 50%, because the CNN's final dense layer ties its features to positions again."
                              : "")
                        : $"At {middle} pixels the CNN has not lost less than the MLP: with this budget, its final dense layer still ties the features to positions."));
    }

    /// <summary>The images moved <paramref name="shift"/> pixels right and down, the uncovered border black (0).</summary>
    private static Dataset Shifted(Dataset data, int shift)
    {
        if (shift == 0) return data;
        var shape = data.Features.Shape;
        int height = shape[^2], width = shape[^1], images = data.Features.Length / (height * width);
        var moved = Tensor.Zeros(shape);
        ReadOnlySpan<float> source = data.Features.Span;
        var target = moved.Span;
        for (int image = 0; image < images; image++)
            for (int y = shift; y < height; y++)
                source.Slice(image * height * width + (y - shift) * width, width - shift).CopyTo(target.Slice(image * height * width + y * width + shift));
        return new Dataset(moved, data.Targets, data.ClassCount);
    }
}
