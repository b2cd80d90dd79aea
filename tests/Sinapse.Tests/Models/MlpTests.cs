using Sinapse.Layers;
using Sinapse.Models;
using Sinapse.Tensors;

namespace Sinapse.Tests.Models;

public class MlpTests
{
    [Fact]
    public void TheCoursesMlpHas242762Parameters()
    {
        var model = Mlp.Create(784, [256, 128, 64], 10, rng: new Rng(1));
        // 784·256+256 + 256·128+128 + 128·64+64 + 64·10+10
        Assert.Equal(242_762, model.ParameterCount());
        Assert.Equal(["1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias", "7.weight", "7.bias"],
            model.NamedParameters().Select(p => p.Name).ToArray());
        Assert.Equal(new Shape(32, 10), model.OutputShape(new Shape(32, 1, 28, 28)));
        Assert.IsType<Relu>(model[2]);
        Assert.IsType<Linear>(model[model.Count - 1]);
    }

    [Fact]
    public void TheActivationIsConfigurable()
    {
        var model = Mlp.Create(4, [3], 2, activation: "tanh");
        Assert.IsType<Tanh>(model[2]);
        Assert.Throws<ArgumentException>(() => Mlp.Create(4, [0], 2));
    }
}
