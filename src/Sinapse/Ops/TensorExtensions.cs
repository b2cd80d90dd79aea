using Sinapse.Tensors;

namespace Sinapse.Ops;

/// <summary>
/// The ops of <see cref="F"/> as operators and methods of <see cref="Tensor"/>, as PyTorch offers
/// both <c>torch.exp(x)</c> and <c>x.exp()</c>: <c>(a + b).Exp().Sum(1)</c>. Each family's file
/// adds its own methods to this class; this one holds arithmetic, elementwise math and reductions.
/// Bring them into scope with <c>using Sinapse.Ops;</c>.
/// </summary>
public static partial class TensorExtensions
{
    extension(Tensor a)
    {
        public static Tensor operator +(Tensor x, Tensor y) => F.Add(x, y);
        public static Tensor operator +(Tensor x, float y) => F.Add(x, Tensor.Scalar(y));
        public static Tensor operator +(float x, Tensor y) => F.Add(Tensor.Scalar(x), y);
        public static Tensor operator -(Tensor x, Tensor y) => F.Subtract(x, y);
        public static Tensor operator -(Tensor x, float y) => F.Subtract(x, Tensor.Scalar(y));
        public static Tensor operator -(float x, Tensor y) => F.Subtract(Tensor.Scalar(x), y);
        public static Tensor operator *(Tensor x, Tensor y) => F.Multiply(x, y);
        public static Tensor operator *(Tensor x, float y) => F.Multiply(x, Tensor.Scalar(y));
        public static Tensor operator *(float x, Tensor y) => F.Multiply(Tensor.Scalar(x), y);
        public static Tensor operator /(Tensor x, Tensor y) => F.Divide(x, y);
        public static Tensor operator /(Tensor x, float y) => F.Divide(x, Tensor.Scalar(y));
        public static Tensor operator /(float x, Tensor y) => F.Divide(Tensor.Scalar(x), y);
        public static Tensor operator -(Tensor x) => F.Negate(x);

        public Tensor Add(Tensor other) => F.Add(a, other);
        public Tensor Add(float other) => F.Add(a, Tensor.Scalar(other));
        public Tensor Sub(Tensor other) => F.Subtract(a, other);
        public Tensor Sub(float other) => F.Subtract(a, Tensor.Scalar(other));
        public Tensor Mul(Tensor other) => F.Multiply(a, other);
        public Tensor Mul(float other) => F.Multiply(a, Tensor.Scalar(other));
        public Tensor Div(Tensor other) => F.Divide(a, other);
        public Tensor Div(float other) => F.Divide(a, Tensor.Scalar(other));
        public Tensor Pow(Tensor exponent) => F.Pow(a, exponent);
        public Tensor Pow(float exponent) => F.Pow(a, exponent);
        public Tensor Maximum(Tensor other) => F.Maximum(a, other);
        public Tensor Minimum(Tensor other) => F.Minimum(a, other);
        public Tensor Clamp(float? min = null, float? max = null) => F.Clamp(a, min, max);
        public Tensor Gt(Tensor other) => F.Gt(a, other);
        public Tensor Gt(float other) => F.Gt(a, Tensor.Scalar(other));
        public Tensor Ge(Tensor other) => F.Ge(a, other);
        public Tensor Ge(float other) => F.Ge(a, Tensor.Scalar(other));
        public Tensor Lt(Tensor other) => F.Lt(a, other);
        public Tensor Lt(float other) => F.Lt(a, Tensor.Scalar(other));
        public Tensor Le(Tensor other) => F.Le(a, other);
        public Tensor Le(float other) => F.Le(a, Tensor.Scalar(other));
        public Tensor Eq(Tensor other) => F.Eq(a, other);
        public Tensor Eq(float other) => F.Eq(a, Tensor.Scalar(other));
        public Tensor Ne(Tensor other) => F.Ne(a, other);
        public Tensor Ne(float other) => F.Ne(a, Tensor.Scalar(other));
        public Tensor MaskedFill(Tensor mask, float value) => F.MaskedFill(a, mask, value);
        public Tensor BroadcastTo(params int[] shape) => F.BroadcastTo(a, shape);
        public Tensor Expand(params int[] shape) => F.BroadcastTo(a, shape);

        public Tensor Exp() => F.Exp(a);
        public Tensor Log() => F.Log(a);
        public Tensor Log1p() => F.Log1p(a);
        public Tensor Sqrt() => F.Sqrt(a);
        public Tensor Rsqrt() => F.Rsqrt(a);
        public Tensor Abs() => F.Abs(a);
        public Tensor Sign() => F.Sign(a);
        public Tensor Square() => F.Square(a);
        public Tensor Sin() => F.Sin(a);
        public Tensor Cos() => F.Cos(a);
        public Tensor Neg() => F.Negate(a);
        public Tensor Reciprocal() => F.Reciprocal(a);
        public Tensor Relu() => F.Relu(a);
        public Tensor Sigmoid() => F.Sigmoid(a);
        public Tensor Tanh() => F.Tanh(a);
        public Tensor LeakyRelu(float negativeSlope = 0.01f) => F.LeakyRelu(a, negativeSlope);
        public Tensor Elu(float alpha = 1f) => F.Elu(a, alpha);
        public Tensor Selu() => F.Selu(a);
        public Tensor Gelu(string approximate = "none") => F.Gelu(a, approximate);
        public Tensor HardSigmoid() => F.HardSigmoid(a);
        public Tensor HardSwish() => F.HardSwish(a);
        public Tensor Relu6() => F.Relu6(a);
        public Tensor Softmax(int dim = -1) => F.Softmax(a, dim);
        public Tensor LogSoftmax(int dim = -1) => F.LogSoftmax(a, dim);

        public Tensor Sum() => F.Sum(a);
        public Tensor Sum(int dim, bool keepDim = false) => F.Sum(a, dim, keepDim);
        public Tensor Sum(int[] dims, bool keepDim = false) => F.Sum(a, dims, keepDim);
        public Tensor Mean() => F.Mean(a);
        public Tensor Mean(int dim, bool keepDim = false) => F.Mean(a, dim, keepDim);
        public Tensor Mean(int[] dims, bool keepDim = false) => F.Mean(a, dims, keepDim);
    }
}
