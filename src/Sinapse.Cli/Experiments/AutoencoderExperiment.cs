using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;
using Sinapse.Vision;

namespace Sinapse.Cli.Experiments;

/// <summary>
/// The course's autoencoder: a convolutional autoencoder (transposed-convolution decoder) trained on MNIST with MSE;
/// test reconstruction error against predicting the mean image, originals beside reconstructions,
/// and the codes projected to 2-D (principal components) coloured by digit.
/// </summary>
internal sealed class AutoencoderExperiment : Experiment
{
    public override string Name => "autoencoder";
    public override string Title => "A convolutional autoencoder on MNIST";

    public const int CodeSize = 32;

    public override void Run(ExperimentOptions options, Report report)
    {
        var (train, test) = ExperimentData.ScaledMnist(options, options.Quick ? 2000 : null, options.Quick ? 1000 : null);
        int epochs = options.Quick ? 2 : 10;
        var rng = new Rng(options.Seed);
        var autoencoder = Autoencoder.Convolutional(1, 28, 28, CodeSize, DecoderUpsampling.Transposed, rng);
        // The target of each image is the image itself, flattened: MSE over the 784 pixels.
        var model = new Sequential(autoencoder, new Flatten());
        Dataset SelfTargets(Dataset d) => new(d.Features, d.Features.Clone().ReshapedTo(d.Count, 784));
        var trainer = new Trainer(model, new MseLoss(), new Adam(model.Parameters(), 2e-3f));
        report.Text($"Encoder Conv(1→16, 3×3, stride 2) → ReLU → Conv(16→32, 3×3, stride 2) → ReLU → Linear(1568→{CodeSize}); decoder Linear({CodeSize}→1568) → ReLU → " +
                    $"ConvTranspose(32→16, 2×2, stride 2) → ReLU → ConvTranspose(16→1, 2×2, stride 2) → Sigmoid. {model.ParameterCount():N0} parameters, MSE loss, Adam lr 0.002, batch 128, " +
                    $"{epochs} epochs on {train.Count:N0} MNIST images scaled to [0, 1] ({Budget(options)}, seed {options.Seed}); evaluated on {test.Count:N0} test images.");
        var history = trainer.Fit(new DataLoader(SelfTargets(train), 128, rng: rng), epochs, SelfTargets(test));
        double mse = trainer.Evaluate(SelfTargets(test)).Loss;

        // The baseline that knows nothing about the input: the mean training image for every test image.
        var mean = new double[784];
        var pixels = train.Features.Span;
        for (int i = 0; i < pixels.Length; i++) mean[i % 784] += pixels[i];
        for (int i = 0; i < 784; i++) mean[i] /= train.Count;
        double baseline = 0;
        var testPixels = test.Features.Span;
        for (int i = 0; i < testPixels.Length; i++) baseline += Math.Pow(testPixels[i] - mean[i % 784], 2);
        baseline /= testPixels.Length;
        report.Figures["test_mse"] = mse;
        report.Figures["mean_image_mse"] = baseline;
        report.Figures["ratio"] = baseline / mse;

        report.Heading("Test reconstruction error");
        report.Table(["predictor", "test MSE per pixel"], [["the mean training image", G3(baseline)], [$"autoencoder ({CodeSize}-number code)", G3(mse)], ["ratio", G3(baseline / mse) + "×"]]);
        report.Csv("history.csv", "epoch,train_mse,test_mse,seconds", history.Epochs.Select(e => (IEnumerable<object?>)[e.Epoch, e.TrainLoss, e.ValidationLoss, e.Seconds]));

        // Originals (top row) above their reconstructions (bottom row).
        int shown = 12;
        var originals = test.Features.Slice(0, shown);
        var reconstructions = Trainer.Predict(autoencoder, originals);
        var tiles = Enumerable.Range(0, shown).Select(i => originals.Slice(i, 1).Clone().ReshapedTo(28, 28))
            .Concat(Enumerable.Range(0, shown).Select(i => reconstructions.Slice(i, 1).Clone().ReshapedTo(28, 28))).ToList();
        Images.SaveGrid(report.PathOf("reconstructions.png"), tiles, columns: shown, scale: 3, low: 0f, high: 1f);
        report.Image("reconstructions.png", "Test images (top) and their reconstructions (bottom)");

        int points = Math.Min(test.Count, 2000);
        var codes = Trainer.Predict(autoencoder.Encoder, test.Features.Slice(0, points));
        var (first, second) = PrincipalPlane(codes);
        var labels = test.Targets.ToArray();
        var groups = Enumerable.Range(0, 10).Select(d =>
        {
            var rows = Enumerable.Range(0, points).Where(i => (int)labels[i] == d).ToArray();
            return new Series(d.ToString(System.Globalization.CultureInfo.InvariantCulture), rows.Select(i => first[i]).ToArray(), rows.Select(i => second[i]).ToArray());
        });
        Plots.Points(report.PathOf("codes.png"), $"{points} test codes projected on their two principal components", "component 1", "component 2", groups);
        report.Image("codes.png", "Codes in 2-D, coloured by digit");
        report.Csv("codes.csv", "label,component_1,component_2", Enumerable.Range(0, points).Select(i => (IEnumerable<object?>)[(int)labels[i], first[i], second[i]]));

        report.Heading("What the figures show");
        report.Text($"Squeezed through {CodeSize} numbers (a 24.5× compression of the 784 pixels), the test digits come back with a mean squared error of {G3(mse)} per pixel, " +
                    (baseline / mse >= 1
                        ? $"{G3(baseline / mse)}× lower than the {G3(baseline)} of answering every image with the mean digit. The reconstructions keep each digit's identity and stroke shape " +
                          "but blur the finest detail, which MSE punishes least. Nobody told the network the labels, yet in the plane of the codes' two principal components " +
                          "images of the same digit gather in regions of their own — a 2-D view of a 32-number code leaves several of them overlapping, but the code holds what distinguishes the digits."
                        : $"not yet better than the {G3(baseline)} of answering every image with the mean digit: this budget is too small for the network to learn more than the average " +
                          "digit (run without --quick for the full protocol)."));
    }

    /// <summary>Each row's coordinates on the two leading principal components of the rows (power iteration with deflation).</summary>
    private static (double[] First, double[] Second) PrincipalPlane(Tensor codes)
    {
        int n = codes.Shape[0], k = codes.Shape[1];
        var values = codes.ToArray();
        var mean = new double[k];
        for (int i = 0; i < n * k; i++) mean[i % k] += values[i] / n;
        var covariance = new double[k, k];
        for (int r = 0; r < n; r++)
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++) covariance[a, b] += (values[r * k + a] - mean[a]) * (values[r * k + b] - mean[b]);
        var components = new List<double[]>();
        for (int c = 0; c < 2; c++)
        {
            var v = Enumerable.Range(0, k).Select(i => 1.0 + i * 0.01).ToArray();
            for (int iteration = 0; iteration < 200; iteration++)
            {
                var next = new double[k];
                for (int a = 0; a < k; a++)
                    for (int b = 0; b < k; b++) next[a] += covariance[a, b] * v[b];
                foreach (var previous in components)
                {
                    double dot = next.Zip(previous, (p, q) => p * q).Sum();
                    for (int a = 0; a < k; a++) next[a] -= dot * previous[a];
                }
                double norm = Math.Sqrt(next.Sum(z => z * z));
                if (norm == 0) break;
                v = next.Select(z => z / norm).ToArray();
            }
            components.Add(v);
        }
        double[] Project(double[] direction) => Enumerable.Range(0, n).Select(r => Enumerable.Range(0, k).Sum(a => (values[r * k + a] - mean[a]) * direction[a])).ToArray();
        return (Project(components[0]), Project(components[1]));
    }
}
