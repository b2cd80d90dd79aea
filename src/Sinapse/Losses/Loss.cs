using System.Globalization;
using Sinapse.Ops;

namespace Sinapse.Losses;

/// <summary>A training objective: compares a model's output with the targets and returns a scalar (or per-term) loss.</summary>
public abstract class Loss(Reduction reduction)
{
    public Reduction Reduction { get; } = reduction;

    public abstract Tensor Forward(Tensor prediction, Tensor target);

    /// <summary>The name the CLI and model files use.</summary>
    public abstract string Name { get; }

    public override string ToString() => Name;

    /// <summary>
    /// A loss by name: cross_entropy or cross_entropy(label_smoothing), probability_cross_entropy or
    /// probability_cross_entropy(eps) (on softmax probabilities, clipped as Keras does), mse, bce, bce_with_logits,
    /// focal or focal(gamma, alpha), nll. Class and positive weights are given to the constructors.
    /// </summary>
    public static Loss Parse(string text, Reduction reduction = Reduction.Mean)
    {
        var name = text.Trim().ToLowerInvariant();
        int open = name.IndexOf('(');
        // Only the name's dashes become underscores: an argument may be negative ("focal(2, -1)").
        var head = (open < 0 ? name : name[..open].Trim()).Replace('-', '_');
        var arguments = open < 0 ? [] : name[(open + 1)..].TrimEnd(')').Split(',', StringSplitOptions.TrimEntries)
            .Select(a => float.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new ArgumentException($"Loss '{text}': '{a}' is not a number.")).ToArray();
        return (head, arguments.Length) switch
        {
            ("cross_entropy" or "crossentropy" or "categorical_crossentropy", 0) => new CrossEntropyLoss(reduction),
            ("cross_entropy" or "crossentropy" or "categorical_crossentropy", 1) => new CrossEntropyLoss(reduction, labelSmoothing: arguments[0]),
            ("probability_cross_entropy", 0) => new ProbabilityCrossEntropyLoss(reduction: reduction),
            ("probability_cross_entropy", 1) => new ProbabilityCrossEntropyLoss(arguments[0], reduction),
            ("mse" or "mean_squared_error", 0) => new MseLoss(reduction),
            ("bce" or "binary_crossentropy", 0) => new BinaryCrossEntropyLoss(reduction),
            ("bce_with_logits", 0) => new BinaryCrossEntropyWithLogitsLoss(reduction),
            ("focal", 0) => new FocalLoss(reduction: reduction),
            ("focal", 2) => new FocalLoss(arguments[0], arguments[1], reduction),
            ("nll", 0) => new NllLoss(reduction),
            _ => throw new ArgumentException($"Unknown loss '{text}'. Expected one of: cross_entropy, cross_entropy(label_smoothing), probability_cross_entropy(eps), mse, bce, bce_with_logits, focal(gamma, alpha), nll."),
        };
    }
}

/// <summary>
/// Softmax cross-entropy on logits (classes on axis 1), against class indices or one-hot/soft
/// targets (fused, stable), as PyTorch's CrossEntropyLoss; see <see cref="F.CrossEntropy"/> for
/// the class weights, the ignored index and label smoothing.
/// </summary>
public sealed class CrossEntropyLoss(Reduction reduction = Reduction.Mean, Tensor? weight = null, int ignoreIndex = -100, float labelSmoothing = 0f) : Loss(reduction)
{
    /// <summary>One weight per class [C], or null for none.</summary>
    public Tensor? Weight { get; } = weight == null || weight.Rank == 1 ? weight
        : throw new ArgumentException($"CrossEntropyLoss: weight must hold one value per class, [C], got {weight.Shape}.", nameof(weight));
    public int IgnoreIndex { get; } = ignoreIndex;
    public float LabelSmoothing { get; } = CheckedLabelSmoothing(labelSmoothing);

    public override Tensor Forward(Tensor prediction, Tensor target) => F.CrossEntropy(prediction, target, Reduction, Weight, IgnoreIndex, LabelSmoothing);

    /// <summary>cross_entropy, or cross_entropy(ε) with label smoothing (the weights and ignored index are not part of the name).</summary>
    public override string Name => LabelSmoothing == 0f ? "cross_entropy" : string.Create(CultureInfo.InvariantCulture, $"cross_entropy({LabelSmoothing})");

    private static float CheckedLabelSmoothing(float labelSmoothing)
    {
        F.CheckLabelSmoothing("CrossEntropyLoss", labelSmoothing);
        return labelSmoothing;
    }
}

/// <summary>
/// Cross-entropy of softmax probabilities (the model ends in a Softmax) at class indices, each
/// probability clipped to [ε, 1 − ε] first, as Keras's categorical_crossentropy does when it sees
/// probabilities instead of logits; see <see cref="F.ProbabilityCrossEntropy"/>. Prefer
/// <see cref="CrossEntropyLoss"/> on logits: the clip stops the gradient of a saturated softmax.
/// </summary>
public sealed class ProbabilityCrossEntropyLoss(float eps = 1e-7f, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public float Eps { get; } = CheckedEps(eps);

    public override Tensor Forward(Tensor prediction, Tensor target) => F.ProbabilityCrossEntropy(prediction, target, Eps, Reduction);

    /// <summary>probability_cross_entropy at Keras's ε = 1e-7, probability_cross_entropy(ε) otherwise.</summary>
    public override string Name => Eps == 1e-7f ? "probability_cross_entropy" : string.Create(CultureInfo.InvariantCulture, $"probability_cross_entropy({Eps})");

    private static float CheckedEps(float eps)
    {
        F.CheckProbabilityEps("ProbabilityCrossEntropyLoss", eps);
        return eps;
    }
}

public sealed class MseLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor prediction, Tensor target) => F.MseLoss(prediction, target, Reduction);
    public override string Name => "mse";
}

/// <summary>Binary cross-entropy on probabilities (after a sigmoid); <paramref name="weight"/> scales each term and broadcasts to the input.</summary>
public sealed class BinaryCrossEntropyLoss(Reduction reduction = Reduction.Mean, Tensor? weight = null) : Loss(reduction)
{
    public Tensor? Weight { get; } = weight;
    public override Tensor Forward(Tensor prediction, Tensor target) => F.BinaryCrossEntropy(prediction, target, Reduction, Weight);
    public override string Name => "bce";
}

/// <summary>
/// Binary cross-entropy on logits: the sigmoid folded in, stable for any logit. As PyTorch's
/// BCEWithLogitsLoss, <paramref name="weight"/> scales each term and <paramref name="posWeight"/>
/// the positives' part (one value per class [C] for multi-label [N, C]); both broadcast to the input.
/// </summary>
public sealed class BinaryCrossEntropyWithLogitsLoss(Reduction reduction = Reduction.Mean, Tensor? weight = null, Tensor? posWeight = null) : Loss(reduction)
{
    public Tensor? Weight { get; } = weight;
    public Tensor? PosWeight { get; } = posWeight;
    public override Tensor Forward(Tensor prediction, Tensor target) => F.BinaryCrossEntropyWithLogits(prediction, target, Reduction, Weight, PosWeight);
    public override string Name => "bce_with_logits";
}

/// <summary>Sigmoid focal loss on logits (torchvision's definition).</summary>
public sealed class FocalLoss(float gamma = 2f, float alpha = 0.25f, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public float Gamma { get; } = gamma;
    public float Alpha { get; } = alpha;
    public override Tensor Forward(Tensor prediction, Tensor target) => F.FocalLoss(prediction, target, Gamma, Alpha, Reduction);
    public override string Name => string.Create(CultureInfo.InvariantCulture, $"focal({Gamma}, {Alpha})");
}

/// <summary>Negative log-likelihood of log-probabilities (after LogSoftmax over axis 1) at class indices, with PyTorch's class weights and ignored index.</summary>
public sealed class NllLoss(Reduction reduction = Reduction.Mean, Tensor? weight = null, int ignoreIndex = -100) : Loss(reduction)
{
    public Tensor? Weight { get; } = weight;
    public int IgnoreIndex { get; } = ignoreIndex;
    public override Tensor Forward(Tensor prediction, Tensor target) => F.NllLoss(prediction, target, Reduction, Weight, IgnoreIndex);
    public override string Name => "nll";
}
