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
        // for the backward pass; then the variance, whose room the backward pass reuses, and the
        // backward pass's sums and factors.
        var perChannel = Tensor.Empty(9 * channels);
        var all = perChannel.Span;
        var center = all[..channels];
        var residual = all.Slice(channels, channels);
        var invStd = all.Slice(2 * channels, channels);
        var variance = all.Slice(5 * channels, channels);
        if (!training)
        {
            // A copy, so a later training step that moves the running statistics cannot change
            // what this output's backward pass uses.
            runningMean!.Span.CopyTo(center);
            residual.Clear();
            var varValues = runningVar!.Span;
            for (int c = 0; c < channels; c++) invStd[c] = (float)(1.0 / Math.Sqrt(varValues[c] + (double)eps));
        }
        var y = Tensor.Empty(x.Shape);
        Normalization.Forward(x.Span, batch, channels, spatial, eps, training, weight != null ? weight.Span : default, bias != null ? bias.Span : default,
            center, residual, variance, invStd, all.Slice(3 * channels, channels), all.Slice(4 * channels, channels), y.Span, activation);
        if (OnnxTrace.Current is { } trace) BatchNormOnnx(trace, x, runningMean, runningVar, weight, bias, training, eps, activation, y);
        if (training && runningMean != null && runningVar != null)
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

        if (Tape.NeedsGrad(x, weight, bias))
            Tape.Record("BatchNorm", y, gradOutput =>
            {
                var all = perChannel.Span;
                var invStd = all.Slice(2 * channels, channels);
                var sumGrad = all.Slice(5 * channels, channels);
                var sumGradCentered = all.Slice(8 * channels, channels);
                bool weightGrad = weight != null && weight.RequiresGrad, biasGrad = bias != null && bias.RequiresGrad;
                // Frozen γ and β in evaluation mode (fine-tuning around a frozen BN) need no sums: dx = (γ/σ)·dy.
                bool sums = training || weightGrad || biasGrad;
                float betaX = 0f;
                var dx = x.RequiresGrad ? Tape.GradientTarget(x, out betaX) : default;
                Normalization.Backward(x.Span, gradOutput.Span, batch, channels, spatial, training,
                    all[..channels], all.Slice(channels, channels), invStd, all.Slice(3 * channels, channels), all.Slice(4 * channels, channels),
                    sums ? sumGrad : default, sums ? sumGradCentered : default, all.Slice(6 * channels, channels), all.Slice(7 * channels, channels),
                    betaX, dx, activation);
                if (weightGrad)
                {
                    // dγ = Σ dy·x̂ = Σ dy·(x − μ) / σ
                    var dWeight = Tape.GradientTarget(weight!, out float betaW);
                    if (betaW == 0f) TensorPrimitives.Multiply(sumGradCentered, invStd, dWeight);
                    else TensorPrimitives.MultiplyAdd(sumGradCentered, invStd, dWeight, dWeight);
                }
                if (biasGrad) Tape.Accumulate(bias!, sumGrad);
            }, x, weight, bias);
        return y;
    }

    /// <summary>BatchNormalization with the running statistics (inference), then the fused activation's own node.</summary>
    private static void BatchNormOnnx(OnnxTrace trace, Tensor x, Tensor? runningMean, Tensor? runningVar, Tensor? weight, Tensor? bias, bool training, float eps,
        FusedActivation activation, Tensor y)
    {
        if (training || runningMean == null || runningVar == null)
            throw OnnxTrace.Unsupported("BatchNorm", "it normalises with each batch's own statistics (training mode, or no running statistics), which ONNX's BatchNormalization does not do");
        int channels = x.Shape[1];
        var scale = weight != null ? trace.Value(weight) : trace.Constant("scale", [channels], Enumerable.Repeat(1f, channels).ToArray());
        var shift = bias != null ? trace.Value(bias) : trace.Constant("shift", [channels], new float[channels]);
        var normalized = trace.Node("BatchNormalization", [trace.Value(x), scale, shift, trace.Value(runningMean), trace.Value(runningVar)], OnnxTrace.Float("epsilon", eps));
        trace.Bind(y, activation switch
        {
            FusedActivation.None => normalized,
            FusedActivation.Relu => trace.Node("Relu", [normalized]),
            _ => trace.Node("HardSwish", [normalized]),
        });
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
