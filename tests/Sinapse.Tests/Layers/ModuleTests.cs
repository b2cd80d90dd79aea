using Sinapse.Init;
using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class ModuleTests
{
    static Sequential ThreeLayers() => new(
        new Linear(5, 4, rng: new Rng(1)), new Tanh(),
        new Linear(4, 3, rng: new Rng(2)), new Tanh(),
        new Linear(3, 2, rng: new Rng(3)));

    static Tensor Loss(Module model, Tensor x) => F.CrossEntropy(model.Call(x), Tensor.FromArray([0f, 1f, 1f]));

    [Fact]
    public void FrozenMiddleLayerGetsNoGradientButTheLayerBeforeItDoes()
    {
        // C → NC → C: gradients must flow through the frozen layer to the first one.
        var x = Expect.Random([3, 5], 4);
        var reference = ThreeLayers();
        Loss(reference, x).Backward();

        var model = ThreeLayers();
        var middle = (Linear)model[2];
        middle.Freeze();
        Assert.False(middle.Weight.RequiresGrad);
        Loss(model, x).Backward();

        Assert.Null(middle.Weight.Grad);
        Assert.Null(middle.Bias!.Grad);
        var first = (Linear)model[0];
        var last = (Linear)model[4];
        Assert.NotNull(first.Weight.Grad);
        // Freezing changes which gradients are computed, not their values.
        Assert.Equal(((Linear)reference[0]).Weight.Grad!.ToArray(), first.Weight.Grad!.ToArray());
        Assert.Equal(((Linear)reference[0]).Bias!.Grad!.ToArray(), first.Bias!.Grad!.ToArray());
        Assert.Equal(((Linear)reference[4]).Weight.Grad!.ToArray(), last.Weight.Grad!.ToArray());
        Assert.Equal(model.ParameterCount() - middle.ParameterCount(), model.ParameterCount(trainableOnly: true));

        middle.Unfreeze();
        Assert.True(middle.Weight.RequiresGrad);
        model.ZeroGrad();
        Loss(model, x).Backward();
        Assert.Equal(((Linear)reference[2]).Weight.Grad!.ToArray(), middle.Weight.Grad!.ToArray());
    }

    [Fact]
    public void AFrozenModelStillPassesTheGradientToItsInput()
    {
        var model = ThreeLayers();
        model.Freeze();
        var x = Expect.Random([3, 5], 4);
        x.RequiresGrad = true;
        Loss(model, x).Backward();
        Assert.NotNull(x.Grad);
        Assert.All(model.Parameters(), p => Assert.Null(p.Grad));
        Assert.Equal(0, model.ParameterCount(trainableOnly: true));
    }

    [Fact]
    public void ZeroGradClearsEveryParameter()
    {
        var model = ThreeLayers();
        Loss(model, Expect.Random([3, 5], 4)).Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
        model.ZeroGrad();
        Assert.All(model.Parameters(), p => Assert.Null(p.Grad));
    }

    [Fact]
    public void TrainAndEvalReachEveryDescendant()
    {
        var model = new Sequential(new Linear(2, 2), new Sequential(new Relu(), new Linear(2, 1)));
        model.Eval();
        Assert.All(model.NamedModules(), m => Assert.False(m.Module.Training));
        model.Train();
        Assert.All(model.NamedModules(), m => Assert.True(m.Module.Training));
        Assert.Equal(["", "0", "1", "1.0", "1.1"], model.NamedModules().Select(m => m.Name).ToArray());
    }

    [Fact]
    public void LinearCountsWeightsAndBiases()
    {
        Assert.Equal(784 * 256 + 256, new Linear(784, 256).ParameterCount());
        Assert.Equal(784 * 256, new Linear(784, 256, useBias: false).ParameterCount());
        Assert.Equal("Linear(3 -> 2, no bias)", new Linear(3, 2, useBias: false).Describe());
        var error = Assert.Throws<ArgumentException>(() => new Linear(3, 2).OutputShape(new Shape(8, 4)));
        Assert.Contains("[8, 4]", error.Message);
    }

    [Fact]
    public void LinearStartsWithItsInitializersAndZeroBiases()
    {
        var layer = new Linear(30, 20, weightInit: Initializer.Constant(0.5f), rng: new Rng(1));
        Assert.All(layer.Weight.ToArray(), w => Assert.Equal(0.5f, w));
        Assert.All(layer.Bias!.ToArray(), b => Assert.Equal(0f, b));
        // Same seed, same weights: no hidden randomness.
        Assert.Equal(new Linear(30, 20, rng: new Rng(9)).Weight.ToArray(), new Linear(30, 20, rng: new Rng(9)).Weight.ToArray());
    }
}
