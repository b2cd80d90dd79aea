using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class DropoutTests
{
    [Fact]
    public void DropsInTrainingModeAndIsTheIdentityInEvaluation()
    {
        var dropout = new Dropout(0.5f, new Rng(3));
        var x = Expect.Random([10, 10], 1, 0.5f, 1.5f);
        var trained = dropout.Call(x).ToArray();
        Assert.Contains(0f, trained);
        Assert.Equal(F.Dropout(x, 0.5f, training: true, new Rng(3)).ToArray(), trained);
        dropout.Eval();
        Assert.Same(x, dropout.Call(x));
    }

    [Fact]
    public void LayersWithTheSameSeedDropTheSameElements()
    {
        var x = Tensor.Ones(4, 50);
        var a = new Dropout(0.3f, new Rng(8));
        var b = new Dropout(0.3f, new Rng(8));
        for (int step = 0; step < 3; step++) Assert.Equal(a.Call(x).ToArray(), b.Call(x).ToArray());
    }

    [Fact]
    public void Dropout2dZeroesChannelsAndChecksTheShape()
    {
        var layer = new Dropout2d(0.5f, new Rng(4));
        var y = layer.Call(Tensor.Ones(2, 6, 2, 2)).ToArray();
        for (int plane = 0; plane < 12; plane++) Assert.Single(y.Skip(plane * 4).Take(4).Distinct());
        Assert.Equal(new Shape(2, 6, 2, 2), layer.OutputShape(new Shape(2, 6, 2, 2)));
        var error = Assert.Throws<ArgumentException>(() => layer.OutputShape(new Shape(2, 6)));
        Assert.Contains("Dropout2d(p=0.5)", error.Message);
        Assert.Contains("[2, 6]", error.Message);
        Assert.Throws<ArgumentException>(() => layer.Call(Tensor.Ones(2, 6)));
    }

    [Fact]
    public void DescribesItselfAndValidatesP()
    {
        Assert.Equal("Dropout(p=0.25)", new Dropout(0.25f).Describe());
        Assert.Equal("Dropout2d(p=0.5)", new Dropout2d().Describe());
        Assert.Equal(new Shape(3, 7), new Dropout().OutputShape(new Shape(3, 7)));
        Assert.Empty(new Dropout().NamedParameters());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(1.2f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout2d(-0.5f));
    }
}
