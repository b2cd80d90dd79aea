using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Tests.Optimizers;

public class LossScalerTests
{
    [Fact]
    public void StartsAtTwoToTheSixteenAsGradScaler()
    {
        var scaler = new LossScaler();
        Assert.Equal(65536f, scaler.Scale);
        Assert.Equal(2000, scaler.GrowthInterval);
        Assert.Equal((2f, 0.5f), (scaler.GrowthFactor, scaler.BackoffFactor));
    }

    [Fact]
    public void GrowsAfterTheIntervalOfFiniteStepsAndBacksOffOnAnOverflow()
    {
        var scaler = new LossScaler(initialScale: 8f, growthInterval: 3);
        scaler.Update(false);
        scaler.Update(false);
        Assert.Equal((8f, 2), (scaler.Scale, scaler.GrowthTracker));
        scaler.Update(false);
        Assert.Equal((16f, 0), (scaler.Scale, scaler.GrowthTracker));
        scaler.Update(false);
        scaler.Update(false);
        scaler.Update(true);   // an overflow halves the scale and restarts the count
        Assert.Equal((8f, 0, 1L), (scaler.Scale, scaler.GrowthTracker, scaler.SkippedSteps));
        scaler.Update(false);
        scaler.Update(false);
        Assert.Equal(8f, scaler.Scale);
        scaler.Update(false);
        Assert.Equal(16f, scaler.Scale);
    }

    [Fact]
    public void AScaleThatWouldBecomeInfiniteStays()
    {
        var scaler = new LossScaler(initialScale: float.MaxValue, growthInterval: 1);
        scaler.Update(false);
        Assert.Equal((float.MaxValue, 0), (scaler.Scale, scaler.GrowthTracker));
    }

    [Fact]
    public void UnscaleDividesTheGradientsAndReportsNonFiniteOnes()
    {
        var scaler = new LossScaler(initialScale: 4f);
        var a = new Tensor(new Shape(2), [1, 2]) { Grad = Tensor.FromArray([8f, -4f]) };
        var b = new Tensor(new Shape(1), [0]);   // no gradient: skipped
        Assert.True(scaler.Unscale([a, b]));
        Assert.Equal([2f, -1f], a.Grad.ToArray());
        foreach (var bad in new[] { float.PositiveInfinity, float.NaN })
        {
            a.Grad = Tensor.FromArray([1f, bad]);
            Assert.False(scaler.Unscale([a]));
        }
    }

    [Fact]
    public void StateRoundTripsAndMustMatchTheHyperParameters()
    {
        var scaler = new LossScaler(initialScale: 32f, growthInterval: 5);
        scaler.Update(true);
        scaler.Update(false);
        var copy = new LossScaler(growthInterval: 5);
        copy.LoadStateDict(scaler.StateDict());
        Assert.Equal(scaler.StateDict(), copy.StateDict());
        var error = Assert.Throws<ArgumentException>(() => new LossScaler().LoadStateDict(scaler.StateDict()));
        Assert.Contains("every 5 steps", error.Message);
        Assert.Throws<ArgumentException>(() => copy.LoadStateDict(scaler.StateDict() with { Scale = float.NaN }));
    }

    [Fact]
    public void BadHyperParametersAreRejected()
    {
        Assert.Contains("initial scale", Assert.Throws<ArgumentOutOfRangeException>(() => new LossScaler(initialScale: 0f)).Message);
        Assert.Contains("growth factor", Assert.Throws<ArgumentOutOfRangeException>(() => new LossScaler(growthFactor: 1f)).Message);
        Assert.Contains("backoff factor", Assert.Throws<ArgumentOutOfRangeException>(() => new LossScaler(backoffFactor: 1f)).Message);
        Assert.Contains("growth interval", Assert.Throws<ArgumentOutOfRangeException>(() => new LossScaler(growthInterval: 0)).Message);
    }

    private static Trainer LinearTrainer(LossScaler? scaler, GradientClipping? clipping = null)
    {
        var model = new Sequential(new Linear(3, 2, rng: new Rng(1)));
        return new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 0.5f)) { LossScaler = scaler, Clipping = clipping };
    }

    private static (Tensor, Tensor) Batch() => (Tensor.Uniform(new Shape(4, 3), -1, 1, new Rng(2)), Tensor.FromArray([0f, 1f, 1f, 0f]));

    [Fact]
    public void TheTrainerSkipsAStepWhoseScaledGradientsOverflowInsteadOfDiverging()
    {
        // float16 gradients overflow beyond 65504: a scale of 2^20 makes them infinite.
        var trainer = LinearTrainer(new LossScaler(initialScale: 1 << 20));
        trainer.Precision = Precision.Float16;
        var before = trainer.Model.Parameters().Select(p => p.ToArray()).ToList();
        var (x, y) = Batch();
        trainer.TrainStep(x, y);
        Assert.Equal(before, trainer.Model.Parameters().Select(p => p.ToArray()));
        Assert.Equal(0, trainer.Optimizer.StepCount);
        Assert.Equal(((float)(1 << 19), 1L), (trainer.LossScaler!.Scale, trainer.LossScaler.SkippedSteps));
        while (trainer.Optimizer.StepCount == 0) trainer.TrainStep(x, y);   // backs off until the gradients fit
        Assert.NotEqual(before[0], trainer.Model.Parameters().First().ToArray());
    }

    [Fact]
    public void GradientsAreUnscaledBeforeClippingSoScalingChangesNoUpdate()
    {
        // A power-of-two scale is exact both ways: with unscaling before clipping the updates are bitwise those of no scaling.
        var plain = LinearTrainer(null, GradientClipping.ByNorm(0.01f));
        var scaled = LinearTrainer(new LossScaler(initialScale: 1024f), GradientClipping.ByNorm(0.01f));
        var (x, y) = Batch();
        for (int i = 0; i < 3; i++)
        {
            plain.TrainStep(x, y);
            scaled.TrainStep(x, y);
        }
        Assert.Equal(plain.Model.Parameters().Select(p => p.ToArray()), scaled.Model.Parameters().Select(p => p.ToArray()));
    }
}
