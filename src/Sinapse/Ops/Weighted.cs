using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Ops;

/// <summary>y = op(x, w) + b into <paramref name="output"/>; <paramref name="bias"/> is empty when there is none.</summary>
internal delegate void WeightedForward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output);

/// <summary>The gradients of a <see cref="WeightedForward"/>; an empty target is not wanted, a beta of 0 overwrites and 1 accumulates.</summary>
internal delegate void WeightedBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> gradOutput,
    Span<float> gradInput, float gradInputBeta, Span<float> gradWeight, float gradWeightBeta, Span<float> gradBias, float gradBiasBeta);

public static partial class F
{
    /// <summary>
    /// Runs a weighted op (linear, convolution, transposed convolution) and records its backward pass. In float32 it works
    /// on the tensors themselves and keeps the input for the weight gradient. Under
    /// <see cref="MixedPrecision.Autocast"/> it is torch.autocast's recipe: input, weight and bias
    /// rounded to the 16-bit format, products accumulated in float32 (the float32 kernels run on
    /// the widened 16-bit values, which float32 holds exactly), the output rounded to the format;
    /// input and weight kept for backward as 16-bit copies; the incoming gradient and the
    /// gradients passed back rounded to the format too, as they are in PyTorch, where they are
    /// 16-bit tensors — that is where float16's gradients underflow or overflow and loss scaling
    /// matters.
    /// </summary>
    private static Tensor Weighted(string op, Tensor input, Tensor weight, Tensor? bias, Shape outputShape,
        WeightedForward forward, WeightedBackward backward)
    {
        var output = Tensor.Empty(outputShape);
        var precision = MixedPrecision.Current;
        bool record = Tape.NeedsGrad(input, weight, bias);
        if (precision == Precision.Float32)
        {
            forward(input.Span, weight.Span, bias != null ? bias.Span : default, output.Span);
            if (record)
            {
                Tape.Record(op, output, gradOutput =>
                {
                    var targets = new GradientTargets(input, weight, bias);
                    backward(input.Span, weight.Span, gradOutput.Span, targets.Input, targets.InputBeta,
                        targets.Weight, targets.WeightBeta, targets.Bias, targets.BiasBeta);
                }, input, weight, bias);
                output.Node!.SavedBytes = (long)input.Length * sizeof(float);
            }
            return output;
        }

        // Only a recorded op keeps 16-bit copies; inference rounds straight into scratch.
        Tensor16? input16 = record ? new Tensor16(input, precision) : null;
        Tensor16? weight16 = record ? new Tensor16(weight, precision) : null;
        using (TensorScope.Begin())
            forward(Rounded(input, input16, precision), Rounded(weight, weight16, precision),
                bias != null ? Rounded(bias, null, precision) : default, output.Span);
        MixedPrecision.Round(precision, output.Span);
        if (record)
        {
            Tape.Record(op, output, gradOutput =>
            {
                var targets = new GradientTargets(input, weight, bias);
                using var scratch = TensorScope.Begin();
                var gradient = Tensor.Empty(gradOutput.Shape).Span;
                MixedPrecision.Round(precision, gradOutput.Span, gradient);
                // Each gradient is made alone (beta 0) so that it can be rounded before it joins any already there.
                var dx = Alone(targets.Input, targets.InputBeta);
                var dw = Alone(targets.Weight, targets.WeightBeta);
                var db = Alone(targets.Bias, targets.BiasBeta);
                backward(input16!.Widen().Span, weight16!.Widen().Span, gradient, dx, 0f, dw, 0f, db, 0f);
                RoundInto(precision, dx, targets.Input, targets.InputBeta);
                RoundInto(precision, dw, targets.Weight, targets.WeightBeta);
                RoundInto(precision, db, targets.Bias, targets.BiasBeta);
            }, input, weight, bias);
            output.Node!.SavedBytes = input16!.Bytes + weight16!.Bytes;
        }
        return output;
    }

    /// <summary>The tensor's values rounded to the 16-bit format, as float32 scratch of the current scope: widened from its saved copy when there is one.</summary>
    private static Span<float> Rounded(Tensor tensor, Tensor16? copy, Precision precision)
    {
        if (copy != null) return copy.Widen().Span;
        var rounded = Tensor.Empty(tensor.Shape).Span;
        MixedPrecision.Round(precision, tensor.Span, rounded);
        return rounded;
    }

    private static Span<float> Alone(Span<float> target, float beta) =>
        beta == 0f || target.IsEmpty ? target : Tensor.Empty(target.Length).Span;

    private static void RoundInto(Precision precision, Span<float> gradient, Span<float> target, float beta)
    {
        MixedPrecision.Round(precision, gradient);
        if (beta != 0f) TensorPrimitives.Add(target, gradient, target);
    }

    /// <summary>Where a weighted op's backward writes: only the gradients someone needs (a frozen weight or bias gets none).</summary>
    private readonly ref struct GradientTargets
    {
        public readonly Span<float> Input, Weight, Bias;
        public readonly float InputBeta, WeightBeta, BiasBeta;

        public GradientTargets(Tensor input, Tensor weight, Tensor? bias)
        {
            if (input.RequiresGrad) Input = Tape.GradientTarget(input, out InputBeta);
            if (weight.RequiresGrad) Weight = Tape.GradientTarget(weight, out WeightBeta);
            if (bias != null && bias.RequiresGrad) Bias = Tape.GradientTarget(bias, out BiasBeta);
        }
    }
}
