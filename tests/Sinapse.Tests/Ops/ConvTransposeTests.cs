using System.Text.Json;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>
/// F.ConvTranspose2d and F.UpsampleNearest2d (Ops/ConvTranspose.cs): finite differences, and
/// PyTorch 1.13 references from tools/make_autoencoder_fixtures.py.
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

    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var file in new[] { "conv_transpose2d.json", "upsample.json" })
            foreach (var c in Fixture.Cases(file)) cases.Add(file, c.GetProperty("name").GetString()!);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string file, string name)
    {
        var c = Fixture.Case(file, name);
        var p = c.GetProperty("parameters");
        int Int(string key) => p.GetProperty(key).GetInt32();
        var x = Tensor.FromArray(c.Floats("input"), c.Ints("input_shape"));
        x.RequiresGrad = true;
        Tensor y;
        Tensor? w = null, b = null;
        if (file == "upsample.json") y = F.UpsampleNearest2d(x, Int("scale"));
        else
        {
            w = Tensor.FromArray(c.Floats("weight"), c.Ints("weight_shape"));
            b = c.TryGetProperty("bias", out _) ? Tensor.FromArray(c.Floats("bias")) : null;
            w.RequiresGrad = true;
            if (b != null) b.RequiresGrad = true;
            y = F.ConvTranspose2d(x, w, b, Int("stride"), Int("padding"), Int("output_padding"), Int("dilation"), Int("groups"));
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
    public void BadArgumentsNameTheShapes()
    {
        var error = Assert.Throws<ArgumentException>(() => F.ConvTranspose2d(Tensor.Zeros(1, 3, 4, 4), Tensor.Zeros(2, 4, 2, 2)));
        Assert.Contains("has 3 channels but the weight", error.Message);
        Assert.Contains("output padding", Assert.Throws<ArgumentException>(() => F.ConvTranspose2d(Tensor.Zeros(1, 2, 4, 4), Tensor.Zeros(2, 4, 2, 2), stride: 2, outputPadding: 2)).Message);
        Assert.Throws<ArgumentException>(() => F.UpsampleNearest2d(Tensor.Zeros(2, 3), 2));
    }
}
