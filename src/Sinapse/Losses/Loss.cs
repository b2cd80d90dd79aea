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
    /// A loss by name: cross_entropy, mse, bce, bce_with_logits, focal or focal(gamma, alpha), nll.
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
            ("mse" or "mean_squared_error", 0) => new MseLoss(reduction),
            ("bce" or "binary_crossentropy", 0) => new BinaryCrossEntropyLoss(reduction),
            ("bce_with_logits", 0) => new BinaryCrossEntropyWithLogitsLoss(reduction),
            ("focal", 0) => new FocalLoss(reduction: reduction),
            ("focal", 2) => new FocalLoss(arguments[0], arguments[1], reduction),
            ("nll", 0) => new NllLoss(reduction),
            _ => throw new ArgumentException($"Unknown loss '{text}'. Expected one of: cross_entropy, mse, bce, bce_with_logits, focal(gamma, alpha), nll."),
        };
    }
}

/// <summary>Softmax cross-entropy on logits, against integer labels or one-hot/soft targets (fused, stable).</summary>
public sealed class CrossEntropyLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor prediction, Tensor target) => F.CrossEntropy(prediction, target, Reduction);
    public override string Name => "cross_entropy";
}

public sealed class MseLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor prediction, Tensor target) => F.MseLoss(prediction, target, Reduction);
    public override string Name => "mse";
}

/// <summary>Binary cross-entropy on probabilities (after a sigmoid).</summary>
public sealed class BinaryCrossEntropyLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor prediction, Tensor target) => F.BinaryCrossEntropy(prediction, target, Reduction);
    public override string Name => "bce";
}

/// <summary>Binary cross-entropy on logits: the sigmoid folded in, stable for any logit.</summary>
public sealed class BinaryCrossEntropyWithLogitsLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor prediction, Tensor target) => F.BinaryCrossEntropyWithLogits(prediction, target, Reduction);
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

/// <summary>Negative log-likelihood of log-probabilities (after LogSoftmax) at integer labels.</summary>
public sealed class NllLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    public override Tensor Forward(Tensor prediction, Tensor target) => F.NllLoss(prediction, target, Reduction);
    public override string Name => "nll";
}
