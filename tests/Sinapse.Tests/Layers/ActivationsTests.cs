using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Tensors;

namespace Sinapse.Tests.Layers;

public class ActivationsTests
{
    [Theory]
    [InlineData("relu", typeof(Relu))]
    [InlineData("ReLU", typeof(Relu))]
    [InlineData("leaky_relu", typeof(LeakyRelu))]
    [InlineData("leaky-relu(0.2)", typeof(LeakyRelu))]
    [InlineData("elu", typeof(Elu))]
    [InlineData("elu(0.5)", typeof(Elu))]
    [InlineData("selu", typeof(Selu))]
    [InlineData("sigmoid", typeof(Sigmoid))]
    [InlineData("logistic", typeof(Sigmoid))]
    [InlineData("tanh", typeof(Tanh))]
    [InlineData("gelu", typeof(Gelu))]
    [InlineData("gelu_tanh", typeof(Gelu))]
    [InlineData("GELU-tanh", typeof(Gelu))]
    [InlineData("hard_sigmoid", typeof(HardSigmoid))]
    [InlineData("hardswish", typeof(HardSwish))]
    [InlineData("relu6", typeof(Relu6))]
    [InlineData("softmax", typeof(Softmax))]
    [InlineData("log_softmax", typeof(LogSoftmax))]
    [InlineData(" linear ", typeof(Identity))]
    [InlineData("identity", typeof(Identity))]
    public void ParseKnowsEveryName(string name, Type type) => Assert.IsType(type, Activation.Parse(name));

    [Fact]
    public void ParseReadsArguments()
    {
        Assert.Equal(0.2f, ((LeakyRelu)Activation.Parse("leaky_relu(0.2)")).NegativeSlope);
        Assert.Equal(0.01f, ((LeakyRelu)Activation.Parse("leaky_relu")).NegativeSlope);
        Assert.Equal(0.5f, ((Elu)Activation.Parse("elu(0.5)")).Alpha);
        Assert.Equal(-0.1f, ((LeakyRelu)Activation.Parse("leaky-relu(-0.1)")).NegativeSlope);
        Assert.Equal("LeakyRelu(0.2)", Activation.Parse("leaky_relu(0.2)").Describe());
        Assert.Equal("none", ((Gelu)Activation.Parse("gelu")).Approximate);
        Assert.Equal("tanh", ((Gelu)Activation.Parse("gelu_tanh")).Approximate);
        Assert.Equal("Gelu(approximate='tanh')", Activation.Parse("gelu_tanh").Describe());
        Assert.Equal("Gelu", Activation.Parse("gelu").Describe());
    }

    [Theory]
    [InlineData("swish")]
    [InlineData("relu(2)")]
    [InlineData("leaky_relu(abc)")]
    [InlineData("")]
    public void ParseRejectsUnknownNamesListingTheKnownOnes(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => Activation.Parse(name));
        Assert.True(error.Message.Contains("relu") || error.Message.Contains("not a number"), error.Message);
    }

    [Fact]
    public void LayersCallTheirOps()
    {
        var x = Tensor.FromArray([-2f, -0.5f, 0.5f, 2f], 2, 2);
        Assert.Equal(F.LeakyRelu(x, 0.2f).ToArray(), new LeakyRelu(0.2f).Call(x).ToArray());
        Assert.Equal(F.Elu(x, 0.5f).ToArray(), new Elu(0.5f).Call(x).ToArray());
        Assert.Equal(F.Softmax(x).ToArray(), new Softmax().Call(x).ToArray());
        Assert.Same(x, new Identity().Call(x));
        Assert.Equal(new Shape(7, 3), new Gelu().OutputShape(new Shape(7, 3)));
        Assert.Equal(F.Gelu(x, "tanh").ToArray(), new Gelu("tanh").Call(x).ToArray());
        Assert.Equal(F.Gelu(x).ToArray(), new Gelu().Call(x).ToArray());
    }

    [Fact]
    public void GeluRefusesAnUnknownForm() =>
        Assert.Contains("approximate must be 'none' or 'tanh', got 'Tanh'", Assert.Throws<ArgumentException>(() => new Gelu("Tanh")).Message);

    [Theory]
    [InlineData("leaky_relu(NaN)")]
    [InlineData("elu(NaN)")]
    [InlineData("elu(-Infinity)")]
    public void NonFiniteArgumentsAreRefused(string name) =>
        Assert.Throws<ArgumentException>(() => Activation.Parse(name));
}
