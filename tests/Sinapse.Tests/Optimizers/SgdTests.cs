using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Optimizers;

public class SgdTests
{
    /// <summary>
    /// Feeds a fixture's gradient sequence to an optimizer and compares every step with torch.optim;
    /// when the case lists a learning rate per step, the optimizer gets it before that step.
    /// </summary>
    internal static void FollowsPyTorch(string optimizerName, Func<Tensor, System.Text.Json.JsonElement, Optimizer> create, string file = "optimizers.json")
    {
        var root = Fixture.Load(file);
        var gradients = root.GetProperty("gradients").EnumerateArray().Select(g => g.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
        int cases = 0;
        foreach (var c in root.GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("name").GetString() == optimizerName))
        {
            var parameter = Tensor.FromArray(root.Floats("initial"));
            parameter.RequiresGrad = true;
            var optimizer = create(parameter, c);
            var trajectory = c.GetProperty("trajectory").EnumerateArray().ToArray();
            float[]? rates = c.TryGetProperty("rates", out _) ? c.Floats("rates") : null;
            Assert.Equal(gradients.Length, trajectory.Length);
            for (int step = 0; step < gradients.Length; step++)
            {
                if (rates != null) optimizer.LearningRate = rates[step];
                parameter.Grad = Tensor.FromArray(gradients[step]);
                optimizer.Step();
                var expected = trajectory[step].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
                Expect.Close(expected, parameter.Span, 1e-5, $"{optimizerName} {c.GetProperty("parameters")} step {step + 1}");
            }
            cases++;
        }
        Assert.True(cases > 0, $"no {optimizerName} cases in {file}");
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

    /// <summary>Momentum and Nesterov under a learning rate that changes mid-run, and dampening (0.3, 0.5 and 1: the gradient enters only at the first step).</summary>
    [Fact]
    public void MomentumNesterovAndDampeningUnderAChangingLearningRateMatchPyTorch()
    {
        int damped = 0;
        FollowsPyTorch("sgd", (p, c) =>
        {
            if (c.Parameter("dampening", 0f) != 0f) damped++;
            return new Sgd([p], c.Parameter("lr", float.NaN), momentum: c.Parameter("momentum", 0f), nesterov: c.Flag("nesterov"),
                weightDecay: c.Parameter("weight_decay", 0f), dampening: c.Parameter("dampening", 0f));
        }, "optimizer_trajectories.json");
        Assert.Equal(3, damped);
    }

    [Fact]
    public void DampeningTakesTheWholeFirstGradientAndAShareOfTheLaterOnes()
    {
        // b₁ = g, b₂ = μb₁ + (1 − d)g = (0.5 + 0.75)·g, b₃ = μb₂ + (1 − d)g: w moves by α·b each step.
        var w = Tensor.FromArray([0f]);
        w.RequiresGrad = true;
        var sgd = new Sgd([w], 0.1f, momentum: 0.5f, dampening: 0.25f);
        float[] buffers = [2f, 0.5f * 2f + 0.75f * 2f, 0.5f * (0.5f * 2f + 0.75f * 2f) + 0.75f * 2f];
        float expected = 0f;
        for (int step = 0; step < 3; step++)
        {
            w.Grad = Tensor.FromArray([2f]);
            sgd.Step();
            expected -= 0.1f * buffers[step];
            Assert.Equal(buffers[step], sgd.StateDict().Parameters[0]["momentum_buffer"][0], 6);
            Assert.Equal(expected, w[0], 6);
        }
    }

    [Fact]
    public void DampenedMomentumResumesExactly()
    {
        // The resumed optimizer finds its buffer and damps the next gradient: it does not take it whole as a first step.
        float[] Run(bool resume)
        {
            var w = Tensor.FromArray([1f, 2f, 3f]);
            w.RequiresGrad = true;
            var sgd = new Sgd([w], 0.1f, momentum: 0.9f, dampening: 0.4f);
            for (int s = 0; s < 6; s++)
            {
                if (resume && s == 2)
                {
                    var saved = sgd.StateDict();
                    sgd = new Sgd([w], 0.1f, momentum: 0.9f, dampening: 0.4f);
                    sgd.LoadStateDict(saved);
                }
                w.Grad = Tensor.FromArray([s * 0.1f, -1f, 0.5f]);
                sgd.Step();
            }
            return w.ToArray();
        }
        Assert.Equal(Run(resume: false), Run(resume: true));
    }

    /// <summary>Both forms on the same gradients (optimizers.json's), at the learning rate of each step.</summary>
    private static (float[] PyTorch, float[] Course, Sgd PyTorchSgd, Sgd CourseSgd) RunBothForms(bool nesterov, Func<int, float> rate, int steps, float weightDecay = 0f,
        float dampening = 0f)
    {
        var root = Fixture.Load("optimizers.json");
        var gradients = root.GetProperty("gradients").EnumerateArray().Select(g => g.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
        var a = Tensor.FromArray(root.Floats("initial"));
        var b = Tensor.FromArray(root.Floats("initial"));
        a.RequiresGrad = b.RequiresGrad = true;
        var pyTorch = new Sgd([a], rate(0), 0.9f, nesterov, weightDecay, dampening: dampening);
        var course = new Sgd([b], rate(0), 0.9f, nesterov, weightDecay, MomentumForm.Course, dampening: dampening);
        for (int step = 0; step < steps; step++)
        {
            pyTorch.LearningRate = course.LearningRate = rate(step);
            a.Grad = Tensor.FromArray(gradients[step]);
            b.Grad = Tensor.FromArray(gradients[step]);
            pyTorch.Step();
            course.Step();
        }
        return (a.ToArray(), b.ToArray(), pyTorch, course);
    }

    [Theory]
    [InlineData(false, 0f)]
    [InlineData(true, 0f)]
    [InlineData(false, 0.3f)]
    public void TheCoursesVelocityFormGivesPyTorchsIteratesForAConstantRate(bool nesterov, float dampening)
    {
        // v = −α·b: the course's v ← μv − α(1 − d)g; w ← w + v is PyTorch's b ← μb + (1 − d)g; w ← w − αb.
        var (pyTorch, course, pyTorchSgd, courseSgd) = RunBothForms(nesterov, _ => 0.1f, 8, weightDecay: 0.05f, dampening);
        Expect.Close(pyTorch, course, 1e-5, "course vs PyTorch form");
        var buffer = pyTorchSgd.StateDict().Parameters[0]["momentum_buffer"];
        var velocity = courseSgd.StateDict().Parameters[0]["velocity"];
        Expect.Close(buffer.Select(x => -0.1f * x).ToArray(), velocity, 1e-5, "v = −α·b");
    }

    [Fact]
    public void WhenTheRateChangesTheFormsDifferByTheRescaledMomentum()
    {
        // After 4 steps at α₁ and one at α₂: PyTorch steps −α₂(μb₄ + g₅), the course μv₄ − α₂g₅ with
        // v₄ = −α₁b₄, so w_PyTorch − w_course = −μ(α₂ − α₁)·b₄.
        const float first = 0.1f, second = 0.03f, momentum = 0.9f;
        var (beforeTorch, beforeCourse, torchSgd, _) = RunBothForms(false, _ => first, 4);
        var b4 = torchSgd.StateDict().Parameters[0]["momentum_buffer"];
        var (pyTorch, course, _, _) = RunBothForms(false, step => step < 4 ? first : second, 5);
        Expect.Close(beforeTorch, beforeCourse, 1e-5, "identical before the change");
        var expected = b4.Select(b => -momentum * (second - first) * b).ToArray();
        var actual = pyTorch.Zip(course, (p, c) => p - c).ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 4e-6f);
        Assert.Contains(expected, d => MathF.Abs(d) > 1e-3f);
    }

    [Fact]
    public void TheCoursesNesterovTakesTheGradientAtTheLookAheadPoint()
    {
        // The course's algorithm on J(w) = ½Σ aᵢwᵢ², in double with w and v kept apart: g = ∇J(w + μv);
        // v ← μv − αg; w ← w + v. Sinapse stores θ = w + μv, and its gradient is ∇J(θ).
        double[] curvature = [0.5, 2, 5, 9];
        double[] w = [1, -2, 0.5, 3], v = new double[4];
        const float rate = 0.05f, momentum = 0.8f;
        var theta = Tensor.FromArray(w.Select(x => (float)x).ToArray());
        theta.RequiresGrad = true;
        var sgd = new Sgd([theta], rate, momentum, nesterov: true, form: MomentumForm.Course);
        for (int step = 0; step < 25; step++)
        {
            for (int i = 0; i < 4; i++)
            {
                double g = curvature[i] * (w[i] + momentum * v[i]);
                v[i] = momentum * v[i] - rate * g;
                w[i] += v[i];
            }
            theta.Grad = Tensor.FromArray(curvature.Select((a, i) => (float)(a * theta[i])).ToArray());
            sgd.Step();
            for (int i = 0; i < 4; i++) Assert.Equal(w[i] + momentum * v[i], theta[i], 1e-5);
        }
    }

    [Fact]
    public void TheCourseFormWithAChangingRateFollowsItsOwnFormulaNotPyTorchs()
    {
        var root = Fixture.Load("optimizer_trajectories.json");
        var c = root.GetProperty("cases").EnumerateArray().First(c => c.GetProperty("name").GetString() == "sgd" && !c.Flag("nesterov"));
        var gradients = root.GetProperty("gradients").EnumerateArray().Select(g => g.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
        var rates = c.Floats("rates");
        var p = Tensor.FromArray(root.Floats("initial"));
        p.RequiresGrad = true;
        var sgd = new Sgd([p], rates[0], 0.9f, form: MomentumForm.Course);
        var w = root.Floats("initial").Select(x => (double)x).ToArray();
        var v = new double[w.Length];
        for (int step = 0; step < gradients.Length; step++)
        {
            for (int i = 0; i < w.Length; i++)
            {
                v[i] = 0.9 * v[i] - rates[step] * (double)gradients[step][i];
                w[i] += v[i];
            }
            sgd.LearningRate = rates[step];
            p.Grad = Tensor.FromArray(gradients[step]);
            sgd.Step();
            // 1e-4: against exact arithmetic, float32's rounding of weights near 1 shows in those that cancel towards 0.
            Expect.Close(w.Select(x => (float)x).ToArray(), p.Span, 1e-4, $"course form step {step + 1}");
        }
        var pyTorchEnd = c.GetProperty("trajectory")[gradients.Length - 1].EnumerateArray().Select(x => (float)x.GetDouble()).ToArray();
        Assert.Contains(Enumerable.Range(0, w.Length), i => MathF.Abs(pyTorchEnd[i] - p[i]) > 1e-3f);
    }

    [Fact]
    public void DecoupledWeightDecayShrinksTheWeightsBeforeTheStep()
    {
        // w ← (1 − αλ)·w − α·g, and with momentum the decay stays out of the buffer.
        var w = Tensor.FromArray([2f, -1f]);
        w.RequiresGrad = true;
        var sgd = new Sgd([w], 0.1f, momentum: 0.5f, weightDecay: 0.2f, decoupled: true);
        w.Grad = Tensor.FromArray([1f, 1f]);
        sgd.Step();
        Assert.Equal(2f * 0.98f - 0.1f, w[0], 6);
        Assert.Equal(-0.98f - 0.1f, w[1], 6);
        Assert.Equal([1f, 1f], sgd.StateDict().Parameters[0]["momentum_buffer"]);
    }

    [Fact]
    public void InvalidSettingsAreRejected()
    {
        var w = Tensor.Zeros(1);
        Assert.Throws<ArgumentException>(() => new Sgd([w], -0.1f));
        Assert.Throws<ArgumentException>(() => new Sgd([w], float.NaN));
        Assert.Throws<ArgumentException>(() => new Sgd([w], 0.1f, momentum: 1f));
        Assert.Throws<ArgumentException>(() => new Sgd([w], 0.1f, nesterov: true));
        Assert.Contains("no dampening", Assert.Throws<ArgumentException>(() => new Sgd([w], 0.1f, 0.9f, nesterov: true, dampening: 0.1f)).Message);
        Assert.Throws<ArgumentException>(() => new Sgd([w], 0.1f, 0.9f, dampening: float.NaN));
        Assert.Throws<ArgumentException>(() => new Sgd([w], 0.1f, 0.9f, form: (MomentumForm)7));
        Assert.Throws<ArgumentException>(() => new Sgd([new ParameterGroup([w], 0.1f), new ParameterGroup([w], 0.1f)]));
    }
}
