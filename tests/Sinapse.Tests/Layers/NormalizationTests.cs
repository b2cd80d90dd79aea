using System.Text.Json;
using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class NormalizationTests
{
    [Fact]
    public void MatchesPyTorchInTrainingAndEvaluation()
    {
        int count = 0;
        foreach (var c in Fixture.Cases("batchnorm.json"))
        {
            string name = c.GetProperty("name").GetString()!;
            var shape = c.Ints("shape");
            float? momentum = c.GetProperty("momentum").ValueKind == JsonValueKind.Null ? null : c.Float("momentum");
            bool affine = c.GetProperty("affine").GetBoolean();
            BatchNormBase bn = c.GetProperty("kind").GetString() == "BatchNorm2d"
                ? new BatchNorm2d(shape[1], c.Float("eps"), momentum, affine)
                : new BatchNorm1d(shape[1], c.Float("eps"), momentum, affine);
            if (affine)
            {
                c.Floats("weight").CopyTo(bn.Weight!.Span);
                c.Floats("bias").CopyTo(bn.Bias!.Span);
            }
            int step = 0;
            foreach (var s in c.GetProperty("steps").EnumerateArray())
            {
                var x = Tensor.FromArray(s.Floats("input"), shape);
                x.RequiresGrad = step == 0;
                bn.ZeroGrad();
                var y = bn.Call(x);
                string where = $"{name} step {step}";
                Expect.Close(s.Floats("output"), y.Span, 1e-4, where + " output");
                Expect.Close(s.Floats("running_mean"), bn.RunningMean!.Span, 1e-4, where + " running mean");
                Expect.Close(s.Floats("running_var"), bn.RunningVar!.Span, 1e-4, where + " running var");
                if (step == 0)
                {
                    y.Backward(Tensor.FromArray(c.Floats("upstream"), shape));
                    Expect.Close(c.Floats("grad_input"), x.Grad!.Span, 1e-4, name + " dx");
                    if (affine)
                    {
                        Expect.Close(c.Floats("grad_weight"), bn.Weight!.Grad!.Span, 1e-4, name + " dγ");
                        Expect.Close(c.Floats("grad_bias"), bn.Bias!.Grad!.Span, 1e-4, name + " dβ");
                    }
                }
                step++;
            }
            Assert.Equal(3f, bn.NumBatchesTracked!.Span[0]);
            bn.Eval();
            var evaluated = bn.Call(Tensor.FromArray(c.Floats("eval_input"), shape));
            Expect.Close(c.Floats("eval_output"), evaluated.Span, 1e-4, name + " eval output");
            count++;
        }
        Assert.Equal(7, count);
    }

    [Fact]
    public void ParametersAndBuffersAreNamedAsInPyTorch()
    {
        var model = new Sequential(new Linear(4, 3, useBias: false), new BatchNorm1d(3), new Relu());
        Assert.Equal(["0.weight", "1.weight", "1.bias"], model.NamedParameters().Select(p => p.Name));
        Assert.Equal(["1.running_mean", "1.running_var", "1.num_batches_tracked"], model.NamedBuffers().Select(b => b.Name));
        var bn = (BatchNorm1d)model[1];
        Assert.Equal([1f, 1f, 1f], bn.Weight!.ToArray());
        Assert.Equal([0f, 0f, 0f], bn.Bias!.ToArray());
        Assert.Equal([0f, 0f, 0f], bn.RunningMean!.ToArray());
        Assert.Equal([1f, 1f, 1f], bn.RunningVar!.ToArray());
        Assert.Equal(0, bn.NumBatchesTracked!.Rank);   // PyTorch's strict load_state_dict rejects a [1] for its scalar
        Assert.All(model.NamedBuffers(), b => Assert.False(b.Tensor.RequiresGrad));
        Assert.Equal(6, bn.ParameterCount());

        var plain = new BatchNorm2d(8, affine: false, trackRunningStats: false);
        Assert.Empty(plain.NamedParameters());
        Assert.Empty(plain.NamedBuffers());
    }

    [Fact]
    public void TrainingMovesTheRunningStatisticsAndEvaluationUsesThem()
    {
        var bn = new BatchNorm2d(2, momentum: 1f); // the running statistics become the last batch's
        var x = Expect.Random([4, 2, 3, 3], 1, -1f, 3f);
        var trained = bn.Call(x).ToArray();
        Assert.NotEqual([0f, 0f], bn.RunningMean!.ToArray());
        bn.Eval();
        var before = bn.RunningMean.ToArray();
        var evaluated = bn.Call(x).ToArray();
        Assert.Equal(before, bn.RunningMean.ToArray());
        Assert.Equal(1f, bn.NumBatchesTracked!.Span[0]);
        // Evaluation divides by the unbiased deviation, training by the biased one: M = 36 values per channel.
        double ratio = Math.Sqrt(35.0 / 36.0);
        for (int i = 0; i < trained.Length; i++) Assert.Equal(trained[i] * ratio, evaluated[i], 3);
        // A single example normalises in evaluation mode.
        Assert.Equal(new Shape(1, 2, 3, 3), bn.Call(Tensor.Zeros(1, 2, 3, 3)).Shape);
    }

    [Fact]
    public void WithoutRunningStatisticsEvaluationUsesTheBatch()
    {
        var bn = new BatchNorm1d(3, trackRunningStats: false);
        var x = Expect.Random([5, 3], 2);
        var expected = F.BatchNorm(x, null, null, null, null, training: true).ToArray();
        bn.Eval();
        Assert.Equal(expected, bn.Call(x).ToArray());
    }

    [Fact]
    public void CumulativeAverageWhenMomentumIsNull()
    {
        var bn = new BatchNorm1d(1, momentum: null);
        float[] means = [];
        foreach (var values in new[] { new[] { 1f, 3f }, new[] { 5f, 7f }, new[] { 0f, 3f } })
        {
            bn.Call(Tensor.FromArray(values, 2, 1));
            means = [.. means, values.Average()];
        }
        Expect.Close(means.Average(), bn.RunningMean!.Span[0], 1e-6);
    }

    [Fact]
    public void FreezingLeavesTheRunningStatisticsToTrainingMode()
    {
        // Frozen γ and β (fine-tuning), but the statistics still follow the data in training mode, as in PyTorch.
        var bn = new BatchNorm1d(2);
        bn.Freeze();
        var x = Expect.Random([6, 2], 3, 2f, 4f);
        x.RequiresGrad = true;
        F.Sum(F.Multiply(bn.Call(x), x)).Backward();
        Assert.Null(bn.Weight!.Grad);
        Assert.NotNull(x.Grad);
        Assert.NotEqual([0f, 0f], bn.RunningMean!.ToArray());
    }

    [Fact]
    public void OutputShapeFailsEarlyNamingTheLayerAndTheShape()
    {
        Assert.Equal(new Shape(8, 32, 5, 5), new BatchNorm2d(32).OutputShape(new Shape(8, 32, 5, 5)));
        Assert.Equal(new Shape(8, 10), new BatchNorm1d(10).OutputShape(new Shape(8, 10)));
        Assert.Equal(new Shape(8, 10, 7), new BatchNorm1d(10).OutputShape(new Shape(8, 10, 7)));
        var error = Assert.Throws<ArgumentException>(() => new BatchNorm2d(32).OutputShape(new Shape(8, 16, 5, 5)));
        Assert.Contains("BatchNorm2d(32)", error.Message);
        Assert.Contains("[8, 16, 5, 5]", error.Message);
        Assert.Contains("[N, 32, H, W]", error.Message);
        Assert.Throws<ArgumentException>(() => new BatchNorm2d(32).OutputShape(new Shape(8, 32)));
        Assert.Throws<ArgumentException>(() => new BatchNorm1d(10).OutputShape(new Shape(8, 10, 2, 2)));
        var forward = Assert.Throws<ArgumentException>(() => new BatchNorm1d(10).Call(Tensor.Zeros(4, 12)));
        Assert.Contains("BatchNorm1d(10)", forward.Message);
        Assert.Throws<ArgumentException>(() => new BatchNorm1d(0));
        Assert.Throws<ArgumentException>(() => new BatchNorm1d(3, momentum: 1.5f));
    }

    [Fact]
    public void DescribesItselfLikePyTorch()
    {
        Assert.Equal("BatchNorm2d(32)", new BatchNorm2d(32).Describe());
        Assert.Equal("BatchNorm1d(256)", new BatchNorm1d(256).Describe());
        Assert.Equal("BatchNorm1d(4, eps=0.001, momentum=0.01, affine=False)", new BatchNorm1d(4, 1e-3f, 0.01f, affine: false).Describe());
        Assert.Equal("BatchNorm2d(4, momentum=None, track_running_stats=False)", new BatchNorm2d(4, momentum: null, trackRunningStats: false).Describe());
    }
}
