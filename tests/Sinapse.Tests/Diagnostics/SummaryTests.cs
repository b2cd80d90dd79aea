using Sinapse.Diagnostics;
using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Tensors;

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
