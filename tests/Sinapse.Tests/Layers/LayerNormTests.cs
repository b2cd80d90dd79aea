using System.Text.Json;
using System.Text.Json.Nodes;
using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class LayerNormTests
{
    static Tensor Load(JsonElement c, string property, int[] shape) => Tensor.FromArray(c.Floats(property), shape);

    /// <summary>
    /// Expect.Close, except that a reference which is zero up to float64 rounding (normalising over one
    /// element gives zero outputs and gradients, which PyTorch's float64 arithmetic leaves at 1e-14)
    /// must be matched to 1e-6 absolute instead of relative to its own rounding noise.
    /// </summary>
    static void CloseOrZero(float[] expected, float[] actual, string what)
    {
        if (expected.Max(MathF.Abs) < 1e-9f) Assert.All(actual, v => Assert.True(MathF.Abs(v) < 1e-6f, $"{what}: expected 0, got {v}"));
        else Expect.Close(expected, actual, 1e-5, what);
    }

    [Fact]
    public void MatchesPyTorchForwardAndBackward()
    {
        int cases = 0;
        foreach (var c in Fixture.Load("layernorm_embedding.json").GetProperty("layer_norm").EnumerateArray())
        {
            var shape = c.Ints("shape");
            var normalized = c.Ints("normalized_shape");
            var x = Load(c, "input", shape);
            x.RequiresGrad = true;
            bool affine = c.TryGetProperty("weight", out _);
            var weight = affine ? Load(c, "weight", normalized) : null;
            var bias = affine ? Load(c, "bias", normalized) : null;
            if (affine) { weight!.RequiresGrad = true; bias!.RequiresGrad = true; }
            var y = F.LayerNorm(x, normalized, weight, bias, c.Float("eps"));
            CloseOrZero(c.Floats("output"), y.ToArray(), "output");
            y.Backward(Load(c, "upstream", shape));
            CloseOrZero(c.Floats("grad_input"), x.Grad!.ToArray(), "grad_input");
            if (affine)
            {
                CloseOrZero(c.Floats("grad_weight"), weight!.Grad!.ToArray(), "grad_weight");
                CloseOrZero(c.Floats("grad_bias"), bias!.Grad!.ToArray(), "grad_bias");
            }
            cases++;
        }
        Assert.Equal(20, cases);
    }

    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        Expect.GradientsMatch(x => F.LayerNorm(x[0], [5], x[1], x[2]), Expect.Random([3, 5], seed: 3), Expect.Random([5], seed: 4), Expect.Random([5], seed: 5));
        Expect.GradientsMatch(x => F.LayerNorm(x[0], [2, 3]), Expect.Random([2, 2, 3], seed: 6));
    }

    [Fact]
    public void TheLayerStartsAsPlainNormalisationAndSavesItsConfig()
    {
        var layer = new LayerNorm([2, 3], eps: 1e-3f);
        Assert.Equal(["weight", "bias"], layer.NamedParameters().Select(p => p.Name));
        Assert.All(layer.Weight!.ToArray(), v => Assert.Equal(1f, v));
        var x = Expect.Random([4, 2, 3], seed: 8);
        Assert.Equal(F.LayerNorm(x, [2, 3], eps: 1e-3f).ToArray(), layer.Call(x).ToArray());
        var rebuilt = (LayerNorm)ModelSpec.FromJson(JsonNode.Parse(ModelSpec.ToJson(layer).ToJsonString()));
        Assert.Equal([2, 3], rebuilt.NormalizedShape);
        Assert.Equal(1e-3f, rebuilt.Eps);
        Assert.True(rebuilt.ElementwiseAffine);
        Assert.Empty(new LayerNorm(4, elementwiseAffine: false).Parameters());
    }

    [Fact]
    public void ShapesThatDoNotEndInTheNormalizedShapeAreRefusedWithBoth()
    {
        var error = Assert.Throws<ArgumentException>(() => new LayerNorm(5).Call(Tensor.Zeros(2, 4)));
        Assert.Contains("[5]", error.Message);
        Assert.Contains("[2, 4]", error.Message);
        Assert.Throws<ArgumentException>(() => new LayerNorm(5).OutputShape(new Shape(2, 4)));
        Assert.Throws<ArgumentException>(() => F.LayerNorm(Tensor.Zeros(2, 4), [4], Tensor.Zeros(3)));
        Assert.Throws<ArgumentException>(() => new LayerNorm([]));
    }
}
