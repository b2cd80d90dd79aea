using System.Text.Json;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>
/// Conv2d and Conv1d against PyTorch 1.13 (Fixtures/conv2d.json and conv1d.json, written by
/// tools/make_conv_fixtures.py): forward and the input, weight and bias gradients for strides,
/// paddings, dilations, groups (depthwise with and without a multiplier), 1×1 and odd sizes.
/// </summary>
public class ConvolutionFixtureTests
{
    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var file in new[] { "conv2d.json", "conv1d.json" })
            foreach (var c in Fixture.Cases(file)) cases.Add(file, c.GetProperty("name").GetString()!);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string file, string name)
    {
        var c = Fixture.Case(file, name);
        var parameters = c.GetProperty("parameters");
        int stride = Int(parameters, "stride"), padding = Int(parameters, "padding"), dilation = Int(parameters, "dilation"), groups = Int(parameters, "groups");
        var x = Tensor.FromArray(c.Floats("input"), c.Ints("input_shape"));
        var w = Tensor.FromArray(c.Floats("weight"), c.Ints("weight_shape"));
        var b = c.TryGetProperty("bias", out _) ? Tensor.FromArray(c.Floats("bias")) : null;
        foreach (var t in new[] { x, w, b }) if (t != null) t.RequiresGrad = true;

        var y = file == "conv2d.json"
            ? F.Conv2d(x, w, b, stride, padding, dilation, groups)
            : F.Conv1d(x, w, b, stride, padding, dilation, groups);
        string what = $"{file} '{name}' (stride {stride}, padding {padding}, dilation {dilation}, groups {groups})";
        Assert.Equal(new Shape(c.Ints("output_shape")), y.Shape);
        Expect.Close(c.Floats("output"), y.Span, 1e-4, what + " output");

        y.Backward(Tensor.FromArray(c.Floats("upstream"), y.Shape.ToArray()));
        Expect.Close(c.Floats("grad_input"), x.Grad!.Span, 1e-4, what + " grad_input");
        Expect.Close(c.Floats("grad_weight"), w.Grad!.Span, 1e-4, what + " grad_weight");
        if (b != null) Expect.Close(c.Floats("grad_bias"), b.Grad!.Span, 1e-4, what + " grad_bias");
    }

    [Fact]
    public void TheCourseMovingAverage()
    {
        // The course's worked example: the 4-point moving averages of [100, 120, 115, 200, 135, 130, 140].
        var c = Fixture.Case("conv1d.json", "moving average");
        Assert.Equal([133.75f, 142.5f, 145f, 151.25f], c.Floats("output"));
        var y = F.Conv1d(Tensor.FromArray([100f, 120, 115, 200, 135, 130, 140], 1, 1, 7), Tensor.Full(new Shape(1, 1, 4), 0.25f));
        Assert.Equal([133.75f, 142.5f, 145f, 151.25f], y.ToArray());
    }

    [Fact]
    public void TheFixturesCoverWhatTheSpecAsks()
    {
        var all = Fixture.Cases("conv2d.json").Concat(Fixture.Cases("conv1d.json")).Select(c => c.GetProperty("parameters")).ToList();
        Assert.Contains(all, p => Int(p, "stride") > 1);
        Assert.Contains(all, p => Int(p, "padding") > 0);
        Assert.Contains(all, p => Int(p, "dilation") > 1);
        Assert.Contains(all, p => Int(p, "groups") > 1);
        Assert.Contains(Fixture.Cases("conv2d.json"), c => c.GetProperty("name").GetString()!.StartsWith("depthwise"));
        Assert.Contains(Fixture.Cases("conv2d.json"), c => !c.TryGetProperty("bias", out _));
    }

    static int Int(JsonElement parameters, string name) => parameters.GetProperty(name).GetInt32();
}
