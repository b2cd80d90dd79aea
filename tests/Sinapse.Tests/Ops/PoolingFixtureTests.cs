using System.Text.Json;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>
/// Pooling against PyTorch 1.13 (Fixtures/pooling.json and, for ceil_mode, dilation,
/// count_include_pad and adaptive output sizes on random configurations,
/// Fixtures/pooling_options.json; both written by tools/make_conv_fixtures.py).
/// </summary>
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

    public static TheoryData<string> OptionCases()
    {
        var names = new TheoryData<string>();
        foreach (var c in Fixture.Cases("pooling_options.json")) names.Add(c.GetProperty("name").GetString()!);
        return names;
    }

    [Theory]
    [MemberData(nameof(OptionCases))]
    public void OptionsMatchPyTorch(string name)
    {
        var c = Fixture.Case("pooling_options.json", name);
        var x = Tensor.FromArray(c.Floats("input"), c.Ints("input_shape"));
        x.RequiresGrad = true;
        var y = RunWithOptions(c.GetProperty("op").GetString()!, x, c.GetProperty("parameters"));
        Assert.Equal(new Shape(c.Ints("output_shape")), y.Shape);
        Expect.Close(c.Floats("output"), y.Span, 1e-5, name + " output");
        y.Backward(Tensor.FromArray(c.Floats("upstream"), y.Shape.ToArray()));
        Expect.Close(c.Floats("grad_input"), x.Grad!.Span, 1e-5, name + " grad_input");
    }

    /// <summary>The random configurations reach what each option changes: partial ceil-mode windows, dilation, uncounted padding, overlapping adaptive windows.</summary>
    [Fact]
    public void TheRandomConfigurationsExerciseEveryOption()
    {
        var cases = Fixture.Cases("pooling_options.json").ToList();
        bool Any(string op, Func<JsonElement, bool> test) => cases.Any(c => c.GetProperty("op").GetString() == op && test(c.GetProperty("parameters")));
        foreach (var op in new[] { "max_pool2d", "max_pool1d", "avg_pool2d", "avg_pool1d" })
        {
            Assert.True(Any(op, p => p.GetProperty("ceil_mode").GetBoolean()), op + " with ceil_mode");
            Assert.True(Any(op, p => !p.GetProperty("ceil_mode").GetBoolean()), op + " without ceil_mode");
        }
        foreach (var op in new[] { "max_pool2d", "max_pool1d" })
            Assert.True(Any(op, p => p.GetProperty("dilation").ValueKind == JsonValueKind.Array ? p.Ints("dilation").Any(d => d > 1) : p.GetProperty("dilation").GetInt32() > 1), op + " dilated");
        foreach (var op in new[] { "avg_pool2d", "avg_pool1d" })
            Assert.True(Any(op, p => !p.GetProperty("count_include_pad").GetBoolean() && (p.GetProperty("padding").ValueKind == JsonValueKind.Array ? p.Ints("padding").Any(v => v > 0) : p.GetProperty("padding").GetInt32() > 0)),
                op + " with padding left out of the average");
        Assert.True(cases.Any(c => c.GetProperty("op").GetString() == "adaptive_avg_pool2d" && c.Ints("input_shape")[2] % c.GetProperty("parameters").Ints("output_size")[0] != 0),
            "adaptive pooling whose windows overlap");
    }

    [Fact]
    public void EveryOpIsCovered()
    {
        var ops = Fixture.Cases("pooling.json").Select(c => c.GetProperty("op").GetString()).ToHashSet();
        Assert.Equal(["adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d"], ops.Order());
    }

    static Tensor RunWithOptions(string op, Tensor x, JsonElement p)
    {
        bool ceilMode = op != "adaptive_avg_pool2d" && p.GetProperty("ceil_mode").GetBoolean();
        switch (op)
        {
            case "adaptive_avg_pool2d":
                var size = p.Ints("output_size");
                return F.AdaptiveAvgPool2d(x, (size[0], size[1]));
            case "max_pool1d":
                return F.MaxPool1d(x, p.GetProperty("kernel").GetInt32(), p.GetProperty("stride").GetInt32(), p.GetProperty("padding").GetInt32(), p.GetProperty("dilation").GetInt32(), ceilMode);
            case "avg_pool1d":
                return F.AvgPool1d(x, p.GetProperty("kernel").GetInt32(), p.GetProperty("stride").GetInt32(), p.GetProperty("padding").GetInt32(), ceilMode,
                    p.GetProperty("count_include_pad").GetBoolean());
        }
        var (k, s, pad) = (p.Ints("kernel"), p.Ints("stride"), p.Ints("padding"));
        if (op == "max_pool2d")
        {
            var d = p.Ints("dilation");
            return F.MaxPool2d(x, (k[0], k[1]), (s[0], s[1]), (pad[0], pad[1]), (d[0], d[1]), ceilMode);
        }
        return F.AvgPool2d(x, (k[0], k[1]), (s[0], s[1]), (pad[0], pad[1]), ceilMode, p.GetProperty("count_include_pad").GetBoolean());
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
