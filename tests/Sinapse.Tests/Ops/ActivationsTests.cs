using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class ActivationsTests
{
    static readonly int[] OddShape = [3, 7];

    public static TheoryData<string> Names => new()
    {
        "relu", "leaky_relu", "leaky_relu_0.2", "sigmoid", "tanh", "elu", "elu_0.5", "selu", "gelu", "gelu_tanh", "hardsigmoid", "hardswish", "relu6",
    };

    static Func<Tensor, Tensor> Op(string name) => name switch
    {
        "relu" => F.Relu,
        "leaky_relu" => x => F.LeakyRelu(x),
        "leaky_relu_0.2" => x => F.LeakyRelu(x, 0.2f),
        "sigmoid" => F.Sigmoid,
        "tanh" => F.Tanh,
        "elu" => x => F.Elu(x),
        "elu_0.5" => x => F.Elu(x, 0.5f),
        "selu" => F.Selu,
        "gelu" => F.Gelu,
        "gelu_tanh" => x => F.Gelu(x, "tanh"),
        "hardsigmoid" => F.HardSigmoid,
        "hardswish" => F.HardSwish,
        "relu6" => F.Relu6,
        _ => throw new ArgumentException(name),
    };

    // Inputs that cover both sides of every kink but keep clear of it, so finite differences are valid.
    static Tensor InputFor(string name) => name switch
    {
        "hardsigmoid" or "hardswish" => Expect.AwayFromKinks(OddShape, -5f, 5f, [-3f, 0f, 3f]),
        "relu6" => Expect.AwayFromKinks(OddShape, -3f, 9f, [0f, 6f]),
        _ => Expect.AwayFromKinks(OddShape, -4f, 4f, [0f]),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferences(string name)
    {
        var op = Op(name);
        Expect.GradientsMatch(x => op(x[0]), InputFor(name));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientAccumulatesIntoAnExistingGradient(string name)
    {
        // x used twice: the second pass through the op adds (beta = 1) to what the first wrote.
        var op = Op(name);
        Expect.GradientsMatch(x => F.Add(op(x[0]), F.Multiply(op(x[0]), 0.5f)), InputFor(name));
    }

    static Func<Tensor, Tensor> FixtureOp(System.Text.Json.JsonElement c) => c.GetProperty("name").GetString() switch
    {
        "relu" => F.Relu,
        "leaky_relu" => x => F.LeakyRelu(x, c.Parameter("negative_slope", 0.01f)),
        "sigmoid" => F.Sigmoid,
        "tanh" => F.Tanh,
        "elu" => x => F.Elu(x, c.Parameter("alpha", 1f)),
        "selu" => F.Selu,
        "gelu" => x => F.Gelu(x, c.GetProperty("parameters").TryGetProperty("approximate", out var form) ? form.GetString()! : "none"),
        "hardsigmoid" => F.HardSigmoid,
        "hardswish" => F.HardSwish,
        "relu6" => F.Relu6,
        "softmax" => F.Softmax,
        "log_softmax" => F.LogSoftmax,
        var other => throw new ArgumentException($"No Sinapse op for fixture '{other}'."),
    };

    [Theory]
    [InlineData("activations.json", 15)]
    [InlineData("gelu_tanh.json", 1)]
    public void ValuesAndGradientsMatchPyTorch(string file, int cases)
    {
        int count = 0;
        foreach (var c in Fixture.Cases(file))
        {
            string name = c.GetProperty("name").GetString() + " " + c.GetProperty("parameters");
            var x = Tensor.FromArray(c.Floats("input"), c.Ints("shape"));
            x.RequiresGrad = true;
            var y = FixtureOp(c)(x);
            Expect.Close(c.Floats("output"), y.Span, 1e-5, name + " output");
            y.Backward(Tensor.FromArray(c.Floats("upstream"), c.Ints("shape")));
            Expect.Close(c.Floats("grad"), x.Grad!.Span, 1e-5, name + " grad");
            count++;
        }
        Assert.Equal(cases, count);
    }

    static float One(Func<Tensor, Tensor> op, float x) => op(Tensor.FromArray([x])).Item();

    [Fact]
    public void ReluFamilyAtChosenPoints()
    {
        Assert.Equal(0f, One(F.Relu, -2f));
        Assert.Equal(2.5f, One(F.Relu, 2.5f));
        Assert.Equal(-0.02f, One(x => F.LeakyRelu(x), -2f), 7);
        Assert.Equal(-0.4f, One(x => F.LeakyRelu(x, 0.2f), -2f), 7);
        Assert.Equal(3f, One(x => F.LeakyRelu(x, 0.2f), 3f));
        Assert.Equal(0f, One(F.Relu6, -1f));
        Assert.Equal(6f, One(F.Relu6, 7.5f));
        Assert.Equal(4.25f, One(F.Relu6, 4.25f));
    }

    [Fact]
    public void SeluUsesTheConstantsOfKlambauerEtAl()
    {
        // α and λ from the SELU paper, to the digits PyTorch uses.
        Assert.Equal(1.6732632423543772, F.SeluAlpha, 6);
        Assert.Equal(1.0507009873554805, F.SeluScale, 6);
        Assert.Equal(1.0507009873554805 * 2, One(F.Selu, 2f), 5);
        Assert.Equal(1.0507009873554805 * 1.6732632423543772 * (Math.Exp(-1) - 1), One(F.Selu, -1f), 5);
        // Saturates at −λα for very negative inputs.
        Assert.Equal(-1.0507009873554805 * 1.6732632423543772, One(F.Selu, -30f), 5);
        Assert.Equal(Math.Exp(-2) - 1, One(x => F.Elu(x), -2f), 6);
        Assert.Equal(0.5 * (Math.Exp(-2) - 1), One(x => F.Elu(x, 0.5f), -2f), 6);
    }

    [Theory]
    // x·Φ(x) with Φ(x) = ½(1 + erf(x/√2)); the erf values from tables (Abramowitz and Stegun 7.1).
    [InlineData(1.0, 0.8413447460685429)]
    [InlineData(-1.0, -0.15865525393145707)]
    [InlineData(2.0, 1.9544997361036416)]
    [InlineData(-2.0, -0.04550026389635842)]
    [InlineData(0.5, 0.34573123063700656)]
    [InlineData(-3.0, -0.00404969409489031)]
    [InlineData(0.0, 0.0)]
    public void GeluIsTheExactErfForm(double x, double expected)
    {
        Assert.Equal(expected, One(F.Gelu, (float)x), 6);
    }

    [Theory]
    // ½x(1 + tanh(√(2/π)(x + 0.044715x³))) in double precision (at −6 as x·σ(2u), where 1 + tanh u cancels even in double).
    [InlineData(1.0, 0.8411919906082768)]
    [InlineData(-1.0, -0.15880800939172324)]
    [InlineData(2.0, 1.954597694087775)]
    [InlineData(-3.0, -0.0036373920817729943)]
    [InlineData(-6.0, -8.43964670076231e-11)]
    [InlineData(0.0, 0.0)]
    public void GeluTanhIsTheTanhApproximation(double x, double expected)
    {
        Assert.Equal(expected, One(t => F.Gelu(t, "tanh"), (float)x), Math.Max(Math.Abs(expected) * 1e-6, 1e-13));
        // The approximation stays within 5e-4 of the exact form.
        Assert.Equal(One(F.Gelu, (float)x), One(t => F.Gelu(t, "tanh"), (float)x), 5e-4);
    }

    [Fact]
    public void GeluNamesItsTwoForms()
    {
        var error = Assert.Throws<ArgumentException>(() => F.Gelu(Tensor.Zeros(2), "fast"));
        Assert.Contains("approximate must be 'none' or 'tanh', got 'fast'", error.Message);
        Assert.Equal(F.Gelu(Expect.Random([7])).ToArray(), Expect.Random([7]).Gelu("none").ToArray());
        Assert.Equal(F.Gelu(Expect.Random([7]), "tanh").ToArray(), Expect.Random([7]).Gelu("tanh").ToArray());
    }

    [Theory]
    [InlineData(-4f, 0f, 0f)]
    [InlineData(-3f, 0f, 0f)]
    [InlineData(-1.5f, 0.25f, -0.375f)]
    [InlineData(0f, 0.5f, 0f)]
    [InlineData(1f, 4f / 6f, 4f / 6f)]
    [InlineData(3f, 1f, 3f)]
    [InlineData(5f, 1f, 5f)]
    public void HardSigmoidAndHardSwishAtChosenPoints(float x, float hardSigmoid, float hardSwish)
    {
        Assert.Equal(hardSigmoid, One(F.HardSigmoid, x), 6);
        Assert.Equal(hardSwish, One(F.HardSwish, x), 6);
    }

    [Fact]
    public void SigmoidAndTanhAreStableAtTheExtremes()
    {
        Assert.Equal(0.5f, One(F.Sigmoid, 0f));
        Assert.Equal(1f, One(F.Sigmoid, 100f));
        Assert.InRange(One(F.Sigmoid, -100f), 0f, 1e-30f);
        Assert.Equal(1f / (1f + MathF.Exp(-1.5f)), One(F.Sigmoid, 1.5f), 6);
        Assert.Equal(1f, One(F.Tanh, 50f));
        Assert.Equal(-1f, One(F.Tanh, -50f));
        Assert.Equal(MathF.Tanh(0.7f), One(F.Tanh, 0.7f), 6);
    }

    [Fact]
    public void GradientsAtTheKinksFollowPyTorch()
    {
        // PyTorch's conventions: relu'(0) = 0, leaky'(0) = slope, hardswish' uses x/3 + 1/2 on the
        // closed interval [−3, 3] (so −0.5 at −3 and 1.5 at 3), hardsigmoid'(±3) = 0, relu6'(0) = relu6'(6) = 0.
        static float Slope(Func<Tensor, Tensor> op, float at)
        {
            var x = Tensor.FromArray([at]);
            x.RequiresGrad = true;
            op(x).Backward();
            return x.Grad!.Item();
        }
        Assert.Equal(0f, Slope(F.Relu, 0f));
        Assert.Equal(0.2f, Slope(x => F.LeakyRelu(x, 0.2f), 0f));
        Assert.Equal(-0.5f, Slope(F.HardSwish, -3f));
        Assert.Equal(1.5f, Slope(F.HardSwish, 3f));
        Assert.Equal(0f, Slope(F.HardSigmoid, -3f));
        Assert.Equal(0f, Slope(F.HardSigmoid, 3f));
        Assert.Equal(0f, Slope(F.Relu6, 0f));
        Assert.Equal(0f, Slope(F.Relu6, 6f));
    }

    [Fact]
    public void ShapeIsKept()
    {
        var x = Tensor.Zeros(2, 3, 4);
        Assert.Equal(x.Shape, F.Gelu(x).Shape);
        Assert.Equal(x.Shape, F.Relu(x).Shape);
    }
}

public class ReluInfinityTests
{
    [Fact]
    public void AnInfiniteGradientBelowZeroGivesZeroNotNaN()
    {
        // PyTorch's threshold_backward: the gradient at x <= 0 is 0 whatever arrives.
        var x = Sinapse.Tensors.Tensor.FromArray(Enumerable.Range(0, 37).Select(i => i % 2 == 0 ? -1f - i : 1f + i).ToArray());
        x.RequiresGrad = true;
        var y = Sinapse.Ops.F.Relu(x);
        y.Backward(Sinapse.Tensors.Tensor.Full(y.Shape, float.PositiveInfinity));
        for (int i = 0; i < 37; i++) Assert.Equal(i % 2 == 0 ? 0f : float.PositiveInfinity, x.Grad!.Span[i]);
    }
}
