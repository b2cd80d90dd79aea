using System.Numerics.Tensors;
using Sinapse.Autograd;
using Sinapse.Tensors;

namespace Sinapse.Ops;

/// <summary>How a loss combines its per-element (or per-example) terms.</summary>
public enum Reduction { Mean, Sum, None }

public static partial class F
{
    /// <summary>Mean squared error ½-free, as PyTorch: mean((ŷ − y)²).</summary>
    public static Tensor MseLoss(Tensor prediction, Tensor target, Reduction reduction = Reduction.Mean)
    {
        SameShape(prediction, target, "MseLoss (prediction, target)");
        return PointwiseLoss("MseLoss", prediction, target, reduction, null,
            (p, t, _) => (p - t) * (p - t),
            (p, t, _) => 2f * (p - t));
    }

    /// <summary>
    /// Binary cross-entropy on probabilities, J = −(y log ŷ + (1−y) log(1−ŷ)). Like PyTorch, the
    /// logarithms are clamped at −100 so a saturated ŷ of exactly 0 or 1 gives a finite loss.
    /// </summary>
    /// <param name="weight">Scales each term; it broadcasts to the probabilities' shape and receives no gradient.</param>
    public static Tensor BinaryCrossEntropy(Tensor probability, Tensor target, Reduction reduction = Reduction.Mean, Tensor? weight = null)
    {
        const string op = "BinaryCrossEntropy";
        SameShape(probability, target, $"{op} (probability, target)");
        var weights = BroadcastOperand(op, weight, "weight", probability.Shape);
        foreach (var p in probability.Span)
            if (!(p >= 0f && p <= 1f)) throw new ArgumentException($"{op} needs probabilities in [0, 1], found {p}; use BinaryCrossEntropyWithLogits for raw scores.");
        return PointwiseLoss(op, probability, target, reduction, weights,
            (p, t, _) => -(t * MathF.Max(MathF.Log(p), -100f) + (1 - t) * MathF.Max(MathF.Log(1 - p), -100f)),
            (p, t, _) => (p - t) / MathF.Max(p * (1 - p), 1e-12f));
    }

    /// <summary>
    /// Binary cross-entropy on logits z, max(z,0) − z·y + log(1 + e^−|z|): stable for any z. As
    /// PyTorch's binary_cross_entropy_with_logits, <paramref name="posWeight"/> p scales the
    /// positive part, −p·y·log σ(z) − (1−y)·log(1 − σ(z)), which adds (p − 1)·y·softplus(−z).
    /// </summary>
    /// <param name="weight">Scales each term; it broadcasts to the logits' shape and receives no gradient.</param>
    /// <param name="posWeight">
    /// The positives' weight, broadcast to the logits' shape: one value per class [C] for
    /// multi-label logits [N, C] weighs each class's positives. It receives no gradient.
    /// </param>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean,
        Tensor? weight = null, Tensor? posWeight = null)
    {
        const string op = "BinaryCrossEntropyWithLogits";
        SameShape(logits, target, $"{op} (logits, target)");
        var weights = BroadcastOperand(op, weight, "weight", logits.Shape);
        var positives = BroadcastOperand(op, posWeight, "posWeight", logits.Shape);
        return PointwiseLoss(op, logits, target, reduction, weights,
            (z, t, i) =>
            {
                float softplus = MathF.Log(1f + MathF.Exp(-MathF.Abs(z)));
                float loss = MathF.Max(z, 0f) - z * t + softplus;
                return positives == null ? loss : loss + (positives.Span[i] - 1f) * t * (MathF.Max(-z, 0f) + softplus);
            },
            (z, t, i) =>
            {
                // d softplus(−z)/dz = −(1 − σ(z))
                float p = Logistic(z);
                return positives == null ? p - t : p - t - (positives.Span[i] - 1f) * t * (1f - p);
            });
    }

    /// <summary>
    /// The focal loss of Lin et al. (2017) on logits, as torchvision's sigmoid_focal_loss:
    /// α_t·(1 − p_t)^γ·BCE, which shrinks the loss of examples already classified well.
    /// α &lt; 0 disables the class weighting.
    /// </summary>
    public static Tensor FocalLoss(Tensor logits, Tensor target, float gamma = 2f, float alpha = 0.25f, Reduction reduction = Reduction.Mean)
    {
        SameShape(logits, target, "FocalLoss (logits, target)");
        if (!(gamma >= 0)) throw new ArgumentException($"FocalLoss needs gamma >= 0, got {gamma}.");
        return PointwiseLoss("FocalLoss", logits, target, reduction, null,
            (z, t, _) =>
            {
                float p = Logistic(z), pt = p * t + (1 - p) * (1 - t);
                float ce = MathF.Max(z, 0f) - z * t + MathF.Log(1f + MathF.Exp(-MathF.Abs(z)));
                return ClassWeight(alpha, t) * ce * MathF.Pow(1 - pt, gamma);
            },
            (z, t, _) =>
            {
                // d/dz [ce·(1−p_t)^γ] = (p − y)(1−p_t)^γ − γ·ce·(1−p_t)^(γ−1)·(2y − 1)·p(1−p)
                float p = Logistic(z), pt = p * t + (1 - p) * (1 - t);
                float ce = MathF.Max(z, 0f) - z * t + MathF.Log(1f + MathF.Exp(-MathF.Abs(z)));
                float modulating = MathF.Pow(1 - pt, gamma);
                float slope = (p - t) * modulating;
                if (gamma != 0 && pt < 1) slope -= gamma * ce * MathF.Pow(1 - pt, gamma - 1) * (2 * t - 1) * p * (1 - p);
                return ClassWeight(alpha, t) * slope;
            });
    }

    private static float ClassWeight(float alpha, float target) => alpha < 0 ? 1f : alpha * target + (1 - alpha) * (1 - target);

    private static float Logistic(float z) => z >= 0 ? 1f / (1f + MathF.Exp(-z)) : MathF.Exp(z) / (1f + MathF.Exp(z));

    /// <summary>A term of a pointwise loss (or its derivative in the prediction) at element <paramref name="index"/>.</summary>
    private delegate float PointwiseTerm(float prediction, float target, int index);

    /// <summary>
    /// A loss that is a sum of w[i]·f(prediction[i], target[i]) terms, with df/dprediction beside
    /// it; <paramref name="weight"/> (null: 1) has the prediction's shape.
    /// </summary>
    private static Tensor PointwiseLoss(string op, Tensor prediction, Tensor target, Reduction reduction, Tensor? weight,
        PointwiseTerm loss, PointwiseTerm gradient)
    {
        int count = prediction.Length;
        var terms = Tensor.Empty(prediction.Shape);
        var p = prediction.Span;
        var t = target.Span;
        var l = terms.Span;
        for (int i = 0; i < count; i++) l[i] = loss(p[i], t[i], i);
        if (weight != null) TensorPrimitives.Multiply(l, weight.Span, l);
        // As PyTorch's, the mean of no terms is 0/0 = NaN.
        var result = Reduce(terms, reduction, count);
        if (Tape.NeedsGrad(prediction))
            Tape.Record(op, result, gradOutput =>
            {
                var d = Tape.GradientTarget(prediction, out float beta);
                var p = prediction.Span;
                var t = target.Span;
                // beta = 0: d may hold a stale or pooled buffer (NaN included), so it is not read (0·NaN is NaN).
                for (int i = 0; i < count; i++)
                {
                    float slope = ReducedGradient(gradOutput, reduction, count, i) * gradient(p[i], t[i], i);
                    d[i] = (beta == 0f ? 0f : d[i]) + (weight == null ? slope : slope * weight.Span[i]);
                }
            }, prediction);
        return result;
    }

    /// <summary>
    /// An optional operand of a loss (a weight) repeated to <paramref name="shape"/>, which it must
    /// broadcast to without growing it; null stays null.
    /// </summary>
    private static Tensor? BroadcastOperand(string op, Tensor? operand, string name, Shape shape)
    {
        if (operand == null || operand.Shape == shape) return operand;
        bool fits = operand.Rank <= shape.Rank;
        for (int i = 1; fits && i <= operand.Rank; i++) fits = operand.Shape[^i] == 1 || operand.Shape[^i] == shape[^i];
        if (!fits) throw new ArgumentException($"{op}: {name} of shape {operand.Shape} does not broadcast to the input's shape {shape}.", name);
        using (GradMode.NoGrad()) return BroadcastTo(operand, shape.ToArray());
    }

    /// <summary>The loss from its terms: themselves, their sum, or their sum over <paramref name="denominator"/>.</summary>
    private static Tensor Reduce(Tensor terms, Reduction reduction, double denominator) => reduction switch
    {
        Reduction.None => terms,
        Reduction.Sum => Tensor.Scalar((float)SumInDouble(terms.Span)),
        _ => Tensor.Scalar((float)(SumInDouble(terms.Span) / denominator)),
    };

    /// <summary>The gradient reaching term <paramref name="index"/> through the reduction.</summary>
    private static float ReducedGradient(Tensor gradOutput, Reduction reduction, double denominator, int index) => reduction switch
    {
        Reduction.None => gradOutput.Span[index],
        Reduction.Sum => gradOutput.Span[0],
        _ => (float)(gradOutput.Span[0] / denominator),
    };

    // A loss over 60,000 terms summed in float would lose digits; double costs nothing here.
    private static double SumInDouble(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (var v in values) sum += v;
        return sum;
    }
}
