using System.Globalization;

namespace Sinapse.Ops;

public static partial class F
{
    /// <summary>
    /// Cross-entropy of class <paramref name="probabilities"/> (a softmax's output, classes on axis 1)
    /// at class-index targets, as Keras computes categorical_crossentropy when it is handed
    /// probabilities rather than logits (Keras 2.x up to TF 2.4, and its NumPy backend): each row is
    /// rescaled to sum 1, clipped to [ε, 1 − ε], and −log p of the target class is taken. Shapes,
    /// <paramref name="reduction"/>, <paramref name="weight"/> and <paramref name="ignoreIndex"/> are
    /// <see cref="NllLoss"/>'s. The clip is what makes this differ from <see cref="CrossEntropy"/> on
    /// logits: once the target's probability falls below ε its gradient is exactly 0, so a network
    /// whose softmax saturates on the wrong class cannot recover.
    /// </summary>
    public static Tensor ProbabilityCrossEntropy(Tensor probabilities, Tensor labels, float eps = 1e-7f, Reduction reduction = Reduction.Mean,
        Tensor? weight = null, int ignoreIndex = -100)
    {
        CheckProbabilityEps("ProbabilityCrossEntropy", eps);
        // The targets are checked here, before the rescaling and the clip run, not only by NllLoss at the end.
        ClassAxis.Of("ProbabilityCrossEntropy", probabilities, labels, weight, ignoreIndex, allowProbabilities: false, inputName: "probabilities");
        int classAxis = probabilities.Rank == 1 ? 0 : 1;
        var rescaled = probabilities / Sum(probabilities, classAxis, keepDim: true);
        return NllLoss(Log(Clamp(rescaled, eps, 1f - eps)), labels, reduction, weight, ignoreIndex);
    }

    /// <summary>The clip ε of a probability-space cross-entropy: in (0, 0.5), so that [ε, 1 − ε] is a non-empty range of probabilities.</summary>
    internal static void CheckProbabilityEps(string owner, float eps)
    {
        if (!(eps > 0f && eps < 0.5f))
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{owner}: eps must be in (0, 0.5), got {eps}."), nameof(eps));
    }
}
