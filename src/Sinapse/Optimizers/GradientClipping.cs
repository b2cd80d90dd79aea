using System.Numerics.Tensors;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Optimizers;

/// <summary>How <see cref="GradientClipping"/> limits gradients.</summary>
public enum ClippingMode
{
    /// <summary>Each component into [−c, c] (PyTorch's clip_grad_value_): changes the gradient's direction.</summary>
    Value,

    /// <summary>All gradients scaled together when their global L2 norm exceeds the limit (clip_grad_norm_): keeps the direction.</summary>
    Norm,
}

/// <summary>
/// Gradient clipping against exploding gradients, applied after the backward pass and before the
/// optimizer's step (set <see cref="Training.Trainer.Clipping"/>, or call <see cref="Apply(IEnumerable{Tensor})"/> or
/// the static functions on any parameters). Parameters without a gradient are skipped.
/// </summary>
public sealed class GradientClipping
{
    /// <summary>PyTorch's guard against dividing by a zero norm in clip_grad_norm_.</summary>
    public const float NormEpsilon = 1e-6f;

    private GradientClipping(ClippingMode mode, float limit)
    {
        if (!(limit > 0) || float.IsInfinity(limit)) throw new ArgumentOutOfRangeException(nameof(limit), limit, "The clipping limit must be a finite number > 0.");
        (Mode, Limit) = (mode, limit);
    }

    /// <summary>|g| ≤ c for every component; the course's example uses c = 1.</summary>
    public static GradientClipping ByValue(float clipValue = 1f) => new(ClippingMode.Value, clipValue);

    /// <summary>The global L2 norm over all gradients at most <paramref name="maxNorm"/>.</summary>
    public static GradientClipping ByNorm(float maxNorm) => new(ClippingMode.Norm, maxNorm);

    public ClippingMode Mode { get; }

    /// <summary>c for <see cref="ClippingMode.Value"/>, max_norm for <see cref="ClippingMode.Norm"/>.</summary>
    public float Limit { get; }

    /// <summary>The global gradient norm the last <see cref="Apply(IEnumerable{Tensor})"/> measured (before clipping); NaN until then or in value mode.</summary>
    public float LastNorm { get; private set; } = float.NaN;

    /// <summary>Clips the gradients of <paramref name="parameters"/> in place; returns the total norm before clipping in norm mode, else NaN.</summary>
    public float Apply(IEnumerable<Tensor> parameters) =>
        Apply(parameters, Mode == ClippingMode.Norm ? GlobalNorm(parameters) : double.NaN);

    /// <summary>
    /// <see cref="Apply(IEnumerable{Tensor})"/> with the global norm already measured
    /// (<see cref="GlobalNorm"/>: a trainer measures it once per step for clipping, monitoring and its divergence check).
    /// </summary>
    public float Apply(IEnumerable<Tensor> parameters, double globalNorm)
    {
        if (Mode == ClippingMode.Value)
        {
            ClipByValue(parameters, Limit);
            return float.NaN;
        }
        return LastNorm = ScaleToNorm(parameters, Limit, globalNorm);
    }

    /// <summary>
    /// ‖g‖₂ over every gradient of <paramref name="parameters"/> taken together, in double (a norm
    /// beyond float's range stays finite here); non-finite when a gradient is. Parameters without a gradient are skipped.
    /// </summary>
    public static double GlobalNorm(IEnumerable<Tensor> parameters)
    {
        double sum = 0;
        foreach (var p in parameters)
            if (p.Grad is { } g) sum += SumOfSquares.Of(g.Buffer, g.Offset, g.Length);
        return Math.Sqrt(sum);
    }

    public override string ToString() => Mode == ClippingMode.Value ? $"clip by value (|g| <= {Limit})" : $"clip by global norm (||g|| <= {Limit})";

    /// <summary>Every gradient component clamped into [−<paramref name="clipValue"/>, <paramref name="clipValue"/>], as torch.nn.utils.clip_grad_value_.</summary>
    public static void ClipByValue(IEnumerable<Tensor> parameters, float clipValue)
    {
        if (!(clipValue > 0)) throw new ArgumentOutOfRangeException(nameof(clipValue), clipValue, "The clip value must be > 0.");
        foreach (var p in parameters)
        {
            if (p.Grad == null) continue;
            var g = p.Grad.Span;
            TensorPrimitives.Min(g, clipValue, g);
            TensorPrimitives.Max(g, -clipValue, g);
        }
    }

    /// <summary>
    /// As torch.nn.utils.clip_grad_norm_ (L2): the total norm ‖g‖ over every parameter's gradient
    /// taken together; when it exceeds <paramref name="maxNorm"/>, every gradient is multiplied by
    /// max_norm / (‖g‖ + 1e-6). Returns ‖g‖ before clipping (non-finite when a gradient is).
    /// </summary>
    public static float ClipByNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "The maximum norm must be > 0.");
        return ScaleToNorm(parameters, maxNorm, GlobalNorm(parameters));
    }

    private static float ScaleToNorm(IEnumerable<Tensor> parameters, float maxNorm, double globalNorm)
    {
        float total = (float)globalNorm;
        // PyTorch multiplies by min(coefficient, 1), which leaves gradients below the limit untouched.
        float coefficient = (float)(maxNorm / (total + (double)NormEpsilon));
        if (coefficient < 1f)
            foreach (var p in parameters)
                if (p.Grad != null) TensorPrimitives.Multiply(p.Grad.Span, coefficient, p.Grad.Span);
        return total;
    }
}
