using Sinapse.Autograd;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Autograd;

public class TapeTests
{
    static Tensor Loss(Tensor x, Tensor w) => F.Mean(F.Square(F.Tanh(F.Linear(x, w))));

    [Fact]
    public void TwoBackwardPassesAddUp()
    {
        var x = Expect.Random([4, 3], 1);
        var w = Expect.Parameter([2, 3], 2);
        Loss(x, w).Backward();
        var once = w.Grad!.ToArray();
        Loss(x, w).Backward();
        Expect.Close(once.Select(g => 2 * g).ToArray(), w.Grad!.Span, 1e-6, "accumulated");
    }

    [Fact]
    public void ATensorUsedTwiceGetsBothContributions()
    {
        // d/dx (x·x + 3x) = 2x + 3
        var x = Expect.Parameter([5], 3);
        F.Sum(F.Add(F.Multiply(x, x), F.Multiply(x, 3f))).Backward();
        Expect.Close(x.ToArray().Select(v => 2 * v + 3).ToArray(), x.Grad!.Span, 1e-6, "dx");
    }

    [Fact]
    public void ZeroGradClearsAndTheNextBackwardReusesTheBuffer()
    {
        var x = Expect.Random([4, 3], 1);
        var w = Expect.Parameter([2, 3], 2);
        Loss(x, w).Backward();
        var first = w.Grad!;
        var expected = first.ToArray();
        Tape.ZeroGrad(w);
        Assert.Null(w.Grad);
        Loss(x, w).Backward();
        Assert.Same(first, w.Grad);
        Assert.Equal(expected, w.Grad!.ToArray());
    }

    public static TheoryData<string> OpsThatOverwrite => new() { "linear", "relu", "softmax", "log_softmax", "cross_entropy", "nll", "mse", "bce_with_logits", "focal", "sum", "mean", "multiply", "scale", "reshape" };

    static Tensor Through(string op, Tensor p)
    {
        var labels = Tensor.FromArray([1f, 0f, 3f]);
        var target = Expect.Random([3, 4], 9, 0f, 1f);
        return op switch
        {
            "linear" => F.Sum(F.Linear(p, Expect.Random([2, 4], 8))),
            "relu" => F.Sum(F.Relu(p)),
            "softmax" => F.Sum(F.Multiply(F.Softmax(p), target)),
            "log_softmax" => F.Sum(F.Multiply(F.LogSoftmax(p), target)),
            "cross_entropy" => F.CrossEntropy(p, labels),
            "nll" => F.NllLoss(p, labels),
            "mse" => F.MseLoss(p, target),
            "bce_with_logits" => F.BinaryCrossEntropyWithLogits(p, target),
            "focal" => F.FocalLoss(p, target),
            "sum" => F.Sum(p),
            "mean" => F.Mean(p),
            "multiply" => F.Sum(F.Multiply(p, target)),
            "scale" => F.Sum(F.Multiply(p, 2f)),
            "reshape" => F.Sum(F.Multiply(F.Reshape(p, 4, 3), F.Reshape(target, 4, 3))),
            _ => throw new ArgumentException(op),
        };
    }

    [Theory]
    [MemberData(nameof(OpsThatOverwrite))]
    public void AReusedGradientBufferIsOverwrittenEvenIfItHeldNaN(string op)
    {
        // After a step whose gradients exploded, ZeroGrad keeps the buffer (full of NaN) for reuse:
        // an op writing a fresh gradient (beta = 0) must overwrite it, not scale it by 0.
        var p = Expect.Parameter([3, 4], 4);
        Through(op, p).Backward();
        var expected = p.Grad!.ToArray();
        p.Grad.Span.Fill(float.NaN);
        Tape.ZeroGrad(p);
        Through(op, p).Backward();
        Assert.Equal(expected, p.Grad!.ToArray());
    }

    [Theory]
    [MemberData(nameof(OpsThatOverwrite))]
    public void PooledIntermediateGradientsAreOverwrittenEvenIfTheyHeldNaN(string op)
    {
        var p = Expect.Parameter([3, 4], 5);
        Through(op, F.Multiply(p, 1f)).Backward();
        var expected = p.Grad!.ToArray();
        Tape.ZeroGrad(p);
        using (TensorScope.Begin())
        {
            // Fill the pool with NaN buffers of the size the intermediate gradients will rent.
            using (TensorScope.Begin())
                for (int i = 0; i < 16; i++) Tensor.Full(new Shape(3, 4), float.NaN);
            Through(op, F.Multiply(p, 1f)).Backward();
        }
        Assert.Equal(expected, p.Grad!.ToArray());
    }

    [Fact]
    public void DetachStopsGradients()
    {
        // z = x·detach(x²): only the first factor carries a gradient, dz/dx = x².
        var x = Expect.Parameter([4], 6);
        var squared = F.Square(x);
        var detached = squared.Detach();
        Assert.False(detached.RequiresGrad);
        Assert.True(detached.IsLeaf);
        Assert.Equal(squared.ToArray(), detached.ToArray());
        F.Sum(F.Multiply(x, detached)).Backward();
        Expect.Close(squared.ToArray(), x.Grad!.Span, 1e-6, "dx");
    }

    [Fact]
    public void BackwardOnANonScalarWithoutASeedSaysWhatToDo()
    {
        var y = F.Multiply(Expect.Parameter([2, 3], 7), 2f);
        var error = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("scalar", error.Message);
        Assert.Contains("[2, 3]", error.Message);
        var seedError = Assert.Throws<ArgumentException>(() => y.Backward(Tensor.Ones(3, 2)));
        Assert.Contains("[3, 2]", seedError.Message);
        Assert.Contains("[2, 3]", seedError.Message);
    }

    [Fact]
    public void BackwardOnAConstantSaysNothingRequiresAGradient()
    {
        var error = Assert.Throws<InvalidOperationException>(() => F.Sum(Tensor.Ones(3)).Backward());
        Assert.Contains("does not require a gradient", error.Message);
    }

    [Fact]
    public void RetainedGraphBackwardTwiceDoublesTheLeafGradient()
    {
        // As in PyTorch with retain_graph=True: the second pass adds the same gradient again,
        // without re-counting what the first pass left in the intermediate tensors.
        var x = Expect.Parameter([3], 8);
        var y = F.Multiply(F.Tanh(F.Multiply(x, 2f)), 3f);
        var seed = Tensor.Ones(3);
        y.Backward(seed, retainGraph: true);
        var once = x.Grad!.ToArray();
        y.Backward(seed);
        Expect.Close(once.Select(g => 2 * g).ToArray(), x.Grad!.Span, 1e-6, "dx after two passes");
    }

    [Fact]
    public void AFailedBackwardLeavesTheTapeUsable()
    {
        // A user-defined op whose backward throws part-way through a pass.
        var x = Expect.Parameter([3], 9);
        var broken = F.Multiply(x, 2f);
        var y = Tensor.Empty(broken.Shape);
        Tape.Record("Broken", y, _ => throw new InvalidOperationException("broken backward"), broken);
        var loss = F.Sum(F.Tanh(y));
        Assert.Equal("broken backward", Assert.Throws<InvalidOperationException>(() => loss.Backward()).Message);

        var w = Expect.Parameter([3], 10);
        F.Sum(F.Multiply(w, 5f)).Backward();
        Assert.Equal([5f, 5f, 5f], w.Grad!.ToArray());
    }

    [Fact]
    public void ADeepChainDoesNotOverflowTheStack()
    {
        var x = Expect.Parameter([1], 11);
        var y = x;
        for (int i = 0; i < 20_000; i++) y = F.Add(y, 0.001f);
        F.Sum(y).Backward();
        Assert.Equal(1f, x.Grad!.Item());
    }

    [Fact]
    public void TheGraphIsFreedAfterBackward()
    {
        var x = Expect.Parameter([3], 12);
        var hidden = F.Tanh(x);
        var loss = F.Sum(hidden);
        Assert.False(hidden.IsLeaf);
        loss.Backward();
        Assert.Null(hidden.Node);
        Assert.Null(loss.Node);
        Assert.False(hidden.IsLeaf);   // as PyTorch's is_leaf: still the result of an op, whose graph is gone
    }
}

public class FreedGraphTests
{
    [Fact]
    public void ASecondBackwardWithoutRetainingTheGraphIsAnError()
    {
        var w = Sinapse.Tensors.Tensor.Ones(3);
        w.RequiresGrad = true;
        var loss = Sinapse.Ops.F.Sum(Sinapse.Ops.F.Multiply(w, w));
        loss.Backward();
        var error = Assert.Throws<InvalidOperationException>(() => loss.Backward());
        Assert.Contains("retainGraph", error.Message);
    }

    [Fact]
    public void BackwardAfterTheScopeEndedIsAnError()
    {
        var w = Sinapse.Tensors.Tensor.Ones(3);
        w.RequiresGrad = true;
        Sinapse.Tensors.Tensor loss;
        using (Sinapse.Tensors.TensorScope.Begin()) loss = Sinapse.Ops.F.Sum(Sinapse.Ops.F.Multiply(w, w));
        Assert.Contains("TensorScope", Assert.Throws<InvalidOperationException>(() => loss.Backward()).Message);
    }

    [Fact]
    public void ASeedGradientIsUsedAsItIsAndLeftUnchanged()
    {
        // The seed becomes the output's gradient without a copy, so no op's backward may write into it:
        // a network of every kind of layer runs backward from a seed, which must come out bitwise as it went in.
        var rng = new Rng(3);
        var model = new Sinapse.Layers.Sequential(
            new Sinapse.Layers.Conv2d(2, 4, 3, padding: 1, rng: rng), new Sinapse.Layers.BatchNorm2d(4), new Sinapse.Layers.Relu(),
            new Sinapse.Layers.MaxPool2d(2), new Sinapse.Layers.Conv2d(4, 4, 3, padding: 1, groups: 4, rng: rng), new Sinapse.Layers.HardSwish(),
            new Sinapse.Layers.GlobalAvgPool2d(), new Sinapse.Layers.Flatten(), new Sinapse.Layers.Linear(4, 3, rng: rng), new Sinapse.Layers.LayerNorm(3));
        var x = Tensor.Uniform(new Shape(2, 2, 6, 6), -1f, 1f, rng);
        var y = F.Softmax(F.Multiply(model.Call(x), model.Call(x)), 0);
        var seed = Tensor.Uniform(y.Shape, -1f, 1f, rng);
        var before = seed.ToArray();
        y.Backward(seed);
        Assert.Equal(before, seed.ToArray());
        Assert.NotNull(model.Parameters()[0].Grad);

        // A leaf's gradient is its own buffer, not the seed.
        var leaf = Expect.Parameter([3], 4);
        var leafSeed = Tensor.Ones(3);
        leaf.Backward(leafSeed);
        Assert.NotSame(leafSeed, leaf.Grad);
    }
}
