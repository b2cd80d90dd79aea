using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Optimizers;

public class SgdTests
{
    /// <summary>Feeds the fixture's gradient sequence to an optimizer and compares every step with torch.optim.</summary>
    internal static void FollowsPyTorch(string optimizerName, Func<Tensor, System.Text.Json.JsonElement, Optimizer> create)
    {
        var root = Fixture.Load("optimizers.json");
        var gradients = root.GetProperty("gradients").EnumerateArray().Select(g => g.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
        int cases = 0;
        foreach (var c in root.GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("name").GetString() == optimizerName))
        {
            var parameter = Tensor.FromArray(root.Floats("initial"));
            parameter.RequiresGrad = true;
            var optimizer = create(parameter, c);
            var trajectory = c.GetProperty("trajectory").EnumerateArray().ToArray();
            Assert.Equal(gradients.Length, trajectory.Length);
            for (int step = 0; step < gradients.Length; step++)
            {
                parameter.Grad = Tensor.FromArray(gradients[step]);
                optimizer.Step();
                var expected = trajectory[step].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
                Expect.Close(expected, parameter.Span, 1e-5, $"{optimizerName} {c.GetProperty("parameters")} step {step + 1}");
            }
            cases++;
        }
        Assert.True(cases > 0, $"no {optimizerName} cases in optimizers.json");
    }

    [Fact]
    public void PlainMomentumAndNesterovWithAndWithoutWeightDecayMatchPyTorch() =>
        FollowsPyTorch("sgd", (p, c) => new Sgd([p], c.Parameter("lr", float.NaN), momentum: c.Parameter("momentum", 0f),
            nesterov: c.Flag("nesterov"), weightDecay: c.Parameter("weight_decay", 0f)));

    [Fact]
    public void PlainStepIsWMinusAlphaG()
    {
        var w = Tensor.FromArray([1f, -2f]);
        w.RequiresGrad = true;
        w.Grad = Tensor.FromArray([0.5f, 1f]);
        new Sgd([w], 0.1f).Step();
        Assert.Equal([0.95f, -2.1f], w.ToArray());
    }

    [Fact]
    public void MomentumIsTheCoursesVelocityForm()
    {
        // v ← μv − αg; w ← w + v, for a constant gradient g: v₁ = −αg, v₂ = −αg(1 + μ), v₃ = −αg(1 + μ + μ²).
        var w = Tensor.FromArray([0f]);
        w.RequiresGrad = true;
        var sgd = new Sgd([w], 0.1f, momentum: 0.5f);
        float[] expected = [-0.2f, -0.2f - 0.3f, -0.2f - 0.3f - 0.35f];
        for (int step = 0; step < 3; step++)
        {
            w.Grad = Tensor.FromArray([2f]);
            sgd.Step();
            Assert.Equal(expected[step], w[0], 6);
        }
    }

    [Fact]
    public void FrozenParametersAndParametersWithoutGradientsAreLeftAlone()
    {
        var frozen = Tensor.FromArray([1f]);
        frozen.Grad = Tensor.FromArray([1f]);
        var noGradient = Tensor.FromArray([2f]);
        noGradient.RequiresGrad = true;
        new Sgd([frozen, noGradient], 0.1f).Step();
        Assert.Equal(1f, frozen[0]);
        Assert.Equal(2f, noGradient[0]);
    }

    [Fact]
    public void GroupsHaveTheirOwnLearningRates()
    {
        var body = Tensor.FromArray([1f]);
        var head = Tensor.FromArray([1f]);
        body.RequiresGrad = head.RequiresGrad = true;
        body.Grad = Tensor.FromArray([1f]);
        head.Grad = Tensor.FromArray([1f]);
        new Sgd([new ParameterGroup([body], 0.01f), new ParameterGroup([head], 0.5f)]).Step();
        Assert.Equal(0.99f, body[0], 6);
        Assert.Equal(0.5f, head[0], 6);
    }

    [Fact]
    public void StateDictResumesExactly()
    {
        float[] Run(int stepsBefore, bool resume)
        {
            var w = Tensor.FromArray([1f, 2f, 3f]);
            w.RequiresGrad = true;
            var sgd = new Sgd([w], 0.1f, momentum: 0.9f, nesterov: true);
            for (int s = 0; s < 6; s++)
            {
                if (resume && s == stepsBefore)
                {
                    var saved = sgd.StateDict();
                    sgd = new Sgd([w], 0.1f, momentum: 0.9f, nesterov: true);
                    sgd.LoadStateDict(saved);
                }
                w.Grad = Tensor.FromArray([s * 0.1f, -1f, 0.5f]);
                sgd.Step();
            }
            return w.ToArray();
        }
        Assert.Equal(Run(3, resume: false), Run(3, resume: true));
    }

    [Fact]
    public void InvalidSettingsAreRejected()
    {
        var w = Tensor.Zeros(1);
        Assert.Throws<ArgumentException>(() => new Sgd([w], -0.1f));
        Assert.Throws<ArgumentException>(() => new Sgd([w], float.NaN));
        Assert.Throws<ArgumentException>(() => new Sgd([w], 0.1f, momentum: 1f));
        Assert.Throws<ArgumentException>(() => new Sgd([w], 0.1f, nesterov: true));
        Assert.Throws<ArgumentException>(() => new Sgd([new ParameterGroup([w], 0.1f), new ParameterGroup([w], 0.1f)]));
    }
}
