using System.Text.Json;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>Pooling against PyTorch 1.13 (Fixtures/pooling.json, written by tools/make_conv_fixtures.py).</summary>
public class PoolingFixtureTests
{
    public static TheoryData<string> Cases()
    {
        var names = new TheoryData<string>();
        foreach (var c in Fixture.Cases("pooling.json")) names.Add(c.GetProperty("name").GetString()!);
        return names;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        var c = Fixture.Case("pooling.json", name);
        var x = Tensor.FromArray(c.Floats("input"), c.Ints("input_shape"));
        x.RequiresGrad = true;
        var y = Run(c.GetProperty("op").GetString()!, x, c.GetProperty("parameters"));
        Assert.Equal(new Shape(c.Ints("output_shape")), y.Shape);
        Expect.Close(c.Floats("output"), y.Span, 1e-4, name + " output");
        y.Backward(Tensor.FromArray(c.Floats("upstream"), y.Shape.ToArray()));
        Expect.Close(c.Floats("grad_input"), x.Grad!.Span, 1e-4, name + " grad_input");
    }

    [Fact]
    public void EveryOpIsCovered()
    {
        var ops = Fixture.Cases("pooling.json").Select(c => c.GetProperty("op").GetString()).ToHashSet();
        Assert.Equal(["adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d"], ops.Order());
    }

    static Tensor Run(string op, Tensor x, JsonElement parameters)
    {
        if (op == "adaptive_avg_pool2d") return F.AdaptiveAvgPool2d(x, parameters.GetProperty("output_size").GetInt32());
        if (op.EndsWith("1d"))
        {
            int kernel = parameters.GetProperty("kernel").GetInt32(), stride = parameters.GetProperty("stride").GetInt32(), padding = parameters.GetProperty("padding").GetInt32();
            return op == "max_pool1d" ? F.MaxPool1d(x, kernel, stride, padding) : F.AvgPool1d(x, kernel, stride, padding);
        }
        var k = parameters.Ints("kernel");
        var s = parameters.Ints("stride");
        var p = parameters.Ints("padding");
        return op == "max_pool2d"
            ? F.MaxPool2d(x, (k[0], k[1]), (s[0], s[1]), (p[0], p[1]))
            : F.AvgPool2d(x, (k[0], k[1]), (s[0], s[1]), (p[0], p[1]));
    }
}
