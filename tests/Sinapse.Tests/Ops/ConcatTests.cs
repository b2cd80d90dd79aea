using Sinapse.Autograd;
using Sinapse.Layers;
using Sinapse.Ops;
using Sinapse.Serialization;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class ConcatTests
{
    [Fact]
    public void ConcatJoinsAlongTheAxisAsTorchCat()
    {
        var a = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        var b = Tensor.FromArray([5f, 6f], 2, 1);
        var joined = F.Concat([a, b], axis: 1);
        Assert.Equal(new Shape(2, 3), joined.Shape);
        Assert.Equal([1f, 2f, 5f, 3f, 4f, 6f], joined.ToArray());
        var stacked = F.Concat([a, Tensor.FromArray([7f, 8f], 1, 2)], axis: -2);
        Assert.Equal([1f, 2f, 3f, 4f, 7f, 8f], stacked.ToArray());
    }

    [Fact]
    public void SplitUndoesConcat()
    {
        var x = Expect.Random(2, 7, 3, 2);
        var pieces = F.Split(x, [2, 4, 1], axis: 1);
        Assert.Equal([new Shape(2, 2, 3, 2), new Shape(2, 4, 3, 2), new Shape(2, 1, 3, 2)], pieces.Select(p => p.Shape));
        Assert.Equal(x.ToArray(), F.Concat(pieces, 1).ToArray());
    }

    [Fact]
    public void ConcatGradientAlongChannels() =>
        Expect.GradientsMatch(x => F.Square(F.Concat([x[0], x[1], x[0]], 1)), Expect.Random(2, 3, 2, 2), Expect.Random([2, 1, 2, 2], 12));

    [Fact]
    public void ConcatGradientAlongTheLastAxis() =>
        Expect.GradientsMatch(x => F.Multiply(F.Concat([x[0], x[1]], -1), F.Concat([x[1], x[0]], -1)), Expect.Random(3, 2), Expect.Random([3, 2], 13));

    [Fact]
    public void SplitGradientReachesEverySliceAndOnlyTheUsedOnes()
    {
        // The middle piece is unused: its slice gets a zero gradient, not the garbage of a pooled
        // buffer (the split input is an intermediate, whose gradient buffer is not cleared).
        Expect.GradientsMatch(x =>
        {
            var pieces = F.Split(F.Multiply(x[0], 3f), [2, 1, 2], axis: 1);
            return F.Add(F.Square(pieces[0]), F.Multiply(pieces[2], pieces[0]));
        }, Expect.Random(2, 5, 3));
    }

    [Fact]
    public void AnUnusedPieceGetsAZeroGradientInARecycledBuffer()
    {
        var x = Expect.Parameter([2, 5, 3], 7);
        using (TensorScope.Begin())
            for (int i = 0; i < 3; i++) Tensor.Empty(2, 5, 3).Span.Fill(float.NaN);   // back to the pool, full of NaN
        using var scope = TensorScope.Begin();
        var pieces = F.Split(F.Multiply(x, 3f), [2, 1, 2], axis: 1);
        Tape.Backward(F.Sum(pieces[0]));
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 5; c++)
                for (int i = 0; i < 3; i++) Assert.Equal(c < 2 ? 3f : 0f, x.Grad![n, c, i]);
    }

    [Fact]
    public void BadShapesAndAxesAreNamed()
    {
        var error = Assert.Throws<ArgumentException>(() => F.Concat([Tensor.Zeros(2, 3), Tensor.Zeros(3, 3)], 1));
        Assert.Contains("input 1 has shape [3, 3]", error.Message);
        Assert.Contains("axis 2", Assert.Throws<ArgumentException>(() => F.Concat([Tensor.Zeros(2, 3)], 2)).Message);
        Assert.Contains("add up to 5", Assert.Throws<ArgumentException>(() => F.Split(Tensor.Zeros(2, 5), [2, 2], 1)).Message);
        Assert.Throws<ArgumentException>(() => F.Concat([], 0));
    }

    [Fact]
    public void StackJoinsAlongANewDimension()
    {
        var a = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var b = Tensor.FromArray([7f, 8f, 9f, 10f, 11f, 12f], 2, 3);
        Assert.Equal(new Shape(2, 2, 3), F.Stack([a, b]).Shape);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f], F.Stack([a, b]).ToArray());
        Assert.Equal([1f, 2f, 3f, 7f, 8f, 9f, 4f, 5f, 6f, 10f, 11f, 12f], F.Stack([a, b], 1).ToArray());
        Assert.Equal([1f, 7f, 2f, 8f, 3f, 9f, 4f, 10f, 5f, 11f, 6f, 12f], F.Stack([a, b], -1).ToArray());
        Assert.Equal(new Shape(3), F.Stack([Tensor.Scalar(1f), Tensor.Scalar(2f), Tensor.Scalar(3f)]).Shape);
        Assert.Equal(new Shape(2, 0, 2), F.Stack([Tensor.Zeros(2, 0), Tensor.Zeros(2, 0)], 2).Shape);
    }

    [Fact]
    public void StackGradient() =>
        Expect.GradientsMatch(x => F.Square(F.Stack([x[0], x[1], x[0]], -2)), Expect.Random(2, 3), Expect.Random([2, 3], 12));

    [Fact]
    public void ChunkCutsPiecesOfTheCeilingSizeAsTorch()
    {
        Assert.Equal([2, 2, 1], F.Chunk(Tensor.Zeros(5, 2), 3).Select(p => p.Shape[0]));
        Assert.Equal([2, 2, 2], F.Chunk(Tensor.Zeros(6), 4).Select(p => p.Shape[0]));          // fewer pieces than asked
        Assert.Equal([1, 1], F.Chunk(Tensor.Zeros(3, 2), 5, -1).Select(p => p.Shape[1]));
        Assert.Equal([0, 0, 0], F.Chunk(Tensor.Zeros(2, 0), 3, 1).Select(p => p.Shape[1]));   // an empty dimension: that many empty pieces
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var pieces = x.Chunk(2, 1);
        Assert.Equal([1f, 2f, 4f, 5f], pieces[0].ToArray());
        Assert.Equal([3f, 6f], pieces[1].ToArray());
        Assert.True(F.Chunk(x, 2)[1].SharesStorageWith(x));                                 // along the first dimension: views
    }

    [Fact]
    public void ChunkGradientReachesEveryPiece() =>
        Expect.GradientsMatch(x =>
        {
            var pieces = F.Chunk(x[0], 3, 1);
            return F.Add(F.Multiply(pieces[0], pieces[1]), F.Square(pieces[0]));   // the last piece unused: a zero gradient
        }, Expect.Random(2, 7));

    [Fact]
    public void BadStacksAndChunksAreNamed()
    {
        var error = Assert.Throws<ArgumentException>(() => F.Stack([Tensor.Zeros(2, 3), Tensor.Zeros(2, 3), Tensor.Zeros(3, 2)]));
        Assert.Contains("input 2 has shape [3, 2], input 0 has [2, 3]", error.Message);
        Assert.Contains("dim 3 is outside [-3, 2]", Assert.Throws<ArgumentException>(() => F.Stack([Tensor.Zeros(2, 3)], 3)).Message);
        Assert.Throws<ArgumentException>(() => F.Stack([]));
        Assert.Contains("at least 1, got 0", Assert.Throws<ArgumentException>(() => F.Chunk(Tensor.Zeros(4), 0)).Message);
        Assert.Contains("Chunk: axis 1", Assert.Throws<ArgumentException>(() => F.Chunk(Tensor.Zeros(4), 2, 1)).Message);
    }

    /// <summary>The guide's example of a network written as code (docs/guide.md, "Layers and models").</summary>
    private sealed class DenseBlockModule : Module
    {
        private readonly Conv2d first, second;

        public DenseBlockModule(int channels, int growth, Rng rng)
        {
            first = RegisterModule("first", new Conv2d(channels, growth, 3, padding: 1, rng: rng));
            second = RegisterModule("second", new Conv2d(channels + growth, growth, 3, padding: 1, rng: rng));
        }

        protected override Tensor Forward(Tensor x)
        {
            var a = F.Relu(first.Call(x));
            var b = F.Relu(second.Call(F.Concat([x, a], axis: 1)));
            return F.Concat([x, a, b], axis: 1);
        }

        public override Shape OutputShape(Shape input) => new(input[0], input[1] + 2 * first.OutChannels, input[2], input[3]);
    }

    [Fact]
    public void TheGuidesDenseBlockRunsAndBackpropagates()
    {
        var block = new DenseBlockModule(3, 4, new Rng(8));
        var input = Expect.Random(2, 3, 4, 4);
        Assert.Equal(new Shape(2, 11, 4, 4), block.OutputShape(input.Shape));
        Assert.Equal(["first.weight", "first.bias", "second.weight", "second.bias"], block.NamedParameters().Select(p => p.Name));
        Expect.GradientsMatch(x => block.Call(x[0]), input);
    }

    /// <summary>A DenseNet-style block built in code: each convolution sees the input and every earlier output, joined on the channels.</summary>
    public static Graph DenseBlock(Rng rng) => new("x", "y", [],
    [
        new GraphStep(GraphOperation.Layer, ["x"], "a", new Conv2d(3, 4, 3, padding: 1, rng: rng)),
        new GraphStep(GraphOperation.Concat, ["x", "a"], "xa"),
        new GraphStep(GraphOperation.Layer, ["xa"], "b", new Conv2d(7, 4, 3, padding: 1, rng: rng)),
        new GraphStep(GraphOperation.Concat, ["x", "a", "b"], "xab"),
        new GraphStep(GraphOperation.Layer, ["xab"], "pooled", new GlobalAvgPool2d()),
        new GraphStep(GraphOperation.Layer, ["pooled"], "flat", new Flatten()),
        new GraphStep(GraphOperation.Layer, ["flat"], "y", new Linear(11, 2, rng: rng)),
    ]);

    [Fact]
    public void AGraphWithConcatenationsTrainsSavesAndReloads()
    {
        var graph = DenseBlock(new Rng(3));
        var input = Expect.Random(2, 3, 5, 5);
        Assert.Equal(new Shape(2, 2), graph.OutputShape(input.Shape));
        Expect.GradientsMatch(x => graph.Call(x[0]), input);
        var rebuilt = ModelSpec.FromJson(ModelSpec.ToJson(graph));
        foreach (var ((_, saved), (_, loaded)) in graph.NamedParameters().Zip(rebuilt.NamedParameters())) saved.Span.CopyTo(loaded.Span);
        Assert.Equal(graph.Call(input).ToArray(), rebuilt.Call(input).ToArray());
    }
}
