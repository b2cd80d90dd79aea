using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Optimizers;

public class AdamTests
{
    static Adam Create(Tensor p, System.Text.Json.JsonElement c, bool decoupled)
    {
        var betas = c.GetProperty("parameters").TryGetProperty("betas", out var b) ? b.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray() : [0.9f, 0.999f];
        return new Adam([p], c.Parameter("lr", float.NaN), betas[0], betas[1], c.Parameter("eps", 1e-8f),
            weightDecay: c.Parameter("weight_decay", decoupled ? 0.01f : 0f), decoupled: decoupled);
    }

    [Fact]
    public void AdamWithAndWithoutL2WeightDecayMatchesPyTorch() =>
        SgdTests.FollowsPyTorch("adam", (p, c) => Create(p, c, decoupled: false));

    [Fact]
    public void AdamWMatchesPyTorch() =>
        SgdTests.FollowsPyTorch("adamw", (p, c) => Create(p, c, decoupled: true));

    [Fact]
    public void TheFirstStepMovesEachWeightByTheLearningRate()
    {
        // With bias correction, m̂ = g and v̂ = g², so the first step is α·sign(g) (up to ε).
        var w = Tensor.FromArray([0f, 0f, 0f]);
        w.RequiresGrad = true;
        w.Grad = Tensor.FromArray([3f, -0.001f, 50f]);
        new Adam([w], learningRate: 0.01f).Step();
        Assert.Equal(-0.01f, w[0], 6);
        Assert.Equal(0.01f, w[1], 5);
        Assert.Equal(-0.01f, w[2], 6);
    }

    [Fact]
    public void ALayerUnfrozenMidRunStartsItsOwnBiasCorrection()
    {
        // As PyTorch, each parameter counts its own steps: b's first update, after five steps
        // frozen, is again α·sign(g). Counting the optimizer's six steps would make it 0.52·α.
        var a = Tensor.FromArray([0f]);
        var b = Tensor.FromArray([0f]);
        a.RequiresGrad = true;
        var adam = new Adam([a, b], learningRate: 0.01f);
        for (int s = 0; s < 5; s++)
        {
            a.Grad = Tensor.FromArray([1f]);
            adam.Step();
        }
        b.RequiresGrad = true;
        a.Grad = Tensor.FromArray([1f]);
        b.Grad = Tensor.FromArray([2f]);
        adam.Step();
        Assert.Equal(-0.01f, b[0], 6);
        Assert.Equal(6, adam.StepCount);
    }

    [Fact]
    public void AStateSavedBeforeParametersCountedTheirStepsResumesAtTheOptimizersCount()
    {
        var w = Tensor.FromArray([1f, 2f]);
        w.RequiresGrad = true;
        var adam = new Adam([w], 0.05f);
        for (int s = 0; s < 3; s++)
        {
            w.Grad = Tensor.FromArray([0.5f, -1f]);
            adam.Step();
        }
        var saved = adam.StateDict();
        var expected = adam.StateDict();
        foreach (var buffers in saved.Parameters) buffers.Remove(ParameterState.StepBuffer);
        var resumed = new Adam([w], 0.05f);
        resumed.LoadStateDict(saved);
        Assert.Equal(expected.Parameters[0][ParameterState.StepBuffer], resumed.StateDict().Parameters[0][ParameterState.StepBuffer]);
    }

    [Fact]
    public void StateDictResumesExactly()
    {
        float[] Run(bool resume)
        {
            var w = Tensor.FromArray([1f, 2f, 3f]);
            w.RequiresGrad = true;
            var adam = new Adam([w], 0.05f, weightDecay: 0.1f, decoupled: true);
            for (int s = 0; s < 6; s++)
            {
                if (resume && s == 3)
                {
                    var saved = adam.StateDict();
                    adam = new Adam([w], 0.05f, weightDecay: 0.1f, decoupled: true);
                    adam.LoadStateDict(saved);
                    Assert.Equal(3, adam.StepCount);
                }
                w.Grad = Tensor.FromArray([s * 0.1f, -1f, 0.5f]);
                adam.Step();
            }
            return w.ToArray();
        }
        Assert.Equal(Run(resume: false), Run(resume: true));
    }

    [Fact]
    public void InvalidSettingsAreRejected()
    {
        var w = Tensor.Zeros(1);
        Assert.Throws<ArgumentException>(() => new Adam([w], beta1: 1f));
        Assert.Throws<ArgumentException>(() => new Adam([w], beta2: -0.1f));
        Assert.Throws<ArgumentException>(() => new Adam([w], epsilon: 0f));
    }
}
