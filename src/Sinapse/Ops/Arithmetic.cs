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

    /// <summary>
    /// Scales each channel of x [N, C, H, W] by scale [N, C, 1, 1] (or [N, C]): y[n,c,h,w] =
    /// x[n,c,h,w]·scale[n,c], the gate of a squeeze-and-excitation block. Backward: dx = dy·scale
    /// per plane, dscale[n,c] = Σ_hw dy·x.
    /// </summary>
    public static Tensor MultiplyChannels(Tensor x, Tensor scale)
    {
        if (x.Rank != 4 || !(scale.Rank == 4 && scale.Shape[2] == 1 && scale.Shape[3] == 1 || scale.Rank == 2)
            || scale.Shape[0] != x.Shape[0] || scale.Shape[1] != x.Shape[1])
            throw new ArgumentException($"MultiplyChannels needs x [N, C, H, W] and scale [N, C, 1, 1], got {x.Shape} and {scale.Shape}.");
        int planes = x.Shape[0] * x.Shape[1], plane = x.Shape[2] * x.Shape[3];
        var y = Tensor.Empty(x.Shape);
        var xs = x.Span;
        var s = scale.Span;
        var ys = y.Span;
        for (int p = 0; p < planes; p++) TensorPrimitives.Multiply(xs.Slice(p * plane, plane), s[p], ys.Slice(p * plane, plane));
        if (Tape.NeedsGrad(x, scale))
            Tape.Record("MultiplyChannels", y, dy =>
            {
                var dys = dy.Span;
                if (x.RequiresGrad)
                {
                    var dx = Tape.GradientTarget(x, out float beta);
                    var sv = scale.Span;
                    for (int p = 0; p < planes; p++)
                    {
                        var target = dx.Slice(p * plane, plane);
                        if (beta == 0f) TensorPrimitives.Multiply(dys.Slice(p * plane, plane), sv[p], target);
                        else TensorPrimitives.MultiplyAdd(dys.Slice(p * plane, plane), sv[p], target, target);
                    }
                }
                if (scale.RequiresGrad)
                {
                    var ds = Tape.GradientTarget(scale, out float beta);
                    var xv = x.Span;
                    // A new buffer holds garbage (possibly NaN): overwrite it rather than scale it by 0.
                    for (int p = 0; p < planes; p++)
                        ds[p] = (beta == 0f ? 0f : ds[p]) + TensorPrimitives.Dot(dys.Slice(p * plane, plane), xv.Slice(p * plane, plane));
                }
            }, x, scale);
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
