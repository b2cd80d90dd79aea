using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Optimizers;

public class RmsPropTests
{
    [Fact]
    public void PlainMomentumCenteredAndWeightDecayMatchPyTorch() =>
        SgdTests.FollowsPyTorch("rmsprop", (p, c) => new RmsProp([p], c.Parameter("lr", float.NaN), c.Parameter("alpha", 0.99f), c.Parameter("eps", 1e-8f),
            c.Parameter("weight_decay", 0f), c.Parameter("momentum", 0f), c.Flag("centered")), "optimizer_trajectories.json");

    [Fact]
    public void TheFirstStepDividesByTheRootOfOneMinusAlphaTimesGSquared()
    {
        // s₁ = (1 − α)g², so the first step is −lr·g/(√(1 − α)·|g|) = −lr·sign(g)/√(1 − α).
        var w = Tensor.FromArray([0f, 0f]);
        w.RequiresGrad = true;
        w.Grad = Tensor.FromArray([4f, -0.02f]);
        new RmsProp([w], learningRate: 0.01f, alpha: 0.9f).Step();
        Assert.Equal(-0.01f / MathF.Sqrt(0.1f), w[0], 5);
        Assert.Equal(0.01f / MathF.Sqrt(0.1f), w[1], 5);
    }

    [Fact]
    public void InvalidSettingsAreRejected()
    {
        var w = Tensor.Zeros(1);
        Assert.Throws<ArgumentException>(() => new RmsProp([w], alpha: 1.5f));
        Assert.Throws<ArgumentException>(() => new RmsProp([w], epsilon: -1f));
        Assert.Throws<ArgumentException>(() => new RmsProp([w], momentum: 1f));
    }
}
