using Sinapse.Data;
using Sinapse.Diagnostics;
using Sinapse.Init;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;
using Sinapse.Vision;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// Symmetry breaking: the course CNN with every weight initialised to the same value and biases 1
/// keeps identical filters through training (nothing tells them apart); the course's exercise —
/// only the convolution filters identical, the dense head random as usual — and random
/// initialisation show what breaks the symmetry.
/// </summary>
internal sealed class SymmetryExperiment : Experiment
{
    public override string Name => "symmetry";
    public override string Title => "Symmetry breaking: identical versus random initial filters";

    public override void Run(ExperimentOptions options, Report report)
    {
        var (train, test) = ExperimentData.ScaledMnist(options, options.Quick ? 1600 : 20_000, options.Quick ? 500 : null);
        int epochs = options.Quick ? 1 : 2;
        const float learningRate = 0.05f;
        report.Text($"The course CNN (Conv 32 3×3 pad 1 → ReLU → MaxPool → Conv 64 3×3 → ReLU → MaxPool → Conv 64 3×3 → ReLU → Dense 10) trained with " +
                    $"SGD lr {learningRate} for {epochs} epoch(s) of batch 32 on {train.Count:N0} MNIST images ({Budget(options)}, seed {options.Seed}), three times: " +
                    "every weight 0.05 and every bias 1 (everything identical); the course's exercise, where only the 3×3 convolution filters are identical (0.05), " +
                    "every bias is 1 and the dense head starts from glorot_uniform as usual; then the default random glorot_uniform weights with zero biases.");
        var rows = new List<string[]>();
        var csv = new List<object?[]>();
        var identicalOptions = new BlockOptions(WeightInit: Initializer.Constant(0.05f), BiasInit: Initializer.Constant(1f), Rng: new Rng(options.Seed));
        foreach (var (label, file, blockOptions, randomHead) in new[]
        {
            ("identical (weights 0.05, biases 1)", "identical", identicalOptions, false),
            ("course: identical filters, biases 1, random head", "course", identicalOptions, true),
            ("random (glorot_uniform)", "random", new BlockOptions(Rng: new Rng(options.Seed)), false),
        })
        {
            var model = Cnn.Course(1, 28, 28, 10, blockOptions);
            if (randomHead)
            {
                var head = model.Layers.OfType<Linear>().Last();
                Initializer.GlorotUniform().Fill(head.Weight.Span, head.InFeatures, head.OutFeatures, new Rng(options.Seed));
            }
            var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), learningRate));
            trainer.Fit(new DataLoader(train, 32, rng: new Rng(options.Seed + 1)), epochs);
            var accuracy = trainer.Evaluate(test).Accuracy;
            var convolutions = model.Layers.OfType<Conv2d>().ToList();
            var differences = convolutions.Select(FilterSymmetry.LargestDifference).ToList();
            FilterImages.Save(convolutions[0], report.PathOf($"filters-{file}.png"));
            rows.Add([label, .. differences.Select(d => G3(d)), Percent(accuracy)]);
            for (int i = 0; i < differences.Count; i++)
            {
                csv.Add([file, i + 1, differences[i]]);
                report.Figures[$"{file}.conv{i + 1}"] = differences[i];
            }
            report.Figures[$"{file}.largest_difference"] = differences.Max();
            report.Figures[$"{file}.smallest_difference"] = differences.Min();
            report.Figures[$"{file}.accuracy"] = accuracy ?? double.NaN;
        }
        report.Heading("Largest pairwise difference between the filters of each convolution after training");
        report.Table(["initialisation", "conv 1 (32 filters)", "conv 2 (64)", "conv 3 (64)", "test accuracy"], rows);
        report.Csv("filter-differences.csv", "initialisation,convolution,largest_difference", csv);
        report.Image("filters-identical.png", "First-layer filters after training from identical initial filters");
        report.Image("filters-course.png", "First-layer filters after training from identical filters under a random dense head (the course's exercise)");
        report.Image("filters-random.png", "First-layer filters after training from random initial filters");
        report.Heading("What the figures show");
        double identical = report.Figures["identical.largest_difference"], random = report.Figures["random.smallest_difference"];
        report.Text((identical == 0
                ? "Started identical, the filters of every layer are still exactly identical after training (largest difference 0): each filter received the same gradient at every step, so the layer behaves as one filter copied 32 or 64 times. "
                : $"Started identical, the filters drifted apart by at most {G3(identical)} — which should not happen: some computation treated the filters differently. ") +
            $"From random weights every layer's filters differ (the closest layer still has filters {G3(random)} apart), and the test accuracy is {Percent(report.Figures["random.accuracy"])} " +
            $"against {Percent(report.Figures["identical.accuracy"])} for the symmetric network. The filter grids show it: one pattern repeated, against a variety of edge and blob detectors.");
        var layers = Enumerable.Range(1, 3).Select(i => (Name: $"conv {i}", Difference: report.Figures[$"course.conv{i}"])).ToList();
        var same = layers.Where(l => l.Difference == 0).Select(l => l.Name).ToList();
        var apart = layers.Where(l => l.Difference != 0).Select(l => $"{l.Name} (largest difference {G3(l.Difference)})").ToList();
        string courseAccuracy = Percent(report.Figures["course.accuracy"]);
        report.Text(same.Count == 0
            ? $"In the course's exercise (identical filters, a random head) every layer's filters end apart (largest differences {string.Join(", ", apart)}); the network reaches {courseAccuracy}."
            : apart.Count == 0
                ? $"In the course's exercise every layer's filters stay exactly identical despite the random head; the network reaches {courseAccuracy}."
                : $"In the course's exercise the random head breaks the symmetry of {string.Join(" and ", apart)} only; {string.Join(" and ", same)} keep exactly identical filters " +
                  $"(largest difference 0). The head sends each filter of the layer it reads a different gradient, but such a filter still weighs all its input channels alike " +
                  "(they started alike and, since the channels it reads are identical, receive the same updates), so the gradient it passes back is the same for every channel below, " +
                  $"and every filter below receives the same update for ever. The network reaches {courseAccuracy}.");
    }
}
