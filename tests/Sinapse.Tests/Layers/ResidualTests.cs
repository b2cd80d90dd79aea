using Sinapse.Layers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class ResidualTests
{
    static Sequential Body(int features, ulong seed) =>
        new(new Linear(features, features, rng: new Rng(seed)), new Tanh(), new Linear(features, features, rng: new Rng(seed + 1)));

    [Fact]
    public void AddsTheBodyToTheIdentityShortcut()
    {
        var body = Body(4, 1);
        var block = new Residual(body);
        var x = Expect.Random([3, 4], 2);
        var expected = x.ToArray().Zip(body.Call(x).ToArray(), (a, b) => a + b).ToArray();
        Assert.Equal(expected, block.Call(x).ToArray());
        Assert.Equal(["body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"], block.NamedParameters().Select(p => p.Name));
    }

    [Fact]
    public void GradientsFlowThroughBothBranches()
    {
        var block = new Residual(Body(3, 3), shortcut: new Linear(3, 3, rng: new Rng(5)));
        Expect.GradientsMatch(x => block.Call(x[0]), Expect.Random([4, 3], 6));
        // And into the parameters of both branches.
        var parameters = block.Parameters().ToArray();
        Expect.GradientsMatch(_ => block.Call(Expect.Random([4, 3], 6)), parameters);
    }

    [Fact]
    public void GradientWithStochasticDepthWhenTheBodyRuns()
    {
        // A seed whose first draw keeps the body (p = 0.5), which is then scaled by 1/(1 − p) = 2.
        ulong seed = 1;
        while (new Rng(seed).NextFloat() < 0.5f) seed++;
        Expect.GradientsMatch(x => new Residual(new Tanh(), dropPath: 0.5f, rng: new Rng(seed)).Call(x[0]), Expect.Random([2, 5], 7));
        var x = Expect.Random([2, 5], 7);
        var y = new Residual(new Tanh(), dropPath: 0.5f, rng: new Rng(seed)).Call(x).ToArray();
        for (int i = 0; i < y.Length; i++) Assert.Equal(x.Span[i] + 2f * MathF.Tanh(x.Span[i]), y[i], 5);
    }

    [Fact]
    public void StochasticDepthSkipsWithTheRightFrequencyAndIsDeterministic()
    {
        const float p = 0.3f;
        var x = Expect.Random([2, 4], 8);
        var (skipsA, scaledA) = Run(new Rng(21));
        var (skipsB, scaledB) = Run(new Rng(21));
        Assert.Equal(skipsA, skipsB);
        Assert.Equal(scaledA, scaledB);
        int skipped = skipsA.Count(s => s);
        Assert.InRange(skipped / 2000.0, p - 0.04, p + 0.04); // standard deviation 0.01
        Assert.True(scaledA);

        (bool[] Skips, bool Scaled) Run(Rng rng)
        {
            var block = new Residual(Body(4, 9), dropPath: p, rng: rng);
            var body = block.Body.Call(x).ToArray();
            var skips = new bool[2000];
            bool scaled = true;
            for (int i = 0; i < skips.Length; i++)
            {
                var y = block.Call(x).ToArray();
                skips[i] = y.SequenceEqual(x.ToArray());
                if (!skips[i])
                    for (int j = 0; j < y.Length; j++) scaled &= Math.Abs(y[j] - (x.Span[j] + body[j] / (1 - p))) < 1e-5;
            }
            return (skips, scaled);
        }
    }

    [Fact]
    public void EvaluationAlwaysRunsTheBodyUnscaledAndDrawsNothing()
    {
        var rng = new Rng(4);
        var body = Body(4, 12);
        var block = new Residual(body, dropPath: 0.9f, rng: rng);
        block.Eval();
        var state = rng.StateDict();
        var x = Expect.Random([3, 4], 13);
        var expected = x.ToArray().Zip(body.Call(x).ToArray(), (a, b) => a + b).ToArray();
        for (int i = 0; i < 20; i++) Assert.Equal(expected, block.Call(x).ToArray());
        Assert.Equal(state, rng.StateDict());
        Assert.False(body.Training);
    }

    [Fact]
    public void DropPathOneAlwaysSkipsInTraining()
    {
        var block = new Residual(Body(2, 14), shortcut: new Relu(), dropPath: 1f, rng: new Rng(1));
        var x = Expect.Random([5, 2], 15);
        for (int i = 0; i < 10; i++) Assert.Equal(new Relu().Call(x).ToArray(), block.Call(x).ToArray());
    }

    [Fact]
    public void ShapesMustMatchAndErrorsNameThem()
    {
        var block = new Residual(new Linear(4, 6));
        var error = Assert.Throws<ArgumentException>(() => block.OutputShape(new Shape(2, 4)));
        Assert.Contains("Residual", error.Message);
        Assert.Contains("[2, 6]", error.Message);
        Assert.Contains("[2, 4]", error.Message);
        Assert.Throws<ArgumentException>(() => block.Call(Tensor.Zeros(2, 4)));
        var projected = new Residual(new Linear(4, 6), shortcut: new Linear(4, 6, useBias: false));
        Assert.Equal(new Shape(2, 6), projected.OutputShape(new Shape(2, 4)));
        Assert.Equal(new Shape(2, 6), projected.Call(Tensor.Zeros(2, 4)).Shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Residual(new Relu(), dropPath: 1.5f));
    }

    [Fact]
    public void DescribesItself()
    {
        Assert.Equal("Residual", new Residual(new Relu()).Describe());
        Assert.Equal("Residual(dropPath=0.2)", new Residual(new Relu(), dropPath: 0.2f).Describe());
    }

    /// <summary>The branches run through Module.Call, as Sequential's layers do, so a NaN is traced to the branch that made it.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnomalyDetectionNamesTheBranchThatMadeANaN(bool inShortcut)
    {
        var nan = new Linear(2, 2, weightInit: Sinapse.Init.Initializer.Ones(), rng: new Rng(1));
        nan.Weight.Span[0] = float.NaN;
        var model = new Sequential(inShortcut ? new Residual(new Tanh(), shortcut: nan) : new Residual(nan));
        using var detection = Sinapse.Autograd.AnomalyDetection.Enable();
        var error = Assert.Throws<Sinapse.Autograd.NonFiniteValueException>(() => model.Call(Tensor.Ones(1, 2)));
        Assert.Contains(inShortcut ? "'0.shortcut'" : "'0.body'", error.Layer);
    }
}
