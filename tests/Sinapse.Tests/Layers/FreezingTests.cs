using Sinapse.Layers;
using Sinapse.Losses;
using Sinapse.Models;
using Sinapse.Optimizers;
using Sinapse.Tensors;

namespace Sinapse.Tests.Layers;

public class FreezingTests
{
    private static Sequential Cnc(ulong seed) => new(
        new Conv2d(1, 2, 3, padding: 1, rng: new Rng(seed)), new Relu(),
        new Conv2d(2, 2, 3, padding: 1, rng: new Rng(seed + 1)), new Relu(),
        new Conv2d(2, 2, 3, padding: 1, rng: new Rng(seed + 2)), new Flatten());

    private static void Step(Sequential model, Optimizer optimizer)
    {
        optimizer.ZeroGrad();
        var x = Tensor.Uniform(new Shape(2, 1, 5, 5), -1, 1, new Rng(9));
        var target = Tensor.Uniform(new Shape(2, 50), -1, 1, new Rng(10));
        new MseLoss().Forward(model.Call(x), target).Backward();
        optimizer.Step();
    }

    /// <summary>The course's C → NC → C: the frozen middle layer is not updated, yet the first layer gets exactly the gradient it gets when nothing is frozen.</summary>
    [Fact]
    public void GradientsFlowThroughAFrozenLayer()
    {
        var frozen = Cnc(1);
        frozen.Freeze("2");
        var middle = ((Conv2d)frozen[2]).Weight.ToArray();
        var free = Cnc(1);
        var optimizer = new Sgd(frozen.Parameters(), 0.1f);
        Step(frozen, optimizer);
        Step(free, new Sgd(free.Parameters(), 0f));
        Assert.Equal(middle, ((Conv2d)frozen[2]).Weight.ToArray());
        Assert.Null(((Conv2d)frozen[2]).Weight.Grad);
        Assert.Equal(((Conv2d)free[0]).Weight.Grad!.ToArray(), ((Conv2d)frozen[0]).Weight.Grad!.ToArray());
        Assert.NotEqual(0f, ((Conv2d)frozen[0]).Weight.Grad!.ToArray().Select(Math.Abs).Max());
        Assert.NotEqual(((Conv2d)free[0]).Weight.ToArray(), ((Conv2d)frozen[0]).Weight.ToArray());
    }

    [Fact]
    public void ByIndexNameAndAllButTheLastK()
    {
        var model = Cnn.Course(1, 28, 28, 10, rng: new Rng(1));
        model.FreezeAllButLast(1);
        Assert.Equal(10 * 1024 + 10, model.ParameterCount(trainableOnly: true));
        Assert.True(model[0].IsFrozen());
        model.UnfreezeLast(2);
        Assert.False(model[6].IsFrozen());
        Assert.True(model[3].IsFrozen());
        model.Unfreeze(3);
        model.Freeze(-1);
        Assert.True(model[9].IsFrozen());
        Assert.False(model[3].IsFrozen());
        Assert.Contains("no layer 'head'", Assert.Throws<ArgumentException>(() => model.Freeze("head")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Freeze(10));
    }

    [Fact]
    public void ReplaceHeadGivesANewTrainableLinear()
    {
        var model = Cnn.Course(1, 28, 28, 10, rng: new Rng(1));
        model.Freeze();
        var head = model.ReplaceHead(5, new Rng(2));
        Assert.Same(head, model[9]);
        Assert.Equal("9", head.Path);
        Assert.Equal((1024, 5), (head.InFeatures, head.OutFeatures));
        Assert.Equal(5 * 1024 + 5, model.ParameterCount(trainableOnly: true));
        Assert.Equal(new Shape(1, 5), model.OutputShape(new Shape(1, 1, 28, 28)));
        Assert.Contains(model.NamedParameters(), p => p.Name == "9.weight" && ReferenceEquals(p.Tensor, head.Weight));
    }
}
