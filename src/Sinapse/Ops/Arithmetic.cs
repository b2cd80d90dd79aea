using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>a + b for tensors of the same shape (a residual connection, say).</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        SameShape(a, b, "Add");
        var y = Tensor.Empty(a.Shape);
        TensorPrimitives.Add(a.Span, b.Span, y.Span);
        if (Tape.NeedsGrad(a, b))
            Tape.Record("Add", y, dy =>
            {
                if (a.RequiresGrad) Tape.Accumulate(a, dy.Span);
                if (b.RequiresGrad) Tape.Accumulate(b, dy.Span);
            }, a, b);
        return y;
    }

    public static Tensor Subtract(Tensor a, Tensor b)
    {
        SameShape(a, b, "Subtract");
        var y = Tensor.Empty(a.Shape);
        TensorPrimitives.Subtract(a.Span, b.Span, y.Span);
        if (Tape.NeedsGrad(a, b))
            Tape.Record("Subtract", y, dy =>
            {
                if (a.RequiresGrad) Tape.Accumulate(a, dy.Span);
                if (b.RequiresGrad) AccumulateScaled(b, dy.Span, -1f);
            }, a, b);
        return y;
    }

    /// <summary>Elementwise product a ⊙ b for tensors of the same shape.</summary>
    public static Tensor Multiply(Tensor a, Tensor b)
    {
        SameShape(a, b, "Multiply");
        var y = Tensor.Empty(a.Shape);
        TensorPrimitives.Multiply(a.Span, b.Span, y.Span);
        if (Tape.NeedsGrad(a, b))
            Tape.Record("Multiply", y, dy =>
            {
                if (a.RequiresGrad) AccumulateProduct(a, dy.Span, b.Span);
                if (b.RequiresGrad) AccumulateProduct(b, dy.Span, a.Span);
            }, a, b);
        return y;
    }

    public static Tensor Multiply(Tensor a, float factor)
    {
        var y = Tensor.Empty(a.Shape);
        TensorPrimitives.Multiply(a.Span, factor, y.Span);
        if (Tape.NeedsGrad(a)) Tape.Record("Scale", y, dy => AccumulateScaled(a, dy.Span, factor), a);
        return y;
    }

    public static Tensor Add(Tensor a, float constant)
    {
        var y = Tensor.Empty(a.Shape);
        TensorPrimitives.Add(a.Span, constant, y.Span);
        if (Tape.NeedsGrad(a)) Tape.Record("AddConstant", y, dy => Tape.Accumulate(a, dy.Span), a);
        return y;
    }

    public static Tensor Square(Tensor a) => Multiply(a, a);

    /// <summary>The sum of all elements, as a scalar tensor.</summary>
    public static Tensor Sum(Tensor a) => ScaledSum(a, 1f, "Sum");

    /// <summary>The mean of all elements, as a scalar tensor.</summary>
    public static Tensor Mean(Tensor a) => ScaledSum(a, 1f / Math.Max(a.Length, 1), "Mean");

    private static Tensor ScaledSum(Tensor a, float scale, string op)
    {
        var y = Tensor.Scalar(scale * TensorPrimitives.Sum(a.Span));
        if (Tape.NeedsGrad(a))
            Tape.Record(op, y, dy =>
            {
                var da = Tape.GradientTarget(a, out float beta);
                float g = scale * dy.Span[0];
                if (beta == 0f) da.Fill(g);
                else TensorPrimitives.Add(da, g, da);
            }, a);
        return y;
    }

    private static void AccumulateScaled(Tensor target, ReadOnlySpan<float> gradient, float factor)
    {
        var d = Tape.GradientTarget(target, out float beta);
        if (beta == 0f) TensorPrimitives.Multiply(gradient, factor, d);
        else TensorPrimitives.MultiplyAdd(gradient, factor, d, d);
    }

    private static void AccumulateProduct(Tensor target, ReadOnlySpan<float> gradient, ReadOnlySpan<float> other)
    {
        var d = Tape.GradientTarget(target, out float beta);
        if (beta == 0f) TensorPrimitives.Multiply(gradient, other, d);
        else TensorPrimitives.MultiplyAdd(gradient, other, d, d);
    }

    private static void SameShape(Tensor a, Tensor b, string op)
    {
        if (a.Shape != b.Shape) throw new ArgumentException($"{op} needs tensors of the same shape, got {a.Shape} and {b.Shape}.");
    }
}
