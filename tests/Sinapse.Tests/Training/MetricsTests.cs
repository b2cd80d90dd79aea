using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Tests.Training;

public class MetricsTests
{
    private static readonly Tensor Output = Tensor.FromArray([0.1f, 0.7f, 0.2f, 0.6f, 0.3f, 0.1f], 2, 3);

    [Fact]
    public void LabelsAndOneHotRowsAreCounted()
    {
        Assert.Equal(1, Metrics.CountCorrect(Output, Tensor.FromArray([1f, 2f], 2)));
        Assert.Equal(2, Metrics.CountCorrect(Output, Tensor.FromArray([0f, 1f, 0f, 1f, 0f, 0f], 2, 3)));
        // Soft labels: still one distribution per row.
        Assert.Equal(1, Metrics.CountCorrect(Output, Tensor.FromArray([0.1f, 0.8f, 0.1f, 0.1f, 0.1f, 0.8f], 2, 3)));
    }

    /// <summary>An autoencoder's targets are its pixels: there is no class to match, so no accuracy (as the doc says).</summary>
    [Fact]
    public void TargetVectorsThatAreNotDistributionsHaveNoAccuracy()
    {
        Assert.Null(Metrics.CountCorrect(Output, Tensor.FromArray([0.2f, 0.9f, 0.5f, 0.8f, 0.1f, 0.0f], 2, 3)));
        Assert.Null(Metrics.CountCorrect(Output, Tensor.FromArray([0f, 0f, 0f, 0f, 0f, 0f], 2, 3)));
        Assert.Null(Metrics.CountCorrect(Output, Tensor.FromArray([-1f, 2f, 0f, 0f, 1f, 0f], 2, 3)));
    }
}
