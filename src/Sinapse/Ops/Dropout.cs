using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// Inverted dropout: in training, each element is kept with probability 1 − p and scaled by
    /// 1/(1 − p), so E[output] = input and evaluation needs no rescaling; in evaluation (or with
    /// p = 0) the input itself is returned. The mask comes from <paramref name="rng"/> only (one
    /// 64-bit draw per two elements, in order), so the same seed drops the same elements.
    /// </summary>
    public static Tensor Dropout(Tensor x, float p, bool training, Rng? rng = null) =>
        DropGroups("Dropout", x, p, training, rng, groupSize: 1);

    /// <summary>
    /// Channel dropout (PyTorch's Dropout2d) of x [N, C, H, W]: whole channels are zeroed with
    /// probability p, one mask value per (sample, channel), and the kept ones scaled by 1/(1 − p).
    /// </summary>
    public static Tensor Dropout2d(Tensor x, float p, bool training, Rng? rng = null)
    {
        if (x.Rank != 4) throw new ArgumentException($"Dropout2d: expects an input [N, C, H, W], got {x.Shape}.");
        return DropGroups("Dropout2d", x, p, training, rng, groupSize: x.Shape[2] * x.Shape[3]);
    }

    /// <summary>
    /// Stochastic depth (torchvision's stochastic_depth), for the residual branch of a block: in
    /// training, mode "row" zeroes each sample (the first axis) with probability p and "batch" the
    /// whole input, and scales what survives by 1/(1 − p); in evaluation (or with p = 0) the input
    /// itself is returned. Added to a shortcut, a dropped row means the block is skipped for that sample.
    /// </summary>
    public static Tensor StochasticDepth(Tensor x, float p, string mode, bool training, Rng? rng = null)
    {
        CheckStochasticDepthMode(mode);
        if (x.Rank == 0) throw new ArgumentException($"StochasticDepth: expects an input with a batch axis [N, …], got a scalar {x.Shape}.", nameof(x));
        int groupSize = mode == "batch" || x.Length == 0 ? Math.Max(x.Length, 1) : x.Length / x.Shape[0];
        return DropGroups("StochasticDepth", x, p, training, rng, groupSize);
    }

    internal static void CheckStochasticDepthMode(string mode)
    {
        if (mode is not ("row" or "batch")) throw new ArgumentException($"StochasticDepth: mode must be \"row\" or \"batch\", got \"{mode}\".", nameof(mode));
    }

    internal static void CheckDropProbability(string op, float p)
    {
        if (!(p >= 0f && p <= 1f)) throw new ArgumentOutOfRangeException(nameof(p), p, $"{op}: the drop probability must be in [0, 1].");
    }

    /// <summary>Drops consecutive groups of <paramref name="groupSize"/> elements together: one mask value per group.</summary>
    private static Tensor DropGroups(string op, Tensor x, float p, bool training, Rng? rng, int groupSize)
    {
        CheckDropProbability(op, p);
        if (!training || p == 0f || x.Length == 0) return x;
        rng ??= Rng.Global;
        int groups = x.Length / groupSize;
        // The mask holds each group's factor, 0 or 1/(1 − p) (PyTorch's noise tensor); p = 1 drops everything.
        var mask = Tensor.Empty(groups);
        var factors = mask.Span;
        if (p == 1f) factors.Clear();
        else DrawMask(factors, p, 1f / (1f - p), rng);
        var y = Tensor.Empty(x.Shape);
        ApplyGroupFactors(x.Span, factors, groupSize, 0f, y.Span);
        if (Tape.NeedsGrad(x))
            Tape.Record(op, y, dy =>
            {
                var dx = Tape.GradientTarget(x, out float beta);
                ApplyGroupFactors(dy.Span, mask.Span, groupSize, beta, dx);
            }, x);
        return y;
    }

    /// <summary>
    /// factors[i] = 0 with probability p, else <paramref name="keptScale"/>. Each 64-bit draw
    /// decides two elements, one per 32-bit half (an element is dropped when its half is below
    /// p·2³²), in order, so the mask depends on the seed alone and costs half a draw per element.
    /// </summary>
    private static void DrawMask(Span<float> factors, float p, float keptScale, Rng rng)
    {
        ulong threshold = (ulong)Math.Round(p * 4294967296.0);
        int i = 0;
        for (; i + 1 < factors.Length; i += 2)
        {
            ulong bits = rng.NextUInt64();
            factors[i] = (bits & 0xFFFFFFFFUL) < threshold ? 0f : keptScale;
            factors[i + 1] = (bits >> 32) < threshold ? 0f : keptScale;
        }
        if (i < factors.Length) factors[i] = (rng.NextUInt64() & 0xFFFFFFFFUL) < threshold ? 0f : keptScale;
    }

    /// <summary>result = beta·result + values ⊙ factor of each value's group.</summary>
    private static void ApplyGroupFactors(ReadOnlySpan<float> values, ReadOnlySpan<float> factors, int groupSize, float beta, Span<float> result)
    {
        if (groupSize == 1)
        {
            if (beta == 0f) TensorPrimitives.Multiply(values, factors, result);
            else TensorPrimitives.MultiplyAdd(values, factors, result, result);
            return;
        }
        for (int g = 0; g < factors.Length; g++)
        {
            var source = values.Slice(g * groupSize, groupSize);
            var target = result.Slice(g * groupSize, groupSize);
            if (beta == 0f) TensorPrimitives.Multiply(source, factors[g], target);
            else TensorPrimitives.MultiplyAdd(source, factors[g], target, target);
        }
    }
}
