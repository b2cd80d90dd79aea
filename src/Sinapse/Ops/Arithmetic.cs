using System.Numerics;
using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

/// <summary>
/// Arithmetic with NumPy/PyTorch broadcasting: the operands' shapes are aligned at the last axis
/// and every pair of sizes must be equal or 1; the output takes the larger. Nothing is expanded in
/// memory: the kernel walks each operand with stride 0 along its broadcast axes. Each operand's
/// gradient is the output gradient (times the local derivative) summed back over the axes it was
/// broadcast along, which <see cref="AccumulateSummed"/> does for every op.
/// </summary>
public static partial class F
{
    /// <summary>a + b, broadcasting.</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary<AddOperator>("Add", a, b, (dy, y) =>
    {
        if (a.RequiresGrad) AccumulateSummed(a, dy, owned: false);
        if (b.RequiresGrad) AccumulateSummed(b, dy, owned: false);
    });

    /// <summary>a − b, broadcasting.</summary>
    public static Tensor Subtract(Tensor a, Tensor b) => Binary<SubtractOperator>("Subtract", a, b, (dy, y) =>
    {
        if (a.RequiresGrad) AccumulateSummed(a, dy, owned: false);
        if (b.RequiresGrad) AccumulateSummed(b, Unary(dy, TensorPrimitives.Negate), owned: true);
    });

    /// <summary>a ⊙ b elementwise, broadcasting.</summary>
    public static Tensor Multiply(Tensor a, Tensor b) => Binary<MultiplyOperator>("Multiply", a, b, (dy, y) =>
    {
        if (a.RequiresGrad) AccumulateProduct<MultiplyOperator>(a, dy, b);
        if (b.RequiresGrad) AccumulateProduct<MultiplyOperator>(b, dy, a);
    });

    /// <summary>a / b elementwise, broadcasting (IEEE: x/0 is ±∞, 0/0 is NaN, as in PyTorch).</summary>
    public static Tensor Divide(Tensor a, Tensor b) => Binary<DivideOperator>("Divide", a, b, (dy, y) =>
    {
        if (a.RequiresGrad) AccumulateProduct<DivideOperator>(a, dy, b);
        // d(a/b)/db = −(a/b)/b, as PyTorch computes it: −a/b² would square b first, which underflows
        // for |b| < 1e-19 (and overflows above 1e19) where the quotient itself is fine.
        if (b.RequiresGrad) AccumulateSummed(b, Map(dy.Shape, new DivisorGradientOperator(), dy, y, b), owned: true);
    });

    /// <summary>
    /// a raised to b elementwise, broadcasting. Gradients as PyTorch defines them: b·a^(b−1) (0
    /// where b = 0) for a, and a^b·ln a (0 where a = 0 and b ≥ 0) for b.
    /// </summary>
    public static Tensor Pow(Tensor a, Tensor b) => Binary<PowOperator>("Pow", a, b, (dy, y) =>
    {
        if (a.RequiresGrad) AccumulateSummed(a, Map(dy, a, b, (g, x, e) => e == 0f ? 0f : g * e * MathF.Pow(x, e - 1f)), owned: true);
        // 0^b is finite exactly where b ≥ 0, PyTorch's condition for a zero gradient at a = 0 (for b < 0 it is ∞·ln 0 = −∞).
        if (b.RequiresGrad) AccumulateSummed(b, Map(dy, a, y, (g, x, p) => x == 0f && float.IsFinite(p) ? 0f : g * p * MathF.Log(x)), owned: true);
    });

    /// <summary>
    /// The larger of a and b elementwise, broadcasting; NaN if either is NaN. Where they tie, each
    /// gets half the gradient (PyTorch's choice).
    /// </summary>
    public static Tensor Maximum(Tensor a, Tensor b) => Binary<MaximumOperator>("Maximum", a, b, (dy, y) => SelectionGradient(a, b, dy, new SelectionGradientOperator(minimum: false)));

    /// <summary>The smaller of a and b elementwise, broadcasting; NaN if either is NaN. Ties split the gradient.</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => Binary<MinimumOperator>("Minimum", a, b, (dy, y) => SelectionGradient(a, b, dy, new SelectionGradientOperator(minimum: true)));

    /// <summary>
    /// a where the mask is nonzero, else b, all three broadcasting together (torch.where). The mask
    /// carries no gradient; a gets the gradient where the mask holds, b where it does not.
    /// </summary>
    public static Tensor Where(Tensor mask, Tensor a, Tensor b)
    {
        var shape = Shape.Broadcast(Shape.Broadcast(mask.Shape, a.Shape, "Where"), b.Shape, "Where");
        var y = Map(shape, new WhereOperator(), mask, a, b);
        if (OnnxTrace.Current is { } trace)
            trace.Bind(y, trace.Node("Where", [trace.Node("Cast", [trace.Value(mask)], OnnxTrace.Int("to", (long)Onnx.TensorProto.Types.DataType.Bool)), trace.Value(a), trace.Value(b)]));
        if (Tape.NeedsGrad(a, b))
            Tape.Record("Where", y, dy =>
            {
                if (a.RequiresGrad) AccumulateSummed(a, Map(dy.Shape, new WhereOperator(), mask, dy, Zero), owned: true);
                if (b.RequiresGrad) AccumulateSummed(b, Map(dy.Shape, new WhereOperator(), mask, Zero, dy), owned: true);
            }, a, b);
        return y;
    }

    /// <summary>
    /// Every element limited to [min, max] (either bound may be omitted); NaN stays NaN. The
    /// gradient passes where min ≤ x ≤ max and is 0 elsewhere, as in PyTorch.
    /// </summary>
    public static Tensor Clamp(Tensor x, float? min = null, float? max = null)
    {
        if (min == null && max == null) throw new ArgumentException("Clamp needs a min, a max or both; got neither.");
        float low = min ?? float.NegativeInfinity, high = max ?? float.PositiveInfinity;
        var y = Tensor.Empty(x.Shape);
        ForEachPart(x.Length, (start, count) =>
        {
            var target = y.Span.Slice(start, count);
            TensorPrimitives.Max(x.Span.Slice(start, count), low, target);
            TensorPrimitives.Min(target, high, target);
        });
        if (OnnxTrace.Current is { } trace)
            trace.Bind(y, trace.Node("Clip", [trace.Value(x), min == null ? "" : trace.Scalar(low), max == null ? "" : trace.Scalar(high)]));
        if (Tape.NeedsGrad(x))
            Tape.Record("Clamp", y, dy => AccumulateSummed(x, Map(dy.Shape, new ClampGradientOperator(low, high), dy, x, x), owned: true), x);
        return y;
    }

    /// <summary>1 where a &gt; b, else 0 (broadcasting; a mask, without gradient).</summary>
    public static Tensor Gt(Tensor a, Tensor b) => Compare("Gt", a, b, new GreaterOperator());

    /// <summary>1 where a ≥ b, else 0.</summary>
    public static Tensor Ge(Tensor a, Tensor b) => Compare("Ge", a, b, new GreaterOrEqualOperator());

    /// <summary>1 where a &lt; b, else 0.</summary>
    public static Tensor Lt(Tensor a, Tensor b) => Compare("Lt", a, b, new LessOperator());

    /// <summary>1 where a ≤ b, else 0.</summary>
    public static Tensor Le(Tensor a, Tensor b) => Compare("Le", a, b, new LessOrEqualOperator());

    /// <summary>1 where a = b, else 0 (NaN equals nothing).</summary>
    public static Tensor Eq(Tensor a, Tensor b) => Compare("Eq", a, b, new EqualOperator());

    /// <summary>1 where a ≠ b, else 0.</summary>
    public static Tensor Ne(Tensor a, Tensor b) => Compare("Ne", a, b, new NotEqualOperator());

    /// <summary>a + c for a constant c.</summary>
    public static Tensor Add(Tensor a, float constant) => Add(a, Tensor.Scalar(constant));

    /// <summary>a · c for a constant c.</summary>
    public static Tensor Multiply(Tensor a, float factor) => Multiply(a, Tensor.Scalar(factor));

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
        // A [N, C] scale broadcasts over the planes once it is [N, C, 1, 1].
        if (OnnxTrace.Current is { } trace)
            trace.Bind(y, trace.Node("Mul", [trace.Value(x), scale.Rank == 4 ? trace.Value(scale) : trace.Node("Unsqueeze", [trace.Value(scale), trace.Integers("axes", 2, 3)])]));
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

    /// <summary>The sum of all elements, as a scalar tensor.</summary>
    public static Tensor Sum(Tensor a) => Sum(a, []);

    /// <summary>The mean of all elements, as a scalar tensor.</summary>
    public static Tensor Mean(Tensor a) => Mean(a, []);

    private static Tensor Binary<TOperator>(string op, Tensor a, Tensor b, Action<Tensor, Tensor> backward) where TOperator : IBinaryOperator
    {
        var y = Compute<TOperator>(op, a, b);
        OnnxTrace.Current?.Node(BinaryOnnx(op), y, [a, b]);
        if (Tape.NeedsGrad(a, b)) Tape.Record(op, y, dy => backward(dy, y), a, b);
        return y;
    }

    /// <summary>The ONNX operator of a broadcasting binary op (ONNX broadcasts as NumPy does).</summary>
    private static string BinaryOnnx(string op) => op switch
    {
        "Subtract" => "Sub",
        "Multiply" => "Mul",
        "Divide" => "Div",
        "Maximum" => "Max",
        "Minimum" => "Min",
        _ => op,
    };

    /// <summary>op(a, b) broadcast, outside the tape.</summary>
    private static Tensor Compute<TOperator>(string op, Tensor a, Tensor b) where TOperator : IBinaryOperator
    {
        var y = Tensor.Empty(Shape.Broadcast(a.Shape, b.Shape, op));
        ComputeInto<TOperator>(a, b, y);
        return y;
    }

    /// <summary>destination = op(a, b), a and b broadcasting to the destination's shape.</summary>
    private static void ComputeInto<TOperator>(Tensor a, Tensor b, Tensor destination) where TOperator : IBinaryOperator =>
        Broadcast.Binary<TOperator>(new BroadcastLoop(destination.Shape, a.Shape, b.Shape), a.Buffer, a.Offset, b.Buffer, b.Offset, destination.Buffer, destination.Offset);

    /// <summary>
    /// Adds <paramref name="gradient"/> (shaped like the op's output) into <paramref name="operand"/>'s
    /// gradient, summed over the axes the operand was broadcast along. An <paramref name="owned"/>
    /// gradient is scratch made for this call, so an intermediate operand without a gradient yet
    /// may take it as its own instead of copying it.
    /// </summary>
    private static void AccumulateSummed(Tensor operand, Tensor gradient, bool owned)
    {
        if (operand.Shape != gradient.Shape)
        {
            Tape.GradientTarget(operand, out float beta);
            Reductions.SumTo(gradient.Buffer, gradient.Offset, gradient.Shape, operand.Grad!.Buffer, operand.Grad.Offset, operand.Shape, beta);
        }
        else if (operand.Grad != null) ComputeInto<AddOperator>(operand.Grad, gradient, operand.Grad);
        else if (owned && !operand.IsLeaf) operand.Grad = gradient;
        else AccumulateComputed(operand, destination => ComputeInto<MultiplyOperator>(gradient, One, destination));
    }

    /// <summary>
    /// Adds the gradient <paramref name="compute"/> writes (shaped like the operand) into the
    /// operand's gradient: straight into a new gradient buffer when there is none yet, else
    /// through scratch.
    /// </summary>
    private static void AccumulateComputed(Tensor operand, Action<Tensor> compute)
    {
        if (operand.Grad == null)
        {
            Tape.GradientTarget(operand, out _);
            compute(operand.Grad!);
            return;
        }
        var scratch = Tensor.Empty(operand.Shape);
        compute(scratch);
        ComputeInto<AddOperator>(operand.Grad, scratch, operand.Grad);
    }

    /// <summary>operand's gradient += op(dy, other), summed to the operand's shape.</summary>
    private static void AccumulateProduct<TOperator>(Tensor operand, Tensor dy, Tensor other) where TOperator : IBinaryOperator
    {
        if (operand.Shape == dy.Shape) AccumulateComputed(operand, destination => ComputeInto<TOperator>(dy, other, destination));
        else AccumulateSummed(operand, Compute<TOperator>("Gradient", dy, other), owned: true);
    }

    /// <summary>The factor of a copy made by multiplying (which keeps −0, ∞ and NaN as they are).</summary>
    private static readonly Tensor One = Tensor.Scalar(1f);

    /// <summary>The gradient an operand gets where a selection did not pick it.</summary>
    private static readonly Tensor Zero = Tensor.Scalar(0f);

    /// <summary>
    /// The gradients of Maximum or Minimum: an operand gets dy unless it <c>loses</c> to
    /// the other; ties split it in half. Asking "does it lose" rather than "is it selected" is
    /// PyTorch's rule: where either side is NaN nothing loses, so both get dy.
    /// </summary>
    private static void SelectionGradient(Tensor a, Tensor b, Tensor dy, SelectionGradientOperator gradient)
    {
        if (a.RequiresGrad) AccumulateSummed(a, Map(dy.Shape, gradient, dy, a, b), owned: true);
        if (b.RequiresGrad) AccumulateSummed(b, Map(dy.Shape, gradient, dy, b, a), owned: true);
    }

    /// <summary>The 1/0 mask of a comparison; the comparison ignores its third operand.</summary>
    private static Tensor Compare<TComparison>(string op, Tensor a, Tensor b, TComparison comparison) where TComparison : struct, ITernaryOperator
    {
        var y = Map(Shape.Broadcast(a.Shape, b.Shape, op), comparison, a, b, a);
        // ONNX compares into booleans; the mask is 0/1 floats, as here.
        if (OnnxTrace.Current is { } trace)
        {
            string onnx = op switch { "Gt" => "Greater", "Ge" => "GreaterOrEqual", "Lt" => "Less", "Le" => "LessOrEqual", _ => "Equal" };
            var mask = trace.Node(onnx, [trace.Value(a), trace.Value(b)]);
            if (op == "Ne") mask = trace.Node("Not", [mask]);
            trace.Bind(y, trace.Node("Cast", [mask], OnnxTrace.Int("to", (long)Onnx.TensorProto.Types.DataType.Float)));
        }
        return y;
    }

    /// <summary>op(p, q, r) elementwise, the three operands broadcasting to <paramref name="shape"/>, with vector kernels.</summary>
    private static Tensor Map<TOperator>(Shape shape, TOperator op, Tensor p, Tensor q, Tensor r) where TOperator : struct, ITernaryOperator
    {
        var y = Tensor.Empty(shape);
        Broadcast.Ternary(op, new BroadcastLoop(shape, p.Shape, q.Shape, r.Shape), p.Buffer, p.Offset, q.Buffer, q.Offset, r.Buffer, r.Offset, y.Buffer, y.Offset);
        return y;
    }

    /// <summary>f(dy, p, q) elementwise over dy's shape, p and q broadcasting to it: Pow's gradients, which have no vector kernel.</summary>
    private static Tensor Map(Tensor dy, Tensor p, Tensor q, Func<float, float, float, float> f) => Zip(dy.Shape, dy, p, q, f);

    /// <summary>f over three operands broadcast to <paramref name="shape"/>, one element at a time.</summary>
    private static Tensor Zip(Shape shape, Tensor p, Tensor q, Tensor r, Func<float, float, float, float> f)
    {
        var y = Tensor.Empty(shape);
        var loop = new BroadcastLoop(shape, p.Shape, q.Shape, r.Shape);
        float[] ps = p.Buffer, qs = q.Buffer, rs = r.Buffer, ys = y.Buffer;
        int po = p.Offset, qo = q.Offset, ro = r.Offset, yo = y.Offset;
        int pStep = loop.InnerContiguous[0] ? 1 : 0, qStep = loop.InnerContiguous[1] ? 1 : 0, rStep = loop.InnerContiguous[2] ? 1 : 0;
        loop.Run(3, (start, count, offsets) =>
        {
            int pi = po + offsets[0], qi = qo + offsets[1], ri = ro + offsets[2], yi = yo + start;
            for (int i = 0; i < count; i++, pi += pStep, qi += qStep, ri += rStep) ys[yi + i] = f(ps[pi], qs[qi], rs[ri]);
        });
        return y;
    }

    /// <summary>Runs body(start, count) over [0, length) in equal parts on the worker pool when the length is large.</summary>
    private static void ForEachPart(int length, Action<int, int> body) =>
        new BroadcastLoop(new Shape(length), new Shape(length)).Run(1, (start, count, _) => body(start, count));

    private static void SameShape(Tensor a, Tensor b, string op)
    {
        if (a.Shape != b.Shape) throw new ArgumentException($"{op} needs tensors of the same shape, got {a.Shape} and {b.Shape}.");
    }

    private readonly struct AddOperator : IBinaryOperator
    {
        public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Add(x, y, result);
        public static void Apply(ReadOnlySpan<float> x, float y, Span<float> result) => TensorPrimitives.Add(x, y, result);
        public static void Apply(float x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Add(y, x, result);
    }

    private readonly struct SubtractOperator : IBinaryOperator
    {
        public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Subtract(x, y, result);
        public static void Apply(ReadOnlySpan<float> x, float y, Span<float> result) => TensorPrimitives.Subtract(x, y, result);
        public static void Apply(float x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Subtract(x, y, result);
    }

    private readonly struct MultiplyOperator : IBinaryOperator
    {
        public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Multiply(x, y, result);
        public static void Apply(ReadOnlySpan<float> x, float y, Span<float> result) => TensorPrimitives.Multiply(x, y, result);
        public static void Apply(float x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Multiply(y, x, result);
    }

    private readonly struct DivideOperator : IBinaryOperator
    {
        public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Divide(x, y, result);
        public static void Apply(ReadOnlySpan<float> x, float y, Span<float> result) => TensorPrimitives.Divide(x, y, result);
        public static void Apply(float x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Divide(x, y, result);
    }

    private readonly struct PowOperator : IBinaryOperator
    {
        public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Pow(x, y, result);
        public static void Apply(ReadOnlySpan<float> x, float y, Span<float> result) => TensorPrimitives.Pow(x, y, result);
        public static void Apply(float x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Pow(x, y, result);
    }

    private readonly struct MaximumOperator : IBinaryOperator
    {
        public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Max(x, y, result);
        public static void Apply(ReadOnlySpan<float> x, float y, Span<float> result) => TensorPrimitives.Max(x, y, result);
        public static void Apply(float x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Max(y, x, result);
    }

    private readonly struct MinimumOperator : IBinaryOperator
    {
        public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Min(x, y, result);
        public static void Apply(ReadOnlySpan<float> x, float y, Span<float> result) => TensorPrimitives.Min(x, y, result);
        public static void Apply(float x, ReadOnlySpan<float> y, Span<float> result) => TensorPrimitives.Min(y, x, result);
    }

    /// <summary>1 where the comparison holds, else 0: the mask's all-ones lanes keep 1.0f's bits, the others clear them.</summary>
    private static Vector<float> MaskOfOnes(Vector<int> holds) => Vector.AsVectorSingle(holds) & Vector<float>.One;

    private readonly struct GreaterOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> x, Vector<float> y, Vector<float> _) => MaskOfOnes(Vector.GreaterThan(x, y));
        public float Invoke(float x, float y, float _) => x > y ? 1f : 0f;
    }

    private readonly struct GreaterOrEqualOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> x, Vector<float> y, Vector<float> _) => MaskOfOnes(Vector.GreaterThanOrEqual(x, y));
        public float Invoke(float x, float y, float _) => x >= y ? 1f : 0f;
    }

    private readonly struct LessOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> x, Vector<float> y, Vector<float> _) => MaskOfOnes(Vector.LessThan(x, y));
        public float Invoke(float x, float y, float _) => x < y ? 1f : 0f;
    }

    private readonly struct LessOrEqualOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> x, Vector<float> y, Vector<float> _) => MaskOfOnes(Vector.LessThanOrEqual(x, y));
        public float Invoke(float x, float y, float _) => x <= y ? 1f : 0f;
    }

    private readonly struct EqualOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> x, Vector<float> y, Vector<float> _) => MaskOfOnes(Vector.Equals(x, y));
        public float Invoke(float x, float y, float _) => x == y ? 1f : 0f;
    }

    /// <summary>The complement of equality, so NaN differs from everything.</summary>
    private readonly struct NotEqualOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> x, Vector<float> y, Vector<float> _) => MaskOfOnes(~Vector.Equals(x, y));
        public float Invoke(float x, float y, float _) => x != y ? 1f : 0f;
    }

    /// <summary>x where the mask is nonzero (NaN counts as nonzero), else y.</summary>
    private readonly struct WhereOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> mask, Vector<float> x, Vector<float> y) => Vector.ConditionalSelect(Vector.Equals(mask, Vector<float>.Zero), y, x);
        public float Invoke(float mask, float x, float y) => mask != 0f ? x : y;
    }

    /// <summary>dy where low ≤ x ≤ high, else 0 (so 0 at NaN).</summary>
    private readonly struct ClampGradientOperator(float low, float high) : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> g, Vector<float> x, Vector<float> _) =>
            Vector.ConditionalSelect(Vector.GreaterThanOrEqual(x, new Vector<float>(low)) & Vector.LessThanOrEqual(x, new Vector<float>(high)), g, Vector<float>.Zero);
        public float Invoke(float g, float x, float _) => x >= low && x <= high ? g : 0f;
    }

    /// <summary>
    /// The gradient of x in Maximum(x, z) or Minimum(x, z): half of dy where they tie, 0 where x
    /// loses (x &lt; z for Maximum, x &gt; z for Minimum), else dy.
    /// </summary>
    private readonly struct SelectionGradientOperator(bool minimum) : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> g, Vector<float> x, Vector<float> z)
        {
            var loses = minimum ? Vector.GreaterThan(x, z) : Vector.LessThan(x, z);
            return Vector.ConditionalSelect(Vector.Equals(x, z), g / new Vector<float>(2f), Vector.ConditionalSelect(loses, Vector<float>.Zero, g));
        }

        public float Invoke(float g, float x, float z) => x == z ? g / 2f : (minimum ? x > z : x < z) ? 0f : g;
    }

    /// <summary>b's gradient in a/b: −dy·(q/b) with the quotient q = a/b (see <see cref="Divide(Tensor, Tensor)"/> for why).</summary>
    private readonly struct DivisorGradientOperator : ITernaryOperator
    {
        public Vector<float> Invoke(Vector<float> g, Vector<float> q, Vector<float> b) => -g * (q / b);
        public float Invoke(float g, float q, float b) => -g * (q / b);
    }
}
