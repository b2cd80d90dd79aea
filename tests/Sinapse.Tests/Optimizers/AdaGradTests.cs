using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Optimizers;

public class AdaGradTests
{
    [Fact]
    public void PlainLearningRateDecayWeightDecayAndInitialAccumulatorMatchPyTorch() =>
        SgdTests.FollowsPyTorch("adagrad", (p, c) => new AdaGrad([p], c.Parameter("lr", float.NaN), c.Parameter("lr_decay", 0f),
            c.Parameter("weight_decay", 0f), c.Parameter("initial_accumulator_value", 0f), c.Parameter("eps", 1e-10f)), "optimizer_trajectories.json");

    [Fact]
    public void EachWeightsStepShrinksWithItsOwnGradientHistory()
    {
        // s = Σg²: with a constant gradient the t-th step is α·g/√(t·g²) = α/√t, whatever |g| is.
        var w = Tensor.FromArray([0f, 0f]);
        w.RequiresGrad = true;
        var adaGrad = new AdaGrad([w], learningRate: 0.1f);
        float[] previous = [0f, 0f];
        for (int t = 1; t <= 4; t++)
        {
            w.Grad = Tensor.FromArray([100f, 0.01f]);
            adaGrad.Step();
            Assert.Equal(-0.1f / MathF.Sqrt(t), w[0] - previous[0], 5);
            Assert.Equal(-0.1f / MathF.Sqrt(t), w[1] - previous[1], 5);
            previous = w.ToArray();
        }
    }

    [Fact]
    public void InvalidSettingsAreRejected()
    {
        var w = Tensor.Zeros(1);
        Assert.Throws<ArgumentException>(() => new AdaGrad([w], learningRateDecay: -1f));
        Assert.Throws<ArgumentException>(() => new AdaGrad([w], initialAccumulatorValue: -0.1f));
        Assert.Throws<ArgumentException>(() => new AdaGrad([w], epsilon: float.NaN));
        Assert.Throws<ArgumentException>(() => new AdaGrad([w], learningRate: -1f));
    }
}
