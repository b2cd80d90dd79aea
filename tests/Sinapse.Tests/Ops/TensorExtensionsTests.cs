using Sinapse.Ops;
using Sinapse.Tensors;
using Sinapse.Tests.Support;

namespace Sinapse.Tests.Ops;

/// <summary>The C# operators and tensor methods: each is its F function, bit for bit, gradients included.</summary>
public class TensorExtensionsTests
{
    static Tensor A => Expect.Random([3, 4], 101);
    static Tensor B => Expect.Random([4], 102);

    [Fact]
    public void OperatorsAreTheFunctions()
    {
        var a = A;
        var b = B;
        Assert.Equal(F.Add(a, b).ToArray(), (a + b).ToArray());
        Assert.Equal(F.Subtract(a, b).ToArray(), (a - b).ToArray());
        Assert.Equal(F.Multiply(a, b).ToArray(), (a * b).ToArray());
        Assert.Equal(F.Divide(a, b).ToArray(), (a / b).ToArray());
        Assert.Equal(F.Negate(a).ToArray(), (-a).ToArray());
        Assert.Equal(new Shape(3, 4), (b - a).Shape);
    }

    [Fact]
    public void AScalarWorksOnEitherSide()
    {
        var x = Tensor.FromArray([1f, -2f, 4f]);
        Assert.Equal([3.5f, 0.5f, 6.5f], (x + 2.5f).ToArray());
        Assert.Equal([3.5f, 0.5f, 6.5f], (2.5f + x).ToArray());
        Assert.Equal([-1.5f, -4.5f, 1.5f], (x - 2.5f).ToArray());
        Assert.Equal([1.5f, 4.5f, -1.5f], (2.5f - x).ToArray());
        Assert.Equal([2f, -4f, 8f], (x * 2f).ToArray());
        Assert.Equal([2f, -4f, 8f], (2f * x).ToArray());
        Assert.Equal([0.5f, -1f, 2f], (x / 2f).ToArray());
        Assert.Equal([2f, -1f, 0.5f], (2f / x).ToArray());
        Assert.Equal([-1f, 2f, -4f], (-x).ToArray());
        // A scalar keeps the tensor's shape, a 0-d tensor included.
        Assert.Equal(new Shape(), (Tensor.Scalar(3f) * 2f).Shape);
        Assert.Equal(new Shape(3, 4), (1f - A).Shape);
    }

    [Fact]
    public void OperatorGradientsMatchFiniteDifferences()
    {
        Expect.GradientsMatch(x => 2f - x[0], A);
        Expect.GradientsMatch(x => 2f / x[0], Expect.AwayFromKinks([3, 4], -2f, 2f, [0f], 0.5f, seed: 103));
        Expect.GradientsMatch(x => x[0] / 3f + 1.5f * x[0], A);
        Expect.GradientsMatch(x => -x[0], A);
        // An expression over broadcast operands, with x used three times.
        Expect.GradientsMatch(x => (x[0] * x[1] - 2f) / (1f + x[0].Square()) - x[1], A, B);
    }

    [Fact]
    public void MethodsAreTheFunctions()
    {
        var a = A;
        var b = B;
        var positive = Expect.Random([3, 4], 104, 0.5f, 2f);
        var pairs = new (Tensor Method, Tensor Function)[]
        {
            (a.Add(b), F.Add(a, b)), (a.Sub(b), F.Subtract(a, b)), (a.Mul(b), F.Multiply(a, b)), (a.Div(b), F.Divide(a, b)),
            (a.Add(2f), a + 2f), (a.Sub(2f), a - 2f), (a.Mul(2f), a * 2f), (a.Div(2f), a / 2f),
            (positive.Pow(b), F.Pow(positive, b)), (positive.Pow(1.5f), F.Pow(positive, 1.5f)),
            (a.Maximum(b), F.Maximum(a, b)), (a.Minimum(b), F.Minimum(a, b)), (a.Clamp(-0.5f, 0.5f), F.Clamp(a, -0.5f, 0.5f)),
            (a.Gt(b), F.Gt(a, b)), (a.Ge(0f), F.Ge(a, Tensor.Scalar(0f))), (a.Lt(b), F.Lt(a, b)), (a.Le(0f), F.Le(a, Tensor.Scalar(0f))),
            (a.Eq(a), F.Eq(a, a)), (a.Ne(b), F.Ne(a, b)), (a.MaskedFill(a.Gt(0f), 0f), F.MaskedFill(a, F.Gt(a, Tensor.Scalar(0f)), 0f)),
            (b.BroadcastTo(2, 3, 4), F.BroadcastTo(b, 2, 3, 4)), (b.Expand(3, -1), F.Expand(b, 3, -1)),
            (a.Exp(), F.Exp(a)), (positive.Log(), F.Log(positive)), (positive.Log1p(), F.Log1p(positive)), (positive.Sqrt(), F.Sqrt(positive)),
            (positive.Rsqrt(), F.Rsqrt(positive)), (a.Abs(), F.Abs(a)), (a.Sign(), F.Sign(a)), (a.Square(), F.Square(a)),
            (a.Sin(), F.Sin(a)), (a.Cos(), F.Cos(a)), (a.Neg(), F.Negate(a)), (positive.Reciprocal(), F.Reciprocal(positive)),
            (a.Softmax(0), F.Softmax(a, 0)), (a.LogSoftmax(), F.LogSoftmax(a, -1)),
            (a.Sum(), F.Sum(a)), (a.Sum(1, keepDim: true), F.Sum(a, [1], keepDim: true)), (a.Sum([0, 1]), F.Sum(a, [0, 1])),
            (a.Mean(), F.Mean(a)), (a.Mean(0), F.Mean(a, [0])), (a.Mean([1], keepDim: true), F.Mean(a, [1], keepDim: true)),
        };
        foreach (var (method, function) in pairs)
        {
            Assert.Equal(function.Shape, method.Shape);
            Assert.Equal(function.ToArray(), method.ToArray());
        }
    }
}
