using Sinapse.Diagnostics;
using Sinapse.Init;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Tests.Models;

public class CnnTests
{
    [Fact]
    public void TheCourseCnnTakesRgbAndGrayImagesOfAnySize()
    {
        Assert.Equal(new Shape(2, 10), Cnn.Course(1, 28, 28, 10).Call(Tensor.Zeros(2, 1, 28, 28)).Shape);
        Assert.Equal(new Shape(2, 5), Cnn.Course(3, 32, 32, 5).Call(Tensor.Zeros(2, 3, 32, 32)).Shape);
        Assert.Equal(3 * 32 * 9 + 32, Cnn.Course(3, 32, 32, 5)[0].ParameterCount());
    }

    [Fact]
    public void LeNet5HasItsClassicShape()
    {
        var model = Cnn.LeNet5(1, 28, 28, 10);
        // conv 6·25+6, conv 16·6·25+16, 400→120, 120→84, 84→10
        Assert.Equal(156 + 2_416 + 48_120 + 10_164 + 850, model.ParameterCount());
        Assert.Equal(new Shape(3, 10), model.Call(Tensor.Zeros(3, 1, 28, 28)).Shape);
    }

    [Fact]
    public void TheCourseCnnLearnsToTellTwoPatternsApart()
    {
        // Vertical versus horizontal bars in noise: a problem only a convolution solves quickly.
        var rng = new Rng(3);
        var images = Tensor.Zeros(64, 1, 16, 16);
        var labels = Tensor.Zeros(64);
        for (int n = 0; n < 64; n++)
        {
            int label = n % 2, line = 2 + rng.NextInt(12);
            labels.Span[n] = label;
            for (int i = 0; i < 256; i++) images.Span[n * 256 + i] = rng.NextFloat() * 0.3f;
            for (int k = 0; k < 16; k++) images.Span[n * 256 + (label == 0 ? k * 16 + line : line * 16 + k)] = 1f;
        }
        var data = new Sinapse.Data.Dataset(images, labels);
        var model = Cnn.Course(1, 16, 16, 2, rng: new Rng(4));  // 16 → 8 → 6 → 3 → 1 pixels
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), 3e-3f));
        trainer.Fit(data, epochs: 8, batchSize: 16, rng: new Rng(5));
        Assert.True(trainer.Evaluate(data).Accuracy >= 0.95);
    }
}

public class SymmetryTests
{
    private static Sequential TrainFiftySteps(BlockOptions options)
    {
        var (train, _) = Sinapse.Data.Mnist.LoadBundled();
        var data = Sinapse.Data.InputTransform.Scale(1f / 255f).Apply(train.Subset(Enumerable.Range(0, 50 * 32).ToArray()));
        var model = Cnn.Course(1, 28, 28, 10, options);
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.05f));
        trainer.Fit(data, epochs: 1, batchSize: 32, rng: new Rng(7));
        Assert.Equal(50, trainer.Optimizer.StepCount);
        return model;
    }

    [Fact]
    public void IdenticalFiltersAndBiasesOfOneStayIdenticalThroughTraining()
    {
        // Symmetry: every filter receives the same update, so nothing tells them apart.
        var model = TrainFiftySteps(new BlockOptions(WeightInit: Initializer.Constant(0.05f), BiasInit: Initializer.Constant(1f), Rng: new Rng(1)));
        var convolutions = model.Layers.OfType<Conv2d>().ToList();
        Assert.Equal(3, convolutions.Count);
        Assert.All(convolutions, c => Assert.Equal(0f, FilterSymmetry.LargestDifference(c)));
        Assert.NotEqual(0.05f, convolutions[0].Weight.Span[0]);   // they did learn, in lockstep
    }

    [Fact]
    public void RandomInitialisationBreaksTheSymmetry()
    {
        var model = TrainFiftySteps(new BlockOptions(Rng: new Rng(1)));
        Assert.All(model.Layers.OfType<Conv2d>(), c => Assert.True(FilterSymmetry.LargestDifference(c) > 0.01f));
    }
}
