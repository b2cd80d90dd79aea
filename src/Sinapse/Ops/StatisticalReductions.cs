using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

/// <summary>
/// Reductions that summarise each slice by one number computed from all of it: variance,
/// standard deviation, log-sum-exp and vector norms, with PyTorch's semantics at the edges
/// (division by zero, infinities, empty slices). Axes are named as for <see cref="Sum(Tensor, int[], bool)"/>.
/// </summary>
public static partial class F
{
    /// <summary>
    /// The variance over <paramref name="dims"/> (every axis when empty): Σ(x − mean)² / (N − 1),
    /// or / N when not <paramref name="unbiased"/>, as torch.var. N − 1 = 0 divides by zero, giving
    /// NaN (and NaN gradients), as in PyTorch.
    /// </summary>
    public static Tensor Var(Tensor x, int[] dims, bool unbiased = true, bool keepDim = false) => Moment(x, dims, unbiased ? 1 : 0, keepDim, "Var", root: false);

    /// <summary>
    /// The variance with PyTorch's <c>correction</c>: Σ(x − mean)² / max(0, N − correction). A
    /// correction of N or more divides by zero: NaN over a constant slice, else +∞.
    /// </summary>
    public static Tensor Var(Tensor x, int[] dims, int correction, bool keepDim = false) => Moment(x, dims, correction, keepDim, "Var", root: false);

    /// <summary>The variance along one axis.</summary>
    public static Tensor Var(Tensor x, int dim, bool unbiased = true, bool keepDim = false) => Var(x, [dim], unbiased, keepDim);

    /// <summary>The variance of all elements, as a scalar.</summary>
    public static Tensor Var(Tensor x, bool unbiased = true) => Var(x, [], unbiased);

    /// <summary>
    /// The standard deviation √Var over <paramref name="dims"/>. Where it is 0 (a constant slice)
    /// the gradient is 0, not the infinite derivative of √ at 0, as in PyTorch.
    /// </summary>
    public static Tensor Std(Tensor x, int[] dims, bool unbiased = true, bool keepDim = false) => Moment(x, dims, unbiased ? 1 : 0, keepDim, "Std", root: true);

    /// <summary>The standard deviation with PyTorch's <c>correction</c> (see <see cref="Var(Tensor, int[], int, bool)"/>).</summary>
    public static Tensor Std(Tensor x, int[] dims, int correction, bool keepDim = false) => Moment(x, dims, correction, keepDim, "Std", root: true);

    /// <summary>The standard deviation along one axis.</summary>
    public static Tensor Std(Tensor x, int dim, bool unbiased = true, bool keepDim = false) => Std(x, [dim], unbiased, keepDim);

    /// <summary>The standard deviation of all elements, as a scalar.</summary>
    public static Tensor Std(Tensor x, bool unbiased = true) => Std(x, [], unbiased);

    /// <summary>
    /// log Σ exp(x) over <paramref name="dims"/> (every axis when empty), shifted by each slice's
    /// maximum so nothing overflows. A slice of −∞ gives −∞, one holding +∞ gives +∞, an empty one
    /// −∞ (the log of an empty sum), as torch.logsumexp. The gradient is softmax: dy·exp(x − y).
    /// </summary>
    public static Tensor LogSumExp(Tensor x, int[] dims, bool keepDim = false)
    {
        var reduced = ReducedAxes(x.Shape, dims, "LogSumExp");
        var kept = KeptShape(x.Shape, reduced);
        // An empty slice has no maximum to shift by; its sum is 0, and its log −∞.
        var shift = x.Length == 0 ? Tensor.Zeros(kept) : ExtremeOver<Largest>(x, reduced);
        // An infinite maximum would turn x − max into ∞ − ∞ = NaN: shift such slices by 0 instead.
        foreach (ref var m in shift.Span) if (float.IsInfinity(m)) m = 0f;
        var exponentials = Compute<SubtractOperator>("LogSumExp", x, shift);
        TensorPrimitives.Exp(exponentials.Span, exponentials.Span);
        var sums = Tensor.Empty(kept);
        Reductions.SumTo(exponentials.Buffer, exponentials.Offset, x.Shape, sums.Buffer, sums.Offset, kept, 0f);
        var y = Tensor.Empty(kept);
        TensorPrimitives.Log(sums.Span, y.Span);
        TensorPrimitives.Add(y.Span, shift.Span, y.Span);
        // The softmax as exp(x − shift)/Σ rather than exp(x − y): y rounds to float32 at its own
        // magnitude (6e-5 at 1000), which exp would turn into a relative error of the gradient.
        if (Tape.NeedsGrad(x))
            Tape.Record("LogSumExp", y, dy => AccumulateProduct<MultiplyOperator>(x, exponentials, Compute<DivideOperator>("LogSumExp", dy, sums)), x);
        return keepDim ? y : Reshaped(y, RemovedAxes(x.Shape, reduced));
    }

    /// <summary>log Σ exp(x) along one axis.</summary>
    public static Tensor LogSumExp(Tensor x, int dim, bool keepDim = false) => LogSumExp(x, [dim], keepDim);

    /// <summary>
    /// The vector p-norm over <paramref name="dims"/> (every axis when null or empty), as
    /// torch.linalg.vector_norm, for p = 1 (Σ|x|), 2 (√Σx²) and ∞ (max |x|). Gradients as
    /// PyTorch's: sign(x)·dy for p = 1; x·dy/‖x‖ for p = 2, and 0 where the norm is 0; for ∞,
    /// sign(x)·dy split evenly over the elements of largest magnitude. The ∞-norm of an empty
    /// slice is undefined and refused; the 1- and 2-norms of one are 0.
    /// </summary>
    public static Tensor Norm(Tensor x, float p = 2f, int[]? dims = null, bool keepDim = false)
    {
        if (p != 1f && p != 2f && p != float.PositiveInfinity)
            throw new ArgumentException($"Norm: p must be 1, 2 or float.PositiveInfinity, got {p}.");
        var reduced = ReducedAxes(x.Shape, dims ?? [], "Norm");
        var kept = KeptShape(x.Shape, reduced);
        Tensor y;
        if (p == float.PositiveInfinity)
        {
            RequireNonEmpty(x.Shape, reduced, "Norm");
            var magnitudes = Unary(x, TensorPrimitives.Abs);
            y = ExtremeOver<Largest>(magnitudes, reduced);
            if (Tape.NeedsGrad(x))
                Tape.Record("Norm", y, dy =>
                {
                    // As PyTorch: the elements at the norm, and any NaN, share the gradient.
                    var marks = Zip(x.Shape, magnitudes, y, y, (v, norm, _) => v == norm || float.IsNaN(v) ? 1f : 0f);
                    var shares = SplitOverMarked(marks, dy);
                    AccumulateSummed(x, Map(shares, x, shares, (g, v, _) => Sgn(v) * g), owned: true);
                }, x);
        }
        else
        {
            var terms = Unary(x, p == 1f ? TensorPrimitives.Abs : (v, squares) => TensorPrimitives.Multiply(v, v, squares));
            y = Tensor.Empty(kept);
            Reductions.SumTo(terms.Buffer, terms.Offset, x.Shape, y.Buffer, y.Offset, kept, 0f);
            if (p == 2f) TensorPrimitives.Sqrt(y.Span, y.Span);
            if (Tape.NeedsGrad(x))
                Tape.Record("Norm", y, dy =>
                {
                    if (p == 1f) AccumulateSummed(x, Zip(x.Shape, x, dy, dy, (v, g, _) => Sgn(v) * g), owned: true);
                    else AccumulateProduct<MultiplyOperator>(x, x, Zip(kept, y, dy, dy, (norm, g, _) => norm == 0f ? 0f : g / norm));
                }, x);
        }
        return keepDim ? y : Reshaped(y, RemovedAxes(x.Shape, reduced));
    }

    /// <summary>Var (or, with <paramref name="root"/>, Std): the squared deviations from the mean, summed and divided.</summary>
    private static Tensor Moment(Tensor x, int[] dims, int correction, bool keepDim, string op, bool root)
    {
        var reduced = ReducedAxes(x.Shape, dims, op);
        var kept = KeptShape(x.Shape, reduced);
        int count = ReducedCount(x.Shape, reduced);
        var deviations = Deviations(x, kept, count, op);
        var squares = Unary(deviations, (v, s) => TensorPrimitives.Multiply(v, v, s));
        var y = Tensor.Empty(kept);
        Reductions.SumTo(squares.Buffer, squares.Offset, x.Shape, y.Buffer, y.Offset, kept, 0f);
        // PyTorch divides by max(0, N − correction): 0 gives 0/0 = NaN or +∞.
        TensorPrimitives.Divide(y.Span, Math.Max(0, count - correction), y.Span);
        if (root) TensorPrimitives.Sqrt(y.Span, y.Span);
        if (Tape.NeedsGrad(x))
        {
            // d var/dx = 2(x − mean)/(N − correction), unclamped as in PyTorch; d std = d var/(2·std), 0 where std = 0.
            float scale = 2f / (count - correction);
            Tape.Record(op, y, dy => AccumulateProduct<MultiplyOperator>(x, deviations,
                root ? Zip(kept, dy, y, y, (g, std, _) => std == 0f ? 0f : g / (2f * std) * scale) : Scaled(dy.Clone(), scale)), x);
        }
        return keepDim ? y : Reshaped(y, RemovedAxes(x.Shape, reduced));
    }

    /// <summary>
    /// x minus the mean of its slice, by the corrected two-pass method: the differences from the
    /// float32 mean, less their own mean. The float32 mean is off by up to half its ulp, which is a
    /// large part of each deviation when the mean is large against the spread (100 ± 0.1: 4e-6 of
    /// 0.1); the differences are exact there, and their mean restores what the rounding lost.
    /// </summary>
    private static Tensor Deviations(Tensor x, Shape kept, int count, string op)
    {
        var deviations = Compute<SubtractOperator>(op, x, MeanTo(x, kept, count));
        var residual = MeanTo(deviations, kept, count);
        // A slice holding ±∞ or NaN has no finite mean to refine: keep its x − mean as PyTorch has it.
        foreach (ref var r in residual.Span) if (!float.IsFinite(r)) r = 0f;
        Broadcast.Binary<SubtractOperator>(new BroadcastLoop(x.Shape, x.Shape, kept), deviations.Buffer, deviations.Offset, residual.Buffer, residual.Offset, deviations.Buffer, deviations.Offset);
        return deviations;
    }

    /// <summary>The mean of x's slices of <paramref name="count"/> elements, shaped <paramref name="kept"/>; outside the tape.</summary>
    private static Tensor MeanTo(Tensor x, Shape kept, int count)
    {
        var mean = Tensor.Empty(kept);
        Reductions.SumTo(x.Buffer, x.Offset, x.Shape, mean.Buffer, mean.Offset, kept, 0f);
        return Scaled(mean, 1f / count);
    }

    /// <summary>PyTorch's sgn: −1, 0 or 1, and 0 for NaN.</summary>
    private static float Sgn(float v) => v > 0f ? 1f : v < 0f ? -1f : 0f;
}

public static partial class TensorExtensions
{
    extension(Tensor a)
    {
        public Tensor Var(bool unbiased = true) => F.Var(a, unbiased);
        public Tensor Var(int dim, bool unbiased = true, bool keepDim = false) => F.Var(a, dim, unbiased, keepDim);
        public Tensor Var(int[] dims, bool unbiased = true, bool keepDim = false) => F.Var(a, dims, unbiased, keepDim);
        public Tensor Var(int[] dims, int correction, bool keepDim = false) => F.Var(a, dims, correction, keepDim);
        public Tensor Std(bool unbiased = true) => F.Std(a, unbiased);
        public Tensor Std(int dim, bool unbiased = true, bool keepDim = false) => F.Std(a, dim, unbiased, keepDim);
        public Tensor Std(int[] dims, bool unbiased = true, bool keepDim = false) => F.Std(a, dims, unbiased, keepDim);
        public Tensor Std(int[] dims, int correction, bool keepDim = false) => F.Std(a, dims, correction, keepDim);
        public Tensor LogSumExp(int dim, bool keepDim = false) => F.LogSumExp(a, dim, keepDim);
        public Tensor LogSumExp(int[] dims, bool keepDim = false) => F.LogSumExp(a, dims, keepDim);
        public Tensor Norm(float p = 2f, int[]? dims = null, bool keepDim = false) => F.Norm(a, p, dims, keepDim);
    }
}
