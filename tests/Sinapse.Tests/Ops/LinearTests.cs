using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

public class LinearTests
{
    [Fact]
    public void GradientWithBias() =>
        Expect.GradientsMatch(x => F.Linear(x[0], x[1], x[2]), Expect.Random([5, 7], 1), Expect.Random([3, 7], 2), Expect.Random([3], 3));

    [Fact]
    public void GradientWithoutBias() =>
        Expect.GradientsMatch(x => F.Linear(x[0], x[1]), Expect.Random([5, 7], 1), Expect.Random([3, 7], 2));

    [Fact]
    public void GradientWith3DInput() =>
        Expect.GradientsMatch(x => F.Linear(x[0], x[1], x[2]), Expect.Random([2, 3, 7], 4), Expect.Random([5, 7], 5), Expect.Random([5], 6));

    [Fact]
    public void GradientWithASingleRowAndASingleOutput()
    {
        // The GEMM's vector paths (m = 1, n = 1) behind the same op.
        Expect.GradientsMatch(x => F.Linear(x[0], x[1], x[2]), Expect.Random([1, 9], 7), Expect.Random([4, 9], 8), Expect.Random([4], 9));
        Expect.GradientsMatch(x => F.Linear(x[0], x[1], x[2]), Expect.Random([6, 9], 7), Expect.Random([1, 9], 8), Expect.Random([1], 9));
    }

    [Fact]
    public void GradientsAccumulateWhenInputAndWeightAreUsedTwice() =>
        Expect.GradientsMatch(x => F.Add(F.Linear(x[0], x[1], x[2]), F.Linear(F.Multiply(x[0], 0.5f), x[1], x[2])),
            Expect.Random([5, 7], 1), Expect.Random([3, 7], 2), Expect.Random([3], 3));

    [Fact]
    public void MatchesPyTorch()
    {
        int count = 0;
        foreach (var c in Fixture.Cases("linear.json"))
        {
            string name = c.GetProperty("name").GetString()!;
            var inputShape = c.Ints("input_shape");
            var x = Tensor.FromArray(c.Floats("input"), inputShape);
            var w = Tensor.FromArray(c.Floats("weight"), 4, inputShape[^1]);
            var b = c.TryGetProperty("bias", out _) ? Tensor.FromArray(c.Floats("bias")) : null;
            foreach (var t in new[] { x, w, b }) if (t != null) t.RequiresGrad = true;
            var y = F.Linear(x, w, b);
            Expect.Close(c.Floats("output"), y.Span, 1e-5, name + " output");
            y.Backward(Tensor.FromArray(c.Floats("upstream"), y.Shape.ToArray()));
            Expect.Close(c.Floats("grad_input"), x.Grad!.Span, 1e-5, name + " dx");
            Expect.Close(c.Floats("grad_weight"), w.Grad!.Span, 1e-5, name + " dW");
            if (b != null) Expect.Close(c.Floats("grad_bias"), b.Grad!.Span, 1e-5, name + " db");
            count++;
        }
        Assert.Equal(3, count);
    }

    [Fact]
    public void ComputesXTimesWTransposePlusB()
    {
        var x = Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 4 } });
        var w = Tensor.FromArray(new float[,] { { 1, 0 }, { 0, 1 }, { 1, 1 } });
        var b = Tensor.FromArray([10f, 20f, 30f]);
        Assert.Equal([11f, 22f, 33f, 13f, 24f, 37f], F.Linear(x, w, b).ToArray());
        Assert.Equal([1f, 2f, 3f, 3f, 4f, 7f], F.Linear(x, w).ToArray());
    }

    [Fact]
    public void ShapeErrorsNameBothShapes()
    {
        var error = Assert.Throws<ArgumentException>(() => F.Linear(Tensor.Zeros(8, 5), Tensor.Zeros(3, 4)));
        Assert.Contains("[8, 5]", error.Message);
        Assert.Contains("[3, 4]", error.Message);
        Assert.Throws<ArgumentException>(() => F.Linear(Tensor.Zeros(8, 4), Tensor.Zeros(3, 4), Tensor.Zeros(4)));
        Assert.Throws<ArgumentException>(() => F.Linear(Tensor.Zeros(8, 4), Tensor.Zeros(12)));
    }
}
