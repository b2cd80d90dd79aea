using Sinapse.Layers;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Layers;

public class GraphTests
{
    /// <summary>
    /// y = (Linear(x) + shift) ⊙ scale: x [N, 5] gives [N, 3]; shift and scale are [3], each made by
    /// a trainable layer from a constant, so the Add and Multiply steps broadcast them over the batch.
    /// </summary>
    static (Graph Graph, Linear Body, Linear Shift, Linear Scale) Broadcasting(bool multiply)
    {
        var rng = new Rng(141);
        var body = new Linear(5, 3, rng: rng);
        var shift = new Linear(2, 3, biasInit: Sinapse.Init.Initializer.Uniform(-1f, 1f), rng: rng);
        var scale = new Linear(2, 3, rng: rng);
        List<GraphStep> steps =
        [
            new(GraphOperation.Layer, ["x"], "h", body),
            new(GraphOperation.Layer, ["code"], "shift", shift),
            new(GraphOperation.Add, ["h", "shift"], multiply ? "shifted" : "y"),
        ];
        if (multiply)
        {
            steps.Add(new(GraphOperation.Layer, ["code"], "scale", scale));
            steps.Add(new(GraphOperation.Multiply, ["shifted", "scale"], "y"));
        }
        return (new Graph("x", "y", [("code", Tensor.FromArray([0.5f, -1.5f]))], steps), body, shift, scale);
    }

    [Fact]
    public void ABroadcastTrainableOperandOfAnAddGetsTheBatchSumOfTheGradient()
    {
        var (graph, _, shift, _) = Broadcasting(multiply: false);
        var x = Expect.Random(4, 5);
        Assert.Equal(new Shape(4, 3), graph.OutputShape(x.Shape));
        var y = graph.Call(x);
        Assert.Equal(new Shape(4, 3), y.Shape);
        var upstream = Expect.Random([4, 3], 142);
        y.Backward(upstream);
        // d shift = Σ_n upstream[n, :], and the layer that made it passes that on: db = d shift, dW = d shift ⊗ code.
        var expected = new float[3];
        for (int n = 0; n < 4; n++)
            for (int c = 0; c < 3; c++) expected[c] += upstream[n, c];
        Expect.Close(expected, shift.Bias!.Grad!.Span, 1e-6, "shift bias");
        Expect.Close([expected[0] * 0.5f, expected[0] * -1.5f, expected[1] * 0.5f, expected[1] * -1.5f, expected[2] * 0.5f, expected[2] * -1.5f],
            shift.Weight.Grad!.Span, 1e-6, "shift weight");
    }

    [Fact]
    public void EveryParameterBehindABroadcastStepMatchesFiniteDifferences()
    {
        var (graph, body, shift, scale) = Broadcasting(multiply: true);
        var x = Expect.Random(4, 5);
        // The parameters are the checked inputs: the graph reads them in place as they are perturbed.
        Expect.GradientsMatch(_ => graph.Call(x), body.Weight, body.Bias!, shift.Weight, shift.Bias!, scale.Weight, scale.Bias!);
    }
}
