using Sinapse.Data;
using Sinapse.Init;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Tests.Training;

public class GradientMonitorTests
{
    private static Dataset SmallMnist()
    {
        var (train, _) = Mnist.LoadBundled();
        return InputTransform.Scale(1f / 255f).Apply(train.Subset(Enumerable.Range(0, 512).ToArray()));
    }

    /// <summary>
    /// The first layer's mean gradient norm over the last layer's, from the monitor, for a deep
    /// narrow MLP (12 hidden layers of 16 units) over its first 8 updates on MNIST.
    /// </summary>
    private static double FirstOverLast(string activation, Initializer init)
    {
        var model = Mlp.Create(784, Enumerable.Repeat(16, 12).ToArray(), 10, activation, init, new Rng(1));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.01f));
        trainer.Callbacks.Add(new GradientMonitor(every: 1));
        var history = trainer.Fit(SmallMnist(), epochs: 1, batchSize: 64, rng: new Rng(2));

        var layers = history.LayerNorms.Select(r => r.Layer).Distinct().ToList();
        Assert.Equal(13, layers.Count);                     // twelve hidden Linear layers and the head
        Assert.Equal(8 * 13, history.LayerNorms.Count);     // every one of the 8 updates
        double Mean(string layer) => history.LayerNorms.Where(r => r.Layer == layer).Average(r => r.GradientNorm);
        return Mean(layers[0]) / Mean(layers[^1]);
    }

    [Fact]
    public void SigmoidWithStandardNormalWeightsStarvesTheFirstLayer()
    {
        double ratio = FirstOverLast("sigmoid", Initializer.Normal(0, 1));
        Assert.True(ratio < 0.01, $"first/last = {ratio}");
    }

    [Fact]
    public void ReluWithXavierKeepsTheFirstLayerLearning()
    {
        double ratio = FirstOverLast("relu", Initializer.GlorotUniform());
        Assert.True(ratio > 0.01, $"first/last = {ratio}");
    }

    [Fact]
    public void PrintsACompactLinePerRecordAndWritesCsv()
    {
        var model = Mlp.Create(784, [16], 10, rng: new Rng(1));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.01f));
        var printed = new StringWriter();
        trainer.Callbacks.Add(new GradientMonitor(every: 4, print: printed));
        var history = trainer.Fit(SmallMnist(), epochs: 1, batchSize: 64, rng: new Rng(2));

        Assert.Equal(2, printed.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("1=", printed.ToString());
        // Each line leads with the global norm the trainer measured for that step (step 4, then 8).
        Assert.StartsWith(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"step      4 ‖∇‖={history.GradientNorms[3]:0.##E+0} "), printed.ToString());
        var csv = GradientMonitor.ToCsv(history.LayerNorms).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("step,epoch,layer,gradient_norm,weight_norm", csv[0]);
        Assert.Equal(1 + 2 * 2, csv.Length);
    }
}
