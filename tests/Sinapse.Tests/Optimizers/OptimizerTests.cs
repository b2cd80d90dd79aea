using Sinapse.Data;
using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Optimizers.Schedules;
using Sinapse.Tensors;
using Sinapse.Training;

namespace Sinapse.Tests.Optimizers;

public class OptimizerTests
{
    /// <summary>Every optimizer and form, each made over two parameter groups with their own rate and weight decay.</summary>
    public static TheoryData<string> Kinds => ["sgd", "momentum", "nesterov", "course-momentum", "course-nesterov", "sgd-decoupled",
        "adagrad", "rmsprop", "rmsprop-centered-momentum", "adam", "adamw"];

    private static Optimizer Create(string kind, Tensor a, Tensor b)
    {
        ParameterGroup[] groups = [new ParameterGroup([a], 0.05f, 0.01f), new ParameterGroup([b], 0.02f, 0.1f)];
        return kind switch
        {
            "sgd" => new Sgd(groups),
            "momentum" => new Sgd(groups, 0.9f),
            "nesterov" => new Sgd(groups, 0.9f, nesterov: true),
            "course-momentum" => new Sgd(groups, 0.9f, form: MomentumForm.Course),
            "course-nesterov" => new Sgd(groups, 0.9f, nesterov: true, form: MomentumForm.Course),
            "sgd-decoupled" => new Sgd(groups, 0.5f, decoupled: true),
            "adagrad" => new AdaGrad(groups, learningRateDecay: 0.1f, initialAccumulatorValue: 0.2f),
            "rmsprop" => new RmsProp(groups),
            "rmsprop-centered-momentum" => new RmsProp(groups, momentum: 0.8f, centered: true),
            "adam" => new Adam(groups),
            "adamw" => new Adam(groups, decoupled: true),
            _ => throw new ArgumentException(kind),
        };
    }

    private static void Steps(Optimizer optimizer, Tensor a, Tensor b, int from, int count)
    {
        for (int s = from; s < from + count; s++)
        {
            a.Grad = Tensor.FromArray([MathF.Sin(s), -1f + 0.1f * s, 0.5f]);
            b.Grad = Tensor.FromArray([MathF.Cos(3 * s), 2f - s]);
            optimizer.Step();
        }
    }

    private static (Tensor A, Tensor B) Parameters(float[] a, float[] b)
    {
        var (ta, tb) = (Tensor.FromArray(a), Tensor.FromArray(b));
        ta.RequiresGrad = tb.RequiresGrad = true;
        return (ta, tb);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void StateDictRoundTripsExactly(string kind)
    {
        // 3 steps, save (weights and optimizer), 3 more; then the saved state into a fresh optimizer, 3 steps: bitwise equal.
        var (a, b) = Parameters([1f, 2f, 3f], [-1f, 0.5f]);
        var optimizer = Create(kind, a, b);
        Steps(optimizer, a, b, 0, 3);
        var saved = optimizer.StateDict();
        var (savedA, savedB) = (a.ToArray(), b.ToArray());
        Steps(optimizer, a, b, 3, 3);

        var (a2, b2) = Parameters(savedA, savedB);
        var restored = Create(kind, a2, b2);
        restored.LoadStateDict(saved);
        Assert.Equal(3, restored.StepCount);
        Steps(restored, a2, b2, 3, 3);
        Assert.Equal(a.ToArray(), a2.ToArray());
        Assert.Equal(b.ToArray(), b2.ToArray());
        Assert.Equal(optimizer.StateDict().Parameters.SelectMany(p => p.Values.SelectMany(v => v)), restored.StateDict().Parameters.SelectMany(p => p.Values.SelectMany(v => v)));
        // The snapshot is a copy: stepping on did not change it.
        Assert.Equal(3, saved.StepCount);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void StepLeavesTheGradientsAlone(string kind)
    {
        // As in PyTorch: callbacks after the step (the gradient monitor) must see the real gradient.
        var (a, b) = Parameters([1f, 2f, 3f], [-1f, 0.5f]);
        var optimizer = Create(kind, a, b);
        Steps(optimizer, a, b, 0, 2);
        Assert.Equal([MathF.Sin(1), -0.9f, 0.5f], a.Grad!.ToArray());
        Assert.Equal([MathF.Cos(3), 1f], b.Grad!.ToArray());
    }

    [Fact]
    public void EachGroupFollowsItsOwnRateAndWeightDecay()
    {
        // Two groups in one Adam are exactly two Adams, one per group.
        var (a, b) = Parameters([1f, 2f, 3f], [-1f, 0.5f]);
        var together = new Adam([new ParameterGroup([a], 1e-4f, 0.5f), new ParameterGroup([b], 1e-2f)]);
        var (a2, b2) = Parameters([1f, 2f, 3f], [-1f, 0.5f]);
        var first = new Adam([a2], 1e-4f, weightDecay: 0.5f);
        var second = new Adam([b2], 1e-2f);
        for (int s = 0; s < 4; s++)
        {
            a.Grad = Tensor.FromArray([s, 1f, -1f]);
            b.Grad = Tensor.FromArray([1f, -s]);
            a2.Grad = Tensor.FromArray([s, 1f, -1f]);
            b2.Grad = Tensor.FromArray([1f, -s]);
            together.Step();
            first.Step();
            second.Step();
        }
        Assert.Equal(a2.ToArray(), a.ToArray());
        Assert.Equal(b2.ToArray(), b.ToArray());
    }

    private static (Sequential Model, Dataset Data) SmallProblem()
    {
        var rng = new Rng(3);
        var features = Tensor.Uniform(new Shape(64, 5), -1f, 1f, rng);
        var labels = Tensor.Zeros(64);
        for (int i = 0; i < 64; i++) labels.Span[i] = features.Span[i * 5] + features.Span[i * 5 + 1] > 0 ? 1 : 0;
        return (Mlp.Create(5, [8], 2, "relu", rng: new Rng(4)), new Dataset(features, labels));
    }

    [Fact]
    public void AFrozenBodyStaysPutWhileTheHeadTrainsAndALowRateBodyMovesLess()
    {
        // Transfer learning's two set-ups: body frozen (head only), then body unfrozen at a low rate (fine-tuning).
        var (model, data) = SmallProblem();
        var body = (Linear)model.Children[1].Module;
        var head = (Linear)model.Children[3].Module;
        var optimizer = new Sgd([new ParameterGroup(body.Parameters(), 1e-3f), new ParameterGroup(head.Parameters(), 0.1f)], momentum: 0.9f);
        var trainer = new Trainer(model, new CrossEntropyLoss(), optimizer);

        body.Freeze();
        var (bodyBefore, headBefore) = (body.Weight.ToArray(), head.Weight.ToArray());
        trainer.Fit(data, epochs: 2, batchSize: 16, rng: new Rng(5));
        Assert.Equal(bodyBefore, body.Weight.ToArray());
        Assert.NotEqual(headBefore, head.Weight.ToArray());

        body.Unfreeze();
        (bodyBefore, headBefore) = (body.Weight.ToArray(), head.Weight.ToArray());
        trainer.Fit(data, epochs: 2, batchSize: 16, rng: new Rng(6));
        double Moved(float[] before, Tensor after) => Math.Sqrt(before.Zip(after.ToArray(), (x, y) => (double)(x - y) * (x - y)).Sum() / before.Length);
        double bodyMove = Moved(bodyBefore, body.Weight), headMove = Moved(headBefore, head.Weight);
        Assert.True(bodyMove > 0, "the unfrozen body must move");
        Assert.True(bodyMove < headMove / 10, $"body moved {bodyMove:G3} per weight, head {headMove:G3}");
    }

    [Fact]
    public void ASchedulerScalesEachGroupFromItsOwnBaseRate()
    {
        var (a, b) = Parameters([1f], [1f]);
        var optimizer = new Sgd([new ParameterGroup([a], 0.01f), new ParameterGroup([b], 0.5f)]);
        var scheduler = new LearningRateScheduler(optimizer, new StepSchedule(1, 0.5f));
        scheduler.Step(ScheduleUnit.Iteration);
        scheduler.Step(ScheduleUnit.Iteration);
        Assert.Equal(0.0025f, optimizer.Groups[0].LearningRate, 7);
        Assert.Equal(0.125f, optimizer.Groups[1].LearningRate, 7);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(-0.1f)]
    [InlineData(float.PositiveInfinity)]
    public void AWeightDecayThatIsNotAFiniteNumberAtLeastZeroIsRefused(float weightDecay)
    {
        var w = Tensor.Zeros(4);
        w.RequiresGrad = true;
        Assert.Throws<ArgumentException>(() => new Sgd([w], 0.1f, weightDecay: weightDecay));
        Assert.Throws<ArgumentException>(() => new Adam([w], 0.1f, weightDecay: weightDecay, decoupled: true));
    }
}

/// <summary>Large parameters are updated in slices on the worker threads: the result must not depend on it.</summary>
[Collection(Sinapse.Tests.Support.WorkerPoolCollection.Name)]
public class SlicedUpdateTests
{
    [Theory]
    [MemberData(nameof(OptimizerTests.Kinds), MemberType = typeof(OptimizerTests))]
    public void ALargeParameterGetsBitwiseTheSameUpdateOnOneOrTwoThreads(string kind)
    {
        float[] Run(int threads)
        {
            int saved = Sinapse.Kernels.Workers.Count;
            try
            {
                Sinapse.Kernels.Workers.Count = threads;
                var rng = new Rng(3);
                var a = Tensor.Normal(new Shape(40_003), 0, 1, rng);   // above the slicing threshold, not a multiple of 16
                var b = Tensor.Normal(new Shape(5), 0, 1, rng);
                a.RequiresGrad = b.RequiresGrad = true;
                var optimizer = (Optimizer)typeof(OptimizerTests).GetMethod("Create", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                    .Invoke(null, [kind, a, b])!;
                for (int step = 0; step < 4; step++)
                {
                    a.Grad = Tensor.Normal(a.Shape, 0, 1, rng);
                    b.Grad = Tensor.Normal(b.Shape, 0, 1, rng);
                    optimizer.Step();
                }
                return a.ToArray();
            }
            finally
            {
                Sinapse.Kernels.Workers.Count = saved;
            }
        }

        Assert.Equal(Run(1), Run(2));
    }
}
