using Sinapse.Autograd;
using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Optimizers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Autograd;

public class FunctionTests
{
    /// <summary>x·σ(x), with its gradient σ(x)·(1 + x·(1 − σ(x))) written by hand over spans.</summary>
    private sealed class Swish : Function
    {
        public int BackwardCalls { get; private set; }

        protected override Tensor Forward(FunctionContext context, Tensor[] inputs)
        {
            var x = inputs[0];
            var sigmoid = F.Sigmoid(x);
            context.SaveForBackward(x, sigmoid);
            return F.Multiply(x, sigmoid);
        }

        protected override Tensor?[] Backward(FunctionContext context, Tensor gradOutput)
        {
            BackwardCalls++;
            var x = context.SavedTensors[0].Span;
            var sigmoid = context.SavedTensors[1].Span;
            var gradient = Tensor.EmptyLike(gradOutput);
            var dy = gradOutput.Span;
            var dx = gradient.Span;
            for (int i = 0; i < dx.Length; i++) dx[i] = dy[i] * sigmoid[i] * (1 + x[i] * (1 - sigmoid[i]));
            return [gradient];
        }
    }

    /// <summary>Clamps to [low, high] but passes the gradient through unchanged (a straight-through estimator).</summary>
    private sealed class StraightThroughClamp(float low, float high) : Function
    {
        protected override Tensor Forward(FunctionContext context, Tensor[] inputs)
        {
            var y = inputs[0].Clone();
            var values = y.Span;
            for (int i = 0; i < values.Length; i++) values[i] = Math.Clamp(values[i], low, high);
            return y;
        }

        protected override Tensor?[] Backward(FunctionContext context, Tensor gradOutput) => [gradOutput];
    }

    /// <summary>x·w + b·c for a constant c kept as a named value; asks which inputs need a gradient.</summary>
    private sealed class MultiplyAdd : Function
    {
        public bool[]? NeedsGrad { get; private set; }

        protected override Tensor Forward(FunctionContext context, Tensor[] inputs)
        {
            context.SaveForBackward(inputs[0], inputs[1]);
            context.Set("c", 3f);
            NeedsGrad = [context.NeedsInputGrad(0), context.NeedsInputGrad(1), context.NeedsInputGrad(2)];
            return F.Add(F.Multiply(inputs[0], inputs[1]), F.Multiply(inputs[2], 3f));
        }

        protected override Tensor?[] Backward(FunctionContext context, Tensor gradOutput)
        {
            var (x, w) = (context.SavedTensors[0], context.SavedTensors[1]);
            return
            [
                context.NeedsInputGrad(0) ? F.Multiply(gradOutput, w) : null,
                context.NeedsInputGrad(1) ? F.Multiply(gradOutput, x) : null,
                context.NeedsInputGrad(2) ? F.Multiply(gradOutput, context.Get<float>("c")) : null,
            ];
        }
    }

    /// <summary>Runs the given forward pass on its one input and passes the gradient through.</summary>
    private sealed class ForwardOnly(Func<FunctionContext, Tensor, Tensor> forward) : Function
    {
        protected override Tensor Forward(FunctionContext context, Tensor[] inputs) => forward(context, inputs[0]);
        protected override Tensor?[] Backward(FunctionContext context, Tensor gradOutput) => [gradOutput];
    }

    /// <summary>Returns whatever gradients it is given to return, to test how Apply checks them.</summary>
    private sealed class Misbehaving(Func<Tensor, Tensor?[]> gradients) : Function
    {
        protected override Tensor Forward(FunctionContext context, Tensor[] inputs) => F.Multiply(inputs[0], 2f);
        protected override Tensor?[] Backward(FunctionContext context, Tensor gradOutput) => gradients(gradOutput);
    }

    [Fact]
    public void SwishPassesTheGradientCheck()
    {
        var swish = new Swish();
        var x = Expect.Random([3, 5], 4, -4f, 4f);
        Expect.GradientsMatch(inputs => swish.Apply(inputs[0]), x);
        Assert.True(swish.BackwardCalls > 0);

        var y = swish.Apply(x);
        Expect.Close(F.Multiply(x, F.Sigmoid(x)).Span, y.Span, 1e-6, "forward");
        Assert.True(y.RequiresGrad);
        Assert.False(y.IsLeaf);
    }

    [Fact]
    public void MultiplyAddPassesTheGradientCheckForEveryInput()
    {
        var function = new MultiplyAdd();
        Tensor[] inputs = [Expect.Random([2, 3], 1), Expect.Random([2, 3], 2), Expect.Random([2, 3], 3)];
        Expect.GradientsMatch(x => function.Apply(x[0], x[1], x[2]), inputs);
        function.Apply(inputs);
        Assert.Equal([true, true, true], function.NeedsGrad!);
    }

    [Fact]
    public void AnInputThatDoesNotRequireAGradientGetsNone()
    {
        var function = new MultiplyAdd();
        var x = Expect.Parameter([4], 1);
        var w = Expect.Random([4], 2);
        var b = Expect.Parameter([4], 3);
        var y = function.Apply(x, w, b);
        Assert.Equal([true, false, true], function.NeedsGrad!);
        var upstream = Expect.Random([4], 5);
        y.Backward(upstream);
        Expect.Close(F.Multiply(upstream, w).Span, x.Grad!.Span, 1e-6, "dx");
        Expect.Close(F.Multiply(upstream, 3f).Span, b.Grad!.Span, 1e-6, "db");
        Assert.Null(w.Grad);

        // A gradient returned for an input that does not need one is ignored.
        var parameter = Expect.Parameter([4], 6);
        var constant = Expect.Random([4], 7);
        new Misbehaving(dy => [dy, dy]).Apply(parameter, constant).Backward(upstream);
        Assert.Equal(upstream.ToArray(), parameter.Grad!.ToArray());
        Assert.Null(constant.Grad);
    }

    [Fact]
    public void ForwardAndBackwardRunWithRecordingOff()
    {
        bool? recordingInForward = null, recordingInBackward = null;
        var probe = new Misbehaving(dy =>
        {
            recordingInBackward = GradMode.Enabled;
            return [F.Multiply(dy, 2f)];
        });
        var x = Expect.Parameter([3], 1);
        var y = new ForwardOnly((_, input) =>
        {
            recordingInForward = GradMode.Enabled;
            return input.Clone();
        }).Apply(x);
        Assert.False(recordingInForward);
        Assert.True(y.RequiresGrad);

        F.Sum(probe.Apply(x)).Backward();
        Assert.False(recordingInBackward);
        Assert.Equal([2f, 2f, 2f], x.Grad!.ToArray());

        // Under NoGrad nothing is recorded, as for the built-in ops.
        using (GradMode.NoGrad())
        {
            var unrecorded = new Swish().Apply(x);
            Assert.False(unrecorded.RequiresGrad);
            Assert.True(unrecorded.IsLeaf);
        }
    }

    [Fact]
    public void StraightThroughClampPassesTheGradientUnchanged()
    {
        var x = Tensor.FromArray([-3f, -0.5f, 0f, 0.25f, 2f]);
        x.RequiresGrad = true;
        var y = new StraightThroughClamp(-1f, 1f).Apply(x);
        Assert.Equal([-1f, -0.5f, 0f, 0.25f, 1f], y.ToArray());
        var upstream = Tensor.FromArray([1f, 2f, 3f, 4f, 5f]);
        y.Backward(upstream);
        Assert.Equal(upstream.ToArray(), x.Grad!.ToArray());
    }

    [Fact]
    public void AWrongShapedGradientIsNamedWithTheFunctionTheInputAndBothShapes()
    {
        var x = Expect.Parameter([2, 3], 1);
        var y = new Misbehaving(dy => [Tensor.Zeros(3, 2)]).Apply(x);
        var error = Assert.Throws<InvalidOperationException>(() => F.Sum(y).Backward());
        Assert.Equal("Misbehaving.Backward returned a gradient of shape [3, 2] for input 0, which has shape [2, 3].", error.Message);
        Assert.Null(x.Grad);

        var count = Assert.Throws<InvalidOperationException>(() => F.Sum(new Misbehaving(dy => [dy, dy]).Apply(x)).Backward());
        Assert.Contains("returned 2 gradients for 1 inputs", count.Message);
        Assert.Contains("returned null for 1 inputs", Assert.Throws<InvalidOperationException>(() => F.Sum(new Misbehaving(dy => null!).Apply(x)).Backward()).Message);
    }

    [Fact]
    public void AFunctionOfTheSameTensorTwiceGetsBothContributions()
    {
        // d/dx (x·x + 3x) = 2x + 3
        var x = Expect.Parameter([5], 3);
        F.Sum(new MultiplyAdd().Apply(x, x, x)).Backward();
        Expect.Close(x.ToArray().Select(v => 2 * v + 3).ToArray(), x.Grad!.Span, 1e-6, "dx");
    }

    [Fact]
    public void ReturningAnInputMakesAViewAndLeavesTheInputAsItWas()
    {
        var x = Expect.Parameter([3], 1);
        var y = new ForwardOnly((_, input) => input).Apply(x);
        Assert.NotSame(x, y);
        Assert.True(y.SharesStorageWith(x));
        Assert.True(x.IsLeaf);
        F.Sum(F.Multiply(y, 4f)).Backward();
        Assert.Equal([4f, 4f, 4f], x.Grad!.ToArray());
    }

    private sealed class Sign : Function
    {
        protected override Tensor Forward(FunctionContext context, Tensor[] inputs)
        {
            var y = Tensor.EmptyLike(inputs[0]);
            for (int i = 0; i < y.Length; i++) y.Span[i] = MathF.Sign(inputs[0].Span[i]);
            context.MarkNonDifferentiable(y);
            return y;
        }

        protected override Tensor?[] Backward(FunctionContext context, Tensor gradOutput) =>
            throw new InvalidOperationException("a non-differentiable output is never backpropagated");
    }

    [Fact]
    public void ANonDifferentiableOutputIsNotRecorded()
    {
        var x = Expect.Parameter([4], 2);
        var sign = new Sign().Apply(x);
        Assert.False(sign.RequiresGrad);
        Assert.True(sign.IsLeaf);
        // Used as a constant, it lets the gradient through the rest: d/dx Σ sign(x)·x = sign(x).
        F.Sum(F.Multiply(sign, x)).Backward();
        Assert.Equal(sign.ToArray(), x.Grad!.ToArray());
    }

    [Fact]
    public void ForwardMistakesAreNamed()
    {
        var x = Expect.Parameter([2], 1);
        var noOutput = Assert.Throws<InvalidOperationException>(() => new ForwardOnly((_, _) => null!).Apply(x));
        Assert.Equal("ForwardOnly.Forward returned null instead of its output tensor.", noOutput.Message);
        var marked = Assert.Throws<InvalidOperationException>(() => new ForwardOnly((context, input) =>
        {
            context.MarkNonDifferentiable(Tensor.Zeros(2));
            return input.Clone();
        }).Apply(x));
        Assert.Contains("ForwardOnly.Forward marked a tensor [2] non-differentiable that is not the output it returned", marked.Message);
    }

    private sealed class SavesLate : Function
    {
        protected override Tensor Forward(FunctionContext context, Tensor[] inputs) => inputs[0].Clone();

        protected override Tensor?[] Backward(FunctionContext context, Tensor gradOutput)
        {
            context.SaveForBackward(gradOutput);
            return [gradOutput];
        }
    }

    [Fact]
    public void TheContextKeepsValuesAndSaysWhatIsMissing()
    {
        var x = Expect.Parameter([2], 1);
        var late = Assert.Throws<InvalidOperationException>(() => F.Sum(new SavesLate().Apply(x)).Backward());
        Assert.Contains("SaveForBackward belongs in SavesLate.Forward", late.Message);

        var context = new FunctionContext("Custom", [x]);
        context.Set("slope", 0.5f);
        context.Set("label", null);
        Assert.Equal(0.5f, context.Get<float>("slope"));
        Assert.Null(context.Get<string>("label"));
        Assert.Contains("saved no value named 'bound' (it saved: slope, label)", Assert.Throws<KeyNotFoundException>(() => context.Get<float>("bound")).Message);
        Assert.Contains("saved 'slope' as Single, not Int32", Assert.Throws<InvalidCastException>(() => context.Get<int>("slope")).Message);
        Assert.Contains("no input 1", Assert.Throws<ArgumentOutOfRangeException>(() => context.NeedsInputGrad(1)).Message);
        Assert.Contains("input 1", Assert.Throws<ArgumentNullException>(() => new Swish().Apply(x, null!)).Message);
    }

    /// <summary>A layer that applies a <see cref="Function"/>, or the same computation through built-in ops.</summary>
    private sealed class SwishLayer(bool custom) : Module
    {
        private readonly Swish swish = new();
        public int BackwardCalls => swish.BackwardCalls;
        protected override Tensor Forward(Tensor input) => custom ? swish.Apply(input) : F.Multiply(input, F.Sigmoid(input));
        public override Shape OutputShape(Shape input) => input;
    }

    [Fact]
    public void AModelWithAFunctionTrainsAsTheSameModelOfBuiltInOps()
    {
        // y = sin(x) on [-3, 3], by a 1-16-1 network whose hidden activation is the custom Swish.
        var x = Tensor.Linspace(-3, 3, 64).ReshapedTo(64, 1);
        var target = Tensor.FromArray(x.ToArray().Select(MathF.Sin).ToArray(), 64, 1);
        var customLayer = new SwishLayer(custom: true);
        var custom = new Sequential(new Linear(1, 16, rng: new Rng(1)), customLayer, new Linear(16, 1, rng: new Rng(2)));
        var reference = new Sequential(new Linear(1, 16, rng: new Rng(1)), new SwishLayer(custom: false), new Linear(16, 1, rng: new Rng(2)));
        var optimizer = new Adam(custom.Parameters(), 0.02f);
        var referenceOptimizer = new Adam(reference.Parameters(), 0.02f);
        float first = 0, last = 0;
        for (int step = 0; step < 300; step++)
        {
            optimizer.ZeroGrad();
            referenceOptimizer.ZeroGrad();
            var loss = F.MseLoss(custom.Call(x), target);
            loss.Backward();
            F.MseLoss(reference.Call(x), target).Backward();
            if (step == 0)
            {
                first = loss.Item();
                foreach (var (mine, theirs) in custom.Parameters().Zip(reference.Parameters()))
                    Expect.Close(theirs.Grad!.Span, mine.Grad!.Span, 1e-5, "first step's gradients");
            }
            last = loss.Item();
            optimizer.Step();
            referenceOptimizer.Step();
        }
        Assert.Equal(300, customLayer.BackwardCalls);
        Assert.True(last < 0.02f * first, $"loss {first} -> {last}");
    }

    [Fact]
    public void TheOutputPrintsItsFunctionAsTorchDoes()
    {
        var c = Fixture.Case("tensor_printing.json", "custom function output");
        var x = Tensor.FromArray(c.ExactFloats("input"), c.Ints("shape"));
        x.RequiresGrad = true;
        var y = new Swish().Apply(x);
        Expect.Close(c.ExactFloats("values"), y.Span, 1e-5, "swish");
        Assert.Equal(c.GetProperty("text").GetString(), y.ToString());
    }
}
