using Sinapse.Diagnostics;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Tensors;
using Sinapse.Vision;

namespace Sinapse.Tests.Diagnostics;

public class SummaryTests
{
    [Fact]
    public void TwoStackedThreeByThreeConvolutionsSeeFiveByFive()
    {
        var model = new Sequential(new Conv2d(1, 4, 3), new Relu(), new Conv2d(4, 4, 3));
        var summary = ModelSummary.Of(model, new Shape(1, 1, 28, 28));
        Assert.Equal(3, summary.Layers[0].ReceptiveField);
        Assert.Equal(5, summary.Layers[2].ReceptiveField);
        Assert.Contains("5×5", summary.ToString());
    }

    [Fact]
    public void PoolingAndStridesWidenTheReceptiveField()
    {
        // conv3 (3) → pool2 (4, jump 2) → conv3 (4 + 2·2 = 8) → pool2 (8 + 2 = 10, jump 4) → conv3 (10 + 2·4 = 18)
        var summary = ModelSummary.Of(Cnn.Course(1, 28, 28, 10), new Shape(1, 1, 28, 28));
        int?[] fields = summary.Layers.Select(l => l.ReceptiveField).ToArray();
        Assert.Equal([3, 3, 4, 8, 8, 10, 18, 18, null, null], fields);
    }

    [Fact]
    public void CeilModeDilatedAndAdaptivePoolingRows()
    {
        // SqueezeNet's stem, 224 → conv 3 stride 2 → 111 → MaxPool2d(3, 2, ceil_mode) → 55, then a dilated max pooling and AdaptiveAvgPool2d(5).
        var model = new Sequential(new Conv2d(3, 8, 3, stride: 2), new MaxPool2d(3, 2, ceilMode: true), new MaxPool2d(2, 1, dilation: 2), new AdaptiveAvgPool2d(5));
        var summary = ModelSummary.Of(model, new Shape(1, 3, 224, 224));
        Assert.Equal([new Shape(1, 8, 111, 111), new Shape(1, 8, 55, 55), new Shape(1, 8, 53, 53), new Shape(1, 8, 5, 5)], summary.Layers.Select(l => l.OutputShape));
        // conv: 3, jump 2; pool 3: 3 + 2·2 = 7, jump 4; dilated pool (span 3): 7 + 2·4 = 15; adaptive pooling has no fixed window.
        Assert.Equal([3, 7, 15, 15], summary.Layers.Select(l => l.ReceptiveField));
        Assert.Contains("MaxPool2d(3, stride 2, ceil mode)", summary.ToString());
        Assert.Contains("AdaptiveAvgPool2d(5)", summary.ToString());
    }

    [Fact]
    public void TheCourseCnnHasTheExpectedShapesAndCounts()
    {
        var summary = ModelSummary.Of(Cnn.Course(1, 28, 28, 10), new Shape(1, 1, 28, 28));
        Assert.Equal(new Shape(1, 32, 28, 28), summary.Layers[0].OutputShape);
        Assert.Equal(1 * 32 * 9 + 32, summary.Layers[0].Parameters);      // 32 filters of 3×3, a bias each
        Assert.Equal(new Shape(1, 64, 4, 4), summary.Layers[7].OutputShape);
        Assert.Equal(new Shape(1, 10), summary.Layers[^1].OutputShape);
        Assert.Equal(320 + 18_496 + 36_928 + 10_250, summary.TotalParameters);
        Assert.Equal(summary.TotalParameters, summary.TrainableParameters);
    }

    [Fact]
    public void AMobileNetIsSummarisedBlockByBlockWithTorchvisionsNames()
    {
        var model = MobileNet.V3Small();
        var summary = ModelSummary.Of(model, new Shape(1, 3, 224, 224));
        var names = summary.Layers.Select(l => l.Name).ToList();
        Assert.Equal(["features.0.0", "features.0.1", "features.0.2", "features.1"], names.Take(4));
        Assert.Equal("classifier.3", names[^1]);
        Assert.Equal(new Shape(1, 96, 7, 7), summary.Layers[names.IndexOf("features.11")].OutputShape);
        Assert.Equal(new Shape(1, 576), summary.Layers.Single(l => l.Layer == "Flatten").OutputShape);
        // Every parameter is counted once: the rows add up to the model's total.
        Assert.Equal(model.ParameterCount(), summary.Layers.Sum(l => l.Parameters));
        Assert.Equal(2_542_856, summary.TotalParameters);
    }

    [Fact]
    public void AResidualBlockWidensTheFieldAsItsConvolutionsDo()
    {
        // stem 3×3 s2 (3, jump 2) → block 1: depthwise 3×3 s2 between 1×1s (3 + 2·2 = 7, jump 4)
        // → block 2: depthwise 3×3 s2 (7 + 2·4 = 15, jump 8) → block 3: depthwise 3×3 s1 (15 + 2·8 = 31)
        var summary = ModelSummary.Of(MobileNet.V3Small(), new Shape(1, 3, 224, 224));
        int?[] fields = summary.Layers.Take(6).Select(l => l.ReceptiveField).ToArray();
        Assert.Equal([3, 3, 3, 7, 15, 31], fields);
    }

    [Fact]
    public void FrozenParametersAreCountedApart()
    {
        var model = Mlp.Create(784, [256, 128, 64], 10);
        model[1].Freeze();
        var summary = ModelSummary.Of(model, new Shape(1, 784));
        Assert.Equal(242_762, summary.TotalParameters);
        Assert.Equal(242_762 - (784 * 256 + 256), summary.TrainableParameters);
        Assert.Contains("Frozen parameters: 200,960", summary.ToString());
    }

    [Fact]
    public void ALayerThatCannotTakeTheShapeFailsBeforeRunningNamingIt()
    {
        var model = new Sequential(new Conv2d(1, 8, 5), new MaxPool2d(2), new Conv2d(8, 8, 5));
        var error = Assert.Throws<ArgumentException>(() => ModelSummary.Of(model, new Shape(1, 1, 10, 10)));
        Assert.Contains("Conv2d(8 -> 8", error.Message);
        Assert.Contains("[1, 8, 3, 3]", error.Message);
    }
}
