using System.Text.Json.Nodes;
using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class EmbeddingTests
{
    [Fact]
    public void MatchesPyTorchLookupAndWeightGradient()
    {
        int cases = 0;
        foreach (var c in Fixture.Load("layernorm_embedding.json").GetProperty("embedding").EnumerateArray())
        {
            int rows = c.GetProperty("rows").GetInt32(), dim = c.GetProperty("dim").GetInt32();
            var indexShape = c.Ints("index_shape");
            var indices = Tensor.FromArray(c.Ints("indices").Select(i => (float)i).ToArray(), indexShape);
            var weight = Tensor.FromArray(c.Floats("weight"), rows, dim);
            weight.RequiresGrad = true;
            int? padding = c.GetProperty("padding_idx").ValueKind == System.Text.Json.JsonValueKind.Null ? null : c.GetProperty("padding_idx").GetInt32();
            var y = F.Embedding(indices, weight, padding);
            Assert.Equal(new Shape([.. indexShape, dim]), y.Shape);
            Expect.Close(c.Floats("output"), y.ToArray(), 1e-6, "output");
            y.Backward(Tensor.FromArray(c.Floats("upstream"), y.Shape.ToArray()));
            Expect.Close(c.Floats("grad_weight"), weight.Grad!.ToArray(), 1e-5, "grad_weight");
            cases++;
        }
        Assert.Equal(9, cases);
    }

    [Fact]
    public void GradientMatchesFiniteDifferences()
    {
        var indices = Tensor.FromArray([0f, 2f, 2f, 1f], 2, 2);
        Expect.GradientsMatch(w => F.Embedding(indices, w[0]), Expect.Random(3, 4));
        // Used twice, the second lookup accumulates onto the first's gradient. (The padding row is left out
        // here: PyTorch gives it no gradient although the output depends on it, so finite differences disagree by design.)
        Expect.GradientsMatch(w => F.Add(F.Embedding(indices, w[0]), F.Embedding(indices, w[0])), Expect.Random(3, 4));
    }

    [Fact]
    public void TheLayerZeroesItsPaddingRowAndSavesItsConfig()
    {
        var layer = new Embedding(6, 3, paddingIndex: -1, rng: new Rng(2));
        Assert.Equal(5, layer.PaddingIndex);
        Assert.All(layer.Weight.ToArray()[15..], v => Assert.Equal(0f, v));
        Assert.Equal(new Shape(2, 4, 3), layer.OutputShape(new Shape(2, 4)));
        var rebuilt = (Embedding)ModelSpec.FromJson(JsonNode.Parse(ModelSpec.ToJson(layer).ToJsonString()));
        Assert.Equal((6, 3, (int?)5), (rebuilt.NumEmbeddings, rebuilt.EmbeddingDim, rebuilt.PaddingIndex));
    }

    [Fact]
    public void IndicesOutsideTheTableOrNotWholeAreRefusedWithTheirPosition()
    {
        var weight = Tensor.Zeros(4, 2);
        var error = Assert.Throws<ArgumentException>(() => F.Embedding(Tensor.FromArray([1f, 4f]), weight));
        Assert.Contains("index[1] = 4", error.Message);
        Assert.Contains("[0, 4)", error.Message);
        Assert.Throws<ArgumentException>(() => F.Embedding(Tensor.FromArray([1f]), weight, paddingIndex: 4));
        Assert.Throws<ArgumentException>(() => F.Embedding(Tensor.FromArray([1f]), weight, paddingIndex: -5));
        Assert.Throws<ArgumentException>(() => F.Embedding(Tensor.FromArray([1.5f]), weight));
        Assert.Throws<ArgumentException>(() => F.Embedding(Tensor.FromArray([-1f]), weight));
        Assert.Throws<ArgumentException>(() => new Embedding(4, 2, paddingIndex: 4));
    }
}
