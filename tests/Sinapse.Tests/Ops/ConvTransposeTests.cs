using System.Text.Json;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>
/// F.ConvTranspose2d and F.UpsampleNearest2d (Ops/ConvTranspose.cs): finite differences, and
/// PyTorch 1.13 references from tools/make_autoencoder_fixtures.py (named cases, a sweep of every
/// stride, dilation and padding 1..3 with every output padding PyTorch allows, and what it refuses).
/// </summary>
public class ConvTransposeTests
{
    static Tensor R(ulong seed, params int[] shape) => Expect.Random(shape, seed, -1f, 1f);

    [Theory]
    [InlineData(2, 3, 2, 3, 3, 2, 2, 0, 0, 1, 1)]
    [InlineData(1, 2, 3, 4, 4, 3, 1, 1, 0, 1, 1)]
    [InlineData(2, 2, 2, 3, 4, 3, 2, 1, 1, 1, 1)]
    [InlineData(1, 4, 2, 3, 3, 3, 2, 0, 0, 2, 2)]
    [InlineData(1, 2, 2, 3, 3, 3, 1, 0, 0, 2, 1)]
    public void PassesGradCheck(int batch, int cin, int cout, int h, int w, int k, int stride, int padding, int outputPadding, int groups, int dilation) =>
        Expect.GradientsMatch(t => F.ConvTranspose2d(t[0], t[1], t[2], stride, padding, outputPadding, dilation, groups),
            R(1, batch, cin, h, w), R(2, cin, cout / groups, k, k), R(3, cout));

    [Fact]
    public void UpsamplePassesGradCheck() =>
        Expect.GradientsMatch(t => F.UpsampleNearest2d(t[0], 2), R(4, 2, 3, 3, 2));

    /// <summary>Output padding at or above the stride (allowed when the dilation is larger), per-axis values, groups, and no input reaching the output.</summary>
    [Theory]
    [InlineData(2, 3, 2, 4, 5, 3, 3, 1, 1, 0, 0, 1, 1, 2, 2, 1)]
    [InlineData(1, 2, 2, 3, 3, 3, 3, 2, 2, 3, 3, 2, 2, 3, 3, 1)]
    [InlineData(1, 2, 3, 2, 3, 2, 2, 1, 1, 0, 0, 2, 2, 3, 3, 1)]
    [InlineData(2, 4, 2, 3, 2, 3, 2, 1, 2, 1, 0, 1, 1, 2, 1, 2)]
    [InlineData(1, 3, 3, 2, 3, 2, 3, 3, 1, 1, 2, 2, 0, 3, 2, 3)]
    [InlineData(1, 2, 2, 1, 1, 1, 1, 1, 1, 2, 2, 4, 4, 5, 5, 1)]
    [InlineData(1, 2, 2, 1, 3, 1, 2, 1, 2, 2, 0, 4, 1, 5, 1, 1)]
    public void PassesGradCheckPerAxis(int batch, int cin, int cout, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int oph, int opw, int dh, int dw, int groups) =>
        Expect.GradientsMatch(t => F.ConvTranspose2d(t[0], t[1], t[2], (sh, sw), (ph, pw), (oph, opw), (dh, dw), groups),
            R(5, batch, cin, h, w), R(6, cin, cout / groups, kh, kw), R(7, cout));

    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var file in new[] { "conv_transpose2d.json", "upsample.json" })
            foreach (var c in Fixture.Cases(file)) cases.Add(file, c.GetProperty("name").GetString()!);
        return cases;
    }

    /// <summary>A fixture's per-axis hyper-parameter: one number for both axes or a [height, width] pair.</summary>
    static (int Height, int Width) Pair(JsonElement parameters, string key)
    {
        var value = parameters.GetProperty(key);
        return value.ValueKind == JsonValueKind.Array ? (value[0].GetInt32(), value[1].GetInt32()) : (value.GetInt32(), value.GetInt32());
    }

    /// <summary>The fixture's call: the int overload when every value is the same on both axes, as the fixture writes it, else the per-axis one.</summary>
    static Tensor Call(JsonElement parameters, Tensor x, Tensor w, Tensor? b)
    {
        string[] keys = ["stride", "padding", "output_padding", "dilation"];
        var (stride, padding, outputPadding, dilation) = (Pair(parameters, keys[0]), Pair(parameters, keys[1]), Pair(parameters, keys[2]), Pair(parameters, keys[3]));
        int groups = parameters.GetProperty("groups").GetInt32();
        return keys.All(k => parameters.GetProperty(k).ValueKind == JsonValueKind.Number)
            ? F.ConvTranspose2d(x, w, b, stride.Height, padding.Height, outputPadding.Height, dilation.Height, groups)
            : F.ConvTranspose2d(x, w, b, stride, padding, outputPadding, dilation, groups);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string file, string name)
    {
        var c = Fixture.Case(file, name);
        var x = Tensor.FromArray(c.Floats("input"), c.Ints("input_shape"));
        x.RequiresGrad = true;
        Tensor y;
        Tensor? w = null, b = null;
        if (file == "upsample.json") y = F.UpsampleNearest2d(x, c.GetProperty("parameters").GetProperty("scale").GetInt32());
        else
        {
            w = Tensor.FromArray(c.Floats("weight"), c.Ints("weight_shape"));
            b = c.TryGetProperty("bias", out _) ? Tensor.FromArray(c.Floats("bias")) : null;
            w.RequiresGrad = true;
            if (b != null) b.RequiresGrad = true;
            y = Call(c.GetProperty("parameters"), x, w, b);
        }
        string what = $"{file} '{name}'";
        Assert.Equal(new Shape(c.Ints("output_shape")), y.Shape);
        Expect.Close(c.Floats("output"), y.Span, 1e-4, what + " output");
        y.Backward(Tensor.FromArray(c.Floats("upstream"), y.Shape.ToArray()));
        Expect.Close(c.Floats("grad_input"), x.Grad!.Span, 1e-4, what + " grad_input");
        if (w != null) Expect.Close(c.Floats("grad_weight"), w.Grad!.Span, 1e-4, what + " grad_weight");
        if (b != null) Expect.Close(c.Floats("grad_bias"), b.Grad!.Span, 1e-4, what + " grad_bias");
    }

    [Fact]
    public void TheSweepCoversEveryOutputPaddingPyTorchAllows()
    {
        var parameters = Fixture.Cases("conv_transpose2d.json").Select(c => c.GetProperty("parameters")).ToList();
        var uniform = parameters.Where(p => p.GetProperty("stride").ValueKind == JsonValueKind.Number && p.GetProperty("output_padding").ValueKind == JsonValueKind.Number
            && p.GetProperty("dilation").ValueKind == JsonValueKind.Number && p.GetProperty("padding").ValueKind == JsonValueKind.Number).ToList();
        var axes = parameters.SelectMany(p => new[] { 0, 1 }.Select(axis =>
            (Stride: Axis(p, "stride", axis), Dilation: Axis(p, "dilation", axis), OutputPadding: Axis(p, "output_padding", axis)))).ToHashSet();
        for (int stride = 1; stride <= 3; stride++)
            for (int dilation = 1; dilation <= 3; dilation++)
                for (int outputPadding = 0; outputPadding < Math.Max(stride, dilation); outputPadding++)
                {
                    Assert.Contains((stride, dilation, outputPadding), axes);
                    for (int padding = 0; padding <= 3; padding++)
                        Assert.Contains(uniform, p => Axis(p, "stride", 0) == stride && Axis(p, "dilation", 0) == dilation
                            && Axis(p, "output_padding", 0) == outputPadding && Axis(p, "padding", 0) == padding);
                }
        foreach (var key in new[] { "stride", "padding", "output_padding", "dilation" })
            Assert.Contains(parameters, p => Axis(p, key, 0) != Axis(p, key, 1));
        Assert.Contains(parameters, p => Axis(p, "output_padding", 0) >= Axis(p, "stride", 0) && Axis(p, "output_padding", 0) > Axis(p, "padding", 0));
        Assert.Contains(parameters, p => p.GetProperty("groups").GetInt32() > 1);
        Assert.Contains(Fixture.Cases("conv_transpose2d.json"), c => !c.TryGetProperty("bias", out _));
        Assert.Contains(Fixture.Cases("conv_transpose2d.json"), c => c.Ints("input_shape")[0] == 0);

        static int Axis(JsonElement p, string key, int axis) => axis == 0 ? Pair(p, key).Height : Pair(p, key).Width;
    }

    public static TheoryData<string> Rejected() => [.. Fixture.Load("conv_transpose2d.json").GetProperty("rejected").EnumerateArray().Select(r => r.GetProperty("name").GetString()!)];

    /// <summary>What PyTorch refuses fails with one line naming the op, before any kernel runs.</summary>
    [Theory]
    [MemberData(nameof(Rejected))]
    public void RefusesWhatPyTorchRefuses(string name)
    {
        var c = Fixture.Load("conv_transpose2d.json").GetProperty("rejected").EnumerateArray().Single(r => r.GetProperty("name").GetString() == name);
        var x = Tensor.Zeros(new Shape(c.Ints("input_shape")));
        var w = Tensor.Zeros(new Shape(c.Ints("weight_shape")));
        var b = c.GetProperty("bias_shape").ValueKind == JsonValueKind.Array ? Tensor.Zeros(new Shape(c.Ints("bias_shape"))) : null;
        var error = Assert.Throws<ArgumentException>(() => Call(c.GetProperty("parameters"), x, w, b));
        Assert.StartsWith("ConvTranspose2d: ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void BadArgumentsNameTheShapes()
    {
        var error = Assert.Throws<ArgumentException>(() => F.ConvTranspose2d(Tensor.Zeros(1, 3, 4, 4), Tensor.Zeros(2, 4, 2, 2)));
        Assert.Contains("has 3 channels but the weight", error.Message);
        Assert.Contains("output padding", Assert.Throws<ArgumentException>(() => F.ConvTranspose2d(Tensor.Zeros(1, 2, 4, 4), Tensor.Zeros(2, 4, 2, 2), stride: 2, outputPadding: 2)).Message);
        Assert.Throws<ArgumentException>(() => F.UpsampleNearest2d(Tensor.Zeros(2, 3), 2));
    }
}
