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
        return PointwiseLoss("MseLoss", prediction, target, reduction,
            (p, t) => (p - t) * (p - t),
            (p, t) => 2f * (p - t));
    }

    /// <summary>
    /// Binary cross-entropy on probabilities, J = −(y log ŷ + (1−y) log(1−ŷ)). Like PyTorch, the
    /// logarithms are clamped at −100 so a saturated ŷ of exactly 0 or 1 gives a finite loss.
    /// </summary>
    public static Tensor BinaryCrossEntropy(Tensor probability, Tensor target, Reduction reduction = Reduction.Mean)
    {
        SameShape(probability, target, "BinaryCrossEntropy (probability, target)");
        foreach (var p in probability.Span)
            if (!(p >= 0f && p <= 1f)) throw new ArgumentException($"BinaryCrossEntropy needs probabilities in [0, 1], found {p}; use BinaryCrossEntropyWithLogits for raw scores.");
        return PointwiseLoss("BinaryCrossEntropy", probability, target, reduction,
            (p, t) => -(t * MathF.Max(MathF.Log(p), -100f) + (1 - t) * MathF.Max(MathF.Log(1 - p), -100f)),
            (p, t) => (p - t) / MathF.Max(p * (1 - p), 1e-12f));
    }

    /// <summary>Binary cross-entropy on logits z, max(z,0) − z·y + log(1 + e^−|z|): stable for any z.</summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean)
    {
        SameShape(logits, target, "BinaryCrossEntropyWithLogits (logits, target)");
        return PointwiseLoss("BinaryCrossEntropyWithLogits", logits, target, reduction,
            (z, t) => MathF.Max(z, 0f) - z * t + MathF.Log(1f + MathF.Exp(-MathF.Abs(z))),
            (z, t) => Logistic(z) - t);
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
        return PointwiseLoss("FocalLoss", logits, target, reduction,
            (z, t) =>
            {
                float p = Logistic(z), pt = p * t + (1 - p) * (1 - t);
                float ce = MathF.Max(z, 0f) - z * t + MathF.Log(1f + MathF.Exp(-MathF.Abs(z)));
                return ClassWeight(alpha, t) * ce * MathF.Pow(1 - pt, gamma);
            },
            (z, t) =>
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

    /// <summary>
    /// Cross-entropy of softmax(logits) [N, C] against integer class labels [N] or target
    /// distributions [N, C] (one-hot or soft). Fused: the gradient is softmax − target, with no
    /// softmax saved and no division by a probability.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, Reduction reduction = Reduction.Mean)
    {
        if (logits.Rank != 2) throw new ArgumentException($"CrossEntropy needs logits [batch, classes], got {logits.Shape}.");
        int rows = logits.Shape[0], classes = logits.Shape[1];
        bool labels = target.Rank == 1;
        if (labels ? target.Length != rows : target.Shape != logits.Shape)
            throw new ArgumentException($"CrossEntropy: logits {logits.Shape} need labels [{rows}] or targets [{rows}, {classes}], got {target.Shape}.");
        if (labels) CheckLabels(target.Span, classes);

        var probabilities = Tensor.Empty(logits.Shape);
        var perExample = Tensor.Empty(rows);
        for (int r = 0; r < rows; r++)
        {
            var z = logits.Span.Slice(r * classes, classes);
            float logSum = LogSumExp(z);
            var p = probabilities.Span.Slice(r * classes, classes);
            TensorPrimitives.Subtract(z, logSum, p); // log-probabilities for now
            perExample.Span[r] = labels ? -p[(int)target.Span[r]] : -TensorPrimitives.Dot(target.Span.Slice(r * classes, classes), p);
            TensorPrimitives.Exp(p, p);
        }
        var loss = Reduce(perExample, reduction, rows);
        if (Tape.NeedsGrad(logits))
            Tape.Record("CrossEntropy", loss, gradOutput =>
            {
                var dz = Tape.GradientTarget(logits, out float beta);
                for (int r = 0; r < rows; r++)
                {
                    float scale = ReducedGradient(gradOutput, reduction, rows, r);
                    var p = probabilities.Span.Slice(r * classes, classes);
                    var d = dz.Slice(r * classes, classes);
                    // softmax − target, for a distribution whose mass may differ from 1: p·Σt − t
                    float mass = labels ? 1f : TensorPrimitives.Sum(target.Span.Slice(r * classes, classes));
                    for (int c = 0; c < classes; c++)
                    {
                        float t = labels ? (c == (int)target.Span[r] ? 1f : 0f) : target.Span[r * classes + c];
                        d[c] = (beta == 0f ? 0f : d[c]) + scale * (p[c] * mass - t); // beta = 0: d may be garbage, never read it
                    }
                }
            }, logits);
        return loss;
    }

    /// <summary>Negative log-likelihood of log-probabilities [N, C] at integer labels [N].</summary>
    public static Tensor NllLoss(Tensor logProbabilities, Tensor labels, Reduction reduction = Reduction.Mean)
    {
        if (logProbabilities.Rank != 2 || labels.Rank != 1 || labels.Length != logProbabilities.Shape[0])
            throw new ArgumentException($"NllLoss needs log-probabilities [batch, classes] and labels [batch], got {logProbabilities.Shape} and {labels.Shape}.");
        int rows = logProbabilities.Shape[0], classes = logProbabilities.Shape[1];
        CheckLabels(labels.Span, classes);
        var perExample = Tensor.Empty(rows);
        for (int r = 0; r < rows; r++) perExample.Span[r] = -logProbabilities.Span[r * classes + (int)labels.Span[r]];
        var loss = Reduce(perExample, reduction, rows);
        if (Tape.NeedsGrad(logProbabilities))
            Tape.Record("NllLoss", loss, gradOutput =>
            {
                var d = Tape.GradientTarget(logProbabilities, out float beta);
                if (beta == 0f) d.Clear();
                for (int r = 0; r < rows; r++) d[r * classes + (int)labels.Span[r]] -= ReducedGradient(gradOutput, reduction, rows, r);
            }, logProbabilities);
        return loss;
    }

    private static float ClassWeight(float alpha, float target) => alpha < 0 ? 1f : alpha * target + (1 - alpha) * (1 - target);

    private static float Logistic(float z) => z >= 0 ? 1f / (1f + MathF.Exp(-z)) : MathF.Exp(z) / (1f + MathF.Exp(z));

    private static void CheckLabels(ReadOnlySpan<float> labels, int classes)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            float label = labels[i];
            if (!(label >= 0 && label < classes && label == MathF.Floor(label)))
                throw new ArgumentException($"Label {label} at position {i} is not a class index in [0, {classes}).");
        }
    }

    /// <summary>A loss that is a sum of f(prediction[i], target[i]) terms, with df/dprediction beside it.</summary>
    private static Tensor PointwiseLoss(string op, Tensor prediction, Tensor target, Reduction reduction,
        Func<float, float, float> loss, Func<float, float, float> gradient)
    {
        int count = prediction.Length;
        var terms = Tensor.Empty(prediction.Shape);
        var p = prediction.Span;
        var t = target.Span;
        var l = terms.Span;
        for (int i = 0; i < count; i++) l[i] = loss(p[i], t[i]);
        var result = Reduce(terms, reduction, count);
        if (Tape.NeedsGrad(prediction))
            Tape.Record(op, result, gradOutput =>
            {
                var d = Tape.GradientTarget(prediction, out float beta);
                var p = prediction.Span;
                var t = target.Span;
                // beta = 0: d may hold a stale or pooled buffer (NaN included), so it is not read (0·NaN is NaN).
                for (int i = 0; i < count; i++) d[i] = (beta == 0f ? 0f : d[i]) + ReducedGradient(gradOutput, reduction, count, i) * gradient(p[i], t[i]);
            }, prediction);
        return result;
    }

    private static Tensor Reduce(Tensor terms, Reduction reduction, int count) => reduction switch
    {
        Reduction.None => terms,
        Reduction.Sum => Tensor.Scalar((float)SumInDouble(terms.Span)),
        _ => Tensor.Scalar((float)(SumInDouble(terms.Span) / Math.Max(count, 1))),
    };

    /// <summary>The gradient reaching term <paramref name="index"/> through the reduction.</summary>
    private static float ReducedGradient(Tensor gradOutput, Reduction reduction, int count, int index) => reduction switch
    {
        Reduction.None => gradOutput.Span[index],
        Reduction.Sum => gradOutput.Span[0],
        _ => gradOutput.Span[0] / count,
    };

    // A loss over 60,000 terms summed in float would lose digits; double costs nothing here.
    private static double SumInDouble(ReadOnlySpan<float> values)
    {
        double sum = 0;
        foreach (var v in values) sum += v;
        return sum;
    }
}
