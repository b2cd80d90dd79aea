using System.Text.Json;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Optimizers;

public class AdamTests
{
    /// <summary>The case's optimizer; a case without "weight_decay" leaves it to Adam's default, as PyTorch's does.</summary>
    static Adam Create(Tensor p, JsonElement c, bool decoupled)
    {
        var parameters = c.GetProperty("parameters");
        var betas = parameters.TryGetProperty("betas", out var b) ? b.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray() : [0.9f, 0.999f];
        float? weightDecay = parameters.TryGetProperty("weight_decay", out var decay) ? (float)decay.GetDouble() : null;
        return new Adam([p], c.Parameter("lr", float.NaN), betas[0], betas[1], c.Parameter("eps", 1e-8f), weightDecay, decoupled, amsgrad: c.Flag("amsgrad"));
    }

    [Fact]
    public void AdamWithAndWithoutL2WeightDecayMatchesPyTorch() =>
        SgdTests.FollowsPyTorch("adam", (p, c) => Create(p, c, decoupled: false));

    [Fact]
    public void AdamWMatchesPyTorch() =>
        SgdTests.FollowsPyTorch("adamw", (p, c) => Create(p, c, decoupled: true));

    /// <summary>
    /// AMSGrad for Adam and AdamW, under a changing learning rate too, and AdamW with its default weight decay,
    /// against torch.optim; each AMSGrad run ends with PyTorch's max_exp_avg_sq in its state, above the last
    /// exp_avg_sq somewhere (the fixtures' small β2 lets the estimate fall, so the maximum changes the steps).
    /// </summary>
    [Theory]
    [InlineData("adam", false)]
    [InlineData("adamw", true)]
    public void AmsgradAndAdamWsDefaultWeightDecayMatchPyTorch(string name, bool decoupled)
    {
        var runs = new List<(Adam Optimizer, JsonElement Case)>();
        SgdTests.FollowsPyTorch(name, (p, c) =>
        {
            var adam = Create(p, c, decoupled);
            runs.Add((adam, c));
            return adam;
        }, "optimizer_trajectories.json");
        var amsgrad = runs.Where(r => r.Case.Flag("amsgrad")).ToList();
        Assert.NotEmpty(amsgrad);
        foreach (var (adam, c) in amsgrad)
        {
            var state = adam.StateDict().Parameters[0];
            Expect.Close(c.Floats("max_exp_avg_sq"), state["max_exp_avg_sq"], 1e-5, $"{name} {c.GetProperty("parameters")} max_exp_avg_sq");
            Assert.Contains(Enumerable.Range(0, state["exp_avg_sq"].Length), i => state["max_exp_avg_sq"][i] > 1.5f * state["exp_avg_sq"][i]);
        }
        if (decoupled) Assert.Contains(runs, r => !r.Case.GetProperty("parameters").TryGetProperty("weight_decay", out _));
    }

    [Fact]
    public void AdamWsWeightDecayDefaultsToPyTorchs()
    {
        var w = Tensor.Zeros(2);
        Assert.Equal(0.01f, new Adam([w], decoupled: true).Groups[0].WeightDecay);
        Assert.Equal(0f, new Adam([w]).Groups[0].WeightDecay);
        Assert.Equal(0f, new Adam([w], weightDecay: 0f, decoupled: true).Groups[0].WeightDecay);
        // A group made without a weight decay takes the optimizer's default; one made with it keeps its own.
        var groups = new Adam([new ParameterGroup([w], 1e-3f), new ParameterGroup([Tensor.Zeros(1)], 1e-3f, 0.3f)], decoupled: true).Groups;
        Assert.Equal([0.01f, 0.3f], groups.Select(g => g.WeightDecay));
        Assert.Equal(0f, new Adam([new ParameterGroup([w], 1e-3f)]).Groups[0].WeightDecay);
        // A weight decay set on the group after it was made is its own too.
        var set = new ParameterGroup([w], 1e-3f) { WeightDecay = 0f };
        Assert.Equal(0f, new Adam([set], decoupled: true).Groups[0].WeightDecay);
    }

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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StateDictResumesExactly(bool amsgrad)
    {
        // With AMSGrad the gradients shrink after the resume point, so the saved running maximum decides the later steps.
        float[] Run(bool resume)
        {
            var w = Tensor.FromArray([1f, 2f, 3f]);
            w.RequiresGrad = true;
            Adam Create() => new Adam([w], 0.05f, beta2: 0.6f, weightDecay: 0.1f, decoupled: true, amsgrad: amsgrad);
            var adam = Create();
            for (int s = 0; s < 6; s++)
            {
                if (resume && s == 3)
                {
                    var saved = adam.StateDict();
                    Assert.Equal(amsgrad, saved.Parameters[0].ContainsKey("max_exp_avg_sq"));
                    adam = Create();
                    adam.LoadStateDict(saved);
                    Assert.Equal(3, adam.StepCount);
                }
                float scale = s < 3 ? 1f : 0.1f;
                w.Grad = Tensor.FromArray([scale * (s + 1) * 0.5f, -scale, scale * 0.5f]);
                adam.Step();
            }
            return w.ToArray();
        }
        Assert.Equal(Run(resume: false), Run(resume: true));
    }

    [Fact]
    public void AmsgradDividesByTheLargestSecondMomentSoFar()
    {
        // After a large gradient then small ones, v falls but AMSGrad keeps dividing by its maximum: smaller steps than Adam's.
        float[] Run(bool amsgrad)
        {
            var w = Tensor.FromArray([0f]);
            w.RequiresGrad = true;
            var adam = new Adam([w], 0.1f, beta2: 0.5f, amsgrad: amsgrad);
            var moves = new float[4];
            foreach (var (g, s) in new[] { 10f, 0.1f, 0.1f, 0.1f }.Select((g, s) => (g, s)))
            {
                float before = w[0];
                w.Grad = Tensor.FromArray([g]);
                adam.Step();
                moves[s] = MathF.Abs(w[0] - before);
            }
            return moves;
        }
        var (plain, amsgradMoves) = (Run(false), Run(true));
        Assert.Equal(plain[0], amsgradMoves[0]);
        for (int s = 1; s < 4; s++) Assert.True(amsgradMoves[s] < 0.8f * plain[s], $"step {s + 1}: AMSGrad moved {amsgradMoves[s]}, Adam {plain[s]}");
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
