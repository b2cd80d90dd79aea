using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Ops;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Training;

namespace Sinapse.Tests.Optimizers;

public class RegularizationTests
{
    /// <summary>A stand-in for a normalisation layer: PyTorch names its γ "weight" too.</summary>
    private sealed class ScaleNorm : Module
    {
        public ScaleNorm(int features)
        {
            RegisterParameter("weight", Tensor.Full(new Shape(features), 2f));
            RegisterParameter("bias", Tensor.Full(new Shape(features), 1f));
        }

        protected override Tensor Forward(Tensor input) => input;
        public override Shape OutputShape(Shape input) => input;
    }

    [Fact]
    public void ThePenaltyIsKerasL1PlusL2()
    {
        // Keras: l1(λ) adds λ·Σ|w|, l2(λ) adds λ·Σw² (not λ/2).
        var w = Tensor.FromArray([1f, -2f, 0.5f]);
        var v = Tensor.FromArray([-3f]);
        w.RequiresGrad = v.RequiresGrad = true;
        var penalty = Regularization.Penalty([w, v], 0.1f, 0.01f);
        Assert.Equal(0.1f * 6.5f + 0.01f * 14.25f, penalty.Item(), 6);
        penalty.Backward();
        // d/dw = l1·sign(w) + 2·l2·w
        Expect.Close([0.1f + 0.02f, -0.1f - 0.04f, 0.1f + 0.01f], w.Grad!.Span, 1e-6, "dw");
        Expect.Close([-0.1f - 0.06f], v.Grad!.Span, 1e-6, "dv");
    }

    [Fact]
    public void ThePenaltysBackwardMatchesFiniteDifferences()
    {
        var w = Expect.AwayFromKinks([3, 4], -2f, 2f, [0f]);
        w.RequiresGrad = true;
        Expect.GradientsMatch(inputs => Regularization.Penalty(inputs, 0.3f, 0.2f), w);
    }

    [Fact]
    public void ThePenaltyAccumulatesOntoTheLossGradient()
    {
        var w = Tensor.FromArray([2f, -1f]);
        w.RequiresGrad = true;
        F.Add(F.Sum(F.Multiply(w, 3f)), Regularization.Penalty([w], 0.5f, 0f)).Backward();
        Assert.Equal([3.5f, 2.5f], w.Grad!.ToArray());
    }

    [Fact]
    public void ByDefaultOnlyWeightsArePenalisedNotBiasesNormScalesOrFrozenLayers()
    {
        var frozen = new Linear(3, 3, rng: new Rng(1));
        var model = new Sequential(frozen, new ScaleNorm(3), new Linear(3, 2, rng: new Rng(2)));
        frozen.Freeze();
        var selected = new Regularization(l2: 1f).Weights(model);
        var last = (Linear)model.Children[2].Module;
        Assert.Equal([last.Weight], selected);
        Assert.Equal(last.Weight.ToArray().Sum(x => x * x), new Regularization(l2: 1f).Penalty(model).Item(), 4);

        var everything = new Regularization(l1: 1f, appliesTo: (_, _) => true).Weights(model);
        Assert.Equal(4, everything.Count);  // the frozen layer's two are still left out
    }

    [Fact]
    public void InvalidFactorsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Regularization(l1: -1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Regularization(l2: float.PositiveInfinity));
    }

    /// <summary>y = x₀ − 2x₁ from 12 features through a 12-16-1 ReLU network: most weights are not needed.</summary>
    private static (Sequential Model, Dataset Data) OverParameterised()
    {
        var rng = new Rng(21);
        var features = Tensor.Uniform(new Shape(128, 12), -1f, 1f, rng);
        var targets = Tensor.Zeros(128, 1);
        for (int i = 0; i < 128; i++) targets.Span[i] = features.Span[i * 12] - 2 * features.Span[i * 12 + 1];
        return (Mlp.Create(12, [16], 1, "relu", rng: new Rng(22)), new Dataset(features, targets));
    }

    private static SparsityReport Train(Regularization? regularization)
    {
        var (model, data) = OverParameterised();
        var trainer = new Trainer(model, new MseLoss(), new Sgd(model.Parameters(), 0.05f)) { Regularization = regularization };
        trainer.Fit(data, epochs: 100, batchSize: 16, rng: new Rng(23));
        return Regularization.Sparsity(model);
    }

    [Fact]
    public void L1TrainingDrivesWeightsToZero()
    {
        var plain = Train(null);
        var l1 = Train(new Regularization(l1: 0.01f));
        Assert.True(l1.Share > plain.Share + 0.5, $"L1 left {l1.Share:P1} of the weights below 1e-3, no penalty {plain.Share:P1}\n{l1}\n{plain}");
    }

    [Fact]
    public void TheSparsityReportCountsPerLayerAndInTotal()
    {
        var model = new Sequential(new Linear(2, 2, useBias: true, rng: new Rng(1)), new Linear(2, 1, rng: new Rng(2)));
        var first = (Linear)model.Children[0].Module;
        var second = (Linear)model.Children[1].Module;
        first.Weight.Span.Clear();
        first.Weight.Span[0] = 0.5f;
        second.Weight.Span[0] = 0.0005f;
        second.Weight.Span[1] = -0.002f;
        var report = Regularization.Sparsity(model);
        Assert.Equal(["0", "1"], report.Layers.Select(l => l.Layer));
        Assert.Equal((3L, 4L), (report.Layers[0].Below, report.Layers[0].Count));
        Assert.Equal((1L, 2L), (report.Layers[1].Below, report.Layers[1].Count));
        Assert.Equal(4.0 / 6, report.Share, 10);
        Assert.Equal(9, Regularization.Sparsity(model, weightsOnly: false).Count);  // with the 2 + 1 biases
        var text = report.ToString();
        Assert.Contains("|w| < 0.001", text);
        Assert.Contains("total", text);
        Assert.Contains("66.7%", text);
    }
}
