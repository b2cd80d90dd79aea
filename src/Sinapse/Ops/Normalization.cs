using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Kernels;
using Sinapse.Tensors;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// Batch normalisation over the channels (axis 1) of x [N, C], [N, C, L] or [N, C, H, W], as
    /// torch.nn.functional.batch_norm: y = (x − μ)/√(σ² + eps)·γ + β per channel.
    /// </summary>
    /// <remarks>
    /// <para>Training: μ and σ² are the batch mean and biased variance over the M = N·L (or N·H·W)
    /// values of each channel, and the running statistics (when given) move towards the batch's,
    /// running = (1 − momentum)·running + momentum·batch, with the unbiased variance σ²·M/(M − 1)
    /// for running_var, exactly as PyTorch. Evaluation: μ and σ² are the running statistics, which
    /// are left unchanged.</para>
    /// <para>One op with a hand-written backward (the closed form
    /// dx = (γ/σ)/M·(M·dy − Σdy − x̂·Σ(dy·x̂)), dγ = Σ dy·x̂, dβ = Σ dy); the running statistics
    /// are buffers and get no gradient. With a fused activation, dy there is the gradient reaching
    /// the normalised value, dz·act'(y), with y recomputed from x.</para>
    /// </remarks>
    /// <param name="runningMean">[C], updated in place in training; null to use batch statistics only (PyTorch's track_running_stats = False).</param>
    /// <param name="runningVar">[C], as <paramref name="runningMean"/>; both or neither.</param>
    /// <param name="weight">γ [C], or null for γ = 1 (affine = False).</param>
    /// <param name="bias">β [C], or null for β = 0.</param>
    /// <param name="activation">An activation applied to the output in the same pass: the result
    /// is F.Relu or F.HardSwish of the normalised output, without its own passes over memory.</param>
    public static Tensor BatchNorm(Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool training,
        float momentum = 0.1f, float eps = 1e-5f, FusedActivation activation = FusedActivation.None)
    {
        var (batch, channels, spatial) = BatchNormGeometry("BatchNorm", x.Shape, runningMean, runningVar, weight, bias, training);
        if (!(eps >= 0f)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "BatchNorm: eps must be >= 0.");
        // The kernels fuse only over planes; a column per channel gets the activation as its own op.
        if (spatial == 1 && activation != FusedActivation.None)
        {
            var normalized = BatchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps);
            return activation == FusedActivation.Relu ? Relu(normalized) : HardSwish(normalized);
        }
        long count = (long)batch * spatial;

        // Per-channel scratch: the float center, its residual (center + residual is the mean to
        // double precision), 1/σ, the scale γ/σ and the shift the output was normalised with, kept
        // for the backward pass; then the variance, whose room the backward pass reuses, and three
        // vectors for the backward pass.
        var perChannel = Tensor.Empty(9 * channels);
        var all = perChannel.Span;
        var center = all[..channels];
        var residual = all.Slice(channels, channels);
        var invStd = all.Slice(2 * channels, channels);
        var scale = all.Slice(3 * channels, channels);
        var shift = all.Slice(4 * channels, channels);
        var variance = all.Slice(5 * channels, channels);

        if (training)
        {
            Normalization.Statistics(x.Span, batch, channels, spatial, eps, center, residual, variance, invStd);
            if (runningMean != null && runningVar != null)
            {
                // PyTorch's update: the unbiased variance feeds running_var.
                double unbiased = (double)count / (count - 1);
                var meanValues = runningMean.Span;
                var varValues = runningVar.Span;
                for (int c = 0; c < channels; c++)
                {
                    meanValues[c] = (float)((1.0 - momentum) * meanValues[c] + momentum * ((double)center[c] + residual[c]));
                    varValues[c] = (float)((1.0 - momentum) * varValues[c] + momentum * (variance[c] * unbiased));
                }
            }
        }
        else
        {
            // A copy, so a later training step that moves the running statistics cannot change
            // what this output's backward pass uses.
            runningMean!.Span.CopyTo(center);
            residual.Clear();
            var varValues = runningVar!.Span;
            for (int c = 0; c < channels; c++) invStd[c] = (float)(1.0 / Math.Sqrt(varValues[c] + (double)eps));
        }
        if (weight != null) TensorPrimitives.Multiply(weight.Span, invStd, scale);
        else invStd.CopyTo(scale);
        if (bias != null) bias.Span.CopyTo(shift);
        else shift.Clear();
        // (x − μ)·scale + β = (x − center)·scale + (β − residual·scale)
        for (int c = 0; c < channels; c++) shift[c] -= residual[c] * scale[c];

        var y = Tensor.Empty(x.Shape);
        Normalization.Normalize(x.Span, batch, channels, spatial, center, scale, shift, y.Span, activation);

        if (Tape.NeedsGrad(x, weight, bias))
            Tape.Record("BatchNorm", y, gradOutput =>
            {
                var all = perChannel.Span;
                var center = all[..channels];
                var residual = all.Slice(channels, channels);
                var invStd = all.Slice(2 * channels, channels);
                var scale = all.Slice(3 * channels, channels);
                var shift = all.Slice(4 * channels, channels);
                var sumGrad = all.Slice(5 * channels, channels);
                var sumGradCentered = all.Slice(8 * channels, channels);
                var dy = gradOutput.Span;
                bool weightGrad = weight != null && weight.RequiresGrad, biasGrad = bias != null && bias.RequiresGrad;
                // Frozen γ and β in evaluation mode (fine-tuning around a frozen BN) need no sums: dx = (γ/σ)·dy.
                if (training || weightGrad || biasGrad)
                {
                    Normalization.GradientSums(x.Span, dy, batch, channels, spatial, center, sumGrad, sumGradCentered, activation, scale, shift);
                    // Σ dy·(x − μ) = Σ dy·(x − center) − residual·Σ dy
                    for (int c = 0; c < channels; c++) sumGradCentered[c] -= residual[c] * sumGrad[c];
                }

                if (weightGrad)
                {
                    // dγ = Σ dy·x̂ = Σ dy·(x − μ) / σ
                    var dWeight = Tape.GradientTarget(weight!, out float betaW);
                    if (betaW == 0f) TensorPrimitives.Multiply(sumGradCentered, invStd, dWeight);
                    else TensorPrimitives.MultiplyAdd(sumGradCentered, invStd, dWeight, dWeight);
                }
                if (biasGrad) Tape.Accumulate(bias!, sumGrad);
                if (!x.RequiresGrad) return;

                // dx = k·dy + (x − μ)·p + q with k = γ/σ; in training p = −k·Σ(dy·x̂)/(M·σ) and
                // q = −k·Σdy/M (the batch statistics depend on x); in evaluation p = q = 0.
                var centeredScale = all.Slice(6 * channels, channels);
                var offset = all.Slice(7 * channels, channels);
                for (int c = 0; c < channels; c++)
                {
                    if (training)
                    {
                        double k = scale[c], s = invStd[c];
                        double p = -k * sumGradCentered[c] * s * s / count;
                        centeredScale[c] = (float)p;
                        // (x − μ)·p + q = (x − center)·p + (q − residual·p)
                        offset[c] = (float)(-k * sumGrad[c] / count - residual[c] * p);
                    }
                    else centeredScale[c] = offset[c] = 0f;
                }
                var dx = Tape.GradientTarget(x, out float betaX);
                Normalization.InputGradient(x.Span, dy, batch, channels, spatial, center, scale, centeredScale, offset, betaX, dx, activation, scale, shift);
            }, x, weight, bias);
        return y;
    }

    /// <summary>
    /// Validates batch-norm arguments before any kernel runs and views x as [batch, channels, spatial].
    /// </summary>
    internal static (int Batch, int Channels, int Spatial) BatchNormGeometry(string op, Shape input,
        Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool training)
    {
        if (input.Rank < 2) throw new ArgumentException($"{op}: expects an input [N, C] or [N, C, ...] with channels on axis 1, got {input}.");
        int batch = input[0], channels = input[1];
        if (channels == 0) throw new ArgumentException($"{op}: the input {input} has no channels.");
        int spatial = 1;
        for (int axis = 2; axis < input.Rank; axis++) spatial *= input[axis];
        if (spatial == 0) throw new ArgumentException($"{op}: the input {input} has empty channels.");
        foreach (var (name, tensor) in new[] { ("running mean", runningMean), ("running variance", runningVar), ("weight", weight), ("bias", bias) })
            if (tensor != null && (tensor.Rank != 1 || tensor.Length != channels))
                throw new ArgumentException($"{op}: the {name} must be [{channels}] for the {channels} channels of the input {input}, got {tensor.Shape}.");
        if ((runningMean == null) != (runningVar == null))
            throw new ArgumentException($"{op}: pass both the running mean and the running variance, or neither.");
        if (training && (long)batch * spatial <= 1)
            throw new ArgumentException($"{op}: expected more than 1 value per channel when training, got input {input}.");
        if (!training && runningMean == null)
            throw new ArgumentException($"{op}: evaluation mode normalises with the running statistics, but none were given (use training mode for batch statistics).");
        return (batch, channels, spatial);
    }
}
