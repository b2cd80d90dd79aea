using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;
using Sinapse.Training;

namespace Sinapse.Tests.Optimizers;

public class GradientClippingTests
{
    private static List<Tensor> FixtureParameters(System.Text.Json.JsonElement root)
    {
        var shapes = root.GetProperty("shapes").EnumerateArray().Select(s => s.EnumerateArray().Select(d => d.GetInt32()).ToArray()).ToArray();
        var gradients = root.GetProperty("gradients").EnumerateArray().Select(g => g.EnumerateArray().Select(v => (float)v.GetDouble()).ToArray()).ToArray();
        return shapes.Select((shape, i) =>
        {
            var p = Tensor.Zeros(shape);
            p.RequiresGrad = true;
            p.Grad = new Tensor(new Shape(shape), (float[])gradients[i].Clone());
            return p;
        }).ToList();
    }

    private static void ExpectClipped(System.Text.Json.JsonElement c, List<Tensor> parameters, string what)
    {
        var clipped = c.GetProperty("clipped").EnumerateArray().ToArray();
        for (int i = 0; i < parameters.Count; i++)
            Expect.Close(clipped[i].EnumerateArray().Select(v => (float)v.GetDouble()).ToArray(), parameters[i].Grad!.Span, 1e-5, $"{what} parameter {i}");
    }

    [Fact]
    public void ClipByNormMatchesPyTorchsClipGradNorm()
    {
        var root = Fixture.Load("gradient_clipping.json");
        int cases = 0;
        foreach (var c in root.GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("name").GetString() == "norm"))
        {
            var parameters = FixtureParameters(root);
            float total = GradientClipping.ClipByNorm(parameters, c.Float("max_norm"));
            Expect.Close(c.Float("total_norm"), total, 1e-5, "total norm");
            ExpectClipped(c, parameters, $"clip_grad_norm_(max_norm={c.Float("max_norm")})");
            cases++;
        }
        Assert.Equal(3, cases);
    }

    [Fact]
    public void ClipByValueMatchesPyTorchsClipGradValue()
    {
        var root = Fixture.Load("gradient_clipping.json");
        foreach (var c in root.GetProperty("cases").EnumerateArray().Where(c => c.GetProperty("name").GetString() == "value"))
        {
            var parameters = FixtureParameters(root);
            GradientClipping.ByValue(c.Float("clip_value")).Apply(parameters);
            ExpectClipped(c, parameters, $"clip_grad_value_({c.Float("clip_value")})");
        }
    }

    [Fact]
    public void TheCoursesExampleClipsEachComponentToPlusMinusOne()
    {
        var p = Tensor.Zeros(5);
        p.Grad = Tensor.FromArray([3f, -0.5f, -7f, 1f, 0.25f]);
        var clipping = GradientClipping.ByValue();
        Assert.True(float.IsNaN(clipping.Apply([p, Tensor.Zeros(2)])));
        Assert.Equal([1f, -0.5f, -1f, 1f, 0.25f], p.Grad.ToArray());
    }

    [Fact]
    public void ClipByNormKeepsTheDirectionAndReportsTheNormBeforeClipping()
    {
        var a = Tensor.Zeros(2);
        var b = Tensor.Zeros(1);
        a.Grad = Tensor.FromArray([3f, 0f]);
        b.Grad = Tensor.FromArray([4f]);
        var clipping = GradientClipping.ByNorm(1f);
        Assert.Equal(5f, clipping.Apply([a, b]));
        Assert.Equal(5f, clipping.LastNorm);
        Assert.Equal(0.6f, a.Grad.Span[0], 5);
        Assert.Equal(0.8f, b.Grad.Span[0], 5);
        Assert.Equal(1f, GradientClipping.ClipByNorm([a, b], 10f), 4);  // now below the limit: untouched
        Assert.Equal(0.6f, a.Grad.Span[0], 5);
    }

    [Fact]
    public void InvalidLimitsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ByValue(0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ByNorm(float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByNorm([], -1f));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheTrainerClipsBetweenBackwardAndTheStep(bool byNorm)
    {
        // Plain SGD moves each weight by α·g, so with clipping the whole update is at most α·limit.
        var model = Mlp.Create(4, [6], 3, "relu", rng: new Rng(1));
        var features = Tensor.Uniform(new Shape(8, 4), -50f, 50f, new Rng(2));
        var labels = Tensor.FromArray([0f, 1f, 2f, 0f, 1f, 2f, 0f, 1f]);
        var before = model.Parameters().Select(p => p.ToArray()).ToList();
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), 1f))
        {
            Clipping = byNorm ? GradientClipping.ByNorm(0.5f) : GradientClipping.ByValue(0.01f),
        };
        trainer.TrainStep(features, labels);
        var moves = model.Parameters().Zip(before, (p, b) => p.ToArray().Zip(b, (x, y) => x - y).ToArray()).ToList();
        if (byNorm)
        {
            Assert.True(trainer.Clipping!.LastNorm > 0.5f, $"the test needs a gradient norm above the limit, got {trainer.Clipping!.LastNorm}");
            Assert.Equal(0.5, Math.Sqrt(moves.Sum(m => m.Sum(d => (double)d * d))), 3);
        }
        else Assert.All(moves.SelectMany(m => m), d => Assert.True(MathF.Abs(d) <= 0.01f + 1e-6f, $"a weight moved by {d}"));
    }
}
