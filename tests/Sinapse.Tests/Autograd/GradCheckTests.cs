using Sinapse.Autograd;
using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Autograd;

public class GradCheckTests
{
    /// <summary>x², with a backward pass that returns NaN.</summary>
    sealed class NaNGradient : Function
    {
        protected override Tensor Forward(FunctionContext context, Tensor[] inputs) => F.Square(inputs[0]);
        protected override Tensor?[] Backward(FunctionContext context, Tensor gradOutput) => [Tensor.FullLike(gradOutput, float.NaN)];
    }

    [Fact]
    public void FailsANaNGradient()
    {
        var result = GradCheck.Check(x => new NaNGradient().Apply(x[0]), [Expect.Random([2, 3], 1)]);
        Assert.False(result.Passed);
        Assert.Contains("NaN", result.ToString());
    }

    [Fact]
    public void PassesACorrectGradient()
    {
        var result = GradCheck.Check(x => F.Multiply(x[0], x[1]), [Expect.Random([3, 4], 1), Expect.Random([3, 4], 2)]);
        Assert.True(result.Passed, result.ToString());
        Assert.StartsWith("passed", result.ToString());
    }

    [Fact]
    public void CatchesAWrongGradient()
    {
        // y = x² with a backward that forgets the factor 2.
        static Tensor Wrong(Tensor[] x)
        {
            var input = x[0];
            var y = Tensor.Empty(input.Shape);
            for (int i = 0; i < y.Length; i++) y.Span[i] = input.Span[i] * input.Span[i];
            Tape.Record("WrongSquare", y, dy =>
            {
                var local = new float[input.Length];
                for (int i = 0; i < local.Length; i++) local[i] = dy.Span[i] * input.Span[i];
                Tape.Accumulate(input, local);
            }, input);
            return y;
        }
        var result = GradCheck.Check(Wrong, [Expect.Random([5], 3, 0.5f, 2f)]);
        Assert.False(result.Passed);
        Assert.Contains("input 0 element", result.ToString());
    }
}
