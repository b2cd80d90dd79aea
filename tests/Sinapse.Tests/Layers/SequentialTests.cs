using Sinapse.Layers;
using Sinapse.Tensors;

namespace Sinapse.Tests.Layers;

public class SequentialTests
{
    [Fact]
    public void ParametersAreNamedByPositionAsInPyTorch()
    {
        var model = new Sequential(new Flatten(), new Linear(4, 3), new Relu(), new Linear(3, 2, useBias: false),
            new Sequential(new Linear(2, 2)));
        Assert.Equal(["1.weight", "1.bias", "3.weight", "4.0.weight", "4.0.bias"], model.NamedParameters().Select(p => p.Name).ToArray());
        Assert.Equal("weight", model.NamedParameters().First().Tensor.Name);
        Assert.Equal(5, model.Parameters().Count);
        Assert.Equal(4 * 3 + 3 + 3 * 2 + 2 * 2 + 2, model.ParameterCount());
    }

    [Fact]
    public void ThePlainCaseStartsAtZero()
    {
        var model = new Sequential(new Linear(3, 2), new Relu(), new Linear(2, 1));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], model.NamedParameters().Select(p => p.Name).ToArray());
        Assert.Equal(3 * 2 + 2 + 2 + 1, model.ParameterCount());
    }

    [Fact]
    public void ForwardAndOutputShapeAgree()
    {
        var model = new Sequential(new Flatten(), new Linear(12, 5), new Relu(), new Linear(5, 3));
        var x = Tensor.Zeros(2, 3, 4);
        Assert.Equal(new Shape(2, 3), model.OutputShape(x.Shape));
        Assert.Equal(new Shape(2, 3), model.Forward(x).Shape);
        Assert.Equal(4, model.Count);
        Assert.IsType<Relu>(model[2]);
    }

    [Fact]
    public void ShapeErrorsNameTheLayer()
    {
        var model = new Sequential(new Linear(12, 5), new Linear(6, 3));
        var error = Assert.Throws<ArgumentException>(() => model.OutputShape(new Shape(2, 12)));
        Assert.Contains("Linear(6 -> 3)", error.Message);
        Assert.Contains("[2, 5]", error.Message);
    }
}
