using System.Text.Json;
using Sinapse.Data;
using Sinapse.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Sinapse.Tests.Data;

public class InputTransformTests
{
    static Tensor Random(Shape shape, float mean, float std, ulong seed) => Tensor.Normal(shape, mean, std, new Rng(seed));

    [Fact]
    public void ScaleMultiplies()
    {
        var x = Tensor.FromArray([0f, 51f, 255f], 3, 1);
        var y = InputTransform.Scale(1 / 255f).Apply(x);
        Assert.Equal(0f, y[0, 0]);
        Assert.Equal(0.2f, y[1, 0], 6);
        Assert.Equal(1f, y[2, 0], 6);
    }

    [Fact]
    public void StandardizeIsFittedOnTrainAndReusedOnTest()
    {
        var train = Random(new Shape(2000, 3), 50f, 10f, 1);
        var test = Random(new Shape(500, 3), 60f, 10f, 2);
        var transform = InputTransform.Standardize().Fit(train);
        var scaled = transform.Apply(train);
        for (int feature = 0; feature < 3; feature++)
        {
            var column = Column(scaled, feature);
            Assert.Equal(0, column.Average(), 4);
            Assert.Equal(1, Math.Sqrt(column.Select(v => v * v).Average()), 4);
        }
        // The test set is mapped with the training statistics, so its shift of +10 shows as about +1.
        var testScaled = transform.Apply(test);
        float expected = (test[0, 1] - transform.Mean![1]) / transform.StandardDeviation![1];
        Assert.Equal(expected, testScaled[0, 1], 4);
        Assert.InRange(Column(testScaled, 0).Average(), 0.7, 1.3);
    }

    [Fact]
    public void StandardizeImagesPerChannel()
    {
        var images = Tensor.Empty(100, 2, 4, 4);
        var span = images.Span;
        var rng = new Rng(3);
        for (int n = 0; n < 100; n++)
        {
            rng.FillNormal(span.Slice(n * 32, 16), 100f, 5f);
            rng.FillNormal(span.Slice(n * 32 + 16, 16), -3f, 0.5f);
        }
        var transform = InputTransform.Standardize().Fit(new Dataset(images, Tensor.Zeros(100)));
        Assert.Equal(2, transform.Mean!.Count);
        Assert.Equal(100f, transform.Mean[0], 0.5f);
        Assert.Equal(0.5f, transform.StandardDeviation![1], 0.05f);
        transform.ApplyInPlace(images);
        float[] channel1 = [.. Enumerable.Range(0, 100).SelectMany(n => images.Span.Slice(n * 32 + 16, 16).ToArray())];
        Assert.Equal(0, channel1.Average(), 4);
    }

    [Fact]
    public void ConstantFeaturesAreShiftedNotDividedByZero()
    {
        var x = Tensor.FromArray([0f, 1f, 0f, 3f], 2, 2);
        var y = InputTransform.Standardize().Fit(x).Apply(x);
        Assert.Equal([0f, -1f, 0f, 1f], y.ToArray());
        Assert.True(TensorPrimitives.IsFiniteAll<float>(InputTransform.MinMax().Fit(x).Apply(x).Span));
    }

    [Theory]
    [InlineData(0f, 1f)]
    [InlineData(-1f, 1f)]
    public void MinMaxMapsTheTrainingRange(float low, float high)
    {
        var x = Tensor.FromArray([10f, 20f, 30f, 15f], 4, 1);
        var y = InputTransform.MinMax(low, high).Fit(x).Apply(x);
        Assert.Equal(low, y[0, 0], 5);
        Assert.Equal(high, y[2, 0], 5);
        Assert.Equal((low + high) / 2, y[1, 0], 5);
    }

    [Fact]
    public void ConfigRoundTripsDirectlyAndThroughJson()
    {
        var x = Random(new Shape(50, 1, 3, 3), 33f, 78f, 4);
        foreach (var transform in new[]
        {
            InputTransform.None(), InputTransform.Scale(1 / 255f), InputTransform.Standardize().Fit(x),
            InputTransform.MinMax(-1, 1, perChannel: false).Fit(x),
        })
        {
            var direct = InputTransform.FromConfig(transform.ToConfig());
            var json = JsonSerializer.Deserialize<Dictionary<string, object>>(JsonSerializer.Serialize(transform.ToConfig()))!;
            var viaJson = InputTransform.FromConfig(json);
            Assert.Equal(transform.ToString(), direct.ToString());
            Assert.Equal(transform.Apply(x).ToArray(), direct.Apply(x).ToArray());
            Assert.Equal(transform.Apply(x).ToArray(), viaJson.Apply(x).ToArray());
        }
    }

    [Fact]
    public void NormalizeUsesTheGivenStatisticsPerChannelAsTorchvisionDoes()
    {
        // torchvision: Normalize(mean, std)(x) = (x - mean[c]) / std[c] for each channel c.
        var transform = InputTransform.Normalize([10f, 20f], [2f, 4f]);
        Assert.True(transform.IsFitted);
        var x = new Tensor(new Shape(1, 2, 1, 2), [12f, 6f, 28f, 20f]);
        Assert.Equal([1f, -2f, 2f, 0f], transform.Apply(x).ToArray());
        var viaConfig = InputTransform.FromConfig(JsonSerializer.Deserialize<Dictionary<string, object>>(JsonSerializer.Serialize(transform.ToConfig()))!);
        Assert.Equal(transform.Apply(x).ToArray(), viaConfig.Apply(x).ToArray());
    }

    [Theory]
    [InlineData(new[] { 0f }, new[] { 0f })]
    [InlineData(new[] { 0f, 1f }, new[] { 1f })]
    [InlineData(new float[0], new float[0])]
    [InlineData(new[] { float.NaN }, new[] { 1f })]
    public void NormalizeRefusesStatisticsThatDoNotDescribeChannels(float[] mean, float[] std)
    {
        var error = Assert.Throws<ArgumentException>(() => InputTransform.Normalize(mean, std));
        Assert.Contains("one finite mean and one positive std per channel", error.Message);
    }

    [Fact]
    public void MisuseIsExplained()
    {
        Assert.Contains("must be fitted", Assert.Throws<InvalidOperationException>(() => InputTransform.Standardize().Apply(Tensor.Zeros(2, 2))).Message);
        var fitted = InputTransform.Standardize().Fit(Random(new Shape(10, 3), 0, 1, 5));
        var error = Assert.Throws<ArgumentException>(() => fitted.Apply(Tensor.Zeros(2, 4)));
        Assert.Contains("fitted on 3 features", error.Message);
        Assert.Contains("[2, 4] have 4", error.Message);
    }

    static double[] Column(Tensor x, int feature) => [.. Enumerable.Range(0, x.Shape[0]).Select(i => (double)x[i, feature])];
}
